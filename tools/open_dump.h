// Opens a dump for reading, whatever form and from whatever kind of file it
// comes: plain SQL, compressed plain SQL (gzip, zstd, lz4, judged by the
// first bytes, as pg_dump -Z or a pipe through the tool writes it),
// pg_dump's custom, tar and directory formats (converted by pg_restore),
// from a regular file, standard input, a FIFO or a process substitution.
#ifndef PGMERGE_TOOLS_OPEN_DUMP_H_
#define PGMERGE_TOOLS_OPEN_DUMP_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/mapped_file.h"

namespace pgmerge::tools {

// A dump's plain SQL, mapped, and the name the user gave it: every message
// and the report say `name`, never the temporary file that may hold the
// text (a spooled pipe, a decompressed or pg_restore'd copy).
struct Dump {
  MappedFile file;
  std::string name;  // The path as given; "<stdin>" for "-".
  std::string_view data() const { return file.data(); }
};

// Maps `path` ("-" for stdin). A regular plain file is mapped in place; a
// stream (stdin, FIFO, /dev/fd/N) or a compressed file is first copied,
// decompressed, into an unlinked temporary file in $TMPDIR, so memory stays
// flat whatever the dump's size. Custom and tar dumps (also from a pipe)
// and directory dumps are converted to plain SQL by pg_restore; without
// pg_restore it is a clear error that says how to convert by hand.
absl::StatusOr<Dump> OpenDump(const std::string& path);

}  // namespace pgmerge::tools

#endif  // PGMERGE_TOOLS_OPEN_DUMP_H_
