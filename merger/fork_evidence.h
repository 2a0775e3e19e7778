// Two-way evidence of the fork (internal to merger/, used by decide.cc):
// the keys of a table as infer.h sees them, and which parent keys identical
// child rows prove existed at the fork, all judged on the raw content of the
// dumps before anything is decided.
#ifndef PGMERGE_MERGER_FORK_EVIDENCE_H_
#define PGMERGE_MERGER_FORK_EVIDENCE_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "keyspace/key_hash.h"
#include "merger/decide.h"
#include "merger/infer.h"

namespace pgmerge::merger::internal {

// Per table: how many identical base rows of other tables point at each
// of its keys (two-way evidence that the key existed at the fork): rows of
// tables keyed by a sequence or an integer, and join rows that passed
// CountJoinChildren's test in numbers.
struct ChildProof {
  int rows = 0;
  int links = 0;
  ChildProof& operator+=(const ChildProof& o) {
    rows += o.rows;
    links += o.links;
    return *this;
  }
};

// A count per integer key of one table. Over the table's own key range
// (Span) it is an array, since a sequence's keys are dense and a hash map
// there costs a cache miss an increment; other values (a reference to no
// row) go to a hash map. A key never counted reads as T{}.
template <typename T>
class KeyCounts {
 public:
  // Counts [lo, hi] in an array, when the range is no more than a few
  // times `keys` (the table's keys; sparser keys stay hashed).
  void Span(int64_t lo, int64_t hi, size_t keys) {
    const uint64_t width = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
    if (hi < lo || width > 4 * static_cast<uint64_t>(keys) + 64) return;
    lo_ = lo;
    dense_.assign(width, T{});
  }
  T& operator[](int64_t v) {
    const uint64_t d = static_cast<uint64_t>(v) - static_cast<uint64_t>(lo_);
    return d < dense_.size() ? dense_[d] : rest_[v];
  }
  // What was counted at v (T{} when nothing).
  T Get(int64_t v) const {
    const uint64_t d = static_cast<uint64_t>(v) - static_cast<uint64_t>(lo_);
    if (d < dense_.size()) return dense_[d];
    auto it = rest_.find(v);
    return it == rest_.end() ? T{} : it->second;
  }
  // Whether nothing was counted, or could be: every Get is T{}.
  bool empty() const { return dense_.empty() && rest_.empty(); }
  // Adds o's counts (taken over the same keys, on another thread).
  void Add(const KeyCounts& o) {
    if (o.lo_ == lo_ && o.dense_.size() == dense_.size()) {
      for (size_t d = 0; d < dense_.size(); ++d) dense_[d] += o.dense_[d];
    } else {
      for (size_t d = 0; d < o.dense_.size(); ++d) {
        (*this)[static_cast<int64_t>(static_cast<uint64_t>(o.lo_) + d)] += o.dense_[d];
      }
    }
    for (const auto& [v, count] : o.rest_) (*this)[v] += count;
  }
  // fn(value, count) for every value that may have been counted.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (size_t d = 0; d < dense_.size(); ++d) {
      fn(static_cast<int64_t>(static_cast<uint64_t>(lo_) + d), dense_[d]);
    }
    for (const auto& [v, count] : rest_) fn(v, count);
  }

 private:
  int64_t lo_ = 0;
  std::vector<T> dense_;
  absl::flat_hash_map<int64_t, T> rest_;
};
using ChildProofs = KeyCounts<ChildProof>;
using BaseChildren = std::vector<ChildProofs>;

// A key as infer.h sees it: infer.h takes keys to ascend (the fork's rows
// lowest, new rows the suffix), so a descending key is flipped. ~k, not -k:
// it reverses the order over all of int64 (-INT64_MIN overflows) and is
// its own inverse.
inline int64_t Ordered(const TableKeys& t, int64_t k) { return t.key_down ? ~k : k; }

// A two-way kRemap table's keys as infer.h sees them (Ordered), sorted, with
// the dev row behind each (kNoRow: production only). `identical(i)` says
// whether dev row i is the prod row with its key, unchanged.
struct KeyTable {
  std::vector<KeyFacts> facts;
  std::vector<uint32_t> dev_row;
};

template <typename IdenticalFn>
KeyTable GatherKeys(const TableKeys& t, const ChildProofs* children,
                    IdenticalFn identical) {
  const keyspace::SideIndex& dev = *t.dev;
  const keyspace::SideIndex& prod = *t.prod;
  KeyTable out;
  out.facts.reserve(dev.size() + prod.size());
  out.dev_row.reserve(dev.size() + prod.size());
  // The two sides' sorted keys walked once, together (keyspace::JoinByKey):
  // the facts come out in key order, with no search and no sort.
  keyspace::JoinByKey(dev, prod, [&](uint32_t i, uint32_t pr) {
    KeyFacts f;
    if (i == keyspace::kNoRow) {
      f.key = Ordered(t, static_cast<int64_t>(prod.key(pr)));
      f.state = KeyState::kProdOnly;
      out.facts.push_back(f);
      out.dev_row.push_back(keyspace::kNoRow);
      return;
    }
    f.key = static_cast<int64_t>(dev.key(i));
    if (pr == keyspace::kNoRow) {
      f.state = KeyState::kDevOnly;
    } else if (identical(i, pr)) {
      f.state = KeyState::kIdentical;
    } else {
      f.state = KeyState::kDiffer;
      if (dev.has_signatures() && prod.has_signatures()) {
        f.columns_compared = static_cast<uint8_t>(std::min(t.signature_width, 16));
        f.columns_equal = static_cast<uint8_t>(keyspace::SignatureAgreement(
            dev.signature(i), prod.signature(pr), t.signature_width));
      }
    }
    if (children) {
      const ChildProof proof = children->Get(f.key);
      f.base_children = proof.rows + proof.links;
      f.base_links = proof.links;
    }
    f.key = Ordered(t, f.key);
    out.facts.push_back(f);
    out.dev_row.push_back(i);
  });
  // The walk is in uint64 order, where negative keys come last: rotate them
  // to the front for int64 order; a descending key (~k) reverses it.
  const auto negative = std::partition_point(
      out.facts.begin(), out.facts.end(),
      [&](const KeyFacts& f) { return Ordered(t, f.key) >= 0; });
  const size_t mid = negative - out.facts.begin();
  std::rotate(out.facts.begin(), out.facts.begin() + mid, out.facts.end());
  std::rotate(out.dev_row.begin(), out.dev_row.begin() + mid, out.dev_row.end());
  if (t.key_down) {
    std::reverse(out.facts.begin(), out.facts.end());
    std::reverse(out.dev_row.begin(), out.dev_row.end());
  }
  return out;
}

// Two-way tables whose fork's edge is inferred from the order of their keys:
// a sequence's, or one integer column's.
inline bool Inferred(const TableKeys& t) {
  return t.base == nullptr &&
         (t.mode == Mode::kRemap || (t.mode == Mode::kFixed && t.int_key));
}

// A kFixed dev row's whole key: its plain part (the index's) and its
// foreign-key parts as `value(slot)` gives them (raw, or rewritten).
template <typename ValueFn>
uint64_t KeyWithFks(const TableKeys& t, uint32_t i, ValueFn value) {
  std::string text;
  return keyspace::HashKey(
      t.key_fk_slots, [](int) { return true; },
      [&](int slot) -> std::string_view {
        const int64_t v = value(slot);
        if (v == keyspace::kNoValue) return "\\N";  // COPY's NULL.
        text = absl::StrCat(v);
        return text;
      },
      keyspace::KeyParts::kForeign, t.dev->key(i));
}

// Per dev row of a kFixed table, the row of `other` (prod's or base's)
// with the same raw key (as the dumps hold it, before any remap), or kNoRow.
std::vector<uint32_t> RawMatches(const TableKeys& t, const keyspace::SideIndex& other);

// Whether CountBaseChildren counts table t's rows as join rows, in numbers
// (it then reads their RawMatches against prod).
inline bool CountsAsJoinRows(const TableKeys& t) {
  return t.base == nullptr && !t.fk_parent.empty() && t.mode == Mode::kFixed && !t.int_key;
}

// Whether dev row i and prod row pr hold the same content as the dumps
// hold it (before any remap).
inline auto RawSame(const TableKeys& t) {
  return [&t](uint32_t i, uint32_t pr) {
    return t.prod->fingerprint(pr) == t.dev->fingerprint(i);
  };
}

// Per table, the parent keys identical child rows prove (counted twice: the
// first count tells which parents many identical rows point at, so the
// second can trust a row's other references to them).
// Sets `prod_matches[t]` to the RawMatches against prod of each table
// CountsAsJoinRows (the counts read them; decide reads them again).
BaseChildren CountBaseChildren(const std::vector<TableKeys>& tables,
                               std::vector<std::vector<uint32_t>>& prod_matches);

}  // namespace pgmerge::merger::internal

#endif  // PGMERGE_MERGER_FORK_EVIDENCE_H_
