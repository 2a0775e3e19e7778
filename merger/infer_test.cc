#include "merger/infer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pgmerge::merger {
namespace {

using ::testing::HasSubstr;

// A key layout in one string, a character per key from key 1 up:
//   '=' identical, 'e' differs but mostly equal (an edit's look),
//   'x' differs with little in common, 'p' production only,
//   'd' development only, 'E' like 'e' with an identical child pointing at
//   it, 'o' differs in the only column compared, 'O' like 'o' with an
//   identical child, 'c' copied and marked (2 of 5 columns equal) with an
//   identical child, 'L' like 'e' with many identical join rows pointing at
//   it, 'f' the same values but a parent kept apart, ' ' neither side has
//   the key.
std::vector<KeyFacts> Layout(const std::string& s) {
  std::vector<KeyFacts> facts;
  for (size_t i = 0; i < s.size(); ++i) {
    KeyFacts f;
    f.key = static_cast<int64_t>(i) + 1;
    switch (s[i]) {
      case '=': f.state = KeyState::kIdentical; break;
      case 'e':
      case 'E':
        f.state = KeyState::kDiffer;
        f.columns_equal = 4;
        f.columns_compared = 5;
        f.base_children = s[i] == 'E' ? 1 : 0;
        break;
      case 'x':
        f.state = KeyState::kDiffer;
        f.columns_equal = 0;
        f.columns_compared = 5;
        break;
      case 'o':  // A row of one column besides the key, which differs.
      case 'O':
        f.state = KeyState::kDiffer;
        f.columns_equal = 0;
        f.columns_compared = 1;
        f.base_children = s[i] == 'O' ? 1 : 0;
        break;
      case 'c':
        f.state = KeyState::kDiffer;
        f.columns_equal = 2;
        f.columns_compared = 5;
        f.base_children = 1;
        break;
      case 'L':
        f.state = KeyState::kDiffer;
        f.columns_equal = 4;
        f.columns_compared = 5;
        f.base_children = f.base_links = 12;
        break;
      case 'f':
        f.state = KeyState::kDiffer;
        f.columns_equal = f.columns_compared = 5;
        f.follows_parent = true;
        break;
      case 'p': f.state = KeyState::kProdOnly; break;
      case 'd': f.state = KeyState::kDevOnly; break;
      default: continue;
    }
    facts.push_back(f);
  }
  return facts;
}

// The verdicts as a string: S same, E edited, B both created (dev's
// remapped), D dev created, X prod deleted, P prod's row; lower case when
// ambiguous.
std::string Verdicts(const std::string& layout, int64_t* point = nullptr,
                     int64_t* sure = nullptr) {
  std::vector<KeyFacts> facts = Layout(layout);
  Inference inf = InferKeys(facts);
  if (point) *point = inf.change_point;
  if (sure) *sure = inf.sure_point;
  std::string out;
  for (const KeyVerdict& v : inf.verdicts) {
    char c = "SEBDXP"[static_cast<int>(v.verdict)];
    out += v.ambiguous ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

TEST(InferTest, BaseThenBothSidesCreated) {
  int64_t point;
  EXPECT_EQ(Verdicts("=====xxx", &point), "SSSSSBBB");
  EXPECT_EQ(point, 5);
}

TEST(InferTest, OneSideCreatedMore) {
  EXPECT_EQ(Verdicts("=====xxdd"), "SSSSSBBDD");
  EXPECT_EQ(Verdicts("=====xxpp"), "SSSSSBBPP");
}

TEST(InferTest, NothingCreated) {
  int64_t point;
  EXPECT_EQ(Verdicts("======", &point), "SSSSSS");
  EXPECT_EQ(point, 6);
  EXPECT_EQ(Verdicts("=="), "SS");
  EXPECT_EQ(Verdicts(""), "");
}

TEST(InferTest, OnlyOneSideCreated) {
  EXPECT_EQ(Verdicts("=====ppp"), "SSSSSPPP");
  EXPECT_EQ(Verdicts("=====ddd"), "SSSSSDDD");
}

TEST(InferTest, EditsAndDeletionsInsideTheBase) {
  EXPECT_EQ(Verdicts("==e=d==xx"), "SSESXSSBB");
  // The bottom-most base row edited, or deleted by production.
  EXPECT_EQ(Verdicts("e====xx"), "ESSSSBB");
  EXPECT_EQ(Verdicts("d====xx"), "XSSSSBB");
}

// Rows made alike on both sides just above the fork must not turn the
// differing rows below them into edits: development's rows there are kept
// (remapped), never dropped for production's rows of other content.
TEST(InferTest, CoincidencesAboveTheForkDoNotMakeEdits) {
  int64_t point;
  EXPECT_EQ(Verdicts("=====x=x", &point), "SSSSSBsB");
  EXPECT_EQ(point, 5);
  // Two coincidences outweigh one collision: the change point moves up,
  // but a row with little in common is still never taken for an edit.
  std::string v = Verdicts("=====x==", &point);
  EXPECT_EQ(v[5], 'b');
  EXPECT_NE(v[5], 'E');
}

// The top-most base row edited in production: an identical child row
// proves the key existed at the fork, so it is an edit, not a new row.
TEST(InferTest, TopMostBaseRowEditedWithEvidence) {
  EXPECT_EQ(Verdicts("=====Exx"), "SSSSSEBB");
  EXPECT_EQ(Verdicts("=====E"), "SSSSSE");
}

// Without such evidence it could be either; both rows are kept.
TEST(InferTest, TopMostBaseRowEditedWithoutEvidenceKeepsBoth) {
  std::string v = Verdicts("=====exx");
  EXPECT_EQ(v.substr(0, 5), "SSSSS");
  EXPECT_EQ(v[5], 'b');
}

// A row of one column besides the key: an edit of it leaves nothing
// equal, so an edited top-most base row looks like two rows made apart.
// Both are kept, and that is reported, never decided silently.
TEST(InferTest, OneColumnRowsDifferingAreAlwaysAmbiguous) {
  EXPECT_EQ(Verdicts("=====o"), "SSSSSb");
  EXPECT_EQ(Verdicts("=====ooo"), "SSSSSbbb");
  // With more columns, a row with nothing in common is two rows.
  EXPECT_EQ(Verdicts("=====xxx"), "SSSSSBBB");
}

// Production deleted the top-most base rows: development's copies may be
// the fork's rows or development's own; kept and marked.
TEST(InferTest, DeletionsAtTheTopAreAmbiguous) {
  EXPECT_EQ(Verdicts("=====ddxx"), "SSSSSddBB");
  // Above every production key they are development's own.
  EXPECT_EQ(Verdicts("=====xxdd"), "SSSSSBBDD");
}

// The example's posts: base rows 1..20 (the bottom and the top three
// edited, two deleted one on each side), three new rows on each side copied
// from the top and marked in one column, and an identical copy of the top
// base row above them. The change point lies at the copy; the sure edge at
// the last run of identical rows. The band's rows are kept apart.
TEST(InferTest, CopiesBelowACoincidenceAreKeptApart) {
  int64_t point, sure;
  EXPECT_EQ(Verdicts("e==============pdeeeeee=", &point, &sure), "ESSSSSSSSSSSSSSPdbbbbbbs");
  EXPECT_EQ(point, 24);
  EXPECT_EQ(sure, 15);
}

// In the band an identical child proves an edit of a value or two, not a
// copy marked in every text; many join rows prove any row mostly kept.
TEST(InferTest, ProofInTheBand) {
  EXPECT_EQ(Verdicts("=====eE="), "SSSSSbEs");
  EXPECT_EQ(Verdicts("=====ec="), "SSSSSbbs");
  EXPECT_EQ(Verdicts("=====eL="), "SSSSSbEs");
  // Below the sure edge any proof makes an edit, also of a one-column row.
  EXPECT_EQ(Verdicts("O========"), "ESSSSSSSS");
  EXPECT_EQ(Verdicts("o========"), "bSSSSSSSS");
}

// A row whose values are production's but whose parent was kept apart
// belongs to development's copy of the parent: kept apart too, reported.
TEST(InferTest, RowsFollowTheirParentKeptApart) {
  EXPECT_EQ(Verdicts("====f==="), "SSSSbSSS");
  EXPECT_EQ(Verdicts("=====xxf"), "SSSSSBBb");
}

TEST(InferTest, EvidenceLine) {
  std::vector<KeyFacts> facts = Layout("=====Exx");
  Inference inf = InferKeys(facts);
  std::string line = DescribeEvidence(facts[5], inf, 5);
  EXPECT_THAT(line, HasSubstr("key 6: differs, 4 of 5 columns equal"));
  EXPECT_THAT(line, HasSubstr("1 identical row points at it"));
  EXPECT_THAT(line, HasSubstr("between the fork's sure edge 5 and the change point 6"));
  EXPECT_THAT(line, HasSubstr("production's version kept"));
}

}  // namespace
}  // namespace pgmerge::merger
