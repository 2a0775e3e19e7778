// The decide pass's rules, one test each, as the README's "How the merge
// decides" states them. Plain GoogleTest: key arrays and fingerprints built
// by hand, no dump and no database.
#include "merger/decide.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "keyspace/key_hash.h"
#include "merger/fork_evidence.h"

namespace pgmerge::merger::internal {
namespace {

using keyspace::HashField;
using keyspace::kHashSeed;
using keyspace::kNoValue;
using keyspace::SideIndex;

// A row as the index pass records it: key, content fingerprint, its
// tracked foreign-key values, its natural unique keys' plain hashes.
struct Row {
  uint64_t key;
  uint64_t fp;
  std::vector<int64_t> fks = {};
  std::vector<uint64_t> uniques = {};
  uint64_t sig = 0;  // Column signature (two-way evidence); 0: none.
};

// Column signatures of five columns: an edit keeps four of them, two rows
// made apart share none.
constexpr uint64_t kSig = 0x12345, kSigEdited = 0x12346, kSigOther = 0x6789A;

// One table's three sides and the evidence decide is given.
struct TestTable {
  std::unique_ptr<SideIndex> prod, dev, base;
  std::vector<absl::flat_hash_map<uint64_t, uint64_t>> prod_unique;
  TableKeys keys;
};

std::unique_ptr<SideIndex> MakeIndex(const std::vector<Row>& rows, int fk_width,
                                     int unique_width, bool keyed = true) {
  auto index = std::make_unique<SideIndex>(fk_width, unique_width);
  for (const Row& r : rows) {
    if (keyed) {
      index->AddRow(r.key, r.fp);
    } else {
      index->AddUnkeyedRow(r.key, r.fp);
    }
    for (int s = 0; s < fk_width; ++s) index->AddFk(r.fks.at(s));
    for (int u = 0; u < unique_width; ++u) index->AddUnique(r.uniques.at(u));
  }
  bool signed_rows = false;
  for (const Row& r : rows) signed_rows |= r.sig != 0;
  for (const Row& r : rows) {
    if (signed_rows) index->AddSignature(r.sig);
  }
  EXPECT_FALSE(index->Finalize().has_value());
  return index;
}

class DecideTest : public ::testing::Test {
 protected:
  // Adds a table; `fk_parent` per FK slot of its dev rows.
  TestTable& Add(Mode mode, const std::vector<Row>& prod, const std::vector<Row>& dev,
                 std::vector<int> fk_parent = {}, int uniques = 0,
                 const std::vector<Row>* base = nullptr, bool dev_keyed = true) {
    auto t = std::make_unique<TestTable>();
    const int fks = static_cast<int>(fk_parent.size());
    t->prod = MakeIndex(prod, 0, 0);
    t->dev = MakeIndex(dev, fks, uniques, dev_keyed);
    if (base != nullptr) t->base = MakeIndex(*base, 0, 0);
    t->prod_unique.resize(uniques);
    t->keys.name = absl::StrCat("t", tables_.size());
    t->keys.mode = mode;
    t->keys.prod = t->prod.get();
    t->keys.dev = t->dev.get();
    t->keys.base = t->base.get();
    t->keys.fk_parent = std::move(fk_parent);
    t->keys.unique_fk_slots.resize(uniques);
    t->keys.prod_unique = &t->prod_unique;
    if (t->dev->has_signatures()) t->keys.signature_width = 5;
    tables_.push_back(std::move(t));
    return *tables_.back();
  }

  std::vector<TableDecisions> Run(bool prefer_dev = false) {
    std::vector<TableKeys> keys;
    for (const auto& t : tables_) keys.push_back(t->keys);
    absl::StatusOr<std::vector<TableDecisions>> d = Decide(keys, prefer_dev);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *std::move(d) : std::vector<TableDecisions>(tables_.size());
  }

  std::vector<std::unique_ptr<TestTable>> tables_;
};

std::vector<uint8_t> Decisions(std::initializer_list<Decision> d) {
  return std::vector<uint8_t>(d.begin(), d.end());
}

// Same key, same content on both sides: a base row, written once (by
// production's copy: nothing of dev's is kept).
TEST_F(DecideTest, IdenticalRowIsABaseRowWrittenOnce) {
  Add(Mode::kRemap, {{1, 11}, {2, 12}, {3, 13}}, {{1, 11}, {2, 12}, {3, 13}});
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kBase, kBase}));
  EXPECT_EQ(d.base_high_water, 3);
  EXPECT_EQ(d.remap.size(), 0u);
  EXPECT_TRUE(d.gone.empty());
  EXPECT_TRUE(d.prod_replaced.empty());
}

// Only in production: kept with its key; nothing in the decisions touches
// it (production keys never change).
TEST_F(DecideTest, ProdOnlyRowIsKeptWithItsKey) {
  Add(Mode::kRemap, {{1, 11}, {2, 12}, {3, 13}}, {{1, 11}, {2, 12}});
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kBase}));
  EXPECT_FALSE(d.remap.Contains(3));
  EXPECT_TRUE(d.conflict_keys.empty());
  EXPECT_TRUE(d.prod_replaced.empty());
}

// Only in development, above h: kept with its key, which is free.
TEST_F(DecideTest, DevOnlyRowKeepsItsFreeKey) {
  Add(Mode::kRemap, {{1, 11}, {2, 12}}, {{1, 11}, {2, 12}, {3, 99}});
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kBase, kDevOnly}));
  EXPECT_EQ(d.Rewrite(3), 3);
}

// Same key, other content, above h: both created a row; dev's gets a fresh
// key above every key and sequence value, in key order.
TEST_F(DecideTest, CollisionAboveHighWaterGetsAFreshKeyAboveEverything) {
  TestTable& t = Add(Mode::kRemap, {{1, 11}, {2, 12}, {3, 30}, {4, 40}},
                     {{1, 11}, {2, 12}, {4, 41}, {3, 31}});
  t.keys.fresh_after = 10;  // The largest key or sequence value of both dumps.
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.base_high_water, 2);
  EXPECT_EQ(d.decision, Decisions({kBase, kBase, kCollision, kCollision}));
  EXPECT_EQ(d.Rewrite(3), 11);
  EXPECT_EQ(d.Rewrite(4), 12);
  EXPECT_EQ(d.fresh_last, std::optional<int64_t>(12));
  EXPECT_EQ(d.Rewrite(kNoValue), kNoValue);
}

// Partitions of one table (pagila's payment_p2022_*) draw their keys from
// one sequence: their colliding rows' fresh keys come from one range, so
// no two partitions hand out the same key.
TEST_F(DecideTest, TablesSharingASequenceShareOneFreshRange) {
  TestTable& a = Add(Mode::kRemap, {{1, 11}, {2, 12}, {3, 30}}, {{1, 11}, {2, 12}, {3, 31}});
  TestTable& b = Add(Mode::kRemap, {{5, 51}, {6, 60}, {7, 70}}, {{5, 51}, {6, 61}, {7, 71}});
  a.keys.fresh_after = 7;  // Each partition's own keys and the sequence's position.
  b.keys.fresh_after = 10;
  a.keys.fresh_sequence = b.keys.fresh_sequence = "public.payment_payment_id_seq";
  std::vector<TableDecisions> d = Run();
  EXPECT_EQ(d[0].decision, Decisions({kBase, kBase, kCollision}));
  EXPECT_EQ(d[1].decision, Decisions({kBase, kCollision, kCollision}));
  EXPECT_EQ(d[0].Rewrite(3), 11);  // Past the furthest of the group.
  EXPECT_EQ(d[1].Rewrite(6), 12);  // Past the keys the first partition took.
  EXPECT_EQ(d[1].Rewrite(7), 13);
  EXPECT_EQ(d[1].fresh_last, std::optional<int64_t>(13));
  // Without a shared sequence each table keeps its own range.
  tables_[0]->keys.fresh_sequence.clear();
  tables_[1]->keys.fresh_sequence.clear();
  d = Run();
  EXPECT_EQ(d[0].Rewrite(3), 8);
  EXPECT_EQ(d[1].Rewrite(6), 11);
}

// Independent tables are decided on two threads; their fresh keys and the
// first refusal still come in table order, run after run.
TEST_F(DecideTest, GroupsDecidedAtOnceHandOutKeysInOrder) {
  for (int t = 0; t < 8; ++t) {
    TestTable& x = Add(Mode::kRemap, {{1, 11}, {2, 12}, {3, 30}},
                       {{1, 11}, {2, 12}, {3, static_cast<uint64_t>(31 + t)}});
    x.keys.fresh_after = 10 + t;
    x.keys.fresh_sequence = "public.shared_seq";
  }
  for (int run = 0; run < 20; ++run) {
    std::vector<TableDecisions> d = Run();
    for (int t = 0; t < 8; ++t) EXPECT_EQ(d[t].Rewrite(3), 18 + t) << t;
  }
  // Too few keys left for the third and the fifth table: the third's
  // refusal, whichever thread gets there first.
  for (int t = 0; t < 8; ++t) tables_[t]->keys.fresh_sequence.clear();
  tables_[2]->keys.fresh_hi = tables_[2]->keys.fresh_after;
  tables_[4]->keys.fresh_hi = tables_[4]->keys.fresh_after;
  tables_[2]->keys.fresh_what = "t2";
  tables_[4]->keys.fresh_what = "t4";
  std::vector<TableKeys> keys;
  for (const auto& t : tables_) keys.push_back(t->keys);
  for (int run = 0; run < 20; ++run) {
    absl::StatusOr<std::vector<TableDecisions>> d = Decide(keys, false);
    ASSERT_FALSE(d.ok());
    EXPECT_TRUE(absl::StartsWith(d.status().message(), "t2: ")) << d.status();
  }
}

// A table of one column besides the key whose top-most base row production
// edited (and development's child points at): the rows share nothing, so
// both are kept, and the decision is reported as ambiguous.
TEST_F(DecideTest, OneColumnEditOfTheTopBaseRowIsReportedAmbiguous) {
  constexpr uint64_t kName = 0x1, kNameEdited = 0x2;
  TestTable& t = Add(Mode::kRemap, {{1, 11, {}, {}, kName}, {2, 20, {}, {}, kNameEdited}},
                     {{1, 11, {}, {}, kName}, {2, 12, {}, {}, kName}});
  t.keys.signature_width = 1;
  t.keys.fresh_after = 2;
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kCollision}));
  ASSERT_TRUE(d.ambiguous.contains(1));
  EXPECT_NE(d.ambiguous.at(1).find("key 2: differs, 0 of 1 columns equal"), std::string::npos);
}

// Same key, other content, inside the fork's rows and with most columns
// equal: an edit of a base row; prod's version is kept and the conflict
// reported (inferred).
TEST_F(DecideTest, EditInsideTheBaseIsAConflictProdWins) {
  Add(Mode::kRemap,
      {{1, 11, {}, {}, kSig}, {2, 20, {}, {}, kSig}, {3, 13, {}, {}, kSig},
       {4, 14, {}, {}, kSig}},
      {{1, 11, {}, {}, kSig}, {2, 12, {}, {}, kSigEdited}, {3, 13, {}, {}, kSig},
       {4, 14, {}, {}, kSig}});
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kConflict, kBase, kBase}));
  EXPECT_TRUE(d.conflict_keys.contains(2));
  EXPECT_TRUE(d.prod_replaced.empty());  // Prod's version stays.
  EXPECT_FALSE(d.remap.Contains(2));
  EXPECT_EQ(d.inferred, 1);
  EXPECT_TRUE(d.ambiguous.empty());
}

// The same key with little in common is never taken for an edit: both
// rows are kept (dev's under a fresh key) and the decision is reported as
// ambiguous, so no dev row is dropped and no reference re-pointed at a
// prod row of other content.
TEST_F(DecideTest, DifferentRowInsideTheBaseKeepsBothAmbiguous) {
  Add(Mode::kRemap,
      {{1, 11, {}, {}, kSig}, {2, 20, {}, {}, kSig}, {3, 13, {}, {}, kSig},
       {4, 14, {}, {}, kSig}},
      {{1, 11, {}, {}, kSig}, {2, 12, {}, {}, kSigOther}, {3, 13, {}, {}, kSig},
       {4, 14, {}, {}, kSig}});
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kCollision, kBase, kBase}));
  ASSERT_EQ(d.ambiguous.size(), 1u);
  ASSERT_TRUE(d.ambiguous.contains(1));
  EXPECT_NE(d.ambiguous.at(1).find("key 2: differs, 0 of 5 columns equal"), std::string::npos);
}

// A dev row inside the fork's rows that production lacks was deleted in
// production and is not brought back.
TEST_F(DecideTest, DevRowInsideTheBaseMissingInProdWasDeleted) {
  Add(Mode::kRemap, {{1, 11}, {3, 13}, {4, 14}, {5, 15}},
      {{1, 11}, {2, 12}, {3, 13}, {4, 14}, {5, 15}});
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kDeleted, kBase, kBase, kBase}));
  EXPECT_TRUE(d.gone.contains(2));
  EXPECT_EQ(d.inferred, 1);
}

// The top-most base row edited in production (the newest order shipped):
// an identical child row points at it, so it existed at the fork and dev's
// unchanged copy is not inserted again as a new row.
TEST_F(DecideTest, TopMostBaseRowEditedIsProvenByItsIdenticalChild) {
  Add(Mode::kRemap,
      {{1, 11, {}, {}, kSig}, {2, 12, {}, {}, kSig}, {3, 30, {}, {}, kSig},
       {4, 40, {}, {}, kSig}},
      {{1, 11, {}, {}, kSig}, {2, 12, {}, {}, kSig}, {3, 13, {}, {}, kSigEdited},
       {4, 41, {}, {}, kSigOther}});
  // Order lines: 10 and 11 identical on both sides; 11 points at order 3.
  Add(Mode::kRemap, {{10, 100}, {11, 110}}, {{10, 100, {1}}, {11, 110, {3}}}, {0});
  std::vector<TableDecisions> d = Run();
  EXPECT_EQ(d[0].decision, Decisions({kBase, kBase, kConflict, kCollision}));
  EXPECT_EQ(d[1].decision, Decisions({kBase, kBase}));
}

// The same with keys far apart, whose counts are hashed, not an array
// (KeyCounts): the same proof.
TEST_F(DecideTest, SparseKeysAreProvenByTheirIdenticalChildToo) {
  constexpr uint64_t k = 1'000'000'007;
  Add(Mode::kRemap,
      {{1 * k, 11, {}, {}, kSig}, {2 * k, 12, {}, {}, kSig}, {3 * k, 30, {}, {}, kSig},
       {4 * k, 40, {}, {}, kSig}},
      {{1 * k, 11, {}, {}, kSig}, {2 * k, 12, {}, {}, kSig}, {3 * k, 13, {}, {}, kSigEdited},
       {4 * k, 41, {}, {}, kSigOther}});
  Add(Mode::kRemap, {{10, 100}, {11, 110}},
      {{10, 100, {int64_t{1} * k}}, {11, 110, {int64_t{3} * k}}}, {0});
  std::vector<TableDecisions> d = Run();
  EXPECT_EQ(d[0].decision, Decisions({kBase, kBase, kConflict, kCollision}));
  EXPECT_EQ(d[1].decision, Decisions({kBase, kBase}));
}

// Counts per key: an array over the span, a map for the rest, added up
// across threads as if counted on one.
TEST(KeyCountsTest, ArrayOverTheSpanMapElsewhere) {
  ChildProofs a, b;
  a.Span(100, 199, 100);
  b.Span(100, 199, 100);
  ++a[100].rows;
  ++a[199].rows;
  ++a[5].rows;  // Outside: a reference to no row.
  ++b[199].links;
  ++b[-7].rows;
  a.Add(b);
  EXPECT_EQ(a.Get(100).rows, 1);
  EXPECT_EQ(a.Get(199).rows + a.Get(199).links, 2);
  EXPECT_EQ(a.Get(5).rows, 1);
  EXPECT_EQ(a.Get(-7).rows, 1);
  EXPECT_EQ(a.Get(150).rows + a.Get(150).links, 0);
  EXPECT_EQ(a.Get(1000).rows, 0);
  int counted = 0;
  a.ForEach([&](int64_t, ChildProof p) { counted += p.rows + p.links; });
  EXPECT_EQ(counted, 5);
  ChildProofs sparse;
  sparse.Span(0, 1'000'000, 10);  // Too sparse for an array.
  ++sparse[500].rows;
  EXPECT_EQ(sparse.Get(500).rows, 1);
}

// Rows made alike on both sides just above the fork (a tag both sides
// created) do not turn the differing new rows below them into edits.
TEST_F(DecideTest, CoincidenceAboveTheForkKeepsTheRowsBelowIt) {
  Add(Mode::kRemap,
      {{1, 11, {}, {}, kSig}, {2, 12, {}, {}, kSig}, {3, 30, {}, {}, kSig},
       {4, 14, {}, {}, kSig}},
      {{1, 11, {}, {}, kSig}, {2, 12, {}, {}, kSig}, {3, 31, {}, {}, kSigOther},
       {4, 14, {}, {}, kSig}});
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kBase, kCollision, kBase}));
  EXPECT_TRUE(d.remap.Contains(3));
  EXPECT_EQ(d.base_high_water, 2);  // The change point.
  ASSERT_EQ(d.ambiguous.size(), 1u);  // Key 4: maybe two rows made alike.
  EXPECT_TRUE(d.ambiguous.contains(3));
}

// Both sides made a new invoice 6 and a new track 6, and a line 6 naming
// both: the lines coincide because the new keys do. The line proves
// neither parent (its other reference is no sure fork row), so the track,
// one column apart like an edit, is still kept apart, and the line, the
// same values pointing at parents kept apart, follows them.
TEST_F(DecideTest, ALineOfNewRowsMadeAlikeProvesNothing) {
  std::vector<Row> base_rows;
  for (uint64_t k = 1; k <= 5; ++k) base_rows.push_back({k, 10 + k, {}, {}, kSig});
  std::vector<Row> prod_inv = base_rows, dev_inv = base_rows;
  prod_inv.push_back({6, 60, {}, {}, kSig});
  dev_inv.push_back({6, 61, {}, {}, kSigOther});
  std::vector<Row> prod_track = base_rows, dev_track = base_rows;
  prod_track.push_back({6, 60, {}, {}, kSig});
  dev_track.push_back({6, 61, {}, {}, kSigEdited});
  TestTable& inv = Add(Mode::kRemap, prod_inv, dev_inv);
  TestTable& track = Add(Mode::kRemap, prod_track, dev_track);
  inv.keys.fresh_after = track.keys.fresh_after = 6;
  std::vector<Row> prod_line, dev_line;
  for (uint64_t k = 1; k <= 6; ++k) {
    prod_line.push_back({k, 100 + k});
    dev_line.push_back({k, 100 + k, {static_cast<int64_t>(k), static_cast<int64_t>(k)}});
  }
  Add(Mode::kRemap, prod_line, dev_line, {0, 1}).keys.fresh_after = 6;
  std::vector<TableDecisions> d = Run();
  EXPECT_EQ(d[0].decision.back(), kCollision);
  EXPECT_EQ(d[1].decision.back(), kCollision);
  EXPECT_TRUE(d[1].ambiguous.contains(5));
  EXPECT_EQ(d[2].decision.back(), kCollision);
  EXPECT_TRUE(d[2].ambiguous.contains(5));
  EXPECT_EQ(d[0].Rewrite(6), 7);
  EXPECT_EQ(d[1].Rewrite(6), 7);
}

// Integer keys without a sequence (kFixed int_key), two-way: a row only
// development has among the fork's identical rows was deleted by
// production; at the top, where production's keys go past it, it is kept
// and reported ambiguous. Text keys cannot tell: kept, ambiguous.
TEST_F(DecideTest, FixedKeysOnlyDevelopmentHasAreInferredOrReported) {
  std::vector<Row> prod, dev;
  for (uint64_t k = 1; k <= 8; ++k) {
    if (k != 3 && k != 7) prod.push_back({k, k});
    if (k != 8) dev.push_back({k, k});
  }
  prod.push_back({9, 90});
  TestTable& ints = Add(Mode::kFixed, prod, dev);
  ints.keys.int_key = true;
  auto k = [](const char* text) { return HashField(text, kHashSeed); };
  Add(Mode::kFixed, {{k("a"), 1}}, {{k("a"), 1}, {k("yu"), 2}});
  std::vector<TableDecisions> d = Run();
  EXPECT_EQ(d[0].decision[2], kDeleted);  // Key 3, inside.
  EXPECT_TRUE(d[0].gone.contains(3));
  EXPECT_EQ(d[0].decision[6], kDevOnly);  // Key 7, at the top.
  EXPECT_TRUE(d[0].ambiguous.contains(6));
  EXPECT_EQ(d[1].decision[1], kDevOnly);
  EXPECT_TRUE(d[1].ambiguous.contains(1));
}

// A dev row equal to a prod row on a natural unique key is unified with
// it: its key maps to production's row.
TEST_F(DecideTest, NaturalUniqueKeyUnifiesWithProdRow) {
  const uint64_t slug = HashField("news", kHashSeed);
  TestTable& t = Add(Mode::kRemap, {{1, 11}, {2, 12}},
                     {{1, 11, {}, {HashField("a", kHashSeed)}}, {5, 55, {}, {slug}}},
                     {}, /*uniques=*/1);
  t.prod_unique[0] = {{HashField("a", kHashSeed), 1}, {slug, 2}};
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kUnified}));
  ASSERT_TRUE(d.unified.contains(1));
  EXPECT_EQ(d.unified.at(1).target, 2);
  EXPECT_EQ(d.unified.at(1).via, 0);
  EXPECT_EQ(d.Rewrite(5), 2);
}

// Unique keys that match two different prod rows: the dev row cannot be
// placed and is dropped (reported), not guessed.
TEST_F(DecideTest, UniqueKeysNamingDifferentProdRowsDropTheRow) {
  const uint64_t a = HashField("a", kHashSeed), b = HashField("b", kHashSeed);
  TestTable& t = Add(Mode::kRemap, {{1, 11}, {2, 12}}, {{7, 77, {}, {a, b}}}, {},
                     /*uniques=*/2);
  t.prod_unique[0] = {{a, 1}};
  t.prod_unique[1] = {{b, 2}};
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kDropUnique}));
  EXPECT_TRUE(d.gone.contains(7));
}

// A collision whose unique key names the prod row with the very same key:
// one row, edited on a side, so a conflict rather than a copy.
TEST_F(DecideTest, UniqueKeyOnTheSameKeyIsAConflict) {
  const uint64_t a = HashField("a", kHashSeed);
  TestTable& t = Add(Mode::kRemap, {{3, 30}}, {{3, 31, {}, {a}}}, {}, /*uniques=*/1);
  t.prod_unique[0] = {{a, 3}};
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kConflict}));
  EXPECT_TRUE(d.conflict_keys.contains(3));
}

// Keys that cannot be remapped (uuid, text, composite): identical is one
// row, different is a conflict with prod's version kept, absent is dev's;
// nothing is remapped or inferred deleted.
TEST_F(DecideTest, FixedKeysAreIdenticalOrConflictNeverRemapped) {
  auto k = [](const char* text) { return HashField(text, kHashSeed); };
  Add(Mode::kFixed, {{k("a"), 1}, {k("b"), 2}, {k("d"), 4}},
      {{k("a"), 1}, {k("b"), 9}, {k("c"), 3}});
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kConflict, kDevOnly}));
  EXPECT_TRUE(d.conflict_keys.contains(k("b")));
  EXPECT_EQ(d.remap.size(), 0u);
  EXPECT_TRUE(d.gone.empty());
  EXPECT_EQ(d.base_high_water, 0);
}

// Tables without any key: multisets. Each prod copy absorbs one identical
// dev row; the rest are dev's, or unified on a natural unique key.
TEST(DecideKeylessTest, RowsAreMatchedAsAMultiset) {
  keyspace::RowMultiset prod;
  prod.Add(5);
  prod.Add(5);
  int asked = 0;
  auto no_match = [&] { ++asked; return false; };
  EXPECT_EQ(DecideKeylessRow(prod, 5, false, no_match), kBase);
  EXPECT_EQ(DecideKeylessRow(prod, 5, false, no_match), kBase);
  EXPECT_EQ(asked, 0);  // Identical rows never consult unique keys.
  EXPECT_EQ(DecideKeylessRow(prod, 5, false, no_match), kDevOnly);
  EXPECT_EQ(DecideKeylessRow(prod, 6, false, [] { return true; }), kUnified);
  prod.Add(7);
  EXPECT_EQ(DecideKeylessRow(prod, 7, true, no_match), kDropOrphan);
  EXPECT_EQ(DecideKeylessRow(prod, 7, false, no_match), kBase);  // Not taken above.
}

// Three-way (--base): edits only dev made are taken, edits only prod made
// kept, both edited is a conflict, deletions are exact (no h at all), and
// the same new key on both sides is a collision.
TEST_F(DecideTest, ThreeWayWithBaseIsExact) {
  const std::vector<Row> base = {{1, 10}, {2, 20}, {3, 30}, {4, 40}, {5, 50}, {8, 80}};
  // prod: edits 2 and 4, deletes 5 and 8, creates 6.
  // dev: edits 1 and 4, deletes 3, creates 6 and 7.
  Add(Mode::kRemap, {{1, 10}, {2, 21}, {3, 30}, {4, 42}, {6, 60}},
      {{1, 11}, {2, 20}, {4, 43}, {5, 50}, {6, 61}, {7, 70}, {8, 81}}, {}, 0, &base);
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kTakeDev, kProdEdit, kConflict, kDeleted, kCollision,
                                   kDevOnly, kDeleted}));
  EXPECT_TRUE(d.prod_replaced.contains(1));   // Dev's edit replaces prod's row.
  EXPECT_FALSE(d.prod_replaced.contains(4));  // Both edited: prod's by default.
  EXPECT_TRUE(d.gone.contains(5));
  EXPECT_TRUE(d.gone.contains(8));  // Deleted in prod though dev edited it.
  EXPECT_TRUE(d.remap.Contains(6));
  EXPECT_EQ(d.base_high_water, 0);
}

TEST_F(DecideTest, ThreeWayPreferDevTakesDevsVersionOfBothEdited) {
  const std::vector<Row> base = {{4, 40}};
  Add(Mode::kRemap, {{4, 42}}, {{4, 43}}, {}, 0, &base);
  TableDecisions d = Run(/*prefer_dev=*/true)[0];
  EXPECT_EQ(d.decision, Decisions({kConflict}));
  EXPECT_TRUE(d.prod_replaced.contains(4));
}

// Foreign keys follow remaps: a child identical to prod's but pointing at
// a parent dev re-created is not a base row, and its reference is
// rewritten to the parent's fresh key; a child of a row production
// deleted is dropped, not left dangling.
TEST_F(DecideTest, ForeignKeysFollowRemapsAndDeletions) {
  TestTable& parent = Add(
      Mode::kRemap,
      {{1, 11, {}, {}, kSig}, {2, 20, {}, {}, kSig}, {4, 44, {}, {}, kSig},
       {5, 55, {}, {}, kSig}, {6, 66, {}, {}, kSig}, {7, 77, {}, {}, kSig}},
      {{1, 11, {}, {}, kSig}, {2, 21, {}, {}, kSigEdited}, {3, 33, {}, {}, kSig},
       {4, 44, {}, {}, kSig}, {5, 55, {}, {}, kSig}, {6, 66, {}, {}, kSig},
       {7, 77, {}, {}, kSig}});
  parent.keys.fresh_after = 7;
  // Child rows: key, fp, FK into the parent.
  Add(Mode::kRemap, {{10, 100}, {11, 110}, {12, 120}},
      {{10, 100, {1}}, {11, 110, {2}}, {12, 120, {4}}, {13, 130, {3}}}, {0});
  std::vector<TableDecisions> d = Run();
  // Parent: 4 to 7 are identical, so the fork's rows surely reach 7: 2 is
  // an edit (prod's kept, key unchanged) and 3, missing in prod, was
  // deleted there.
  EXPECT_EQ(d[0].decision,
            Decisions({kBase, kConflict, kDeleted, kBase, kBase, kBase, kBase}));
  EXPECT_EQ(d[1].decision, Decisions({kBase, kBase, kBase, kDropOrphan}));
}

TEST_F(DecideTest, ChildOfARemappedParentIsRewritten) {
  TestTable& parent = Add(Mode::kRemap, {{1, 11}, {2, 20}}, {{1, 11}, {2, 21}});
  parent.keys.fresh_after = 5;
  // Child 11 has prod's content but points at dev's parent 2, another row
  // than prod's 2: not a base row, so above h = 10 it is a collision.
  TestTable& child = Add(Mode::kRemap, {{10, 100}, {11, 110}},
                         {{10, 100, {1}}, {11, 110, {2}}, {12, 120, {2}}}, {0});
  child.keys.fresh_after = 12;
  std::vector<TableDecisions> d = Run();
  EXPECT_EQ(d[0].decision, Decisions({kBase, kCollision}));
  EXPECT_EQ(d[0].Rewrite(2), 6);
  EXPECT_EQ(d[1].decision, Decisions({kBase, kCollision, kDevOnly}));
  EXPECT_EQ(d[1].Rewrite(11), 13);
  EXPECT_EQ(d[1].Rewrite(12), 12);
}

// A self-reference: a new row pointing at another new row of the same
// table follows its remap; the table is iterated to a fixed point.
TEST_F(DecideTest, SelfReferenceFollowsItsOwnRemap) {
  TestTable& t = Add(Mode::kRemap, {{1, 11, {}}, {2, 20}},
                     {{1, 11, {kNoValue}}, {2, 21, {1}}, {3, 31, {2}}}, {0});
  t.keys.fresh_after = 10;
  TableDecisions d = Run()[0];
  EXPECT_EQ(d.decision, Decisions({kBase, kCollision, kDevOnly}));
  EXPECT_EQ(d.Rewrite(2), 11);  // Row 3's reference, as written.
  EXPECT_EQ(d.Rewrite(3), 3);
}

// A cycle between two tables: each is decided with the other's remaps, in
// one group, to a fixed point.
TEST_F(DecideTest, CycleBetweenTablesSettles) {
  TestTable& a = Add(Mode::kRemap, {{1, 11}, {2, 20}}, {{1, 11, {1}}, {2, 21, {2}}}, {1});
  a.keys.fresh_after = 2;
  // b's row 2 is identical to prod's but points at a's re-created row 2.
  TestTable& b = Add(Mode::kRemap, {{1, 11}, {2, 22}}, {{1, 11, {1}}, {2, 22, {2}}}, {0});
  b.keys.fresh_after = 2;
  std::vector<TableKeys> keys;
  for (const auto& t : tables_) keys.push_back(t->keys);
  EXPECT_EQ(ComponentsParentsFirst(keys), (std::vector<std::vector<int>>{{0, 1}}));
  std::vector<TableDecisions> d = Run();
  EXPECT_EQ(d[0].decision, Decisions({kBase, kCollision}));
  EXPECT_EQ(d[1].decision, Decisions({kBase, kCollision}));
  EXPECT_EQ(d[0].Rewrite(2), 3);
  EXPECT_EQ(d[1].Rewrite(2), 3);
}

// Each table is told settled once, after its parents and with its fresh
// keys handed out: the merge writes it then, while others are decided.
TEST_F(DecideTest, TablesSettleOnceParentsFirstWithTheirFreshKeys) {
  TestTable& parent = Add(Mode::kRemap, {{1, 11}, {2, 20}}, {{1, 11}, {2, 21}});
  parent.keys.fresh_after = 5;
  Add(Mode::kRemap, {{10, 100}}, {{10, 100, {1}}, {11, 110, {2}}}, {0});
  Add(Mode::kRemap, {{1, 11}}, {{1, 11}});  // Unrelated.
  std::vector<TableKeys> keys;
  for (const auto& t : tables_) keys.push_back(t->keys);
  for (int run = 0; run < 20; ++run) {
    std::vector<TableDecisions> decided(keys.size());
    std::vector<TableDecisions*> into;
    for (TableDecisions& d : decided) into.push_back(&d);
    std::vector<int> order;
    std::vector<int64_t> parent_rewrite;
    ASSERT_TRUE(Decide(keys, false, into, [&](int t) {
                  order.push_back(t);
                  if (t == 0) parent_rewrite.push_back(decided[0].Rewrite(2));
                }).ok());
    EXPECT_EQ(order.size(), 3u);
    EXPECT_LT(std::find(order.begin(), order.end(), 0), std::find(order.begin(), order.end(), 1));
    EXPECT_EQ(parent_rewrite, std::vector<int64_t>{6});
    EXPECT_EQ(decided[1].decision, Decisions({kBase, kDevOnly}));
  }
}

// A composite key made of a foreign key (post_tags(post_id, tag)): the
// key's FK part is rewritten through the parent's remap before the lookup,
// so dev's link to its re-created post is not production's link.
TEST_F(DecideTest, CompositeKeyWithForeignKeyPartFollowsTheRemap) {
  TestTable& posts = Add(Mode::kRemap, {{1, 11}, {2, 20}}, {{1, 11}, {2, 21}});
  posts.keys.fresh_after = 2;
  const uint64_t plain = HashField("t", kHashSeed);  // The tag: plain part.
  auto full = [&](const char* post) { return HashField(post, plain); };
  TestTable& links = Add(Mode::kFixed, {{full("1"), 5}, {full("2"), 6}},
                         {{plain, 5, {1}}, {plain, 6, {2}}}, {0}, 0, nullptr,
                         /*dev_keyed=*/false);
  links.keys.key_fk_slots = {0};
  std::vector<TableDecisions> d = Run();
  EXPECT_EQ(d[0].Rewrite(2), 3);
  // (1, t) is production's link; (2, t) points at dev's post, now 3.
  EXPECT_EQ(d[1].decision, Decisions({kBase, kDevOnly}));
}

// A natural unique key with a foreign-key part matches production's row
// only through the rewritten value: dev's tag "news" on its post 5, which
// is unified with prod's post 2, is prod's tag "news" on post 2.
TEST_F(DecideTest, UniqueKeyWithForeignKeyPartUsesRewrittenValue) {
  const uint64_t slug = HashField("hello", kHashSeed);
  TestTable& posts = Add(Mode::kRemap, {{1, 11}, {2, 20}}, {{5, 50, {}, {slug}}}, {},
                         /*uniques=*/1);
  posts.prod_unique[0] = {{slug, 2}};
  const uint64_t plain = HashField("news", kHashSeed);
  TestTable& tags = Add(Mode::kRemap, {{1, 10}}, {{7, 70, {5}, {plain}}}, {0},
                        /*uniques=*/1);
  tags.keys.unique_fk_slots = {{0}};
  tags.prod_unique[0] = {{HashField("2", plain), 1}};
  std::vector<TableDecisions> d = Run();
  EXPECT_EQ(d[0].decision, Decisions({kUnified}));
  EXPECT_EQ(d[0].Rewrite(5), 2);
  EXPECT_EQ(d[1].decision, Decisions({kUnified}));
  EXPECT_EQ(d[1].Rewrite(7), 1);
}

}  // namespace
}  // namespace pgmerge::merger::internal
