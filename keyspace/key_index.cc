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
  if (field.size() - i <= 18) {
    // Eighteen digits cannot overflow: no checks in the common case.
    uint64_t v = 0;
    for (; i < field.size(); ++i) {
      unsigned d = static_cast<unsigned char>(field[i]) - '0';
      if (d > 9) return false;
      v = v * 10 + d;
    }
    *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
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

void SideIndex::Reserve(size_t rows, bool signatures) {
  sorted_.reserve(rows);
  if (signatures) signatures_.reserve(rows);
  keys_.reserve(rows);
  fingerprints_.reserve(rows);
  fks_.reserve(rows * fk_width_);
  uniques_.reserve(rows * unique_width_);
}

uint32_t SideIndex::AddRow(uint64_t key, uint64_t fingerprint) {
  const uint32_t row = static_cast<uint32_t>(keys_.size());
  keys_.push_back(key);
  fingerprints_.push_back(fingerprint);
  // pg_dump writes rows in physical order, mostly ascending by key: keep
  // the ascending run apart from the few that break it, so Finalize sorts
  // only those and merges.
  if (sorted_.empty() || key > sorted_.back().first) {
    sorted_.emplace_back(key, row);
  } else {
    late_.emplace_back(key, row);
  }
  return row;
}

std::optional<uint64_t> SideIndex::Finalize() {
  if (!late_.empty()) {
    std::sort(late_.begin(), late_.end());
    size_t mid = sorted_.size();
    sorted_.insert(sorted_.end(), late_.begin(), late_.end());
    std::inplace_merge(sorted_.begin(), sorted_.begin() + mid, sorted_.end());
    late_.clear();
    late_.shrink_to_fit();
  }
  for (size_t i = 1; i < sorted_.size(); ++i) {
    if (sorted_[i].first == sorted_[i - 1].first) return sorted_[i].first;
  }
  dense_ = !sorted_.empty() &&
           sorted_.back().first - sorted_.front().first + 1 == sorted_.size();
  sorted_.shrink_to_fit();
  return std::nullopt;
}

std::optional<uint32_t> SideIndex::Find(uint64_t key) const {
  if (sorted_.empty()) return std::nullopt;
  if (dense_) {
    uint64_t i = key - sorted_.front().first;
    if (i >= sorted_.size()) return std::nullopt;
    return sorted_[i].second;
  }
  auto it = std::lower_bound(
      sorted_.begin(), sorted_.end(), key,
      [](const std::pair<uint64_t, uint32_t>& a, uint64_t b) {
        return a.first < b;
      });
  if (it == sorted_.end() || it->first != key) return std::nullopt;
  return it->second;
}

std::vector<uint32_t> MatchRows(const SideIndex& a, const SideIndex& b) {
  std::vector<uint32_t> out(a.size(), kNoRow);
  if (b.by_key().empty()) return out;
  JoinByKey(a, b, [&](uint32_t ra, uint32_t rb) {
    if (ra != kNoRow) out[ra] = rb;
  });
  return out;
}

uint64_t SignatureNibble(std::string_view field, int j) {
  return (XXH3_64bits(field.data(), field.size()) & 0xF) << (4 * (j % 16));
}

int SignatureAgreement(uint64_t a, uint64_t b, int width) {
  const uint64_t diff = a ^ b;
  int equal = 0;
  for (int j = 0; j < std::min(width, 16); ++j) equal += ((diff >> (4 * j)) & 0xF) == 0;
  return equal;
}

void SideIndex::ReleaseAllButKeys() {
  std::vector<uint64_t>().swap(fingerprints_);
  std::vector<int64_t>().swap(fks_);
  std::vector<uint64_t>().swap(uniques_);
  std::vector<uint64_t>().swap(signatures_);
  std::vector<std::pair<uint64_t, uint32_t>>().swap(sorted_);
  std::vector<std::pair<uint64_t, uint32_t>>().swap(late_);
}

size_t SideIndex::MemoryBytes() const {
  return keys_.capacity() * 8 + fingerprints_.capacity() * 8 +
         fks_.capacity() * 8 + uniques_.capacity() * 8 + signatures_.capacity() * 8 +
         sorted_.capacity() * sizeof(sorted_[0]);
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
