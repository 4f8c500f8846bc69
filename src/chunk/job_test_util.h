// Test helpers of the chunk module's job tests: a synthetic job (Fixture) and chunk
// comparisons. Header-only; included by *_test.cc only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "chunk/job.h"

namespace mixtera::chunk {
namespace testing_util {

using Sample = std::pair<uint32_t, uint32_t>;  // (file index, sample id)

// A job over `files` files of `per_file` samples each, where sample s of file f belongs to
// component (f * 7 + s * s) % num_components (interleaved), with `keys` owning components
// round-robin (component c -> key c % keys). Returns the components' samples for checks.
struct Fixture {
  JobDefinition def;
  std::unique_ptr<index::ChunkerIndex> index;
  std::vector<std::set<Sample>> component_samples;
};

// `component_of(file, sample)`, when given, replaces the interleaving above.
inline Fixture MakeFixture(int num_components, int num_keys, int files, int per_file,
                           const std::function<int(int, int)>& component_of = nullptr) {
  Fixture f;
  index::ChunkerIndexBuilder b;
  for (int c = 0; c < num_components; ++c) b.AddComponent();
  f.component_samples.resize(num_components);
  for (int file = 0; file < files; ++file) {
    b.BeginFile(static_cast<uint32_t>(file));
    for (int s = 0; s < per_file; ++s) {
      const int c = component_of ? component_of(file, s) : (file * 7 + s * s) % num_components;
      b.AddRun(c, static_cast<uint32_t>(s), static_cast<uint32_t>(s + 1));
      f.component_samples[c].insert({static_cast<uint32_t>(file), static_cast<uint32_t>(s)});
    }
    b.EndFile();
    f.def.files.push_back({"/data/f" + std::to_string(file),
                           "ds",
                           file,
                           1000,
                           1,
                           "jsonl",
                           "none",
                           {"/text"},
                           "",
                           per_file});
  }
  std::vector<int64_t> order(num_components);
  for (int c = 0; c < num_components; ++c) order[c] = c;
  f.index = b.Finish(order);
  f.def.job_id = "job";
  f.def.components.properties = {"topic"};
  f.def.components.types = {model::PropertyType::kString};
  for (int c = 0; c < num_components; ++c) {
    f.def.components.values.push_back(
        {model::GroupValue{false, {model::Literal::String("t" + std::to_string(c))}}});
    f.def.components.sizes.push_back(f.index->component_size(c));
  }
  std::vector<double> weights;
  for (int k = 0; k < num_keys; ++k) {
    JobKey key;
    key.key.properties = {{"group", {model::Literal::Int(k)}}};
    for (int c = k; c < num_components; c += num_keys) key.components.push_back(c);
    f.def.keys.push_back(key);
    weights.push_back(1.0 + k);
  }
  f.def.mixture_log.push_back({0, weights});
  const double sum = num_keys * (num_keys + 1) / 2.0;
  for (int k = 0; k < num_keys; ++k)
    f.def.mixture.weights.push_back({f.def.keys[k].key, weights[k] / sum, 1});
  f.def.mixture.chunk_size = 37;
  f.def.mixture.strict = false;
  return f;
}

inline std::vector<ChunkDescriptor> Drain(const Job& job) {
  std::vector<ChunkDescriptor> chunks;
  for (int64_t k = 0;; ++k) {
    auto reply = job.GetChunk(k);
    EXPECT_TRUE(reply.ok());
    if (reply->status != ChunkStatus::kChunk) {
      EXPECT_EQ(reply->status, ChunkStatus::kEnd);
      break;
    }
    EXPECT_EQ(reply->chunk.index, k);
    chunks.push_back(std::move(reply->chunk));
  }
  return chunks;
}

inline bool SameChunk(const ChunkDescriptor& a, const ChunkDescriptor& b) {
  if (a.index != b.index || a.mixture_id != b.mixture_id || a.partial != b.partial ||
      a.keys.size() != b.keys.size()) {
    return false;
  }
  for (size_t i = 0; i < a.keys.size(); ++i) {
    if (a.keys[i].key_id != b.keys[i].key_id ||
        !std::equal(a.keys[i].ranges.begin(), a.keys[i].ranges.end(), b.keys[i].ranges.begin(),
                    b.keys[i].ranges.end()) ||
        a.keys[i].num_samples != b.keys[i].num_samples) {
      return false;
    }
  }
  return true;
}

}  // namespace testing_util
}  // namespace mixtera::chunk
