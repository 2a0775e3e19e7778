// Per-table key maps: what the merge remembers of each row between its
// passes. Rows themselves are never held; a row costs a key, a content
// fingerprint and its foreign-key values, whatever its width. No I/O here.
#ifndef PGMERGE_KEYSPACE_KEY_INDEX_H_
#define PGMERGE_KEYSPACE_KEY_INDEX_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace pgmerge::keyspace {

// Stands for NULL (or "no value") among integer foreign-key values.
inline constexpr int64_t kNoValue = std::numeric_limits<int64_t>::min();

// Chains one field into a hash. Every fingerprint and key hash in the merge
// is built with this, field by field in a fixed column order, so that two
// rows hash alike exactly when their fields are byte-identical COPY text.
uint64_t HashField(std::string_view field, uint64_t seed);
inline constexpr uint64_t kHashSeed = 0x9E3779B97F4A7C15ULL;

// Reads a COPY-text integer ("-42"). False for \N, empty or non-integers.
bool ParseInt64(std::string_view field, int64_t* out);

// A row's column signature is the XOR of SignatureNibble over its columns:
// four bits of each value's hash, column j in nibble j % 16. Equal values
// always agree in their nibble, unequal ones in 1 case of 16: enough to
// tell an edit, which keeps most of a row, from two rows made apart, for
// 8 bytes a row.
uint64_t SignatureNibble(std::string_view field, int j);
// How many of the first min(width, 16) nibbles two signatures share.
int SignatureAgreement(uint64_t a, uint64_t b, int width);

// The rows of one table in one dump, in dump order.
// Not thread-safe. Aligned to a cache line: prod's and dev's indexes are
// filled on two threads at once, and must not share one.
class alignas(64) SideIndex {
 public:
  // `fk_width`: integer foreign-key values kept per row; `unique_width`:
  // natural unique-key hashes kept per row.
  SideIndex(int fk_width, int unique_width)
      : fk_width_(fk_width), unique_width_(unique_width) {}

  // Adds a row and returns its ordinal. Callers then append exactly
  // fk_width() FK values and unique_width() unique hashes for it.
  uint32_t AddRow(uint64_t key, uint64_t fingerprint);
  // Sizes the arrays for `rows` rows (the catalog knows the count), the
  // column signatures too when the rows will carry them.
  void Reserve(size_t rows, bool signatures = false);
  // Builds the lookup structure; call once, after the last AddRow and
  // before Find. Returns a key that occurs twice, if any (the dump then
  // contradicts its own constraint).
  std::optional<uint64_t> Finalize();
  // Adds a row that lookups by key never find (its key is not final yet).
  uint32_t AddUnkeyedRow(uint64_t key, uint64_t fingerprint) {
    keys_.push_back(key);
    fingerprints_.push_back(fingerprint);
    return static_cast<uint32_t>(keys_.size() - 1);
  }
  // Finds the row with `key`. REQUIRES: Finalize() was called.
  void AddFk(int64_t value) { fks_.push_back(value); }
  void AddUnique(uint64_t hash) { uniques_.push_back(hash); }
  // Rows carry a column signature only when the merge asked for them.
  void AddSignature(uint64_t s) { signatures_.push_back(s); }
  bool has_signatures() const { return !signatures_.empty(); }
  uint64_t signature(uint32_t row) const { return signatures_[row]; }

  std::optional<uint32_t> Find(uint64_t key) const;
  // (key, row) of every keyed row, ascending by key (as uint64).
  // REQUIRES: Finalize() was called.
  const std::vector<std::pair<uint64_t, uint32_t>>& by_key() const { return sorted_; }
  size_t size() const { return keys_.size(); }
  uint64_t key(uint32_t row) const { return keys_[row]; }
  uint64_t fingerprint(uint32_t row) const { return fingerprints_[row]; }
  int64_t fk(uint32_t row, int j) const {
    return fks_[static_cast<size_t>(row) * fk_width_ + j];
  }
  uint64_t unique(uint32_t row, int u) const {
    return uniques_[static_cast<size_t>(row) * unique_width_ + u];
  }
  int fk_width() const { return fk_width_; }
  int unique_width() const { return unique_width_; }
  size_t MemoryBytes() const;
  // Hands back all but the keys: what only deciding reads (the lookup,
  // fingerprints, FK values, unique hashes, signatures). Only size() and
  // key() may follow.
  void ReleaseAllButKeys();

 private:
  int fk_width_;
  int unique_width_;
  std::vector<uint64_t> keys_;
  std::vector<uint64_t> fingerprints_;
  std::vector<int64_t> fks_;
  std::vector<uint64_t> uniques_;
  std::vector<uint64_t> signatures_;
  // (key, row) of keyed rows sorted by key, for binary search: 16 bytes a
  // key and no rehashing, where a hash map would cost twice that.
  std::vector<std::pair<uint64_t, uint32_t>> sorted_;
  std::vector<std::pair<uint64_t, uint32_t>> late_;  // Out of order.
  bool dense_ = false;  // Keys are exactly first..first+n-1: index by value.
};

// Stands for "no row" in a join's result.
inline constexpr uint32_t kNoRow = std::numeric_limits<uint32_t>::max();

// Calls fn(a_row, b_row) once per key either index holds, ascending by key
// (as uint64), kNoRow for the side without it. One walk of both sorted
// arrays: matching two sides' rows costs O(a + b) sequential reads instead
// of a binary search per row. Rows added unkeyed take no part.
// REQUIRES: both finalized.
template <typename Fn>
void JoinByKey(const SideIndex& a, const SideIndex& b, Fn fn) {
  const auto& x = a.by_key();
  const auto& y = b.by_key();
  size_t i = 0, j = 0;
  while (i < x.size() && j < y.size()) {
    if (x[i].first < y[j].first) {
      fn(x[i++].second, kNoRow);
    } else if (y[j].first < x[i].first) {
      fn(kNoRow, y[j++].second);
    } else {
      fn(x[i++].second, y[j++].second);
    }
  }
  for (; i < x.size(); ++i) fn(x[i].second, kNoRow);
  for (; j < y.size(); ++j) fn(kNoRow, y[j].second);
}

// Per row of `a`, the row of `b` with the same key, or kNoRow (always for
// a's unkeyed rows). REQUIRES: both finalized.
std::vector<uint32_t> MatchRows(const SideIndex& a, const SideIndex& b);

// A multiset of row fingerprints, for tables with no key at all.
class RowMultiset {
 public:
  void Add(uint64_t fingerprint) { ++counts_[fingerprint]; }
  void Reserve(size_t rows) { counts_.reserve(rows); }
  // Takes one copy of `fingerprint` out; false when none is left.
  bool Take(uint64_t fingerprint);
  size_t MemoryBytes() const;

 private:
  absl::flat_hash_map<uint64_t, uint32_t> counts_;
};

// Old key -> new key for one table's development rows.
class RemapTable {
 public:
  void Set(int64_t from, int64_t to) { map_[from] = to; }
  bool Contains(int64_t from) const { return map_.contains(from); }
  // The new key, or `from` itself when it is not remapped.
  int64_t Apply(int64_t from) const {
    auto it = map_.find(from);
    return it == map_.end() ? from : it->second;
  }
  std::optional<int64_t> Find(int64_t from) const {
    auto it = map_.find(from);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  size_t size() const { return map_.size(); }
  void Clear() { map_.clear(); }
  // Entries sorted by old key, for deterministic reports.
  std::vector<std::pair<int64_t, int64_t>> Sorted() const;

 private:
  absl::flat_hash_map<int64_t, int64_t> map_;
};

}  // namespace pgmerge::keyspace

#endif  // PGMERGE_KEYSPACE_KEY_INDEX_H_
