#include "chunk/job.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "chunk/job_test_util.h"
#include "formats/token_counts_file.h"
#include "testing/test_util.h"

namespace mixtera::chunk {
namespace {

using testing_util::Drain;
using testing_util::Fixture;
using testing_util::MakeFixture;
using testing_util::SameChunk;
using testing_util::Sample;

TEST(Job, BestEffortDeliversEverySampleExactlyOnceWithExactCounts) {
  for (int64_t shuffle : {0, 1, 5}) {
    Fixture f = MakeFixture(9, 3, 6, 200);
    f.def.mixture.shuffle_block = shuffle;
    f.def.mixture.seed = 11;
    ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
    const auto chunks = Drain(*job);
    std::map<Sample, int> seen;
    const std::vector<int64_t> counts = job->InitialCounts();
    // Weights 1:2:3 of 37 -> 6.17, 12.33, 18.5 -> 6/12/18 plus the largest remainder (0.5,
    // key 2) -> 6/12/19.
    EXPECT_EQ(counts, (std::vector<int64_t>{6, 12, 19}));
    for (size_t i = 0; i < chunks.size(); ++i) {
      const auto& chunk = chunks[i];
      EXPECT_EQ(chunk.partial, i + 1 == chunks.size() && chunk.num_samples() < 37);
      if (i + 1 < chunks.size()) {
        EXPECT_EQ(chunk.num_samples(), 37);
      }
      for (const auto& part : chunk.keys) {
        int64_t n = 0;
        for (const auto& r : part.ranges) {
          for (uint32_t s = r.begin; s < r.end; ++s) {
            ++seen[{r.file_index, s}];
            ++n;
            // The sample belongs to a component of this key.
            bool owned = false;
            for (int64_t c : f.def.keys[part.key_id].components) {
              owned |= f.component_samples[c].count({r.file_index, s}) > 0;
            }
            ASSERT_TRUE(owned);
          }
        }
        EXPECT_EQ(n, part.num_samples);
        // Full chunks of the first segment carry exactly the planned per-key counts.
        if (job->plan().SegmentOf(chunk.index).first_chunk == 0) {
          EXPECT_EQ(part.num_samples, counts[part.key_id]);
        }
      }
    }
    EXPECT_EQ(seen.size(), 6u * 200u);
    for (const auto& [sample, n] : seen) ASSERT_EQ(n, 1);
  }
}

TEST(Job, RandomAccessEqualsSequentialAndDpGroupsPartitionTheStream) {
  Fixture f = MakeFixture(12, 4, 5, 300);
  f.def.mixture.shuffle_block = 3;
  ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
  const auto sequential = Drain(*job);
  ASSERT_GT(sequential.size(), 10u);
  std::mt19937_64 rng(1);
  for (int t = 0; t < 100; ++t) {
    const int64_t k = static_cast<int64_t>(rng() % sequential.size());
    ASSERT_OK_AND_ASSIGN(auto reply, job->GetChunk(k));
    ASSERT_TRUE(SameChunk(reply.chunk, sequential[k])) << k;
  }
  for (int64_t G : {2, 4}) {
    for (int64_t W : {1, 3}) {
      std::vector<int> owner(sequential.size(), 0);
      for (int64_t g = 0; g < G; ++g) {
        for (int64_t w = 0; w < W; ++w) {
          for (int64_t i = 0;; ++i) {
            const int64_t k = ConsumerChunk(G, g, W, w, i);
            ASSERT_OK_AND_ASSIGN(auto reply, job->GetChunk(k));
            if (reply.status == ChunkStatus::kEnd) break;
            ASSERT_TRUE(SameChunk(reply.chunk, sequential[k]));
            ++owner[k];
          }
        }
      }
      for (size_t k = 0; k < owner.size(); ++k) ASSERT_EQ(owner[k], 1) << "G=" << G << " k=" << k;
    }
  }
}

TEST(Job, RepeatReusesDataPerEpochAndStrictEndsEarly) {
  Fixture f = MakeFixture(4, 2, 2, 100);
  f.def.keys[0].repeat = 3;
  f.def.mixture.strict = true;
  f.def.mixture_log = {{0, {0.5, 0.5}}};
  f.def.mixture.chunk_size = 10;
  ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
  // Key 0 (components 0, 2) has supply 3 x its size, key 1 (1, 3) its size once; 5 each
  // per chunk, strict: the stream ends when key 1 runs out.
  const int64_t key1 = job->key_supply()[1];
  const auto chunks = Drain(*job);
  EXPECT_EQ(static_cast<int64_t>(chunks.size()), key1 / 5);
  // Key 0's samples appear at most ceil(used / size) times each.
  std::map<Sample, int> seen0;
  for (const auto& c : chunks) {
    for (const auto& part : c.keys) {
      if (part.key_id != 0) continue;
      for (const auto& r : part.ranges) {
        for (uint32_t s = r.begin; s < r.end; ++s) ++seen0[{r.file_index, s}];
      }
    }
  }
  const int64_t size0 = job->key_supply()[0] / 3;
  const int64_t used0 = static_cast<int64_t>(chunks.size()) * 5;
  for (const auto& [s, n] : seen0) ASSERT_LE(n, (used0 + size0 - 1) / size0);
}

TEST(Job, HorizonUpdatesAndSaveOpenRoundTrip) {
  mixtera::testing::TempDir dir;
  Fixture f = MakeFixture(6, 2, 3, 100);
  f.def.mixture.shuffle_block = 4;
  ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
  ASSERT_OK(job->Save(dir.Join("jobs/job")));
  EXPECT_EQ(job->Save(dir.Join("jobs/job")).code(), StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(auto opened, Job::Open(dir.Join("jobs/job")));
  const auto a = Drain(*job), b = Drain(*opened);
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) ASSERT_TRUE(SameChunk(a[k], b[k]));
  EXPECT_EQ(opened->ChunkJson(b[0]), job->ChunkJson(a[0]));

  opened->SetHorizon(2);
  ASSERT_OK_AND_ASSIGN(auto r1, opened->GetChunk(1));
  EXPECT_EQ(r1.status, ChunkStatus::kChunk);
  ASSERT_OK_AND_ASSIGN(auto r2, opened->GetChunk(2));
  EXPECT_EQ(r2.status, ChunkStatus::kNotYet);
  // A mixture change at chunk 2: chunks before it are unchanged, the change's chunks carry
  // mixture id 1 and only key 1.
  ASSERT_OK(opened->UpdateMixture(2, {0, 1}));
  opened->SetHorizon(-1);
  ASSERT_OK_AND_ASSIGN(auto c1, opened->GetChunk(1));
  EXPECT_TRUE(SameChunk(c1.chunk, a[1]));
  ASSERT_OK_AND_ASSIGN(auto c2, opened->GetChunk(2));
  EXPECT_EQ(c2.chunk.mixture_id, 1);
  ASSERT_EQ(c2.chunk.keys.size(), 1u);
  EXPECT_EQ(c2.chunk.keys[0].key_id, 1);
  EXPECT_FALSE(opened->UpdateMixture(1, {1, 1}).ok());
  EXPECT_FALSE(job->GetChunk(-1).ok());

  EXPECT_EQ(Job::Open(dir.Join("jobs/none")).status().code(), StatusCode::kNotFound);
  mixtera::testing::WriteFile(dir.Join("jobs/job/job.json"), "{\"format_version\": 1}");
  EXPECT_EQ(Job::Open(dir.Join("jobs/job")).status().code(), StatusCode::kCorruption);
}

// job.json: any change to its bytes — a digit of chunk_size, a file path, a truncation — is a
// Corruption error naming the file, never a job with different samples.
TEST(Job, EveryMutationOfJobJsonIsACorruptionError) {
  mixtera::testing::TempDir dir;
  Fixture f = MakeFixture(6, 2, 3, 100);
  ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
  ASSERT_OK(job->Save(dir.Join("jobs/job")));
  const std::string path = dir.Join("jobs/job/job.json");
  std::string good;
  {
    std::ifstream in(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::mt19937_64 rng(23);
  const char* env = std::getenv("MIXTERA_FUZZ_ITERATIONS");
  const int iterations = env != nullptr ? std::atoi(env) : 60;
  for (int i = 0; i < iterations; ++i) {
    std::string bytes = good;
    const size_t at = rng() % bytes.size();
    if (i % 3 == 0) {
      bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
    } else if (i % 3 == 1) {
      const char old = bytes[at];
      while (bytes[at] == old) bytes[at] = static_cast<char>('0' + rng() % 10);
    } else {
      bytes.resize(at);
    }
    mixtera::testing::WriteFile(path, bytes);
    auto opened = Job::Open(dir.Join("jobs/job"));
    ASSERT_FALSE(opened.ok()) << "mutation " << i << " at " << at;
    EXPECT_EQ(opened.status().code(), StatusCode::kCorruption) << opened.status().ToString();
    EXPECT_NE(opened.status().message().find("job.json"), std::string::npos);
  }
  mixtera::testing::WriteFile(path, good);
  EXPECT_OK(Job::Open(dir.Join("jobs/job")).status());
}

TEST(Job, FloatKeyValuesReadBackAsFloats) {
  // Integral floats (2.0) and non-integral ones, in keys and component values: after Save
  // and Open each literal has the kind it was written with (2.0 is not read back as 2).
  mixtera::testing::TempDir dir;
  Fixture f = MakeFixture(2, 2, 1, 20);
  f.def.keys[0].key.properties = {{"score", {model::Literal::Float(2.0), model::Literal::Int(2)}}};
  f.def.keys[1].key.properties = {{"score", {model::Literal::Float(-0.25)}}};
  f.def.components.properties = {"score"};
  f.def.components.types = {model::PropertyType::kFloat};
  f.def.components.values = {{model::GroupValue{false, {model::Literal::Float(2.0)}}},
                             {model::GroupValue{false, {model::Literal::Float(-0.25)}}}};
  ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
  ASSERT_OK(job->Save(dir.Join("jobs/job")));
  ASSERT_OK_AND_ASSIGN(auto opened, Job::Open(dir.Join("jobs/job")));
  const JobDefinition& def = opened->definition();
  ASSERT_EQ(def.keys.size(), 2u);
  const auto& first = def.keys[0].key.properties.at(0).second;
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].kind, model::Literal::Kind::kFloat);
  EXPECT_EQ(first[0].float_value, 2.0);
  EXPECT_EQ(first[1].kind, model::Literal::Kind::kInt);
  EXPECT_EQ(def.keys[1].key.properties.at(0).second.at(0).float_value, -0.25);
  ASSERT_EQ(def.components.values.size(), 2u);
  EXPECT_EQ(def.components.values[0][0].items.at(0).kind, model::Literal::Kind::kFloat);
  EXPECT_EQ(def.components.values[0][0].items.at(0).float_value, 2.0);
}

TEST(Job, StateRoundTripsAndResumesTheSameStream) {
  mixtera::testing::TempDir dir;
  Fixture f = MakeFixture(6, 2, 3, 100);
  ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
  ASSERT_OK(job->Save(dir.Join("jobs/job")));
  ASSERT_OK(job->UpdateMixture(3, {0.2, 0.8}));
  job->SetHorizon(9);
  const std::string state = job->StateJson();
  // A restarted process: the saved job (initial mixture) plus the state.
  ASSERT_OK_AND_ASSIGN(auto resumed, Job::Open(dir.Join("jobs/job")));
  ASSERT_OK(resumed->RestoreState(state));
  for (int64_t k = 0; k < 12; ++k) {
    ASSERT_OK_AND_ASSIGN(auto a, job->GetChunk(k));
    ASSERT_OK_AND_ASSIGN(auto b, resumed->GetChunk(k));
    ASSERT_EQ(a.status, b.status) << k;
    if (a.status == ChunkStatus::kChunk) {
      ASSERT_TRUE(SameChunk(a.chunk, b.chunk)) << k;
    }
  }
  EXPECT_FALSE(
      resumed->RestoreState("{\"job_id\": \"other\", \"mixture_log\": [], \"horizon\": -1}").ok());
  EXPECT_FALSE(resumed->RestoreState("not json").ok());

  ConsumerState c{4, 1, 3, 2, 5};
  ASSERT_OK_AND_ASSIGN(auto back, ConsumerState::FromJson(c.ToJson()));
  EXPECT_EQ(back.next_chunk(), 1 + 4 * (2 + 3 * 5));
  EXPECT_FALSE(ConsumerState::FromJson("{\"dp_groups\": 2, \"dp_group\": 2, \"num_workers\": 1, "
                                       "\"worker\": 0, \"next\": 0}")
                   .ok());
}

TEST(Job, ArbitraryFillsChunksAcrossComponentsInOrder) {
  Fixture f = MakeFixture(3, 3, 1, 50);  // component sizes from the layout
  f.def.mixture.type = model::MixtureType::kArbitrary;
  f.def.mixture.chunk_size = 20;
  f.def.keys.clear();
  for (int c = 0; c < 3; ++c) {
    JobKey k;
    k.key.properties = {{"topic", {model::Literal::String("t" + std::to_string(c))}}};
    k.components = {c};
    f.def.keys.push_back(k);
  }
  f.def.mixture_log = {{0, {}}};
  const auto sizes = f.def.components.sizes;
  ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
  const auto chunks = Drain(*job);
  ASSERT_EQ(chunks.size(), 3u);  // 50 samples, chunks of 20: 20, 20, 10 (partial)
  EXPECT_TRUE(chunks[2].partial);
  // The first chunk takes component 0 first, then component 1 when 0 is used up.
  EXPECT_EQ(chunks[0].keys[0].key_id, 0);
  EXPECT_EQ(chunks[0].keys[0].num_samples, std::min<int64_t>(20, sizes[0]));
  int64_t total = 0;
  for (const auto& c : chunks) total += c.num_samples();
  EXPECT_EQ(total, 50);
}

TEST(Job, ValidatesJobIds) {
  EXPECT_TRUE(ValidateJobId("run-1.a_b").ok());
  EXPECT_FALSE(ValidateJobId("").ok());
  EXPECT_FALSE(ValidateJobId("../x").ok());
  EXPECT_FALSE(ValidateJobId(".hidden").ok());
  EXPECT_FALSE(ValidateJobId("a b").ok());
}

}  // namespace
}  // namespace mixtera::chunk

namespace mixtera::chunk {
namespace {

using testing_util::Fixture;
using testing_util::MakeFixture;
using testing_util::SameChunk;

// Gives every sample of `f` a token count (0-60, some 0) in real token counts files and
// makes the job exact in tokens. Returns counts[file][sample].
std::vector<std::vector<uint32_t>> AddTokenCounts(Fixture* f, const std::string& dir,
                                                  uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint32_t>> counts;
  for (size_t i = 0; i < f->def.files.size(); ++i) {
    std::vector<uint32_t> c(static_cast<size_t>(f->def.files[i].num_records));
    for (auto& n : c) n = rng() % 8 == 0 ? 0 : rng() % 61;
    const std::string path = dir + "/" + std::to_string(i) + ".tokens";
    EXPECT_OK(formats::WriteTokenCounts(path, c));
    f->def.files[i].token_counts_path = path;
    counts.push_back(std::move(c));
  }
  f->def.mixture.unit = model::ChunkUnit::kTokens;
  f->def.exact_tokens = true;
  return counts;
}

TEST(Job, ExactTokensDeliverEveryTokenOnceInWholeWindows) {
  testing::TempDir dir;
  for (int64_t shuffle : {0, 7}) {
    for (bool overlapping : {false, true}) {
      Fixture f = MakeFixture(9, 3, 6, 3000);  // about 6000 samples per key: 2 checkpoints
      const auto counts = AddTokenCounts(&f, dir.path(), static_cast<uint32_t>(shuffle + 1));
      f.def.keys[2].repeat = 2;
      f.def.mixture.shuffle_block = shuffle;
      f.def.mixture.seed = 5;
      f.def.mixture.chunk_size = 20000;
      f.def.packing = {.sequence_length = 127, .overlapping = overlapping, .bos = true};
      const int64_t extra = 1;  // BOS
      ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
      const auto chunks = Drain(*job);
      ASSERT_GT(chunks.size(), 10u);
      // Per key and sample: tokens delivered, and how often the document was started.
      std::vector<std::map<Sample, int64_t>> tokens(3), starts(3);
      const int64_t stride = overlapping ? 127 : 128, extra_window = overlapping ? 1 : 0;
      std::vector<size_t> last_chunk(3, 0);  // where each key runs out
      for (size_t i = 0; i < chunks.size(); ++i) {
        for (const auto& part : chunks[i].keys) last_chunk[part.key_id] = i;
      }
      for (size_t i = 0; i < chunks.size(); ++i) {
        for (const auto& part : chunks[i].keys) {
          const int64_t k = part.key_id;
          int64_t part_tokens = 0;
          bool head_seen = false;
          std::map<Sample, int> remaining;  // occurrences left, to find the last one
          for (const auto& r : part.ranges) {
            for (uint32_t s = r.begin; s < r.end; ++s) ++remaining[{r.file_index, s}];
          }
          for (const auto& r : part.ranges) {
            for (uint32_t s = r.begin; s < r.end; ++s) {
              const Sample sample{r.file_index, s};
              int64_t from = 0, to = counts[r.file_index][s] + extra;
              const bool last = --remaining[sample] == 0;
              if (part.head && !head_seen && part.head->file_index == r.file_index &&
                  part.head->sample == s) {
                head_seen = true;
                from = part.head->tokens;
                ASSERT_GT(from, 0);
                ASSERT_LT(from, to);
              }
              if (part.tail && last && part.tail->file_index == r.file_index &&
                  part.tail->sample == s) {
                ASSERT_GT(part.tail->tokens, from);
                ASSERT_LT(part.tail->tokens, to);
                to = part.tail->tokens;
              }
              tokens[k][sample] += to - from;
              if (from == 0) ++starts[k][sample];
              part_tokens += to - from;
            }
          }
          ASSERT_EQ(head_seen, part.head.has_value());
          ASSERT_EQ(part_tokens, part.num_tokens) << "chunk " << i << " key " << k;
          // Every chunk holds whole windows of every key, except the key's last chunk.
          if (i < last_chunk[k]) {
            ASSERT_EQ((part.num_tokens - extra_window) % stride, 0) << part.num_tokens;
          }
        }
      }
      for (int k = 0; k < 3; ++k) {
        const int64_t repeat = f.def.keys[k].repeat;
        int64_t n = 0;
        for (int64_t c : f.def.keys[k].components) {
          for (const Sample& s : f.component_samples[c]) {
            ++n;
            ASSERT_EQ(tokens[k][s], repeat * (counts[s.first][s.second] + extra));
            ASSERT_EQ(starts[k][s], repeat);
          }
        }
        EXPECT_EQ(static_cast<int64_t>(tokens[k].size()), n);
        EXPECT_EQ(job->key_supply()[k], [&] {
          int64_t t = 0;
          for (const auto& [s, v] : tokens[k]) t += v;
          return t;
        }());
      }
    }
  }
}

// Samples alternate between two keys, and key 1 (weight 2) runs ahead of key 0 (weight 1):
// chunk 0 holds key 0's sample 0 and key 1's samples 1, 3, 5. A part's first range touches
// the previous part's last one, and must not be merged into it.
TEST(Job, PartsWhoseRangesTouchKeepTheirOwnSamples) {
  testing::TempDir dir;
  for (bool exact : {false, true}) {
    Fixture f = MakeFixture(2, 2, 1, 400, [](int, int s) { return s % 2; });
    f.def.mixture.chunk_size = 4;
    if (exact) {  // chunks of 100 tokens, documents cut at chunk boundaries
      AddTokenCounts(&f, dir.path(), 3);
      f.def.mixture.chunk_size = 100;
    }
    ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
    const auto chunks = Drain(*job);
    ASSERT_FALSE(chunks.empty());
    for (const auto& chunk : chunks) {
      for (const auto& part : chunk.keys) {
        int64_t n = 0;
        for (const auto& r : part.ranges) {
          for (uint32_t s = r.begin; s < r.end; ++s, ++n) {
            ASSERT_EQ(static_cast<int32_t>(s % 2), part.key_id)
                << "chunk " << chunk.index << ": sample " << s << " in key " << part.key_id;
          }
        }
        EXPECT_EQ(n, part.num_samples) << "chunk " << chunk.index << ", key " << part.key_id;
      }
    }
  }
}

TEST(Job, ExactTokensRandomAccessAndSaveOpenRoundTrip) {
  testing::TempDir dir;
  Fixture f = MakeFixture(6, 2, 4, 2500);
  AddTokenCounts(&f, dir.path(), 3);
  f.def.mixture.shuffle_block = 4;
  f.def.mixture.chunk_size = 5000;
  f.def.packing = {.sequence_length = 63, .eos = true};
  ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
  const auto sequential = Drain(*job);
  ASSERT_OK(job->Save(dir.path() + "/job"));
  ASSERT_OK_AND_ASSIGN(auto reopened, Job::Open(dir.path() + "/job"));
  EXPECT_TRUE(reopened->definition().exact_tokens);
  EXPECT_EQ(reopened->definition().packing.sequence_length, 63);
  std::mt19937_64 rng(2);
  for (int t = 0; t < 30; ++t) {
    const int64_t k = static_cast<int64_t>(rng() % sequential.size());
    ASSERT_OK_AND_ASSIGN(auto reply, reopened->GetChunk(k));
    ASSERT_TRUE(SameChunk(reply.chunk, sequential[k])) << k;
    for (size_t p = 0; p < reply.chunk.keys.size(); ++p) {
      const auto& a = reply.chunk.keys[p];
      const auto& b = sequential[k].keys[p];
      ASSERT_EQ(a.num_tokens, b.num_tokens);
      ASSERT_EQ(a.head.has_value(), b.head.has_value());
      if (a.head) {
        ASSERT_EQ(a.head->tokens, b.head->tokens);
      }
      ASSERT_EQ(a.tail.has_value(), b.tail.has_value());
      if (a.tail) {
        ASSERT_EQ(a.tail->tokens, b.tail->tokens);
      }
    }
  }
  // A token counts file that does not fit its data file is an error naming it.
  Fixture g = MakeFixture(6, 2, 4, 2500);
  AddTokenCounts(&g, dir.path(), 3);
  g.def.files[1].num_records = 2400;
  EXPECT_STATUS(Job::Create(g.def, std::move(g.index)).status(), StatusCode::kCorruption,
                "1.tokens");
}

TEST(Job, WaitForChunkWakesOnTheDecisionTheDeadlineOrCancellation) {
  using std::chrono::milliseconds;
  using Clock = std::chrono::steady_clock;
  Fixture f = MakeFixture(6, 2, 3, 100);
  ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
  job->SetHorizon(2);
  const auto far = Clock::time_point::max();
  ASSERT_OK_AND_ASSIGN(ChunkReply decided, job->WaitForChunk(1, far, nullptr));
  EXPECT_EQ(decided.status, ChunkStatus::kChunk);
  // The deadline.
  const auto t0 = Clock::now();
  EXPECT_STATUS(job->WaitForChunk(2, t0 + milliseconds(50), nullptr).status(),
                StatusCode::kUnavailable, "chunk 2 of job job was not decided");
  EXPECT_GE(Clock::now() - t0, milliseconds(50));
  // Cancellation: the flag, then a wake-up.
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(30));
    cancel = true;
    job->WakeWaiters();
  });
  EXPECT_STATUS(job->WaitForChunk(2, far, &cancel).status(), StatusCode::kCancelled, "chunk 2");
  canceller.join();
  // A decision: a mixture change at chunk 2, then the horizon lifted, wakes the waiter, which
  // gets the new mixture.
  std::thread decider([&] {
    std::this_thread::sleep_for(milliseconds(30));
    ASSERT_OK(job->UpdateMixture(2, {0, 1}));
    job->SetHorizon(-1);
  });
  ASSERT_OK_AND_ASSIGN(ChunkReply woken, job->WaitForChunk(2, far, nullptr));
  decider.join();
  EXPECT_EQ(woken.status, ChunkStatus::kChunk);
  EXPECT_EQ(woken.chunk.mixture_id, 1);
  // Past the plan's end: kEnd at once.
  ASSERT_OK_AND_ASSIGN(ChunkReply end, job->WaitForChunk(1'000'000, far, nullptr));
  EXPECT_EQ(end.status, ChunkStatus::kEnd);
}

TEST(Job, ChunksAreReadWhileTheMixtureChanges) {
  // Readers of decided chunks run while another thread appends 500 mixture changes; every
  // chunk a reader sees before the change point is the one of the unchanged job.
  Fixture f = MakeFixture(6, 2, 3, 7000);  // 21,000 samples: over 500 chunks of 37
  ASSERT_OK_AND_ASSIGN(auto job, Job::Create(f.def, std::move(f.index)));
  ASSERT_OK_AND_ASSIGN(ChunkReply first, job->GetChunk(0));
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        auto reply = job->GetChunk(0);
        if (!reply.ok() || !SameChunk(reply->chunk, first.chunk)) {
          ADD_FAILURE() << "chunk 0 changed under a mixture change after it";
          return;
        }
        ++reads;
      }
    });
  }
  while (reads.load() == 0) std::this_thread::yield();
  for (int64_t c = 1; c <= 500; ++c) {
    Status st = job->UpdateMixture(c, {1.0 + c % 3, 1.0});
    if (!st.ok()) {
      ADD_FAILURE() << st.ToString();
      break;
    }
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(reads.load(), 0);
  ASSERT_OK_AND_ASSIGN(ChunkReply last, job->GetChunk(500));
  EXPECT_EQ(last.chunk.mixture_id, 500);
}

}  // namespace
}  // namespace mixtera::chunk
