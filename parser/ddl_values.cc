#include "parser/ddl_values.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/strings.h"
#include "parser/copy_text.h"

namespace pgmerge::parser::internal {
namespace {

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v;
  if (absl::SimpleAtoi(AsAbsl(text), &v)) return v;
  return std::nullopt;
}

// `- x`: an A_Expr named "-" with no left operand.
bool IsUnaryMinus(Node a_expr) {
  return a_expr["name"].Strings() == std::vector<std::string>{"-"} &&
         !a_expr.has("lexpr");
}

std::string QuotedName(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const std::string& n : names) quoted.push_back(QuoteIdentifier(n));
  return absl::StrJoin(quoted, ".");
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
  return QuotedName(names);
}

// A number from A_Const / TypeCast(A_Const) / unary minus, if it is one.
std::optional<double> NumberValue(Node node) {
  if (node.has("TypeCast")) return NumberValue(node["TypeCast"]["arg"]);
  if (node.has("A_Expr")) {
    Node e = node["A_Expr"];
    if (IsUnaryMinus(e)) {
      std::optional<double> v = NumberValue(e["rexpr"]);
      if (v) return -*v;
    }
    return std::nullopt;
  }
  Node c = node["A_Const"];
  if (c.empty()) return std::nullopt;
  if (c.has("ival")) {
    return static_cast<double>(c["ival"]["ival"].integer().value_or(0));
  }
  if (c.has("fval")) {
    return std::strtod(std::string(c["fval"]["fval"].str()).c_str(), nullptr);
  }
  return std::nullopt;
}

// The operators a simple CHECK compares with, and each one with its sides
// swapped (0 < x is x > 0).
const char* FlippedOperator(std::string_view op) {
  static const char* kOps[][2] = {{"<", ">"}, {"<=", ">="}, {">", "<"},
                                  {">=", "<="}, {"=", "="}, {"<>", "<>"}};
  for (const auto& o : kOps) {
    if (op == o[0]) return o[1];
  }
  return nullptr;
}

// `leaf` on each conjunct of an AND tree (the expression itself when it is
// no AND); false when another boolean operator is in the tree or `leaf`
// refuses a conjunct.
template <typename Leaf>
bool EveryConjunct(Node expr, const Leaf& leaf) {
  if (!expr.has("BoolExpr")) return leaf(expr);
  Node b = expr["BoolExpr"];
  if (b.str("boolop") != "AND_EXPR") return false;
  for (Node arg : b["args"]) {
    if (!EveryConjunct(arg, leaf)) return false;
  }
  return true;
}

// `column OP number` or `number OP column`, the column put on the left.
bool Comparison(Node expr, std::vector<CheckConstraint::Comparison>* out) {
  Node e = expr["A_Expr"];
  if (e.empty() || e.str("kind") != "AEXPR_OP") return false;
  std::vector<std::string> op = e["name"].Strings();
  if (op.size() != 1) return false;
  const char* flipped = FlippedOperator(op[0]);
  if (flipped == nullptr) return false;
  std::string left(ColumnRefName(e["lexpr"]));
  std::string right(ColumnRefName(e["rexpr"]));
  CheckConstraint::Comparison c;
  if (!left.empty() && NumberValue(e["rexpr"])) {
    c = {left, op[0], *NumberValue(e["rexpr"])};
  } else if (!right.empty() && NumberValue(e["lexpr"])) {
    c = {right, flipped, *NumberValue(e["lexpr"])};
  } else {
    return false;
  }
  out->push_back(std::move(c));
  return true;
}

// `col IS [NOT] NULL`, a bare boolean column, or `col = constant`.
bool Condition(Node expr, std::vector<RowCondition>* out) {
  if (expr.has("NullTest")) {
    Node t = expr["NullTest"];
    std::string c(ColumnRefName(t["arg"]));
    if (c.empty()) return false;
    out->push_back({t.str("nulltesttype") == "IS_NULL" ? RowCondition::kIsNull
                                                       : RowCondition::kIsNotNull,
                    c, ""});
    return true;
  }
  if (std::string c(ColumnRefName(expr)); !c.empty()) {
    out->push_back({RowCondition::kIsTrue, c, ""});
    return true;
  }
  Node e = expr["A_Expr"];
  if (e.empty() || e.str("kind") != "AEXPR_OP" ||
      e["name"].Strings() != std::vector<std::string>{"="}) {
    return false;
  }
  std::string c(ColumnRefName(e["lexpr"]));
  std::optional<std::string> v = ConstantDefault(e["rexpr"]);
  if (c.empty() || !v || *v == kCopyNull) return false;
  out->push_back({RowCondition::kEquals, c, *v});
  return true;
}

}  // namespace

void FillType(Node type_node, Column* col) {
  std::vector<std::string> names = type_node["names"].Strings();
  if (names.size() == 2 && names[0] == "pg_catalog") {
    col->type_name = names[1];
  } else {
    col->type_name = QuotedName(names);
  }
  std::string type = SqlTypeName(names);
  Node mods = type_node["typmods"];
  if (mods.size() > 0) {
    std::vector<std::string> parts;
    for (Node m : mods) {
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
  Node bounds = type_node["arrayBounds"];
  col->is_array = bounds.size() > 0;
  for (size_t i = 0; i < bounds.size(); ++i) type += "[]";
  col->type = std::move(type);
}

std::optional<int64_t> IntValue(Node node) {
  // proto3 JSON leaves out zeroes: an Integer with no ival is 0.
  if (node.has("Integer")) return node["Integer"]["ival"].integer().value_or(0);
  if (node.has("Float")) return ParseInt(node["Float"]["fval"].str());
  if (node.has("A_Const")) {
    Node c = node["A_Const"];
    if (c.has("ival")) return c["ival"]["ival"].integer().value_or(0);
    if (c.has("fval")) return ParseInt(c["fval"]["fval"].str());
    return std::nullopt;
  }
  if (node.has("TypeCast")) return IntValue(node["TypeCast"]["arg"]);
  if (node.has("A_Expr") && IsUnaryMinus(node["A_Expr"])) {  // -5.
    std::optional<int64_t> v = IntValue(node["A_Expr"]["rexpr"]);
    if (v) return -*v;
  }
  return std::nullopt;
}

std::optional<TableName> NextvalSequence(Node expr) {
  Node call = expr["FuncCall"];
  if (call.empty()) return std::nullopt;
  std::vector<std::string> fn = call["funcname"].Strings();
  if (fn.empty() || fn.back() != "nextval") return std::nullopt;
  Node args = call["args"];
  if (args.size() != 1) return std::nullopt;
  Node arg = args.at(0);
  if (arg.has("TypeCast")) arg = arg["TypeCast"]["arg"];
  std::string_view t = arg["A_Const"]["sval"]["sval"].str();
  TableName name;
  if (!ConsumeTableName(&t, &name) || !t.empty()) return std::nullopt;
  return name;
}

std::optional<std::string> ConstantDefault(Node expr) {
  Node e = expr;
  if (e.has("TypeCast")) e = e["TypeCast"]["arg"];
  Node c = e["A_Const"];
  if (c.empty()) return std::nullopt;
  if (c.boolean("isnull")) return std::string(kCopyNull);
  if (c.has("sval")) {
    std::string out;
    AppendCopyEscaped(c["sval"]["sval"].str(), &out);
    return out;
  }
  if (c.has("boolval")) return c["boolval"]["boolval"].boolean() ? "t" : "f";
  if (c.has("fval")) return std::string(c["fval"]["fval"].str());
  if (std::optional<int64_t> v = IntValue(e)) return absl::StrCat(*v);
  return std::nullopt;
}

bool SimpleComparisons(Node expr, std::vector<CheckConstraint::Comparison>* out) {
  return EveryConjunct(expr, [out](Node e) { return Comparison(e, out); });
}

bool SimpleConditions(Node expr, std::vector<RowCondition>* out) {
  return EveryConjunct(expr, [out](Node e) { return Condition(e, out); });
}

std::vector<std::string> ColumnRefs(Node expr) {
  std::vector<Node> refs;
  expr.FindAll("ColumnRef", &refs);
  std::vector<std::string> out;
  for (Node r : refs) {
    Node fields = r["fields"];
    if (fields.size() == 1 && !fields.at(0).String().empty()) {
      out.emplace_back(fields.at(0).String());
    }
  }
  return out;
}

void SequenceOptions(Node opts, Sequence* seq) {
  std::optional<int64_t> start;
  for (Node o : opts) {
    Node d = o["DefElem"];
    std::string_view name = d.str("defname");
    Node arg = d["arg"];
    if (name == "as") {
      Column c;
      FillType(arg["TypeName"], &c);
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
      seq->cycle = arg["Boolean"]["boolval"].boolean();
    }
  }
  seq->start = start ? *start
                     : (seq->increment > 0 ? seq->MinValue() : seq->MaxValue());
}

}  // namespace pgmerge::parser::internal
