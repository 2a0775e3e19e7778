#include "swap/swap.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "swap/manifest.h"
#include "swap/pg.h"

namespace pgmerge::swap {
namespace {

using internal::Conn;
using internal::Exec;
using internal::ExecCommand;
using internal::Ident;
using internal::Literal;
using internal::ManifestTable;
using internal::QueryValue;
using internal::Result;
using internal::Side;
using internal::TableDifference;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

int64_t MillisSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::string UtcNow(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// Test-only fault injection: PGMERGE_TEST_CRASH_AT=STEP kills the process
// right after STEP, as a crash or `kill -9` would.
void CrashPoint(const char* step) {
  const char* at = std::getenv("PGMERGE_TEST_CRASH_AT");
  if (at != nullptr && std::string_view(at) == step) raise(SIGKILL);
}

// ---- The journal ----------------------------------------------------------

struct Journal {
  std::string path;
  Json state;

  absl::Status Write(const std::string& step) {
    state["step"] = step;
    state["updated"] = UtcNow("%Y-%m-%dT%H:%M:%SZ");
    std::string text = state.dump(2) + "\n";
    std::string tmp = path + ".tmp";
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return absl::FailedPreconditionError(absl::StrCat("cannot write the state file ", path));
    bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ok = fsync(fd) == 0 && ok;
    ok = close(fd) == 0 && ok;
    // Renamed into place: a crash leaves the old journal or the new one.
    if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
      unlink(tmp.c_str());
      return absl::FailedPreconditionError(absl::StrCat("cannot write the state file ", path));
    }
    return absl::OkStatus();
  }
};

absl::StatusOr<Json> ReadJournal(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("no state file ", path));
  std::stringstream text;
  text << in.rdbuf();
  Json j = Json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || j.value("format", "") != "pgmerge-swap-state") {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a pgmerge swap state file"));
  }
  return j;
}

bool Finished(const std::string& step) {
  return step == "done" || step == "aborted" || step == "rolled_back" || step.empty();
}

// ---- The server -----------------------------------------------------------

struct DatabaseInfo {
  bool exists = false;
  bool allow_connections = true;
  bool is_template = false;
  std::string owner;
};

absl::StatusOr<DatabaseInfo> Database(PGconn* conn, const std::string& name) {
  PGM_ASSIGN_OR_RETURN(
      Result r, Exec(conn, absl::StrCat("SELECT datallowconn, datistemplate, "
                                        "pg_get_userbyid(datdba) FROM pg_database "
                                        "WHERE datname = ",
                                        Literal(conn, name))));
  DatabaseInfo info;
  if (PQntuples(r.get()) == 0) return info;
  info.exists = true;
  info.allow_connections = PQgetvalue(r.get(), 0, 0)[0] == 't';
  info.is_template = PQgetvalue(r.get(), 0, 1)[0] == 't';
  info.owner = PQgetvalue(r.get(), 0, 2);
  return info;
}

// Another session on a database, as pg_stat_activity shows it.
struct Session {
  int pid = 0;
  std::string who;  // user, application, client: for messages.
};

absl::StatusOr<std::vector<Session>> Sessions(PGconn* conn, const std::string& db,
                                              const std::vector<int>& except = {}) {
  std::string pids = "0";
  for (int pid : except) absl::StrAppend(&pids, ", ", pid);
  PGM_ASSIGN_OR_RETURN(
      Result r,
      Exec(conn, absl::StrCat(
                     "SELECT pid, format('pid %s (user %s, application %s%s)', pid, "
                     "coalesce(usename, '?'), coalesce(nullif(application_name, ''), '-'), "
                     "coalesce(', client ' || host(client_addr), '')) "
                     "FROM pg_stat_activity WHERE datname = ",
                     Literal(conn, db), " AND pid <> pg_backend_pid() AND pid NOT IN (", pids, ")",
                     " AND backend_type IN ('client backend', 'walsender') ORDER BY pid")));
  std::vector<Session> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    out.push_back({std::atoi(PQgetvalue(r.get(), i, 0)), PQgetvalue(r.get(), i, 1)});
  }
  return out;
}

std::string Describe(const std::vector<Session>& sessions) {
  std::vector<std::string> parts;
  for (const Session& s : sessions) parts.push_back(s.who);
  return absl::StrJoin(parts, "; ");
}

// Server identity for "same server": start time and port are readable by
// any role; the system identifier too where the role may read it.
absl::StatusOr<std::string> ServerIdentity(PGconn* conn) {
  PGM_ASSIGN_OR_RETURN(std::string id,
                       QueryValue(conn, "SELECT pg_postmaster_start_time()::text || ' port ' || "
                                        "current_setting('port')"));
  absl::StatusOr<std::string> sysid =
      QueryValue(conn, "SELECT system_identifier::text FROM pg_control_system()");
  if (sysid.ok()) absl::StrAppend(&id, " system ", *sysid);
  return id;
}

absl::Status SetAllowConnections(PGconn* conn, const std::string& db, bool allow) {
  return ExecCommand(conn, absl::StrCat("ALTER DATABASE ", Ident(conn, db), " ALLOW_CONNECTIONS ",
                                        allow ? "true" : "false"));
}

// Waits until `db` has no session but `except_pid`'s... and ours; returns
// whether it emptied before `deadline`.
absl::StatusOr<bool> WaitForNoSessions(PGconn* conn, const std::string& db,
                                       const std::vector<int>& except,
                                       Clock::time_point deadline,
                                       const std::function<bool()>& interrupted) {
  for (;;) {
    PGM_ASSIGN_OR_RETURN(std::vector<Session> s, Sessions(conn, db, except));
    if (s.empty()) return true;
    if (Clock::now() >= deadline) return false;
    if (interrupted && interrupted()) return absl::AbortedError("interrupted");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Waits until the backends `pids` have exited (a closed libpq connection's
// backend ends a moment later); false when `deadline` passes first.
absl::StatusOr<bool> WaitForExit(PGconn* admin, const std::vector<int>& pids,
                                 Clock::time_point deadline) {
  std::string list = "0";
  for (int pid : pids) absl::StrAppend(&list, ", ", pid);
  for (;;) {
    PGM_ASSIGN_OR_RETURN(
        std::string n,
        QueryValue(admin, absl::StrCat("SELECT count(*) FROM pg_stat_activity WHERE pid IN (",
                                       list, ")")));
    if (n == "0") return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Log(const std::function<void(std::string_view)>& log, const std::string& line) {
  if (log) log(line);
}

// ---- Closing a database and proving it unchanged ----------------------------

// Step 2 and 3 of a swap (and of a rollback): `db` is closed to new
// connections, writes are blocked while sessions get `grace` to finish, the
// rest are terminated; then, with pgmerge's own session the only one left,
// the database is compared with `manifest`. The caller renames after
// Release().
class Quiesce {
 public:
  // `session` takes the locks; `extra` sessions help the drift check.
  Quiesce(PGconn* admin, Conn session, std::vector<Conn> extra, std::string db,
          const std::function<void(std::string_view)>& log,
          const std::function<bool()>& interrupted)
      : admin_(admin), session_(std::move(session)), extra_(std::move(extra)), db_(std::move(db)),
        log_(log), interrupted_(interrupted) {}

  std::vector<int> OwnPids() const {
    std::vector<int> pids;
    if (session_) pids.push_back(PQbackendPID(session_.get()));
    for (const Conn& c : extra_) pids.push_back(PQbackendPID(c.get()));
    return pids;
  }

  // Closes `db` (and `also_close`, kept from latecomers until the renames).
  absl::Status Close(const std::vector<std::string>& also_close) {
    PGM_RETURN_IF_ERROR(SetAllowConnections(admin_, db_, false));
    for (const std::string& other : also_close) {
      PGM_RETURN_IF_ERROR(SetAllowConnections(admin_, other, false));
    }
    return absl::OkStatus();
  }

  // Blocks writes, lets sessions finish within `grace`, terminates the
  // rest and waits until they are gone. Returns how many were terminated.
  absl::StatusOr<int> Drain(double grace_seconds, double terminate_timeout_seconds) {
    const Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(grace_seconds * 1000));
    PGconn* s = session_.get();
    // EXCLUSIVE locks let readers go on and make every write wait: a write
    // attempted from now on fails when its session is terminated instead
    // of committing into a database about to be replaced. Taking them waits
    // for writes in flight, at most the grace period.
    PGM_ASSIGN_OR_RETURN(
        Result tables,
        Exec(s, "SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY 1) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"));
    std::string list = PQgetvalue(tables.get(), 0, 0);
    PGM_RETURN_IF_ERROR(ExecCommand(s, "BEGIN"));
    if (!list.empty()) {
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
      if (!locked.ok()) {
        Log(log_, absl::StrCat("swap: writes could not be blocked during the grace period (",
                               FirstLine(std::string(locked.message())),
                               "); sessions are terminated at its end and the drift check "
                               "sees anything they wrote"));
        PGM_RETURN_IF_ERROR(ExecCommand(s, "ROLLBACK"));
        PGM_RETURN_IF_ERROR(ExecCommand(s, "BEGIN"));
      } else {
        writes_blocked_ = true;
      }
    }
    const std::vector<int> own = OwnPids();
    PGM_ASSIGN_OR_RETURN(bool empty, WaitForNoSessions(admin_, db_, own, deadline, interrupted_));
    if (empty) return 0;
    PGM_ASSIGN_OR_RETURN(std::vector<Session> left, Sessions(admin_, db_, own));
    Log(log_, absl::StrCat("swap: grace period over, terminating ", left.size(),
                           " session(s) on ", db_, ": ", Describe(left)));
    for (const Session& session : left) {
      absl::StatusOr<std::string> r = QueryValue(
          admin_, absl::StrCat("SELECT pg_terminate_backend(", session.pid, ")"));
      if (!r.ok()) return r.status();
    }
    const Clock::time_point gone_by =
        Clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(terminate_timeout_seconds * 1000));
    PGM_ASSIGN_OR_RETURN(empty, WaitForNoSessions(admin_, db_, own, gone_by, interrupted_));
    if (!empty) {
      PGM_ASSIGN_OR_RETURN(std::vector<Session> still, Sessions(admin_, db_, own));
      return absl::AbortedError(absl::StrCat("sessions on ", db_, " did not end: ",
                                             Describe(still),
                                             " (the role may not terminate them?)"));
    }
    return static_cast<int>(left.size());
  }

  // With every other session gone, each statement sees every committed
  // write: the comparison is exact.
  absl::StatusOr<std::vector<TableDifference>> Check(const std::vector<ManifestTable>& manifest,
                                                     bool include_new_tables,
                                                     int64_t* rows_checked) {
    std::vector<PGconn*> sessions = {session_.get()};
    for (const Conn& c : extra_) sessions.push_back(c.get());
    PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> diff,
                         internal::CompareWithManifest(sessions, manifest, rows_checked));
    if (include_new_tables) {
      PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> extra,
                           internal::TablesNotInManifest(session_.get(), manifest));
      diff.insert(diff.end(), extra.begin(), extra.end());
    }
    return diff;
  }

  // Ends pgmerge's own session on the database and waits for its backend to
  // exit: a rename refuses while anyone, us included, is connected.
  absl::Status Release() {
    const std::vector<int> pids = OwnPids();
    if (pids.empty()) return absl::OkStatus();
    session_.reset();
    extra_.clear();
    PGM_ASSIGN_OR_RETURN(bool gone,
                         WaitForExit(admin_, pids, Clock::now() + std::chrono::seconds(10)));
    if (!gone) return absl::AbortedError("pgmerge's own sessions on main did not end");
    return absl::OkStatus();
  }

  bool writes_blocked() const { return writes_blocked_; }

  static std::string FirstLine(std::string_view message) {
    return std::string(message.substr(0, message.find('\n')));
  }

 private:
  PGconn* admin_;
  Conn session_;
  std::vector<Conn> extra_;
  std::string db_;
  const std::function<void(std::string_view)>& log_;
  const std::function<bool()>& interrupted_;
  bool writes_blocked_ = false;
};

std::vector<std::string> Describe(const std::vector<TableDifference>& diff) {
  std::vector<std::string> out;
  for (const TableDifference& d : diff) out.push_back(d.Describe());
  return out;
}

std::string OldNameFor(const std::string& main) {
  std::string suffix = UtcNow("_old_%Y%m%d_%H%M%S");
  // NAMEDATALEN - 1 bytes; cut the main part, never the timestamp.
  std::string prefix = main.substr(0, std::min<size_t>(main.size(), 63 - suffix.size()));
  while (!prefix.empty() && (static_cast<unsigned char>(prefix.back()) & 0xC0) == 0x80) {
    prefix.pop_back();  // No half UTF-8 character.
  }
  if (!prefix.empty() && (static_cast<unsigned char>(prefix.back()) & 0xC0) == 0xC0) {
    prefix.pop_back();
  }
  return prefix + suffix;
}

// Renames in one transaction and reopens `reopen`: there is no moment
// without a database of that name.
absl::Status RenameAndReopen(PGconn* admin,
                             const std::vector<std::pair<std::string, std::string>>& renames,
                             const std::vector<std::pair<std::string, bool>>& allow) {
  std::string sql = "BEGIN; ";
  for (const auto& [from, to] : renames) {
    absl::StrAppend(&sql, "ALTER DATABASE ", Ident(admin, from), " RENAME TO ", Ident(admin, to),
                    "; ");
  }
  for (const auto& [db, on] : allow) {
    absl::StrAppend(&sql, "ALTER DATABASE ", Ident(admin, db), " ALLOW_CONNECTIONS ",
                    on ? "true" : "false", "; ");
  }
  absl::Status s = ExecCommand(admin, sql + "COMMIT");
  if (!s.ok() && PQtransactionStatus(admin) != PQTRANS_IDLE) {
    ExecCommand(admin, "ROLLBACK").IgnoreError();
  }
  return s;
}

struct Names {
  std::string main, shadow, old_name;
};

// The server's answer to "where did the swap get to": renamed or not.
enum class ServerState { kBefore, kAfter, kNeither };

absl::StatusOr<ServerState> StateOf(PGconn* admin, const Names& n) {
  PGM_ASSIGN_OR_RETURN(DatabaseInfo main, Database(admin, n.main));
  PGM_ASSIGN_OR_RETURN(DatabaseInfo shadow, Database(admin, n.shadow));
  PGM_ASSIGN_OR_RETURN(DatabaseInfo old, Database(admin, n.old_name));
  if (main.exists && shadow.exists && !old.exists) return ServerState::kBefore;
  if (main.exists && !shadow.exists && old.exists) return ServerState::kAfter;
  return ServerState::kNeither;
}

std::string StateText(PGconn* admin, const Names& n) {
  auto exists = [&](const std::string& db) {
    absl::StatusOr<DatabaseInfo> i = Database(admin, db);
    return i.ok() && i->exists ? "exists" : "missing";
  };
  return absl::StrCat(n.main, " ", exists(n.main), ", ", n.shadow, " ", exists(n.shadow), ", ",
                      n.old_name, " ", exists(n.old_name));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// ---- swap -------------------------------------------------------------------

absl::StatusOr<SwapResult> RunSwap(const SwapOptions& o, PGconn* admin, Conn main_conn,
                                   std::vector<Conn> extra, const Names& names, Journal* journal,
                                   const std::vector<ManifestTable>& prod,
                                   bool shadow_allowed) {
  SwapResult result;
  result.main = names.main;
  result.shadow = names.shadow;
  result.old_name = names.old_name;

  // Step 2: close. From here on, any failure reopens what was closed.
  const Clock::time_point dark_start = Clock::now();
  PGM_RETURN_IF_ERROR(journal->Write("closing"));
  Quiesce q(admin, std::move(main_conn), std::move(extra), names.main, o.log, o.interrupted);
  auto reopen = [&](const absl::Status& why) -> absl::Status {
    q.Release().IgnoreError();
    absl::Status a = SetAllowConnections(admin, names.main, true);
    absl::Status b = SetAllowConnections(admin, names.shadow, shadow_allowed);
    if (a.ok() && b.ok()) journal->Write("aborted").IgnoreError();
    if (!a.ok()) {
      return absl::InternalError(absl::StrCat(
          why.message(), "; and reopening ", names.main, " failed: ", a.message(),
          ". Run `pgmerge rollback --main ", names.main, "` to reopen it"));
    }
    return why;
  };
  absl::Status closed = q.Close({names.shadow});
  if (!closed.ok()) return reopen(closed);
  if (absl::Status w = journal->Write("closed"); !w.ok()) return reopen(w);
  Log(o.log, absl::StrCat("swap: step 2: ", names.main,
                          " closed to new connections; sessions get ",
                          absl::StrFormat("%.1f", o.grace_seconds), " s"));
  CrashPoint("closed");

  Clock::time_point t = Clock::now();
  absl::StatusOr<int> terminated = q.Drain(o.grace_seconds, o.terminate_timeout_seconds);
  if (!terminated.ok()) {
    return reopen(absl::AbortedError(absl::StrCat(
        "swap stopped: ", terminated.status().message(), "; ", names.main, " reopened")));
  }
  result.sessions_terminated = *terminated;
  result.waiting_ms = MillisSince(t);
  if (absl::Status w = journal->Write("sessions_gone"); !w.ok()) return reopen(w);
  CrashPoint("sessions_gone");

  // Step 3: the exact drift check, nobody else connected.
  t = Clock::now();
  absl::StatusOr<std::vector<TableDifference>> diff =
      q.Check(prod, /*include_new_tables=*/true, &result.rows_checked);
  if (!diff.ok()) {
    return reopen(absl::AbortedError(absl::StrCat(
        "swap stopped: the drift check failed: ", diff.status().message(), "; ", names.main,
        " reopened")));
  }
  result.drift_check_ms = MillisSince(t);
  if (!diff->empty()) {
    result.outcome = SwapResult::Outcome::kDrift;
    result.drift = Describe(*diff);
    absl::Status s = reopen(absl::OkStatus());
    if (!s.ok()) return s;
    result.dark_window_ms = MillisSince(dark_start);
    return result;
  }
  if (o.interrupted && o.interrupted()) {
    return reopen(absl::AbortedError(absl::StrCat("swap interrupted; ", names.main, " reopened")));
  }
  if (absl::Status w = journal->Write("drift_checked"); !w.ok()) return reopen(w);
  Log(o.log, absl::StrCat("swap: step 3: ", names.main, " unchanged since the dump (",
                          result.rows_checked, " rows in ", prod.size(), " tables, ",
                          result.drift_check_ms, " ms)"));
  CrashPoint("drift_checked");

  // Step 4: both renames and the reopening in one transaction.
  absl::Status released = q.Release();
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
  CrashPoint("renamed");
  journal->state["dark_window_ms"] = result.dark_window_ms;
  PGM_RETURN_IF_ERROR(journal->Write("done"));
  return result;
}

}  // namespace

std::string DefaultStatePath(std::string_view main) {
  std::string safe;
  for (char c : main) {
    safe.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'
                       ? c
                       : '_');
  }
  return absl::StrCat("pgmerge-swap-", safe, ".json");
}

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
  absl::StatusOr<Json> previous = ReadJournal(journal.path);
  if (o.resume) {
    if (!previous.ok()) return refuse(absl::StrCat("--resume: ", previous.status().message()));
    names.main = previous->value("main", "");
    names.shadow = previous->value("shadow", "");
    names.old_name = previous->value("old", "");
    shadow_allowed = previous->value("shadow_allowed_connections", true);
    if (names.main != main_name) {
      return refuse(absl::StrCat("--resume: ", journal.path, " is the swap of ", names.main,
                                 ", not of ", main_name));
    }
    journal.state = *previous;
    const std::string step = previous->value("step", "");
    if (step == "done") {
      return refuse(absl::StrCat("--resume: the swap in ", journal.path,
                                 " is done; nothing to resume"));
    }
    PGM_ASSIGN_OR_RETURN(ServerState state, StateOf(admin.get(), names));
    if (state == ServerState::kAfter) {
      // Crashed between the renames' commit and the journal: finish it.
      if (!o.dry_run) {
        PGM_RETURN_IF_ERROR(SetAllowConnections(admin.get(), names.main, true));
        PGM_RETURN_IF_ERROR(journal.Write("done"));
      }
      Log(o.log, absl::StrCat("swap: --resume: the renames had been committed; ", names.main,
                              " is the merged database and open"));
      SwapResult r;
      r.main = names.main;
      r.shadow = names.shadow;
      r.old_name = names.old_name;
      r.resumed_after_rename = true;
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

  // The shadow is what the merge wrote.
  {
    PGM_ASSIGN_OR_RETURN(Conn s, internal::Connect(shadow_full ? o.shadow : o.server,
                                                   shadow_full ? "" : names.shadow));
    Log(o.log, absl::StrCat("swap: step 1: verifying ", names.shadow, " against the report"));
    PGM_ASSIGN_OR_RETURN(VerifyResult v, internal::VerifyConnected(s.get(), output));
    if (!v.ok()) {
      return refuse(absl::StrCat("the shadow ", names.shadow,
                                 " does not hold what the merge wrote: ",
                                 absl::StrJoin(v.problems, "; "),
                                 " (run pgmerge verify; restore the merge again)"));
    }
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
  for (int i = 1; i < o.jobs; ++i) {
    PGM_ASSIGN_OR_RETURN(Conn c, internal::Connect(main_full ? o.main : o.server,
                                                   main_full ? "" : names.main));
    sessions.push_back(c.get());
    extra.push_back(std::move(c));
  }
  {
    PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> diff,
                         internal::CompareWithManifest(sessions, prod, &live.rows_checked));
    PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> extra,
                         internal::TablesNotInManifest(main_conn.get(), prod));
    diff.insert(diff.end(), extra.begin(), extra.end());
    if (!diff.empty()) {
      live.outcome = SwapResult::Outcome::kDrift;
      live.drift = Describe(diff);
      live.drift_seen_live = true;
      return live;
    }
  }
  Log(o.log, absl::StrCat("swap: step 1: preconditions hold; ", names.main,
                          " matches production's dump (", live.rows_checked, " rows)"));
  if (o.dry_run) {
    live.outcome = SwapResult::Outcome::kDryRun;
    return live;
  }

  journal.state = Json::object();
  journal.state["format"] = "pgmerge-swap-state";
  journal.state["version"] = 1;
  journal.state["main"] = names.main;
  journal.state["shadow"] = names.shadow;
  journal.state["old"] = names.old_name;
  journal.state["report"] = report_path;
  journal.state["shadow_allowed_connections"] = shadow_allowed;
  journal.state["started"] = UtcNow("%Y-%m-%dT%H:%M:%SZ");
  PGM_RETURN_IF_ERROR(journal.Write("preconditions_ok"));
  CrashPoint("preconditions_ok");
  return RunSwap(o, admin.get(), std::move(main_conn), std::move(extra), names, &journal, prod,
                 shadow_allowed);
}

// ---- rollback ---------------------------------------------------------------

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
  CrashPoint("rolled_back");
  if (previous.ok()) PGM_RETURN_IF_ERROR(journal.Write("rolled_back"));
  return result;
}

}  // namespace pgmerge::swap
