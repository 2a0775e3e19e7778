#include "parser/names.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace pgmerge::parser {
namespace {

// PostgreSQL 15's reserved key words (RESERVED_KEYWORD and
// TYPE_FUNC_NAME_KEYWORD in kwlist.h), which a bare identifier cannot be.
constexpr std::string_view kReserved[] = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc",
    "asymmetric", "authorization", "binary", "both", "case", "cast", "check",
    "collate", "collation", "column", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role",
    "current_schema", "current_time", "current_timestamp", "current_user",
    "default", "deferrable", "desc", "distinct", "do", "else", "end", "except",
    "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant",
    "group", "having", "ilike", "in", "initially", "inner", "intersect",
    "into", "is", "isnull", "join", "lateral", "leading", "left", "like",
    "limit", "localtime", "localtimestamp", "natural", "not", "notnull",
    "null", "offset", "on", "only", "or", "order", "outer", "overlaps",
    "placing", "primary", "references", "returning", "right", "select",
    "session_user", "similar", "some", "symmetric", "table", "tablesample",
    "then", "to", "trailing", "true", "union", "unique", "user", "using",
    "variadic", "verbose", "when", "where", "window", "with"};

bool NeedsQuotes(std::string_view ident) {
  if (ident.empty()) return true;
  unsigned char first = static_cast<unsigned char>(ident[0]);
  if (!(absl::ascii_islower(first) || first == '_')) return true;
  for (char c : ident) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' ||
          c == '$')) {
      return true;
    }
  }
  return std::find(std::begin(kReserved), std::end(kReserved), ident) !=
         std::end(kReserved);
}

}  // namespace

std::string QuoteIdentifierAlways(std::string_view ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuoteIdentifier(std::string_view ident) {
  return NeedsQuotes(ident) ? QuoteIdentifierAlways(ident)
                            : std::string(ident);
}

std::string TableName::Display() const {
  return absl::StrCat(QuoteIdentifier(schema), ".", QuoteIdentifier(name));
}

bool ConsumeIdentifier(std::string_view* text, std::string* out) {
  std::string_view t = *text;
  out->clear();
  if (t.empty()) return false;
  if (t[0] == '"') {
    size_t i = 1;
    for (;;) {
      if (i >= t.size()) return false;
      if (t[i] == '"') {
        if (i + 1 < t.size() && t[i + 1] == '"') {
          out->push_back('"');
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      out->push_back(t[i++]);
    }
    text->remove_prefix(i);
    return !out->empty();
  }
  unsigned char c0 = static_cast<unsigned char>(t[0]);
  if (!(absl::ascii_isalpha(c0) || c0 == '_' || c0 >= 0x80)) return false;
  size_t i = 0;
  while (i < t.size()) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    if (!(absl::ascii_isalnum(c) || c == '_' || c == '$' || c >= 0x80)) break;
    out->push_back(absl::ascii_tolower(c));
    ++i;
  }
  text->remove_prefix(i);
  return true;
}

bool ConsumeTableName(std::string_view* text, TableName* out) {
  std::string_view t = *text;
  std::string first;
  if (!ConsumeIdentifier(&t, &first)) return false;
  if (!t.empty() && t[0] == '.') {
    t.remove_prefix(1);
    if (!ConsumeIdentifier(&t, &out->name)) return false;
    out->schema = std::move(first);
  } else {
    out->schema = "public";
    out->name = std::move(first);
  }
  *text = t;
  return true;
}

}  // namespace pgmerge::parser
