#include "merger/infer.h"

#include <cstddef>

#include "absl/strings/str_cat.h"

namespace pgmerge::merger {
namespace {

// What it costs, in surprises, to take a key for a fork row (at or below
// the change point) or for a new one (above it). Every surprise is a thing
// users do (edit, delete, make two rows alike), so the weights are equal;
// an edit that kept most of a row is no surprise at all.
int CostAsBase(const KeyFacts& f) {
  switch (f.state) {
    case KeyState::kIdentical: return 0;
    case KeyState::kDiffer:
      return f.base_children > 0 || MostlyEqual(f) ? 0 : 2;
    case KeyState::kProdOnly:  // Development deleted a base row.
    case KeyState::kDevOnly:   // Production deleted a base row.
      return 2;
  }
  return 0;
}

int CostAsNew(const KeyFacts& f) {
  switch (f.state) {
    case KeyState::kIdentical: return 2;  // Two rows made alike.
    case KeyState::kDiffer:
      if (f.base_children > 0) return 2;
      return MostlyEqual(f) ? 1 : 0;
    case KeyState::kProdOnly:
    case KeyState::kDevOnly:
      return 0;
  }
  return 0;
}

// The change point with the fewest surprises; of equal ones the lowest,
// since fewer keys then count as base rows and fewer development rows can
// be taken for edits or deletions.
int64_t ChangePoint(const std::vector<KeyFacts>& facts) {
  if (facts.empty()) return std::numeric_limits<int64_t>::min();
  long as_new = 0;
  for (const KeyFacts& f : facts) as_new += CostAsNew(f);
  long best = as_new;  // Every key new: the point below the lowest key.
  int64_t point = facts.front().key == std::numeric_limits<int64_t>::min()
                      ? facts.front().key
                      : facts.front().key - 1;
  long as_base = 0;
  for (const KeyFacts& f : facts) {
    as_base += CostAsBase(f);
    as_new -= CostAsNew(f);
    if (as_base + as_new < best) {
      best = as_base + as_new;
      point = f.key;
    }
  }
  return point;
}

}  // namespace

bool MostlyEqual(const KeyFacts& f) {
  return f.columns_compared > 0 && 2 * f.columns_equal >= f.columns_compared;
}

bool EditLooksNew(const KeyFacts& f) {
  // One column compared: an edit of it leaves nothing equal, so column
  // agreement cannot tell an edited base row from two rows made apart.
  return f.state == KeyState::kDiffer && f.columns_compared == 1;
}

Inference InferKeys(const std::vector<KeyFacts>& facts) {
  Inference out;
  out.change_point = ChangePoint(facts);
  out.verdicts.resize(facts.size());
  const int64_t point = out.change_point;
  // Scanning down: is there an identical row above this key, still at or
  // below the change point (the key lies inside the fork's rows), and does
  // production hold any key above it (its sequence went past this one)?
  bool identical_above = false;
  bool prod_above = false;
  for (size_t i = facts.size(); i-- > 0;) {
    const KeyFacts& f = facts[i];
    KeyVerdict& v = out.verdicts[i];
    const bool base_side = f.key <= point;
    const bool inside = base_side && identical_above;
    switch (f.state) {
      case KeyState::kIdentical:
        v.verdict = Verdict::kSame;
        v.ambiguous = !base_side;
        break;
      case KeyState::kDiffer: {
        const bool mostly = MostlyEqual(f);
        const bool proven = f.base_children > 0;
        if (mostly && (proven || inside)) {
          v.verdict = Verdict::kEdited;
        } else {
          v.verdict = Verdict::kBothCreated;
          v.ambiguous = mostly || proven || base_side || EditLooksNew(f);
        }
        break;
      }
      case KeyState::kDevOnly:
        if (inside) {
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
    if (f.state == KeyState::kIdentical && base_side) identical_above = true;
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
      absl::StrAppend(&s, "differs, ", f.columns_equal, " of ",
                      f.columns_compared, " columns equal");
      break;
    case KeyState::kProdOnly: absl::StrAppend(&s, "only in production"); break;
    case KeyState::kDevOnly: absl::StrAppend(&s, "only in development"); break;
  }
  if (f.base_children > 0) {
    absl::StrAppend(&s, ", ", f.base_children, " identical row",
                    f.base_children == 1 ? " points" : "s point", " at it");
  }
  const bool fork_side = f.key <= inference.change_point;
  absl::StrAppend(&s,
                  fork_side ? (descending ? ", at or above" : ", at or below")
                            : (descending ? ", below" : ", above"),
                  " the change point ", shown(inference.change_point), ": ");
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
