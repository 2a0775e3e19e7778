// Writing one table's merged rows (internal to merger/): production's rows
// with their own keys in development's shape, then development's new rows
// with keys remapped and references rewritten as decide said.
#ifndef PGMERGE_MERGER_TABLE_WRITER_H_
#define PGMERGE_MERGER_TABLE_WRITER_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "base/row_hash.h"
#include "merger/plan.h"

namespace pgmerge::merger::internal {

// Appends table `p`'s COPY blocks to `out`; fills p.report (counts, remaps,
// conflicts, the manifest's row hashes through `hasher`). Production's
// rows may be written before `decided()` returns (ProdRowsAwaitDecisions);
// nothing of p.decided is read before. An error when a development row is
// not accounted for exactly once.
// `await_table(t)` waits for another table's decisions: the parent a
// polymorphic reference names (Plan::polymorphic), as its rows are written.
absl::Status WriteTable(const MergeInputs& m, const Plans& plans, Plan& p,
                        absl::FunctionRef<absl::Status()> decided, AwaitDecided await_table,
                        RowHasher& hasher, OutputBuffer* out);

}  // namespace pgmerge::merger::internal

#endif  // PGMERGE_MERGER_TABLE_WRITER_H_
