// End-to-end jobs through the Engine on small hand-built corpora: golden chunk sequences
// (including the original Mixtera's documented best-effort scenario), key matching across
// datasets, materialized jobs reopened without the store, and query errors.
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "base/strings.h"
#include "chunk/job.h"
#include "client/chunk_reader.h"
#include "client/sample_stream.h"
#include "engine/engine.h"
#include "ingest/spec_parser.h"
#include "mixture/mixture_parser.h"
#include "query/where_parser.h"
#include "testing/test_util.h"

namespace mixtera {
namespace {

using testing::TempDir;
using testing::WriteFile;

// A range as the tests spell it: (key id, file path suffix, begin, end).
struct R {
  int key;
  std::string file;
  uint32_t begin, end;
  bool operator==(const R& o) const = default;
};
std::ostream& operator<<(std::ostream& os, const R& r) {
  return os << "{key " << r.key << " " << r.file << " [" << r.begin << "," << r.end << ")}";
}

class QueryJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto eng = engine::Engine::Open(dir_.Join("mx"));
    ASSERT_TRUE(eng.ok()) << eng.status().ToString();
    engine_ = std::move(eng).value();
  }

  void Register(const std::string& yaml) {
    auto spec = ingest::ParseDatasetSpec(yaml, dir_.path());
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    ingest::IngestOptions options;
    options.num_threads = 2;
    auto report = engine_->RegisterDataset(*spec, options, nullptr);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
  }

  std::unique_ptr<chunk::Job> Plan(const std::string& where, const std::string& mixture_yaml) {
    auto pred = query::ParseWhere(where);
    EXPECT_TRUE(pred.ok()) << pred.status().ToString();
    auto spec = mixture::ParseMixtureSpec(mixture_yaml, "test mixture");
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    auto job = engine_->PlanQuery("test", *pred, *spec);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? std::move(job).value() : nullptr;
  }

  // Every chunk of `job`, each as its ranges in descriptor order.
  std::vector<std::vector<R>> AllChunks(const chunk::Job& job) {
    std::vector<std::vector<R>> out;
    for (int64_t k = 0;; ++k) {
      auto reply = job.GetChunk(k);
      EXPECT_TRUE(reply.ok());
      if (!reply.ok() || reply->status != chunk::ChunkStatus::kChunk) break;
      std::vector<R> ranges;
      for (const auto& part : reply->chunk.keys) {
        for (const auto& r : part.ranges) {
          const std::string& path = job.definition().files[r.file_index].path;
          ranges.push_back({part.key_id, path.substr(path.rfind('/') + 1), r.begin, r.end});
        }
      }
      out.push_back(std::move(ranges));
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

// One file: lines 0-49 JavaScript, 50-79 HTML, 80-99 Python.
std::string LanguageFile() {
  std::string out;
  for (int i = 0; i < 100; ++i) {
    const char* lang = i < 50 ? "JavaScript" : (i < 80 ? "HTML" : "Python");
    out += StrCat("{\"text\": \"sample ", i, "\", \"language\": \"", lang, "\"}\n");
  }
  return out;
}

constexpr const char* kLanguageSpec = R"(
name: code
format: jsonl
path: code.jsonl
text: /text
properties:
  language: {type: string}
)";

// The original Mixtera's best-effort unit test (reference/original-mixtera.md §2.4): 50
// JavaScript, 20 Python and 30 HTML samples with weights 0.4/0.4/0.2 and chunk size 10.
constexpr const char* kOriginalMixture = R"(
type: static
chunk_size: 10
strict: %s
weights:
  - {key: {language: [JavaScript]}, weight: 0.4}
  - {key: {language: [Python]}, weight: 0.4}
  - {key: {language: [HTML]}, weight: 0.2}
)";

std::string WithStrict(const char* fmt, bool strict) {
  std::string s = fmt;
  s.replace(s.find("%s"), 2, strict ? "true" : "false");
  return s;
}

TEST_F(QueryJobsTest, OriginalScenarioStrictEndsAfterFiveChunks) {
  WriteFile(dir_.Join("code.jsonl"), LanguageFile());
  Register(kLanguageSpec);
  auto job = Plan("", WithStrict(kOriginalMixture, true));
  ASSERT_NE(job, nullptr);
  // 4/4/2 per chunk; Python (20 samples) fills exactly 5 chunks. Keys: 0 JS, 1 Python, 2 HTML.
  const auto chunks = AllChunks(*job);
  ASSERT_EQ(chunks.size(), 5u);
  for (uint32_t i = 0; i < 5; ++i) {
    EXPECT_EQ(chunks[i], (std::vector<R>{{0, "code.jsonl", 4 * i, 4 * i + 4},
                                         {1, "code.jsonl", 80 + 4 * i, 84 + 4 * i},
                                         {2, "code.jsonl", 50 + 2 * i, 52 + 2 * i}}))
        << "chunk " << i;
  }
}

TEST_F(QueryJobsTest, OriginalScenarioBestEffortMatchesTheOriginalsCounts) {
  WriteFile(dir_.Join("code.jsonl"), LanguageFile());
  Register(kLanguageSpec);
  auto job = Plan("", WithStrict(kOriginalMixture, false));
  ASSERT_NE(job, nullptr);
  // The original's test: 4/4/2 x5, then 7/0/3 x4, then 2/0/8 — all 100 samples.
  // Chunks 0-4 as in strict mode. Chunks 5-8: JavaScript [20+7j, 27+7j) and HTML
  // [60+3j, 63+3j). Chunk 9: JavaScript's last 2 [48,50) and HTML's last 8 [72,80).
  const auto chunks = AllChunks(*job);
  ASSERT_EQ(chunks.size(), 10u);
  for (uint32_t j = 0; j < 4; ++j) {
    EXPECT_EQ(chunks[5 + j], (std::vector<R>{{0, "code.jsonl", 20 + 7 * j, 27 + 7 * j},
                                             {2, "code.jsonl", 60 + 3 * j, 63 + 3 * j}}))
        << "chunk " << 5 + j;
  }
  EXPECT_EQ(chunks[9], (std::vector<R>{{0, "code.jsonl", 48, 50}, {2, "code.jsonl", 72, 80}}));
  auto last = job->GetChunk(9);
  ASSERT_TRUE(last.ok());
  EXPECT_FALSE(last->chunk.partial);  // exactly 10 samples
  EXPECT_EQ(job->plan().exhausted_at(), (std::vector<int64_t>{9, 4, 9}));
}

TEST_F(QueryJobsTest, FirstDeclaredKeyOwnsSharedComponentsAcrossDatasets) {
  // Two datasets; `tags` is a string_list, so component [en, fr] matches both keys below and
  // belongs to the first declared one (fr).
  WriteFile(dir_.Join("a.jsonl"),
            "{\"t\": \"a0\", \"tags\": [\"en\"]}\n"
            "{\"t\": \"a1\", \"tags\": [\"en\", \"fr\"]}\n"
            "{\"t\": \"a2\", \"tags\": [\"fr\"]}\n"
            "{\"t\": \"a3\", \"tags\": [\"en\"]}\n");
  WriteFile(dir_.Join("b.jsonl"),
            "{\"t\": \"b0\", \"tags\": [\"fr\"]}\n"
            "{\"t\": \"b1\", \"tags\": [\"en\", \"fr\"]}\n");
  Register(
      "name: a\nformat: jsonl\npath: a.jsonl\ntext: /t\nproperties: {tags: {type: string_list}}\n");
  Register(
      "name: b\nformat: jsonl\npath: b.jsonl\ntext: /t\nproperties: {tags: {type: string_list}}\n");
  auto job = Plan("", R"(
type: static
chunk_size: 2
strict: false
weights:
  - {key: {tags: [fr]}, weight: 0.5}
  - {key: {tags: [en]}, weight: 0.5}
)");
  ASSERT_NE(job, nullptr);
  // Components sorted by value: [en] (a0, a3), [en, fr] (a1, b1), [fr] (a2, b0).
  // Key fr owns [en, fr] and [fr]: 4 samples; key en owns [en]: 2 samples.
  EXPECT_EQ(job->key_supply(), (std::vector<int64_t>{4, 2}));
  bool warned = false;
  for (const auto& w : job->definition().warnings)
    warned |= w.find("several keys") != std::string::npos;
  EXPECT_TRUE(warned);
  // 1/1 per chunk: chunks 0-1 take one sample of each key; then key en is out and key fr
  // fills the rest: 6 samples in 3 chunks, every one exactly once.
  std::multiset<std::pair<std::string, uint32_t>> seen;
  for (const auto& chunk : AllChunks(*job)) {
    for (const auto& r : chunk) {
      for (uint32_t s = r.begin; s < r.end; ++s) seen.insert({r.file, s});
    }
  }
  EXPECT_EQ(seen, (std::multiset<std::pair<std::string, uint32_t>>{{"a.jsonl", 0},
                                                                   {"a.jsonl", 1},
                                                                   {"a.jsonl", 2},
                                                                   {"a.jsonl", 3},
                                                                   {"b.jsonl", 0},
                                                                   {"b.jsonl", 1}}));
}

TEST_F(QueryJobsTest, ExecuteMaterializesAJobThatOpensWithoutTheStore) {
  WriteFile(dir_.Join("code.jsonl"), LanguageFile());
  Register(kLanguageSpec);
  auto pred = query::ParseWhere("language != 'HTML'");
  ASSERT_TRUE(pred.ok());
  auto spec = mixture::ParseMixtureSpec("{type: inferring, chunk_size: 7, strict: false}", "m");
  ASSERT_TRUE(spec.ok());
  auto job = engine_->ExecuteQuery("run-1", *pred, *spec);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_STATUS(engine_->ExecuteQuery("run-1", *pred, *spec), StatusCode::kAlreadyExists, "run-1");
  // Close the engine (and the store) before opening the job.
  engine_.reset();
  auto opened = chunk::Job::Open(dir_.Join("mx/jobs/run-1"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const auto a = AllChunks(**job), b = AllChunks(**opened);
  EXPECT_EQ(a, b);
  // 70 matching samples (50 JavaScript, 20 Python); no HTML sample appears.
  int64_t total = 0;
  for (const auto& chunk : b) {
    for (const auto& r : chunk) {
      total += r.end - r.begin;
      EXPECT_TRUE(r.end <= 50 || r.begin >= 80) << r;
    }
  }
  EXPECT_EQ(total, 70);
  // Inferring: keys are the two components, 50:20 of 7 -> 5/2 per chunk.
  EXPECT_EQ((*opened)->InitialCounts(), (std::vector<int64_t>{5, 2}));
}

TEST_F(QueryJobsTest, TokenUnitsEstimateFromBytesOrCountExactly) {
  // 40 JavaScript samples of 10 bytes, 40 Python samples of 20 bytes; the bytes tokenizer
  // makes one token per byte, so 10 and 20 tokens per sample.
  std::string lines;
  std::vector<size_t> line_bytes;
  for (int i = 0; i < 80; ++i) {
    const bool js = i % 2 == 0;
    const std::string line = StrCat("{\"text\": \"", std::string(js ? 10 : 20, js ? 'j' : 'p'),
                                    "\", \"language\": \"", js ? "JavaScript" : "Python", "\"}\n");
    line_bytes.push_back(line.size());
    lines += line;
  }
  WriteFile(dir_.Join("code.jsonl"), lines);
  Register(kLanguageSpec);
  WriteFile(dir_.Join("bytes.json"), "{\"mixtera_test_tokenizer\": \"bytes\"}");
  auto pred = query::ParseWhere("");
  ASSERT_TRUE(pred.ok());
  auto spec = mixture::ParseMixtureSpec(R"(
type: static
chunk_size: 100
unit: tokens
weights:
  - {key: {language: [JavaScript]}, weight: 0.5}
  - {key: {language: [Python]}, weight: 0.5}
)",
                                        "m");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_STATUS(engine_->PlanQuery("t", *pred, *spec), StatusCode::kInvalidArgument, "tokenizer");
  engine::JobOptions options;
  options.tokenizer = dir_.Join("bytes.json");
  auto job = engine_->ExecuteQuery("tokens", *pred, *spec, options);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  const chunk::JobDefinition& def = (*job)->definition();
  EXPECT_FALSE(def.exact_tokens);
  EXPECT_EQ(def.key_tokens_per_sample, (std::vector<double>{10.0, 20.0}));
  // Tokens per byte of the record and its newline (every line of a key is as long).
  ASSERT_EQ(def.key_tokens_per_byte.size(), 2u);
  // (the file's last record has no newline, hence "near").
  EXPECT_NEAR(def.key_tokens_per_byte[0], 10.0 / static_cast<double>(line_bytes[0]), 1e-3);
  EXPECT_NEAR(def.key_tokens_per_byte[1], 20.0 / static_cast<double>(line_bytes[1]), 1e-3);
  // Quotas count tokens: 50 each; about 5 JavaScript and 2.5 Python samples per chunk.
  EXPECT_EQ((*job)->InitialCounts(), (std::vector<int64_t>{50, 50}));
  ASSERT_OK_AND_ASSIGN(chunk::ChunkReply first, (*job)->GetChunk(0));
  ASSERT_EQ(first.chunk.keys.size(), 2u);
  EXPECT_NEAR(first.chunk.keys[0].num_samples, 5, 1);
  EXPECT_NEAR(first.chunk.keys[1].num_samples, 2.5, 1);
  auto opened = chunk::Job::Open(dir_.Join("mx/jobs/tokens"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->InitialCounts(), (std::vector<int64_t>{50, 50}));
  EXPECT_FALSE((*opened)->definition().tokenizer_fingerprint.empty());

  // With exact counts: 50 tokens = exactly 5 JavaScript samples, and 2.5 Python samples
  // (the third is cut after 10 of its 20 tokens; the next chunk starts there).
  ASSERT_OK_AND_ASSIGN(engine::TokenCountReport report,
                       engine_->CountTokens("code", dir_.Join("bytes.json"), {.progress = false}));
  EXPECT_EQ(report.num_tokens, 40 * 10 + 40 * 20);
  auto exact = engine_->ExecuteQuery("exact", *pred, *spec, options);
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_TRUE((*exact)->definition().exact_tokens);
  ASSERT_OK_AND_ASSIGN(chunk::ChunkReply c0, (*exact)->GetChunk(0));
  ASSERT_OK_AND_ASSIGN(chunk::ChunkReply c1, (*exact)->GetChunk(1));
  EXPECT_EQ(c0.chunk.keys[0].num_samples, 5);
  EXPECT_FALSE(c0.chunk.keys[0].tail.has_value());
  EXPECT_EQ(c0.chunk.keys[1].num_samples, 3);
  ASSERT_TRUE(c0.chunk.keys[1].tail.has_value());
  EXPECT_EQ(c0.chunk.keys[1].tail->tokens, 10);
  ASSERT_TRUE(c1.chunk.keys[1].head.has_value());
  EXPECT_EQ(c1.chunk.keys[1].head->sample, c0.chunk.keys[1].tail->sample);
  EXPECT_EQ(c1.chunk.keys[1].head->tokens, 10);
  EXPECT_EQ(c1.chunk.keys[1].num_tokens, 50);

  // A data file changed since registration: measuring (a tokenizer without counts) and
  // counting fail, naming it.
  WriteFile(dir_.Join("code.jsonl"), lines + "{\"text\": \"x\", \"language\": \"Python\"}\n");
  WriteFile(dir_.Join("words.json"),
            "{\"mixtera_test_tokenizer\": \"whitespace\", \"vocab\": [\"x\"]}");
  options.tokenizer = dir_.Join("words.json");
  EXPECT_STATUS(engine_->PlanQuery("t2", *pred, *spec, nullptr, options),
                StatusCode::kFailedPrecondition, "code.jsonl");
  EXPECT_STATUS(engine_->CountTokens("code", dir_.Join("words.json"), {.progress = false}).status(),
                StatusCode::kFailedPrecondition, "code.jsonl");
}

TEST_F(QueryJobsTest, ReadChunkTextsKeepsItsFilesOpenInTheCache) {
  WriteFile(dir_.Join("code.jsonl"), LanguageFile());
  Register(kLanguageSpec);
  auto job = Plan("", "{type: inferring, chunk_size: 10, strict: false}");
  ASSERT_NE(job, nullptr);
  formats::ReaderCache cache;
  for (int64_t k = 0; k < 3; ++k) {
    ASSERT_OK_AND_ASSIGN(chunk::ChunkReply reply, job->GetChunk(k));
    ASSERT_EQ(reply.status, chunk::ChunkStatus::kChunk);
    ASSERT_OK_AND_ASSIGN(auto texts,
                         client::ReadChunkTexts(job->definition(), reply.chunk, false, &cache));
    // The texts are the samples the ranges name ("sample <line>"), and the one data file's
    // reader is kept in the cache for the next chunk.
    ASSERT_EQ(texts.size(), reply.chunk.keys.size());
    for (size_t p = 0; p < texts.size(); ++p) {
      std::vector<std::string> want;
      for (const auto& r : reply.chunk.keys[p].ranges) {
        for (uint32_t s = r.begin; s < r.end; ++s) want.push_back(StrCat("sample ", s));
      }
      EXPECT_EQ(texts[p], want) << "chunk " << k << " part " << p;
    }
    EXPECT_EQ(cache.size(), 1u) << "chunk " << k;
  }
}

TEST_F(QueryJobsTest, EstimatedTokensFromCorruptOffsetsAreAnError) {
  // 300 samples: the offsets file has three blocks of 128 records; opening it checks the
  // directory and decodes the last block, so garbage in the first one is found only when an
  // estimate reads it. That must be an error naming the offsets file, never an estimate of 0.
  std::string lines;
  for (int i = 0; i < 300; ++i) {
    lines += StrCat("{\"text\": \"", std::string(10 + i % 7, 'x'), "\", \"language\": \"",
                    i % 2 == 0 ? "JavaScript" : "Python", "\"}\n");
  }
  WriteFile(dir_.Join("code.jsonl"), lines);
  Register(kLanguageSpec);
  WriteFile(dir_.Join("bytes.json"), "{\"mixtera_test_tokenizer\": \"bytes\"}");
  auto pred = query::ParseWhere("");
  ASSERT_TRUE(pred.ok());
  auto spec = mixture::ParseMixtureSpec(
      "{type: static, chunk_size: 100, unit: tokens, weights: [{key: {language: [JavaScript]}, "
      "weight: 0.5}, {key: {language: [Python]}, weight: 0.5}]}",
      "m");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  engine::JobOptions options;
  options.tokenizer = dir_.Join("bytes.json");
  auto job = engine_->ExecuteQuery("tokens", *pred, *spec, options);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  engine_.reset();
  std::string offsets;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.Join("mx/offsets"))) {
    if (e.path().extension() == ".offsets") offsets = e.path().string();
  }
  ASSERT_FALSE(offsets.empty());
  std::string bytes = testing::ReadFile(offsets);
  ASSERT_GT(bytes.size(), 16u + 40u);
  for (size_t i = 16; i < 16 + 40; ++i) bytes[i] = static_cast<char>(0xff);  // block 0's varints
  WriteFile(offsets, bytes);
  EXPECT_STATUS(chunk::Job::Open(dir_.Join("mx/jobs/tokens")).status(), StatusCode::kCorruption,
                offsets);
}

TEST_F(QueryJobsTest, AStreamWaitingForAnUndecidedChunkIsDestroyedPromptly) {
  // The job decides no chunk (horizon 0): the stream's prefetch thread waits for chunk 0
  // without polling, and destroying the stream cancels that wait instead of hanging.
  WriteFile(dir_.Join("code.jsonl"), LanguageFile());
  Register(kLanguageSpec);
  auto planned = Plan("", "{type: inferring, chunk_size: 10, strict: false}");
  ASSERT_NE(planned, nullptr);
  std::shared_ptr<chunk::Job> job = std::move(planned);
  job->SetHorizon(0);
  client::StreamOptions options;
  options.prefetch_chunks = 2;
  ASSERT_OK_AND_ASSIGN(auto stream, client::SampleStream::Open(job, options, nullptr));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto t0 = std::chrono::steady_clock::now();
  stream.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  // Once decided, a new stream reads the chunks.
  job->SetHorizon(-1);
  ASSERT_OK_AND_ASSIGN(auto reading, client::SampleStream::Open(job, options, nullptr));
  ASSERT_OK_AND_ASSIGN(auto chunk0, reading->Next());
  ASSERT_NE(chunk0, nullptr);
  EXPECT_EQ(chunk0->texts.size(), 10u);
}

TEST_F(QueryJobsTest, ErrorsNameThePlace) {
  WriteFile(dir_.Join("code.jsonl"), LanguageFile());
  Register(kLanguageSpec);
  auto pred = query::ParseWhere("");
  ASSERT_TRUE(pred.ok());
  // A key on a property no dataset has.
  auto spec = mixture::ParseMixtureSpec(
      "{type: static, chunk_size: 4, weights: [{key: {lang: [x]}, weight: 1}]}", "m");
  ASSERT_TRUE(spec.ok());
  EXPECT_STATUS(engine_->PlanQuery("j", *pred, *spec), StatusCode::kInvalidArgument, "lang");
  // An unknown grouping property, a bad job id.
  auto inferring = mixture::ParseMixtureSpec("{type: inferring, group_by: [nope]}", "m");
  ASSERT_TRUE(inferring.ok());
  EXPECT_STATUS(engine_->PlanQuery("j", *pred, *inferring), StatusCode::kInvalidArgument, "nope");
  EXPECT_STATUS(engine_->ExecuteQuery("../x", *pred, *inferring), StatusCode::kInvalidArgument,
                "job id");
}

}  // namespace
}  // namespace mixtera
