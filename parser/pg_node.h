// A typed, read-only view of libpg_query's parse tree, so that no file but
// sql_parser.cc and pg_node.cc sees how the tree is stored (JSON today).
//
// A Node is one value of the tree: a struct's fields ({"relname": ...}), a
// wrapped node ({"A_Const": {...}}, reached with node["A_Const"]), a list,
// or a scalar. Asking for what is not there gives an empty Node, never an
// error: proto3 JSON leaves out every zero, false and empty field, so an
// absent field reads as its default. Node shapes as in pg_query.proto.
// A Node views its ParsedStatement's tree and must not outlive it.
#ifndef PGMERGE_PARSER_PG_NODE_H_
#define PGMERGE_PARSER_PG_NODE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/names.h"

namespace pgmerge::parser {

class Node {
 public:
  Node() = default;  // Nothing: every accessor gives its default.

  // Absent, null, or an empty struct or list.
  bool empty() const;
  // A struct that has field `key` (of any value).
  bool has(const char* key) const;
  // Field `key` of a struct, or a wrapped node of type `key`; empty when
  // absent or when this is not a struct.
  Node operator[](const char* key) const;

  // The type of a wrapped node ({"TypeCast": {...}} -> "TypeCast"): its
  // only field's name; "" for anything else.
  std::string_view kind() const;

  // A list's elements; none for anything else.
  size_t size() const;
  Node at(size_t i) const;  // REQUIRES: i < size().
  class Iterator;
  Iterator begin() const;
  Iterator end() const;

  // Scalars; the default when absent or of another type.
  std::string_view str() const;
  std::optional<int64_t> integer() const;
  bool boolean() const;
  // The same for field `key`.
  std::string_view str(const char* key, std::string_view otherwise = "") const;
  bool boolean(const char* key) const { return (*this)[key].boolean(); }

  // libpg_query's String node ({"String": {"sval": "x"}}): "x".
  std::string_view String() const { return (*this)["String"]["sval"].str(); }
  // A list of String nodes (qualified names, column lists, operators).
  std::vector<std::string> Strings() const;

  // Adds to *out the contents of every wrapped node of type `kind` below
  // this one ({"kind": X} gives X), in tree order, without looking inside
  // the ones it adds.
  void FindAll(const char* kind, std::vector<Node>* out) const;

 private:
  friend class ParsedStatement;
  explicit Node(const void* value) : value_(value) {}

  const void* value_ = nullptr;  // A const nlohmann::json*, in pg_node.cc.
};

class Node::Iterator {
 public:
  Node operator*() const { return list_.at(index_); }
  Iterator& operator++() {
    ++index_;
    return *this;
  }
  bool operator!=(const Iterator& o) const { return index_ != o.index_; }

 private:
  friend class Node;
  Iterator(Node list, size_t index) : list_(list), index_(index) {}
  Node list_;
  size_t index_;
};

// A RangeVar's fields as a table name; no schema is "public".
TableName RangeVarName(Node range_var);

// The name in a ColumnRef of one field (`col`, not `t.col` or `*`); "" for
// any other node.
std::string_view ColumnRefName(Node node);

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_PG_NODE_H_
