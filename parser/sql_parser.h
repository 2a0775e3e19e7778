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
  // Bounds that keep a hostile statement from exhausting the stack or
  // memory: its size, and the nesting of its parse tree (a 30,000-term sum
  // nests about 60,000 levels). pg_dump's largest real statements (views,
  // routine bodies) stay far below both.
  static constexpr size_t kMaxStatementBytes = size_t{64} << 20;
  static constexpr int kMaxTreeDepth = 20000;

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
