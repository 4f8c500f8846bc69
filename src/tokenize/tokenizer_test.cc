#include "tokenize/tokenizer.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "testing/test_util.h"
#include "tokenize/test_tokenizers.h"

namespace mixtera::tokenize {
namespace {

using ::mixtera::testing::TempDir;
using ::mixtera::testing::WriteFile;
using Ids = std::vector<int32_t>;

TEST(BytesTokenizerTest, OneTokenPerByteAndSpecialTokens) {
  auto tok = MakeBytesTokenizer();
  EXPECT_EQ(tok->vocab_size(), 258);
  EXPECT_EQ(tok->eos_id(), 256);
  EXPECT_EQ(tok->bos_id(), 257);
  EXPECT_EQ(tok->TokenToId("<eos>"), 256);
  EXPECT_EQ(tok->TokenToId("<bos>"), 257);
  EXPECT_EQ(tok->TokenToId("a"), 97);
  EXPECT_EQ(tok->TokenToId("ab"), std::nullopt);

  ASSERT_OK_AND_ASSIGN(Ids ids, tok->Encode("a\xc3\xbc"));
  EXPECT_EQ(ids, (Ids{97, 0xc3, 0xbc}));
  ASSERT_OK_AND_ASSIGN(ids, tok->Encode(""));
  EXPECT_TRUE(ids.empty());
  // Special tokens are text unless allowed.
  ASSERT_OK_AND_ASSIGN(ids, tok->Encode("x<eos>"));
  EXPECT_EQ(ids.size(), 6u);
  ASSERT_OK_AND_ASSIGN(ids, tok->Encode("x<eos><bos><eo", /*allow_special=*/true));
  EXPECT_EQ(ids, (Ids{'x', 256, 257, '<', 'e', 'o'}));
  ASSERT_OK_AND_ASSIGN(std::string text, tok->Decode(ids));
  EXPECT_EQ(text, "x<eos><bos><eo");
  EXPECT_STATUS(tok->Decode({1, 258}), StatusCode::kInvalidArgument, "token id 258");
  EXPECT_STATUS(tok->Decode({-1}), StatusCode::kInvalidArgument, "token id -1");
}

TEST(BytesTokenizerTest, InvalidUtf8IsEncodedAsItsBytes) {
  auto tok = MakeBytesTokenizer();
  const std::string bad("\xff\xc3(\x80\0z", 6);  // stray bytes, a truncated sequence, a NUL
  ASSERT_OK_AND_ASSIGN(Ids ids, tok->Encode(bad));
  EXPECT_EQ(ids, (Ids{0xff, 0xc3, '(', 0x80, 0, 'z'}));
  ASSERT_OK_AND_ASSIGN(std::string back, tok->Decode(ids));
  EXPECT_EQ(back, bad);
}

TEST(WhitespaceTokenizerTest, WordsUnknownsAndSpecials) {
  ASSERT_OK_AND_ASSIGN(auto tok,
                       MakeWhitespaceTokenizer({"<unk>", "the", "cat", "<eos>", "sat", "<bos>"}));
  EXPECT_EQ(tok->vocab_size(), 6);
  EXPECT_EQ(tok->eos_id(), 3);
  EXPECT_EQ(tok->bos_id(), 5);
  EXPECT_EQ(tok->TokenToId("cat"), 2);
  EXPECT_EQ(tok->TokenToId("dog"), std::nullopt);
  ASSERT_OK_AND_ASSIGN(Ids ids, tok->Encode("  the\tcat\r\n sat on  the mat "));
  EXPECT_EQ(ids, (Ids{1, 2, 4, 0, 1, 0}));
  ASSERT_OK_AND_ASSIGN(ids, tok->Encode("the <eos>"));
  EXPECT_EQ(ids, (Ids{1, 0}));
  ASSERT_OK_AND_ASSIGN(ids, tok->Encode("<bos> the <eos>", /*allow_special=*/true));
  EXPECT_EQ(ids, (Ids{5, 1, 3}));
  ASSERT_OK_AND_ASSIGN(ids, tok->Encode(" \n "));
  EXPECT_TRUE(ids.empty());
  ASSERT_OK_AND_ASSIGN(std::string text, tok->Decode({5, 1, 2, 0}));
  EXPECT_EQ(text, "<bos> the cat <unk>");
  EXPECT_STATUS(tok->Decode({6}), StatusCode::kInvalidArgument, "token id 6");

  ASSERT_OK_AND_ASSIGN(auto plain, MakeWhitespaceTokenizer({"<unk>", "a"}));
  EXPECT_EQ(plain->eos_id(), std::nullopt);
  EXPECT_EQ(plain->bos_id(), std::nullopt);
}

TEST(WhitespaceTokenizerTest, BadVocabularies) {
  EXPECT_STATUS(MakeWhitespaceTokenizer({}), StatusCode::kInvalidArgument, "non-empty vocab");
  EXPECT_STATUS(MakeWhitespaceTokenizer({"<unk>", ""}), StatusCode::kInvalidArgument,
                "vocab entry 1 is empty");
  EXPECT_STATUS(MakeWhitespaceTokenizer({"<unk>", "a b"}), StatusCode::kInvalidArgument,
                "vocab entry 1 \"a b\" contains whitespace");
  EXPECT_STATUS(MakeWhitespaceTokenizer({"<unk>", "a", "b", "a"}), StatusCode::kInvalidArgument,
                "vocab entry 3 \"a\" repeats entry 1");
}

TEST(TokenizerTest, FingerprintsIdentifyVocabularyAndRules) {
  auto bytes = MakeBytesTokenizer();
  EXPECT_EQ(bytes->fingerprint(), MakeBytesTokenizer()->fingerprint());
  ASSERT_OK_AND_ASSIGN(auto a, MakeWhitespaceTokenizer({"<unk>", "ab", "c"}));
  ASSERT_OK_AND_ASSIGN(auto a2, MakeWhitespaceTokenizer({"<unk>", "ab", "c"}));
  ASSERT_OK_AND_ASSIGN(auto b, MakeWhitespaceTokenizer({"<unk>", "a", "bc"}));
  ASSERT_OK_AND_ASSIGN(auto c, MakeWhitespaceTokenizer({"<unk>", "c", "ab"}));
  EXPECT_EQ(a->fingerprint(), a2->fingerprint());
  std::set<std::string> all = {bytes->fingerprint(), a->fingerprint(), b->fingerprint(),
                               c->fingerprint()};
  EXPECT_EQ(all.size(), 4u);
  EXPECT_THAT(a->fingerprint(), ::testing::StartsWith("mixtera-test-whitespace-v1:"));
}

TEST(TokenizerTest, EncodeBatchKeepsInputOrder) {
  auto tok = MakeBytesTokenizer();
  std::vector<std::string> texts;
  for (int i = 0; i < 500; ++i)
    texts.push_back(std::string(static_cast<size_t>(i % 37), 'a' + i % 26));
  for (int threads : {0, 1, 2, 3, 8, 64}) {
    ASSERT_OK_AND_ASSIGN(auto batch, tok->EncodeBatch(texts, threads));
    ASSERT_EQ(batch.size(), texts.size()) << threads;
    for (size_t i = 0; i < texts.size(); ++i) {
      ASSERT_OK_AND_ASSIGN(Ids one, tok->Encode(texts[i]));
      ASSERT_EQ(batch[i], one) << "threads " << threads << ", text " << i;
    }
  }
  ASSERT_OK_AND_ASSIGN(auto empty, tok->EncodeBatch({}, 4));
  EXPECT_TRUE(empty.empty());
}

// Wraps the bytes tokenizer: records which threads encode, lets a test hold encodes until
// `wait_for` of them run at the same time, and fails texts that start with "!".
class ProbeTokenizer final : public Tokenizer {
 public:
  explicit ProbeTokenizer(int wait_for) : inner_(MakeBytesTokenizer()), wait_for_(wait_for) {}

  Result<Ids> Encode(std::string_view text, bool allow_special) const override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      threads_.insert(std::this_thread::get_id());
      ++arrived_;
      cv_.notify_all();
      // Bounded wait: a pool that runs texts one at a time fails the test instead of hanging.
      if (!cv_.wait_for(lock, std::chrono::seconds(20), [&] { return arrived_ >= wait_for_; })) {
        timed_out_ = true;
      }
    }
    if (!text.empty() && text[0] == '!') {
      return Status::InvalidArgument(StrCat("cannot encode ", std::string(text)));
    }
    return inner_->Encode(text, allow_special);
  }
  Result<std::string> Decode(const Ids& ids) const override { return inner_->Decode(ids); }
  int64_t vocab_size() const override { return inner_->vocab_size(); }
  std::optional<int32_t> TokenToId(std::string_view t) const override {
    return inner_->TokenToId(t);
  }
  std::optional<int32_t> bos_id() const override { return inner_->bos_id(); }
  std::optional<int32_t> eos_id() const override { return inner_->eos_id(); }
  std::string fingerprint() const override { return "probe"; }
  std::vector<std::pair<std::string, int32_t>> special_tokens() const override { return {}; }

  size_t num_threads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_.size();
  }
  bool timed_out() const {
    std::lock_guard<std::mutex> lock(mu_);
    return timed_out_;
  }

 private:
  std::unique_ptr<Tokenizer> inner_;
  const int wait_for_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::set<std::thread::id> threads_;
  mutable int arrived_ = 0;
  mutable bool timed_out_ = false;
};

TEST(TokenizerTest, EncodeBatchRunsOnSeveralThreads) {
  // Every encode waits until 3 have started: only 3 concurrent threads get past it quickly.
  ProbeTokenizer tok(/*wait_for=*/3);
  std::vector<std::string> texts(12, "abc");
  ASSERT_OK_AND_ASSIGN(auto batch, tok.EncodeBatch(texts, 3));
  EXPECT_FALSE(tok.timed_out());
  EXPECT_EQ(tok.num_threads(), 3u);
  EXPECT_EQ(batch, std::vector<Ids>(12, Ids{'a', 'b', 'c'}));

  // One thread: the calling thread does all the work.
  ProbeTokenizer single(/*wait_for=*/0);
  ASSERT_OK(single.EncodeBatch(texts, 1));
  EXPECT_EQ(single.num_threads(), 1u);
}

TEST(TokenizerTest, EncodeBatchReportsTheFirstFailingText) {
  ProbeTokenizer tok(/*wait_for=*/0);
  std::vector<std::string> texts = {"a", "b", "!c", "d", "!e"};
  for (int threads : {1, 4}) {
    EXPECT_STATUS(tok.EncodeBatch(texts, threads), StatusCode::kInvalidArgument,
                  "text 2: cannot encode !c");
  }
}

class LoadTokenizerTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& contents) {
    WriteFile(dir_.Join(name), contents);
    return dir_.Join(name);
  }
  TempDir dir_;
};

TEST_F(LoadTokenizerTest, LoadsTheTestTokenizers) {
  ASSERT_OK_AND_ASSIGN(auto bytes,
                       LoadTokenizer(Write("b.json", "{\"mixtera_test_tokenizer\": \"bytes\"}")));
  EXPECT_EQ(bytes->vocab_size(), 258);
  EXPECT_EQ(bytes->fingerprint(), MakeBytesTokenizer()->fingerprint());

  ASSERT_OK_AND_ASSIGN(auto ws,
                       LoadTokenizer(Write("w.json",
                                           " {\"mixtera_test_tokenizer\": \"whitespace\",\n"
                                           "  \"vocab\": [\"<unk>\", \"a\", \"<eos>\"]}")));
  EXPECT_EQ(ws->vocab_size(), 3);
  EXPECT_EQ(ws->eos_id(), 2);
  ASSERT_OK_AND_ASSIGN(Ids ids, ws->Encode("a b a"));
  EXPECT_EQ(ids, (Ids{1, 0, 1}));
  ASSERT_OK_AND_ASSIGN(auto direct, MakeWhitespaceTokenizer({"<unk>", "a", "<eos>"}));
  EXPECT_EQ(ws->fingerprint(), direct->fingerprint());
}

TEST_F(LoadTokenizerTest, Errors) {
  EXPECT_STATUS(LoadTokenizer(dir_.Join("missing.json")), StatusCode::kNotFound, "missing.json");
  EXPECT_STATUS(LoadTokenizer(Write("bad.json", "{\"mixtera_test_tokenizer\": ")),
                StatusCode::kInvalidArgument, dir_.Join("bad.json") + ": malformed JSON");
  // Each format gets to its own loader, which names the path and what is wrong.
  EXPECT_STATUS(LoadTokenizer(Write("tokenizer.json", "{\"model\": {\"type\": \"WordPiece\"}}")),
                StatusCode::kUnimplemented, "unsupported model \"WordPiece\"");
  EXPECT_STATUS(LoadTokenizer(Write("cl100k.tiktoken", "IQ== 0\nIg== 1\n")),
                StatusCode::kInvalidArgument, "cl100k.tiktoken: not a known tokenizer file");
  EXPECT_STATUS(LoadTokenizer(Write("sp.model", std::string("\x0a\x0b\x00\xff", 4))),
                StatusCode::kInvalidArgument, "not a SentencePiece model");
  EXPECT_STATUS(LoadTokenizer(Write("e.json", "")), StatusCode::kInvalidArgument,
                "e.json: empty tokenizer file");
  EXPECT_STATUS(LoadTokenizer(Write("enc.json", "{}"), "cl100k_base"), StatusCode::kInvalidArgument,
                "applies only to tiktoken rank files");
  // Test tokenizers with bad contents.
  EXPECT_STATUS(LoadTokenizer(Write("k.json", "{\"mixtera_test_tokenizer\": \"bpe\"}")),
                StatusCode::kInvalidArgument, "unknown test tokenizer \"bpe\"");
  EXPECT_STATUS(LoadTokenizer(Write("v.json", "{\"mixtera_test_tokenizer\": \"whitespace\"}")),
                StatusCode::kInvalidArgument, "needs \"vocab\"");
  EXPECT_STATUS(LoadTokenizer(Write(
                    "v2.json", "{\"mixtera_test_tokenizer\": \"whitespace\", \"vocab\": [1]}")),
                StatusCode::kInvalidArgument, "vocab entry 0 is not a string");
  EXPECT_STATUS(LoadTokenizer(Write("v3.json",
                                    "{\"mixtera_test_tokenizer\": \"whitespace\", "
                                    "\"vocab\": [\"a\", \"a\"]}")),
                StatusCode::kInvalidArgument, dir_.Join("v3.json") + ": vocab entry 1");
  EXPECT_STATUS(LoadTokenizer(Write("x.json", "{\"mixtera_test_tokenizer\": \"bytes\", \"x\": 1}")),
                StatusCode::kInvalidArgument, "unknown key \"x\"");
  EXPECT_STATUS(LoadTokenizer(dir_.path()), StatusCode::kInvalidArgument, "is a directory");
}

}  // namespace
}  // namespace mixtera::tokenize
