#include "merger/infer.h"

#include <algorithm>
#include <array>
#include <cstddef>

#include "absl/strings/str_cat.h"

namespace pgmerge::merger {
namespace {

// What it costs, in surprises, to take a key for a fork row (at or below
// the change point) or for a new one (above it). Every surprise is a thing
// users do (edit, delete, make two rows alike), so the weights are equal.
// `edit_cost`: what an edit that kept most of a row costs. For the
// generous point nothing (the fork's edge as high as edits can explain);
// for the sure one as much as any other surprise (as low as the identical
// rows prove: a new row copied from another and marked in one column must
// not pass for an edit because one identical row lies above it). The sure
// point also leaves out identical rows pointing at a key: new rows made on
// both sides at the same keys point at each other's keys alike.
int CostAsBase(const KeyFacts& f, int edit_cost) {
  switch (f.state) {
    case KeyState::kIdentical: return 0;
    case KeyState::kDiffer:
      if (f.base_children > 0 && edit_cost == 0) return 0;
      return MostlyEqual(f) ? edit_cost : 2;
    case KeyState::kProdOnly:  // Development deleted a base row.
    case KeyState::kDevOnly:   // Production deleted a base row.
      return 2;
  }
  return 0;
}

int CostAsNew(const KeyFacts& f, int edit_cost) {
  switch (f.state) {
    case KeyState::kIdentical: return 2;  // Two rows made alike.
    case KeyState::kDiffer:
      if (f.base_children > 0 && edit_cost == 0) return 2;
      return MostlyEqual(f) && edit_cost == 0 ? 1 : 0;
    case KeyState::kProdOnly:
    case KeyState::kDevOnly:
      return 0;
  }
  return 0;
}

// The change points with the fewest surprises for each edit cost; of equal
// ones the lowest, since fewer keys then count as base rows and fewer
// development rows can be taken for edits or deletions. Both costs in one
// walk: the facts are the largest array the merge holds.
std::array<int64_t, 2> ChangePoints(const std::vector<KeyFacts>& facts,
                                    std::array<int, 2> edit_cost) {
  if (facts.empty()) {
    return {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min()};
  }
  // A point's cost is its keys below taken as base and those above as
  // new. Against every key new (the point below the lowest), passing a key
  // changes it by CostAsBase - CostAsNew: the best point is where that
  // running change first reaches its lowest, below zero.
  std::array<long, 2> change{0, 0}, best{0, 0};
  const int64_t below = facts.front().key == std::numeric_limits<int64_t>::min()
                            ? facts.front().key
                            : facts.front().key - 1;
  std::array<int64_t, 2> point{below, below};
  for (const KeyFacts& f : facts) {
    for (int c = 0; c < 2; ++c) {
      change[c] += CostAsBase(f, edit_cost[c]) - CostAsNew(f, edit_cost[c]);
      if (change[c] < best[c]) {
        best[c] = change[c];
        point[c] = f.key;
      }
    }
  }
  return point;
}

}  // namespace

bool MostlyEqual(const KeyFacts& f) {
  return f.columns_compared > 0 && 2 * f.columns_equal >= f.columns_compared;
}

bool FewColumnsEdited(const KeyFacts& f) {
  return f.state == KeyState::kDiffer && f.columns_compared > 0 &&
         f.columns_compared - f.columns_equal <= 2;
}

bool EditLooksNew(const KeyFacts& f) {
  // One column compared: an edit of it leaves nothing equal, so column
  // agreement cannot tell an edited base row from two rows made apart.
  return f.state == KeyState::kDiffer && f.columns_compared == 1;
}

Inference ForkEdges(const std::vector<KeyFacts>& facts) {
  Inference out;
  const std::array<int64_t, 2> points = ChangePoints(facts, {0, 2});
  out.change_point = points[0];
  out.sure_point = std::min(out.change_point, points[1]);
  return out;
}

Inference InferKeys(const std::vector<KeyFacts>& facts) {
  Inference out = ForkEdges(facts);
  out.verdicts.resize(facts.size());
  // Scanning down: does production hold any key above this one (its
  // sequence went past it)?
  bool prod_above = false;
  for (size_t i = facts.size(); i-- > 0;) {
    const KeyFacts& f = facts[i];
    KeyVerdict& v = out.verdicts[i];
    const bool base_side = f.key <= out.change_point;
    const bool sure = f.key <= out.sure_point;
    switch (f.state) {
      case KeyState::kIdentical:
        v.verdict = Verdict::kSame;
        v.ambiguous = !sure;
        break;
      case KeyState::kDiffer: {
        const bool mostly = MostlyEqual(f);
        const bool proven = f.base_children > 0;
        if (f.follows_parent) {
          // Its parent row was kept apart: this row belongs to it.
          v.verdict = Verdict::kBothCreated;
          v.ambiguous = true;
        } else if (sure && (mostly || proven)) {
          // A base row edited: among the fork's rows, kept mostly, or
          // with identical rows pointing at it (an edit may change every
          // column: a value and the row's last_update).
          v.verdict = Verdict::kEdited;
        } else if ((proven && FewColumnsEdited(f)) || (f.base_links > 0 && mostly)) {
          // Above the sure edge new rows made alike on both sides point at
          // each other's keys alike, so one identical row pointing at the
          // key proves it only for what an edit looks like (a value or two
          // changed; new rows copied and marked differ in every text).
          v.verdict = Verdict::kEdited;
        } else {
          v.verdict = Verdict::kBothCreated;
          v.ambiguous = mostly || proven || base_side || EditLooksNew(f);
        }
        break;
      }
      case KeyState::kDevOnly:
        if (sure) {
          v.verdict = Verdict::kProdDeleted;
        } else {
          v.verdict = Verdict::kDevCreated;
          // Production's sequence passed this key, yet production has no
          // row here: it deleted one, its own or the fork's.
          v.ambiguous = base_side || prod_above;
        }
        break;
      case KeyState::kProdOnly:
        v.verdict = Verdict::kProdRow;
        break;
    }
    if (f.state != KeyState::kDevOnly) prod_above = true;
  }
  return out;
}

std::string DescribeEvidence(const KeyFacts& f, const Inference& inference,
                             size_t i, bool descending) {
  auto shown = [&](int64_t k) { return descending ? ~k : k; };
  std::string s = absl::StrCat("key ", shown(f.key), ": ");
  switch (f.state) {
    case KeyState::kIdentical: absl::StrAppend(&s, "identical on both sides"); break;
    case KeyState::kDiffer:
      if (f.follows_parent) {
        absl::StrAppend(&s, "same values on both sides, but a row it points at was kept apart");
      } else {
        absl::StrAppend(&s, "differs, ", int{f.columns_equal}, " of ",
                        int{f.columns_compared}, " columns equal");
      }
      break;
    case KeyState::kProdOnly: absl::StrAppend(&s, "only in production"); break;
    case KeyState::kDevOnly: absl::StrAppend(&s, "only in development"); break;
  }
  if (f.base_children > 0) {
    absl::StrAppend(&s, ", ", f.base_children, " identical row",
                    f.base_children == 1 ? " points" : "s point", " at it");
  }
  // Where the key lies against the two change points, in the dumps' terms.
  const char* below = descending ? "at or above" : "at or below";
  const char* above = descending ? "below" : "above";
  if (f.key <= inference.sure_point) {
    absl::StrAppend(&s, ", ", below, " the fork's sure edge ", shown(inference.sure_point));
  } else if (f.key <= inference.change_point) {
    if (inference.sure_point == std::numeric_limits<int64_t>::min()) {
      absl::StrAppend(&s, ", ", below, " the change point ", shown(inference.change_point),
                      " with no run of identical rows to confirm the fork's edge");
    } else {
      absl::StrAppend(&s, ", between the fork's sure edge ", shown(inference.sure_point),
                      " and the change point ", shown(inference.change_point),
                      " (edits and copies look alike there)");
    }
  } else {
    absl::StrAppend(&s, ", ", above, " the change point ", shown(inference.change_point));
  }
  absl::StrAppend(&s, ": ");
  const KeyVerdict& v = inference.verdicts[i];
  switch (v.verdict) {
    case Verdict::kSame:
      absl::StrAppend(&s, v.ambiguous ? "may be two rows made alike; written once"
                                      : "one row");
      break;
    case Verdict::kEdited:
      absl::StrAppend(&s, "taken for one row edited; production's version kept");
      break;
    case Verdict::kBothCreated:
      absl::StrAppend(&s, v.ambiguous
                              ? "may be one row edited; both kept, development's "
                                "under a fresh key"
                              : "two rows; development's under a fresh key");
      break;
    case Verdict::kDevCreated:
      absl::StrAppend(&s, v.ambiguous
                              ? "may be a row production deleted; kept"
                              : "development's new row");
      break;
    case Verdict::kProdDeleted:
      absl::StrAppend(&s, "taken for a row production deleted; not brought back");
      break;
    case Verdict::kProdRow: absl::StrAppend(&s, "production's row"); break;
  }
  return s;
}

}  // namespace pgmerge::merger
