#include "swap/rollback.h"

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "swap/catchup.h"
#include "swap/journal.h"
#include "swap/manifest.h"
#include "swap/pg.h"
#include "swap/quiesce.h"
#include "swap/server.h"
#include "swap/swap.h"

namespace pgmerge::swap {

using internal::Clock;
using internal::Conn;
using internal::Database;
using internal::DatabaseInfo;
using internal::Journal;
using internal::Log;
using internal::ManifestTable;
using internal::MillisSince;
using internal::Names;
using internal::Quiesce;
using internal::ReadFile;
using internal::ReadJournal;
using internal::RenameAndReopen;
using internal::ServerState;
using internal::SetAllowConnections;
using internal::Side;
using internal::StateOf;
using internal::StateText;
using internal::TableDifference;
using Json = nlohmann::json;

namespace {

// A swap --catch-up journals its slot: undoing the swap must not leave it
// holding main's WAL.
absl::Status DropSwapSlot(PGconn* admin, const Json& state, const RollbackOptions& o) {
  const std::string slot = state.is_object() ? state.value("slot", "") : "";
  if (slot.empty()) return absl::OkStatus();
  PGM_ASSIGN_OR_RETURN(bool dropped, internal::DropSlotIfPresent(admin, slot));
  if (dropped) Log(o.log, absl::StrCat("rollback: slot ", slot, " dropped"));
  return absl::OkStatus();
}

// What the journal (or, without one, the options) says of the swap to undo.
struct Undo {
  Journal journal;
  bool journaled = false;  // A journal was found (and is written as we go).
  Names names;
  bool shadow_allowed = true;  // The shadow's datallowconn before the swap.
  std::string report_json;     // The merge's report, for the write check.
};

absl::StatusOr<Undo> LoadUndo(const RollbackOptions& o) {
  auto refuse = [](const std::string& why) { return absl::FailedPreconditionError(why); };
  Undo u;
  u.journal.path = o.state_path.empty() ? DefaultStatePath(o.main) : o.state_path;
  u.names = Names{o.main, o.shadow, o.old_name};
  u.report_json = o.report_json;
  absl::StatusOr<Json> previous = ReadJournal(u.journal.path);
  if (!previous.ok()) {
    if (u.names.shadow.empty() || u.names.old_name.empty()) {
      return refuse(absl::StrCat(previous.status().message(),
                                 ": give --shadow and --old to roll back without it"));
    }
    return u;
  }
  u.journaled = true;
  u.journal.state = *previous;
  if (previous->value("main", "") != o.main) {
    return refuse(absl::StrCat(u.journal.path, " is the swap of ", previous->value("main", ""),
                               ", not of ", o.main));
  }
  if (u.names.shadow.empty()) u.names.shadow = previous->value("shadow", "");
  if (u.names.old_name.empty()) u.names.old_name = previous->value("old", "");
  u.shadow_allowed = previous->value("shadow_allowed_connections", true);
  if (previous->value("step", "") == "rolled_back") {
    return refuse(absl::StrCat("the swap in ", u.journal.path, " was already rolled back"));
  }
  const std::string report_path = previous->value("report", "");
  if (u.report_json.empty() && !report_path.empty()) {
    absl::StatusOr<std::string> r = ReadFile(report_path);
    if (r.ok()) u.report_json = *r;
  }
  return u;
}

// The swap stopped before its renames: main is the original; open it.
absl::Status ReopenBeforeRenames(PGconn* admin, Undo* u, const RollbackOptions& o) {
  PGM_RETURN_IF_ERROR(SetAllowConnections(admin, u->names.main, true));
  PGM_RETURN_IF_ERROR(SetAllowConnections(admin, u->names.shadow, u->shadow_allowed));
  PGM_RETURN_IF_ERROR(DropSwapSlot(admin, u->journal.state, o));
  if (u->journaled) PGM_RETURN_IF_ERROR(u->journal.Write("aborted"));
  return absl::OkStatus();
}

// Main closed and drained, checked again (what was written in the grace
// period counts too), then the renames back. A failure reopens main.
absl::Status RenameBack(PGconn* admin, Conn main_conn, const std::vector<ManifestTable>& output,
                        Undo* u, const RollbackOptions& o, RollbackResult* result) {
  const Names& names = u->names;
  const Clock::time_point dark_start = Clock::now();
  Quiesce q(admin, std::move(main_conn), {}, names.main, o.log, o.interrupted);
  auto reopen = [&](const absl::Status& why) -> absl::Status {
    q.Release().IgnoreError();
    SetAllowConnections(admin, names.main, true).IgnoreError();
    return why;
  };
  PGM_RETURN_IF_ERROR(u->journal.Write("rolling_back"));
  absl::Status closed = q.Close({});
  if (!closed.ok()) return reopen(closed);
  absl::StatusOr<int> drained = q.Drain(o.grace_seconds, o.terminate_timeout_seconds);
  if (!drained.ok()) return reopen(drained.status());
  if (!o.force && !output.empty()) {
    int64_t rows = 0;
    absl::StatusOr<std::vector<TableDifference>> d = q.Check(output, false, &rows);
    if (!d.ok()) return reopen(d.status());
    if (!d->empty()) {
      result->writes_since_swap = Describe(*d);
      result->outcome = RollbackResult::Outcome::kWritesSinceSwap;
      return reopen(absl::OkStatus());
    }
  }
  absl::Status released = q.Release();
  if (!released.ok()) return reopen(released);
  absl::Status renamed = RenameAndReopen(
      admin, {{names.main, names.shadow}, {names.old_name, names.main}},
      {{names.main, true}, {names.shadow, u->shadow_allowed}});
  if (!renamed.ok()) return reopen(renamed);
  result->dark_window_ms = MillisSince(dark_start);
  PGM_RETURN_IF_ERROR(DropSwapSlot(admin, u->journal.state, o));
  if (o.after_step) o.after_step("rolled_back");
  if (u->journaled) PGM_RETURN_IF_ERROR(u->journal.Write("rolled_back"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RollbackResult> Rollback(const RollbackOptions& o) {
  PGM_ASSIGN_OR_RETURN(Undo u, LoadUndo(o));
  const Names& names = u.names;
  PGM_ASSIGN_OR_RETURN(Conn admin, internal::Connect(o.server, o.maintenance_db));
  RollbackResult result;
  result.main = names.main;
  result.shadow = names.shadow;
  result.old_name = names.old_name;
  PGM_ASSIGN_OR_RETURN(ServerState state, StateOf(admin.get(), names));
  if (state == ServerState::kBefore) {
    result.outcome =
        o.dry_run ? RollbackResult::Outcome::kDryRun : RollbackResult::Outcome::kReopened;
    if (!o.dry_run) PGM_RETURN_IF_ERROR(ReopenBeforeRenames(admin.get(), &u, o));
    return result;
  }
  if (state == ServerState::kNeither) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the server is in no state the swap leaves (", StateText(admin.get(), names), ")"));
  }

  // Writes to the new main since the swap would stay behind in the shadow.
  std::vector<ManifestTable> output;
  if (!u.report_json.empty()) {
    PGM_ASSIGN_OR_RETURN(output, internal::ReadManifest(u.report_json, Side::kOutput));
  } else {
    Log(o.log, "rollback: no report: writes made since the swap cannot be detected");
  }
  PGM_ASSIGN_OR_RETURN(DatabaseInfo main, Database(admin.get(), names.main));
  if (!main.allow_connections) {
    PGM_RETURN_IF_ERROR(SetAllowConnections(admin.get(), names.main, true));
  }
  PGM_ASSIGN_OR_RETURN(Conn main_conn, internal::Connect(o.server, names.main));
  if (!output.empty()) {
    int64_t rows = 0;
    PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> d,
                         internal::CompareWithManifest(main_conn.get(), output, &rows));
    result.writes_since_swap = Describe(d);
  }
  if (!result.writes_since_swap.empty() && !o.force) {
    result.outcome = RollbackResult::Outcome::kWritesSinceSwap;
    return result;
  }
  if (o.dry_run) {
    result.outcome = RollbackResult::Outcome::kDryRun;
    return result;
  }
  PGM_RETURN_IF_ERROR(RenameBack(admin.get(), std::move(main_conn), output, &u, o, &result));
  return result;
}

}  // namespace pgmerge::swap
