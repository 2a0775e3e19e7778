#include "merger/decide.h"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "keyspace/key_hash.h"
#include "keyspace/sequence_space.h"
#include "merger/fork_evidence.h"
#include "merger/infer.h"

namespace pgmerge::merger::internal {
namespace {

using keyspace::kNoValue;
using keyspace::SideIndex;

// Rows not in the output: references to them make their children orphans.
bool Removed(uint8_t decision) {
  return decision == kDeleted || decision == kDropUnique || decision == kDropOrphan;
}

// What the inferred verdict makes of a dev row that is not a base row.
uint8_t DecisionOf(Verdict v) {
  switch (v) {
    case Verdict::kEdited: return kConflict;
    case Verdict::kBothCreated: return kCollision;
    case Verdict::kProdDeleted: return kDeleted;
    case Verdict::kSame: return kBase;
    default: return kDevOnly;
  }
}

// Per dev row of one table, the prod (and base) row holding its key, or
// kNoRow: one walk of the sorted keys (keyspace::MatchRows) for every
// round, instead of a search per row and round.
struct RowMatches {
  std::vector<uint32_t> prod;
  std::vector<uint32_t> base;
};

// Raw matches: a key with foreign-key parts as the dumps hold them (the
// rows whose parents keep their keys look no further).
RowMatches MatchTable(const TableKeys& t) {
  RowMatches m;
  m.prod = RawMatches(t, *t.prod);
  if (t.base != nullptr) m.base = RawMatches(t, *t.base);
  return m;
}

// One table's view while it is decided: its evidence, the decisions of
// every table so far (its parents' remaps), and one dev row's FK values.
class TableDecider {
 public:
  TableDecider(const std::vector<TableKeys>& tables,
               const std::vector<TableDecisions*>& decided,
               const BaseChildren& children, const RowMatches& matches, int t)
      : t_(tables[t]), decided_tables_(tables), decided_(decided), children_(children[t]),
        matches_(matches), fkv_(t_.fk_parent.size()) {}

  // Decides every dev row; returns them with the remaps they imply.
  TableDecisions Run(bool prefer_dev) const;

 private:
  void LoadFks(uint32_t i) const {
    for (size_t s = 0; s < fkv_.size(); ++s) fkv_[s] = t_.dev->fk(i, s);
  }
  const TableDecisions& Parent(size_t slot) const {
    return *decided_[t_.fk_parent[slot]];
  }
  int64_t Rewritten(size_t slot) const { return Parent(slot).Rewrite(fkv_[slot]); }
  // Whether the loaded row points at a parent row that moves or goes.
  bool FkChanged() const;
  // Whether it points at a parent row that is not in the output.
  bool Orphan() const;
  // Two-way: whether it points at a row development made since the fork (a
  // remapped one, or one above its table's change point): then it is no
  // base row production deleted.
  bool PointsAtNewRow() const;
  // The row's key with its FK part rewritten (keyspace/key_hash.h).
  uint64_t EffectiveKey(uint32_t i) const;
  // The row of `side` holding that key: matched once when the key was
  // final at indexing, searched when its FK part was appended here.
  std::optional<uint32_t> RowWithKey(const SideIndex& side,
                                     const std::vector<uint32_t>& match, uint32_t i) const;
  // The prod key the row equals on a natural unique key; sets *clash
  // when two unique keys name different prod rows.
  std::optional<uint64_t> UniqueTarget(uint32_t i, uint8_t* via, bool* clash) const;
  // Whether production's row with key `k` is in another table of this
  // one's key space (TableKeys::shared_keys).
  bool HeldByAnotherTable(int64_t k) const {
    if (t_.shared_keys == nullptr) return false;
    auto it = std::lower_bound(t_.shared_keys->begin(), t_.shared_keys->end(),
                               std::pair<int64_t, int>{k, std::numeric_limits<int>::min()});
    for (; it != t_.shared_keys->end() && it->first == k; ++it) {
      if (it->second != t_.self) return true;
    }
    return false;
  }
  // The decision for a row that is not a base row; `prod_row` holds its
  // key in production (kNoRow: none).
  uint8_t DecideRow(uint32_t i, uint32_t prod_row,
                    const std::vector<uint8_t>& inferred) const;
  // Two-way kRemap: the inferred decision of every dev row that is not a
  // base row (into `inferred`), the change point and the open questions.
  void Infer(TableDecisions* d, std::vector<uint8_t>* inferred,
             std::vector<std::pair<uint32_t, std::string>>* evidence) const;

  const TableKeys& t_;
  const std::vector<TableKeys>& decided_tables_;
  const std::vector<TableDecisions*>& decided_;
  const ChildProofs& children_;
  const RowMatches& matches_;
  mutable std::vector<int64_t> fkv_;
};

bool TableDecider::FkChanged() const {
  for (size_t s = 0; s < fkv_.size(); ++s) {
    if (fkv_[s] != kNoValue &&
        (Parent(s).remap.Contains(fkv_[s]) || Parent(s).gone.contains(fkv_[s]))) {
      return true;
    }
  }
  return false;
}

bool TableDecider::PointsAtNewRow() const {
  for (size_t s = 0; s < fkv_.size(); ++s) {
    const TableKeys& pt = decided_tables_[t_.fk_parent[s]];
    if (fkv_[s] == kNoValue || !Inferred(pt)) continue;
    const TableDecisions& parent = Parent(s);
    if (parent.remap.Contains(fkv_[s]) ||
        Ordered(pt, fkv_[s]) > Ordered(pt, parent.base_high_water)) {
      return true;
    }
  }
  return false;
}

bool TableDecider::Orphan() const {
  for (size_t s = 0; s < fkv_.size(); ++s) {
    if (fkv_[s] != kNoValue && Parent(s).gone.contains(fkv_[s])) return true;
  }
  return false;
}

uint64_t TableDecider::EffectiveKey(uint32_t i) const {
  if (t_.mode == Mode::kRemap || t_.key_fk_slots.empty()) return t_.dev->key(i);
  return KeyWithFks(t_, i, [&](int slot) { return Rewritten(slot); });
}

std::optional<uint32_t> TableDecider::RowWithKey(const SideIndex& side,
                                                 const std::vector<uint32_t>& match,
                                                 uint32_t i) const {
  if (t_.mode != Mode::kRemap) {
    for (int slot : t_.key_fk_slots) {
      // A parent moved: its rows' keys are searched again as rewritten.
      if (Rewritten(slot) != fkv_[slot]) return side.Find(EffectiveKey(i));
    }
  }
  if (match[i] == keyspace::kNoRow) return std::nullopt;
  return match[i];
}

std::optional<uint64_t> TableDecider::UniqueTarget(uint32_t i, uint8_t* via,
                                                   bool* clash) const {
  std::optional<uint64_t> target;
  for (size_t u = 0; u < t_.unique_fk_slots.size(); ++u) {
    const uint64_t plain = t_.dev->unique(i, u);
    if (plain == 0) continue;  // Not covered, or a NULL.
    const std::vector<int>& slots = t_.unique_fk_slots[u];
    bool usable = true;
    for (int s : slots) {
      int64_t v = Rewritten(s);
      usable &= v != kNoValue && v != kPendingFresh;
    }
    if (!usable) continue;
    std::string text;
    const uint64_t h = keyspace::HashKey(
        slots, [](int) { return true; },
        [&](int s) -> std::string_view {
          text = absl::StrCat(Rewritten(s));
          return text;
        },
        keyspace::KeyParts::kForeign, plain);
    auto it = (*t_.prod_unique)[u].find(h);
    if (it == (*t_.prod_unique)[u].end()) continue;
    if (target && *target != it->second) *clash = true;
    if (!target) *via = static_cast<uint8_t>(u);
    target = it->second;
  }
  return target;
}

void TableDecider::Infer(TableDecisions* d, std::vector<uint8_t>* inferred,
                         std::vector<std::pair<uint32_t, std::string>>* evidence) const {
  auto identical = [&](uint32_t i, uint32_t) { return d->decision[i] == kBase; };
  // A table no identical child row points at (most) asks for no counts.
  KeyTable keys = GatherKeys(t_, children_.empty() ? nullptr : &children_, identical);
  for (size_t j = 0; j < keys.facts.size(); ++j) {
    KeyFacts& f = keys.facts[j];
    if (f.state != KeyState::kDiffer) continue;
    const uint32_t i = keys.dev_row[j];
    f.follows_parent = RawSame(t_)(i, matches_.prod[i]);
  }
  Inference inf = InferKeys(keys.facts);
  d->base_high_water = keys.facts.empty() ? 0 : Ordered(t_, inf.change_point);
  inferred->assign(d->decision.size(), kDevOnly);
  evidence->clear();  // Few rows have any: kept sparse.
  for (size_t j = 0; j < keys.facts.size(); ++j) {
    if (keys.dev_row[j] == keyspace::kNoRow) continue;
    const uint32_t i = keys.dev_row[j];
    const KeyVerdict& v = inf.verdicts[j];
    (*inferred)[i] = DecisionOf(v.verdict);
    if (v.ambiguous) {
      evidence->emplace_back(i, DescribeEvidence(keys.facts[j], inf, j, t_.key_down));
    }
  }
}

uint8_t TableDecider::DecideRow(uint32_t i, uint32_t prod_row,
                                const std::vector<uint8_t>& inferred) const {
  const SideIndex& prod = *t_.prod;
  const bool in_prod = prod_row != keyspace::kNoRow;
  if (t_.base != nullptr) {
    // With the dump both sides forked from, edits and deletions are exact.
    std::optional<uint32_t> br = RowWithKey(*t_.base, matches_.base, i);
    if (in_prod && br) {
      const uint64_t bfp = t_.base->fingerprint(*br);
      if (bfp == prod.fingerprint(prod_row)) return kTakeDev;  // Dev edited.
      if (bfp == t_.dev->fingerprint(i) && !FkChanged()) return kProdEdit;
      return kConflict;  // Edited on both sides.
    }
    if (in_prod) return t_.mode == Mode::kRemap ? kCollision : kConflict;
    return br ? kDeleted : kDevOnly;
  }
  if (t_.mode == Mode::kRemap) return inferred[i];  // Two-way: infer.h.
  // Keys that never move: the same key is the same row; a key only
  // development has is inferred when the keys are ordered integers.
  if (in_prod) return kConflict;
  return inferred.empty() ? static_cast<uint8_t>(kDevOnly) : inferred[i];
}

TableDecisions TableDecider::Run(bool prefer_dev) const {
  const SideIndex& dev = *t_.dev;
  const SideIndex& prod = *t_.prod;
  const size_t n = dev.size();
  TableDecisions d;
  d.decision.assign(n, kDevOnly);
  // Per dev row, the prod row with its key (kNoRow: none).
  std::vector<uint32_t> prod_row(n);
  for (uint32_t i = 0; i < n; ++i) {
    LoadFks(i);
    prod_row[i] = RowWithKey(prod, matches_.prod, i).value_or(keyspace::kNoRow);
    if (prod_row[i] != keyspace::kNoRow &&
        prod.fingerprint(prod_row[i]) == dev.fingerprint(i) &&
        !FkChanged()) {
      d.decision[i] = kBase;
    }
  }
  std::vector<uint8_t> inferred;
  std::vector<std::pair<uint32_t, std::string>> evidence;
  if (Inferred(t_)) Infer(&d, &inferred, &evidence);
  for (uint32_t i = 0; i < n; ++i) {
    if (d.decision[i] == kBase) continue;
    LoadFks(i);
    uint8_t& decision = d.decision[i];
    decision = DecideRow(i, prod_row[i], inferred);
    if (decision == kDevOnly && t_.headroom > 0) {
      const int64_t k = static_cast<int64_t>(dev.key(i));
      if (k > t_.prod_top && k - t_.prod_top <= t_.headroom) decision = kCollision;
    }
    if (decision == kDevOnly && HeldByAnotherTable(static_cast<int64_t>(dev.key(i)))) {
      decision = kCollision;
    }
    if (decision == kConflict || decision == kTakeDev) {
      d.conflict_of_row[i] = prod.key(prod_row[i]);
    }
    if (decision != kDevOnly && decision != kCollision) continue;
    if (Orphan()) {
      decision = kDropOrphan;
      continue;
    }
    // A natural unique key equal to a prod row's: the same thing, created
    // on both sides; merge into prod's row rather than insert a duplicate.
    bool clash = false;
    uint8_t via = 0;
    std::optional<uint64_t> target = UniqueTarget(i, &via, &clash);
    const int64_t k = static_cast<int64_t>(dev.key(i));
    if (clash) {
      decision = kDropUnique;
    } else if (target && t_.mode == Mode::kRemap && static_cast<int64_t>(*target) == k) {
      decision = kConflict;  // The prod row with this very key, edited.
      d.conflict_of_row[i] = *target;
    } else if (target) {
      decision = kUnified;
      d.unified[i] = {static_cast<int64_t>(*target), via};
    }
  }
  if (t_.mode == Mode::kRemap) {
    for (uint32_t i = 0; i < n; ++i) {
      const int64_t k = static_cast<int64_t>(dev.key(i));
      switch (d.decision[i]) {
        case kCollision:
          d.remap.Set(k, kPendingFresh);  // Allocated once decisions settle.
          break;
        case kUnified:
          if (const int64_t to = d.unified.at(i).target; to != k) d.remap.Set(k, to);
          break;
        default:
          if (Removed(d.decision[i])) d.gone.insert(k);
          break;
      }
    }
  }
  if (t_.mode == Mode::kFixed && Inferred(t_)) {  // Integer keys.
    for (uint32_t i = 0; i < n; ++i) {
      if (Removed(d.decision[i])) d.gone.insert(static_cast<int64_t>(dev.key(i)));
    }
  }
  for (const auto& [row, key] : d.conflict_of_row) {
    d.conflict_keys.insert(key);
    if (d.decision[row] == kTakeDev || (d.decision[row] == kConflict && prefer_dev)) {
      d.prod_replaced.insert(key);
    }
  }
  d.conflict_keys.Finalize();
  d.prod_replaced.Finalize();
  // What inference decided stays reported: its drops as inferred, its
  // open questions with their evidence (unless a natural key settled it).
  for (uint32_t i = 0; i < inferred.size(); ++i) {
    if (d.decision[i] == kConflict || d.decision[i] == kDeleted) ++d.inferred;
  }
  for (auto& [i, text] : evidence) {
    if (d.decision[i] == inferred[i]) d.ambiguous[i] = std::move(text);
  }
  if (t_.base == nullptr && t_.mode == Mode::kFixed && !Inferred(t_)) {
    // Without ordered keys nothing tells a row development made from a
    // base row production deleted, unless it points at a new row.
    for (uint32_t i = 0; i < n; ++i) {
      if (d.decision[i] != kDevOnly) continue;
      LoadFks(i);
      if (!PointsAtNewRow()) {
        d.ambiguous[i] =
            "only in development, and nothing it points at is new: may be a row "
            "production deleted (no base to tell); kept";
      }
    }
  }
  return d;
}

// Whether a table's remaps or removals differ between two rounds.
bool RemapsChanged(const TableDecisions& before, const TableDecisions& after) {
  if (after.remap.size() != before.remap.size() ||
      after.gone.size() != before.gone.size()) {
    return true;
  }
  for (const auto& [from, to] : after.remap.Sorted()) {
    std::optional<int64_t> old = before.remap.Find(from);
    if (!old || *old != to) return true;
  }
  return false;
}

// Gives each pending remap a fresh key past t.fresh_after, the way the
// key's sequence counts, in that order (the row drawn first gets the first
// fresh key); notes the furthest key development's rows add. Refused when
// the keys do not fit before the type's or the sequence's bound.
// `after`: where this table's fresh keys start (its own fresh_after, or
// its sequence's shared position); moved past the keys allocated.
absl::Status AllocateFresh(const TableKeys& t, TableDecisions* d, __int128* after) {
  if (t.mode != Mode::kRemap) return absl::OkStatus();
  const bool down = t.key_down;
  auto note_new = [&](int64_t k) {
    d->new_key_far = !d->new_key_far ? k : down ? std::min(*d->new_key_far, k)
                                                : std::max(*d->new_key_far, k);
  };
  for (uint32_t i = 0; i < d->decision.size(); ++i) {
    if (d->decision[i] == kDevOnly) note_new(static_cast<int64_t>(t.dev->key(i)));
  }
  std::vector<std::pair<int64_t, int64_t>> entries = d->remap.Sorted();
  uint64_t needed = 0;
  for (const auto& [from, to] : entries) needed += to == kPendingFresh;
  if (needed == 0) return absl::OkStatus();
  const keyspace::FreshKeyPlan plan =
      keyspace::PlanFreshKeys(*after, down, t.fresh_lo, t.fresh_hi);
  if (plan.room < needed) {
    return absl::FailedPreconditionError(absl::StrCat(
        t.fresh_what, ": ", needed, " colliding development rows need fresh keys ",
        down ? "below " : "above ",
        static_cast<int64_t>(std::clamp<__int128>(*after,
                                                  std::numeric_limits<int64_t>::min(),
                                                  std::numeric_limits<int64_t>::max())),
        ", and only ", plan.room, " are left before ", down ? t.fresh_lo : t.fresh_hi,
        " (", t.fresh_limit, "); nothing restorable written"));
  }
  if (down) std::reverse(entries.begin(), entries.end());
  uint64_t i = 0;
  for (const auto& [from, to] : entries) {
    if (to == kPendingFresh) d->remap.Set(from, plan.At(i++));
  }
  d->fresh_last = plan.At(needed - 1);
  note_new(*d->fresh_last);
  *after = *d->fresh_last;
  return absl::OkStatus();
}

}  // namespace

std::vector<std::vector<int>> ComponentsParentsFirst(const std::vector<TableKeys>& tables) {
  // Tarjan's algorithm over child -> parent edges; it emits a component
  // only after every component it reaches, so parents come out first.
  const int n = static_cast<int>(tables.size());
  std::vector<int> index(n, -1), low(n, 0), stack;
  std::vector<bool> on_stack(n, false);
  std::vector<std::vector<int>> out;
  int counter = 0;
  std::function<void(int)> visit = [&](int v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    for (const std::vector<int>* edges : {&tables[v].fk_parent, &tables[v].partitions}) {
      for (int w : *edges) {
        if (index[w] < 0) {
          visit(w);
          low[v] = std::min(low[v], low[w]);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
      }
    }
    if (low[v] == index[v]) {
      std::vector<int> comp;
      int w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        comp.push_back(w);
      } while (w != v);
      std::sort(comp.begin(), comp.end());
      out.push_back(std::move(comp));
    }
  };
  for (int v = 0; v < n; ++v) {
    if (index[v] < 0) visit(v);
  }
  return out;
}

namespace {

// One group of ComponentsParentsFirst, its parents' decisions final.
// Remaps inside a cycle feed back into the rows that decide them; the sets
// only grow, so iterating to a fixed point terminates.
absl::Status DecideGroup(const std::vector<TableKeys>& tables, const std::vector<int>& comp,
                         const BaseChildren& children, bool prefer_dev,
                         std::vector<RowMatches>& matches,
                         const std::vector<TableDecisions*>& decided) {
  for (int t : comp) {
    if (tables[t].mode != Mode::kMultiset && !CountsAsJoinRows(tables[t])) {
      matches[t] = MatchTable(tables[t]);
    }
  }
  bool changed = true;
  for (int round = 0; changed; ++round) {
    if (round > 64) {
      return absl::InternalError(absl::StrCat(
          "remap decisions for ", tables[comp[0]].name, " did not settle"));
    }
    changed = false;
    for (int t : comp) {
      if (tables[t].mode == Mode::kMultiset) continue;  // Decided while written.
      TableDecisions next = TableDecider(tables, decided, children, matches[t], t).Run(prefer_dev);
      changed |= tables[t].mode == Mode::kRemap && RemapsChanged(*decided[t], next);
      *decided[t] = std::move(next);
    }
  }
  for (int t : comp) matches[t] = {};  // Decided: its matches are done with.
  return absl::OkStatus();
}

}  // namespace

namespace {

// A partitioned table's remaps and removals: its partitions', final (a key
// is in one partition of development's: one key space).
void TakePartitionsDecisions(const std::vector<TableKeys>& tables, int t,
                             const std::vector<TableDecisions*>& decided) {
  for (int q : tables[t].partitions) {
    for (const auto& [from, to] : decided[q]->remap.Sorted()) decided[t]->remap.Set(from, to);
    decided[t]->gone.insert(decided[q]->gone.begin(), decided[q]->gone.end());
  }
}

}  // namespace

absl::Status Decide(const std::vector<TableKeys>& tables, bool prefer_dev,
                    const std::vector<TableDecisions*>& decided,
                    const std::function<void(int table)>& settled) {
  // Join tables' matches, read by the fork's evidence and by decide alike.
  std::vector<std::vector<uint32_t>> join_matches;
  const BaseChildren children = CountBaseChildren(tables, join_matches);
  std::vector<RowMatches> matches(tables.size());
  for (size_t t = 0; t < tables.size(); ++t) matches[t].prod = std::move(join_matches[t]);
  // Per shared sequence: the furthest fresh_after of its tables, then the
  // last key handed out (tables in decide order: deterministic).
  absl::flat_hash_map<std::string, __int128> shared_after;
  for (const TableKeys& t : tables) {
    if (t.mode != Mode::kRemap || t.fresh_sequence.empty()) continue;
    auto [it, fresh] = shared_after.try_emplace(t.fresh_sequence, t.fresh_after);
    if (!fresh) {
      it->second = t.key_down ? std::min(it->second, t.fresh_after)
                              : std::max(it->second, t.fresh_after);
    }
  }
  const std::vector<std::vector<int>> comps = ComponentsParentsFirst(tables);
  // The groups a group references (each before it in `comps`).
  std::vector<int> comp_of(tables.size());
  for (size_t c = 0; c < comps.size(); ++c) {
    for (int t : comps[c]) comp_of[t] = static_cast<int>(c);
  }
  std::vector<std::vector<int>> parents(comps.size());
  for (size_t c = 0; c < comps.size(); ++c) {
    for (int t : comps[c]) {
      for (const std::vector<int>* edges : {&tables[t].fk_parent, &tables[t].partitions}) {
        for (int p : *edges) {
          if (comp_of[p] != static_cast<int>(c)) parents[c].push_back(comp_of[p]);
        }
      }
    }
  }
  // Two threads decide the groups whose parents are final; fresh keys are
  // handed out group by group in `comps` order, as one thread would, and a
  // group's children start only once its keys are: the same decisions, and
  // the first error in that order, whichever thread gets where first.
  enum State : uint8_t { kWaiting, kRunning, kDecided, kFinal };
  std::vector<State> state(comps.size(), kWaiting);
  std::vector<absl::Status> status(comps.size());
  size_t next_final = 0;
  absl::Status failed;
  std::mutex mu;
  std::condition_variable cv;
  auto ready = [&](size_t c) {
    return state[c] == kWaiting &&
           std::all_of(parents[c].begin(), parents[c].end(),
                       [&](int p) { return state[p] == kFinal; });
  };
  auto work = [&] {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      size_t c = 0;
      cv.wait(lock, [&] {
        if (!failed.ok() || next_final == comps.size()) return true;
        for (c = next_final; c < comps.size() && !ready(c); ++c) {}
        return c < comps.size();
      });
      if (!failed.ok() || next_final == comps.size()) return;
      state[c] = kRunning;
      lock.unlock();
      absl::Status s = DecideGroup(tables, comps[c], children, prefer_dev, matches, decided);
      lock.lock();
      status[c] = std::move(s);
      state[c] = kDecided;
      for (; next_final < comps.size() && state[next_final] == kDecided; ++next_final) {
        if (!status[next_final].ok()) {
          failed = status[next_final];
          break;
        }
        for (int t : comps[next_final]) {
          __int128 own = tables[t].fresh_after;
          __int128* after = tables[t].fresh_sequence.empty()
                                ? &own
                                : &shared_after[tables[t].fresh_sequence];
          if (absl::Status a = AllocateFresh(tables[t], decided[t], after); !a.ok()) {
            failed = a;
            break;
          }
        }
        if (!failed.ok()) break;
        for (int t : comps[next_final]) TakePartitionsDecisions(tables, t, decided);
        state[next_final] = kFinal;
        for (int t : comps[next_final]) settled(t);
      }
      cv.notify_all();
    }
  };
  std::thread helper(work);
  work();
  helper.join();
  return failed;
}

absl::StatusOr<std::vector<TableDecisions>> Decide(const std::vector<TableKeys>& tables,
                                                   bool prefer_dev) {
  std::vector<TableDecisions> decided(tables.size());
  std::vector<TableDecisions*> into;
  for (TableDecisions& d : decided) into.push_back(&d);
  PGM_RETURN_IF_ERROR(Decide(tables, prefer_dev, into, [](int) {}));
  return decided;
}

}  // namespace pgmerge::merger::internal
