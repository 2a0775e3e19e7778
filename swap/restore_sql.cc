#include "swap/restore_sql.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/strings.h"
#include "parser/names.h"
#include "parser/sql_parser.h"
#include "swap/pg.h"

namespace pgmerge::swap::internal {
namespace {

std::string TableOf(parser::Node range_var) {
  return absl::StrCat(AsAbsl(range_var.str("schemaname")), ".", AsAbsl(range_var.str("relname")));
}

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
  PostData out;
  const bool index = StartsWithIgnoreCase(body, "CREATE INDEX ") ||
                     StartsWithIgnoreCase(body, "CREATE UNIQUE INDEX ");
  const bool alter = StartsWithIgnoreCase(body, "ALTER TABLE ") &&
                     ContainsIgnoreCase(body, " ADD CONSTRAINT ");
  if (!index && !alter) return out;
  absl::StatusOr<parser::ParsedStatement> p = parser::ParsedStatement::Parse(body, "", 0);
  if (!p.ok()) return out;
  const parser::Node n = p->node();
  if (p->type() == "IndexStmt") {
    if (n.boolean("concurrent") || !n.has("relation")) return out;
    out.tables.push_back(TableOf(n["relation"]));
    out.build = Build::kParallel;
    return out;
  }
  if (p->type() != "AlterTableStmt" || n["cmds"].size() != 1 || !n.has("relation")) return out;
  const parser::Node cmd = n["cmds"].at(0)["AlterTableCmd"];
  if (cmd.str("subtype") != "AT_AddConstraint" || !cmd["def"].has("Constraint")) return out;
  const parser::Node c = cmd["def"]["Constraint"];
  const std::string_view type = c.str("contype");
  if (c.has("indexname")) return out;  // USING INDEX: needs the index.
  const parser::Node rel = n["relation"];
  if (type == "CONSTR_FOREIGN" && c.has("pktable")) {
    out.tables.push_back(TableOf(rel));
    out.tables.push_back(TableOf(c["pktable"]));
    out.build = Build::kForeignKey;
    // Not on a partitioned table (PostgreSQL 15 refuses NOT VALID there;
    // pg_dump writes those without ONLY), and not when it is NOT VALID
    // already. The statement must end in its one semicolon.
    absl::string_view text = absl::StripTrailingAsciiWhitespace(AsAbsl(body));
    if (!rel.boolean("inh") && !c.boolean("skip_validation") && c.has("conname") &&
        rel.has("schemaname") && !text.empty() && text.back() == ';') {
      text.remove_suffix(1);
      out.add_not_valid = absl::StrCat(text, " NOT VALID;");
      out.validate = absl::StrCat(
          "ALTER TABLE ONLY ", parser::QuoteIdentifierAlways(rel.str("schemaname")), ".",
          parser::QuoteIdentifierAlways(rel.str("relname")), " VALIDATE CONSTRAINT ",
          parser::QuoteIdentifierAlways(c.str("conname")), ";");
    }
    return out;
  }
  if (type == "CONSTR_PRIMARY" || type == "CONSTR_UNIQUE" || type == "CONSTR_EXCLUSION" ||
      type == "CONSTR_CHECK") {
    out.tables.push_back(TableOf(rel));
    out.children = rel.boolean("inh");
    out.build = Build::kParallel;
  }
  return out;
}

std::string CopyTable(std::string_view header) {
  absl::StatusOr<parser::ParsedStatement> p =
      parser::ParsedStatement::Parse(Body(header), "", 0);
  if (!p.ok() || p->type() != "CopyStmt" || !p->node().has("relation")) return "";
  return TableOf(p->node()["relation"]);
}

}  // namespace pgmerge::swap::internal
