#include "parser/post_data.h"

#include "absl/status/statusor.h"
#include "base/strings.h"
#include "parser/pg_node.h"
#include "parser/sql_parser.h"

namespace pgmerge::parser {
namespace {

AddedConstraint::Type TypeOf(std::string_view contype) {
  using Type = AddedConstraint::Type;
  if (contype == "CONSTR_PRIMARY") return Type::kPrimary;
  if (contype == "CONSTR_UNIQUE") return Type::kUnique;
  if (contype == "CONSTR_EXCLUSION") return Type::kExclusion;
  if (contype == "CONSTR_CHECK") return Type::kCheck;
  if (contype == "CONSTR_FOREIGN") return Type::kForeign;
  return Type::kOther;
}

// As written: no schema stays "" (what it means depends on search_path).
TableName Written(Node range_var) {
  return TableName{std::string(range_var.str("schemaname")), std::string(range_var.str("relname"))};
}

}  // namespace

PostDataBuild DescribePostData(std::string_view sql) {
  PostDataBuild out;
  const bool index = StartsWithIgnoreCase(sql, "CREATE INDEX ") ||
                     StartsWithIgnoreCase(sql, "CREATE UNIQUE INDEX ");
  const bool alter = StartsWithIgnoreCase(sql, "ALTER TABLE ") &&
                     ContainsIgnoreCase(sql, " ADD CONSTRAINT ");
  if (!index && !alter) return out;
  absl::StatusOr<ParsedStatement> p = ParsedStatement::Parse(sql, "", 0);
  if (!p.ok()) return out;
  const Node n = p->node();
  if (!n.has("relation")) return out;
  out.table = Written(n["relation"]);
  out.only = !n["relation"].boolean("inh");
  if (p->type() == "IndexStmt") {
    out.kind = PostDataBuild::Kind::kIndex;
    out.index = std::string(n.str("idxname"));
    out.concurrent = n.boolean("concurrent");
    return out;
  }
  if (p->type() != "AlterTableStmt") return out;
  out.kind = PostDataBuild::Kind::kAlterTable;
  for (Node c : n["cmds"]) {
    ++out.commands;
    const Node cmd = c["AlterTableCmd"];
    if (cmd.str("subtype") != "AT_AddConstraint" || !cmd["def"].has("Constraint")) continue;
    const Node con = cmd["def"]["Constraint"];
    AddedConstraint a;
    a.type = TypeOf(con.str("contype"));
    a.name = std::string(con.str("conname"));
    a.not_valid = con.boolean("skip_validation");
    a.using_index = con.has("indexname");
    if (con.has("pktable")) a.references = Written(con["pktable"]);
    out.constraints.push_back(std::move(a));
  }
  return out;
}

}  // namespace pgmerge::parser
