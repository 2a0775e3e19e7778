#include "swap/live_rounds.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "swap/server.h"

namespace pgmerge::swap::internal {

int64_t Changes(const CatchUpResult& r) { return r.inserts + r.updates + r.deletes; }

absl::StatusOr<LiveRounds> RunLiveRounds(CatchUpRun* run, PGconn* main,
                                         const LiveRoundLimits& limits,
                                         const std::function<void(std::string_view)>& log,
                                         const std::function<bool()>& interrupted,
                                         const std::function<void()>& before_round) {
  LiveRounds out;
  const Clock::time_point start = Clock::now();
  int64_t smallest = std::numeric_limits<int64_t>::max();
  int not_smaller = 0;  // Rounds in a row that did not beat `smallest`.
  for (;;) {
    if (before_round) before_round();
    const Clock::time_point round = Clock::now();
    PGM_ASSIGN_OR_RETURN(CatchUpResult r, run->Round(main, /*final=*/false));
    const int64_t changes = Changes(r);
    out.slot = r.slot;
    ++out.rounds;
    out.changes += changes;
    out.per_round.push_back(changes);
    if (log) {
      log(absl::StrCat("swap: catch-up round ", out.rounds, ": ", changes, " change(s) in ",
                       MillisSince(round), " ms, up to ", r.applied_lsn));
    }
    if (changes < limits.lag) break;
    // The first round carries the backlog since the dump; from the second
    // on, a round holds what main wrote during the one before.
    if (out.rounds > 1 && changes >= smallest) {
      ++not_smaller;
    } else {
      not_smaller = 0;
    }
    smallest = std::min(smallest, changes);
    std::string why;
    if (limits.stall_rounds > 0 && not_smaller >= limits.stall_rounds) {
      why = absl::StrCat("the lag is not shrinking: ", not_smaller,
                         " rounds in a row applied no fewer changes than the smallest before "
                         "them (",
                         smallest, "): main writes about as fast as catch-up applies, or faster");
    } else if (out.rounds >= limits.max_rounds) {
      why = absl::StrCat(out.rounds, " rounds ran (the limit)");
    } else if (MillisSince(start) >= static_cast<int64_t>(limits.timeout_seconds * 1000)) {
      why = absl::StrFormat("%.0f s of rounds passed (--catch-up-timeout)",
                            limits.timeout_seconds);
    }
    if (!why.empty()) {
      std::vector<int64_t> last(out.per_round.end() - std::min<size_t>(out.per_round.size(), 8),
                                out.per_round.end());
      return absl::FailedPreconditionError(absl::StrCat(
          "catch-up did not bring the lag under --catch-up-lag ", limits.lag, ": ", why,
          "; changes per round, last ", last.size(), ": ", absl::StrJoin(last, ", "),
          ". Main was not closed: closing now would put the whole lag in the dark window. "
          "Swap again when main writes less, or with a higher --catch-up-lag"));
    }
    if (interrupted && interrupted()) {
      return absl::AbortedError("swap interrupted while catching up; nothing closed");
    }
  }
  out.ms = MillisSince(start);
  return out;
}

}  // namespace pgmerge::swap::internal
