// `pgmerge verify`: checks a restored shadow database against the merge's
// report and manifest, over libpq.
#ifndef PGMERGE_SWAP_VERIFY_H_
#define PGMERGE_SWAP_VERIFY_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace pgmerge::swap {

struct VerifyResult {
  int tables_checked = 0;
  int64_t rows_checked = 0;
  std::vector<std::string> problems;  // Each difference, named.
  bool ok() const { return problems.empty(); }
};

// Connects with `conninfo` (a libpq conninfo string or URI, or a bare
// database name; PG* variables, the service file and .pgpass apply as for
// psql) and checks, per table of `report_json`: the row count and the
// order-independent content hash of the manifest, read on `sessions`
// sessions at once (large tables cut into block ranges); then that every
// sequence is past the values of the columns it feeds, that no constraint
// is left NOT VALID and no index invalid. Errors: Unavailable when the
// database cannot be reached, InvalidArgument for a report that is not
// pgmerge's.
absl::StatusOr<VerifyResult> VerifyShadow(const std::string& conninfo,
                                          std::string_view report_json, int sessions = 2);

// "mydb" -> "dbname=mydb"; conninfo strings and URIs are kept as they are.
std::string ConnInfoFor(const std::string& db);
// Whether `s` is a conninfo string or URI rather than a database name.
bool IsConnInfo(const std::string& s);

}  // namespace pgmerge::swap

#endif  // PGMERGE_SWAP_VERIFY_H_
