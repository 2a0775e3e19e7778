// The catalog builder: one DDL statement at a time into the catalog model
// (parser/catalog.h). It parses each statement (parser/sql_parser.h) and
// reads what the merge needs from CREATE TABLE, ALTER TABLE, CREATE [UNIQUE]
// INDEX, CREATE/ALTER SEQUENCE, setval, CREATE TYPE and CREATE EXTENSION;
// other statements leave the catalog as it is. The catalog pass
// (catalog_pass.cc) feeds it a dump's statements in order.
#ifndef PGMERGE_PARSER_CATALOG_BUILDER_H_
#define PGMERGE_PARSER_CATALOG_BUILDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "parser/catalog.h"
#include "parser/pg_node.h"

namespace pgmerge::parser::internal {

class CatalogBuilder {
 public:
  // `file_name` names the dump in error messages; it must outlive this.
  explicit CatalogBuilder(const std::string& file_name) : file_(file_name) {}

  // Reads one SQL statement that starts on `line` of the dump.
  absl::Status Statement(std::string_view sql, int64_t line);
  // After the last statement: what only the whole dump tells (a generated
  // column's inputs, keys over generated columns, OWNED BY).
  absl::Status Finish();

  // The catalog so far. Adding a table may move the tables; a caller that
  // keeps a Table* watches catalog().tables().size().
  Catalog& catalog() { return catalog_; }
  // Whether the dump has created an extension so far.
  bool has_extensions() const { return !extensions_.empty(); }
  Catalog Take();
  // The error for a table the dump names before creating it.
  absl::Status NoTable(const TableName& name, int64_t line) const;

 private:
  absl::Status CreateTable(Node node, int64_t line);
  absl::Status InheritColumns(Node node, Table* table, int64_t line);
  absl::Status TypedTableColumns(Node of_type, Table* table, int64_t line);
  absl::Status AddColumnDef(Node def, Table* table, int64_t line);
  void CompositeType(Node node);
  absl::Status AddColumn(Table* table, Column col, int64_t line);
  void AlterTable(Node node);
  // A table constraint; `keys` stands for its column list when it is a
  // column's own constraint (id integer PRIMARY KEY).
  void AddConstraint(Table* table, Node con, const std::vector<std::string>* keys);
  void AddUniqueKey(Table* table, Node con, const std::vector<std::string>* keys);
  void AddForeignKey(Table* table, Node con, const std::vector<std::string>* keys);
  void ColumnConstraint(Table* table, Column* col, Node con);
  void SetDefault(Column* col, Node expr);
  void AddIdentity(Table* table, Column* col, Node con);
  void CreateIndex(Node node);
  void CreateSequence(Node node);
  void AlterSequence(Node node);
  void CreateEnum(Node node);
  absl::Status Setval(Node node, int64_t line);

  const std::string& file_;
  Catalog catalog_;
  std::vector<std::string> extensions_;  // CREATE EXTENSION seen, by name.
  // Composite types by display name: typed tables take their columns.
  absl::flat_hash_map<std::string, std::vector<Column>> composite_types_;
};

}  // namespace pgmerge::parser::internal

#endif  // PGMERGE_PARSER_CATALOG_BUILDER_H_
