// Which database rows point at media objects that differ between the two
// sides: a development row naming `logo.png` would show production's file
// once the mirror keeps production's object. Read from the dumps, not the
// database: the mirror runs before the merge, while development's database
// can still be changed.
#ifndef PGMERGE_STORAGE_REFERENCES_H_
#define PGMERGE_STORAGE_REFERENCES_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"

namespace pgmerge::storage {

// A dump in memory (mapped by the caller) and its name for messages.
struct DumpText {
  std::string_view text;
  std::string name;
};

struct Reference {
  std::string object;  // The object key (relative to the mirror's source).
  std::string table;   // Display form, schema-qualified.
  std::string column;
  std::vector<std::pair<std::string, std::string>> row_key;  // Column, value.
  std::string value;  // The column's value in the row.
};

// Development's own rows (not also in production's dump with the same key
// and value) whose `columns` ("TABLE.COLUMN", TABLE optionally
// schema-qualified) hold one of `objects`: the value equals the key, the
// source prefix plus the key, or ends with "/" and the key (a URL).
// FailedPrecondition for a column the dev dump does not have.
absl::StatusOr<std::vector<Reference>> DevReferences(
    const DumpText& prod, const DumpText& dev, const std::vector<std::string>& columns,
    const absl::flat_hash_set<std::string>& objects, const std::string& source_prefix);

// The key a differing object is copied to so development's rows keep
// their own file: "img/logo.png" -> "img/logo.dev-1a2b3c4d.png".
std::string DevKeyFor(const std::string& key, const std::string& etag);

// UPDATE statements for development's database that point each reference
// at its object's new key (`renamed`: old key -> new key).
std::string RenameSql(const std::vector<Reference>& references,
                      const std::map<std::string, std::string>& renamed);

}  // namespace pgmerge::storage

#endif  // PGMERGE_STORAGE_REFERENCES_H_
