// The key hash: how a key of several columns (a composite merge key, a
// natural unique key) becomes one 64-bit value. One order everywhere: the
// columns that are not tracked foreign keys, in column order, then the
// tracked foreign-key columns, in column order, each chained with HashField
// from kHashSeed. Splitting the two parts lets the index pass hash the plain
// part from a row's text and the decide pass append the foreign-key part
// once the parents' remaps are known; both give the value a production row
// hashes to in one go, because foreign-key values are integers and an
// integer's decimal text is its COPY text.
#ifndef PGMERGE_KEYSPACE_KEY_HASH_H_
#define PGMERGE_KEYSPACE_KEY_HASH_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "keyspace/key_index.h"

namespace pgmerge::keyspace {

enum class KeyParts {
  kPlain,    // Only the columns that are not foreign keys.
  kForeign,  // Only the foreign-key columns (continuing a kPlain hash).
  kAll,      // Both, in the order above.
};

// `is_fk(c)` tells the foreign-key columns; `field(c)` gives column c's
// text. Starts from `seed` (kHashSeed, or a kPlain hash to continue).
template <typename IsFkFn, typename FieldFn>
uint64_t HashKey(const std::vector<int>& cols, IsFkFn is_fk, FieldFn field,
                 KeyParts parts, uint64_t seed = kHashSeed) {
  uint64_t h = seed;
  if (parts != KeyParts::kForeign) {
    for (int c : cols) {
      if (!is_fk(c)) h = HashField(field(c), h);
    }
  }
  if (parts != KeyParts::kPlain) {
    for (int c : cols) {
      if (is_fk(c)) h = HashField(field(c), h);
    }
  }
  return h;
}

}  // namespace pgmerge::keyspace

#endif  // PGMERGE_KEYSPACE_KEY_HASH_H_
