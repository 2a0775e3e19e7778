#include "parser/catalog.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "base/strings.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/page_releaser.h"
#include "base/status.h"
#include "parser/copy_text.h"
#include "parser/dump_reader.h"
#include "parser/sql_parser.h"

namespace pgmerge::parser {
namespace {

using Json = nlohmann::json;

const Json& Empty() {
  static const Json* empty = new Json(Json::object());
  return *empty;
}

const Json& Field(const Json& node, const char* key) {
  if (!node.is_object()) return Empty();
  auto it = node.find(key);
  return it == node.end() ? Empty() : *it;
}

std::string Str(const Json& node) {  // {"String": {"sval": "x"}}
  return Field(Field(node, "String"), "sval").is_string()
             ? Field(Field(node, "String"), "sval").get<std::string>()
             : std::string();
}

std::vector<std::string> StrList(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const Json& item : list) out.push_back(Str(item));
  return out;
}

TableName RangeVarName(const Json& rv) {
  TableName name;
  name.schema = rv.value("schemaname", "public");
  name.name = rv.value("relname", "");
  return name;
}

// Integer from Integer / Float / A_Const nodes; proto3 JSON omits zeroes.
std::optional<int64_t> IntValue(const Json& node) {
  if (!node.is_object()) return std::nullopt;
  if (node.contains("Integer")) {
    return Field(node["Integer"], "ival").is_number()
               ? node["Integer"]["ival"].get<int64_t>()
               : 0;
  }
  if (node.contains("Float")) {
    int64_t v;
    std::string s = Field(node["Float"], "fval").is_string()
                        ? node["Float"]["fval"].get<std::string>()
                        : "";
    if (absl::SimpleAtoi(s, &v)) return v;
    return std::nullopt;
  }
  if (node.contains("A_Const")) {
    const Json& c = node["A_Const"];
    if (c.contains("ival")) {
      return Field(c["ival"], "ival").is_number() ? c["ival"]["ival"].get<int64_t>()
                                                  : 0;
    }
    if (c.contains("fval")) {
      int64_t v;
      if (absl::SimpleAtoi(Field(c["fval"], "fval").get<std::string>(), &v)) {
        return v;
      }
    }
    return std::nullopt;
  }
  if (node.contains("TypeCast")) return IntValue(Field(node["TypeCast"], "arg"));
  if (node.contains("A_Expr")) {  // Unary minus: -5.
    const Json& e = node["A_Expr"];
    if (StrList(Field(e, "name")) == std::vector<std::string>{"-"} &&
        !e.contains("lexpr")) {
      std::optional<int64_t> v = IntValue(Field(e, "rexpr"));
      if (v) return -*v;
    }
  }
  return std::nullopt;
}

std::string SqlTypeName(const std::vector<std::string>& names) {
  if (names.size() == 2 && names[0] == "pg_catalog") {
    static const std::pair<const char*, const char*> kNames[] = {
        {"int2", "smallint"},
        {"int4", "integer"},
        {"int8", "bigint"},
        {"float4", "real"},
        {"float8", "double precision"},
        {"bool", "boolean"},
        {"varchar", "character varying"},
        {"bpchar", "character"},
        {"timestamp", "timestamp without time zone"},
        {"timestamptz", "timestamp with time zone"},
        {"time", "time without time zone"},
        {"timetz", "time with time zone"},
        {"varbit", "bit varying"},
    };
    for (const auto& [internal, sql] : kNames) {
      if (names[1] == internal) return sql;
    }
    return names[1];
  }
  std::vector<std::string> quoted;
  for (const std::string& n : names) quoted.push_back(QuoteIdentifier(n));
  return absl::StrJoin(quoted, ".");
}

void FillType(const Json& type_node, Column* col) {
  std::vector<std::string> names = StrList(Field(type_node, "names"));
  if (names.size() == 2 && names[0] == "pg_catalog") {
    col->type_name = names[1];
  } else {
    std::vector<std::string> quoted;
    for (const std::string& n : names) quoted.push_back(QuoteIdentifier(n));
    col->type_name = absl::StrJoin(quoted, ".");
  }
  std::string type = SqlTypeName(names);
  const Json& mods = Field(type_node, "typmods");
  if (mods.is_array() && !mods.empty()) {
    std::vector<std::string> parts;
    for (const Json& m : mods) {
      std::optional<int64_t> v = IntValue(m);
      parts.push_back(v ? absl::StrCat(*v) : "?");
    }
    // "timestamp(3) with time zone" keeps its modifier in the middle.
    size_t sp = type.find(' ');
    std::string mod = absl::StrCat("(", absl::StrJoin(parts, ","), ")");
    if (type.rfind("time", 0) == 0 && sp != std::string::npos) {
      type.insert(sp, mod);
    } else {
      type += mod;
    }
  }
  const Json& bounds = Field(type_node, "arrayBounds");
  if (bounds.is_array()) {
    col->is_array = !bounds.empty();
    for (size_t i = 0; i < bounds.size(); ++i) type += "[]";
  }
  col->type = std::move(type);
}

// The sequence named by nextval('seq'::regclass), if `expr` is that call.
std::optional<TableName> NextvalSequence(const Json& expr) {
  const Json& call = Field(expr, "FuncCall");
  if (!call.is_object() || call.empty()) return std::nullopt;
  std::vector<std::string> fn = StrList(Field(call, "funcname"));
  if (fn.empty() || fn.back() != "nextval") return std::nullopt;
  const Json& args = Field(call, "args");
  if (!args.is_array() || args.size() != 1) return std::nullopt;
  const Json* arg = &args[0];
  if (arg->contains("TypeCast")) arg = &Field((*arg)["TypeCast"], "arg");
  const Json& sval = Field(Field(Field(*arg, "A_Const"), "sval"), "sval");
  if (!sval.is_string()) return std::nullopt;
  std::string text = sval.get<std::string>();
  std::string_view t = text;
  TableName name;
  if (!ConsumeTableName(&t, &name) || !t.empty()) return std::nullopt;
  return name;
}

// COPY text of a constant default ('x'::text, 42, true), if it is one.
std::optional<std::string> ConstantDefault(const Json& expr) {
  const Json* e = &expr;
  if (e->contains("TypeCast")) e = &Field((*e)["TypeCast"], "arg");
  const Json& c = Field(*e, "A_Const");
  if (!c.is_object() || c.empty()) return std::nullopt;
  if (c.value("isnull", false)) return std::string(kCopyNull);
  if (c.contains("sval")) {
    std::string out;
    AppendCopyEscaped(Field(c["sval"], "sval").is_string()
                          ? c["sval"]["sval"].get<std::string>()
                          : "",
                      &out);
    return out;
  }
  if (c.contains("boolval")) {
    return Field(c["boolval"], "boolval").is_boolean() &&
                   c["boolval"]["boolval"].get<bool>()
               ? "t"
               : "f";
  }
  if (c.contains("fval")) return Field(c["fval"], "fval").get<std::string>();
  if (std::optional<int64_t> v = IntValue(*e)) return absl::StrCat(*v);
  return std::nullopt;
}

// A number from A_Const / TypeCast(A_Const) / unary minus, if it is one.
std::optional<double> NumberValue(const Json& node) {
  if (node.contains("TypeCast")) return NumberValue(Field(node["TypeCast"], "arg"));
  if (node.contains("A_Expr")) {
    const Json& e = node["A_Expr"];
    if (StrList(Field(e, "name")) == std::vector<std::string>{"-"} &&
        !e.contains("lexpr")) {
      std::optional<double> v = NumberValue(Field(e, "rexpr"));
      if (v) return -*v;
    }
    return std::nullopt;
  }
  const Json& c = Field(node, "A_Const");
  if (!c.is_object() || c.empty()) return std::nullopt;
  if (c.contains("ival")) {
    return Field(c["ival"], "ival").is_number() ? c["ival"]["ival"].get<double>() : 0.0;
  }
  if (c.contains("fval")) {
    return std::strtod(Field(c["fval"], "fval").get<std::string>().c_str(), nullptr);
  }
  return std::nullopt;
}

// Adds `expr`'s comparisons to *out; false when it is not a conjunction of
// column-vs-number comparisons.
bool SimpleComparisons(const Json& expr, std::vector<CheckConstraint::Comparison>* out) {
  if (expr.contains("BoolExpr")) {
    const Json& b = expr["BoolExpr"];
    if (b.value("boolop", "") != "AND_EXPR") return false;
    for (const Json& arg : Field(b, "args")) {
      if (!SimpleComparisons(arg, out)) return false;
    }
    return true;
  }
  const Json& e = Field(expr, "A_Expr");
  if (!e.is_object() || e.empty() || e.value("kind", "") != "AEXPR_OP") return false;
  std::vector<std::string> op = StrList(Field(e, "name"));
  if (op.size() != 1) return false;
  static const char* kOps[][2] = {{"<", ">"}, {"<=", ">="}, {">", "<"},
                                  {">=", "<="}, {"=", "="}, {"<>", "<>"}};
  const char* flipped = nullptr;
  for (const auto& o : kOps) {
    if (op[0] == o[0]) flipped = o[1];
  }
  if (flipped == nullptr) return false;
  const Json& l = Field(e, "lexpr");
  const Json& r = Field(e, "rexpr");
  auto column = [](const Json& n) -> std::string {
    std::vector<std::string> f = StrList(Field(Field(n, "ColumnRef"), "fields"));
    return f.size() == 1 ? f[0] : "";
  };
  CheckConstraint::Comparison c;
  if (!column(l).empty() && NumberValue(r)) {
    c = {column(l), op[0], *NumberValue(r)};
  } else if (!column(r).empty() && NumberValue(l)) {
    c = {column(r), flipped, *NumberValue(l)};  // 0 < x is x > 0.
  } else {
    return false;
  }
  out->push_back(std::move(c));
  return true;
}

// Adds the conditions of a WHERE clause; false when it is not a
// conjunction of `col IS [NOT] NULL`, a bare boolean column, `col = const`.
bool SimpleConditions(const Json& expr, std::vector<RowCondition>* out) {
  auto column = [](const Json& n) -> std::string {
    std::vector<std::string> f = StrList(Field(Field(n, "ColumnRef"), "fields"));
    return f.size() == 1 ? f[0] : "";
  };
  if (expr.contains("BoolExpr")) {
    const Json& b = expr["BoolExpr"];
    if (b.value("boolop", "") != "AND_EXPR") return false;
    for (const Json& arg : Field(b, "args")) {
      if (!SimpleConditions(arg, out)) return false;
    }
    return true;
  }
  if (expr.contains("NullTest")) {
    const Json& t = expr["NullTest"];
    std::string c = column(Field(t, "arg"));
    if (c.empty()) return false;
    out->push_back({t.value("nulltesttype", "") == "IS_NULL" ? RowCondition::kIsNull
                                                              : RowCondition::kIsNotNull,
                    c, ""});
    return true;
  }
  if (!column(expr).empty()) {
    out->push_back({RowCondition::kIsTrue, column(expr), ""});
    return true;
  }
  const Json& e = Field(expr, "A_Expr");
  if (!e.is_object() || e.empty() || e.value("kind", "") != "AEXPR_OP" ||
      StrList(Field(e, "name")) != std::vector<std::string>{"="}) {
    return false;
  }
  std::string c = column(Field(e, "lexpr"));
  std::optional<std::string> v = ConstantDefault(Field(e, "rexpr"));
  if (c.empty() || !v || *v == kCopyNull) return false;
  out->push_back({RowCondition::kEquals, c, *v});
  return true;
}

// Adds to *out the single-name column references anywhere in `expr`.
void ColumnRefs(const Json& expr, std::vector<std::string>* out) {
  if (expr.is_array()) {
    for (const Json& e : expr) ColumnRefs(e, out);
    return;
  }
  if (!expr.is_object()) return;
  for (const auto& [key, value] : expr.items()) {
    if (key == "ColumnRef") {
      std::vector<std::string> f = StrList(Field(value, "fields"));
      if (f.size() == 1 && !f[0].empty()) out->push_back(f[0]);
    } else {
      ColumnRefs(value, out);
    }
  }
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
// option holding it) has its location. Returns whether anything changed.
bool RepairNegativeIntegers(Json* node, std::string_view sql) {
  bool changed = false;
  auto at = [&sql](const Json& loc) -> std::optional<int64_t> {
    if (!loc.is_number_integer()) return std::nullopt;
    int64_t l = loc.get<int64_t>();
    if (l < 0 || static_cast<size_t>(l) >= sql.size()) return std::nullopt;
    return IntegerInText(sql.substr(l));
  };
  if (node->is_array()) {
    for (Json& e : *node) changed |= RepairNegativeIntegers(&e, sql);
    return changed;
  }
  if (!node->is_object()) return false;
  if (auto c = node->find("A_Const"); c != node->end() && c->is_object()) {
    auto iv = c->find("ival");
    if (iv != c->end() && iv->is_object() && !iv->contains("ival")) {
      if (std::optional<int64_t> v = at(Field(*c, "location")); v && *v != 0) {
        (*iv)["ival"] = *v;
        changed = true;
      }
    }
  }
  if (auto d = node->find("DefElem"); d != node->end() && d->is_object()) {
    Json& arg = (*d)["arg"];
    if (arg.is_object() && arg.contains("Integer") && arg["Integer"].is_object() &&
        !arg["Integer"].contains("ival")) {
      if (std::optional<int64_t> v = at(Field(*d, "location")); v && *v != 0) {
        arg["Integer"]["ival"] = *v;
        changed = true;
      }
    }
  }
  for (auto& [key, value] : node->items()) {
    if (value.is_structured()) changed |= RepairNegativeIntegers(&value, sql);
  }
  return changed;
}

// A sequence's options, as CREATE SEQUENCE and identity columns give them.
void SequenceOptions(const Json& opts, Sequence* seq) {
  std::optional<int64_t> start;
  for (const Json& o : opts.is_array() ? opts : Json::array()) {
    const Json& d = Field(o, "DefElem");
    std::string name = d.value("defname", "");
    const Json& arg = Field(d, "arg");
    if (name == "as") {
      Column c;
      FillType(Field(arg, "TypeName"), &c);
      seq->type = c.type;
    } else if (name == "start") {
      start = IntValue(arg);
    } else if (name == "increment") {
      seq->increment = IntValue(arg).value_or(1);
      if (seq->increment == 0) seq->increment = 1;  // PostgreSQL refuses 0.
    } else if (name == "minvalue") {
      seq->min_value = IntValue(arg);  // NO MINVALUE has no argument.
    } else if (name == "maxvalue") {
      seq->max_value = IntValue(arg);
    } else if (name == "cycle") {
      // CYCLE is {"boolval": true}; NO CYCLE an empty Boolean.
      seq->cycle = Field(Field(arg, "Boolean"), "boolval").is_boolean() &&
                   Field(Field(arg, "Boolean"), "boolval").get<bool>();
    }
  }
  seq->start = start ? *start
                     : (seq->increment > 0 ? seq->MinValue() : seq->MaxValue());
}


char ActionLetter(const Json& node, const char* key) {
  const Json& v = Field(node, key);
  return v.is_string() && !v.get<std::string>().empty()
             ? v.get<std::string>()[0]
             : 'a';
}

class CatalogBuilder {
 public:
  explicit CatalogBuilder(const std::string& file_name) : file_(file_name) {}

  absl::Status Statement(std::string_view sql, int64_t line);
  // Checks a data block's table and columns when it starts.
  absl::Status Block(const DumpEvent& ev);
  absl::Status CheckDefaults(const DumpEvent& ev);
  void AddSkippedRows(const DumpEvent& ev) {
    if (block_table_ != nullptr && ev.block == last_block_) {
      block_table_->row_count += ev.skipped_rows;
    }
  }
  absl::Status Row(const DumpEvent& ev);
  absl::Status Finish();
  Catalog Take() {
    catalog_.set_extensions(extensions_);
    return std::move(catalog_);
  }

 private:
  absl::Status CreateTable(const Json& node, int64_t line);
  void CompositeType(const Json& node);
  absl::Status AddColumn(Table* table, Column col, int64_t line);
  absl::Status AlterTable(const Json& node, int64_t line);
  void AddConstraint(Table* table, const Json& con);
  void CreateIndex(const Json& node);
  void CreateSequence(const Json& node);
  void AlterSequence(const Json& node);
  absl::Status Setval(const Json& node, int64_t line);
  absl::Status ColumnConstraint(Table* table, Column* col, const Json& con);
  void AddIdentity(Table* table, Column* col, const Json& con);
  Column* FindColumn(Table* table, std::string_view name);
  absl::Status NoTable(const TableName& name, int64_t line) {
    return InputError(file_, line,
                      absl::StrCat("table ", name.Display(),
                                   " is not created earlier in the dump"));
  }

  const std::string& file_;
  Catalog catalog_;
  int64_t last_block_ = -1;
  Table* block_table_ = nullptr;
  size_t block_width_ = 0;
  std::vector<std::string> extensions_;  // CREATE EXTENSION seen, by name.
  absl::StatusOr<Table*> ExtensionConfigTable(const DumpEvent& ev);
  // Composite types by display name: typed tables take their columns.
  absl::flat_hash_map<std::string, std::vector<Column>> composite_types_;
};

Column* CatalogBuilder::FindColumn(Table* table, std::string_view name) {
  int i = table->ColumnIndex(name);
  return i < 0 ? nullptr : &table->columns[i];
}

absl::Status CatalogBuilder::Statement(std::string_view sql, int64_t line) {
  PGM_ASSIGN_OR_RETURN(ParsedStatement parsed,
                       ParsedStatement::Parse(sql, file_, line));
  Json repaired;
  const Json* tree = &parsed.node();
  if (sql.find('-') != std::string_view::npos) {
    repaired = parsed.node();
    if (RepairNegativeIntegers(&repaired, sql)) tree = &repaired;
  }
  const Json& node = *tree;
  std::string_view type = parsed.type();
  if (type == "CreateStmt") return CreateTable(node, line);
  if (type == "CompositeTypeStmt") {
    CompositeType(node);
    return absl::OkStatus();
  }
  if (type == "AlterTableStmt") return AlterTable(node, line);
  if (type == "CreateExtensionStmt") {
    extensions_.push_back(Field(node, "extname").is_string()
                              ? Field(node, "extname").get<std::string>()
                              : std::string());
    return absl::OkStatus();
  }
  if (type == "IndexStmt") {
    CreateIndex(node);
  } else if (type == "CreateSeqStmt") {
    CreateSequence(node);
  } else if (type == "AlterSeqStmt") {
    AlterSequence(node);
  } else if (type == "SelectStmt") {
    return Setval(node, line);
  } else if (type == "CreateEnumStmt") {
    std::vector<std::string> name = StrList(Field(node, "typeName"));
    std::vector<std::string> quoted;
    for (const std::string& n : name) quoted.push_back(QuoteIdentifier(n));
    if (quoted.size() == 1) quoted.insert(quoted.begin(), "public");
    catalog_.AddEnum(absl::StrJoin(quoted, "."), StrList(Field(node, "vals")));
  }
  return absl::OkStatus();
}

absl::Status CatalogBuilder::CreateTable(const Json& node, int64_t line) {
  Table table;
  table.name = RangeVarName(Field(node, "relation"));
  table.line = line;
  last_block_ = -1;  // AddTable may move the table a block points at.
  if (catalog_.FindTable(table.name) != nullptr) {
    return InputError(file_, line,
                      absl::StrCat("table ", table.name.Display(),
                                   " is created twice"));
  }
  table.partitioned = Field(node, "partspec").is_object() &&
                      !Field(node, "partspec").empty();
  const Json& inh = Field(node, "inhRelations");
  const bool is_partition =
      Field(node, "partbound").is_object() && !Field(node, "partbound").empty();
  if (inh.is_array()) {
    for (const Json& rv : inh) {
      TableName parent = RangeVarName(Field(rv, "RangeVar"));
      const Table* p = catalog_.FindTable(parent);
      if (p == nullptr) return NoTable(parent, line);
      // Children list only their own columns; the parent's come first.
      for (const Column& c : p->columns) {
        if (table.ColumnIndex(c.name) < 0) {
          PGM_RETURN_IF_ERROR(AddColumn(&table, c, line));
        }
      }
      if (is_partition) {
        table.partition_of = parent;
      } else {
        table.inherits.push_back(parent);
      }
    }
  }
  const Json& of_type = Field(node, "ofTypename");
  if (of_type.is_object() && !of_type.empty()) {
    // CREATE TABLE t OF type: the type's attributes are the columns; the
    // table's own list only adds constraints and defaults to them.
    std::vector<std::string> names = StrList(Field(of_type, "names"));
    TableName type_name;
    type_name.name = names.empty() ? "" : names.back();
    type_name.schema = names.size() >= 2 ? names[names.size() - 2] : "public";
    auto it = composite_types_.find(type_name.Display());
    if (it == composite_types_.end()) {
      return InputError(file_, line,
                        absl::StrCat("table ", table.name.Display(),
                                     " is of type ", type_name.Display(),
                                     ", which is not created earlier in the "
                                     "dump as a composite type"));
    }
    for (const Column& c : it->second) {
      PGM_RETURN_IF_ERROR(AddColumn(&table, c, line));
    }
    table.of_type = type_name;
  }
  std::vector<const Json*> table_constraints;
  const Json& elts = Field(node, "tableElts");
  if (elts.is_array()) {
    for (const Json& elt : elts) {
      if (elt.contains("ColumnDef")) {
        const Json& def = elt["ColumnDef"];
        Column col;
        col.name = def.value("colname", "");
        FillType(Field(def, "typeName"), &col);
        if (def.value("is_not_null", false)) col.not_null = true;
        int existing = table.ColumnIndex(col.name);
        Column* target;
        if (existing >= 0) {  // Redefines an inherited column.
          target = &table.columns[existing];
          target->not_null |= col.not_null;
        } else {
          PGM_RETURN_IF_ERROR(AddColumn(&table, std::move(col), line));
          target = &table.columns.back();
        }
        const Json& cons = Field(def, "constraints");
        if (cons.is_array()) {
          for (const Json& c : cons) {
            PGM_RETURN_IF_ERROR(
                ColumnConstraint(&table, target, Field(c, "Constraint")));
          }
        }
      } else if (elt.contains("Constraint")) {
        table_constraints.push_back(&elt["Constraint"]);
      }
    }
  }
  for (const Json* c : table_constraints) AddConstraint(&table, *c);
  catalog_.AddTable(std::move(table));
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

void CatalogBuilder::CompositeType(const Json& node) {
  TableName name = RangeVarName(Field(node, "typevar"));
  std::vector<Column> columns;
  const Json& defs = Field(node, "coldeflist");
  if (defs.is_array()) {
    for (const Json& d : defs) {
      const Json& def = Field(d, "ColumnDef");
      Column col;
      col.name = def.value("colname", "");
      FillType(Field(def, "typeName"), &col);
      columns.push_back(std::move(col));
    }
  }
  composite_types_[name.Display()] = std::move(columns);
}

absl::Status CatalogBuilder::ColumnConstraint(Table* table, Column* col,
                                              const Json& con) {
  std::string type = con.value("contype", "");
  if (type == "CONSTR_NOTNULL") {
    col->not_null = true;
  } else if (type == "CONSTR_DEFAULT") {
    col->has_default = true;
    const Json& expr = Field(con, "raw_expr");
    if (std::optional<TableName> seq = NextvalSequence(expr)) {
      col->sequence = seq->Display();
    }
    col->default_constant = ConstantDefault(expr);
  } else if (type == "CONSTR_IDENTITY") {
    AddIdentity(table, col, con);
  } else if (type == "CONSTR_GENERATED") {
    col->generated = true;
    std::vector<std::string> refs;
    ColumnRefs(Field(con, "raw_expr"), &refs);
    col->generated_from = std::move(refs);  // Resolved in Finish().
  } else if (type == "CONSTR_PRIMARY" || type == "CONSTR_UNIQUE") {
    col->not_null |= type == "CONSTR_PRIMARY";
    Json with_keys = con;
    with_keys["keys"] = Json::array({{{"String", {{"sval", col->name}}}}});
    AddConstraint(table, with_keys);
  } else if (type == "CONSTR_FOREIGN") {
    Json with_keys = con;
    with_keys["fk_attrs"] = Json::array({{{"String", {{"sval", col->name}}}}});
    AddConstraint(table, with_keys);
  } else if (type == "CONSTR_CHECK") {
    AddConstraint(table, con);
  }
  return absl::OkStatus();
}

void CatalogBuilder::AddIdentity(Table* table, Column* col, const Json& con) {
  col->identity = con.value("generated_when", "a") == "d" ? Identity::kByDefault
                                                          : Identity::kAlways;
  col->not_null = true;
  Sequence seq;
  seq.identity = true;
  seq.owned_by_table = table->name;
  seq.owned_by_column = col->name;
  seq.name = table->name;
  seq.name.name = absl::StrCat(table->name.name, "_", col->name, "_seq");
  seq.type = col->type;
  const Json& opts = Field(con, "options");
  SequenceOptions(opts, &seq);
  if (opts.is_array()) {
    for (const Json& o : opts) {
      const Json& d = Field(o, "DefElem");
      if (d.value("defname", "") != "sequence_name") continue;
      std::vector<std::string> parts = StrList(
          Field(Field(d, "arg"), "List").value("items", Json::array()));
      if (parts.size() == 2) {
        seq.name = TableName{parts[0], parts[1]};
      } else if (parts.size() == 1) {
        seq.name.name = parts[0];
      }
    }
  }
  col->sequence = seq.name.Display();
  if (Sequence* existing = catalog_.FindSequence(seq.name)) {
    *existing = seq;
  } else {
    catalog_.AddSequence(std::move(seq));
  }
}

void CatalogBuilder::AddConstraint(Table* table, const Json& con) {
  std::string type = con.value("contype", "");
  if (type == "CONSTR_PRIMARY" || type == "CONSTR_UNIQUE") {
    UniqueKey key;
    key.name = con.value("conname", "");
    key.primary = type == "CONSTR_PRIMARY";
    key.columns = StrList(Field(con, "keys"));
    if (key.columns.empty() && con.contains("indexname")) {
      // ADD CONSTRAINT ... USING INDEX: the index named it already.
      std::string index = con.value("indexname", "");
      for (auto it = table->unique_keys.begin(); it != table->unique_keys.end();
           ++it) {
        if (it->name == index) {
          key.columns = it->columns;
          table->unique_keys.erase(it);
          break;
        }
      }
    }
    if (key.primary) {
      for (const std::string& c : key.columns) {
        if (Column* col = FindColumn(table, c)) col->not_null = true;
      }
      table->primary_key = std::move(key);
    } else {
      table->unique_keys.push_back(std::move(key));
    }
  } else if (type == "CONSTR_CHECK") {
    CheckConstraint check;
    check.name = con.value("conname", "");
    check.simple = SimpleComparisons(Field(con, "raw_expr"), &check.comparisons);
    if (!check.simple) check.comparisons.clear();
    table->checks.push_back(std::move(check));
  } else if (type == "CONSTR_FOREIGN") {
    ForeignKey fk;
    fk.name = con.value("conname", "");
    fk.columns = StrList(Field(con, "fk_attrs"));
    fk.ref_table = RangeVarName(Field(con, "pktable"));
    fk.ref_columns = StrList(Field(con, "pk_attrs"));
    fk.on_delete = ActionLetter(con, "fk_del_action");
    fk.on_update = ActionLetter(con, "fk_upd_action");
    fk.match = ActionLetter(con, "fk_matchtype");
    fk.deferrable = con.value("deferrable", false);
    fk.initially_deferred = con.value("initdeferred", false);
    table->foreign_keys.push_back(std::move(fk));
  }
}

absl::Status CatalogBuilder::AlterTable(const Json& node, int64_t line) {
  if (node.value("objtype", "") != "OBJECT_TABLE") return absl::OkStatus();
  TableName name = RangeVarName(Field(node, "relation"));
  Table* table = catalog_.FindTable(name);
  if (table == nullptr) return absl::OkStatus();  // A view or foreign table.
  const Json& cmds = Field(node, "cmds");
  if (!cmds.is_array()) return absl::OkStatus();
  for (const Json& c : cmds) {
    const Json& cmd = Field(c, "AlterTableCmd");
    std::string sub = cmd.value("subtype", "");
    const Json& def = Field(cmd, "def");
    Column* col = FindColumn(table, cmd.value("name", ""));
    if (sub == "AT_AddConstraint") {
      AddConstraint(table, Field(def, "Constraint"));
    } else if (sub == "AT_ColumnDefault" && col != nullptr) {
      Json con = {{"contype", "CONSTR_DEFAULT"}, {"raw_expr", def}};
      PGM_RETURN_IF_ERROR(ColumnConstraint(table, col, con));
    } else if (sub == "AT_AddIdentity" && col != nullptr) {
      AddIdentity(table, col, Field(def, "Constraint"));
    } else if (sub == "AT_SetNotNull" && col != nullptr) {
      col->not_null = true;
    } else if (sub == "AT_AttachPartition") {
      TableName child = RangeVarName(Field(Field(def, "PartitionCmd"), "name"));
      if (Table* t = catalog_.FindTable(child)) t->partition_of = name;
    } else if (sub == "AT_AddInherit") {
      table->inherits.push_back(RangeVarName(Field(def, "RangeVar")));
    }
  }
  return absl::OkStatus();
}

void CatalogBuilder::CreateIndex(const Json& node) {
  if (!node.value("unique", false)) return;
  Table* table = catalog_.FindTable(RangeVarName(Field(node, "relation")));
  if (table == nullptr) return;
  UniqueKey key;
  key.name = node.value("idxname", "");
  key.from_index = true;
  key.partial = Field(node, "whereClause").is_object() &&
                !Field(node, "whereClause").empty();
  if (key.partial) {
    key.simple_predicate = SimpleConditions(Field(node, "whereClause"), &key.predicate);
    if (!key.simple_predicate) key.predicate.clear();
  }
  const Json& params = Field(node, "indexParams");
  if (params.is_array()) {
    for (const Json& p : params) {
      const Json& elem = Field(p, "IndexElem");
      if (elem.contains("name")) {
        key.columns.push_back(elem.value("name", ""));
      } else {
        key.has_expressions = true;
      }
    }
  }
  if (key.has_expressions) key.columns.clear();
  table->unique_keys.push_back(std::move(key));
}

void CatalogBuilder::CreateSequence(const Json& node) {
  Sequence seq;
  seq.name = RangeVarName(Field(node, "sequence"));
  SequenceOptions(Field(node, "options"), &seq);
  if (catalog_.FindSequence(seq.name) == nullptr) {
    catalog_.AddSequence(std::move(seq));
  }
}

void CatalogBuilder::AlterSequence(const Json& node) {
  Sequence* seq = catalog_.FindSequence(RangeVarName(Field(node, "sequence")));
  if (seq == nullptr) return;
  const Json& opts = Field(node, "options");
  if (!opts.is_array()) return;
  for (const Json& o : opts) {
    const Json& d = Field(o, "DefElem");
    if (d.value("defname", "") != "owned_by") continue;
    std::vector<std::string> parts =
        StrList(Field(Field(d, "arg"), "List").value("items", Json::array()));
    if (parts.size() == 3) {
      seq->owned_by_table = TableName{parts[0], parts[1]};
      seq->owned_by_column = parts[2];
    } else if (parts.size() == 2) {
      seq->owned_by_table = TableName{"public", parts[0]};
      seq->owned_by_column = parts[1];
    }
  }
}

absl::Status CatalogBuilder::Setval(const Json& node, int64_t line) {
  const Json& targets = Field(node, "targetList");
  if (!targets.is_array() || targets.size() != 1) return absl::OkStatus();
  const Json& call = Field(Field(Field(targets[0], "ResTarget"), "val"),
                           "FuncCall");
  std::vector<std::string> fn = StrList(Field(call, "funcname"));
  if (fn.empty() || fn.back() != "setval") return absl::OkStatus();
  const Json& args = Field(call, "args");
  if (!args.is_array() || args.size() < 2) return absl::OkStatus();
  const Json& sval = Field(Field(Field(args[0], "A_Const"), "sval"), "sval");
  if (!sval.is_string()) return absl::OkStatus();
  std::string text = sval.get<std::string>();
  std::string_view t = text;
  TableName name;
  if (!ConsumeTableName(&t, &name)) return absl::OkStatus();
  Sequence* seq = catalog_.FindSequence(name);
  if (seq == nullptr) {
    return InputError(file_, line,
                      absl::StrCat("setval of sequence ", name.Display(),
                                   ", which the dump does not create"));
  }
  std::optional<int64_t> v = IntValue(args[1]);
  if (!v) {
    return InputError(file_, line, "setval with a value that is not an integer");
  }
  seq->has_setval = true;
  seq->last_value = *v;
  seq->is_called = true;
  if (args.size() >= 3) {
    const Json& b = Field(Field(Field(args[2], "A_Const"), "boolval"), "boolval");
    seq->is_called = b.is_boolean() && b.get<bool>();
  }
  return absl::OkStatus();
}

absl::Status CatalogBuilder::Block(const DumpEvent& ev) {
  if (ev.block != last_block_) {
    last_block_ = ev.block;
    block_table_ = catalog_.FindTable(ev.target->table);
    if (block_table_ == nullptr) {
      PGM_ASSIGN_OR_RETURN(block_table_, ExtensionConfigTable(ev));
    }
    if (ev.target->columns.empty()) {
      block_width_ = 0;
      for (const Column& c : block_table_->columns) block_width_ += !c.generated;
      if (ev.target->from_insert) PGM_RETURN_IF_ERROR(CheckDefaults(ev));
    } else {
      block_width_ = ev.target->columns.size();
      for (const std::string& c : ev.target->columns) {
        if (block_table_->ColumnIndex(c) < 0) {
          return InputError(file_, ev.line,
                            absl::StrCat("data names column ", QuoteIdentifier(c),
                                         ", which table ",
                                         block_table_->name.Display(),
                                         " does not have"));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Table*> CatalogBuilder::ExtensionConfigTable(const DumpEvent& ev) {
  // pg_dump writes the rows users added to an extension's configuration
  // table (pg_extension_config_dump, as PostGIS's spatial_ref_sys) and no
  // CREATE TABLE: CREATE EXTENSION makes it, so one must come first.
  const TableName& name = ev.target->table;
  if (extensions_.empty()) return NoTable(name, ev.line);
  if (ev.target->columns.empty()) {
    return InputError(
        file_, ev.line,
        absl::StrCat("rows of table ", name.Display(),
                     ", which the dump does not create (an extension's configuration "
                     "table?), without a column list: dump with COPY or --column-inserts"));
  }
  Table t;
  t.name = name;
  t.line = ev.line;
  t.extension_config = true;
  for (const std::string& c : ev.target->columns) {
    if (t.ColumnIndex(c) >= 0) {
      return InputError(file_, ev.line,
                        absl::StrCat("data for ", name.Display(), " names column ",
                                     QuoteIdentifier(c), " twice"));
    }
    Column col;
    col.name = c;
    t.AddColumn(std::move(col));
  }
  UniqueKey key;
  key.name = "(its first column: the extension's key is not in the dump)";
  key.columns = {ev.target->columns[0]};
  key.primary = true;
  t.primary_key = std::move(key);
  last_block_ = -1;  // AddTable may move the tables.
  Table* added = &catalog_.AddTable(std::move(t));
  last_block_ = ev.block;
  return added;
}

absl::Status CatalogBuilder::CheckDefaults(const DumpEvent& ev) {
  // pg_dump --inserts writes every column in table order with DEFAULT for
  // each stored generated column and for nothing else; a row of another
  // shape would put its values into the wrong columns.
  const std::vector<Column>& cols = block_table_->columns;
  const std::vector<int>& defaults = ev.target->defaults;
  const std::string table = block_table_->name.Display();
  for (int p : defaults) {
    if (p >= static_cast<int>(cols.size())) {
      return InputError(file_, ev.line,
                        absl::StrCat("INSERT into ", table, " has DEFAULT in value ",
                                     p + 1, ", the table has ", cols.size(),
                                     " columns"));
    }
    if (!cols[p].generated) {
      return InputError(
          file_, ev.line,
          absl::StrCat("INSERT into ", table, " has DEFAULT for column ",
                       QuoteIdentifier(cols[p].name),
                       ", which is not a generated column (pg_dump writes "
                       "DEFAULT only for stored generated columns)"));
    }
  }
  for (size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].generated &&
        std::find(defaults.begin(), defaults.end(), static_cast<int>(i)) ==
            defaults.end()) {
      return InputError(
          file_, ev.line,
          absl::StrCat("INSERT into ", table, " without a column list has no "
                       "DEFAULT for generated column ",
                       QuoteIdentifier(cols[i].name),
                       " (pg_dump --inserts writes DEFAULT there)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CatalogBuilder::Row(const DumpEvent& ev) {
  PGM_RETURN_IF_ERROR(Block(ev));
  if (!RowFitsWidth(ev.fields->size(),
                    ev.fields->empty() ? std::string_view() : (*ev.fields)[0],
                    block_width_)) {
    return InputError(file_, ev.line,
                      absl::StrCat("row for ", block_table_->name.Display(),
                                   " has ", ev.fields->size(),
                                   " values, the table has ", block_width_,
                                   " columns"));
  }
  ++block_table_->row_count;
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

bool IsIntegerType(std::string_view t) {
  int64_t lo, hi;
  return IntegerTypeRange(t, &lo, &hi);
}

}  // namespace

bool IntegerTypeRange(std::string_view t, int64_t* min, int64_t* max) {
  if (t == "int2" || t == "smallint" || t == "smallserial" || t == "serial2") {
    *min = std::numeric_limits<int16_t>::min();
    *max = std::numeric_limits<int16_t>::max();
  } else if (t == "int4" || t == "integer" || t == "int" || t == "serial" ||
             t == "serial4") {
    *min = std::numeric_limits<int32_t>::min();
    *max = std::numeric_limits<int32_t>::max();
  } else if (t == "int8" || t == "bigint" || t == "bigserial" || t == "serial8") {
    *min = std::numeric_limits<int64_t>::min();
    *max = std::numeric_limits<int64_t>::max();
  } else {
    return false;
  }
  return true;
}

int64_t Sequence::MinValue() const {
  if (min_value) return *min_value;
  int64_t lo, hi;
  if (!IntegerTypeRange(type, &lo, &hi)) IntegerTypeRange("bigint", &lo, &hi);
  return increment > 0 ? 1 : lo;
}

int64_t Sequence::MaxValue() const {
  if (max_value) return *max_value;
  int64_t lo, hi;
  if (!IntegerTypeRange(type, &lo, &hi)) IntegerTypeRange("bigint", &lo, &hi);
  return increment > 0 ? hi : -1;
}


std::string_view KeyKindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kNone: return "none";
    case KeyKind::kSerial: return "serial";
    case KeyKind::kIdentity: return "identity";
    case KeyKind::kInteger: return "integer";
    case KeyKind::kUuid: return "uuid";
    case KeyKind::kText: return "text";
    case KeyKind::kOther: return "other";
    case KeyKind::kComposite: return "composite";
  }
  return "none";
}

Column& Table::AddColumn(Column column) {
  column_index_.emplace(column.name, static_cast<int>(columns.size()));
  columns.push_back(std::move(column));
  return columns.back();
}

int Table::ColumnIndex(std::string_view column) const {
  if (column_index_.size() == columns.size()) {
    auto it = column_index_.find(AsAbsl(column));
    return it == column_index_.end() ? -1 : it->second;
  }
  // Columns set directly (a hand-made Table): look them up one by one.
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return static_cast<int>(i);
  }
  return -1;
}

const UniqueKey* Table::MergeKey() const {
  if (primary_key) return &*primary_key;
  for (const UniqueKey& k : unique_keys) {
    if (k.partial || k.columns.size() != 1) continue;
    int i = ColumnIndex(k.columns[0]);
    if (i < 0) continue;
    const Column& c = columns[i];
    if (c.not_null && (!c.sequence.empty() || c.identity != Identity::kNone)) {
      return &k;
    }
  }
  return nullptr;
}

KeyKind Table::key_kind() const {
  const UniqueKey* key = MergeKey();
  if (key == nullptr || key->columns.empty()) return KeyKind::kNone;
  if (key->columns.size() > 1) return KeyKind::kComposite;
  // A generated key is derived from other columns: never remapped.
  if (key->has_generated) return KeyKind::kOther;
  int i = ColumnIndex(key->columns[0]);
  if (i < 0) return KeyKind::kOther;
  const Column& c = columns[i];
  if (c.identity != Identity::kNone) return KeyKind::kIdentity;
  if (IsIntegerType(c.type_name)) {
    return c.sequence.empty() ? KeyKind::kInteger : KeyKind::kSerial;
  }
  if (c.type_name == "uuid") return KeyKind::kUuid;
  if (c.type_name == "text" || c.type_name == "varchar" ||
      c.type_name == "bpchar" || c.type_name == "citext") {
    return KeyKind::kText;
  }
  return KeyKind::kOther;
}

const Table* Catalog::FindTable(const TableName& name) const {
  auto it = table_index_.find(name.Display());
  return it == table_index_.end() ? nullptr : &tables_[it->second];
}

Table* Catalog::FindTable(const TableName& name) {
  auto it = table_index_.find(name.Display());
  return it == table_index_.end() ? nullptr : &tables_[it->second];
}

const Sequence* Catalog::FindSequence(const TableName& name) const {
  auto it = sequence_index_.find(name.Display());
  return it == sequence_index_.end() ? nullptr : &sequences_[it->second];
}

Sequence* Catalog::FindSequence(const TableName& name) {
  auto it = sequence_index_.find(name.Display());
  return it == sequence_index_.end() ? nullptr : &sequences_[it->second];
}

Table& Catalog::AddTable(Table table) {
  table_index_[table.name.Display()] = tables_.size();
  tables_.push_back(std::move(table));
  return tables_.back();
}

Sequence& Catalog::AddSequence(Sequence seq) {
  sequence_index_[seq.name.Display()] = sequences_.size();
  sequences_.push_back(std::move(seq));
  return sequences_.back();
}

int64_t Catalog::total_rows() const {
  int64_t n = 0;
  for (const Table& t : tables_) n += t.row_count;
  return n;
}

absl::StatusOr<Catalog> ReadCatalog(std::string_view input,
                                    const std::string& file_name,
                                    const MappedFile* file, bool check_rows) {
  switch (DetectDumpFormat(input)) {
    case DumpFormat::kCustom:
      return InputError(file_name, 1,
                        "a custom-format dump (pg_dump -Fc); convert it to "
                        "plain SQL first: pg_restore -f dump.sql " + file_name);
    case DumpFormat::kTar:
      return InputError(file_name, 1,
                        "a tar-format dump (pg_dump -Ft); convert it to plain "
                        "SQL first: pg_restore -f dump.sql " + file_name);
    case DumpFormat::kBinary:
      return InputError(file_name, 1,
                        "not a plain-format pg_dump file (binary data)");
    case DumpFormat::kPlain:
      break;
  }
  DumpReader reader(input, file_name);
  ReaderOptions options;
  options.skim_copy_data = !check_rows;
  reader.set_options(options);
  CatalogBuilder builder(file_name);
  LargeObjectReader large_objects(input, file_name);
  std::vector<DumpObject> objects;
  reader.set_comment_hook([&objects](std::string_view c) {
    // "-- Name: X; Type: T; Schema: S; Owner: O"
    if (c.substr(0, 9) != "-- Name: ") return;
    size_t type = c.find("; Type: ");
    size_t schema = c.find("; Schema: ");
    size_t owner = c.find("; Owner: ");
    if (type == std::string_view::npos || schema == std::string_view::npos ||
        owner == std::string_view::npos || !(type < schema && schema < owner)) {
      return;
    }
    DumpObject o;
    o.name = std::string(c.substr(9, type - 9));
    // Statements that follow belong to it, until the next header.
    o.statements.reserve(1);
    o.type = std::string(c.substr(type + 8, schema - type - 8));
    o.schema = std::string(c.substr(schema + 10, owner - schema - 10));
    objects.push_back(std::move(o));
  });
  PageReleaser releaser(file, 0);
  reader.set_progress([&releaser](size_t pos) { releaser.Advance(pos); });
  DumpEvent ev;
  bool saw_sql = false;
  for (;;) {
    PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
    if (!more) break;
    releaser.Advance(reader.position());
    switch (ev.kind) {
      case EventKind::kStatement: {
        saw_sql = true;
        PGM_ASSIGN_OR_RETURN(bool large_object, large_objects.Take(ev));
        if (!large_object) PGM_RETURN_IF_ERROR(builder.Statement(ev.text, ev.line));
        if (!objects.empty()) {
          objects.back().statements.emplace_back(ev.offset, ev.text.size());
          if (objects.back().line == 0) objects.back().line = ev.line;
        }
        break;
      }
      case EventKind::kRow:
        saw_sql = true;
        PGM_RETURN_IF_ERROR(builder.Row(ev));
        break;
      case EventKind::kCopyStart:
        saw_sql = true;
        PGM_RETURN_IF_ERROR(builder.Block(ev));
        break;
      case EventKind::kCopyEnd:
        builder.AddSkippedRows(ev);
        break;
      case EventKind::kMeta:
        break;
    }
  }
  if (!saw_sql) {
    return InputError(file_name, 1,
                      "not a pg_dump file: it holds no SQL statement");
  }
  releaser.Finish(reader.position());
  PGM_RETURN_IF_ERROR(builder.Finish());
  PGM_ASSIGN_OR_RETURN(std::vector<LargeObject> los, large_objects.Finish());
  Catalog catalog = builder.Take();
  catalog.set_large_objects(std::move(los));
  for (DumpObject& o : objects) catalog.AddObject(std::move(o));
  return catalog;
}

}  // namespace pgmerge::parser
