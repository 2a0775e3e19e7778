// The catalog model's few methods (parser/catalog.h). The builder
// (catalog_builder.cc) fills the model; the pass (catalog_pass.cc) drives it.
#include "parser/catalog.h"

#include <limits>
#include <utility>

#include "base/strings.h"

namespace pgmerge::parser {

bool IntegerTypeRange(std::string_view t, int64_t* min, int64_t* max) {
  if (t == "int2" || t == "smallint" || t == "smallserial" || t == "serial2") {
    *min = std::numeric_limits<int16_t>::min();
    *max = std::numeric_limits<int16_t>::max();
  } else if (t == "int4" || t == "integer" || t == "int" || t == "serial" ||
             t == "serial4") {
    *min = std::numeric_limits<int32_t>::min();
    *max = std::numeric_limits<int32_t>::max();
  } else if (t == "int8" || t == "bigint" || t == "bigserial" || t == "serial8") {
    *min = std::numeric_limits<int64_t>::min();
    *max = std::numeric_limits<int64_t>::max();
  } else {
    return false;
  }
  return true;
}

int64_t Sequence::MinValue() const {
  if (min_value) return *min_value;
  int64_t lo, hi;
  if (!IntegerTypeRange(type, &lo, &hi)) IntegerTypeRange("bigint", &lo, &hi);
  return increment > 0 ? 1 : lo;
}

int64_t Sequence::MaxValue() const {
  if (max_value) return *max_value;
  int64_t lo, hi;
  if (!IntegerTypeRange(type, &lo, &hi)) IntegerTypeRange("bigint", &lo, &hi);
  return increment > 0 ? hi : -1;
}

std::string_view KeyKindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kNone: return "none";
    case KeyKind::kSerial: return "serial";
    case KeyKind::kIdentity: return "identity";
    case KeyKind::kInteger: return "integer";
    case KeyKind::kUuid: return "uuid";
    case KeyKind::kText: return "text";
    case KeyKind::kOther: return "other";
    case KeyKind::kComposite: return "composite";
  }
  return "none";
}

Column& Table::AddColumn(Column column) {
  column_index_.emplace(column.name, static_cast<int>(columns.size()));
  columns.push_back(std::move(column));
  return columns.back();
}

int Table::ColumnIndex(std::string_view column) const {
  if (column_index_.size() == columns.size()) {
    auto it = column_index_.find(AsAbsl(column));
    return it == column_index_.end() ? -1 : it->second;
  }
  // Columns set directly (a hand-made Table): look them up one by one.
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return static_cast<int>(i);
  }
  return -1;
}

const UniqueKey* Table::MergeKey() const {
  if (primary_key) return &*primary_key;
  for (const UniqueKey& k : unique_keys) {
    if (k.partial || k.columns.size() != 1) continue;
    int i = ColumnIndex(k.columns[0]);
    if (i < 0) continue;
    const Column& c = columns[i];
    if (c.not_null && (!c.sequence.empty() || c.identity != Identity::kNone)) {
      return &k;
    }
  }
  return nullptr;
}

namespace {

bool IsIntegerType(std::string_view t) {
  int64_t lo, hi;
  return IntegerTypeRange(t, &lo, &hi);
}

}  // namespace

KeyKind Table::key_kind() const {
  const UniqueKey* key = MergeKey();
  if (key == nullptr || key->columns.empty()) return KeyKind::kNone;
  if (key->columns.size() > 1) return KeyKind::kComposite;
  // A generated key is derived from other columns: never remapped.
  if (key->has_generated) return KeyKind::kOther;
  int i = ColumnIndex(key->columns[0]);
  if (i < 0) return KeyKind::kOther;
  const Column& c = columns[i];
  if (c.identity != Identity::kNone) return KeyKind::kIdentity;
  if (IsIntegerType(c.type_name)) {
    return c.sequence.empty() ? KeyKind::kInteger : KeyKind::kSerial;
  }
  if (c.type_name == "uuid") return KeyKind::kUuid;
  if (c.type_name == "text" || c.type_name == "varchar" ||
      c.type_name == "bpchar" || c.type_name == "citext") {
    return KeyKind::kText;
  }
  return KeyKind::kOther;
}

const Table* Catalog::FindTable(const TableName& name) const {
  auto it = table_index_.find(name.Display());
  return it == table_index_.end() ? nullptr : &tables_[it->second];
}

Table* Catalog::FindTable(const TableName& name) {
  return const_cast<Table*>(std::as_const(*this).FindTable(name));
}

std::vector<const Table*> Catalog::PartitionChain(const Table& table) const {
  std::vector<const Table*> chain;
  const Table* t = &table;
  for (int depth = 0; t != nullptr && depth < 64; ++depth) {  // A loop is not a dump's.
    chain.push_back(t);
    t = t->partition_of ? FindTable(*t->partition_of) : nullptr;
  }
  return chain;
}

std::vector<const ForeignKey*> Catalog::ForeignKeysOf(const Table& table) const {
  std::vector<const ForeignKey*> fks;
  for (const Table* t : PartitionChain(table)) {
    for (const ForeignKey& fk : t->foreign_keys) fks.push_back(&fk);
  }
  return fks;
}

const Sequence* Catalog::FindSequence(const TableName& name) const {
  auto it = sequence_index_.find(name.Display());
  return it == sequence_index_.end() ? nullptr : &sequences_[it->second];
}

Sequence* Catalog::FindSequence(const TableName& name) {
  return const_cast<Sequence*>(std::as_const(*this).FindSequence(name));
}

Table& Catalog::AddTable(Table table) {
  table_index_[table.name.Display()] = tables_.size();
  tables_.push_back(std::move(table));
  return tables_.back();
}

Sequence& Catalog::AddSequence(Sequence seq) {
  sequence_index_[seq.name.Display()] = sequences_.size();
  sequences_.push_back(std::move(seq));
  return sequences_.back();
}

int64_t Catalog::total_rows() const {
  int64_t n = 0;
  for (const Table& t : tables_) n += t.row_count;
  return n;
}

}  // namespace pgmerge::parser
