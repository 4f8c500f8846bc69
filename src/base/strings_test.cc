#include "base/strings.h"

#include "testing/test_util.h"

namespace mixtera {
namespace {

TEST(Utf8Test, Validates) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii text longer than eight"));
  EXPECT_TRUE(IsValidUtf8("ü€𝄞"));
  EXPECT_TRUE(IsValidUtf8("eight ch\xc3\xbc"));   // multi-byte right after the fast path
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abcdefgh\x80"));
}

TEST(JsonQuoteTest, EscapesAndReplacesInvalidUtf8) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
  EXPECT_EQ(JsonQuote("ü"), "\"ü\"");
  EXPECT_EQ(JsonQuote("x\xffy\xc3"), "\"x\\ufffdy\\ufffd\"");
}

TEST(HumanBytesTest, UsesDecimalUnits) {
  EXPECT_EQ(HumanBytes(999), "999 B");
  EXPECT_EQ(HumanBytes(1500), "1.5 kB");
  EXPECT_EQ(HumanBytes(209700000), "209.7 MB");
}

// Expected outputs follow Python's bytes.decode("utf-8", "replace") on the same bytes.
TEST(StringsTest, ReplaceInvalidUtf8) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(ReplaceInvalidUtf8("plain \xC3\xA9"), "plain \xC3\xA9");
  EXPECT_EQ(ReplaceInvalidUtf8("a\xFF"
                               "b"),
            "a" + r + "b");
  EXPECT_EQ(ReplaceInvalidUtf8("\xE2\x82"), r);  // truncated: one subpart
  EXPECT_EQ(ReplaceInvalidUtf8("\xE2\x82x"), r + "x");
  EXPECT_EQ(ReplaceInvalidUtf8("\xC0\xAF"), r + r);          // C0 never starts a sequence
  EXPECT_EQ(ReplaceInvalidUtf8("\xED\xA0\x80"), r + r + r);  // surrogate: A0 not after ED
  EXPECT_EQ(ReplaceInvalidUtf8("\xF0\x9F\x98"), r);
  EXPECT_EQ(ReplaceInvalidUtf8("\xF4\x90\x80\x80"), r + r + r + r);
  EXPECT_EQ(ReplaceInvalidUtf8("\x80\x80"), r + r);
  EXPECT_EQ(ReplaceInvalidUtf8(""), "");
}

}  // namespace
}  // namespace mixtera
