// Property: the segmenter never crashes or hangs, and the segments it
// returns lie inside the input, in order, without overlapping.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parser/segmenter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  pgmerge::parser::DumpSegmenter segmenter(input, "fuzz.sql");
  pgmerge::parser::Segment seg;
  size_t last_end = 0;
  for (;;) {
    absl::StatusOr<bool> more = segmenter.Next(&seg);
    if (!more.ok() || !*more) break;
    if (seg.text.data() < input.data() ||
        seg.text.data() + seg.text.size() > input.data() + input.size() ||
        seg.offset < last_end) {
      std::abort();
    }
    last_end = seg.offset + seg.text.size();
  }
  return 0;
}
