// The schema catalog of one dump: tables, columns, keys, foreign keys,
// sequences and row counts. Keys and foreign keys come after the data in a
// dump, so the catalog is a pass of its own, made before any row is judged.
// This header is the model and ReadCatalog, the pass's entry point; the
// builder (catalog_builder.h) fills the model, catalog_pass.cc reads the dump.
#ifndef PGMERGE_PARSER_CATALOG_H_
#define PGMERGE_PARSER_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "base/mapped_file.h"
#include "parser/large_objects.h"
#include "parser/names.h"

namespace pgmerge::parser {

enum class Identity { kNone, kAlways, kByDefault };

struct Column {
  std::string name;
  std::string type;       // As SQL writes it: "character varying(160)".
  std::string type_name;  // The bare type: "varchar", "int4", "public.mood".
  bool is_array = false;
  bool not_null = false;
  bool has_default = false;
  // The default as COPY text when it is a plain constant ('x', 0, true).
  std::optional<std::string> default_constant;
  Identity identity = Identity::kNone;
  bool generated = false;  // GENERATED ALWAYS AS (...) STORED: never in data.
  // A generated column's inputs: the columns its expression reads, in table
  // order. Its value is a function of them (PostgreSQL requires the
  // expression to be immutable), so they stand in for it in a key.
  std::vector<std::string> generated_from;
  std::string sequence;    // Display name of the sequence that feeds it.
};

// PostgreSQL's limit on a table's columns (MaxHeapAttributeNumber).
inline constexpr size_t kMaxColumns = 1600;

// One condition of a partial index's WHERE clause that pgmerge can test
// on a row's COPY text.
struct RowCondition {
  enum Kind { kIsNull, kIsNotNull, kIsTrue, kEquals } kind;
  std::string column;
  std::string value;  // kEquals: the constant as COPY text.
};

// A primary key, UNIQUE constraint or unique index.
struct UniqueKey {
  std::string name;
  std::vector<std::string> columns;  // Empty for an expression index.
  bool primary = false;
  bool from_index = false;  // CREATE UNIQUE INDEX rather than a constraint.
  bool partial = false;     // Has a WHERE clause.
  // For a partial index whose WHERE clause is a conjunction of simple
  // conditions: those conditions (all must hold for a row to be covered).
  bool simple_predicate = false;
  std::vector<RowCondition> predicate;
  bool has_expressions = false;
  // Some of `columns` are stored generated columns: the key tells rows
  // apart, but its values are not in the data and are never remapped.
  bool has_generated = false;
};

struct ForeignKey {
  std::string name;
  std::vector<std::string> columns;
  TableName ref_table;
  std::vector<std::string> ref_columns;  // Empty: the referenced table's PK.
  char on_delete = 'a';  // pg_constraint letters: a r c n d.
  char on_update = 'a';
  char match = 's';
  bool deferrable = false;
  bool initially_deferred = false;
};

// A CHECK constraint. pgmerge evaluates the simple ones itself: a
// conjunction of `column OP number` comparisons (OP one of < <= > >= = <>).
struct CheckConstraint {
  std::string name;
  struct Comparison {
    std::string column;
    std::string op;  // Normalised so the column is on the left.
    double value = 0;
  };
  std::vector<Comparison> comparisons;  // All must hold.
  bool simple = false;  // False: pgmerge leaves it to PostgreSQL.
};

// How a table's rows are identified, which decides how the merge treats
// colliding keys.
enum class KeyKind {
  kNone,       // No usable key: rows are a multiset.
  kSerial,     // One integer column fed by a sequence (serial, nextval).
  kIdentity,   // One integer identity column.
  kInteger,    // One integer column with no sequence.
  kUuid,
  kText,       // text, varchar, char.
  kOther,      // One column of another type.
  kComposite,  // Several columns.
};
std::string_view KeyKindName(KeyKind kind);

struct Table {
  TableName name;
  // In table order. Append only through AddColumn, which keeps the name
  // index that makes ColumnIndex constant-time.
  std::vector<Column> columns;
  std::optional<UniqueKey> primary_key;
  std::vector<UniqueKey> unique_keys;  // Besides the primary key.
  std::vector<ForeignKey> foreign_keys;
  std::vector<CheckConstraint> checks;
  bool partitioned = false;
  std::optional<TableName> partition_of;
  std::vector<TableName> inherits;
  // CREATE TABLE ... OF type: the composite type its columns come from.
  std::optional<TableName> of_type;
  int64_t row_count = 0;
  bool has_data = false;  // A data block (COPY, INSERT) names it.
  // Made a view by CREATE RULE "_RETURN" (how pg_dump before 15.4 broke a
  // view's dependency loop): it holds no rows of its own.
  bool view = false;
  int64_t line = 0;  // Where CREATE TABLE stands.
  // An extension's configuration table (pg_extension_config_dump): the dump
  // has its user-added rows but no CREATE TABLE, which CREATE EXTENSION
  // does. Its columns are the data's column list (types unknown, ""); its
  // key the first of them, the extension's own key not being in the dump
  // (spatial_ref_sys: srid). `line`: where its data starts.
  bool extension_config = false;

  // REQUIRES: no column of that name yet.
  Column& AddColumn(Column column);
  int ColumnIndex(std::string_view column) const;  // -1 when absent.
  // The key rows are told apart by: the primary key, else a NOT NULL
  // single-column unique key drawn from a sequence (id serial UNIQUE).
  const UniqueKey* MergeKey() const;
  KeyKind key_kind() const;

 private:
  absl::flat_hash_map<std::string, int> column_index_;
};

// A sequence as CREATE SEQUENCE (or an identity column's options) defines
// it, and where the dump's setval left it.
struct Sequence {
  TableName name;
  std::string type = "bigint";  // smallint, integer or bigint.
  int64_t start = 1;  // Without START: MinValue() ascending, else MaxValue().
  int64_t increment = 1;         // Never 0; negative counts down.
  std::optional<int64_t> min_value;  // Absent: NO MINVALUE (the default).
  std::optional<int64_t> max_value;
  bool cycle = false;
  bool identity = false;
  std::optional<TableName> owned_by_table;
  std::string owned_by_column;
  // setval(name, last_value, is_called): with is_called the next value is
  // last_value + increment, without it last_value itself.
  bool has_setval = false;
  int64_t last_value = 0;
  bool is_called = false;

  // The bounds and start PostgreSQL gives it, defaults applied: ascending
  // 1 .. the type's maximum, descending the type's minimum .. -1.
  int64_t MinValue() const;
  int64_t MaxValue() const;
};

// The range of an integer type by any of its names (int4, integer,
// serial...); false for other types.
bool IntegerTypeRange(std::string_view type, int64_t* min, int64_t* max);

// A schema object as pg_dump's table of contents names it
// ("-- Name: users_email_idx; Type: INDEX; Schema: public; Owner: -").
struct DumpObject {
  std::string type, schema, name;
  // `name` with each quoted identifier quoted only where it needs it, as
  // pg_dump writes it without --quote-all-identifiers ("_f("text")" and
  // "_f(text)" name one function): what objects are matched by.
  std::string key;
  int64_t line = 0;
  // The SQL statements under the header, as (offset, length) in the dump.
  std::vector<std::pair<size_t, size_t>> statements;
  friend bool operator==(const DumpObject& a, const DumpObject& b) {
    return a.type == b.type && a.schema == b.schema && a.key == b.key;
  }
};

class Catalog {
 public:
  // Every object the dump's table of contents names, in order.
  const std::vector<DumpObject>& objects() const { return objects_; }
  void AddObject(DumpObject o) { objects_.push_back(std::move(o)); }
  // Enum types by display name ("public.mood") and their labels in order.
  const absl::flat_hash_map<std::string, std::vector<std::string>>& enums() const {
    return enums_;
  }
  void AddEnum(const std::string& name, std::vector<std::string> labels) {
    enums_[name] = std::move(labels);
  }
  std::vector<Table>& tables() { return tables_; }
  const std::vector<Table>& tables() const { return tables_; }
  const std::vector<Sequence>& sequences() const { return sequences_; }

  const Table* FindTable(const TableName& name) const;
  Table* FindTable(const TableName& name);
  const Sequence* FindSequence(const TableName& name) const;
  // `table`, then the table it is a partition of, and so on up to the
  // partitioned table at the root (the last).
  std::vector<const Table*> PartitionChain(const Table& table) const;
  // The foreign keys `table`'s rows are held to: its own, and for a
  // partition those of every table it is a partition of (pg_dump writes a
  // partitioned table's foreign key once, on it; PostgreSQL holds each
  // partition to it).
  std::vector<const ForeignKey*> ForeignKeysOf(const Table& table) const;

  Table& AddTable(Table table);
  Sequence& AddSequence(Sequence seq);
  Sequence* FindSequence(const TableName& name);

  int64_t total_rows() const;

  // The extensions the dump creates (CREATE EXTENSION), by name.
  const std::vector<std::string>& extensions() const { return extensions_; }
  void set_extensions(std::vector<std::string> e) { extensions_ = std::move(e); }

  // The encoding its SET client_encoding names (pg_dump's spelling, as
  // "UTF8"; "" when it sets none), and that statement's line.
  const std::string& client_encoding() const { return client_encoding_; }
  int64_t client_encoding_line() const { return client_encoding_line_; }
  void set_client_encoding(std::string e, int64_t line) {
    client_encoding_ = std::move(e);
    client_encoding_line_ = line;
  }

  // The dump's large objects, by OID (parser/large_objects.h).
  const std::vector<LargeObject>& large_objects() const { return large_objects_; }
  void set_large_objects(std::vector<LargeObject> los) { large_objects_ = std::move(los); }

 private:
  std::string client_encoding_;
  int64_t client_encoding_line_ = 0;
  std::vector<LargeObject> large_objects_;
  std::vector<std::string> extensions_;
  std::vector<Table> tables_;
  std::vector<Sequence> sequences_;
  absl::flat_hash_map<std::string, size_t> table_index_;
  absl::flat_hash_map<std::string, size_t> sequence_index_;
  absl::flat_hash_map<std::string, std::vector<std::string>> enums_;
  std::vector<DumpObject> objects_;
};

// Whether a data row's fields fit a table of `width` data columns. A COPY
// row of a table with no columns is an empty line, which splits into one
// empty field.
inline bool RowFitsWidth(size_t fields, std::string_view first, size_t width) {
  return fields == width || (width == 0 && fields == 1 && first.empty());
}

// Reads the whole dump once and builds its catalog (catalog_pass.cc): every
// statement but INSERT goes through libpg_query; rows are counted and
// checked against their table's columns. REQUIRES: `input` is a
// plain-format dump. `file`, when given, is the mapping `input` views; its pages are released
// behind the reader. With `check_rows` false, COPY data is only counted,
// not split or checked: for callers whose next pass checks every row.
absl::StatusOr<Catalog> ReadCatalog(std::string_view input,
                                    const std::string& file_name,
                                    const MappedFile* file = nullptr,
                                    bool check_rows = true);

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_CATALOG_H_
