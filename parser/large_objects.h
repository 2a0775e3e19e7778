// Large objects as a plain pg_dump writes them (PostgreSQL 12 to 17):
//   pre-data   SELECT pg_catalog.lo_create('OID');
//              ALTER LARGE OBJECT OID OWNER TO r;  COMMENT ON LARGE OBJECT ...;
//              GRANT/REVOKE ... ON LARGE OBJECT OID ...;  SECURITY LABEL ...
//   data       BEGIN;
//              SELECT pg_catalog.lo_open('OID', 131072);
//              SELECT pg_catalog.lowrite(0, '\x...');   (none for an empty one)
//              SELECT pg_catalog.lo_close(0);
//              ...
//              COMMIT;
// Only exactly these forms are read; any other statement about large objects,
// or a transaction statement outside that BLOBS section, is refused: a
// BEGIN/COMMIT reaching psql --single-transaction would commit half a restore.
#ifndef PGMERGE_PARSER_LARGE_OBJECTS_H_
#define PGMERGE_PARSER_LARGE_OBJECTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pgmerge::parser {

struct DumpEvent;

struct LargeObject {
  uint32_t oid = 0;
  int64_t line = 0;  // Of its lo_create.
  // Its other pre-data statements (owner, comment, ACL, security label),
  // in dump order, to be written as they are.
  struct Statement {
    size_t offset = 0, length = 0;
    bool standard_strings = true;
    bool standard_strings_dependent = false;
  };
  std::vector<Statement> statements;
  // The content: each lowrite's hex digits, as (offset, length) in the dump.
  std::vector<std::pair<size_t, size_t>> chunks;
  int64_t size = 0;    // Bytes.
  std::string sha256;  // Of the content, 64 lower-case hex digits.
  bool SameContent(const LargeObject& o) const {
    return size == o.size && sha256 == o.sha256;
  }
};

// What kind of large-object statement `sql` is; kNone for every other.
enum class LargeObjectStatement {
  kNone,
  kCreate,   // lo_create
  kMeta,     // ALTER LARGE OBJECT, COMMENT ON, GRANT, REVOKE, SECURITY LABEL
  kBegin,    // The BLOBS section's BEGIN and COMMIT.
  kCommit,
  kOpen,     // lo_open, lowrite, lo_close
  kWrite,
  kClose,
  kUnlink,   // lo_unlink: pg_dump --clean's drop, before anything is created.
  kOther,    // Names large objects or a transaction, in no form pg_dump writes.
};
LargeObjectStatement ClassifyLargeObjectStatement(std::string_view sql);

// Follows a dump's statements (in order) and collects its large objects.
class LargeObjectReader {
 public:
  LargeObjectReader(std::string_view input, std::string file_name);
  // Takes `ev` (a kStatement event) when it is about large objects: true.
  // False for any other statement. Errors: "FILE:LINE: ..." for a
  // large-object or transaction statement pg_dump would not write there.
  absl::StatusOr<bool> Take(const DumpEvent& ev);
  // At the end of the dump: the large objects, by OID. Refuses a BLOBS
  // section left open and a large object created without content.
  absl::StatusOr<std::vector<LargeObject>> Finish();

 private:
  absl::Status Error(int64_t line, std::string_view what) const;
  LargeObject* Find(uint32_t oid);
  // Take()'s cases: an lo_create (`create`) or another pre-data statement
  // about `oid`; the BLOBS section's COMMIT; an lo_open.
  absl::StatusOr<bool> TakeDefinition(bool create, uint32_t oid, const DumpEvent& ev);
  absl::StatusOr<bool> TakeCommit(int64_t line);
  absl::StatusOr<bool> TakeOpen(uint32_t oid, int64_t line);

  std::string_view input_;
  std::string file_;
  std::vector<LargeObject> objects_;                // In lo_create order.
  absl::flat_hash_map<uint32_t, size_t> position_;  // OID -> objects_ index.
  std::vector<bool> has_data_;
  int64_t begin_line_ = 0;  // The open BLOBS section's BEGIN, or 0.
  LargeObject* open_ = nullptr;
  int64_t open_line_ = 0;
};

// The hex digits after "\x" in lowrite's literal ("" when `sql` is not a
// lowrite of pg_dump's form).
std::string_view LowriteHex(std::string_view sql);

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_LARGE_OBJECTS_H_
