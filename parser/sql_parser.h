// The one wrapper around libpg_query: no other file sees a PgQuery* type.
#ifndef PGMERGE_PARSER_SQL_PARSER_H_
#define PGMERGE_PARSER_SQL_PARSER_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "parser/pg_node.h"

namespace pgmerge::parser {

// The parse tree of one SQL statement, read through Node (parser/pg_node.h).
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
  // "FILE:LINE:COL: <libpg_query's message>". Negative integers that
  // libpg_query's JSON loses are put back (see sql_parser.cc).
  static absl::StatusOr<ParsedStatement> Parse(std::string_view sql,
                                               std::string_view file,
                                               int64_t line);

  ParsedStatement(ParsedStatement&&) noexcept;
  ParsedStatement& operator=(ParsedStatement&&) noexcept;
  ParsedStatement(const ParsedStatement&) = delete;
  ParsedStatement& operator=(const ParsedStatement&) = delete;
  ~ParsedStatement();

  // The statement's node type ("CreateStmt") and its fields, which stay
  // valid while this object lives.
  std::string_view type() const { return type_; }
  Node node() const { return node_; }

 private:
  struct Tree;
  ParsedStatement();
  std::unique_ptr<Tree> tree_;
  std::string_view type_;  // Views into *tree_.
  Node node_;
};

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_SQL_PARSER_H_
