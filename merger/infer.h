// Two-way inference: without the dump both sides forked from, which keys of
// a sequence-keyed table were the fork's rows (x) and which each side made
// since (y, z). Pure: facts about each key in, a verdict per key out.
//
// One number (the largest key whose row is identical on both sides) is
// fooled both ways: rows made alike on both sides push it up, an edit of
// the top-most base row pulls it down. So the fork's edge is a change point
// chosen against all the evidence, and each key is then judged on its own
// evidence too. Where the evidence stays weak the verdict is the one that
// loses nothing (both rows kept, a development row never dropped for a
// production row of other content) and the key is marked ambiguous.
#ifndef PGMERGE_MERGER_INFER_H_
#define PGMERGE_MERGER_INFER_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace pgmerge::merger {

// What the two dumps hold at one key.
enum class KeyState : uint8_t {
  kIdentical,  // Both sides, same content.
  kDiffer,     // Both sides, other content.
  kProdOnly,
  kDevOnly,
};

struct KeyFacts {
  int64_t key = 0;
  // Rows identical on both sides, at or below their own table's change
  // point, that point at this key: the key existed when the sides forked.
  int32_t base_children = 0;
  // Of them, join rows counted in numbers (many links, few others): they
  // prove the key even where rows made alike on both sides point alike.
  int32_t base_links = 0;
  // kDiffer: of the columns compared (at most 16), how many hold equal
  // values on both sides (an edited row keeps most; two rows made apart
  // share little).
  uint8_t columns_equal = 0;
  uint8_t columns_compared = 0;
  KeyState state = KeyState::kIdentical;
  // kDiffer: the two rows hold the same values, but a row this one points
  // at was kept apart (remapped, unified elsewhere): then so is this one.
  bool follows_parent = false;
};
// One a key of both sides: the largest array the merge holds at once.
static_assert(sizeof(KeyFacts) == 16 + 8);

enum class Verdict : uint8_t {
  kSame,         // One row, on both sides.
  kEdited,       // One base row edited on a side: production's kept.
  kBothCreated,  // Two rows: development's gets a fresh key.
  kDevCreated,   // Development's new row; its key is free.
  kProdDeleted,  // A base row production deleted: not brought back.
  kProdRow,      // Production's row; always kept.
};

struct KeyVerdict {
  Verdict verdict = Verdict::kSame;
  // The evidence was weak: this is the choice that loses nothing.
  bool ambiguous = false;
};

struct Inference {
  // Two change points bound the fork's edge. Keys above `change_point` are
  // new on both sides (no edit or deletion explains them better, even
  // counting an edit that kept most of a row as no surprise); keys at or
  // below `sure_point` are the fork's (they stay so when every edit counts
  // as a surprise). Between them lies the band where rows made by copying
  // others and edits of the newest base rows look alike: there a verdict
  // needs proof (identical rows pointing at the key), else it is the one
  // that loses nothing, reported as ambiguous.
  int64_t change_point = std::numeric_limits<int64_t>::min();
  int64_t sure_point = std::numeric_limits<int64_t>::min();
  std::vector<KeyVerdict> verdicts;  // Parallel to the facts.
};

// `facts` sorted by key, one entry per key either side has.
Inference InferKeys(const std::vector<KeyFacts>& facts);
// InferKeys' two change points alone, without the verdicts.
Inference ForkEdges(const std::vector<KeyFacts>& facts);

// Most columns equal: what an edit leaves of a row.
bool MostlyEqual(const KeyFacts& f);

// At most two columns differ: what an edit of a value (and the row's
// last_update) leaves.
bool FewColumnsEdited(const KeyFacts& f);

// Too few columns compared for agreement to tell an edit from a new row
// (a row of one column besides the key): a differing row is then always
// reported as ambiguous, whatever is decided.
bool EditLooksNew(const KeyFacts& f);

// One line for the report: "key 2: differs, 4 of 5 columns equal, 1
// identical row points at it, at or below the change point 10: ...".
// `descending`: the facts' keys are a descending sequence's, flipped (~k)
// to ascend; the line shows them as the dumps hold them.
std::string DescribeEvidence(const KeyFacts& f, const Inference& inference,
                             size_t i, bool descending = false);

}  // namespace pgmerge::merger

#endif  // PGMERGE_MERGER_INFER_H_
