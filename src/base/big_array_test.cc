#include "base/big_array.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace mixtera {
namespace {

TEST(BigArray, LargeArraysAreHugePageAlignedAndKeepValuesAcrossGrowth) {
  BigArray<uint64_t> a;
  for (uint64_t i = 0; i < 1000; ++i) a.push_back(i * 3);
  a.resize(size_t{1} << 20);  // 8 MiB: new elements are uninitialized
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % kBigArrayHugeBytes, 0u);
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(a[i], i * 3);
  for (size_t i = 1000; i < a.size(); ++i) a[i] = i;
  a.resize(a.size() + 5, 7);  // an explicit value still fills
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(a[a.size() - 1 - i], 7u);
  EXPECT_EQ(a[123456], 123456u);
  BigArray<uint64_t> moved = std::move(a);
  EXPECT_EQ(moved[999], 2997u);
}

TEST(BigArray, SmallAndEmptyArrays) {
  BigArray<uint32_t> empty;
  empty.reserve(0);
  EXPECT_TRUE(empty.empty());
  BigArray<uint32_t> small(3, 9);
  EXPECT_EQ(small, (BigArray<uint32_t>{9, 9, 9}));
}

}  // namespace
}  // namespace mixtera
