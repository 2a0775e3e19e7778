#include "swap/server.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "base/status.h"

namespace pgmerge::swap::internal {

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

namespace {

// The backends on `db` but ours and `except`, described by `who` (SQL over
// pg_stat_activity), filtered by `where` (which may use `$EXCEPT`).
absl::StatusOr<std::vector<Session>> Backends(PGconn* conn, const std::string& db,
                                              const std::vector<int>& except,
                                              const std::string& who, const std::string& where) {
  std::string pids = "0";
  for (int pid : except) absl::StrAppend(&pids, ", ", pid);
  PGM_ASSIGN_OR_RETURN(
      Result r,
      Exec(conn, absl::StrCat("SELECT pid, ", who, " FROM pg_stat_activity WHERE datname = ",
                              Literal(conn, db), " AND pid <> pg_backend_pid() AND pid NOT IN (",
                              pids, ") AND ",
                              absl::StrReplaceAll(where, {{"$EXCEPT", pids}}), " ORDER BY pid")));
  std::vector<Session> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    out.push_back({std::atoi(PQgetvalue(r.get(), i, 0)), PQgetvalue(r.get(), i, 1)});
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Session>> Sessions(PGconn* conn, const std::string& db,
                                              const std::vector<int>& except) {
  return Backends(conn, db, except,
                  "format('pid %s (user %s, application %s%s)', pid, "
                  "coalesce(usename, '?'), coalesce(nullif(application_name, ''), '-'), "
                  "coalesce(', client ' || host(client_addr), ''))",
                  "backend_type IN ('client backend', 'walsender')");
}

absl::StatusOr<std::vector<Session>> BackgroundSessions(PGconn* conn, const std::string& db,
                                                        const std::vector<int>& except) {
  return Backends(conn, db, except,
                  "format('pid %s (%s%s)', pid, backend_type, "
                  "coalesce(', application ' || nullif(application_name, ''), ''))",
                  "backend_type NOT IN ('client backend', 'walsender', 'autovacuum worker') "
                  "AND (leader_pid IS NULL OR leader_pid NOT IN ($EXCEPT))");
}

std::string Describe(const std::vector<Session>& sessions) {
  std::vector<std::string> parts;
  for (const Session& s : sessions) parts.push_back(s.who);
  return absl::StrJoin(parts, "; ");
}

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

absl::StatusOr<bool> WaitForNoSessions(PGconn* conn, const std::string& db,
                                       const std::vector<int>& except,
                                       Clock::time_point deadline,
                                       const std::function<bool()>& interrupted) {
  for (;;) {
    PGM_ASSIGN_OR_RETURN(std::vector<Session> s, Sessions(conn, db, except));
    if (s.empty()) return true;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return false;
    if (interrupted && interrupted()) return absl::AbortedError("interrupted");
    // Not past the deadline: the grace period ends when it says.
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(20), deadline - now));
  }
}

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

std::string FitName(const std::string& base, const std::string& suffix) {
  std::string prefix = base.substr(0, std::min<size_t>(base.size(), 63 - suffix.size()));
  while (!prefix.empty() && (static_cast<unsigned char>(prefix.back()) & 0xC0) == 0x80) {
    prefix.pop_back();  // No half UTF-8 character.
  }
  if (!prefix.empty() && (static_cast<unsigned char>(prefix.back()) & 0xC0) == 0xC0) {
    prefix.pop_back();
  }
  return prefix + suffix;
}

}  // namespace pgmerge::swap::internal
