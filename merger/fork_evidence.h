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
};
using ChildProofs = absl::flat_hash_map<int64_t, ChildProof>;
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
      auto it = children->find(f.key);
      if (it != children->end()) {
        f.base_children = it->second.rows + it->second.links;
        f.base_links = it->second.links;
      }
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
// `prod_matches[t]`: RawMatches against prod of each table CountsAsJoinRows.
BaseChildren CountBaseChildren(const std::vector<TableKeys>& tables,
                               const std::vector<const std::vector<uint32_t>*>& prod_matches);

}  // namespace pgmerge::merger::internal

#endif  // PGMERGE_MERGER_FORK_EVIDENCE_H_
