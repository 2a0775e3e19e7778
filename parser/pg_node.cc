#include "parser/pg_node.h"

#include <nlohmann/json.hpp>

namespace pgmerge::parser {
namespace {

using Json = nlohmann::json;

const Json* Get(const void* value) { return static_cast<const Json*>(value); }

}  // namespace

bool Node::empty() const {
  const Json* j = Get(value_);
  return j == nullptr || j->is_null() || (j->is_structured() && j->empty());
}

bool Node::has(const char* key) const {
  const Json* j = Get(value_);
  return j != nullptr && j->is_object() && j->contains(key);
}

Node Node::operator[](const char* key) const {
  const Json* j = Get(value_);
  if (j == nullptr || !j->is_object()) return Node();
  auto it = j->find(key);
  return it == j->end() ? Node() : Node(&*it);
}

std::string_view Node::kind() const {
  const Json* j = Get(value_);
  if (j == nullptr || !j->is_object() || j->size() != 1) return {};
  return j->begin().key();
}

size_t Node::size() const {
  const Json* j = Get(value_);
  return j != nullptr && j->is_array() ? j->size() : 0;
}

Node Node::at(size_t i) const { return Node(&(*Get(value_))[i]); }

Node::Iterator Node::begin() const { return Iterator(*this, 0); }
Node::Iterator Node::end() const { return Iterator(*this, size()); }

std::string_view Node::str() const {
  const Json* j = Get(value_);
  if (j == nullptr || !j->is_string()) return {};
  return j->get_ref<const std::string&>();
}

std::string_view Node::str(const char* key, std::string_view otherwise) const {
  Node field = (*this)[key];
  const Json* j = Get(field.value_);
  return j != nullptr && j->is_string() ? field.str() : otherwise;
}

std::optional<int64_t> Node::integer() const {
  const Json* j = Get(value_);
  if (j == nullptr || !j->is_number()) return std::nullopt;
  return j->get<int64_t>();
}

bool Node::boolean() const {
  const Json* j = Get(value_);
  return j != nullptr && j->is_boolean() && j->get<bool>();
}

std::vector<std::string> Node::Strings() const {
  std::vector<std::string> out;
  out.reserve(size());
  for (Node item : *this) out.emplace_back(item.String());
  return out;
}

void Node::FindAll(const char* kind, std::vector<Node>* out) const {
  const Json* j = Get(value_);
  if (j == nullptr || !j->is_structured()) return;
  if (j->is_array()) {
    for (const Json& e : *j) Node(&e).FindAll(kind, out);
    return;
  }
  for (auto it = j->begin(); it != j->end(); ++it) {
    if (it.key() == kind) {
      out->push_back(Node(&it.value()));
    } else {
      Node(&it.value()).FindAll(kind, out);
    }
  }
}

TableName RangeVarName(Node range_var) {
  return TableName{std::string(range_var.str("schemaname", "public")),
                   std::string(range_var.str("relname"))};
}

std::string_view ColumnRefName(Node node) {
  Node fields = node["ColumnRef"]["fields"];
  return fields.size() == 1 ? fields.at(0).String() : std::string_view();
}

}  // namespace pgmerge::parser
