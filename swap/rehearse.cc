#include "swap/rehearse.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "swap/catchup.h"
#include "swap/live_rounds.h"
#include "swap/pg.h"
#include "swap/server.h"
#include "swap/stream.h"
#include "swap/verify.h"

namespace pgmerge::swap {
namespace {

using internal::Clock;
using internal::Conn;
using internal::Literal;
using internal::Log;
using internal::MillisSince;

// What the rehearsal made: dropped when it ends, however it ends. Declared
// before the sessions it outlives.
class Temporaries {
 public:
  Temporaries(PGconn* admin, const SwapOptions& o) : admin_(admin), o_(o) {}
  ~Temporaries() { DropAll(); }
  void Database(const std::string& name) { databases_.push_back(name); }
  void Slot(const std::string& name) { slot_ = name; }
  std::vector<std::string> Names() const {
    std::vector<std::string> out = databases_;
    if (!slot_.empty()) out.push_back(absl::StrCat("slot ", slot_));
    return out;
  }
  // A database renamed while it was ours.
  void Renamed(const std::string& from, const std::string& to) {
    for (std::string& d : databases_) {
      if (d == from) d = to;
    }
  }
  void DropAll() {
    for (const std::string& d : databases_) {
      absl::Status s = internal::ExecCommand(
          admin_, absl::StrCat("DROP DATABASE IF EXISTS ", internal::Ident(admin_, d),
                               " WITH (FORCE)"));
      if (!s.ok()) Warn(absl::StrCat("database ", d), s);
    }
    databases_.clear();
    if (!slot_.empty()) {
      absl::StatusOr<bool> dropped = internal::DropSlotIfPresent(admin_, slot_);
      if (!dropped.ok()) Warn(absl::StrCat("slot ", slot_), dropped.status());
      slot_.clear();
    }
  }

 private:
  void Warn(const std::string& what, const absl::Status& s) {
    Log(o_.log, absl::StrCat("swap: --rehearse: warning: the rehearsal's ", what,
                             " could not be dropped (", s.message(), "): drop it by hand"));
  }
  PGconn* admin_;
  const SwapOptions& o_;
  std::vector<std::string> databases_;
  std::string slot_;
};

// The shadow's copy, with the shadow's catch-up position carried over to
// the slot's copy (both start where the real pair stands).
absl::Status CopyShadow(PGconn* admin, const SwapOptions& o, const std::string& real_slot,
                        const std::string& copy, const std::string& slot_copy,
                        Temporaries* temps) {
  absl::Status made = internal::ExecCommand(
      admin, absl::StrCat("CREATE DATABASE ", internal::Ident(admin, copy), " TEMPLATE ",
                          internal::Ident(admin, o.shadow)));
  if (!made.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot copy the shadow ", o.shadow, " (nobody may be connected to it): ",
        made.message()));
  }
  temps->Database(copy);
  PGM_ASSIGN_OR_RETURN(Conn c, internal::Connect(o.server, copy));
  PGM_ASSIGN_OR_RETURN(std::string caught_up,
                       internal::QueryValue(c.get(), "SELECT to_regclass('pgmerge.catchup') IS NOT NULL"));
  if (caught_up != "t") return absl::OkStatus();
  return internal::ExecCommand(
      c.get(), absl::StrCat("INSERT INTO pgmerge.catchup SELECT ", Literal(c.get(), slot_copy),
                            ", lsn, transactions, changes FROM pgmerge.catchup WHERE slot = ",
                            Literal(c.get(), real_slot)));
}

// Main goes on writing here through the grace, where the real swap blocks
// writes: rounds go on until the grace ends, so that the last round after
// it holds one round's writes, as the real one holds none, rather than the
// whole grace's (which made the rehearsal over-estimate the dark window by
// 120-620 ms). What they apply is counted as live.
absl::Status RoundsThroughGrace(internal::CatchUpRun* run, PGconn* helper,
                                Clock::time_point grace_end, RehearsalResult* r) {
  while (Clock::now() < grace_end) {
    const Clock::time_point t = Clock::now();
    PGM_ASSIGN_OR_RETURN(CatchUpResult round, run->Round(helper, /*final=*/false));
    r->live_changes += internal::Changes(round);
    r->live_ms += MillisSince(t);
    if (internal::Changes(round) == 0) {
      std::this_thread::sleep_until(std::min(grace_end, t + std::chrono::milliseconds(20)));
    }
  }
  return absl::OkStatus();
}

// The dark window's part after the sessions' wait, on the copies: the
// tail's last round, the bookkeeping dropped, the renames (main's stand-in aside, the
// shadow's copy in its place).
absl::Status DarkPart(PGconn* admin, const SwapOptions& o, internal::CatchUpRun* run,
                      PGconn* helper, Conn* shadow_conn, const std::string& stand_in,
                      const std::string& copy, Temporaries* temps, RehearsalResult* r) {
  Clock::time_point t = Clock::now();
  PGM_ASSIGN_OR_RETURN(CatchUpResult tail, run->Round(helper, /*final=*/true));
  r->tail_changes += internal::Changes(tail);
  r->tail_ms += MillisSince(t);
  PGM_RETURN_IF_ERROR(
      internal::ExecCommand(shadow_conn->get(), "DROP SCHEMA IF EXISTS pgmerge CASCADE"));
  const int pid = PQbackendPID(shadow_conn->get());
  shadow_conn->reset();
  PGM_RETURN_IF_ERROR(
      internal::WaitForExit(admin, {pid}, Clock::now() + std::chrono::seconds(10)).status());
  const std::string aside = internal::FitName(o.main, absl::StrCat("_rehearse_", getpid(), "_old"));
  t = Clock::now();
  PGM_RETURN_IF_ERROR(internal::RenameAndReopen(admin, {{stand_in, aside}, {copy, stand_in}},
                                                {{stand_in, true}}));
  r->rename_ms = MillisSince(t);
  temps->Renamed(stand_in, aside);
  temps->Renamed(copy, stand_in);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RehearsalResult> Rehearse(const SwapOptions& o) {
  if (IsConnInfo(o.main) || IsConnInfo(o.shadow)) {
    return absl::InvalidArgumentError("--rehearse takes database names for --main and --shadow "
                                      "(the server in --server)");
  }
  RehearsalResult r;
  r.main = o.main;
  r.shadow = o.shadow;
  PGM_ASSIGN_OR_RETURN(Conn admin, internal::Connect(o.server, o.maintenance_db));
  for (const std::string* db : {&o.main, &o.shadow}) {
    PGM_ASSIGN_OR_RETURN(internal::DatabaseInfo info, internal::Database(admin.get(), *db));
    if (!info.exists) {
      return absl::FailedPreconditionError(absl::StrCat("database ", *db, " does not exist"));
    }
  }
  PGM_ASSIGN_OR_RETURN(std::vector<internal::Session> on_main,
                       internal::Sessions(admin.get(), o.main));
  r.sessions_on_main = static_cast<int>(on_main.size());
  PGM_ASSIGN_OR_RETURN(Conn helper, internal::Connect(o.server, o.main));
  PGM_ASSIGN_OR_RETURN(r.slot, internal::FindSlot(helper.get(), o.slot));

  const std::string tag = absl::StrCat("_rehearse_", getpid());
  const std::string slot_copy = absl::StrCat("pgmerge", tag);
  // Distinct suffixes: cut to fit, the two names could meet otherwise.
  const std::string copy = internal::FitName(o.shadow, absl::StrCat(tag, "_copy")),
                    stand_in = internal::FitName(o.main, absl::StrCat(tag, "_main"));
  Temporaries temps(admin.get(), o);
  // The slot's copy starts where the real slot stands and holds main's
  // WAL from there like it; the real slot is never read.
  temps.Slot(slot_copy);  // Dropped if there, whatever happens next.
  PGM_RETURN_IF_ERROR(internal::Exec(helper.get(),
                                     absl::StrCat("SELECT pg_copy_logical_replication_slot(",
                                                  Literal(helper.get(), r.slot), ", ",
                                                  Literal(helper.get(), slot_copy), ", false)"))
                          .status());
  PGM_RETURN_IF_ERROR(CopyShadow(admin.get(), o, r.slot, copy, slot_copy, &temps));
  // Main's stand-in only takes the renames' part: their cost does not
  // depend on what a database holds.
  PGM_RETURN_IF_ERROR(internal::ExecCommand(
      admin.get(), absl::StrCat("CREATE DATABASE ", internal::Ident(admin.get(), stand_in),
                                " TEMPLATE template0")));
  temps.Database(stand_in);
  Log(o.log, absl::StrCat("swap: --rehearse: ", copy, " (a copy of ", o.shadow, ") catches up from ",
                          slot_copy, " (a copy of ", r.slot, "); ", stand_in, " stands in for ",
                          o.main, "; all dropped afterwards"));

  absl::Status status = [&]() -> absl::Status {
    PGM_ASSIGN_OR_RETURN(Conn stream, internal::ConnectReplication(o.server, o.main));
    PGM_ASSIGN_OR_RETURN(Conn shadow_conn, internal::Connect(o.server, copy));
    CatchUpOptions co;
    co.report_json = o.report_json;
    co.slot = slot_copy;
    PGM_ASSIGN_OR_RETURN(std::unique_ptr<internal::CatchUpRun> run,
                         internal::CatchUpRun::Start(helper.get(), stream.get(),
                                                     shadow_conn.get(), co));
    internal::LiveRoundLimits limits;
    limits.lag = o.catch_up_lag;
    limits.max_rounds = o.catch_up_rounds;
    limits.timeout_seconds = o.catch_up_timeout_seconds;
    PGM_ASSIGN_OR_RETURN(internal::LiveRounds rounds,
                         internal::RunLiveRounds(run.get(), helper.get(), limits, o.log,
                                                 o.interrupted, o.before_live_round));
    r.rounds = rounds.rounds;
    r.live_changes = rounds.changes;
    r.live_ms = rounds.ms;
    // The real swap now closes main, blocks writes and gives sessions the
    // grace period, applying a round in it.
    const Clock::time_point dark = Clock::now();
    PGM_ASSIGN_OR_RETURN(CatchUpResult in_grace, run->Round(helper.get(), /*final=*/false));
    r.tail_changes = internal::Changes(in_grace);
    r.tail_ms = MillisSince(dark);
    PGM_RETURN_IF_ERROR(RoundsThroughGrace(run.get(), helper.get(),
                                           dark + std::chrono::milliseconds(static_cast<int64_t>(
                                                      o.grace_seconds * 1000)),
                                           &r));
    r.grace_ms = MillisSince(dark);
    PGM_RETURN_IF_ERROR(DarkPart(admin.get(), o, run.get(), helper.get(), &shadow_conn, stand_in,
                                 copy, &temps, &r));
    r.dark_window_ms = MillisSince(dark);
    return absl::OkStatus();
  }();
  r.temporaries = temps.Names();
  temps.DropAll();
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("rehearsal: ", status.message(),
                                                    " (nothing live changed; its copies are "
                                                    "dropped)"));
  }
  return r;
}

}  // namespace pgmerge::swap
