// `--review FILE.md`: the merge report as a Markdown page a person reads
// before the swap: the mode and how to make it exact, per-table counts,
// every conflict and every inferred or ambiguous decision with both rows
// side by side, remapped key ranges, lost values and restore risks.
#ifndef PGMERGE_TOOLS_REVIEW_H_
#define PGMERGE_TOOLS_REVIEW_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "merger/report.h"

namespace pgmerge::tools {

// One side's version of a row: its columns and COPY-text values.
struct RowVersion {
  std::vector<std::string> columns;
  std::vector<std::string> values;
};

// The rows the review shows, by table and key text as the report writes it.
struct ReviewRows {
  std::map<std::pair<std::string, std::string>, RowVersion> prod, dev;
};

// Reads the two dumps once each for the rows the report names (conflicts,
// ambiguous decisions, deletions, rows not merged). `prod` and `dev` are the
// whole dumps.
absl::StatusOr<ReviewRows> CollectReviewRows(const merger::Report& report,
                                             std::string_view prod, const std::string& prod_name,
                                             std::string_view dev, const std::string& dev_name);

// The page; deterministic (same report and rows, same bytes).
std::string RenderReview(const merger::Report& report, const ReviewRows& rows);

}  // namespace pgmerge::tools

#endif  // PGMERGE_TOOLS_REVIEW_H_
