// The statements of --into's stream, told apart without state (internal to
// swap/): our comments stripped, session settings named, post-data builds
// sorted into those that may run beside each other and those that keep
// their place. restore.cc routes by these.
#ifndef PGMERGE_SWAP_RESTORE_SQL_H_
#define PGMERGE_SWAP_RESTORE_SQL_H_

#include <libpq-fe.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace pgmerge::swap::internal {

// Runs `sql`; any result but an error is fine (a SELECT set_config, an
// empty query after our comments).
absl::Status Run(PGconn* conn, std::string_view sql);

// The statement without our "--" comment lines and blank lines before it.
std::string_view Body(std::string_view sql);

// A session setting (SET, RESET, set_config): its name in *key, so the
// latest value of each follows statements to every session.
bool IsSetting(std::string_view body, std::string* key);

enum class Build { kOrdered, kParallel, kForeignKey };

// Post-data statements that can run beside each other: index builds and
// constraints on one table; foreign keys (which lock two). Everything else
// keeps its place in the stream.
struct PostData {
  Build build = Build::kOrdered;
  // The table, or a foreign key's table and the one it references: keys as
  // CopyTable gives them.
  std::vector<std::string> tables;
  // ALTER TABLE without ONLY: the build also reaches partitions and
  // inheritance children.
  bool children = false;
  // A foreign key on one plain table (ONLY) that checks its rows: the same
  // key added NOT VALID, and the statement that then checks the rows. The
  // check locks the referenced table only against writes, so the checks of
  // keys into one table run at once, where the adds would queue on it.
  std::string add_not_valid, validate;
};
PostData Classify(std::string_view body);

// The table a COPY header names, as a key ("schema.name", unquoted);
// empty when the header does not parse.
std::string CopyTable(std::string_view header);

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_RESTORE_SQL_H_
