// What a post-data build makes, read from its parse tree: an index, or the
// constraints an ALTER TABLE adds. The merge reports the ones the dump left
// unchecked and --into schedules them, from this one reading.
#ifndef PGMERGE_PARSER_POST_DATA_H_
#define PGMERGE_PARSER_POST_DATA_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/names.h"

namespace pgmerge::parser {

struct AddedConstraint {
  enum class Type { kPrimary, kUnique, kExclusion, kCheck, kForeign, kOther };
  Type type = Type::kOther;
  std::string name;  // "" when unnamed.
  bool not_valid = false;
  bool using_index = false;           // Made from an existing index.
  std::optional<TableName> references;  // A foreign key's table.
};

// Table names as written: schema "" where the statement names none.
struct PostDataBuild {
  enum class Kind { kOther, kIndex, kAlterTable };
  Kind kind = Kind::kOther;
  TableName table;
  // ON ONLY / ALTER TABLE ONLY: partitions and children are not reached.
  bool only = false;
  std::string index;  // kIndex: its name.
  bool concurrent = false;
  // kAlterTable: how many commands, and the constraints those that add one add.
  int commands = 0;
  std::vector<AddedConstraint> constraints;
};

// kOther for anything but CREATE [UNIQUE] INDEX and ALTER TABLE ... ADD
// CONSTRAINT, and for what does not parse. Cheap for other statements: they
// are told apart by their first words before any parse.
PostDataBuild DescribePostData(std::string_view sql);

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_POST_DATA_H_
