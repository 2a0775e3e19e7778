// What the catalog reads out of a DDL statement's parts: a column's type as
// SQL writes it, integer and constant values, the sequence a default draws
// from, and the CHECK and partial-index conditions pgmerge evaluates itself.
// Pure functions over parse-tree nodes (parser/pg_node.h); the catalog
// builder (catalog_builder.cc) is their one user.
#ifndef PGMERGE_PARSER_DDL_VALUES_H_
#define PGMERGE_PARSER_DDL_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parser/catalog.h"
#include "parser/pg_node.h"

namespace pgmerge::parser::internal {

// Sets col->type ("character varying(160)[]"), col->type_name ("varchar")
// and col->is_array from a TypeName node.
void FillType(Node type_name, Column* col);

// An integer from an Integer, Float or A_Const node, through casts and a
// unary minus.
std::optional<int64_t> IntValue(Node node);

// The sequence named by nextval('seq'::regclass), if `expr` is that call.
std::optional<TableName> NextvalSequence(Node expr);

// COPY text of a constant default ('x'::text, 42, true, NULL), if it is one.
std::optional<std::string> ConstantDefault(Node expr);

// Adds a CHECK expression's comparisons to *out; false when it is not a
// conjunction of column-vs-number comparisons.
bool SimpleComparisons(Node expr, std::vector<CheckConstraint::Comparison>* out);

// Adds a WHERE clause's conditions to *out; false when it is not a
// conjunction of `col IS [NOT] NULL`, a bare boolean column, `col = const`.
bool SimpleConditions(Node expr, std::vector<RowCondition>* out);

// The single-name column references anywhere in `expr`, in tree order.
std::vector<std::string> ColumnRefs(Node expr);

// A sequence's options (a list of DefElem), as CREATE SEQUENCE and identity
// columns give them.
void SequenceOptions(Node options, Sequence* seq);

}  // namespace pgmerge::parser::internal

#endif  // PGMERGE_PARSER_DDL_VALUES_H_
