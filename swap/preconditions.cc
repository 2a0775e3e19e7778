#include "swap/preconditions.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "swap/quiesce.h"
#include "swap/verify.h"

namespace pgmerge::swap::internal {
namespace {

// y' on main while it is open, a line per difference, read on `sessions`
// (main's first). With --catch-up y' is the point: only what the stream
// does not carry is drift.
absl::StatusOr<std::vector<std::string>> DriftWhileOpen(const SwapOptions& o, bool catch_up,
                                                        const SwapReport& report,
                                                        const DriftBaseline& baseline,
                                                        const std::vector<PGconn*>& sessions,
                                                        int64_t* rows_checked) {
  PGconn* main = sessions[0];
  if (catch_up) return WiderDrift(main, {}, {}, baseline);
  PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> diff,
                       CompareWithManifest(sessions, report.prod, rows_checked,
                                           o.check_range_blocks));
  PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> extra,
                       TablesNotInManifest(main, report.prod));
  diff.insert(diff.end(), extra.begin(), extra.end());
  std::vector<std::string> drift = Describe(diff);
  PGM_ASSIGN_OR_RETURN(std::vector<std::string> wider,
                       WiderDrift(main, report.prod, report.sequences, baseline));
  drift.insert(drift.end(), wider.begin(), wider.end());
  return drift;
}

// Background workers on main are not clients: named now, terminated after
// the grace period. `sessions`: ours, whose parallel workers are left out.
absl::Status LogBackgroundWorkers(const SwapOptions& o, PGconn* admin, const std::string& main,
                                  const std::vector<PGconn*>& sessions) {
  std::vector<int> own;
  for (PGconn* c : sessions) own.push_back(PQbackendPID(c));
  PGM_ASSIGN_OR_RETURN(std::vector<Session> workers, BackgroundSessions(admin, main, own));
  if (!workers.empty()) {
    Log(o.log, absl::StrCat("swap: step 1: ", workers.size(), " background worker(s) on ", main,
                            ": ", Describe(workers),
                            "; not clients: they get the grace period, then are terminated"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Conn> ConnectMain(const SwapOptions& o, const Names& names) {
  const bool full = IsConnInfo(o.main);
  return Connect(full ? o.main : o.server, full ? "" : names.main);
}

absl::StatusOr<Conn> ConnectShadow(const SwapOptions& o, const Names& names) {
  const bool full = IsConnInfo(o.shadow);
  return Connect(full ? o.shadow : o.server, full ? "" : names.shadow);
}

absl::StatusOr<bool> CheckDatabases(PGconn* admin, const Names& names,
                                    const std::string& maintenance_db) {
  auto refuse = [](const std::string& why) { return absl::FailedPreconditionError(why); };
  PGM_ASSIGN_OR_RETURN(DatabaseInfo main, Database(admin, names.main));
  PGM_ASSIGN_OR_RETURN(DatabaseInfo shadow, Database(admin, names.shadow));
  PGM_ASSIGN_OR_RETURN(DatabaseInfo old, Database(admin, names.old_name));
  if (!main.exists) return refuse(absl::StrCat("database ", names.main, " does not exist"));
  if (!shadow.exists) return refuse(absl::StrCat("database ", names.shadow, " does not exist"));
  if (old.exists) {
    return refuse(absl::StrCat("database ", names.old_name,
                               " already exists: choose another --old-name"));
  }
  if (main.is_template || shadow.is_template) {
    return refuse("a template database cannot be swapped");
  }
  if (names.main == maintenance_db || names.shadow == maintenance_db) {
    return refuse(absl::StrCat("the renames run from ", maintenance_db,
                               ": choose another --maintenance-db"));
  }
  if (!main.allow_connections) {
    return refuse(absl::StrCat(names.main, " is closed to connections (datallowconn false): "
                               "another swap may be under way"));
  }
  PGM_ASSIGN_OR_RETURN(Result role, Exec(admin,
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
      QueryValue(admin, absl::StrCat("SELECT string_agg(gid || ' on ' || database, ', ') "
                                     "FROM pg_prepared_xacts WHERE database IN (",
                                     Literal(admin, names.main), ", ",
                                     Literal(admin, names.shadow), ")")));
  if (!prepared.empty()) {
    return refuse(absl::StrCat("prepared transactions block the renames: ", prepared,
                               " (COMMIT PREPARED or ROLLBACK PREPARED them first)"));
  }
  return shadow.allow_connections;
}

absl::Status CheckShadow(PGconn* admin, const SwapOptions& o, const Names& names,
                         bool catch_up, const SwapReport& report, DriftBaseline* baseline) {
  const auto open = [&] { return ConnectShadow(o, names); };
  std::vector<Conn> shadow;
  PGM_RETURN_IF_ERROR(OpenSessions(1, open, &shadow));
  // After a catch-up the shadow holds more than the merge wrote: it was
  // verified before the first one (pgmerge verify), and what catch-up
  // applied since is main's own rows.
  PGM_ASSIGN_OR_RETURN(
      std::string caught_up,
      QueryValue(shadow.front().get(), "SELECT to_regclass('pgmerge.catchup') IS NOT NULL"));
  VerifyResult v;
  // (--resume: the journal is written after the live rounds.)
  if (catch_up && (caught_up == "t" || o.resume)) {
    Log(o.log, absl::StrCat("swap: step 1: ", names.shadow, " was caught up already: verified "
                          "before that, not again"));
  } else {
    Log(o.log, absl::StrCat("swap: step 1: verifying ", names.shadow, " against the report"));
    PGM_RETURN_IF_ERROR(OpenSessions(std::max(1, o.jobs), open, &shadow));
    PGM_ASSIGN_OR_RETURN(v, VerifyConnected(Borrow(shadow), report.output, ReadSequences(report.json),
                                            std::nullopt, ReadUnvalidated(report.json)));
  }
  if (!v.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the shadow ", names.shadow, " does not hold what the merge wrote: ",
        absl::StrJoin(v.problems, "; "), " (run pgmerge verify; restore the merge again)"));
  }
  PGM_RETURN_IF_ERROR(ReadShadowBaseline(shadow.front().get(), report.output, baseline));
  // Our verify sessions must be gone before nobody-on-shadow is judged.
  std::vector<int> pids;
  for (const Conn& c : shadow) pids.push_back(PQbackendPID(c.get()));
  shadow.clear();
  PGM_RETURN_IF_ERROR(WaitForExit(admin, pids, Clock::now() + std::chrono::seconds(2)).status());
  PGM_ASSIGN_OR_RETURN(std::vector<Session> on_shadow, Sessions(admin, names.shadow, pids));
  if (!on_shadow.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        on_shadow.size(), " session(s) on the shadow ", names.shadow, ": ", Describe(on_shadow),
        "; the rename would cut them off: close them first"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SwapResult> CheckMainOpen(const SwapOptions& o, PGconn* admin, const Names& names,
                                         bool catch_up, const SwapReport& report,
                                         DriftBaseline* baseline, Conn* main_conn,
                                         std::vector<Conn>* extra) {
  PGM_ASSIGN_OR_RETURN(*main_conn, ConnectMain(o, names));
  SwapResult live;
  live.main = names.main;
  live.shadow = names.shadow;
  live.old_name = names.old_name;
  // Helpers for the drift checks, opened while main is open.
  PGM_RETURN_IF_ERROR(OpenSessions(catch_up ? 0 : std::max(0, o.jobs - 1),
                                   [&] { return ConnectMain(o, names); }, extra));
  std::vector<PGconn*> sessions = Borrow(*extra);
  sessions.insert(sessions.begin(), main_conn->get());
  PGM_ASSIGN_OR_RETURN(live.drift, DriftWhileOpen(o, catch_up, report, *baseline, sessions,
                                                  &live.rows_checked));
  if (!live.drift.empty()) {
    live.outcome = SwapResult::Outcome::kDrift;
    live.drift_seen_live = true;
    return live;
  }
  if (!catch_up) PGM_RETURN_IF_ERROR(LogBackgroundWorkers(o, admin, names.main, sessions));
  // What the schema is now: the check after closing names what was
  // created, changed or dropped in between.
  PGM_ASSIGN_OR_RETURN(baseline->catalog_fingerprint, CatalogFingerprint(main_conn->get()));
  Log(o.log, catch_up
                 ? absl::StrCat("swap: step 1: preconditions hold; ", names.main,
                                "'s writes since the dump come from its slot")
                 : absl::StrCat("swap: step 1: preconditions hold; ", names.main,
                                " matches production's dump (", live.rows_checked, " rows)"));
  return live;
}

}  // namespace pgmerge::swap::internal
