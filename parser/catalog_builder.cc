#include "parser/catalog_builder.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "parser/ddl_values.h"
#include "parser/sql_parser.h"

namespace pgmerge::parser::internal {
namespace {

Column* FindColumn(Table* table, std::string_view name) {
  int i = table->ColumnIndex(name);
  return i < 0 ? nullptr : &table->columns[i];
}

// A foreign key's action or match letter (pg_constraint's a r c n d, f p s).
char ActionLetter(Node con, const char* key) {
  std::string_view v = con.str(key);
  return v.empty() ? 'a' : v[0];
}

}  // namespace

absl::Status CatalogBuilder::NoTable(const TableName& name, int64_t line) const {
  return InputError(file_, line,
                    absl::StrCat("table ", name.Display(),
                                 " is not created earlier in the dump"));
}

Catalog CatalogBuilder::Take() {
  catalog_.set_extensions(extensions_);
  return std::move(catalog_);
}

absl::Status CatalogBuilder::Statement(std::string_view sql, int64_t line) {
  PGM_ASSIGN_OR_RETURN(ParsedStatement parsed,
                       ParsedStatement::Parse(sql, file_, line));
  const Node node = parsed.node();
  const std::string_view type = parsed.type();
  if (type == "CreateStmt") return CreateTable(node, line);
  if (type == "SelectStmt") return Setval(node, line);
  if (type == "CompositeTypeStmt") {
    CompositeType(node);
  } else if (type == "AlterTableStmt") {
    AlterTable(node);
  } else if (type == "CreateExtensionStmt") {
    extensions_.emplace_back(node.str("extname"));
  } else if (type == "IndexStmt") {
    CreateIndex(node);
  } else if (type == "CreateSeqStmt") {
    CreateSequence(node);
  } else if (type == "AlterSeqStmt") {
    AlterSequence(node);
  } else if (type == "CreateEnumStmt") {
    CreateEnum(node);
  } else if (type == "RuleStmt" && node.str("rulename") == "_RETURN" && node.has("relation")) {
    if (Table* t = catalog_.FindTable(RangeVarName(node["relation"]))) t->view = true;
  }
  return absl::OkStatus();
}

absl::Status CatalogBuilder::CreateTable(Node node, int64_t line) {
  Table table;
  table.name = RangeVarName(node["relation"]);
  table.line = line;
  if (catalog_.FindTable(table.name) != nullptr) {
    return InputError(file_, line,
                      absl::StrCat("table ", table.name.Display(),
                                   " is created twice"));
  }
  table.partitioned = !node["partspec"].empty();
  PGM_RETURN_IF_ERROR(InheritColumns(node, &table, line));
  PGM_RETURN_IF_ERROR(TypedTableColumns(node["ofTypename"], &table, line));
  std::vector<Node> table_constraints;
  for (Node elt : node["tableElts"]) {
    if (elt.has("ColumnDef")) {
      PGM_RETURN_IF_ERROR(AddColumnDef(elt["ColumnDef"], &table, line));
    } else if (elt.has("Constraint")) {
      table_constraints.push_back(elt["Constraint"]);
    }
  }
  for (Node c : table_constraints) AddConstraint(&table, c, nullptr);
  catalog_.AddTable(std::move(table));
  return absl::OkStatus();
}

absl::Status CatalogBuilder::InheritColumns(Node node, Table* table, int64_t line) {
  const bool is_partition = !node["partbound"].empty();
  for (Node rv : node["inhRelations"]) {
    TableName parent = RangeVarName(rv["RangeVar"]);
    const Table* p = catalog_.FindTable(parent);
    if (p == nullptr) return NoTable(parent, line);
    // Children list only their own columns; the parent's come first.
    for (const Column& c : p->columns) {
      if (table->ColumnIndex(c.name) < 0) {
        PGM_RETURN_IF_ERROR(AddColumn(table, c, line));
      }
    }
    if (is_partition) {
      table->partition_of = parent;
    } else {
      table->inherits.push_back(parent);
    }
  }
  return absl::OkStatus();
}

absl::Status CatalogBuilder::TypedTableColumns(Node of_type, Table* table,
                                               int64_t line) {
  if (of_type.empty()) return absl::OkStatus();
  // CREATE TABLE t OF type: the type's attributes are the columns; the
  // table's own list only adds constraints and defaults to them.
  std::vector<std::string> names = of_type["names"].Strings();
  TableName type_name;
  type_name.name = names.empty() ? "" : names.back();
  type_name.schema = names.size() >= 2 ? names[names.size() - 2] : "public";
  auto it = composite_types_.find(type_name.Display());
  if (it == composite_types_.end()) {
    return InputError(file_, line,
                      absl::StrCat("table ", table->name.Display(),
                                   " is of type ", type_name.Display(),
                                   ", which is not created earlier in the "
                                   "dump as a composite type"));
  }
  for (const Column& c : it->second) {
    PGM_RETURN_IF_ERROR(AddColumn(table, c, line));
  }
  table->of_type = type_name;
  return absl::OkStatus();
}

absl::Status CatalogBuilder::AddColumnDef(Node def, Table* table, int64_t line) {
  Column col;
  col.name = std::string(def.str("colname"));
  FillType(def["typeName"], &col);
  if (def.boolean("is_not_null")) col.not_null = true;
  int existing = table->ColumnIndex(col.name);
  Column* target;
  if (existing >= 0) {  // Redefines an inherited column.
    target = &table->columns[existing];
    target->not_null |= col.not_null;
  } else {
    PGM_RETURN_IF_ERROR(AddColumn(table, std::move(col), line));
    target = &table->columns.back();
  }
  for (Node c : def["constraints"]) {
    ColumnConstraint(table, target, c["Constraint"]);
  }
  return absl::OkStatus();
}

absl::Status CatalogBuilder::AddColumn(Table* table, Column col, int64_t line) {
  if (table->columns.size() >= kMaxColumns) {
    // Refused here, before anything per column grows with the width.
    return InputError(file_, line,
                      absl::StrCat("table ", table->name.Display(),
                                   " has more than ", kMaxColumns,
                                   " columns, PostgreSQL's limit"));
  }
  table->AddColumn(std::move(col));
  return absl::OkStatus();
}

void CatalogBuilder::CompositeType(Node node) {
  TableName name = RangeVarName(node["typevar"]);
  std::vector<Column> columns;
  for (Node d : node["coldeflist"]) {
    Node def = d["ColumnDef"];
    Column col;
    col.name = std::string(def.str("colname"));
    FillType(def["typeName"], &col);
    columns.push_back(std::move(col));
  }
  composite_types_[name.Display()] = std::move(columns);
}

void CatalogBuilder::CreateEnum(Node node) {
  std::vector<std::string> quoted;
  for (const std::string& n : node["typeName"].Strings()) {
    quoted.push_back(QuoteIdentifier(n));
  }
  if (quoted.size() == 1) quoted.insert(quoted.begin(), "public");
  catalog_.AddEnum(absl::StrJoin(quoted, "."), node["vals"].Strings());
}

void CatalogBuilder::ColumnConstraint(Table* table, Column* col, Node con) {
  const std::string_view type = con.str("contype");
  if (type == "CONSTR_NOTNULL") {
    col->not_null = true;
  } else if (type == "CONSTR_DEFAULT") {
    SetDefault(col, con["raw_expr"]);
  } else if (type == "CONSTR_IDENTITY") {
    AddIdentity(table, col, con);
  } else if (type == "CONSTR_GENERATED") {
    col->generated = true;
    col->generated_from = ColumnRefs(con["raw_expr"]);  // Resolved in Finish().
  } else if (type == "CONSTR_PRIMARY" || type == "CONSTR_UNIQUE" ||
             type == "CONSTR_FOREIGN") {
    col->not_null |= type == "CONSTR_PRIMARY";
    const std::vector<std::string> keys{col->name};
    AddConstraint(table, con, &keys);
  } else if (type == "CONSTR_CHECK") {
    AddConstraint(table, con, nullptr);
  }
}

void CatalogBuilder::SetDefault(Column* col, Node expr) {
  col->has_default = true;
  if (std::optional<TableName> seq = NextvalSequence(expr)) {
    col->sequence = seq->Display();
  }
  col->default_constant = ConstantDefault(expr);
}

void CatalogBuilder::AddIdentity(Table* table, Column* col, Node con) {
  col->identity = con.str("generated_when", "a") == "d" ? Identity::kByDefault
                                                        : Identity::kAlways;
  col->not_null = true;
  Sequence seq;
  seq.identity = true;
  seq.owned_by_table = table->name;
  seq.owned_by_column = col->name;
  seq.name = table->name;
  seq.name.name = absl::StrCat(table->name.name, "_", col->name, "_seq");
  seq.type = col->type;
  SequenceOptions(con["options"], &seq);
  for (Node o : con["options"]) {
    Node d = o["DefElem"];
    if (d.str("defname") != "sequence_name") continue;
    std::vector<std::string> parts = d["arg"]["List"]["items"].Strings();
    if (parts.size() == 2) {
      seq.name = TableName{parts[0], parts[1]};
    } else if (parts.size() == 1) {
      seq.name.name = parts[0];
    }
  }
  col->sequence = seq.name.Display();
  if (Sequence* existing = catalog_.FindSequence(seq.name)) {
    *existing = seq;
  } else {
    catalog_.AddSequence(std::move(seq));
  }
}

void CatalogBuilder::AddConstraint(Table* table, Node con,
                                   const std::vector<std::string>* keys) {
  const std::string_view type = con.str("contype");
  if (type == "CONSTR_PRIMARY" || type == "CONSTR_UNIQUE") {
    AddUniqueKey(table, con, keys);
  } else if (type == "CONSTR_CHECK") {
    CheckConstraint check;
    check.name = std::string(con.str("conname"));
    check.simple = SimpleComparisons(con["raw_expr"], &check.comparisons);
    if (!check.simple) check.comparisons.clear();
    table->checks.push_back(std::move(check));
  } else if (type == "CONSTR_FOREIGN") {
    AddForeignKey(table, con, keys);
  }
}

void CatalogBuilder::AddUniqueKey(Table* table, Node con,
                                  const std::vector<std::string>* keys) {
  UniqueKey key;
  key.name = std::string(con.str("conname"));
  key.primary = con.str("contype") == "CONSTR_PRIMARY";
  key.columns = keys != nullptr ? *keys : con["keys"].Strings();
  if (key.columns.empty() && con.has("indexname")) {
    // ADD CONSTRAINT ... USING INDEX: the index named it already.
    std::string_view index = con.str("indexname");
    for (auto it = table->unique_keys.begin(); it != table->unique_keys.end(); ++it) {
      if (it->name == index) {
        key.columns = it->columns;
        table->unique_keys.erase(it);
        break;
      }
    }
  }
  if (!key.primary) {
    table->unique_keys.push_back(std::move(key));
    return;
  }
  for (const std::string& c : key.columns) {
    if (Column* col = FindColumn(table, c)) col->not_null = true;
  }
  table->primary_key = std::move(key);
}

void CatalogBuilder::AddForeignKey(Table* table, Node con,
                                   const std::vector<std::string>* keys) {
  ForeignKey fk;
  fk.name = std::string(con.str("conname"));
  fk.columns = keys != nullptr ? *keys : con["fk_attrs"].Strings();
  fk.ref_table = RangeVarName(con["pktable"]);
  fk.ref_columns = con["pk_attrs"].Strings();
  fk.on_delete = ActionLetter(con, "fk_del_action");
  fk.on_update = ActionLetter(con, "fk_upd_action");
  fk.match = ActionLetter(con, "fk_matchtype");
  fk.deferrable = con.boolean("deferrable");
  fk.initially_deferred = con.boolean("initdeferred");
  table->foreign_keys.push_back(std::move(fk));
}

void CatalogBuilder::AlterTable(Node node) {
  if (node.str("objtype") != "OBJECT_TABLE") return;
  TableName name = RangeVarName(node["relation"]);
  Table* table = catalog_.FindTable(name);
  if (table == nullptr) return;  // A view or foreign table.
  for (Node c : node["cmds"]) {
    Node cmd = c["AlterTableCmd"];
    const std::string_view sub = cmd.str("subtype");
    Node def = cmd["def"];
    Column* col = FindColumn(table, cmd.str("name"));
    if (sub == "AT_AddConstraint") {
      AddConstraint(table, def["Constraint"], nullptr);
    } else if (sub == "AT_ColumnDefault" && col != nullptr) {
      SetDefault(col, def);
    } else if (sub == "AT_AddIdentity" && col != nullptr) {
      AddIdentity(table, col, def["Constraint"]);
    } else if (sub == "AT_SetNotNull" && col != nullptr) {
      col->not_null = true;
    } else if (sub == "AT_AttachPartition") {
      TableName child = RangeVarName(def["PartitionCmd"]["name"]);
      if (Table* t = catalog_.FindTable(child)) t->partition_of = name;
    } else if (sub == "AT_AddInherit") {
      table->inherits.push_back(RangeVarName(def["RangeVar"]));
    }
  }
}

void CatalogBuilder::CreateIndex(Node node) {
  if (!node.boolean("unique")) return;
  Table* table = catalog_.FindTable(RangeVarName(node["relation"]));
  if (table == nullptr) return;
  UniqueKey key;
  key.name = std::string(node.str("idxname"));
  key.from_index = true;
  key.partial = !node["whereClause"].empty();
  if (key.partial) {
    key.simple_predicate = SimpleConditions(node["whereClause"], &key.predicate);
    if (!key.simple_predicate) key.predicate.clear();
  }
  for (Node p : node["indexParams"]) {
    Node elem = p["IndexElem"];
    if (elem.has("name")) {
      key.columns.emplace_back(elem.str("name"));
    } else {
      key.has_expressions = true;
    }
  }
  if (key.has_expressions) key.columns.clear();
  table->unique_keys.push_back(std::move(key));
}

void CatalogBuilder::CreateSequence(Node node) {
  Sequence seq;
  seq.name = RangeVarName(node["sequence"]);
  SequenceOptions(node["options"], &seq);
  if (catalog_.FindSequence(seq.name) == nullptr) {
    catalog_.AddSequence(std::move(seq));
  }
}

void CatalogBuilder::AlterSequence(Node node) {
  Sequence* seq = catalog_.FindSequence(RangeVarName(node["sequence"]));
  if (seq == nullptr) return;
  for (Node o : node["options"]) {
    Node d = o["DefElem"];
    if (d.str("defname") != "owned_by") continue;
    std::vector<std::string> parts = d["arg"]["List"]["items"].Strings();
    if (parts.size() == 3) {
      seq->owned_by_table = TableName{parts[0], parts[1]};
      seq->owned_by_column = parts[2];
    } else if (parts.size() == 2) {
      seq->owned_by_table = TableName{"public", parts[0]};
      seq->owned_by_column = parts[1];
    }
  }
}

absl::Status CatalogBuilder::Setval(Node node, int64_t line) {
  Node targets = node["targetList"];
  if (targets.size() != 1) return absl::OkStatus();
  Node call = targets.at(0)["ResTarget"]["val"]["FuncCall"];
  std::vector<std::string> fn = call["funcname"].Strings();
  if (fn.empty() || fn.back() != "setval") return absl::OkStatus();
  Node args = call["args"];
  if (args.size() < 2) return absl::OkStatus();
  std::string_view t = args.at(0)["A_Const"]["sval"]["sval"].str();
  TableName name;
  if (!ConsumeTableName(&t, &name)) return absl::OkStatus();
  Sequence* seq = catalog_.FindSequence(name);
  if (seq == nullptr) {
    return InputError(file_, line,
                      absl::StrCat("setval of sequence ", name.Display(),
                                   ", which the dump does not create"));
  }
  std::optional<int64_t> v = IntValue(args.at(1));
  if (!v) {
    return InputError(file_, line, "setval with a value that is not an integer");
  }
  seq->has_setval = true;
  seq->last_value = *v;
  seq->is_called =
      args.size() < 3 || args.at(2)["A_Const"]["boolval"]["boolval"].boolean();
  return absl::OkStatus();
}

absl::Status CatalogBuilder::Finish() {
  for (Table& t : catalog_.tables()) {
    // A generated column's inputs, in table order; names that are not
    // columns (tableoid) drop out: they are the same for every row.
    for (Column& c : t.columns) {
      if (!c.generated) continue;
      std::vector<bool> read(t.columns.size(), false);
      for (const std::string& r : c.generated_from) {
        int i = t.ColumnIndex(r);
        if (i >= 0 && !t.columns[i].generated) read[i] = true;
      }
      c.generated_from.clear();
      for (size_t i = 0; i < read.size(); ++i) {
        if (read[i]) c.generated_from.push_back(t.columns[i].name);
      }
    }
    auto mark = [&t](UniqueKey& k) {
      for (const std::string& name : k.columns) {
        int i = t.ColumnIndex(name);
        if (i >= 0 && t.columns[i].generated) k.has_generated = true;
      }
    };
    if (t.primary_key) mark(*t.primary_key);
    for (UniqueKey& k : t.unique_keys) mark(k);
  }
  // OWNED BY ties a sequence to a column even where the default was set in
  // another form; identity sequences were tied when they were read.
  for (const Sequence& seq : catalog_.sequences()) {
    if (!seq.owned_by_table) continue;
    Table* t = catalog_.FindTable(*seq.owned_by_table);
    if (t == nullptr) continue;
    int i = t->ColumnIndex(seq.owned_by_column);
    if (i >= 0 && t->columns[i].sequence.empty() && t->columns[i].has_default) {
      t->columns[i].sequence = seq.name.Display();
    }
  }
  return absl::OkStatus();
}

}  // namespace pgmerge::parser::internal
