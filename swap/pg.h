// libpq plumbing shared by verify and swap (internal to swap/): owned
// connections and results, statements with Status errors, identifier
// quoting, and the manifest's table hash computed over COPY.
#ifndef PGMERGE_SWAP_PG_H_
#define PGMERGE_SWAP_PG_H_

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pgmerge::swap::internal {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultCloser>;

// Connects with `conninfo` (conninfo string, URI, or bare name; PG*
// variables, service file and .pgpass apply as for psql). When `dbname` is
// not empty it replaces the database `conninfo` names: the same server and
// role, another database. Unavailable when the server cannot be reached
// (libpq's message, with every password value of `conninfo` and `dbname`
// redacted wherever it appears).
absl::StatusOr<Conn> Connect(const std::string& conninfo,
                             const std::string& dbname = "");
// The same with libpq keywords in order: a first "dbname" is expanded as a
// conninfo string or URI, later keywords override what it says (as psql's
// flags do). Passwords in any value are redacted from the message.
absl::StatusOr<Conn> ConnectWith(
    const std::vector<std::pair<std::string, std::string>>& params);

// Opens sessions with `open` until `conns` holds `n` of them: the readers
// that split one job over several sessions take them as `Borrow(conns)`.
absl::Status OpenSessions(size_t n, const std::function<absl::StatusOr<Conn>()>& open,
                          std::vector<Conn>* conns);
std::vector<PGconn*> Borrow(const std::vector<Conn>& conns);

// Runs `sql`; anything but `want` is an error carrying the server's message.
absl::StatusOr<Result> Exec(PGconn* conn, const std::string& sql,
                            ExecStatusType want = PGRES_TUPLES_OK);
absl::Status ExecCommand(PGconn* conn, const std::string& sql);
// One value of a one-row query, as text ("" for NULL).
absl::StatusOr<std::string> QueryValue(PGconn* conn, const std::string& sql);

// Quoting done by libpq itself: always quoted, so mixed case, spaces and
// quotes in names survive.
std::string Ident(PGconn* conn, std::string_view name);
std::string Literal(PGconn* conn, std::string_view value);

// The session settings pg_dump writes values under, so COPY lines of the
// live database hash like the dump's: its client_encoding too, and the
// report's row_settings (none: the session's own).
absl::Status SetDumpFormats(
    PGconn* conn, const std::string& encoding = "UTF8",
    const std::vector<std::pair<std::string, std::string>>& settings = {});

// Row count and sum of RowHash (base/row_hash.h) of each COPY line of `COPY (SELECT columns FROM
// ONLY table) TO STDOUT`: the manifest's measure. `table` is already quoted.
struct TableHash {
  int64_t rows = 0;
  uint64_t hash = 0;
};
// `where`, when given, restricts the rows (a ctid range: parts of one
// table hashed on several sessions add up to the table's hash).
absl::StatusOr<TableHash> HashTable(PGconn* conn, const std::string& table,
                                    const std::vector<std::string>& columns,
                                    const std::string& where = "");

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_PG_H_
