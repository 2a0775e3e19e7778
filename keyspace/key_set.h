// A set of 64-bit keys built once and then only asked, many times a row:
// the keys a merge pass looks up for every row it writes (production's
// contended keys). Integer keys of one table mostly lie in a dense range,
// where a bitmap answers from cache; hashed or scattered keys go in a
// hash set.
#ifndef PGMERGE_KEYSPACE_KEY_SET_H_
#define PGMERGE_KEYSPACE_KEY_SET_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace pgmerge::keyspace {

class KeySet {
 public:
  // Before Finalize only.
  void insert(uint64_t key) { pending_.push_back(key); }
  // Builds the lookup structure; insert() may not follow.
  void Finalize();

  bool contains(uint64_t key) const {
    if (!bits_.empty()) {
      const uint64_t at = key - low_;
      return at < span_ && (bits_[at >> 6] >> (at & 63) & 1) != 0;
    }
    return hashed_.contains(key);
  }
  bool empty() const { return size_ == 0 && pending_.empty(); }
  size_t size() const { return size_; }

 private:
  std::vector<uint64_t> pending_;
  std::vector<uint64_t> bits_;  // Bit (key - low_), when dense.
  uint64_t low_ = 0;
  uint64_t span_ = 0;
  absl::flat_hash_set<uint64_t> hashed_;
  size_t size_ = 0;
};

}  // namespace pgmerge::keyspace

#endif  // PGMERGE_KEYSPACE_KEY_SET_H_
