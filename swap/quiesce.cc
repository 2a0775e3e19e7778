#include "swap/quiesce.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "swap/server.h"

namespace pgmerge::swap::internal {
namespace {

std::string FirstLine(std::string_view message) {
  return std::string(message.substr(0, message.find('\n')));
}

}  // namespace

Quiesce::Quiesce(PGconn* admin, Conn session, std::vector<Conn> extra, std::string db,
                 const std::function<void(std::string_view)>& log,
                 const std::function<bool()>& interrupted)
    : admin_(admin), session_(std::move(session)), extra_(std::move(extra)), db_(std::move(db)),
      log_(log), interrupted_(interrupted) {}

std::vector<int> Quiesce::OwnPids() const {
  std::vector<int> pids;
  if (session_) pids.push_back(PQbackendPID(session_.get()));
  for (const Conn& c : extra_) pids.push_back(PQbackendPID(c.get()));
  return pids;
}

absl::Status Quiesce::Close(const std::vector<std::string>& also_close) {
  PGM_RETURN_IF_ERROR(SetAllowConnections(admin_, db_, false));
  for (const std::string& other : also_close) {
    PGM_RETURN_IF_ERROR(SetAllowConnections(admin_, other, false));
  }
  return absl::OkStatus();
}

absl::Status Quiesce::BlockWrites(double grace_seconds) {
  PGconn* s = session_.get();
  // EXCLUSIVE locks let readers go on and make every write wait: a write
  // attempted from now on fails when its session is terminated instead of
  // committing into a database about to be replaced. Taking them waits for
  // writes in flight, at most the grace period.
  PGM_ASSIGN_OR_RETURN(
      Result tables,
      Exec(s, "SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY 1) "
              "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' "
              "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"));
  std::string list = PQgetvalue(tables.get(), 0, 0);
  PGM_RETURN_IF_ERROR(ExecCommand(s, "BEGIN"));
  if (list.empty()) return absl::OkStatus();
  int64_t lock_ms = std::max<int64_t>(1, static_cast<int64_t>(grace_seconds * 1000));
  // The LOCK may wait the whole grace period: Ctrl-C cancels it.
  std::atomic<bool> done{false};
  std::atomic<bool> cancelled{false};
  std::thread watcher([&]() {
    while (!done) {
      if (interrupted_ && interrupted_()) {
        if (PGcancel* c = PQgetCancel(s)) {
          char err[256];
          PQcancel(c, err, sizeof err);
          PQfreeCancel(c);
        }
        cancelled = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  absl::Status locked = ExecCommand(
      s, absl::StrCat("SET LOCAL lock_timeout = ", lock_ms, "; LOCK TABLE ", list,
                      " IN EXCLUSIVE MODE"));
  done = true;
  watcher.join();
  if (cancelled) return absl::AbortedError("interrupted");
  if (locked.ok()) {
    writes_blocked_ = true;
    return absl::OkStatus();
  }
  Log(log_, absl::StrCat("swap: writes could not be blocked during the grace period (",
                         FirstLine(std::string(locked.message())),
                         "); sessions are terminated at its end and the drift check "
                         "sees anything they wrote"));
  PGM_RETURN_IF_ERROR(ExecCommand(s, "ROLLBACK"));
  return ExecCommand(s, "BEGIN");
}

absl::StatusOr<int> Quiesce::Drain(double grace_seconds, double terminate_timeout_seconds,
                                   const std::function<absl::Status()>& during_grace) {
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(grace_seconds * 1000));
  PGM_RETURN_IF_ERROR(BlockWrites(grace_seconds));
  if (during_grace) PGM_RETURN_IF_ERROR(during_grace());
  const std::vector<int> own = OwnPids();
  PGM_ASSIGN_OR_RETURN(bool empty, WaitForNoSessions(admin_, db_, own, deadline, interrupted_));
  int terminated = 0;
  if (!empty) {
    PGM_ASSIGN_OR_RETURN(terminated, TerminateClients(terminate_timeout_seconds));
  }
  PGM_RETURN_IF_ERROR(StopBackgroundWorkers(deadline, terminate_timeout_seconds));
  return terminated;
}

absl::Status Quiesce::StopBackgroundWorkers(Clock::time_point deadline,
                                            double terminate_timeout_seconds) {
  // Closing the database keeps new workers out (they connect like
  // clients); those already running could still write, and a rename waits
  // for them. They get what is left of the grace period, then are
  // terminated; they are not clients, so they are counted apart.
  const std::vector<int> own = OwnPids();
  std::vector<Session> workers;
  for (;;) {
    PGM_ASSIGN_OR_RETURN(workers, BackgroundSessions(admin_, db_, own));
    if (workers.empty()) return absl::OkStatus();
    if (Clock::now() >= deadline) break;
    if (interrupted_ && interrupted_()) return absl::AbortedError("interrupted");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Log(log_, absl::StrCat("swap: terminating ", workers.size(), " background worker(s) on ", db_,
                         ": ", Describe(workers)));
  for (const Session& w : workers) {
    background_.push_back(w.who);
    PGM_RETURN_IF_ERROR(
        QueryValue(admin_, absl::StrCat("SELECT pg_terminate_backend(", w.pid, ")")).status());
  }
  const Clock::time_point gone_by =
      Clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(terminate_timeout_seconds * 1000));
  for (;;) {
    PGM_ASSIGN_OR_RETURN(std::vector<Session> still, BackgroundSessions(admin_, db_, own));
    if (still.empty()) return absl::OkStatus();
    if (Clock::now() >= gone_by) {
      return absl::AbortedError(absl::StrCat("background workers on ", db_, " did not end: ",
                                             Describe(still)));
    }
    if (interrupted_ && interrupted_()) return absl::AbortedError("interrupted");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

absl::StatusOr<int> Quiesce::TerminateClients(double terminate_timeout_seconds) {
  const std::vector<int> own = OwnPids();
  PGM_ASSIGN_OR_RETURN(std::vector<Session> left, Sessions(admin_, db_, own));
  Log(log_, absl::StrCat("swap: grace period over, terminating ", left.size(),
                         " session(s) on ", db_, ": ", Describe(left)));
  std::vector<int> pids;
  for (const Session& session : left) {
    absl::StatusOr<std::string> r =
        QueryValue(admin_, absl::StrCat("SELECT pg_terminate_backend(", session.pid, ")"));
    if (!r.ok()) return r.status();
    pids.push_back(session.pid);
  }
  const Clock::time_point gone_by =
      Clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(terminate_timeout_seconds * 1000));
  // They end within milliseconds: watched by pid, more often than sessions
  // are looked for, since the whole wait is in the dark window.
  PGM_RETURN_IF_ERROR(WaitForExit(admin_, pids, gone_by).status());
  PGM_ASSIGN_OR_RETURN(bool empty, WaitForNoSessions(admin_, db_, own, gone_by, interrupted_));
  if (!empty) {
    PGM_ASSIGN_OR_RETURN(std::vector<Session> still, Sessions(admin_, db_, own));
    return absl::AbortedError(absl::StrCat("sessions on ", db_, " did not end: ",
                                           Describe(still),
                                           " (the role may not terminate them?)"));
  }
  return static_cast<int>(left.size());
}

absl::StatusOr<std::vector<TableDifference>> Quiesce::Check(
    const std::vector<ManifestTable>& manifest, bool include_new_tables,
    int64_t* rows_checked, int64_t range_blocks) {
  std::vector<PGconn*> sessions = {session_.get()};
  for (const Conn& c : extra_) sessions.push_back(c.get());
  PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> diff,
                       CompareWithManifest(sessions, manifest, rows_checked, range_blocks));
  if (include_new_tables) {
    PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> extra,
                         TablesNotInManifest(session_.get(), manifest));
    diff.insert(diff.end(), extra.begin(), extra.end());
  }
  return diff;
}

std::vector<int> Quiesce::Disconnect() {
  std::vector<int> pids = OwnPids();
  session_.reset();
  extra_.clear();
  return pids;
}

absl::Status Quiesce::Release() {
  const std::vector<int> pids = Disconnect();
  if (pids.empty()) return absl::OkStatus();
  PGM_ASSIGN_OR_RETURN(bool gone,
                       WaitForExit(admin_, pids, Clock::now() + std::chrono::seconds(10)));
  if (!gone) return absl::AbortedError("pgmerge's own sessions on main did not end");
  return absl::OkStatus();
}

std::vector<std::string> Describe(const std::vector<TableDifference>& diff) {
  std::vector<std::string> out;
  for (const TableDifference& d : diff) out.push_back(d.Describe());
  return out;
}

}  // namespace pgmerge::swap::internal
