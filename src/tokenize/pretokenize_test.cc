// The building blocks under the tokenizers: GPT-2's byte alphabet and the PCRE2 splitter.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/test_util.h"
#include "tokenize/byte_level.h"
#include "tokenize/regex_splitter.h"

namespace mixtera::tokenize {
namespace {

TEST(ByteLevelTest, KnownCharactersAndRoundTrip) {
  // From GPT-2's vocabulary: "Ġ" (U+0120) is the space, "Ċ" (U+010A) the newline, printable
  // ASCII is itself, byte 0 is U+0100 and byte 0xAD is U+0143.
  EXPECT_EQ(ByteLevelEncode(" "), "\xC4\xA0");
  EXPECT_EQ(ByteLevelEncode("\n"), "\xC4\x8A");
  EXPECT_EQ(ByteLevelEncode("Az~!"), "Az~!");
  EXPECT_EQ(ByteLevelEncode(std::string(1, '\0')), "\xC4\x80");
  EXPECT_EQ(ByteLevelEncode("\xAD"), "\xC5\x83");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string back;
  ASSERT_TRUE(ByteLevelDecode(ByteLevelEncode(all), &back));
  EXPECT_EQ(back, all);
  EXPECT_FALSE(ByteLevelDecode("\xE4\xB8\xAD", &back));  // 中 is not in the alphabet
}

std::vector<std::string> Pieces(const RegexSplitter& re, std::string_view text) {
  std::vector<std::string> out;
  EXPECT_OK(
      re.ForEachMatch(text, [&](size_t b, size_t e) { out.emplace_back(text.substr(b, e - b)); }));
  return out;
}

using Strings = std::vector<std::string>;

TEST(RegexSplitterTest, Gpt2PatternPieces) {
  ASSERT_OK_AND_ASSIGN(
      auto re, RegexSplitter::Compile(
                   R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)",
                   RegexSplitter::Dialect::kEndAnchored));
  // Worked by hand from the alternatives, left to right.
  EXPECT_EQ(Pieces(*re, "Hello world's  test 42!!"),
            (Strings{"Hello", " world", "'s", " ", " test", " 42", "!!"}));
  EXPECT_EQ(Pieces(*re, "été über\tx"), (Strings{"été", " über", "\t", "x"}));
  EXPECT_TRUE(Pieces(*re, "").empty());
}

TEST(RegexSplitterTest, DollarDependsOnDialect) {
  // tiktoken: `$` is the very end only; Oniguruma: also before a line break.
  ASSERT_OK_AND_ASSIGN(auto end_only,
                       RegexSplitter::Compile(R"(\s+$|\S+)", RegexSplitter::Dialect::kEndAnchored));
  ASSERT_OK_AND_ASSIGN(auto onig,
                       RegexSplitter::Compile(R"(a$)", RegexSplitter::Dialect::kOniguruma));
  ASSERT_OK_AND_ASSIGN(auto tiktoken,
                       RegexSplitter::Compile(R"(a$)", RegexSplitter::Dialect::kEndAnchored));
  EXPECT_EQ(Pieces(*end_only, "x  \n"), (Strings{"x", "  \n"}));
  EXPECT_EQ(Pieces(*end_only, "x  \ny"), (Strings{"x", "y"}));
  EXPECT_EQ(Pieces(*onig, "ba\nca"), (Strings{"a", "a"}));
  EXPECT_EQ(Pieces(*tiktoken, "ba\nca"), (Strings{"a"}));
}

TEST(RegexSplitterTest, WhitespaceIsUnicodeWhiteSpace) {
  // U+0085 and U+3000 are White_Space; U+180E (since Unicode 6.3) and U+FEFF are not.
  ASSERT_OK_AND_ASSIGN(
      auto re, RegexSplitter::Compile(R"(\s+|[^\s]+)", RegexSplitter::Dialect::kEndAnchored));
  EXPECT_EQ(Pieces(*re,
                   "a\xC2\x85\xE3\x80\x80"
                   "b"),
            (Strings{"a", "\xC2\x85\xE3\x80\x80", "b"}));
  EXPECT_EQ(Pieces(*re,
                   "a\xE1\xA0\x8E\xEF\xBB\xBF"
                   "b"),
            (Strings{"a\xE1\xA0\x8E\xEF\xBB\xBF"
                     "b"}));
  ASSERT_OK_AND_ASSIGN(auto non_space,
                       RegexSplitter::Compile(R"(\S+)", RegexSplitter::Dialect::kEndAnchored));
  EXPECT_EQ(Pieces(*non_space, "x\xE1\xA0\x8Ey z"), (Strings{"x\xE1\xA0\x8Ey", "z"}));
}

TEST(RegexSplitterTest, LongRunsAndErrors) {
  ASSERT_OK_AND_ASSIGN(auto re, RegexSplitter::Compile(R"(\s+(?!\S)|\s+|\p{L}+)",
                                                       RegexSplitter::Dialect::kEndAnchored));
  const std::string spaces(200000, ' ');
  EXPECT_EQ(Pieces(*re, spaces + "a"), (Strings{std::string(199999, ' '), " ", "a"}));
  EXPECT_STATUS(RegexSplitter::Compile("(unclosed", RegexSplitter::Dialect::kEndAnchored),
                StatusCode::kInvalidArgument, "cannot compile the regex");
}

}  // namespace
}  // namespace mixtera::tokenize
