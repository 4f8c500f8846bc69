#include "model/sample_batch.h"

#include "testing/test_util.h"

namespace mixtera::model {
namespace {

TEST(PropertyColumnTest, StoresStringsAndNulls) {
  PropertyColumn c(PropertyType::kString);
  c.AppendString("en");
  c.AppendNull();
  c.AppendString("");
  c.AppendString("de");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c.string_at(0), "en");
  EXPECT_FALSE(c.is_valid(1));
  EXPECT_TRUE(c.is_valid(2));
  EXPECT_EQ(c.string_at(2), "");
  EXPECT_EQ(c.string_at(3), "de");
}

TEST(PropertyColumnTest, StringListsAndRollbackOfUnfinishedList) {
  PropertyColumn c(PropertyType::kStringList);
  c.BeginList();
  c.AppendListItem("a");
  c.AppendListItem("bc");
  c.EndList();
  c.AppendNull();
  c.BeginList();
  c.AppendListItem("dangling");  // record failed before EndList()
  c.TruncateTo(2);
  c.BeginList();
  c.EndList();
  ASSERT_EQ(c.size(), 3u);
  ASSERT_EQ(c.list_size(0), 2u);
  EXPECT_EQ(c.list_item(0, 1), "bc");
  EXPECT_FALSE(c.is_valid(1));
  EXPECT_EQ(c.list_size(1), 0u);
  EXPECT_EQ(c.list_size(2), 0u);
}

TEST(SampleBatchTest, TruncateDropsRowsInEveryColumn) {
  std::vector<PropertySchema> schema = {{"n", PropertyType::kInt}, {"s", PropertyType::kEnum}};
  SampleBatch b(7, schema);
  for (int i = 0; i < 3; ++i) {
    b.sample_ids.push_back(i);
    b.columns[0].AppendInt(i * 10);
    b.columns[1].AppendString(std::string(1, static_cast<char>('a' + i)));
  }
  b.TruncateTo(2);
  EXPECT_EQ(b.num_rows(), 2u);
  EXPECT_EQ(b.columns[0].size(), 2u);
  EXPECT_EQ(b.columns[1].string_at(1), "b");
  b.columns[1].AppendString("z");
  EXPECT_EQ(b.columns[1].string_at(2), "z");
}

}  // namespace
}  // namespace mixtera::model
