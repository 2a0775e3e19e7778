// Checks a restored shadow database row by row against the production and
// development databases that went into a merge, and the merge's report.
#ifndef PGMERGE_TESTS_MERGE_CHECKER_H_
#define PGMERGE_TESTS_MERGE_CHECKER_H_

#include <string>

#include "absl/status/status.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {

// OK when, in `shadow`:
// - every production row is present with its own key and its values (in
//   the columns both schemas share);
// - every development row is present modulo key remapping, judged by its
//   content and, for each foreign key, the content of the row it points at
//   (so a remapped parent must be followed by its children), unless the
//   report names it as a conflict, a deletion, a unification or a drop;
// - each table holds exactly prod rows + the report's dev_only + remapped;
// - every sequence is past the values of the column it feeds, in its
//   direction, unless production's own sequence was already behind them.
// Otherwise an error that names the first rows that differ.
absl::Status CheckMerge(TestPostgres* pg, const std::string& prod_db,
                        const std::string& dev_db,
                        const std::string& shadow_db,
                        const std::string& report_json);

}  // namespace pgmerge::testing

#endif  // PGMERGE_TESTS_MERGE_CHECKER_H_
