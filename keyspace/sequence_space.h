// A sequence's arithmetic, apart from any dump: which way it counts, its
// bounds, where it stands, and which values are still free past it. The
// merge uses it for the position a merged sequence takes and for the fresh
// keys colliding rows get. No I/O.
#ifndef PGMERGE_KEYSPACE_SEQUENCE_SPACE_H_
#define PGMERGE_KEYSPACE_SEQUENCE_SPACE_H_

#include <cstdint>
#include <optional>

namespace pgmerge::keyspace {

// What CREATE SEQUENCE fixed, defaults applied.
struct SequenceShape {
  int64_t increment = 1;  // Never 0; negative counts down.
  int64_t min_value = 1;
  int64_t max_value = INT64_MAX;
  bool cycle = false;
  bool descending() const { return increment < 0; }
};

// Where setval left it: with is_called the next value is last_value +
// increment, without it last_value itself.
struct SequencePosition {
  int64_t last_value = 0;
  bool is_called = false;
  friend bool operator==(const SequencePosition& a, const SequencePosition& b) {
    return a.last_value == b.last_value && a.is_called == b.is_called;
  }
};

// The value nextval() returns from `pos`; beyond the bounds (so beyond
// int64 too) when the sequence is used up. Wrapping by CYCLE is not applied:
// the result says how far along the sequence is.
__int128 NextValue(const SequenceShape& shape, const SequencePosition& pos);

// The position a merged sequence takes: the furthest along, in the
// sequence's direction, of production's and development's positions and
// (key, is_called) for `furthest_key`, the furthest key the merged data
// holds in that direction. A key outside the bounds is ignored (nextval can
// never return it). Ties keep production's position, then development's,
// so a dump merged with itself keeps its positions exactly. Nullopt when
// there is nothing to go by.
std::optional<SequencePosition> MergedPosition(
    const SequenceShape& shape, const std::optional<SequencePosition>& prod,
    const std::optional<SequencePosition>& dev,
    const std::optional<int64_t>& furthest_key);

// The furthest value the sequence has handed out from `pos`, in its
// direction (last_value, or the value before it when not called yet); may
// lie one step outside the bounds for an unused sequence.
__int128 LastTaken(const SequenceShape& shape, const SequencePosition& pos);

// Fresh keys: consecutive values one step (+1, or -1 for a descending
// sequence) apart, starting one step past `taken` (the furthest value in
// use, in that direction), all inside [lo, hi] (the column type's range
// intersected with the sequence's bounds).
struct FreshKeyPlan {
  int64_t first = 0;
  int64_t step = 1;
  // Values free past `taken` inside [lo, hi]; the plan holds when
  // room >= the keys needed.
  uint64_t room = 0;
  // The key at `i` (REQUIRES: i < room).
  int64_t At(uint64_t i) const {
    return static_cast<int64_t>(static_cast<__int128>(first) +
                                static_cast<__int128>(step) * i);
  }
};
FreshKeyPlan PlanFreshKeys(__int128 taken, bool descending, int64_t lo,
                           int64_t hi);

}  // namespace pgmerge::keyspace

#endif  // PGMERGE_KEYSPACE_SEQUENCE_SPACE_H_
