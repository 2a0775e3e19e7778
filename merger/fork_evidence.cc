#include "merger/fork_evidence.h"

#include <limits>

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

std::vector<RawEdges> InferRawEdges(const std::vector<TableKeys>& tables) {
  std::vector<RawEdges> out(tables.size());
  // Only references read them: a table neither child nor parent is left out.
  std::vector<bool> linked(tables.size());
  for (size_t t = 0; t < tables.size(); ++t) {
    for (int parent : tables[t].fk_parent) linked[t] = linked[parent] = true;
  }
  for (size_t t = 0; t < tables.size(); ++t) {
    if (!Inferred(tables[t]) || !linked[t]) continue;
    const KeyTable keys = GatherKeys(tables[t], nullptr, RawSame(tables[t]));
    const Inference inf = ForkEdges(keys.facts);
    out[t].change = inf.change_point;
    out[t].sure = inf.sure_point;
    if (tables[t].fk_parent.empty()) continue;
    for (size_t j = 0; j < keys.facts.size(); ++j) {
      const KeyFacts& f = keys.facts[j];
      if (f.state == KeyState::kIdentical && f.key <= inf.change_point) {  // Ordered.
        out[t].fork_rows.push_back(keys.dev_row[j]);
      }
    }
  }
  return out;
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
    auto it = (*first)[p].find(v);
    if (it == (*first)[p].end() || it->second.rows + it->second.links < 2) return false;
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
  absl::flat_hash_map<int, absl::flat_hash_map<int64_t, std::pair<int, int>>> seen;
  for (uint32_t i = 0; i < t.dev->size(); ++i) {
    const bool same = match[i] != keyspace::kNoRow && RawSame(t)(i, match[i]);
    for (size_t s = 0; s < t.fk_parent.size(); ++s) {
      const int64_t v = t.dev->fk(i, s);
      if (v == kNoValue || !Inferred(tables[t.fk_parent[s]])) continue;
      auto& [identical, other] = seen[t.fk_parent[s]][v];
      ++(same && OthersSure(tables, edges, first, t, i, s) ? identical : other);
    }
  }
  for (const auto& [parent, keys] : seen) {
    for (const auto& [v, counts] : keys) {
      if (counts.first >= 2 && counts.first > 2 * counts.second) {
        out[parent][v].links += counts.first;
      }
    }
  }
}

// Identical rows at or below their own table's change point are the fork's
// rows, and so are the parents they point at. Judged on the raw content
// (before any remap), so every table's evidence is known before the first
// is decided. Join rows count only in numbers (CountJoinChildren).
BaseChildren CountChildren(const std::vector<TableKeys>& tables,
                           const std::vector<const std::vector<uint32_t>*>& prod_matches,
                           const std::vector<RawEdges>& edges, const BaseChildren* first) {
  BaseChildren out(tables.size());
  for (size_t c = 0; c < tables.size(); ++c) {
    const TableKeys& t = tables[c];
    if (CountsAsJoinRows(t)) {
      CountJoinChildren(tables, edges, first, t, *prod_matches[c], out);
      continue;
    }
    if (t.base != nullptr || t.fk_parent.empty()) continue;
    if (!Inferred(t)) continue;
    for (const uint32_t i : edges[c].fork_rows) {
      for (size_t s = 0; s < t.fk_parent.size(); ++s) {
        const int64_t v = t.dev->fk(i, s);
        if (v == kNoValue || !Inferred(tables[t.fk_parent[s]])) continue;
        if (OthersSure(tables, edges, first, t, i, s)) ++out[t.fk_parent[s]][v].rows;
      }
    }
  }
  return out;
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
                               const std::vector<const std::vector<uint32_t>*>& prod_matches) {
  const std::vector<RawEdges> edges = InferRawEdges(tables);
  const BaseChildren first = CountChildren(tables, prod_matches, edges, nullptr);
  return CountChildren(tables, prod_matches, edges, &first);
}

}  // namespace pgmerge::merger::internal
