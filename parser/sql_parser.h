// The one wrapper around libpg_query: no other file sees a PgQuery* type.
#ifndef PGMERGE_PARSER_SQL_PARSER_H_
#define PGMERGE_PARSER_SQL_PARSER_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include <nlohmann/json.hpp>

namespace pgmerge::parser {

// A parse tree of one SQL statement in libpg_query's JSON form
// ({"CreateStmt": {...}} and so on; node shapes as in pg_query.proto).
// Owns its tree; move-only.
class ParsedStatement {
 public:
  // Parses `sql`, which must hold exactly one statement. `file` and `line`
  // (where `sql` starts in its dump) only serve error messages, which read
  // "FILE:LINE:COL: <libpg_query's message>".
  static absl::StatusOr<ParsedStatement> Parse(std::string_view sql,
                                               std::string_view file,
                                               int64_t line);

  ParsedStatement(ParsedStatement&&) = default;
  ParsedStatement& operator=(ParsedStatement&&) = default;
  ParsedStatement(const ParsedStatement&) = delete;
  ParsedStatement& operator=(const ParsedStatement&) = delete;

  // The node's type name ("CreateStmt") and its fields.
  std::string_view type() const { return type_; }
  const nlohmann::json& node() const { return node_; }

 private:
  ParsedStatement() = default;
  std::string type_;
  nlohmann::json node_;
};

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_SQL_PARSER_H_
