// The merged sequences (internal to merger/): what the merged rows hold per
// sequence, noted table by table, then one setval each, past every key.
#ifndef PGMERGE_MERGER_SEQUENCES_H_
#define PGMERGE_MERGER_SEQUENCES_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "merger/plan.h"

namespace pgmerge::merger::internal {

// Per sequence (by display name), what the merged rows hold, in the
// sequence's direction.
struct SequenceMarks {
  // The furthest value of any row: reported.
  absl::flat_hash_map<std::string, int64_t> furthest;
  // The furthest key of the rows the merge adds to production's
  // (development's new rows, fresh keys), which the merged sequence must
  // pass. Keys a side already held past its own sequence stay as that side
  // had them, so a dump merged with itself keeps its positions.
  absl::flat_hash_map<std::string, int64_t> added;
};

// Folds table `p`'s decided key range and furthest values into `marks`.
void NoteSequenceMax(const Plan& p, SequenceMarks& marks);

// One setval per sequence of development's schema: the furthest along of
// the sides' positions and of the keys the merge added; reported.
void EmitSequences(const MergeInputs& m, const SequenceMarks& marks, OutputBuffer* out,
                   Report& report);

}  // namespace pgmerge::merger::internal

#endif  // PGMERGE_MERGER_SEQUENCES_H_
