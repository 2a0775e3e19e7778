#include "swap/restore_sql.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/strings.h"
#include "parser/names.h"
#include "parser/post_data.h"
#include "parser/sql_parser.h"
#include "swap/pg.h"

namespace pgmerge::swap::internal {
namespace {

// As CopyTable names a table: "schema.name" unquoted, "" for no schema.
std::string Key(const parser::TableName& t) { return absl::StrCat(t.schema, ".", t.name); }

}  // namespace

absl::Status Run(PGconn* conn, std::string_view sql) {
  Result r(PQexec(conn, std::string(sql).c_str()));
  ExecStatusType st = PQresultStatus(r.get());
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    return absl::OkStatus();
  }
  std::string message = PQresultErrorMessage(r.get());
  if (message.empty()) message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  absl::string_view shown = absl::StripTrailingAsciiWhitespace(AsAbsl(sql.substr(0, 200)));
  return absl::InternalError(absl::StrCat(message, " (in: ", shown,
                                          sql.size() > 200 ? "..." : "", ")"));
}

std::string_view Body(std::string_view sql) {
  for (;;) {
    size_t i = 0;
    while (i < sql.size() && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t')) ++i;
    sql.remove_prefix(i);
    if (!StartsWithIgnoreCase(sql, "--")) break;
    size_t nl = sql.find('\n');
    sql.remove_prefix(nl == std::string_view::npos ? sql.size() : nl + 1);
  }
  return sql;
}

// A session setting (SET, RESET, set_config): its name in *key, so the
// latest value of each follows statements to every session.
bool IsSetting(std::string_view body, std::string* key) {
  std::string_view rest;
  if (StartsWithIgnoreCase(body, "SET ")) {
    rest = body.substr(4);
  } else if (StartsWithIgnoreCase(body, "RESET ")) {
    rest = body.substr(6);
  } else if (StartsWithIgnoreCase(body, "SELECT pg_catalog.set_config('")) {
    rest = body.substr(30);
    size_t q = rest.find('\'');
    *key = absl::AsciiStrToLower(AsAbsl(rest.substr(0, q)));
    return true;
  } else {
    return false;
  }
  if (StartsWithIgnoreCase(rest, "SESSION AUTHORIZATION")) {
    *key = "session authorization";
    return true;
  }
  if (StartsWithIgnoreCase(rest, "SESSION ")) rest.remove_prefix(8);
  size_t end = rest.find_first_of(" =;\n\t");
  *key = absl::AsciiStrToLower(AsAbsl(rest.substr(0, end)));
  return true;
}

PostData Classify(std::string_view body) {
  using Type = parser::AddedConstraint::Type;
  PostData out;
  const parser::PostDataBuild b = parser::DescribePostData(body);
  if (b.kind == parser::PostDataBuild::Kind::kIndex) {
    if (b.concurrent) return out;
    out.tables.push_back(Key(b.table));
    out.build = Build::kParallel;
    return out;
  }
  if (b.kind != parser::PostDataBuild::Kind::kAlterTable || b.commands != 1 ||
      b.constraints.size() != 1) {
    return out;
  }
  const parser::AddedConstraint& c = b.constraints.front();
  if (c.using_index) return out;  // Needs the index.
  if (c.type == Type::kForeign && c.references.has_value()) {
    out.tables.push_back(Key(b.table));
    out.tables.push_back(Key(*c.references));
    out.build = Build::kForeignKey;
    // Not on a partitioned table (PostgreSQL 15 refuses NOT VALID there;
    // pg_dump writes those without ONLY), and not when it is NOT VALID
    // already. The statement must end in its one semicolon.
    absl::string_view text = absl::StripTrailingAsciiWhitespace(AsAbsl(body));
    if (b.only && !c.not_valid && !c.name.empty() && !b.table.schema.empty() &&
        !text.empty() && text.back() == ';') {
      text.remove_suffix(1);
      out.add_not_valid = absl::StrCat(text, " NOT VALID;");
      out.validate = absl::StrCat(
          "ALTER TABLE ONLY ", parser::QuoteIdentifierAlways(b.table.schema),
          ".", parser::QuoteIdentifierAlways(b.table.name),
          " VALIDATE CONSTRAINT ", parser::QuoteIdentifierAlways(c.name), ";");
    }
    return out;
  }
  if (c.type == Type::kPrimary || c.type == Type::kUnique ||
      c.type == Type::kExclusion || c.type == Type::kCheck) {
    out.tables.push_back(Key(b.table));
    out.children = !b.only;
    out.build = Build::kParallel;
  }
  return out;
}

std::string CopyTable(std::string_view header) {
  absl::StatusOr<parser::ParsedStatement> p =
      parser::ParsedStatement::Parse(Body(header), "", 0);
  if (!p.ok() || p->type() != "CopyStmt" || !p->node().has("relation")) return "";
  const parser::Node rel = p->node()["relation"];
  return Key({std::string(rel.str("schemaname")), std::string(rel.str("relname"))});
}

}  // namespace pgmerge::swap::internal
