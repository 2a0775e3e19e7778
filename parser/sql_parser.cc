#include "parser/sql_parser.h"

#include <pg_query.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/strings.h"

namespace pgmerge::parser {
namespace {

// Frees a parse result on every path out of Parse().
struct ResultGuard {
  PgQueryParseResult result;
  ~ResultGuard() { pg_query_free_parse_result(result); }
};

// libpg_query's cursor is 1-based and counted in characters, not bytes.
void LineAndColumn(std::string_view sql, int cursor, int64_t* line,
                   int64_t* column) {
  *column = 1;
  int chars = 0;
  for (size_t i = 0; i < sql.size() && chars < cursor - 1; ++i) {
    unsigned char c = static_cast<unsigned char>(sql[i]);
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte.
    ++chars;
    if (c == '\n') {
      ++*line;
      *column = 1;
    } else {
      ++*column;
    }
  }
}

}  // namespace

absl::StatusOr<ParsedStatement> ParsedStatement::Parse(std::string_view sql,
                                                       std::string_view file,
                                                       int64_t line) {
  std::string text(sql);  // libpg_query wants a NUL-terminated string.
  ResultGuard guard{pg_query_parse(text.c_str())};
  if (guard.result.error != nullptr) {
    int64_t err_line = line;
    int64_t column = 1;
    if (guard.result.error->cursorpos > 0) {
      LineAndColumn(sql, guard.result.error->cursorpos, &err_line, &column);
    }
    return absl::DataLossError(absl::StrCat(AsAbsl(file), ":", err_line, ":", column,
                                            ": ",
                                            guard.result.error->message));
  }
  nlohmann::json tree =
      nlohmann::json::parse(guard.result.parse_tree, nullptr, false);
  if (tree.is_discarded()) {
    return absl::InternalError(
        absl::StrCat(AsAbsl(file), ":", line, ": libpg_query returned invalid JSON"));
  }
  const nlohmann::json& stmts = tree["stmts"];
  if (!stmts.is_array() || stmts.size() != 1) {
    return InputError(file, line,
                      absl::StrCat("expected one SQL statement, found ",
                                   stmts.is_array() ? stmts.size() : 0));
  }
  const nlohmann::json& stmt = stmts[0]["stmt"];
  if (!stmt.is_object() || stmt.size() != 1) {
    return InputError(file, line, "empty SQL statement");
  }
  ParsedStatement parsed;
  parsed.type_ = stmt.begin().key();
  parsed.node_ = stmt.begin().value();
  return parsed;
}

}  // namespace pgmerge::parser
