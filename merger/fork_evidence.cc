#include "merger/fork_evidence.h"

#include <algorithm>
#include <limits>
#include <map>

#include "base/parallel.h"

namespace pgmerge::merger::internal {
namespace {

using keyspace::kNoValue;

// Per table whose keys are inferred and that takes part in a reference,
// its two change points (Ordered) on the raw content, before anything is
// decided; for a child, its dev rows identical on both sides at or below
// its change point (the rows that may prove their parents), so the
// counting passes need not gather its keys again.
struct RawEdges {
  int64_t change = std::numeric_limits<int64_t>::max();
  int64_t sure = std::numeric_limits<int64_t>::max();
  std::vector<uint32_t> fork_rows;
};

// Sorts table indexes by rows, most first (ParallelFor's order).
void LargestFirst(const std::vector<TableKeys>& tables, std::vector<size_t>& todo) {
  auto rows = [&](size_t t) { return tables[t].dev->size() + tables[t].prod->size(); };
  std::stable_sort(todo.begin(), todo.end(),
                   [&](size_t a, size_t b) { return rows(a) > rows(b); });
}

// Also each join table's RawMatches against prod (`prod_matches`), which
// need no edges: computed while they are.
std::vector<RawEdges> InferRawEdges(const std::vector<TableKeys>& tables,
                                    std::vector<std::vector<uint32_t>>& prod_matches) {
  std::vector<RawEdges> out(tables.size());
  // Only references read them: a table neither child nor parent is left out.
  std::vector<bool> linked(tables.size());
  for (size_t t = 0; t < tables.size(); ++t) {
    for (int parent : tables[t].fk_parent) linked[t] = linked[parent] = true;
  }
  std::vector<size_t> todo;
  for (size_t t = 0; t < tables.size(); ++t) {
    if (CountsAsJoinRows(tables[t]) || (Inferred(tables[t]) && linked[t])) todo.push_back(t);
  }
  LargestFirst(tables, todo);
  ParallelFor(todo.size(), kPassThreads, [&](size_t k, int) {
    const size_t t = todo[k];
    if (CountsAsJoinRows(tables[t])) {  // Never Inferred: int_key is false.
      prod_matches[t] = RawMatches(tables[t], *tables[t].prod);
      return;
    }
    const KeyTable keys = GatherKeys(tables[t], nullptr, RawSame(tables[t]));
    const Inference inf = ForkEdges(keys.facts);
    out[t].change = inf.change_point;
    out[t].sure = inf.sure_point;
    if (tables[t].fk_parent.empty()) return;
    for (size_t j = 0; j < keys.facts.size(); ++j) {
      const KeyFacts& f = keys.facts[j];
      if (f.state == KeyState::kIdentical && f.key <= inf.change_point) {  // Ordered.
        out[t].fork_rows.push_back(keys.dev_row[j]);
      }
    }
  });
  return out;
}

// Spans `counts` over the keys of table t, both sides' (KeyCounts::Span).
template <typename T>
void SpanKeys(const TableKeys& t, KeyCounts<T>& counts) {
  // Sorted as uint64: all non-negative as int64 when the last one is.
  const auto& a = t.prod->by_key();
  const auto& b = t.dev->by_key();
  if (a.empty() && b.empty()) return;
  constexpr uint64_t kSign = uint64_t{1} << 63;
  if ((!a.empty() && a.back().first >= kSign) || (!b.empty() && b.back().first >= kSign)) return;
  const uint64_t lo = std::min(a.empty() ? ~uint64_t{0} : a.front().first,
                               b.empty() ? ~uint64_t{0} : b.front().first);
  const uint64_t hi = std::max(a.empty() ? 0 : a.back().first, b.empty() ? 0 : b.back().first);
  counts.Span(static_cast<int64_t>(lo), static_cast<int64_t>(hi), a.size() + b.size());
}

// Whether dev row i's references other than slot `s` all name fork rows:
// among their tables' sure fork rows, or rows at least two identical rows
// point at (`first`: the counts without this test; null: no test). A row
// identical on both sides that also points at a row both sides may have
// made apart (a line of a new invoice, made alike on both sides) proves
// nothing about slot s's parent.
bool OthersSure(const std::vector<TableKeys>& tables, const std::vector<RawEdges>& edges,
                const BaseChildren* first, const TableKeys& t, uint32_t i, size_t s) {
  if (first == nullptr) return true;
  for (size_t o = 0; o < t.fk_parent.size(); ++o) {
    const int64_t v = t.dev->fk(i, o);
    const int p = t.fk_parent[o];
    if (o == s || v == kNoValue || !Inferred(tables[p])) continue;
    if (Ordered(tables[p], v) <= edges[p].sure) continue;
    const ChildProof proof = (*first)[p].Get(v);
    if (proof.rows + proof.links < 2) return false;
  }
  return true;
}

// Join rows (kFixed children) identical on both sides prove their parent
// existed at the fork only in numbers: two new parents at one key often
// share a link or two (the same tag, the same track). So a parent key
// counts as proven when at least two identical rows point at it and they
// outnumber development's other rows pointing at it twice over.
void CountJoinChildren(const std::vector<TableKeys>& tables, const std::vector<RawEdges>& edges,
                       const BaseChildren* first, const TableKeys& t,
                       const std::vector<uint32_t>& match, BaseChildren& out) {
  // Per parent table: key -> (identical, other) development rows.
  std::map<int, KeyCounts<std::pair<int, int>>> seen;
  std::vector<KeyCounts<std::pair<int, int>>*> seen_by_slot(t.fk_parent.size());
  for (size_t s = 0; s < t.fk_parent.size(); ++s) {
    const int p = t.fk_parent[s];
    if (!Inferred(tables[p])) continue;
    auto [it, fresh] = seen.try_emplace(p);
    if (fresh) SpanKeys(tables[p], it->second);
    seen_by_slot[s] = &it->second;
  }
  for (uint32_t i = 0; i < t.dev->size(); ++i) {
    const bool same = match[i] != keyspace::kNoRow && RawSame(t)(i, match[i]);
    for (size_t s = 0; s < t.fk_parent.size(); ++s) {
      const int64_t v = t.dev->fk(i, s);
      if (v == kNoValue || seen_by_slot[s] == nullptr) continue;
      auto& [identical, other] = (*seen_by_slot[s])[v];
      ++(same && OthersSure(tables, edges, first, t, i, s) ? identical : other);
    }
  }
  for (const auto& [parent, keys] : seen) {
    keys.ForEach([&, parent = parent](int64_t v, std::pair<int, int> counts) {
      if (counts.first >= 2 && counts.first > 2 * counts.second) {
        out[parent][v].links += counts.first;
      }
    });
  }
}

// Identical rows at or below their own table's change point are the fork's
// rows, and so are the parents they point at. Judged on the raw content
// (before any remap), so every table's evidence is known before the first
// is decided. Join rows count only in numbers (CountJoinChildren).
BaseChildren CountChildren(const std::vector<TableKeys>& tables,
                           const std::vector<std::vector<uint32_t>>& prod_matches,
                           const std::vector<RawEdges>& edges, const BaseChildren* first) {
  std::vector<size_t> todo;
  std::vector<bool> counted(tables.size());  // Parents some row points at.
  for (size_t c = 0; c < tables.size(); ++c) {
    const TableKeys& t = tables[c];
    const bool join = CountsAsJoinRows(t);
    if (!join && (t.base != nullptr || t.fk_parent.empty() || !Inferred(t))) continue;
    todo.push_back(c);
    if (join ? t.dev->size() == 0 : edges[c].fork_rows.empty()) continue;
    for (int p : t.fk_parent) counted[p] = counted[p] || Inferred(tables[p]);
  }
  // Each thread counts into its own tables, added up at the end.
  std::vector<BaseChildren> counts(kPassThreads, BaseChildren(tables.size()));
  for (BaseChildren& out : counts) {
    for (size_t p = 0; p < tables.size(); ++p) {
      if (counted[p]) SpanKeys(tables[p], out[p]);
    }
  }
  LargestFirst(tables, todo);
  ParallelFor(todo.size(), kPassThreads, [&](size_t k, int worker) {
    const size_t c = todo[k];
    const TableKeys& t = tables[c];
    BaseChildren& out = counts[worker];
    if (CountsAsJoinRows(t)) {
      CountJoinChildren(tables, edges, first, t, prod_matches[c], out);
      return;
    }
    for (const uint32_t i : edges[c].fork_rows) {
      for (size_t s = 0; s < t.fk_parent.size(); ++s) {
        const int64_t v = t.dev->fk(i, s);
        if (v == kNoValue || !Inferred(tables[t.fk_parent[s]])) continue;
        if (OthersSure(tables, edges, first, t, i, s)) ++out[t.fk_parent[s]][v].rows;
      }
    }
  });
  for (size_t w = 1; w < counts.size(); ++w) {
    for (size_t p = 0; p < tables.size(); ++p) counts[0][p].Add(counts[w][p]);
  }
  return std::move(counts[0]);
}

}  // namespace

std::vector<uint32_t> RawMatches(const TableKeys& t, const keyspace::SideIndex& other) {
  if (t.key_fk_slots.empty()) return keyspace::MatchRows(*t.dev, other);
  std::vector<uint32_t> out(t.dev->size(), keyspace::kNoRow);
  for (uint32_t i = 0; i < t.dev->size(); ++i) {
    std::optional<uint32_t> pr =
        other.Find(KeyWithFks(t, i, [&](int s) { return t.dev->fk(i, s); }));
    if (pr) out[i] = *pr;
  }
  return out;
}

BaseChildren CountBaseChildren(const std::vector<TableKeys>& tables,
                               std::vector<std::vector<uint32_t>>& prod_matches) {
  prod_matches.assign(tables.size(), {});
  const std::vector<RawEdges> edges = InferRawEdges(tables, prod_matches);
  const BaseChildren first = CountChildren(tables, prod_matches, edges, nullptr);
  return CountChildren(tables, prod_matches, edges, &first);
}

}  // namespace pgmerge::merger::internal
