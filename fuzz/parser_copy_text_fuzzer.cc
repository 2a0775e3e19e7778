// Properties: decode(encode(x)) == x for any bytes; splitting a row never
// reads outside it, and the fields it gives cover the row exactly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parser/copy_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace p = pgmerge::parser;
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::string encoded;
  p::AppendCopyEscaped(raw, &encoded);
  std::string scratch;
  if (p::DecodeCopyField(encoded, &scratch) != raw) std::abort();
  if (!p::IsCanonicalCopyField(encoded)) std::abort();

  std::vector<std::string_view> fields;
  p::SplitCopyRow(raw, &fields);
  size_t covered = fields.size() - 1;  // The tabs between fields.
  for (std::string_view f : fields) {
    if (f.data() < raw.data() || f.data() + f.size() > raw.data() + raw.size()) {
      std::abort();
    }
    covered += f.size();
    std::string s;
    p::DecodeCopyField(f, &s);
    p::CanonicalCopyField(f, &s);
  }
  if (covered != raw.size() || fields.size() != p::CountCopyFields(raw)) {
    std::abort();
  }
  p::IsValidUtf8(raw);
  return 0;
}
