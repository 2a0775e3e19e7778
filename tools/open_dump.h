// Opens a dump for reading, whatever form pg_dump wrote it in.
#ifndef PGMERGE_TOOLS_OPEN_DUMP_H_
#define PGMERGE_TOOLS_OPEN_DUMP_H_

#include <string>

#include "absl/status/statusor.h"
#include "base/mapped_file.h"

namespace pgmerge::tools {

// Maps `path` ("-" for stdin). A custom, tar or directory-format dump is
// converted to plain SQL first by running pg_restore into a temporary file
// (removed once mapped); without pg_restore it is a clear error that says
// how to convert it by hand.
absl::StatusOr<MappedFile> OpenDump(const std::string& path);

}  // namespace pgmerge::tools

#endif  // PGMERGE_TOOLS_OPEN_DUMP_H_
