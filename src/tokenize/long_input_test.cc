// Pathological input for the real vocabularies, in its own binary (label `tokenizer`, out of
// the `fast` inner loop: about 25 s on 2 cores).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "testing/test_util.h"
#include "tokenize/tokenizer.h"

namespace mixtera::tokenize {
namespace {

using Ids = std::vector<int32_t>;

std::unique_ptr<Tokenizer> Load(const std::string& name) {
  const std::string path = std::string(MIXTERA_TOKENIZERS_DIR) + "/" + name;
  if (!std::filesystem::exists(path)) {
    ADD_FAILURE() << path << " is missing: run `make setup` (it fetches the vocabularies)";
    return nullptr;
  }
  auto tok = LoadTokenizer(path);
  EXPECT_OK(tok.status());
  return tok.ok() ? std::move(tok).value() : nullptr;
}

// A 10 MB text without spaces is one pre-tokenizer piece (a whole Metaspace document always
// is): the merge loop must stay O(n log n) and round-trip. The benchmark README records the
// times; tests assert no timings.
TEST(RealTokenizersTest, TenMegabytesWithoutSpaces) {
  std::string text(10 << 20, 'a');
  uint64_t state = 12345;
  for (char& c : text) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>('a' + (state >> 59) % 16);
  }
  // The full 10 MB for one byte-level and one character-level tokenizer, 2 MB for two more.
  for (const auto& [file, bytes] :
       {std::pair<const char*, size_t>{"cl100k_base.tiktoken", 10 << 20},
        {"llama2.model", 10 << 20},
        {"gpt2.json", 2 << 20},
        {"mistral-7b.json", 2 << 20}}) {
    auto tok = Load(file);
    if (tok == nullptr) continue;
    const std::string_view input = std::string_view(text).substr(0, bytes);
    ASSERT_OK_AND_ASSIGN(Ids ids, tok->Encode(input));
    EXPECT_GT(ids.size(), input.size() / 8) << file;
    ASSERT_OK_AND_ASSIGN(std::string back, tok->Decode(ids));
    EXPECT_TRUE(back == input) << file << ": the round trip differs";
  }
}

}  // namespace
}  // namespace mixtera::tokenize
