#include "swap/dump.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "merger/manifest.h"
#include "nlohmann/json.hpp"
#include "swap/pg.h"

namespace pgmerge::swap {
namespace {



using internal::Conn;
using internal::Result;

// libpq keywords for the connection the options name; `replication` adds
// the walsender mode.
absl::StatusOr<Conn> ConnectAs(const DumpOptions& o, bool replication) {
  // dbname first: it is expanded as conninfo or URI, and the flags after it
  // override what it says, as psql and pg_dump do.
  std::vector<std::pair<std::string, std::string>> params;
  if (!o.dbname.empty()) params.emplace_back("dbname", o.dbname);
  if (!o.host.empty()) params.emplace_back("host", o.host);
  if (!o.port.empty()) params.emplace_back("port", o.port);
  if (!o.user.empty()) params.emplace_back("user", o.user);
  if (replication) params.emplace_back("replication", "database");
  params.emplace_back("fallback_application_name", "pgmerge dump");
  return internal::ConnectWith(params);
}

std::string SlotName() {
  std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &tm);
  return absl::StrCat("pgmerge_", stamp, "_", getpid());
}

absl::StatusOr<std::vector<StaleSlot>> PgmergeSlots(PGconn* conn) {
  PGM_ASSIGN_OR_RETURN(
      Result r,
      internal::Exec(conn,
                     "SELECT slot_name, coalesce(database, ''), active, "
                     "coalesce(pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), "
                     "restart_lsn)), '?') FROM pg_replication_slots "
                     "WHERE slot_name LIKE 'pgmerge\\_%' ORDER BY slot_name"));
  std::vector<StaleSlot> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    out.push_back({PQgetvalue(r.get(), i, 0), PQgetvalue(r.get(), i, 1),
                   std::string(PQgetvalue(r.get(), i, 2)) == "t",
                   PQgetvalue(r.get(), i, 3)});
  }
  return out;
}

// The pg_dump children, for the signal handler: SIGTERM to us is passed on,
// so pg_dump stops and we still drop the slot.
volatile sig_atomic_t g_children[2] = {0, 0};
void ForwardTerm(int) {
  for (sig_atomic_t pid : g_children) {
    if (pid > 0) kill(pid, SIGTERM);
  }
}

// pg_dump's command line for one database ("" snapshot: none).
std::vector<std::string> PgDumpArgv(const DumpOptions& o, bool dev, const std::string& snapshot) {
  std::vector<std::string> argv = {o.pg_dump};
  // Development given by name is on production's server; a conninfo string
  // or URI names its own.
  const bool own_server = dev && (absl::StrContains(o.dev, "=") || absl::StrContains(o.dev, "://"));
  const std::string& dbname = dev ? o.dev : o.dbname;
  if (!dbname.empty()) argv.push_back("--dbname=" + dbname);
  if (!own_server) {
    if (!o.host.empty()) argv.push_back("--host=" + o.host);
    if (!o.port.empty()) argv.push_back("--port=" + o.port);
    if (!o.user.empty()) argv.push_back("--username=" + o.user);
  }
  argv.push_back("--file=" + (dev ? o.dev_file : o.file));
  if (!snapshot.empty()) argv.push_back("--snapshot=" + snapshot);
  argv.insert(argv.end(), o.pg_dump_args.begin(), o.pg_dump_args.end());
  return argv;
}

// One pg_dump process: started, then reaped with its stderr.
struct PgDumpRun {
  std::string what;  // "" for production, "development's " for --dev.
  pid_t pid = -1;
  int err_fd = -1;
  absl::Status status;
};

absl::Status Spawn(std::vector<std::string> argv, int slot, PgDumpRun* run) {
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  // Values in the form the merge compares them in (manifest::kRowSettings),
  // so the dump needs no copy (merger/canonical.cc): the settings go last in
  // PGOPTIONS, and PGTZ, which libpq would send over them, is left out.
  // Made before fork: the child only execs.
  std::string options = "PGOPTIONS=";
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "PGTZ=", 5) == 0) continue;
    if (std::strncmp(*e, "PGOPTIONS=", 10) == 0) {
      absl::StrAppend(&options, *e + 10, " ");
      continue;
    }
    env.push_back(*e);
  }
  for (const manifest::RowSetting& s : manifest::kRowSettings) {
    absl::StrAppend(&options, "-c ", s.name, "=", s.value, " ");
  }
  env.push_back(options.data());
  env.push_back(nullptr);
  int err_pipe[2];
  if (pipe(err_pipe) != 0) return absl::InternalError("pipe failed");
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    close(err_pipe[0]);
    dup2(err_pipe[1], 2);
    execvpe(args[0], args.data(), env.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  g_children[slot] = pid;
  close(err_pipe[1]);
  run->pid = pid;
  run->err_fd = err_pipe[0];
  return absl::OkStatus();
}

// Reads the child's stderr to its end (echoed as it comes when logging),
// then waits for it.
void Reap(const DumpOptions& o, int slot, PgDumpRun* run) {
  std::string err;
  char buf[4096];
  for (;;) {
    ssize_t n = read(run->err_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    err.append(buf, n);
    if (o.log) std::fwrite(buf, 1, n, stderr);  // pg_dump's own warnings.
  }
  close(run->err_fd);
  int status = 0;
  while (waitpid(run->pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_children[slot] = 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  run->status = absl::InternalError(absl::StrCat(
      run->what, o.pg_dump,
      WIFEXITED(status) ? absl::StrCat(" exited ", WEXITSTATUS(status))
                        : absl::StrCat(" killed by signal ", WTERMSIG(status)),
      err.empty() ? "" : ": ", err));
}

// Runs pg_dump, and development's beside it when asked; SIGINT (the
// terminal's Ctrl-C reaches pg_dump too) and SIGTERM do not kill us before
// we have cleaned up. The first failure, production's first.
absl::Status RunPgDumps(const DumpOptions& o, const std::string& snapshot) {
  struct sigaction ignore = {}, old_int = {}, term = {}, old_term = {};
  ignore.sa_handler = SIG_IGN;
  term.sa_handler = ForwardTerm;
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGTERM, &term, &old_term);
  PgDumpRun runs[2];
  runs[1].what = "development's ";
  const int count = o.dev_file.empty() ? 1 : 2;
  absl::Status started = absl::OkStatus();
  int spawned = 0;
  while (spawned < count) {
    const bool dev = spawned == 1;
    started = Spawn(PgDumpArgv(o, dev, dev ? "" : snapshot), spawned, &runs[spawned]);
    if (!started.ok()) break;
    ++spawned;
  }
  if (!started.ok() && spawned == 1) kill(runs[0].pid, SIGTERM);
  // Each child's stderr is read on its own thread: one that fills its pipe
  // must not wait for the other to end.
  std::thread dev;
  if (spawned == 2) dev = std::thread([&] { Reap(o, 1, &runs[1]); });
  if (spawned >= 1) Reap(o, 0, &runs[0]);
  if (dev.joinable()) dev.join();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  PGM_RETURN_IF_ERROR(started);
  PGM_RETURN_IF_ERROR(runs[0].status);
  return runs[1].status;
}

// Drops the slot this run created: over the replication connection when it
// is still up, else over a fresh ordinary one.
absl::Status DropSlot(const DumpOptions& o, PGconn* replication, const std::string& slot) {
  if (replication != nullptr && PQstatus(replication) == CONNECTION_OK) {
    absl::Status s = internal::ExecCommand(
        replication, absl::StrCat("DROP_REPLICATION_SLOT ", internal::Ident(replication, slot)));
    if (s.ok()) return s;
  }
  PGM_ASSIGN_OR_RETURN(Conn conn, ConnectAs(o, false));
  return internal::Exec(conn.get(), absl::StrCat("SELECT pg_drop_replication_slot(",
                                                 internal::Literal(conn.get(), slot), ")"))
      .status();
}

}  // namespace

std::string SidecarPath(std::string_view dump_file) {
  return absl::StrCat(AsAbsl(dump_file), ".pgmerge.json");
}

absl::StatusOr<DumpResult> Dump(const DumpOptions& o) {
  DumpResult result;
  const std::string sidecar = SidecarPath(o.file);
  // A sidecar left by an earlier dump to the same file would name a slot
  // this dump does not start from.
  std::remove(sidecar.c_str());
  PGM_ASSIGN_OR_RETURN(Conn conn, ConnectAs(o, false));
  PGM_ASSIGN_OR_RETURN(result.database, internal::QueryValue(conn.get(), "SELECT current_database()"));
  PGM_ASSIGN_OR_RETURN(std::string wal_level, internal::QueryValue(conn.get(), "SHOW wal_level"));
  PGM_ASSIGN_OR_RETURN(std::string max_slots,
                       internal::QueryValue(conn.get(), "SHOW max_replication_slots"));
  PGM_ASSIGN_OR_RETURN(result.stale_slots, PgmergeSlots(conn.get()));
  if (wal_level != "logical" || max_slots == "0") {
    result.why_plain =
        wal_level != "logical"
            ? absl::StrCat("wal_level is ", wal_level,
                           ", not logical: dumped without a change stream, so writes "
                           "made after this dump cannot be caught up (swap refuses "
                           "them). To turn it on: ALTER SYSTEM SET wal_level = logical; "
                           "then restart the server")
            : "max_replication_slots is 0: dumped without a change stream. To turn it "
              "on: ALTER SYSTEM SET max_replication_slots = 10; then restart the server";
    PGM_RETURN_IF_ERROR(RunPgDumps(o, ""));
    result.dev_dumped = !o.dev_file.empty();
    return result;
  }
  conn.reset();
  PGM_ASSIGN_OR_RETURN(Conn repl, ConnectAs(o, true));
  result.slot = SlotName();
  // PostgreSQL 15's option list; the older keyword form for 10 to 14.
  const bool new_syntax = PQserverVersion(repl.get()) >= 150000;
  std::string create = absl::StrCat(
      "CREATE_REPLICATION_SLOT ", internal::Ident(repl.get(), result.slot),
      " LOGICAL test_decoding", new_syntax ? " (SNAPSHOT 'export')" : " EXPORT_SNAPSHOT");
  absl::StatusOr<Result> created = internal::Exec(repl.get(), create);
  if (!created.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create the replication slot (the role needs REPLICATION or "
        "superuser, and a free slot): ",
        created.status().message()));
  }
  result.consistent_lsn = PQgetvalue(created->get(), 0, 1);
  result.snapshot = PQgetvalue(created->get(), 0, 2);
  if (o.log) {
    o.log(absl::StrCat("slot ", result.slot, " created at ", result.consistent_lsn,
                       "; dumping on snapshot ", result.snapshot));
  }
  absl::Status dumped = RunPgDumps(o, result.snapshot);
  if (dumped.ok()) {
    nlohmann::ordered_json j;
    j["format"] = "pgmerge-dump";
    j["version"] = 1;
    j["database"] = result.database;
    j["slot"] = result.slot;
    j["plugin"] = "test_decoding";
    j["consistent_lsn"] = result.consistent_lsn;
    j["snapshot"] = result.snapshot;
    std::ofstream out(sidecar, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.close();
    if (!out) dumped = absl::InternalError(absl::StrCat("cannot write ", sidecar));
  }
  if (!dumped.ok()) {
    absl::Status dropped = DropSlot(o, repl.get(), result.slot);
    std::remove(sidecar.c_str());
    if (!dropped.ok()) {
      return absl::InternalError(absl::StrCat(
          dumped.message(), "; and the slot ", result.slot,
          " could not be dropped (drop it with SELECT pg_drop_replication_slot('",
          result.slot, "'), it holds WAL back): ", dropped.message()));
    }
    return dumped;
  }
  result.sidecar = sidecar;
  result.logical = true;
  result.dev_dumped = !o.dev_file.empty();
  return result;
}

}  // namespace pgmerge::swap
