// What swap and rollback ask the server (internal to swap/): databases and
// their flags, the sessions on one, waiting for sessions to go, the renames
// in one transaction, and where an interrupted swap left the server.
#ifndef PGMERGE_SWAP_SERVER_H_
#define PGMERGE_SWAP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "swap/pg.h"

namespace pgmerge::swap::internal {

using Clock = std::chrono::steady_clock;

inline int64_t MillisSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

inline void Log(const std::function<void(std::string_view)>& log, const std::string& line) {
  if (log) log(line);
}

struct DatabaseInfo {
  bool exists = false;
  bool allow_connections = true;
  bool is_template = false;
  std::string owner;
};

absl::StatusOr<DatabaseInfo> Database(PGconn* conn, const std::string& name);

// Another session on a database, as pg_stat_activity shows it: client
// backends and walsenders (those a rename waits for).
struct Session {
  int pid = 0;
  std::string who;  // user, application, client: for messages.
};

absl::StatusOr<std::vector<Session>> Sessions(PGconn* conn, const std::string& db,
                                              const std::vector<int>& except = {});
std::string Describe(const std::vector<Session>& sessions);

// The other backends on `db`: background workers (a pg_cron job, a logical
// replication apply worker, an extension's worker, another client's
// parallel worker), which a rename also waits for and which may write.
// Autovacuum workers are left out (the rename stops them itself), and so
// are the parallel workers of the sessions in `except`.
absl::StatusOr<std::vector<Session>> BackgroundSessions(PGconn* conn, const std::string& db,
                                                        const std::vector<int>& except = {});

// Server identity for "same server": start time, port and, where the role
// may read it, the system identifier.
absl::StatusOr<std::string> ServerIdentity(PGconn* conn);

absl::Status SetAllowConnections(PGconn* conn, const std::string& db, bool allow);

// Waits until `db` has no session but those in `except` (and ours); true
// when it emptied before `deadline`. Aborted when `interrupted` says so.
absl::StatusOr<bool> WaitForNoSessions(PGconn* conn, const std::string& db,
                                       const std::vector<int>& except,
                                       Clock::time_point deadline,
                                       const std::function<bool()>& interrupted);

// Waits until the backends `pids` have exited (a closed libpq connection's
// backend ends a moment later); false when `deadline` passes first.
absl::StatusOr<bool> WaitForExit(PGconn* admin, const std::vector<int>& pids,
                                 Clock::time_point deadline);

// Renames in one transaction and sets ALLOW_CONNECTIONS per `allow`: there
// is no moment without a database of each target name.
absl::Status RenameAndReopen(PGconn* admin,
                             const std::vector<std::pair<std::string, std::string>>& renames,
                             const std::vector<std::pair<std::string, bool>>& allow);

// `base + suffix` cut to a database name's NAMEDATALEN - 1 bytes: the
// base is cut, never the suffix, and never inside a UTF-8 character.
std::string FitName(const std::string& base, const std::string& suffix);

struct Names {
  std::string main, shadow, old_name;
};

// The server's answer to "where did the swap get to": renamed or not.
enum class ServerState { kBefore, kAfter, kNeither };

absl::StatusOr<ServerState> StateOf(PGconn* admin, const Names& n);
// Which of the three databases exist, for messages.
std::string StateText(PGconn* admin, const Names& n);

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_SERVER_H_
