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
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "swap/catchup.h"
#include "swap/drift.h"
#include "swap/journal.h"
#include "swap/live_rounds.h"
#include "swap/manifest.h"
#include "swap/pg.h"
#include "swap/quiesce.h"
#include "swap/server.h"
#include "swap/stream.h"
#include "swap/verify.h"

namespace pgmerge::swap {
namespace {

using internal::Clock;
using internal::Conn;
using internal::Database;
using internal::DatabaseInfo;
using internal::Describe;
using internal::Exec;
using internal::Finished;
using internal::Journal;
using internal::Literal;
using internal::Log;
using internal::ManifestTable;
using internal::MillisSince;
using internal::Names;
using internal::QueryValue;
using internal::Quiesce;
using internal::ReadFile;
using internal::ReadJournal;
using internal::RenameAndReopen;
using internal::Result;
using internal::ServerIdentity;
using internal::ServerState;
using internal::Session;
using internal::Sessions;
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

absl::StatusOr<SwapResult> RunSwap(const SwapOptions& o, PGconn* admin, Conn main_conn,
                                   std::vector<Conn> extra, const Names& names, Journal* journal,
                                   const std::vector<ManifestTable>& prod,
                                   const std::vector<internal::DumpedSequence>& sequences,
                                   const internal::DriftBaseline& baseline,
                                   bool shadow_allowed, LiveCatchUp* live,
                                   const SwapResult& before) {
  SwapResult result = before;

  // Step 2: close. From here on, any failure reopens what was closed.
  const Clock::time_point dark_start = Clock::now();
  PGM_RETURN_IF_ERROR(journal->Write("closing"));
  Quiesce q(admin, std::move(main_conn), std::move(extra), names.main, o.log, o.interrupted);
  std::vector<int> closing;  // --catch-up: our sessions' backends, ended before the renames.
  auto reopen = [&](const absl::Status& why) -> absl::Status {
    live->run.reset();
    q.Release().IgnoreError();
    absl::Status a = SetAllowConnections(admin, names.main, true);
    absl::Status b = SetAllowConnections(admin, names.shadow, shadow_allowed);
    if (live->on) {
      // Stopped once main was closed: the slot goes (see SwapOptions).
      live->shadow.reset();
      DropSlot(admin, o, live->slot, &result);
    }
    if (a.ok() && b.ok()) journal->Write("aborted").IgnoreError();
    if (!a.ok()) {
      return absl::InternalError(absl::StrCat(
          why.message(), "; and reopening ", names.main, " failed: ", a.message(),
          ". Run `pgmerge rollback --main ", names.main, "` to reopen it"));
    }
    if (live->on && result.slot_dropped && !why.ok()) {
      return absl::Status(why.code(), absl::StrCat(why.message(), "; slot ", live->slot,
                                                   " dropped (the shadow cannot be caught up "
                                                   "further: dump and merge again)"));
    }
    return why;
  };
  auto drift_check_failed = [&](const absl::Status& why) -> absl::Status {
    return reopen(absl::AbortedError(absl::StrCat("swap stopped: the drift check failed: ",
                                                  why.message(), "; ", names.main, " reopened")));
  };
  // Main written since the dump: reopened as it was, the drift reported.
  auto stopped_by_drift = [&]() -> absl::StatusOr<SwapResult> {
    result.outcome = SwapResult::Outcome::kDrift;
    PGM_RETURN_IF_ERROR(reopen(absl::OkStatus()));
    result.dark_window_ms = MillisSince(dark_start);
    return result;
  };
  absl::Status closed = q.Close({names.shadow});
  if (!closed.ok()) return reopen(closed);
  if (absl::Status w = journal->Write("closed"); !w.ok()) return reopen(w);
  Log(o.log, absl::StrCat("swap: step 2: ", names.main,
                          " closed to new connections; sessions get ",
                          absl::StrFormat("%.1f", o.grace_seconds), " s"));
  AfterStep(o, "closed");

  Clock::time_point t = Clock::now();
  // --catch-up: the grace period is spent applying what main committed
  // before its writes were blocked, so what is left for after the sessions
  // are gone is what they committed in between (nothing, with the locks).
  int64_t grace_ms = 0;
  std::function<absl::Status()> during_grace;
  if (live->on) {
    during_grace = [&]() -> absl::Status {
      const Clock::time_point g = Clock::now();
      absl::StatusOr<CatchUpResult> r = live->run->Round(q.helper(), /*final=*/false);
      if (!r.ok()) {
        return absl::Status(r.status().code(), absl::StrCat("catch-up during the grace period: ",
                                                            r.status().message()));
      }
      result.tail_changes = Changes(*r);
      grace_ms = MillisSince(g);
      return absl::OkStatus();
    };
  }
  absl::StatusOr<int> terminated =
      q.Drain(o.grace_seconds, o.terminate_timeout_seconds, during_grace);
  if (!terminated.ok()) {
    return reopen(absl::AbortedError(absl::StrCat(
        "swap stopped: ", terminated.status().message(), "; ", names.main, " reopened")));
  }
  result.sessions_terminated = *terminated;
  result.background_workers_terminated = q.background_terminated();
  result.waiting_ms = MillisSince(t);
  // --catch-up: what a change stream does not carry (large objects, the
  // schema) is checked on the session holding the locks while the journal
  // is written and the last round runs on the other sessions.
  absl::StatusOr<std::vector<std::string>> unstreamed;
  std::thread drift;
  if (live->on) {
    drift = std::thread(
        [&]() { unstreamed = internal::WiderDrift(q.session(), {}, {}, baseline); });
  }
  // (With --catch-up the journal is written beside the last round too.)
  std::future<absl::Status> journaled =
      std::async(live->on ? std::launch::async : std::launch::deferred,
                 [&]() { return journal->Write("sessions_gone"); });
  auto sessions_gone = [&]() -> absl::Status {
    PGM_RETURN_IF_ERROR(journaled.get());
    AfterStep(o, "sessions_gone");
    return absl::OkStatus();
  };
  if (!live->on) {
    if (absl::Status w = sessions_gone(); !w.ok()) return reopen(w);
  }

  // Step 3, --catch-up: the tail, everything committed before the last
  // session went, applied to the shadow; the slot's changes are the drift.
  if (live->on) {
    t = Clock::now();
    absl::StatusOr<CatchUpResult> tail = live->run->Round(q.helper(), /*final=*/true);
    result.tail_ms = grace_ms + MillisSince(t);
    const absl::Status gone = sessions_gone();
    drift.join();
    if (!gone.ok()) return reopen(gone);
    if (!tail.ok()) {
      return reopen(absl::AbortedError(absl::StrCat("swap stopped: the last catch-up failed: ",
                                                    tail.status().message(), "; ", names.main,
                                                    " reopened")));
    }
    result.tail_changes += Changes(*tail);
    if (!unstreamed.ok()) return drift_check_failed(unstreamed.status());
    result.drift = *unstreamed;
    if (!result.drift.empty()) return stopped_by_drift();
    // Main's sessions and the shadow's end now; the renames wait for their
    // backends (step 4), which exit meanwhile. The bookkeeping goes with
    // the slot, dropped while the journal is written.
    live->run.reset();
    closing = q.Disconnect();
    std::future<absl::Status> dropped = std::async(std::launch::async, [&]() {
      return internal::ExecCommand(live->shadow.get(), "DROP SCHEMA IF EXISTS pgmerge CASCADE");
    });
    const absl::Status journaled_caught_up = journal->Write("caught_up");
    const absl::Status cleaned = dropped.get();
    closing.push_back(PQbackendPID(live->shadow.get()));
    live->shadow.reset();
    if (!cleaned.ok()) {
      return reopen(absl::AbortedError(absl::StrCat("swap stopped: ", cleaned.message(), "; ",
                                                    names.main, " reopened")));
    }
    if (!journaled_caught_up.ok()) return reopen(journaled_caught_up);
    if (o.interrupted && o.interrupted()) {
      return reopen(absl::AbortedError(absl::StrCat("swap interrupted; ", names.main, " reopened")));
    }
    Log(o.log, absl::StrCat("swap: step 3: the last ", result.tail_changes,
                            " change(s) applied to ", names.shadow, " (", result.tail_ms,
                            " ms, ", grace_ms, " ms of it in the grace period; up to ",
                            tail->applied_lsn, ")"));
    AfterStep(o, "caught_up");
  }

  // Step 3, without a slot: the exact drift check, nobody else connected.
  // (With one, the tail above was the drift.)
  if (!live->on) {
    t = Clock::now();
    absl::StatusOr<std::vector<TableDifference>> diff =
        q.Check(prod, /*include_new_tables=*/true, &result.rows_checked,
                o.check_range_blocks);
    if (!diff.ok()) return drift_check_failed(diff.status());
    // Beyond production's rows: new columns, sequences, large objects, the
    // schema; on the session holding the locks.
    absl::StatusOr<std::vector<std::string>> wider =
        internal::WiderDrift(q.session(), prod, sequences, baseline);
    if (!wider.ok()) return drift_check_failed(wider.status());
    result.drift = Describe(*diff);
    result.drift.insert(result.drift.end(), wider->begin(), wider->end());
    result.drift_check_ms = MillisSince(t);
    if (!result.drift.empty()) return stopped_by_drift();
  }
  if (o.interrupted && o.interrupted()) {
    return reopen(absl::AbortedError(absl::StrCat("swap interrupted; ", names.main, " reopened")));
  }
  if (!live->on) {
    if (absl::Status w = journal->Write("drift_checked"); !w.ok()) return reopen(w);
    Log(o.log, absl::StrCat("swap: step 3: ", names.main, " unchanged since the dump (",
                            result.rows_checked, " rows in ", prod.size(), " tables, ",
                            result.drift_check_ms, " ms)"));
    AfterStep(o, "drift_checked");
  }

  // Step 4: both renames and the reopening in one transaction.
  absl::Status released = q.Release();
  if (released.ok() && !closing.empty()) {
    absl::StatusOr<bool> gone =
        WaitForExit(admin, closing, Clock::now() + std::chrono::seconds(10));
    if (!gone.ok()) {
      released = gone.status();
    } else if (!*gone) {
      released = absl::AbortedError("pgmerge's own sessions on main and the shadow did not end");
    }
  }
  if (!released.ok()) return reopen(released);
  t = Clock::now();
  absl::Status renamed = RenameAndReopen(
      admin, {{names.main, names.old_name}, {names.shadow, names.main}},
      {{names.main, true}});
  if (!renamed.ok()) {
    return reopen(absl::AbortedError(absl::StrCat("swap stopped: the renames failed: ",
                                                  renamed.message(), "; ", names.main,
                                                  " reopened, unchanged")));
  }
  result.rename_ms = MillisSince(t);
  result.dark_window_ms = MillisSince(dark_start);
  AfterStep(o, "renamed");
  if (live->on) DropSlot(admin, o, live->slot, &result);
  journal->state["dark_window_ms"] = result.dark_window_ms;
  PGM_RETURN_IF_ERROR(journal->Write("done"));
  return result;
}

}  // namespace

absl::StatusOr<SwapResult> Swap(const SwapOptions& o) {
  auto refuse = [](const std::string& why) { return absl::FailedPreconditionError(why); };

  // Connections: main's and shadow's may be given in full; the renames run
  // from the maintenance database of main's server.
  const bool main_full = IsConnInfo(o.main);
  const bool shadow_full = IsConnInfo(o.shadow);
  PGM_ASSIGN_OR_RETURN(Conn admin,
                       internal::Connect(main_full ? o.main : o.server, o.maintenance_db));
  std::string main_name = o.main, shadow_name = o.shadow;
  if (main_full) {
    PGM_ASSIGN_OR_RETURN(Conn c, internal::Connect(o.main));
    main_name = PQdb(c.get());
  }
  if (shadow_full) {
    // Another server's shadow cannot be renamed into this one's main.
    PGM_ASSIGN_OR_RETURN(Conn c, internal::Connect(o.shadow));
    shadow_name = PQdb(c.get());
    PGM_ASSIGN_OR_RETURN(std::string a, ServerIdentity(admin.get()));
    PGM_ASSIGN_OR_RETURN(std::string b, ServerIdentity(c.get()));
    if (a != b) {
      return refuse(absl::StrCat("the shadow ", shadow_name, " is on another server than ",
                                 main_name, " (", PQhost(c.get()), ":", PQport(c.get()), " vs ",
                                 PQhost(admin.get()), ":", PQport(admin.get()),
                                 "): a swap renames databases of one server; restore the "
                                 "merge on main's server"));
    }
  }
  if (main_name == shadow_name) return refuse("main and shadow are the same database");

  Journal journal;
  journal.path = o.state_path.empty() ? DefaultStatePath(main_name) : o.state_path;
  Names names{main_name, shadow_name, o.old_name};
  bool shadow_allowed = true;
  LiveCatchUp live_catch_up;
  live_catch_up.on = o.catch_up;
  live_catch_up.slot = o.slot;
  absl::StatusOr<Json> previous = ReadJournal(journal.path);
  if (o.resume) {
    if (absl::IsNotFound(previous.status())) {
      return refuse(absl::StrCat("--resume: nothing to resume: no swap of ", main_name,
                                 " is recorded (", previous.status().message(), ")"));
    }
    if (!previous.ok()) return refuse(absl::StrCat("--resume: ", previous.status().message()));
    names.main = previous->value("main", "");
    names.shadow = previous->value("shadow", "");
    names.old_name = previous->value("old", "");
    shadow_allowed = previous->value("shadow_allowed_connections", true);
    live_catch_up.on = previous->value("catch_up", false);
    live_catch_up.slot = previous->value("slot", "");
    if (names.main != main_name) {
      return refuse(absl::StrCat("--resume: ", journal.path, " is the swap of ", names.main,
                                 ", not of ", main_name));
    }
    journal.state = *previous;
    const std::string step = previous->value("step", "");
    if (Finished(step)) {
      // Done, stopped with main reopened, or rolled back: starting a fresh
      // swap under --resume would surprise; a plain swap does that.
      return refuse(absl::StrCat("--resume: nothing to resume: the swap of ", names.main,
                                 " in ", journal.path, " is ",
                                 step == "rolled_back" ? "rolled back"
                                 : step == "aborted"   ? "stopped, main reopened"
                                                       : "done"));
    }
    PGM_ASSIGN_OR_RETURN(ServerState state, StateOf(admin.get(), names));
    if (state == ServerState::kAfter) {
      // Crashed between the renames' commit and the journal: finish it.
      SwapResult r;
      if (!o.dry_run) {
        PGM_RETURN_IF_ERROR(SetAllowConnections(admin.get(), names.main, true));
        if (live_catch_up.on) DropSlot(admin.get(), o, live_catch_up.slot, &r);
        PGM_RETURN_IF_ERROR(journal.Write("done"));
      }
      Log(o.log, absl::StrCat("swap: --resume: the renames had been committed; ", names.main,
                              " is the merged database and open"));
      r.main = names.main;
      r.shadow = names.shadow;
      r.old_name = names.old_name;
      r.resumed_after_rename = true;
      r.caught_up = live_catch_up.on;
      r.slot = live_catch_up.slot;
      r.outcome = o.dry_run ? SwapResult::Outcome::kDryRun : SwapResult::Outcome::kSwapped;
      return r;
    }
    if (state == ServerState::kNeither) {
      return refuse(absl::StrCat("--resume: the server is in no state this swap leaves (",
                                 StateText(admin.get(), names), ")"));
    }
    // Not renamed: undo what was closed and start over from the
    // preconditions; the drift check must be redone anyway.
    if (!o.dry_run) {
      PGM_RETURN_IF_ERROR(SetAllowConnections(admin.get(), names.main, true));
      PGM_RETURN_IF_ERROR(SetAllowConnections(admin.get(), names.shadow, shadow_allowed));
      Log(o.log, absl::StrCat("swap: --resume: the renames had not happened; ", names.main,
                              " reopened, starting over"));
    }
  } else if (previous.ok() && !Finished(previous->value("step", ""))) {
    return refuse(absl::StrCat("an interrupted swap of ", previous->value("main", ""),
                               " is recorded in ", journal.path, " (step ",
                               previous->value("step", ""),
                               "): finish it with `pgmerge swap --resume` or undo it with "
                               "`pgmerge rollback`"));
  }
  if (names.old_name.empty()) names.old_name = OldNameFor(names.main);
  std::string report_json = o.report_json;
  std::string report_path = o.report_path;
  if (report_json.empty() && o.resume) {
    report_path = journal.state.value("report", "");
    PGM_ASSIGN_OR_RETURN(report_json, ReadFile(report_path));
  }
  PGM_ASSIGN_OR_RETURN(std::vector<ManifestTable> prod,
                       internal::ReadManifest(report_json, Side::kProd));
  PGM_ASSIGN_OR_RETURN(std::vector<ManifestTable> output,
                       internal::ReadManifest(report_json, Side::kOutput));

  // Step 1: preconditions. Nothing changes until all hold.
  PGM_ASSIGN_OR_RETURN(DatabaseInfo main, Database(admin.get(), names.main));
  PGM_ASSIGN_OR_RETURN(DatabaseInfo shadow, Database(admin.get(), names.shadow));
  PGM_ASSIGN_OR_RETURN(DatabaseInfo old, Database(admin.get(), names.old_name));
  if (!main.exists) return refuse(absl::StrCat("database ", names.main, " does not exist"));
  if (!shadow.exists) return refuse(absl::StrCat("database ", names.shadow, " does not exist"));
  if (old.exists) {
    return refuse(absl::StrCat("database ", names.old_name,
                               " already exists: choose another --old-name"));
  }
  if (main.is_template || shadow.is_template) {
    return refuse("a template database cannot be swapped");
  }
  if (names.main == o.maintenance_db || names.shadow == o.maintenance_db) {
    return refuse(absl::StrCat("the renames run from ", o.maintenance_db,
                               ": choose another --maintenance-db"));
  }
  if (!main.allow_connections) {
    return refuse(absl::StrCat(names.main, " is closed to connections (datallowconn false): "
                               "another swap may be under way"));
  }
  if (!o.resume) shadow_allowed = shadow.allow_connections;
  PGM_ASSIGN_OR_RETURN(Result role, Exec(admin.get(),
                                         "SELECT rolsuper, rolcreatedb, current_user, "
                                         "pg_has_role('pg_signal_backend', 'MEMBER') "
                                         "FROM pg_roles WHERE rolname = current_user"));
  const bool super = PQgetvalue(role.get(), 0, 0)[0] == 't';
  const bool createdb = PQgetvalue(role.get(), 0, 1)[0] == 't';
  const std::string user = PQgetvalue(role.get(), 0, 2);
  for (const auto* db : {&main, &shadow}) {
    if (!super && !(createdb && db->owner == user)) {
      return refuse(absl::StrCat(
          "role ", user, " may not rename ", db == &main ? names.main : names.shadow,
          ": it must own the database and have CREATEDB, or be a superuser"));
    }
  }
  PGM_ASSIGN_OR_RETURN(
      std::string prepared,
      QueryValue(admin.get(), absl::StrCat("SELECT string_agg(gid || ' on ' || database, ', ') "
                                           "FROM pg_prepared_xacts WHERE database IN (",
                                           Literal(admin.get(), names.main), ", ",
                                           Literal(admin.get(), names.shadow), ")")));
  if (!prepared.empty()) {
    return refuse(absl::StrCat("prepared transactions block the renames: ", prepared,
                               " (COMMIT PREPARED or ROLLBACK PREPARED them first)"));
  }

  PGM_ASSIGN_OR_RETURN(std::vector<internal::DumpedSequence> sequences,
                       internal::ReadDumpedSequences(report_json));
  internal::DriftBaseline baseline;
  baseline.prod_large_objects = internal::ReadLargeObjects(report_json, internal::Side::kProd);

  // The shadow is what the merge wrote.
  {
    PGM_ASSIGN_OR_RETURN(Conn s, internal::Connect(shadow_full ? o.shadow : o.server,
                                                   shadow_full ? "" : names.shadow));
    // After a catch-up the shadow holds more than the merge wrote: it was
    // verified before the first one (pgmerge verify), and what catch-up
    // applied since is main's own rows.
    PGM_ASSIGN_OR_RETURN(std::string caught_up,
                         QueryValue(s.get(), "SELECT to_regclass('pgmerge.catchup') IS NOT NULL"));
    VerifyResult v;
    // (--resume: the journal is written after the live rounds.)
    if (live_catch_up.on && (caught_up == "t" || o.resume)) {
      Log(o.log, absl::StrCat("swap: step 1: ", names.shadow, " was caught up already: verified "
                              "before that, not again"));
    } else {
      Log(o.log, absl::StrCat("swap: step 1: verifying ", names.shadow, " against the report"));
      PGM_ASSIGN_OR_RETURN(v, internal::VerifyConnected(s.get(), output,
                                                        internal::ReadSequences(report_json)));
    }
    if (!v.ok()) {
      return refuse(absl::StrCat("the shadow ", names.shadow,
                                 " does not hold what the merge wrote: ",
                                 absl::StrJoin(v.problems, "; "),
                                 " (run pgmerge verify; restore the merge again)"));
    }
    PGM_RETURN_IF_ERROR(internal::ReadShadowBaseline(s.get(), output, &baseline));
    // Our verify session must be gone before nobody-on-shadow is judged.
    const int pid = PQbackendPID(s.get());
    s.reset();
    PGM_RETURN_IF_ERROR(
        WaitForExit(admin.get(), {pid}, Clock::now() + std::chrono::seconds(2)).status());
    PGM_ASSIGN_OR_RETURN(std::vector<Session> on_shadow,
                         Sessions(admin.get(), names.shadow, {pid}));
    if (!on_shadow.empty()) {
      return refuse(absl::StrCat(on_shadow.size(), " session(s) on the shadow ", names.shadow,
                                 ": ", Describe(on_shadow),
                                 "; the rename would cut them off: close them first"));
    }
  }

  // A drift check while main is still open: y' that is already there stops
  // the swap before any downtime.
  PGM_ASSIGN_OR_RETURN(Conn main_conn, internal::Connect(main_full ? o.main : o.server,
                                                         main_full ? "" : names.main));
  SwapResult live;
  live.main = names.main;
  live.shadow = names.shadow;
  live.old_name = names.old_name;
  // Helpers for the drift checks, opened while main is open.
  std::vector<Conn> extra;
  std::vector<PGconn*> sessions = {main_conn.get()};
  for (int i = 1; i < (live_catch_up.on ? 1 : o.jobs); ++i) {
    PGM_ASSIGN_OR_RETURN(Conn c, internal::Connect(main_full ? o.main : o.server,
                                                   main_full ? "" : names.main));
    sessions.push_back(c.get());
    extra.push_back(std::move(c));
  }
  if (live_catch_up.on) {
    // y' is the point: only what the stream does not carry is drift.
    PGM_ASSIGN_OR_RETURN(live.drift, internal::WiderDrift(main_conn.get(), {}, {}, baseline));
  } else {
    PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> diff,
                         internal::CompareWithManifest(sessions, prod, &live.rows_checked,
                                                       o.check_range_blocks));
    PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> extra,
                         internal::TablesNotInManifest(main_conn.get(), prod));
    diff.insert(diff.end(), extra.begin(), extra.end());
    live.drift = Describe(diff);
    PGM_ASSIGN_OR_RETURN(std::vector<std::string> wider,
                         internal::WiderDrift(main_conn.get(), prod, sequences, baseline));
    live.drift.insert(live.drift.end(), wider.begin(), wider.end());
  }
  if (!live.drift.empty()) {
    live.outcome = SwapResult::Outcome::kDrift;
    live.drift_seen_live = true;
    return live;
  }
  if (!live_catch_up.on) {
    std::vector<int> own;
    for (PGconn* c : sessions) own.push_back(PQbackendPID(c));
    PGM_ASSIGN_OR_RETURN(std::vector<internal::Session> workers,
                         internal::BackgroundSessions(admin.get(), names.main, own));
    if (!workers.empty()) {
      Log(o.log, absl::StrCat("swap: step 1: ", workers.size(), " background worker(s) on ",
                              names.main, ": ", internal::Describe(workers),
                              "; not clients: they get the grace period, then are terminated"));
    }
  }
  // What the schema is now: the check after closing names what was
  // created, changed or dropped in between.
  PGM_ASSIGN_OR_RETURN(baseline.catalog_fingerprint,
                       internal::CatalogFingerprint(main_conn.get()));
  Log(o.log, live_catch_up.on
                 ? absl::StrCat("swap: step 1: preconditions hold; ", names.main,
                                "'s writes since the dump come from its slot")
                 : absl::StrCat("swap: step 1: preconditions hold; ", names.main,
                                " matches production's dump (", live.rows_checked, " rows)"));
  if (o.dry_run) {
    live.outcome = SwapResult::Outcome::kDryRun;
    return live;
  }
  if (live_catch_up.on) {
    // Live rounds: each applies what main wrote during the one before,
    // until a round is small; the tail then fits in the dark window. The
    // sessions stay for the tail (the databases close to new ones).
    live_catch_up.report_json = report_json;
    PGM_ASSIGN_OR_RETURN(live_catch_up.shadow,
                         internal::Connect(shadow_full ? o.shadow : o.server,
                                           shadow_full ? "" : names.shadow));
    PGM_ASSIGN_OR_RETURN(Conn helper, internal::Connect(main_full ? o.main : o.server,
                                                        main_full ? "" : names.main));
    PGM_ASSIGN_OR_RETURN(Conn stream, internal::ConnectReplication(main_full ? o.main : o.server,
                                                                   main_full ? "" : names.main));
    auto before_closing = [&](const absl::Status& why) {
      return absl::Status(why.code(), absl::StrCat("catch-up before closing ", names.main, ": ",
                                                   why.message(), " (nothing closed; the slot is "
                                                   "kept, so a run after the fix continues)"));
    };
    CatchUpOptions co;
    co.report_json = report_json;
    co.slot = live_catch_up.slot;
    const Clock::time_point t = Clock::now();
    absl::StatusOr<std::unique_ptr<internal::CatchUpRun>> run = internal::CatchUpRun::Start(
        helper.get(), stream.get(), live_catch_up.shadow.get(), co);
    if (!run.ok()) return before_closing(run.status());
    live_catch_up.run = *std::move(run);
    internal::LiveRoundLimits limits;
    limits.lag = o.catch_up_lag;
    limits.max_rounds = o.catch_up_rounds;
    limits.timeout_seconds = o.catch_up_timeout_seconds;
    absl::StatusOr<internal::LiveRounds> rounds = internal::RunLiveRounds(
        live_catch_up.run.get(), helper.get(), limits, o.log, o.interrupted);
    if (!rounds.ok()) {
      if (absl::IsAborted(rounds.status())) return rounds.status();
      return before_closing(rounds.status());
    }
    live_catch_up.slot = live.slot = rounds->slot;
    live.catch_up_rounds = rounds->rounds;
    live.live_changes = rounds->changes;
    live.live_ms = MillisSince(t);
    live.caught_up = true;
    extra.clear();
    extra.push_back(std::move(helper));
    extra.push_back(std::move(stream));
  }

  journal.state = Json::object();
  journal.state["format"] = "pgmerge-swap-state";
  journal.state["version"] = 1;
  journal.state["main"] = names.main;
  journal.state["shadow"] = names.shadow;
  journal.state["old"] = names.old_name;
  journal.state["report"] = report_path;
  journal.state["shadow_allowed_connections"] = shadow_allowed;
  if (live_catch_up.on) {
    journal.state["catch_up"] = true;
    journal.state["slot"] = live_catch_up.slot;
  }
  journal.state["started"] = UtcNow("%Y-%m-%dT%H:%M:%SZ");
  PGM_RETURN_IF_ERROR(journal.Write("preconditions_ok"));
  AfterStep(o, "preconditions_ok");
  return RunSwap(o, admin.get(), std::move(main_conn), std::move(extra), names, &journal, prod,
                 sequences, baseline, shadow_allowed, &live_catch_up, live);
}

}  // namespace pgmerge::swap
