// A database's own properties (internal to swap/): its owner, connection
// limit, privileges, settings (for every role and per role) and comment.
// They live in the server's shared catalogs, in no dump, and stay with the
// database, not its name: the swap gives the shadow main's before the
// renames, or the new main would lose them (an ALTER DATABASE ... SET
// search_path the application relies on; a REVOKE CONNECT FROM PUBLIC).
#ifndef PGMERGE_SWAP_DB_PROPERTIES_H_
#define PGMERGE_SWAP_DB_PROPERTIES_H_

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pgmerge::swap::internal {

struct DatabaseProperties {
  std::string owner;
  std::string connection_limit;
  // The privileges in effect (the default ones when none were granted), as
  // "grantee privilege grantable" lines, sorted; the grantee quoted or
  // PUBLIC.
  std::vector<std::string> privileges;
  // "role\tname=value" (role "" for every role), sorted: pg_db_role_setting.
  std::vector<std::string> settings;
  std::string comment;
  bool has_comment = false;
  // Fixed at CREATE DATABASE: "encoding collate ctype provider icu-locale".
  std::string locale;
  std::string tablespace;  // Where its files lie by default.
};

absl::StatusOr<DatabaseProperties> ReadDatabaseProperties(PGconn* conn, const std::string& db);

// The statements that give database `db`, now holding `now`, the
// properties `want` (its own settings and privileges replaced); none when
// they are the same. The locale cannot be changed: see `locale`.
std::vector<std::string> PropertiesSql(PGconn* conn, const std::string& db,
                                       const DatabaseProperties& now,
                                       const DatabaseProperties& want);

// "ALTER ... SET name = value" for a pg_db_role_setting entry ("name=value"
// as the server stores it), as pg_dump writes it: list-valued settings
// (search_path, ...) as one literal per element.
std::string SetClause(PGconn* conn, const std::string& setting);

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_DB_PROPERTIES_H_
