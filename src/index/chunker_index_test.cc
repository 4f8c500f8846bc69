#include "index/chunker_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "testing/test_util.h"

namespace mixtera::index {
namespace {

// A component's stream spelled out sample by sample: (file, sample id) in stream order.
using Stream = std::vector<std::pair<uint32_t, uint32_t>>;

// Expands ranges into samples, so results can be compared with a plain model.
Stream Expand(const std::vector<SampleRange>& ranges) {
  Stream s;
  for (const auto& r : ranges) {
    for (uint32_t v = r.begin; v < r.end; ++v) s.emplace_back(r.file_index, v);
  }
  return s;
}

// Builds an index over `files` files where each sample belongs to a random component (or
// to none), with a given probability of continuing the previous sample's component, and
// returns the model streams (in builder numbering). With `whole_files`, each file goes in
// with one AddFile call instead of BeginFile, AddRun per sample and EndFile.
std::unique_ptr<ChunkerIndex> BuildRandom(int num_components, int files, double stickiness,
                                          std::mt19937_64& rng, std::vector<Stream>* model,
                                          const std::vector<int64_t>& order,
                                          bool whole_files = false) {
  ChunkerIndexBuilder b;
  for (int c = 0; c < num_components; ++c) EXPECT_EQ(b.AddComponent(), c);
  model->assign(num_components, {});
  int current = 0;
  for (int f = 0; f < files; ++f) {
    if (rng() % 4 == 0) continue;  // some files have no matches at all
    const uint32_t file = static_cast<uint32_t>(f * 3);
    if (!whole_files) b.BeginFile(file);
    std::vector<uint64_t> rows;
    const uint32_t n = static_cast<uint32_t>(rng() % 3000);
    for (uint32_t s = 0; s < n; ++s) {
      if (std::uniform_real_distribution<double>(0, 1)(rng) > stickiness) {
        current = static_cast<int>(rng() % (num_components + 1)) - 1;  // -1: not matching
      }
      if (current < 0) continue;
      if (whole_files) {
        rows.push_back((uint64_t{s} << 32) | static_cast<uint32_t>(current));
      } else {
        b.AddRun(current, s, s + 1);
      }
      (*model)[current].emplace_back(file, s);
    }
    if (whole_files) {
      b.AddFile(file, rows);
    } else {
      b.EndFile();
    }
  }
  return b.Finish(order);
}

void CheckAgainstModel(const ChunkerIndex& index, const std::vector<Stream>& model,
                       const std::vector<int64_t>& order, std::mt19937_64& rng) {
  int64_t total = 0;
  for (size_t c = 0; c < order.size(); ++c) {
    const Stream& expected = model[order[c]];
    ASSERT_EQ(index.component_size(c), static_cast<int64_t>(expected.size()));
    total += index.component_size(c);
    std::vector<SampleRange> all;
    index.Extract(c, 0, index.component_size(c), &all);
    ASSERT_EQ(Expand(all), expected);
    for (size_t i = 1; i < all.size(); ++i) {
      // Maximal: two output ranges of the same file never touch.
      ASSERT_FALSE(all[i - 1].file_index == all[i].file_index && all[i - 1].end == all[i].begin);
    }
    for (int t = 0; t < 50 && !expected.empty(); ++t) {
      const int64_t b = static_cast<int64_t>(rng() % expected.size());
      const int64_t e = b + static_cast<int64_t>(rng() % (expected.size() - b + 1));
      std::vector<SampleRange> part;
      index.Extract(c, b, e, &part);
      ASSERT_EQ(Expand(part), Stream(expected.begin() + b, expected.begin() + e));
    }
  }
  EXPECT_EQ(index.num_samples(), total);
}

TEST(ChunkerIndex, RandomAccessMatchesModelForClusteredAndInterleavedData) {
  std::mt19937_64 rng(42);
  for (double stickiness : {0.0, 0.5, 0.99, 0.9999}) {
    std::vector<Stream> model;
    std::vector<int64_t> order = {3, 0, 4, 1, 2};
    auto index = BuildRandom(5, 12, stickiness, rng, &model, order);
    CheckAgainstModel(*index, model, order, rng);
    // Each storage kind is exercised: sets for interleaved data, range lists for runs.
    if (stickiness == 0.0) {
      EXPECT_GT(index->num_set_samples(), 0);
    }
    if (stickiness == 0.99) {
      EXPECT_GT(index->num_ranges(), 0);
    }
  }
}

// Many components over many files, so most (component, file) pairs hold a few scattered
// samples: they are stored in sets spanning several files (with files that hold nothing in
// between), mixed with per-file entries where a file holds more; saved and loaded too.
TEST(ChunkerIndex, SmallSetsSpanFilesAndMatchTheModel) {
  std::mt19937_64 rng(7);
  std::vector<Stream> model;
  std::vector<int64_t> order(300);
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(order.size() - 1 - i);
  // 300 components, ~1,100 matching samples per file: ~4 per (component, file).
  auto index = BuildRandom(300, 60, 0.0, rng, &model, order);
  CheckAgainstModel(*index, model, order, rng);
  EXPECT_EQ(index->num_set_samples(), index->num_samples());  // all in sets
  EXPECT_LT(index->num_entries(), 300 * 40);  // far fewer than one per (component, file)
  // Where the model's streams cross files, ComponentFiles counts per file.
  for (size_t c = 0; c < 5; ++c) {
    std::vector<std::pair<uint32_t, int64_t>> want;
    for (const auto& [file, sample] : model[order[c]]) {
      if (want.empty() || want.back().first != file) want.emplace_back(file, 0);
      ++want.back().second;
    }
    EXPECT_EQ(index->ComponentFiles(static_cast<int64_t>(c)), want);
  }
  mixtera::testing::TempDir dir;
  ASSERT_OK(index->Save(dir.path() + "/index.bin"));
  ASSERT_OK_AND_ASSIGN(auto loaded, ChunkerIndex::Load(dir.path() + "/index.bin"));
  EXPECT_EQ(loaded->bytes(), index->bytes());
  CheckAgainstModel(*loaded, model, order, rng);
  // The file table is the last section: a changed total is Corruption (the checksum).
  {
    std::fstream f(dir.path() + "/index.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-8, std::ios::end);
    const uint64_t zero = 0;
    f.write(reinterpret_cast<const char*>(&zero), sizeof(zero));
  }
  auto corrupt = ChunkerIndex::Load(dir.path() + "/index.bin");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), StatusCode::kCorruption);
  EXPECT_NE(corrupt.status().message().find("checksum does not match"), std::string::npos);
  // Less than 3 bytes per sample here (60 files of up to 3,000 samples each).
  EXPECT_LT(index->bytes(), 3 * index->num_samples());
}

// AddFile is a faster path to the same index: built both ways from the same random data,
// the saved bytes are identical (and the AddFile index matches the model).
// Scattered samples of large files go to multi-file sets: far apart (distances of 30,000 to
// 100,000), beyond 2^16, mixed with short runs, they must come back as they went in.
TEST(ChunkerIndex, ScatteredSamplesOfLargeFilesMatchTheModel) {
  ChunkerIndexBuilder b;
  for (int c = 0; c < 3; ++c) EXPECT_EQ(b.AddComponent(), c);
  std::vector<Stream> model(3);
  for (uint32_t f = 0; f < 12; ++f) {
    const uint32_t file = f * 2;
    std::vector<uint32_t> samples[3] = {
        {13 * f, 70000 + f, 99990 - f},          // distances of ~70,000 and ~30,000
        {5 + f, 6 + f, 7 + f, 5 + f + 65535},    // a run, then exactly 65,535 further
        {f == 3 ? 99998u : 40000u + 1000 * f}};  // one sample per file
    std::vector<uint64_t> rows;
    for (uint32_t c = 0; c < 3; ++c) {
      for (uint32_t s : samples[c]) {
        rows.push_back((uint64_t{s} << 32) | c);
        model[c].emplace_back(file, s);
      }
    }
    std::sort(rows.begin(), rows.end());
    rows.push_back(uint64_t{99999} << 32 | 2);  // every file spans 100,000 samples
    model[2].emplace_back(file, 99999);
    b.AddFile(file, rows);
  }
  const std::vector<int64_t> order = {2, 0, 1};
  auto index = b.Finish(order);
  EXPECT_EQ(index->num_set_samples(), index->num_samples());  // all in multi-file sets
  std::mt19937_64 rng(3);
  CheckAgainstModel(*index, model, order, rng);
}

TEST(ChunkerIndex, WholeFilesBuildTheSameIndexAsRuns) {
  mixtera::testing::TempDir dir;
  struct Case {
    int components, files;
    double stickiness;
  };
  for (const Case& k : {Case{5, 12, 0.0}, Case{5, 12, 0.5}, Case{5, 12, 0.99}, Case{5, 12, 0.9999},
                        Case{300, 60, 0.0}, Case{300, 60, 0.92}, Case{3, 40, 0.0}}) {
    SCOPED_TRACE(::testing::Message()
                 << k.components << " components, stickiness " << k.stickiness);
    std::vector<int64_t> order(k.components);
    for (int c = 0; c < k.components; ++c) order[c] = (c * 7 + 3) % k.components;
    std::vector<Stream> by_runs_model, whole_model;
    std::mt19937_64 rng1(k.components * 1000 + k.files), rng2(k.components * 1000 + k.files);
    auto by_runs = BuildRandom(k.components, k.files, k.stickiness, rng1, &by_runs_model, order);
    auto whole = BuildRandom(k.components, k.files, k.stickiness, rng2, &whole_model, order,
                             /*whole_files=*/true);
    ASSERT_EQ(by_runs_model, whole_model);
    CheckAgainstModel(*whole, whole_model, order, rng1);
    ASSERT_OK(by_runs->Save(dir.path() + "/runs.bin"));
    ASSERT_OK(whole->Save(dir.path() + "/whole.bin"));
    std::ifstream a(dir.path() + "/runs.bin", std::ios::binary);
    std::ifstream b(dir.path() + "/whole.bin", std::ios::binary);
    const std::string bytes_a((std::istreambuf_iterator<char>(a)), {});
    const std::string bytes_b((std::istreambuf_iterator<char>(b)), {});
    EXPECT_GT(bytes_a.size(), 64u);
    EXPECT_TRUE(bytes_a == bytes_b);
  }
}

TEST(ChunkerIndex, SaveLoadRoundTripAndCorruption) {
  mixtera::testing::TempDir dir;
  std::mt19937_64 rng(5);
  std::vector<Stream> model;
  std::vector<int64_t> order = {1, 0, 2};
  auto built = BuildRandom(3, 8, 0.7, rng, &model, order);
  const std::string path = dir.path() + "/index.bin";
  ASSERT_OK(built->Save(path));
  ASSERT_OK_AND_ASSIGN(auto loaded, ChunkerIndex::Load(path));
  EXPECT_EQ(loaded->bytes(), built->bytes());
  CheckAgainstModel(*loaded, model, order, rng);

  // Truncated file.
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(dir.path() + "/short.bin", std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 16));
  }
  auto truncated = ChunkerIndex::Load(dir.path() + "/short.bin");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kCorruption);
  EXPECT_NE(truncated.status().message().find("short.bin"), std::string::npos);
  // Not an index at all.
  {
    std::ofstream out(dir.path() + "/text.bin");
    out << "this is not an index, just some text of sufficient length to have a header";
  }
  auto text = ChunkerIndex::Load(dir.path() + "/text.bin");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kCorruption);
  // An index of another format version says so.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.write("MXIDX004", 8);
  }
  auto old_format = ChunkerIndex::Load(path);
  ASSERT_FALSE(old_format.ok());
  EXPECT_NE(old_format.status().message().find("index format MXIDX004 is not MXIDX006"),
            std::string::npos)
      << old_format.status().ToString();
  auto missing = ChunkerIndex::Load(dir.path() + "/missing.bin");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIOError);
}

// Issue: hardening, 3: one flipped bit in index.bin crashed the stream, and most random
// mutations streamed different samples. Every mutation (a flipped bit, a changed byte, a run
// of bytes overwritten, a truncation, bytes appended) is now a Corruption error naming the
// file. MIXTERA_FUZZ_ITERATIONS (the slow test sets 1000) raises the count from 60.
TEST(ChunkerIndex, EveryMutationOfTheFileIsACorruptionError) {
  mixtera::testing::TempDir dir;
  std::mt19937_64 rng(17);
  std::vector<Stream> model;
  std::vector<int64_t> order = {2, 0, 3, 1};
  auto built = BuildRandom(4, 10, 0.9, rng, &model, order);
  const std::string path = dir.path() + "/index.bin";
  ASSERT_OK(built->Save(path));
  std::string good;
  {
    std::ifstream in(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(good.size(), 1000u);
  const char* env = std::getenv("MIXTERA_FUZZ_ITERATIONS");
  const int iterations = env != nullptr ? std::atoi(env) : 60;
  for (int i = 0; i < iterations; ++i) {
    std::string bytes = good;
    const size_t at = rng() % bytes.size();
    switch (i % 5) {
      case 0:  // one bit
        bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
        break;
      case 1: {  // one byte, changed
        const char old = bytes[at];
        while (bytes[at] == old) bytes[at] = static_cast<char>(rng());
        break;
      }
      case 2: {  // a run of up to 64 bytes, overwritten
        const size_t n = std::min<size_t>(1 + rng() % 64, bytes.size() - at);
        const std::string before = bytes.substr(at, n);
        for (size_t k = 0; k < n; ++k) bytes[at + k] = static_cast<char>(rng());
        if (bytes.substr(at, n) == before) continue;
        break;
      }
      case 3:  // truncated
        bytes.resize(at);
        break;
      default:  // bytes appended
        bytes += std::string(1 + rng() % 16, static_cast<char>(rng()));
        break;
    }
    const std::string mutated = dir.path() + "/mutated.bin";
    {
      std::ofstream out(mutated, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    auto loaded = ChunkerIndex::Load(mutated);
    ASSERT_FALSE(loaded.ok()) << "mutation " << i << " (kind " << i % 5 << " at " << at << ")";
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << loaded.status().ToString();
    EXPECT_NE(loaded.status().message().find("mutated.bin"), std::string::npos);
  }
}

TEST(ChunkerIndex, FilesAndCounts) {
  ChunkerIndexBuilder b;
  const int64_t a = b.AddComponent(), c = b.AddComponent();
  b.BeginFile(0);
  b.AddRun(a, 0, 10);
  b.AddRun(c, 10, 12);
  b.AddRun(a, 12, 15);
  b.EndFile();
  b.BeginFile(2);
  b.AddRun(c, 5, 6);
  b.EndFile();
  auto index = b.Finish({a, c});
  EXPECT_EQ(index->component_size(0), 13);
  EXPECT_EQ(index->component_size(1), 3);
  EXPECT_EQ(index->ComponentFiles(1), (std::vector<std::pair<uint32_t, int64_t>>{{0, 2}, {2, 1}}));
  std::vector<SampleRange> out;
  index->Extract(0, 8, 12, &out);
  EXPECT_EQ(out, (std::vector<SampleRange>{{0, 8, 10}, {0, 12, 14}}));
}

}  // namespace
}  // namespace mixtera::index
