// Plan::int_key (IntegerFixedKey): which fixed keys the index stores as
// their integer value instead of a hash.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "merger/plan.h"

namespace pgmerge::merger::internal {
namespace {

parser::Table MakeTable(const std::vector<std::pair<std::string, std::string>>& cols) {
  parser::Table t;
  t.name = {"public", "t"};
  for (const auto& [name, type] : cols) {
    parser::Column c;
    c.name = name;
    c.type_name = type;
    t.AddColumn(c);
  }
  return t;
}

Plan FixedKeyPlan(const parser::Table* dev, const parser::Table* prod,
                  std::vector<int> key_cols) {
  Plan p;
  p.mode = Mode::kFixed;
  p.dev = dev;
  p.prod = prod;
  for (const parser::Column& c : dev->columns) p.dev_cols.push_back(c.name);
  p.key_cols = std::move(key_cols);
  p.fk_slot.assign(p.dev_cols.size(), -1);
  return p;
}

TEST(IntegerFixedKeyTest, OneIntegerColumnInEveryDump) {
  parser::Table dev = MakeTable({{"id", "int4"}, {"name", "text"}});
  parser::Table prod = MakeTable({{"id", "int8"}, {"name", "text"}});
  EXPECT_TRUE(IntegerFixedKey(FixedKeyPlan(&dev, &prod, {0})));
  EXPECT_TRUE(IntegerFixedKey(FixedKeyPlan(&dev, nullptr, {0})));  // Dev-only table.
}

TEST(IntegerFixedKeyTest, NotWhenAnyDumpHasAnotherType) {
  parser::Table dev = MakeTable({{"id", "int4"}, {"name", "text"}});
  parser::Table prod = MakeTable({{"id", "text"}, {"name", "text"}});
  EXPECT_FALSE(IntegerFixedKey(FixedKeyPlan(&dev, &prod, {0})));
  EXPECT_FALSE(IntegerFixedKey(FixedKeyPlan(&dev, &dev, {1})));  // A text key.
}

TEST(IntegerFixedKeyTest, NotForCompositeForeignKeyOrOtherModes) {
  parser::Table dev = MakeTable({{"a", "int4"}, {"b", "int4"}});
  EXPECT_FALSE(IntegerFixedKey(FixedKeyPlan(&dev, &dev, {0, 1})));  // Composite.
  Plan fk = FixedKeyPlan(&dev, &dev, {0});
  fk.fk_slot[0] = 0;  // The key is a tracked foreign key: its FK part is appended.
  EXPECT_FALSE(IntegerFixedKey(fk));
  Plan remap = FixedKeyPlan(&dev, &dev, {0});
  remap.mode = Mode::kRemap;
  EXPECT_FALSE(IntegerFixedKey(remap));
}

TEST(IntegerFixedKeyTest, RenamedColumnIsLookedUpByProductionsName) {
  parser::Table dev = MakeTable({{"id", "int4"}});
  parser::Table prod = MakeTable({{"old_id", "int4"}});
  Plan p = FixedKeyPlan(&dev, &prod, {0});
  p.prod_name = {"old_id"};
  EXPECT_TRUE(IntegerFixedKey(p));
  p.prod_name = {"missing"};
  EXPECT_FALSE(IntegerFixedKey(p));
}

}  // namespace
}  // namespace pgmerge::merger::internal
