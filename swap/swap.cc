#include "swap/swap.h"

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "swap/catchup.h"
#include "swap/db_properties.h"
#include "swap/drift.h"
#include "swap/journal.h"
#include "swap/live_rounds.h"
#include "swap/manifest.h"
#include "swap/pg.h"
#include "swap/preconditions.h"
#include "swap/quiesce.h"
#include "swap/server.h"
#include "swap/stream.h"
#include "swap/verify.h"

namespace pgmerge::swap {
namespace {

using internal::Clock;
using internal::Conn;
using internal::Describe;
using internal::Finished;
using internal::Journal;
using internal::Log;
using internal::ManifestTable;
using internal::MillisSince;
using internal::Names;
using internal::Quiesce;
using internal::ReadFile;
using internal::ReadJournal;
using internal::RenameAndReopen;
using internal::ServerIdentity;
using internal::ServerState;
using internal::SetAllowConnections;
using internal::Side;
using internal::StateOf;
using internal::StateText;
using internal::TableDifference;
using internal::UtcNow;
using internal::WaitForExit;
using Json = nlohmann::json;

void AfterStep(const SwapOptions& o, std::string_view step) {
  if (o.after_step) o.after_step(step);
}

absl::Status Refuse(const std::string& why) { return absl::FailedPreconditionError(why); }

std::string OldNameFor(const std::string& main) {
  return internal::FitName(main, UtcNow("_old_%Y%m%d_%H%M%S"));
}

// ---- swap -------------------------------------------------------------------

// --catch-up: what the live rounds leave to the tail.
struct LiveCatchUp {
  bool on = false;
  std::string report_json;
  std::string slot;  // Found by the first round.
  Conn shadow;       // Opened while the shadow is open: it is closed too.
  // On the shadow session and two of main's (a helper and the stream),
  // which the Quiesce holds after closing.
  std::unique_ptr<internal::CatchUpRun> run;
};

using internal::Changes;

// What the steps before closing establish, in order, for those after.
struct SwapState {
  Names names;
  Journal journal;
  bool shadow_allowed = true;  // The shadow's datallowconn, put back on a stop.
  LiveCatchUp live;
  internal::SwapReport report;
  internal::DriftBaseline baseline;
};

// The slot holds main's WAL: a switch never leaves it behind.
void DropSlot(PGconn* admin, const SwapOptions& o, const std::string& slot, SwapResult* r) {
  if (slot.empty()) return;
  absl::StatusOr<bool> dropped = internal::DropSlotIfPresent(admin, slot);
  if (!dropped.ok()) {
    Log(o.log, absl::StrCat("swap: warning: slot ", slot, " could not be dropped (",
                            dropped.status().message(), "): drop it with SELECT "
                            "pg_drop_replication_slot('", slot, "'), it keeps main's WAL"));
    return;
  }
  if (r != nullptr) r->slot_dropped = *dropped;
  if (*dropped) Log(o.log, absl::StrCat("swap: slot ", slot, " dropped"));
}

// ---- steps 2 to 4: main closed ----------------------------------------------

// From step 2 on: what the steps until the renames share, and the way back.
// Every error a step returns has reopened what was closed (Reopen).
struct DarkWindow {
  const SwapOptions& o;
  PGconn* admin;
  SwapState* s;
  Quiesce* q;
  SwapResult* result;
  Clock::time_point start;

  // Reopens main (and the shadow as it was), drops --catch-up's slot,
  // journals "aborted"; returns `why`, or what went wrong reopening.
  absl::Status Reopen(const absl::Status& why);
  absl::Status DriftCheckFailed(const absl::Status& why);
  // Main written since the dump: reopened as it was, the drift reported.
  absl::StatusOr<SwapResult> StoppedByDrift();
  // OK when the swap was not interrupted; else reopened.
  absl::Status ReopenIfInterrupted();
};

absl::Status DarkWindow::Reopen(const absl::Status& why) {
  const Names& names = s->names;
  LiveCatchUp& live = s->live;
  live.run.reset();
  q->Release().IgnoreError();
  absl::Status a = SetAllowConnections(admin, names.main, true);
  absl::Status b = SetAllowConnections(admin, names.shadow, s->shadow_allowed);
  if (live.on) {
    // Stopped once main was closed: the slot goes (see SwapOptions).
    live.shadow.reset();
    DropSlot(admin, o, live.slot, result);
  }
  if (a.ok() && b.ok()) s->journal.Write("aborted").IgnoreError();
  if (!a.ok()) {
    return absl::InternalError(absl::StrCat(
        why.message(), "; and reopening ", names.main, " failed: ", a.message(),
        ". Run `pgmerge rollback --main ", names.main, "` to reopen it"));
  }
  if (live.on && result->slot_dropped && !why.ok()) {
    return absl::Status(why.code(), absl::StrCat(why.message(), "; slot ", live.slot,
                                                 " dropped (the shadow cannot be caught up "
                                                 "further: dump and merge again)"));
  }
  return why;
}

absl::Status DarkWindow::DriftCheckFailed(const absl::Status& why) {
  return Reopen(absl::AbortedError(absl::StrCat("swap stopped: the drift check failed: ",
                                                why.message(), "; ", s->names.main,
                                                " reopened")));
}

absl::StatusOr<SwapResult> DarkWindow::StoppedByDrift() {
  result->outcome = SwapResult::Outcome::kDrift;
  PGM_RETURN_IF_ERROR(Reopen(absl::OkStatus()));
  result->dark_window_ms = MillisSince(start);
  return *result;
}

absl::Status DarkWindow::ReopenIfInterrupted() {
  if (o.interrupted && o.interrupted()) {
    return Reopen(absl::AbortedError(absl::StrCat("swap interrupted; ", s->names.main,
                                                  " reopened")));
  }
  return absl::OkStatus();
}

// Step 2: main and the shadow closed to new connections.
absl::Status CloseMain(DarkWindow* w) {
  absl::Status closed = w->q->Close({w->s->names.shadow});
  if (!closed.ok()) return w->Reopen(closed);
  if (absl::Status j = w->s->journal.Write("closed"); !j.ok()) return w->Reopen(j);
  Log(w->o.log, absl::StrCat("swap: step 2: ", w->s->names.main,
                             " closed to new connections; sessions get ",
                             absl::StrFormat("%.1f", w->o.grace_seconds), " s"));
  AfterStep(w->o, "closed");
  return absl::OkStatus();
}

// Step 2: the grace period, then the sessions left terminated. Returns how
// long --catch-up's round in the grace period took.
absl::StatusOr<int64_t> DrainMain(DarkWindow* w) {
  const SwapOptions& o = w->o;
  const Clock::time_point t = Clock::now();
  // --catch-up: the grace period is spent applying what main committed
  // before its writes were blocked, so what is left for after the sessions
  // are gone is what they committed in between (nothing, with the locks).
  int64_t grace_ms = 0;
  std::function<absl::Status()> during_grace;
  if (w->s->live.on) {
    during_grace = [&]() -> absl::Status {
      const Clock::time_point g = Clock::now();
      absl::StatusOr<CatchUpResult> r = w->s->live.run->Round(w->q->helper(), /*final=*/false);
      if (!r.ok()) {
        return absl::Status(r.status().code(), absl::StrCat("catch-up during the grace period: ",
                                                            r.status().message()));
      }
      w->result->tail_changes = Changes(*r);
      grace_ms = MillisSince(g);
      return absl::OkStatus();
    };
  }
  absl::StatusOr<int> terminated =
      w->q->Drain(o.grace_seconds, o.terminate_timeout_seconds, during_grace);
  if (!terminated.ok()) {
    return w->Reopen(absl::AbortedError(absl::StrCat(
        "swap stopped: ", terminated.status().message(), "; ", w->s->names.main, " reopened")));
  }
  w->result->sessions_terminated = *terminated;
  w->result->background_workers_terminated = w->q->background_terminated();
  w->result->waiting_ms = MillisSince(t);
  return grace_ms;
}

// Step 3, --catch-up: the tail, everything committed before the last
// session went, applied to the shadow; the slot's changes are the drift.
// What a change stream does not carry (large objects, the schema) is
// checked on the session holding the locks while the journal is written
// and the last round runs on the other sessions; that drift goes into the
// result.
absl::StatusOr<CatchUpResult> ApplyTail(DarkWindow* w, int64_t grace_ms) {
  absl::StatusOr<std::vector<std::string>> unstreamed;
  std::thread drift([&]() {
    unstreamed = internal::WiderDrift(w->q->session(), {}, {}, w->s->baseline);
  });
  std::future<absl::Status> journaled =
      std::async(std::launch::async, [&]() { return w->s->journal.Write("sessions_gone"); });
  const Clock::time_point t = Clock::now();
  absl::StatusOr<CatchUpResult> tail = w->s->live.run->Round(w->q->helper(), /*final=*/true);
  w->result->tail_ms = grace_ms + MillisSince(t);
  const absl::Status gone = journaled.get();
  if (gone.ok()) AfterStep(w->o, "sessions_gone");
  drift.join();
  if (!gone.ok()) return w->Reopen(gone);
  if (!tail.ok()) {
    return w->Reopen(absl::AbortedError(absl::StrCat("swap stopped: the last catch-up failed: ",
                                                     tail.status().message(), "; ",
                                                     w->s->names.main, " reopened")));
  }
  w->result->tail_changes += Changes(*tail);
  if (!unstreamed.ok()) return w->DriftCheckFailed(unstreamed.status());
  w->result->drift = *unstreamed;
  return tail;
}

// Step 3, --catch-up, no drift: main's sessions and the shadow's end now;
// the renames wait for their backends (returned; step 4), which exit
// meanwhile. The bookkeeping goes with the slot, dropped while the journal
// is written.
absl::StatusOr<std::vector<int>> EndCatchUp(DarkWindow* w, const CatchUpResult& tail,
                                            int64_t grace_ms) {
  LiveCatchUp& live = w->s->live;
  live.run.reset();
  std::vector<int> closing = w->q->Disconnect();
  std::future<absl::Status> dropped = std::async(std::launch::async, [&]() {
    return internal::ExecCommand(live.shadow.get(), "DROP SCHEMA IF EXISTS pgmerge CASCADE");
  });
  const absl::Status journaled_caught_up = w->s->journal.Write("caught_up");
  const absl::Status cleaned = dropped.get();
  closing.push_back(PQbackendPID(live.shadow.get()));
  live.shadow.reset();
  if (!cleaned.ok()) {
    return w->Reopen(absl::AbortedError(absl::StrCat("swap stopped: ", cleaned.message(), "; ",
                                                     w->s->names.main, " reopened")));
  }
  if (!journaled_caught_up.ok()) return w->Reopen(journaled_caught_up);
  PGM_RETURN_IF_ERROR(w->ReopenIfInterrupted());
  Log(w->o.log, absl::StrCat("swap: step 3: the last ", w->result->tail_changes,
                             " change(s) applied to ", w->s->names.shadow, " (",
                             w->result->tail_ms, " ms, ", grace_ms,
                             " ms of it in the grace period; up to ", tail.applied_lsn, ")"));
  AfterStep(w->o, "caught_up");
  return closing;
}

// Step 3, without a slot: the exact drift check, nobody else connected;
// the drift goes into the result.
absl::Status CheckDriftClosed(DarkWindow* w) {
  const SwapState& s = *w->s;
  SwapResult* result = w->result;
  const Clock::time_point t = Clock::now();
  absl::StatusOr<std::vector<TableDifference>> diff =
      w->q->Check(s.report.prod, /*include_new_tables=*/true, &result->rows_checked,
                  w->o.check_range_blocks);
  if (!diff.ok()) return w->DriftCheckFailed(diff.status());
  // Beyond production's rows: new columns, sequences, large objects, the
  // schema; on the session holding the locks.
  absl::StatusOr<std::vector<std::string>> wider =
      internal::WiderDrift(w->q->session(), s.report.prod, s.report.sequences, s.baseline);
  if (!wider.ok()) return w->DriftCheckFailed(wider.status());
  result->drift = Describe(*diff);
  result->drift.insert(result->drift.end(), wider->begin(), wider->end());
  result->drift_check_ms = MillisSince(t);
  return absl::OkStatus();
}

// Step 4: both renames and the reopening in one transaction, once
// pgmerge's own sessions are gone (`closing`: those --catch-up ended).
absl::Status RenameBoth(DarkWindow* w, const std::vector<int>& closing) {
  const Names& names = w->s->names;
  SwapResult* result = w->result;
  const Clock::time_point exit_start = Clock::now();
  absl::Status released = w->q->Release();
  if (released.ok() && !closing.empty()) {
    absl::StatusOr<bool> gone =
        WaitForExit(w->admin, closing, Clock::now() + std::chrono::seconds(10));
    if (!gone.ok()) {
      released = gone.status();
    } else if (!*gone) {
      released = absl::AbortedError("pgmerge's own sessions on main and the shadow did not end");
    }
  }
  if (!released.ok()) return w->Reopen(released);
  result->exit_wait_ms = MillisSince(exit_start);
  const Clock::time_point t = Clock::now();
  absl::Status renamed = RenameAndReopen(
      w->admin, {{names.main, names.old_name}, {names.shadow, names.main}},
      {{names.main, true}});
  if (!renamed.ok()) {
    return w->Reopen(absl::AbortedError(absl::StrCat("swap stopped: the renames failed: ",
                                                     renamed.message(), "; ", names.main,
                                                     " reopened, unchanged")));
  }
  result->rename_ms = MillisSince(t);
  result->dark_window_ms = MillisSince(w->start);
  AfterStep(w->o, "renamed");
  if (w->s->live.on) DropSlot(w->admin, w->o, w->s->live.slot, result);
  w->s->journal.state["dark_window_ms"] = result->dark_window_ms;
  return w->s->journal.Write("done");
}

// Steps 2 to 4, journaled from "closing" to "done". `main_conn` takes
// main's locks and `extra` helps (see Quiesce); `before` is step 1's result.
absl::StatusOr<SwapResult> RunSwap(const SwapOptions& o, PGconn* admin, Conn main_conn,
                                   std::vector<Conn> extra, SwapState* s,
                                   const SwapResult& before) {
  SwapResult result = before;

  // Step 2: close. From here on, any failure reopens what was closed.
  const Clock::time_point dark_start = Clock::now();
  PGM_RETURN_IF_ERROR(s->journal.Write("closing"));
  Quiesce q(admin, std::move(main_conn), std::move(extra), s->names.main, o.log, o.interrupted);
  DarkWindow w{o, admin, s, &q, &result, dark_start};
  PGM_RETURN_IF_ERROR(CloseMain(&w));
  result.closing_ms = MillisSince(dark_start);
  PGM_ASSIGN_OR_RETURN(const int64_t grace_ms, DrainMain(&w));

  // Step 3: the drift check.
  std::vector<int> closing;  // --catch-up: our sessions' backends, ended before the renames.
  if (s->live.on) {
    Clock::time_point t = Clock::now();
    PGM_ASSIGN_OR_RETURN(const CatchUpResult tail, ApplyTail(&w, grace_ms));
    result.last_round_ms = MillisSince(t);
    if (!result.drift.empty()) return w.StoppedByDrift();
    t = Clock::now();
    PGM_ASSIGN_OR_RETURN(closing, EndCatchUp(&w, tail, grace_ms));
    result.cleanup_ms = MillisSince(t);
  } else {
    if (absl::Status j = s->journal.Write("sessions_gone"); !j.ok()) return w.Reopen(j);
    AfterStep(o, "sessions_gone");
    PGM_RETURN_IF_ERROR(CheckDriftClosed(&w));
    if (!result.drift.empty()) return w.StoppedByDrift();
  }
  PGM_RETURN_IF_ERROR(w.ReopenIfInterrupted());
  if (!s->live.on) {
    if (absl::Status j = s->journal.Write("drift_checked"); !j.ok()) return w.Reopen(j);
    Log(o.log, absl::StrCat("swap: step 3: ", s->names.main, " unchanged since the dump (",
                            result.rows_checked, " rows in ", s->report.prod.size(), " tables, ",
                            result.drift_check_ms, " ms)"));
    AfterStep(o, "drift_checked");
  }

  PGM_RETURN_IF_ERROR(RenameBoth(&w, closing));
  return result;
}

// ---- step 1 and --resume: main open ------------------------------------------

// Main's and the shadow's names, on `admin`'s server: those given in full
// are asked for theirs.
absl::StatusOr<Names> ResolveNames(const SwapOptions& o, PGconn* admin) {
  Names names{o.main, o.shadow, o.old_name};
  if (IsConnInfo(o.main)) {
    PGM_ASSIGN_OR_RETURN(Conn c, internal::Connect(o.main));
    names.main = PQdb(c.get());
  }
  if (IsConnInfo(o.shadow)) {
    // Another server's shadow cannot be renamed into this one's main.
    PGM_ASSIGN_OR_RETURN(Conn c, internal::Connect(o.shadow));
    names.shadow = PQdb(c.get());
    PGM_ASSIGN_OR_RETURN(std::string a, ServerIdentity(admin));
    PGM_ASSIGN_OR_RETURN(std::string b, ServerIdentity(c.get()));
    if (a != b) {
      return Refuse(absl::StrCat("the shadow ", names.shadow, " is on another server than ",
                                 names.main, " (", PQhost(c.get()), ":", PQport(c.get()), " vs ",
                                 PQhost(admin), ":", PQport(admin),
                                 "): a swap renames databases of one server; restore the "
                                 "merge on main's server"));
    }
  }
  if (names.main == names.shadow) return Refuse("main and shadow are the same database");
  return names;
}

// --resume: the swap the journal `previous` records for `main_name` goes
// into `s` (names, the shadow's allowance, --catch-up and its slot, the
// journal's state); refused when there is none left to finish.
absl::Status LoadResumed(const absl::StatusOr<Json>& previous, const std::string& main_name,
                         SwapState* s) {
  const std::string& path = s->journal.path;
  if (absl::IsNotFound(previous.status())) {
    return Refuse(absl::StrCat("--resume: nothing to resume: no swap of ", main_name,
                               " is recorded (", previous.status().message(), ")"));
  }
  if (!previous.ok()) return Refuse(absl::StrCat("--resume: ", previous.status().message()));
  s->names.main = previous->value("main", "");
  s->names.shadow = previous->value("shadow", "");
  s->names.old_name = previous->value("old", "");
  s->shadow_allowed = previous->value("shadow_allowed_connections", true);
  s->live.on = previous->value("catch_up", false);
  s->live.slot = previous->value("slot", "");
  if (s->names.main != main_name) {
    return Refuse(absl::StrCat("--resume: ", path, " is the swap of ", s->names.main,
                               ", not of ", main_name));
  }
  s->journal.state = *previous;
  const std::string step = previous->value("step", "");
  if (Finished(step)) {
    // Done, stopped with main reopened, or rolled back: starting a fresh
    // swap under --resume would surprise; a plain swap does that.
    return Refuse(absl::StrCat("--resume: nothing to resume: the swap of ", s->names.main,
                               " in ", path, " is ",
                               step == "rolled_back" ? "rolled back"
                               : step == "aborted"   ? "stopped, main reopened"
                                                     : "done"));
  }
  return absl::OkStatus();
}

// --resume, as the server has it: renamed (finished here; the result),
// neither before nor after (refused), or not renamed (reopened, to start
// over from the preconditions; the drift check must be redone anyway).
absl::StatusOr<std::optional<SwapResult>> ResumeOnServer(const SwapOptions& o, PGconn* admin,
                                                         const SwapState& s, Journal* journal) {
  const Names& names = s.names;
  PGM_ASSIGN_OR_RETURN(ServerState state, StateOf(admin, names));
  if (state == ServerState::kAfter) {
    // Crashed between the renames' commit and the journal: finish it.
    SwapResult r;
    if (!o.dry_run) {
      PGM_RETURN_IF_ERROR(SetAllowConnections(admin, names.main, true));
      if (s.live.on) DropSlot(admin, o, s.live.slot, &r);
      PGM_RETURN_IF_ERROR(journal->Write("done"));
    }
    Log(o.log, absl::StrCat("swap: --resume: the renames had been committed; ", names.main,
                            " is the merged database and open"));
    r.main = names.main;
    r.shadow = names.shadow;
    r.old_name = names.old_name;
    r.resumed_after_rename = true;
    r.caught_up = s.live.on;
    r.slot = s.live.slot;
    r.outcome = o.dry_run ? SwapResult::Outcome::kDryRun : SwapResult::Outcome::kSwapped;
    return std::optional<SwapResult>(std::move(r));
  }
  if (state == ServerState::kNeither) {
    return Refuse(absl::StrCat("--resume: the server is in no state this swap leaves (",
                               StateText(admin, names), ")"));
  }
  if (!o.dry_run) {
    PGM_RETURN_IF_ERROR(SetAllowConnections(admin, names.main, true));
    PGM_RETURN_IF_ERROR(SetAllowConnections(admin, names.shadow, s.shadow_allowed));
    Log(o.log, absl::StrCat("swap: --resume: the renames had not happened; ", names.main,
                            " reopened, starting over"));
  }
  return std::optional<SwapResult>();
}

// The journal at `s->journal.path`: with --resume, the swap it records
// (LoadResumed, ResumeOnServer; a result when that finished it); without,
// refused when it records a swap not finished.
absl::StatusOr<std::optional<SwapResult>> ReadPreviousSwap(const SwapOptions& o, PGconn* admin,
                                                           const std::string& main_name,
                                                           SwapState* s) {
  absl::StatusOr<Json> previous = ReadJournal(s->journal.path);
  if (o.resume) {
    PGM_RETURN_IF_ERROR(LoadResumed(previous, main_name, s));
    return ResumeOnServer(o, admin, *s, &s->journal);
  }
  if (previous.ok() && !Finished(previous->value("step", ""))) {
    return Refuse(absl::StrCat("an interrupted swap of ", previous->value("main", ""),
                               " is recorded in ", s->journal.path, " (step ",
                               previous->value("step", ""),
                               "): finish it with `pgmerge swap --resume` or undo it with "
                               "`pgmerge rollback`"));
  }
  return std::optional<SwapResult>();
}

// The merge's report (given, or under --resume the one the journal names)
// and both its manifests.
absl::Status ReadReport(const SwapOptions& o, SwapState* s) {
  s->report.json = o.report_json;
  s->report.path = o.report_path;
  if (s->report.json.empty() && o.resume) {
    s->report.path = s->journal.state.value("report", "");
    PGM_ASSIGN_OR_RETURN(s->report.json, ReadFile(s->report.path));
  }
  PGM_ASSIGN_OR_RETURN(s->report.prod, internal::ReadManifest(s->report.json, Side::kProd));
  PGM_ASSIGN_OR_RETURN(s->report.output, internal::ReadManifest(s->report.json, Side::kOutput));
  return absl::OkStatus();
}

// --catch-up, live rounds: each applies what main wrote during the one
// before, until a round is small; the tail then fits in the dark window.
// The sessions stay for the tail (the databases close to new ones): the
// shadow's in `s->live`, main's two in `*extra`. An error closes nothing.
absl::Status RunLiveCatchUp(const SwapOptions& o, SwapState* s, SwapResult* live,
                            std::vector<Conn>* extra) {
  LiveCatchUp& c = s->live;
  const Names& names = s->names;
  const bool main_full = IsConnInfo(o.main);
  c.report_json = s->report.json;
  PGM_ASSIGN_OR_RETURN(c.shadow, internal::ConnectShadow(o, names));
  PGM_ASSIGN_OR_RETURN(Conn helper, internal::ConnectMain(o, names));
  PGM_ASSIGN_OR_RETURN(Conn stream, internal::ConnectReplication(main_full ? o.main : o.server,
                                                                 main_full ? "" : names.main));
  auto before_closing = [&](const absl::Status& why) {
    return absl::Status(why.code(), absl::StrCat("catch-up before closing ", names.main, ": ",
                                                 why.message(), " (nothing closed; the slot is "
                                                 "kept, so a run after the fix continues)"));
  };
  CatchUpOptions co;
  co.report_json = s->report.json;
  co.slot = c.slot;
  const Clock::time_point t = Clock::now();
  absl::StatusOr<std::unique_ptr<internal::CatchUpRun>> run =
      internal::CatchUpRun::Start(helper.get(), stream.get(), c.shadow.get(), co);
  if (!run.ok()) return before_closing(run.status());
  c.run = *std::move(run);
  internal::LiveRoundLimits limits;
  limits.lag = o.catch_up_lag;
  limits.max_rounds = o.catch_up_rounds;
  limits.timeout_seconds = o.catch_up_timeout_seconds;
  absl::StatusOr<internal::LiveRounds> rounds =
      internal::RunLiveRounds(c.run.get(), helper.get(), limits, o.log, o.interrupted,
                             o.before_live_round);
  if (!rounds.ok()) {
    if (absl::IsAborted(rounds.status())) return rounds.status();
    return before_closing(rounds.status());
  }
  c.slot = live->slot = rounds->slot;
  live->catch_up_rounds = rounds->rounds;
  live->live_changes = rounds->changes;
  live->live_ms = MillisSince(t);
  live->caught_up = true;
  extra->clear();
  extra->push_back(std::move(helper));
  extra->push_back(std::move(stream));
  return absl::OkStatus();
}

// Step 1's last: the shadow takes main's own properties (db_properties.h),
// which stay with the database, not the name. A shadow made with another
// encoding or locale is refused: the application would compare and sort
// text otherwise, and that cannot be changed after CREATE DATABASE. So is
// one in another tablespace: moving it is a copy of every file, for the
// operator to choose, not a step of the swap.
absl::Status GiveShadowMainsProperties(const SwapOptions& o, PGconn* admin, const Names& names,
                                       bool check_only) {
  PGM_ASSIGN_OR_RETURN(const internal::DatabaseProperties main,
                       internal::ReadDatabaseProperties(admin, names.main));
  PGM_ASSIGN_OR_RETURN(const internal::DatabaseProperties shadow,
                       internal::ReadDatabaseProperties(admin, names.shadow));
  if (main.locale != shadow.locale) {
    return Refuse(absl::StrCat(
        "the shadow ", names.shadow, " has encoding and locale (", shadow.locale, "), ",
        names.main, " has (", main.locale,
        "): text would compare and sort otherwise after the swap; create the shadow with "
        "main's (CREATE DATABASE ... TEMPLATE template0 ENCODING ... LOCALE ...)"));
  }
  if (main.tablespace != shadow.tablespace) {
    return Refuse(absl::StrCat(
        "the shadow ", names.shadow, " lies in tablespace ", shadow.tablespace, ", ", names.main,
        " in ", main.tablespace, ": after the swap the application's data would move disks; "
        "move the shadow first (ALTER DATABASE ", names.shadow, " SET TABLESPACE ",
        main.tablespace, ")"));
  }
  if (check_only) return absl::OkStatus();
  const std::vector<std::string> sql =
      internal::PropertiesSql(admin, names.shadow, shadow, main);
  if (sql.empty()) return absl::OkStatus();
  Log(o.log, absl::StrCat("swap: step 1: ", names.shadow, " takes ", names.main,
                          "'s owner, privileges, settings and comment (", sql.size(),
                          " statements)", o.dry_run ? ": not with --dry-run" : ""));
  if (o.dry_run) return absl::OkStatus();
  PGM_RETURN_IF_ERROR(internal::ExecCommand(admin, "BEGIN"));
  for (const std::string& statement : sql) {
    if (absl::Status st = internal::ExecCommand(admin, statement); !st.ok()) {
      internal::ExecCommand(admin, "ROLLBACK").IgnoreError();
      return Refuse(absl::StrCat("the shadow cannot take main's properties: ", st.message()));
    }
  }
  return internal::ExecCommand(admin, "COMMIT");
}

// Logical replication bound to main's database, not its name: after the
// renames a slot would stay with the old database, holding WAL while its
// consumer fails, and a subscription would go on applying into the old
// database. pgmerge's own slot (--catch-up) is handled by the swap.
absl::Status CheckReplicationStaysBehind(const SwapOptions& o, PGconn* admin,
                                         const Names& names) {
  const std::string db = internal::Literal(admin, names.main);
  PGM_ASSIGN_OR_RETURN(
      const std::string slots,
      internal::QueryValue(admin, absl::StrCat(
                                      "SELECT coalesce(string_agg(slot_name, ', ' ORDER BY "
                                      "slot_name), '') FROM pg_replication_slots WHERE "
                                      "slot_type = 'logical' AND database = ",
                                      db, " AND slot_name NOT LIKE 'pgmerge\\_%'")));
  PGM_ASSIGN_OR_RETURN(
      const std::string subscriptions,
      internal::QueryValue(admin, absl::StrCat(
                                      "SELECT coalesce(string_agg(s.subname, ', ' ORDER BY "
                                      "s.subname), '') FROM pg_subscription s JOIN pg_database "
                                      "d ON d.oid = s.subdbid WHERE d.datname = ",
                                      db)));
  if (slots.empty() && subscriptions.empty()) return absl::OkStatus();
  std::string what;
  if (!slots.empty()) what = absl::StrCat("logical replication slots ", slots);
  if (!subscriptions.empty()) {
    absl::StrAppend(&what, what.empty() ? "" : " and ", "subscriptions ", subscriptions);
  }
  if (o.leave_replication) {
    Log(o.log, absl::StrCat("swap: warning: ", names.main, "'s ", what,
                            " stay with the old database (--leave-replication): drop them "
                            "there and create them again on the new ", names.main));
    return absl::OkStatus();
  }
  return Refuse(absl::StrCat(
      names.main, " has ", what,
      ": they belong to the database, not its name, so after the swap they would stay with "
      "the old one (a slot holding WAL while its consumer fails, a subscription applying "
      "into the old database); drop them first and create them again on the new main, or "
      "pass --leave-replication"));
}

// The journal's first state, once step 1 holds: what --resume and rollback
// need.
absl::Status StartJournal(const SwapOptions& o, SwapState* s) {
  Json& state = s->journal.state;
  state = Json::object();
  state["format"] = "pgmerge-swap-state";
  state["version"] = 1;
  state["main"] = s->names.main;
  state["shadow"] = s->names.shadow;
  state["old"] = s->names.old_name;
  state["report"] = s->report.path;
  state["shadow_allowed_connections"] = s->shadow_allowed;
  if (s->live.on) {
    state["catch_up"] = true;
    state["slot"] = s->live.slot;
  }
  state["started"] = UtcNow("%Y-%m-%dT%H:%M:%SZ");
  PGM_RETURN_IF_ERROR(s->journal.Write("preconditions_ok"));
  AfterStep(o, "preconditions_ok");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SwapResult> Swap(const SwapOptions& o) {
  // Connections: main's and shadow's may be given in full; the renames run
  // from the maintenance database of main's server.
  PGM_ASSIGN_OR_RETURN(Conn admin, internal::Connect(IsConnInfo(o.main) ? o.main : o.server,
                                                     o.maintenance_db));
  PGM_ASSIGN_OR_RETURN(const Names given, ResolveNames(o, admin.get()));
  SwapState s;
  s.journal.path = o.state_path.empty() ? DefaultStatePath(given.main) : o.state_path;
  s.names = given;
  s.live.on = o.catch_up;
  s.live.slot = o.slot;
  PGM_ASSIGN_OR_RETURN(std::optional<SwapResult> resumed,
                       ReadPreviousSwap(o, admin.get(), given.main, &s));
  if (resumed.has_value()) return *std::move(resumed);
  if (s.names.old_name.empty()) s.names.old_name = OldNameFor(s.names.main);
  PGM_RETURN_IF_ERROR(ReadReport(o, &s));

  // Step 1: preconditions. Nothing changes until all hold.
  PGM_ASSIGN_OR_RETURN(const bool shadow_allows,
                       internal::CheckDatabases(admin.get(), s.names, o.maintenance_db));
  if (!o.resume) s.shadow_allowed = shadow_allows;
  PGM_RETURN_IF_ERROR(GiveShadowMainsProperties(o, admin.get(), s.names, /*check_only=*/true));
  PGM_RETURN_IF_ERROR(CheckReplicationStaysBehind(o, admin.get(), s.names));
  PGM_ASSIGN_OR_RETURN(s.report.sequences, internal::ReadDumpedSequences(s.report.json));
  s.baseline.prod_large_objects = internal::ReadLargeObjects(s.report.json, Side::kProd);
  // The shadow is what the merge wrote.
  PGM_RETURN_IF_ERROR(
      internal::CheckShadow(admin.get(), o, s.names, s.live.on, s.report, &s.baseline));
  // A drift check while main is still open.
  Conn main_conn;
  std::vector<Conn> extra;
  PGM_ASSIGN_OR_RETURN(SwapResult live,
                       internal::CheckMainOpen(o, admin.get(), s.names, s.live.on, s.report,
                                               &s.baseline, &main_conn, &extra));
  if (live.outcome == SwapResult::Outcome::kDrift) return live;
  PGM_RETURN_IF_ERROR(GiveShadowMainsProperties(o, admin.get(), s.names, /*check_only=*/false));
  if (o.dry_run) {
    live.outcome = SwapResult::Outcome::kDryRun;
    return live;
  }
  if (s.live.on) PGM_RETURN_IF_ERROR(RunLiveCatchUp(o, &s, &live, &extra));
  PGM_RETURN_IF_ERROR(StartJournal(o, &s));
  return RunSwap(o, admin.get(), std::move(main_conn), std::move(extra), &s, live);
}

}  // namespace pgmerge::swap
