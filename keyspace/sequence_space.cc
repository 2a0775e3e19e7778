#include "keyspace/sequence_space.h"

namespace pgmerge::keyspace {

__int128 NextValue(const SequenceShape& shape, const SequencePosition& pos) {
  __int128 v = pos.last_value;
  return pos.is_called ? v + shape.increment : v;
}

__int128 LastTaken(const SequenceShape& shape, const SequencePosition& pos) {
  return NextValue(shape, pos) - shape.increment;
}

std::optional<SequencePosition> MergedPosition(
    const SequenceShape& shape, const std::optional<SequencePosition>& prod,
    const std::optional<SequencePosition>& dev,
    const std::optional<int64_t>& furthest_key) {
  // Compared on the next value, signed by the direction: larger is further.
  const __int128 sign = shape.descending() ? -1 : 1;
  std::optional<SequencePosition> best;
  __int128 best_next = 0;
  auto consider = [&](const SequencePosition& p) {
    __int128 next = NextValue(shape, p) * sign;
    if (!best || next > best_next) {
      best = p;
      best_next = next;
    }
  };
  if (prod) consider(*prod);
  if (dev) consider(*dev);
  if (furthest_key && *furthest_key >= shape.min_value &&
      *furthest_key <= shape.max_value) {
    consider(SequencePosition{*furthest_key, true});
  }
  return best;
}

FreshKeyPlan PlanFreshKeys(__int128 taken, bool descending, int64_t lo,
                           int64_t hi) {
  FreshKeyPlan plan;
  plan.step = descending ? -1 : 1;
  if (lo > hi) return plan;
  __int128 first = taken + plan.step;
  // Values before the range in the direction of travel are not taken by
  // anything inside it: start at its near end.
  if (!descending && first < lo) first = lo;
  if (descending && first > hi) first = hi;
  __int128 room = descending ? first - lo + 1 : hi - first + 1;
  if (room <= 0) return plan;
  plan.first = static_cast<int64_t>(first);
  const __int128 most = static_cast<__int128>(UINT64_MAX);
  plan.room = static_cast<uint64_t>(room > most ? most : room);
  return plan;
}

}  // namespace pgmerge::keyspace
