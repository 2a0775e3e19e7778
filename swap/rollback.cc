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

}  // namespace

absl::StatusOr<RollbackResult> Rollback(const RollbackOptions& o) {
  auto refuse = [](const std::string& why) { return absl::FailedPreconditionError(why); };
  Journal journal;
  journal.path = o.state_path.empty() ? DefaultStatePath(o.main) : o.state_path;
  absl::StatusOr<Json> previous = ReadJournal(journal.path);
  Names names{o.main, o.shadow, o.old_name};
  bool shadow_allowed = true;
  std::string report_json = o.report_json;
  if (previous.ok()) {
    journal.state = *previous;
    if (previous->value("main", "") != o.main) {
      return refuse(absl::StrCat(journal.path, " is the swap of ", previous->value("main", ""),
                                 ", not of ", o.main));
    }
    if (names.shadow.empty()) names.shadow = previous->value("shadow", "");
    if (names.old_name.empty()) names.old_name = previous->value("old", "");
    shadow_allowed = previous->value("shadow_allowed_connections", true);
    if (previous->value("step", "") == "rolled_back") {
      return refuse(absl::StrCat("the swap in ", journal.path, " was already rolled back"));
    }
    const std::string report_path = previous->value("report", "");
    if (report_json.empty() && !report_path.empty()) {
      absl::StatusOr<std::string> r = ReadFile(report_path);
      if (r.ok()) report_json = *r;
    }
  } else if (names.shadow.empty() || names.old_name.empty()) {
    return refuse(absl::StrCat(previous.status().message(),
                               ": give --shadow and --old to roll back without it"));
  }
  PGM_ASSIGN_OR_RETURN(Conn admin, internal::Connect(o.server, o.maintenance_db));
  RollbackResult result;
  result.main = names.main;
  result.shadow = names.shadow;
  result.old_name = names.old_name;
  PGM_ASSIGN_OR_RETURN(ServerState state, StateOf(admin.get(), names));
  if (state == ServerState::kBefore) {
    // The swap stopped before its renames: main is the original; open it.
    result.outcome =
        o.dry_run ? RollbackResult::Outcome::kDryRun : RollbackResult::Outcome::kReopened;
    if (!o.dry_run) {
      PGM_RETURN_IF_ERROR(SetAllowConnections(admin.get(), names.main, true));
      PGM_RETURN_IF_ERROR(SetAllowConnections(admin.get(), names.shadow, shadow_allowed));
      PGM_RETURN_IF_ERROR(DropSwapSlot(admin.get(), journal.state, o));
      if (previous.ok()) PGM_RETURN_IF_ERROR(journal.Write("aborted"));
    }
    return result;
  }
  if (state == ServerState::kNeither) {
    return refuse(absl::StrCat("the server is in no state the swap leaves (",
                               StateText(admin.get(), names), ")"));
  }

  // Writes to the new main since the swap would stay behind in the shadow.
  std::vector<ManifestTable> output;
  if (!report_json.empty()) {
    PGM_ASSIGN_OR_RETURN(output, internal::ReadManifest(report_json, Side::kOutput));
  } else {
    Log(o.log, "rollback: no report: writes made since the swap cannot be detected");
  }
  PGM_ASSIGN_OR_RETURN(DatabaseInfo main, Database(admin.get(), names.main));
  if (!main.allow_connections) {
    PGM_RETURN_IF_ERROR(SetAllowConnections(admin.get(), names.main, true));
  }
  PGM_ASSIGN_OR_RETURN(Conn main_conn, internal::Connect(o.server, names.main));
  auto check = [&](PGconn* c) -> absl::StatusOr<std::vector<std::string>> {
    if (output.empty()) return std::vector<std::string>();
    int64_t rows = 0;
    PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> d,
                         internal::CompareWithManifest(c, output, &rows));
    return Describe(d);
  };
  PGM_ASSIGN_OR_RETURN(result.writes_since_swap, check(main_conn.get()));
  if (!result.writes_since_swap.empty() && !o.force) {
    result.outcome = RollbackResult::Outcome::kWritesSinceSwap;
    return result;
  }
  if (o.dry_run) {
    result.outcome = RollbackResult::Outcome::kDryRun;
    return result;
  }
  const Clock::time_point dark_start = Clock::now();
  Quiesce q(admin.get(), std::move(main_conn), {}, names.main, o.log, o.interrupted);
  auto reopen = [&](const absl::Status& why) -> absl::Status {
    q.Release().IgnoreError();
    SetAllowConnections(admin.get(), names.main, true).IgnoreError();
    return why;
  };
  PGM_RETURN_IF_ERROR(journal.Write("rolling_back"));
  absl::Status closed = q.Close({});
  if (!closed.ok()) return reopen(closed);
  absl::StatusOr<int> drained = q.Drain(o.grace_seconds, o.terminate_timeout_seconds);
  if (!drained.ok()) return reopen(drained.status());
  if (!o.force && !output.empty()) {
    // Again, now that nobody can write: what was written in the grace
    // period counts too.
    int64_t rows = 0;
    absl::StatusOr<std::vector<TableDifference>> d = q.Check(output, false, &rows);
    if (!d.ok()) return reopen(d.status());
    if (!d->empty()) {
      result.writes_since_swap = Describe(*d);
      result.outcome = RollbackResult::Outcome::kWritesSinceSwap;
      absl::Status s = reopen(absl::OkStatus());
      if (!s.ok()) return s;
      return result;
    }
  }
  absl::Status released = q.Release();
  if (!released.ok()) return reopen(released);
  absl::Status renamed = RenameAndReopen(
      admin.get(), {{names.main, names.shadow}, {names.old_name, names.main}},
      {{names.main, true}, {names.shadow, shadow_allowed}});
  if (!renamed.ok()) return reopen(renamed);
  result.dark_window_ms = MillisSince(dark_start);
  PGM_RETURN_IF_ERROR(DropSwapSlot(admin.get(), journal.state, o));
  if (o.after_step) o.after_step("rolled_back");
  if (previous.ok()) PGM_RETURN_IF_ERROR(journal.Write("rolled_back"));
  return result;
}

}  // namespace pgmerge::swap
