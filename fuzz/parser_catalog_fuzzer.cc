// Property: building a catalog from arbitrary bytes gives a catalog or an
// error, never a crash, a hang or a leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser/catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<pgmerge::parser::Catalog> catalog =
      pgmerge::parser::ReadCatalog(input, "fuzz.sql");
  if (catalog.ok()) {
    for (const auto& t : catalog->tables()) {
      t.key_kind();
      t.MergeKey();
    }
  }
  return 0;
}
