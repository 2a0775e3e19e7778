#include "parser/sql_parser.h"

#include <pg_query.h>

#include <pthread.h>

#include <algorithm>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/strings.h"

namespace pgmerge::parser {

struct ParsedStatement::Tree {
  nlohmann::json root;
};

namespace {

using Json = nlohmann::json;

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

// Deepest nesting of objects and arrays in libpg_query's JSON, counted
// without recursion.
int JsonDepth(const char* json) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (const char* p = json; *p != '\0'; ++p) {
    if (in_string) {
      if (*p == '\\' && p[1] != '\0') {
        ++p;
      } else if (*p == '"') {
        in_string = false;
      }
    } else if (*p == '"') {
      in_string = true;
    } else if (*p == '{' || *p == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (*p == '}' || *p == ']') {
      --depth;
    }
  }
  return deepest;
}

// Statements longer than this are parsed on a thread of their own with a
// large stack: libpg_query recurses once per level of an expression, and a
// 30,000-term sum would overflow a default 8 MB stack.
constexpr size_t kInlineParseBytes = 2048;
constexpr size_t kParseStackBytes = size_t{256} << 20;

struct ParseJob {
  const char* text;
  PgQueryParseResult result;
};

void* RunParse(void* arg) {
  auto* job = static_cast<ParseJob*>(arg);
  // This thread's parser memory is freed as it ends, by libpg_query's own
  // thread-exit hook; pg_query_exit() here as well freed it twice.
  job->result = pg_query_parse(job->text);
  return nullptr;
}

// pg_query_parse, on a 256 MB stack when the statement is long.
PgQueryParseResult ParseOnLargeStack(const char* text, size_t size) {
  ParseJob job{text, {}};
  if (size <= kInlineParseBytes) return pg_query_parse(text);
  pthread_attr_t attr;
  pthread_t thread;
  if (pthread_attr_init(&attr) != 0 ||
      pthread_attr_setstacksize(&attr, kParseStackBytes) != 0 ||
      pthread_create(&thread, &attr, RunParse, &job) != 0) {
    pthread_attr_destroy(&attr);
    return pg_query_parse(text);
  }
  pthread_attr_destroy(&attr);
  pthread_join(thread, nullptr);
  return job.result;
}

// Reads a signed integer at the start of `text`, after any keywords
// ("START WITH -5", "- 3"): what libpg_query's JSON leaves out.
std::optional<int64_t> IntegerInText(std::string_view text) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  for (;;) {  // Keywords before the number.
    skip_space();
    size_t start = i;
    while (i < text.size() && (absl::ascii_isalpha(static_cast<unsigned char>(text[i])) ||
                               text[i] == '_')) {
      ++i;
    }
    if (i == start) break;
  }
  skip_space();
  if (i < text.size() && text[i] == '=') ++i;
  skip_space();
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    negative = text[i] == '-';
    ++i;
    skip_space();
  }
  size_t digits = i;
  while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) ++i;
  int64_t v;
  std::string number(negative ? "-" : "");
  number.append(text.substr(digits, i - digits));
  if (i == digits || !absl::SimpleAtoi(number, &v)) return std::nullopt;
  return v;
}

// libpg_query 15-4.0.0's JSON writes a negative Integer as {}, as if it were
// zero: setval(s, -1) would read as setval(s, 0), START -5 as START 0. Puts
// the values back from the statement's text, where each such node (or the
// option holding it) has its location.
void RepairNegativeIntegers(Json* node, std::string_view sql) {
  auto at = [&sql](const Json& holder) -> std::optional<int64_t> {
    auto loc = holder.find("location");
    if (loc == holder.end() || !loc->is_number_integer()) return std::nullopt;
    int64_t l = loc->get<int64_t>();
    if (l < 0 || static_cast<size_t>(l) >= sql.size()) return std::nullopt;
    std::optional<int64_t> v = IntegerInText(sql.substr(l));
    return v && *v != 0 ? v : std::nullopt;
  };
  // An object `holder[key]` that lacks `field`: where a zero was left out.
  auto zero = [](Json& holder, const char* key, const char* field) -> Json* {
    auto it = holder.find(key);
    if (it == holder.end() || !it->is_object() || it->contains(field)) return nullptr;
    return &*it;
  };
  if (node->is_array()) {
    for (Json& e : *node) RepairNegativeIntegers(&e, sql);
    return;
  }
  if (!node->is_object()) return;
  if (auto c = node->find("A_Const"); c != node->end() && c->is_object()) {
    if (Json* iv = zero(*c, "ival", "ival")) {
      if (std::optional<int64_t> v = at(*c)) (*iv)["ival"] = *v;
    }
  }
  if (auto d = node->find("DefElem"); d != node->end() && d->is_object()) {
    auto arg = d->find("arg");
    if (arg != d->end() && arg->is_object()) {
      if (Json* i = zero(*arg, "Integer", "ival")) {
        if (std::optional<int64_t> v = at(*d)) (*i)["ival"] = *v;
      }
    }
  }
  for (auto& [key, value] : node->items()) {
    if (value.is_structured()) RepairNegativeIntegers(&value, sql);
  }
}

}  // namespace

ParsedStatement::ParsedStatement() = default;
ParsedStatement::ParsedStatement(ParsedStatement&&) noexcept = default;
ParsedStatement& ParsedStatement::operator=(ParsedStatement&&) noexcept = default;
ParsedStatement::~ParsedStatement() = default;

absl::StatusOr<ParsedStatement> ParsedStatement::Parse(std::string_view sql,
                                                       std::string_view file,
                                                       int64_t line) {
  if (sql.size() > kMaxStatementBytes) {
    return InputError(file, line,
                      absl::StrCat("statement of ", sql.size(),
                                   " bytes; pgmerge parses at most ",
                                   kMaxStatementBytes));
  }
  std::string text(sql);  // libpg_query wants a NUL-terminated string.
  ResultGuard guard{ParseOnLargeStack(text.c_str(), text.size())};
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
  if (int depth = JsonDepth(guard.result.parse_tree); depth > kMaxTreeDepth) {
    return InputError(file, line,
                      absl::StrCat("expression nested ", depth,
                                   " levels deep in its parse tree; pgmerge "
                                   "refuses more than ",
                                   kMaxTreeDepth));
  }
  auto tree = std::make_unique<Tree>();
  tree->root = Json::parse(guard.result.parse_tree, nullptr, false);
  if (tree->root.is_discarded()) {
    return absl::InternalError(
        absl::StrCat(AsAbsl(file), ":", line, ": libpg_query returned invalid JSON"));
  }
  Json& stmts = tree->root["stmts"];
  if (!stmts.is_array() || stmts.size() != 1) {
    return InputError(file, line,
                      absl::StrCat("expected one SQL statement, found ",
                                   stmts.is_array() ? stmts.size() : 0));
  }
  Json& stmt = stmts[0]["stmt"];
  if (!stmt.is_object() || stmt.size() != 1) {
    return InputError(file, line, "empty SQL statement");
  }
  if (sql.find('-') != std::string_view::npos) RepairNegativeIntegers(&stmt, sql);
  ParsedStatement parsed;
  parsed.type_ = stmt.begin().key();
  parsed.node_ = Node(&stmt.begin().value());
  parsed.tree_ = std::move(tree);
  return parsed;
}

}  // namespace pgmerge::parser
