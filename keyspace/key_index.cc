#include "keyspace/key_index.h"

#include <xxhash.h>

#include <algorithm>

namespace pgmerge::keyspace {

uint64_t HashField(std::string_view field, uint64_t seed) {
  return XXH3_64bits_withSeed(field.data(), field.size(), seed);
}

bool ParseInt64(std::string_view field, int64_t* out) {
  if (field.empty() || field.size() > 20) return false;
  size_t i = 0;
  bool negative = false;
  if (field[0] == '-' || field[0] == '+') {
    negative = field[0] == '-';
    i = 1;
    if (field.size() == 1) return false;
  }
  // Accumulate negatively so INT64_MIN parses too.
  int64_t v = 0;
  for (; i < field.size(); ++i) {
    char c = field[i];
    if (c < '0' || c > '9') return false;
    int d = c - '0';
    if (v < (std::numeric_limits<int64_t>::min() + d) / 10) return false;
    v = v * 10 - d;
  }
  if (!negative) {
    if (v == std::numeric_limits<int64_t>::min()) return false;
    v = -v;
  }
  *out = v;
  return true;
}

std::optional<uint32_t> SideIndex::AddRow(uint64_t key, uint64_t fingerprint) {
  uint32_t row = static_cast<uint32_t>(keys_.size());
  auto [it, inserted] = by_key_.try_emplace(key, row);
  if (!inserted) return std::nullopt;
  keys_.push_back(key);
  fingerprints_.push_back(fingerprint);
  return row;
}

std::optional<uint32_t> SideIndex::Find(uint64_t key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

size_t SideIndex::MemoryBytes() const {
  return keys_.capacity() * 8 + fingerprints_.capacity() * 8 +
         fks_.capacity() * 8 + uniques_.capacity() * 8 +
         by_key_.capacity() * (sizeof(std::pair<uint64_t, uint32_t>) + 1);
}

bool RowMultiset::Take(uint64_t fingerprint) {
  auto it = counts_.find(fingerprint);
  if (it == counts_.end() || it->second == 0) return false;
  --it->second;
  return true;
}

size_t RowMultiset::MemoryBytes() const {
  return counts_.capacity() * (sizeof(std::pair<uint64_t, uint32_t>) + 1);
}

std::vector<std::pair<int64_t, int64_t>> RemapTable::Sorted() const {
  std::vector<std::pair<int64_t, int64_t>> out(map_.begin(), map_.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace pgmerge::keyspace
