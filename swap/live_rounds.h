// The live rounds of `swap --catch-up` (and of its rehearsal), internal to
// swap/: catch-up rounds while main is open, each applying what main wrote
// during the one before, until a round is small enough that the rest fits
// in the dark window, or the lag is seen not to fall, in which case main
// must not be closed at all.
#ifndef PGMERGE_SWAP_LIVE_ROUNDS_H_
#define PGMERGE_SWAP_LIVE_ROUNDS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "swap/catchup.h"

namespace pgmerge::swap::internal {

// When to close main, and when to give up without closing it.
struct LiveRoundLimits {
  int64_t lag = 1000;       // Close once a round applies fewer changes.
  int max_rounds = 20;      // Give up after this many rounds...
  double timeout_seconds = 300;  // ... or this long...
  // ... or when this many rounds in a row applied no fewer changes than
  // the smallest round before them: the lag is not shrinking.
  int stall_rounds = 3;
};

struct LiveRounds {
  std::string slot;
  int rounds = 0;
  int64_t changes = 0, ms = 0;
  std::vector<int64_t> per_round;  // Changes applied by each round.
};

int64_t Changes(const CatchUpResult& r);

// Runs rounds of `run` with `main` (a session on main, not in a
// transaction). FailedPrecondition, main never closed, when a limit was
// reached with the lag not under `limits.lag`: the message says which and
// what the rounds applied. `before_round`, when set, runs before each
// round (a test hook). The shadow keeps what the rounds applied
// (exactly once, as any catch-up) and the slot is untouched by this.
absl::StatusOr<LiveRounds> RunLiveRounds(CatchUpRun* run, PGconn* main,
                                         const LiveRoundLimits& limits,
                                         const std::function<void(std::string_view)>& log,
                                         const std::function<bool()>& interrupted,
                                         const std::function<void()>& before_round = nullptr);

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_LIVE_ROUNDS_H_
