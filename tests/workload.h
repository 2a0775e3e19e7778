// Adversarial merge workloads: from a base database, production and
// development databases whose changes are the ones that fool a merge
// without a base (issue #12):
// - new rows copied from the side's top-most rows, text tagged by side,
//   references to the side's own newest parents (keys collide);
// - then, on both sides alike, one more row per table that is an exact
//   copy of the top-most base row (fresh key from the sequence, unique
//   values changed the same way), so independent rows coincide ABOVE rows
//   where the sides differ; for join tables an identical new link;
// - a child of the top-most base parent on each side (children of edited
//   rows);
// - edits of the top-most and bottom-most base rows (prod only, dev only,
//   both), deletions of top-most childless base rows (each side its own);
// - development's migration: a column with a default on the first public
//   table, a NOT NULL column without default (needs --fill) on the second.
// Everything is SQL run by the test on real databases; the truth is then
// decided by tests/truth_checker.h from base, prod and dev alone.
#ifndef PGMERGE_TESTS_WORKLOAD_H_
#define PGMERGE_TESTS_WORKLOAD_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {

struct WorkloadOptions {
  bool prod_creates = true;  // Production inserts new rows.
  bool dev_creates = true;   // Development inserts new rows.
  bool edits = true;         // Edits and deletions of top-most base rows.
  bool migration = true;     // Development's added columns.
  int new_rows = 3;          // Differing new rows per table and side.
};

struct Workload {
  std::string base_db, prod_db, dev_db;
  // --fill flags the migration needs (pass as {"--fill", fill[i]}).
  std::vector<std::string> fill;
};

// Creates `prefix`_base from `sql_files` (restored in order, as dumps or
// scripts), then `prefix`_prod and `prefix`_dev as copies with the changes.
absl::StatusOr<Workload> BuildWorkload(TestPostgres* pg, const std::string& prefix,
                                       const std::vector<std::string>& sql_files,
                                       const WorkloadOptions& options);

}  // namespace pgmerge::testing

#endif  // PGMERGE_TESTS_WORKLOAD_H_
