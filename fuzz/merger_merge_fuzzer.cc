// Property: a merge of two small dumps is either a clean error or output
// that is deterministic (two runs give the same bytes), and no input makes
// pgmerge emit a meta-command it did not write: lexed as psql lexes it, the
// output's only backslash commands are its own \restrict first and
// \unrestrict last (COPY data, which psql does not lex, is skipped).
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>

#include "base/output.h"
#include "merger/merge.h"
#include "parser/segmenter.h"

namespace {

// Runs the merge into a memory file and returns its bytes, or nullopt.
bool RunMerge(std::string_view prod, std::string_view dev, std::string* out) {
  FILE* f = tmpfile();
  if (f == nullptr) return false;
  pgmerge::OutputBuffer buffer(fileno(f));
  pgmerge::merger::MergeOptions options;
  auto report = pgmerge::merger::Merge({prod, "prod.sql"}, {dev, "dev.sql"},
                                       options, &buffer);
  bool ok = report.ok();
  if (ok) {
    long n = ftell(f);
    out->resize(n > 0 ? n : 0);
    rewind(f);
    if (n > 0 && fread(out->data(), 1, n, f) != static_cast<size_t>(n)) {
      std::abort();
    }
  }
  fclose(f);
  return ok;
}

// Aborts unless the only meta-commands psql would see in `out` are the
// \restrict on its first line and the \unrestrict on its last.
void CheckOnlyOwnMetaCommands(const std::string& out) {
  if (out.rfind("\\restrict ", 0) != 0) std::abort();
  pgmerge::parser::DumpSegmenter seg(out, "out.sql");
  pgmerge::parser::Segment s;
  int metas = 0;
  size_t last_meta = 0;
  for (;;) {
    absl::StatusOr<bool> more = seg.Next(&s);
    if (!more.ok()) std::abort();  // A backslash psql would run mid-statement.
    if (!*more) break;
    if (s.kind != pgmerge::parser::SegmentKind::kMeta) continue;
    ++metas;
    last_meta = s.offset;
    bool own = (metas == 1 && s.offset == 0 && s.text.rfind("\\restrict ", 0) == 0) ||
               s.text.rfind("\\unrestrict ", 0) == 0;
    if (!own) std::abort();
  }
  if (metas != 2) std::abort();
  // Nothing but white space after the \unrestrict line.
  size_t nl = out.find('\n', last_meta);
  if (nl == std::string::npos || out.find_first_not_of(" \n", nl) != std::string::npos) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The input is split in two at the first NUL byte: prod, then dev.
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t cut = all.find('\0');
  if (cut == std::string_view::npos) return 0;
  std::string_view prod = all.substr(0, cut);
  std::string_view dev = all.substr(cut + 1);
  std::string first, second;
  if (!RunMerge(prod, dev, &first)) return 0;
  if (!RunMerge(prod, dev, &second) || first != second) std::abort();
  CheckOnlyOwnMetaCommands(first);
  return 0;
}
