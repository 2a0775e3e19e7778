#include "tests/test_postgres.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/strings.h"

namespace pgmerge::testing {
namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin/";

std::string Bin(std::string_view program) {
  return absl::StrCat(kBin, AsAbsl(program));
}

bool IsRoot() { return geteuid() == 0; }

// Server programs refuse to run as root: run them as `postgres` then.
std::vector<std::string> AsServerUser(std::vector<std::string> argv) {
  if (!IsRoot()) return argv;
  std::vector<std::string> wrapped = {"/usr/sbin/runuser", "-u", "postgres",
                                      "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

absl::Status CommandStatus(const std::vector<std::string>& argv,
                           const absl::StatusOr<CommandResult>& r) {
  if (!r.ok()) return r.status();
  if (r->exit_code == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "),
                                          " exited ", r->exit_code, ": ",
                                          r->err, r->out.substr(0, 2000)));
}

}  // namespace

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         std::string_view input,
                                         const std::string& stdout_file) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError("pipe failed");
  }
  int out_fd = -1;
  if (!stdout_file.empty()) {
    out_fd = open(stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0644);
    if (out_fd < 0) {
      return absl::InternalError(absl::StrCat("cannot write ", stdout_file));
    }
  }
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_fd >= 0 ? out_fd : out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (out_fd >= 0) close(out_fd);
  signal(SIGPIPE, SIG_IGN);
  CommandResult result;
  size_t written = 0;
  int in_fd = in_pipe[1];
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open || in_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out_open) { fds[n] = {out_pipe[0], POLLIN, 0}; out_i = n++; }
    if (err_open) { fds[n] = {err_pipe[0], POLLIN, 0}; err_i = n++; }
    if (in_fd >= 0) { fds[n] = {in_fd, POLLOUT, 0}; in_i = n++; }
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto drain = [&](int i, int fd, std::string* to, bool* open_flag) {
      if (i < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) return;
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) {
        *open_flag = false;
      } else {
        to->append(buf, r);
      }
    };
    drain(out_i, out_pipe[0], &result.out, &out_open);
    drain(err_i, err_pipe[0], &result.err, &err_open);
    if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(in_fd, input.data() + written,
                        std::min<size_t>(input.size() - written, 65536));
      if (w <= 0) {
        close(in_fd);
        in_fd = -1;
      } else {
        written += w;
        if (written == input.size()) {
          close(in_fd);
          in_fd = -1;
        }
      }
    }
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

absl::StatusOr<std::unique_ptr<TestPostgres>> TestPostgres::Start(
    const std::vector<std::string>& settings) {
  const char* tmp = getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp ? tmp : "/tmp", "/pgmerge-pg-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  std::unique_ptr<TestPostgres> pg(new TestPostgres());
  pg->dir_ = pattern;
  pg->scratch_ = pattern + "/scratch";
  mkdir(pg->scratch_.c_str(), 0777);
  chmod(pattern.c_str(), 0777);
  chmod(pg->scratch_.c_str(), 0777);
  if (IsRoot()) {
    struct passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          "running as root needs a `postgres` user to run the server as");
    }
    if (chown(pattern.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return absl::InternalError("chown of the server directory failed");
    }
  }
  std::string data = pattern + "/data";
  std::vector<std::string> initdb = AsServerUser(
      {Bin("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E",
       "UTF8", "--locale=C.UTF-8", "--no-sync"});
  absl::StatusOr<CommandResult> r = RunCommand(initdb);
  if (r.ok() && r->exit_code != 0) {
    // Older glibc images lack C.UTF-8.
    initdb = AsServerUser({Bin("initdb"), "-D", data, "-U", "postgres",
                           "--auth=trust", "-E", "UTF8", "--locale=C",
                           "--no-sync"});
    r = RunCommand(initdb);
  }
  if (absl::Status s = CommandStatus(initdb, r); !s.ok()) return s;
  // A port is only a socket file name here, but it must not clash with a
  // server another test binary runs in parallel: derive it from the pid.
  for (int attempt = 0; attempt < 5 && !pg->running_; ++attempt) {
    pg->port_ = 20000 + (getpid() * 7 + attempt * 131) % 40000;
    std::vector<std::string> start = AsServerUser(
        {Bin("pg_ctl"), "-D", data, "-l", pattern + "/server.log", "-w", "-t",
         "60", "-o",
         absl::StrCat("-k ", pattern, " -c listen_addresses='' -p ", pg->port_,
                      " -c fsync=off -c synchronous_commit=off",
                      " -c full_page_writes=off -c max_connections=40",
                      absl::StrJoin(settings, "", [](std::string* out, const std::string& s) {
                        absl::StrAppend(out, " -c ", s);
                      })),
         "start"});
    r = RunCommand(start);
    if (r.ok() && r->exit_code == 0) pg->running_ = true;
  }
  if (!pg->running_) {
    return absl::InternalError(absl::StrCat("pg_ctl start failed: ",
                                            r.ok() ? r->err : ""));
  }
  return pg;
}

TestPostgres::~TestPostgres() {
  if (running_) {
    RunCommand(AsServerUser({Bin("pg_ctl"), "-D", dir_ + "/data", "-m",
                             "immediate", "-w", "stop"}))
        .IgnoreError();
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> TestPostgres::ClientArgs(std::string_view program,
                                                  std::string_view db) const {
  return {Bin(program), "-h", dir_, "-p", absl::StrCat(port_), "-U",
          "postgres", "-d", std::string(db)};
}

std::string TestPostgres::ConnString(std::string_view db) const {
  std::string quoted;  // conninfo quoting: names may hold spaces and quotes.
  for (char c : db) {
    if (c == '\'' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  return absl::StrCat("host=", dir_, " port=", port_, " user=postgres dbname='",
                      quoted, "'");
}

namespace {
std::string QuoteName(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}
}  // namespace

absl::Status TestPostgres::CreateDatabase(std::string_view name) {
  return Exec("postgres", absl::StrCat("CREATE DATABASE ", QuoteName(name)));
}

absl::Status TestPostgres::DropDatabase(std::string_view name) {
  return Exec("postgres", absl::StrCat("DROP DATABASE IF EXISTS ", QuoteName(name),
                                       " WITH (FORCE)"));
}

absl::Status TestPostgres::Restore(std::string_view db,
                                   const std::string& sql_file) {
  std::vector<std::string> argv = ClientArgs("psql", db);
  argv.insert(argv.end(), {"-X", "-q", "-v", "ON_ERROR_STOP=1",
                           "--single-transaction", "-o", "/dev/null", "-f",
                           sql_file});
  return CommandStatus(argv, RunCommand(argv));
}

absl::Status TestPostgres::Exec(std::string_view db, std::string_view sql) {
  std::vector<std::string> argv = ClientArgs("psql", db);
  argv.insert(argv.end(), {"-X", "-q", "-v", "ON_ERROR_STOP=1", "-o",
                           "/dev/null", "-f", "-"});
  return CommandStatus(argv, RunCommand(argv, sql));
}

absl::StatusOr<Rows> TestPostgres::Query(std::string_view db,
                                         std::string_view sql) {
  return Session(this, db).Query(sql);
}

Session::Session(const TestPostgres* pg, std::string_view db) {
  conn_ = PQconnectdb(pg->ConnString(db).c_str());
  if (PQstatus(conn_) != CONNECTION_OK) error_ = PQerrorMessage(conn_);
}

Session::~Session() { PQfinish(conn_); }

absl::StatusOr<Rows> Session::Query(std::string_view sql) {
  if (!error_.empty()) return absl::UnavailableError(error_);
  std::string text(sql);
  PGresult* res = PQexec(conn_, text.c_str());
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string msg = absl::StrCat(PQresultErrorMessage(res), " in: ", text.substr(0, 2000));
    PQclear(res);
    return absl::InternalError(msg);
  }
  Rows rows;
  int n = PQntuples(res), m = PQnfields(res);
  rows.reserve(n);
  for (int i = 0; i < n; ++i) {
    std::vector<Cell> row;
    row.reserve(m);
    for (int j = 0; j < m; ++j) {
      if (PQgetisnull(res, i, j)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res, i, j), PQgetlength(res, i, j)));
      }
    }
    rows.push_back(std::move(row));
  }
  PQclear(res);
  return rows;
}

const char kTablesParentsFirst[] = R"(
    WITH RECURSIVE t AS (
      SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')),
    dep(oid, depth) AS (
      SELECT oid, 0 FROM t
      UNION ALL
      SELECT co.conrelid, d.depth + 1 FROM dep d
      JOIN pg_constraint co ON co.contype = 'f' AND co.confrelid = d.oid
        AND co.conrelid <> co.confrelid
      WHERE d.depth < 20)
    SELECT t.oid, t.name, max(dep.depth) FROM t JOIN dep USING (oid)
    GROUP BY 1, 2 ORDER BY 3, 2)";

absl::StatusOr<std::string> TestPostgres::QueryValue(std::string_view db,
                                                     std::string_view sql) {
  absl::StatusOr<Rows> rows = Query(db, sql);
  if (!rows.ok()) return rows.status();
  if (rows->empty() || rows->front().empty()) {
    return absl::NotFoundError(absl::StrCat("no rows from: ", AsAbsl(sql)));
  }
  return rows->front().front().value_or("");
}

absl::Status TestPostgres::Dump(std::string_view db,
                                const std::vector<std::string>& extra_args,
                                const std::string& out_file) {
  std::vector<std::string> argv = ClientArgs("pg_dump", db);
  argv.insert(argv.end(), {"--no-owner", "--no-privileges"});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return CommandStatus(argv, RunCommand(argv, {}, out_file));
}

namespace {
TestPostgres* g_shared = nullptr;
void StopShared() {
  delete g_shared;
  g_shared = nullptr;
}
}  // namespace

TestPostgres* SharedTestPostgres() {
  if (g_shared == nullptr) {
    absl::StatusOr<std::unique_ptr<TestPostgres>> pg = TestPostgres::Start();
    if (!pg.ok()) {
      std::fprintf(stderr, "cannot start PostgreSQL: %s\n",
                   std::string(pg.status().message()).c_str());
      return nullptr;
    }
    g_shared = pg->release();
    std::atexit(StopShared);
  }
  return g_shared;
}

std::string SharedTestdata() { return PGMERGE_SHARED_TESTDATA; }
std::string SourceDir() { return PGMERGE_SOURCE_DIR; }

}  // namespace pgmerge::testing
