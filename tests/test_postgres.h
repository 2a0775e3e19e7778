// A throwaway PostgreSQL 15 for integration tests: initdb into a temporary
// directory, a unix socket only, fsync off; stopped and removed when the
// object dies, whatever the test did. As root, the server runs as the
// `postgres` user (PostgreSQL refuses root); clients run as we are.
#ifndef PGMERGE_TESTS_TEST_POSTGRES_H_
#define PGMERGE_TESTS_TEST_POSTGRES_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct pg_conn;

namespace pgmerge::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv (no shell). stdin gets `input`; stdout goes to `stdout_file`
// when given, else into the result. Errors only when it cannot start.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         std::string_view input = {},
                                         const std::string& stdout_file = "");

using Cell = std::optional<std::string>;  // nullopt is SQL NULL.
using Rows = std::vector<std::vector<Cell>>;

class TestPostgres {
 public:
  // `settings` are extra `name=value` server settings (as -c), such as
  // "wal_level=logical".
  static absl::StatusOr<std::unique_ptr<TestPostgres>> Start(
      const std::vector<std::string>& settings = {});
  ~TestPostgres();
  TestPostgres(const TestPostgres&) = delete;
  TestPostgres& operator=(const TestPostgres&) = delete;

  absl::Status CreateDatabase(std::string_view name);
  absl::Status DropDatabase(std::string_view name);
  // psql -v ON_ERROR_STOP=1 --single-transaction -f FILE, as the brief's
  // workflow restores pgmerge's output. Errors carry psql's stderr.
  absl::Status Restore(std::string_view db, const std::string& sql_file);
  // Runs SQL through psql with ON_ERROR_STOP (several statements allowed).
  absl::Status Exec(std::string_view db, std::string_view sql);
  // Runs one query over libpq; every value as text, NULL as nullopt.
  absl::StatusOr<Rows> Query(std::string_view db, std::string_view sql);
  // The first column of the first row, as text ("" for NULL).
  absl::StatusOr<std::string> QueryValue(std::string_view db,
                                         std::string_view sql);
  // pg_dump --no-owner --no-privileges [extra_args] db > out_file.
  absl::Status Dump(std::string_view db,
                    const std::vector<std::string>& extra_args,
                    const std::string& out_file);

  std::string ConnString(std::string_view db) const;
  const std::string& socket_dir() const { return dir_; }
  int port() const { return port_; }
  // A scratch directory for the test's files, removed with the server.
  const std::string& tmp_dir() const { return scratch_; }

 private:
  TestPostgres() = default;
  std::vector<std::string> ClientArgs(std::string_view program,
                                      std::string_view db) const;

  std::string dir_;      // Holds data/, the socket and the log.
  std::string scratch_;  // dir_/scratch
  int port_ = 0;
  bool running_ = false;
};

// One libpq connection kept open for many queries (TestPostgres::Query
// connects per query, which dominates loading a database table by table).
class Session {
 public:
  Session(const TestPostgres* pg, std::string_view db);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // Every value as text, NULL as nullopt; SQL that returns no rows gives none.
  absl::StatusOr<Rows> Query(std::string_view sql);

 private:
  pg_conn* conn_ = nullptr;
  std::string error_;
};

// The user tables (oid, "schema.table" as format('%I.%I') spells it, depth),
// parents before children by foreign-key depth, self-references aside.
extern const char kTablesParentsFirst[];

// One server per test binary, started on first use and stopped at exit.
// Tests give their databases unique names.
TestPostgres* SharedTestPostgres();

// Where the shared sample dumps live (../shared/testdata).
std::string SharedTestdata();
// The project's source directory.
std::string SourceDir();

}  // namespace pgmerge::testing

#endif  // PGMERGE_TESTS_TEST_POSTGRES_H_
