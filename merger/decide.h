// The decide pass: which development rows are base rows, collisions to
// remap, unifications, conflicts, deletions. Pure: no I/O, no parsing, no
// catalog. What it sees of each table is its key arrays and fingerprints
// (keyspace/), the foreign-key graph between tables and the natural unique
// keys' hashes; what it returns is one decision per development row and
// the remaps and removals that follow from them. The rules are the README's
// "How the merge decides"; decide_test.cc states each one.
//
// Shape: per table, the evidence (TableKeys) in and the decisions
// (TableDecisions) out. Two-way, without a base, whether a sequence-keyed
// row is a base row, an edit, a deletion or a new row is inferred from all
// the evidence the dumps hold (merger/infer.h: the key space's change
// point, rows that identical rows point at, column agreement); weak
// evidence gives the verdict that loses nothing, reported as ambiguous.
#ifndef PGMERGE_MERGER_DECIDE_H_
#define PGMERGE_MERGER_DECIDE_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "keyspace/key_index.h"
#include "keyspace/key_set.h"

namespace pgmerge::merger::internal {

// How a table's rows are matched across the two dumps.
enum class Mode {
  kRemap,     // One integer key drawn from a sequence: collisions remapped.
  kFixed,     // Any other key: same key is the same row; never remapped.
  kMultiset,  // No key: rows compared whole, as a multiset.
};

// What happens to one development row.
enum Decision : uint8_t {
  kBase,         // Identical to the prod row with its key: emitted once.
  kDevOnly,      // Kept with its own key.
  kCollision,    // Its key was taken by another prod row: fresh key.
  kUnified,      // Equal to a prod row on a natural unique key: merged.
  kConflict,     // A base row edited on one side: prod's version kept.
  kDeleted,      // Production had deleted it: not brought back.
  kDropUnique,   // Matches different prod rows on different unique keys.
  kDropOrphan,   // Points at a parent row that is not in the output.
  kTakeDev,      // With --base: dev's edit of a base row replaces prod's.
  kProdEdit,     // With --base: prod edited a base row dev left alone.
};

// Marks a remap target not yet allocated (a fresh key): no prod row can
// hold it, so nothing may unify with it.
inline constexpr int64_t kPendingFresh = std::numeric_limits<int64_t>::max();

// What decide knows of one table. The indexes are the index pass's, built
// by the key hash of keyspace/key_hash.h. Borrowed: they must outlive the
// call.
struct TableKeys {
  std::string name;  // For messages only.
  Mode mode = Mode::kMultiset;
  // Rows by key. prod's and base's keys are whole; a kFixed dev key with
  // foreign-key columns holds only its plain part (the foreign part is
  // appended once the parents' remaps are known).
  const keyspace::SideIndex* prod = nullptr;
  const keyspace::SideIndex* dev = nullptr;
  const keyspace::SideIndex* base = nullptr;  // Set: three-way (--base).
  // Per foreign-key slot of dev's rows (SideIndex::fk): the table whose
  // remap and removals the value follows.
  std::vector<int> fk_parent;
  // The slots among the key's columns, in column order (kFixed only).
  std::vector<int> key_fk_slots;
  // Per natural unique key: its foreign-key slots in column order, and
  // production's rows by the key's whole hash (-> prod key).
  std::vector<std::vector<int>> unique_fk_slots;
  const std::vector<absl::flat_hash_map<uint64_t, uint64_t>>* prod_unique = nullptr;
  // kRemap: whether the key's sequence counts down. Its keys then grow
  // downwards: the fork's rows are the highest keys, new rows lie below
  // them, and fresh keys go below everything.
  bool key_down = false;
  // Fresh keys go one step past this, the way the sequence counts: the
  // furthest of every key of both dumps and both dumps' positions of the
  // key's sequence (kRemap). May lie one step outside int64.
  __int128 fresh_after = 0;
  // ... and stay inside [fresh_lo, fresh_hi]: the key type's range and the
  // sequence's MINVALUE/MAXVALUE. For the refusal when they do not fit:
  // "FILE:LINE: table.column (type)" and what the binding bound is ("the
  // limit of integer", "MAXVALUE of sequence s").
  // Tables drawing their keys from one sequence (a partitioned table's
  // partitions, or any tables sharing it) share one fresh range: each
  // table's fresh keys start past the group's furthest fresh_after and past
  // the keys handed to the tables before it, so no two of them coincide.
  // Empty: the table's own range.
  std::string fresh_sequence;
  int64_t fresh_lo = std::numeric_limits<int64_t>::min();
  int64_t fresh_hi = std::numeric_limits<int64_t>::max();
  std::string fresh_what;
  std::string fresh_limit;
  // Key headroom (kRemap, ascending; 0 = off). Production keeps drawing
  // keys from its sequence after its dump, until the swap: the keys
  // (prod_top, prod_top + headroom] are left to it. A development row kept
  // with its own key in that range is moved like a collision, and fresh
  // keys start above it.
  int64_t prod_top = 0;  // Production's largest key and sequence value.
  int64_t headroom = 0;
  // kFixed: the key is one integer column (keyspace stores it as its
  // value). Two-way, its keys are then inferred like a sequence's: a
  // development row alone at a key inside the fork's rows was deleted by
  // production.
  bool int_key = false;
  // A partitioned table, whose rows are its partitions': the tables it is
  // partitioned into, decided before it. Its remaps and removals are
  // theirs together (one key space), which references to it follow.
  std::vector<int> partitions;
  // kRemap tables whose keys are one space: a partitioned table's
  // partitions, tables whose keys one sequence draws (merge.cc
  // SharedKeySpaces). Production's keys of all of them, sorted, with the
  // table holding each: a development row kept with its own key must not
  // take a key production's row holds in another of them. Null: alone.
  const std::vector<std::pair<int64_t, int>>* shared_keys = nullptr;
  int self = -1;  // This table's number, as shared_keys name tables.
  // Two-way kRemap: the columns behind each row's signature
  // (SideIndex::signature); 0 when the rows carry none.
  int signature_width = 0;
};


// The decisions for one table's development rows.
struct TableDecisions {
  std::vector<uint8_t> decision;      // Per dev row: a Decision.
  // Dev rows of kUnified -> the prod row's key and the unique key matched
  // (few rows: kept sparse, for tables of millions).
  struct Unified {
    int64_t target = 0;
    uint8_t via = 0;
  };
  absl::flat_hash_map<uint32_t, Unified> unified;
  // Dev rows of kConflict and kTakeDev -> the prod key they contend with.
  absl::flat_hash_map<uint32_t, uint64_t> conflict_of_row;
  keyspace::RemapTable remap;         // Dev key -> output key (kRemap).
  absl::flat_hash_set<int64_t> gone;  // Dev keys absent from the output.
  // Asked for every production row written (keyspace/key_set.h).
  keyspace::KeySet conflict_keys;  // Prod keys contended.
  keyspace::KeySet prod_replaced;  // Prod keys dev's rows replace.
  int64_t base_high_water = 0;  // The change point (two-way kRemap), or 0.
  // Two-way: dev rows taken for edits or production's deletions by
  // inference, and the decisions the evidence left open.
  int64_t inferred = 0;
  // Dev row -> its evidence (merger/infer.h DescribeEvidence).
  absl::flat_hash_map<uint32_t, std::string> ambiguous;
  std::optional<int64_t> fresh_last;  // The last fresh key allocated, if any.
  // kRemap: the furthest key (in the sequence's direction) of development's
  // rows written with their own key or a fresh one; unset if none.
  std::optional<int64_t> new_key_far;

  // A foreign-key value pointing into this table, as the output holds it.
  int64_t Rewrite(int64_t v) const {
    return v == keyspace::kNoValue ? v : remap.Apply(v);
  }
};

// Decides every table, parents before children; the tables of a foreign-
// key cycle (a self-reference included) are iterated to a fixed point.
// `prefer_dev`: a row edited on both sides keeps dev's version.
// Internal error when a cycle's decisions do not settle; FailedPrecondition
// when colliding rows' fresh keys do not fit the key's type or sequence.
absl::StatusOr<std::vector<TableDecisions>> Decide(const std::vector<TableKeys>& tables,
                                                   bool prefer_dev);
// The same, into `decided` (one per table), calling `settled(t)` as soon
// as table t's decisions, and so its parents', are final (under the
// decide pass's lock, in a deterministic order): the merge writes a table
// while later ones are still decided.
absl::Status Decide(const std::vector<TableKeys>& tables, bool prefer_dev,
                    const std::vector<TableDecisions*>& decided,
                    const std::function<void(int table)>& settled);

// Groups of tables that reference each other (strongly connected along
// foreign keys), each group after every group it references.
std::vector<std::vector<int>> ComponentsParentsFirst(const std::vector<TableKeys>& tables);


// A row of a keyless table (kMultiset), decided while it is written: `fp`
// is its fingerprint with foreign keys rewritten; `unique_match()` says
// whether a prod row shares a natural unique key with it (asked only when
// no prod row is identical). Takes the identical prod row out of `prod`.
template <typename UniqueMatchFn>
Decision DecideKeylessRow(keyspace::RowMultiset& prod, uint64_t fp, bool orphan,
                          UniqueMatchFn unique_match) {
  if (orphan) return kDropOrphan;
  if (prod.Take(fp)) return kBase;
  return unique_match() ? kUnified : kDevOnly;
}

}  // namespace pgmerge::merger::internal

#endif  // PGMERGE_MERGER_DECIDE_H_
