// MixtureSpec: what a user asks for in a mixture (DESIGN.md §3.4), as parsed from a mixture
// file (mixture::ParseMixtureSpec) or built by the Python mixture classes. Plain values; the
// mixture module resolves keys against a query's components and the chunk module plans.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/predicate.h"

namespace mixtera::model {

enum class MixtureType : uint8_t {
  kStatic,        // weights over keys
  kInferring,     // keys = components, weights = their natural proportions
  kArbitrary,     // no proportions: components in order, chunk after chunk
  kHierarchical,  // a weight tree, flattened into static weights when parsed
  kSchedule,      // static mixtures switched at chunk indices
  kDynamic,       // an initial static mixture changed later through feedback
};
// "static", "inferring", "arbitrary", "hierarchical", "schedule", "dynamic".
const char* MixtureTypeName(MixtureType type);

enum class ChunkUnit : uint8_t { kSamples, kTokens };
const char* ChunkUnitName(ChunkUnit unit);

// {prop: [values], ...}: matches a component when, for every named property, the
// component's value (or one of its list values) is among the key's values. Properties are
// kept sorted by name; values in the order written.
struct MixtureKey {
  std::vector<std::pair<std::string, std::vector<Literal>>> properties;

  bool operator==(const MixtureKey& o) const = default;
};

struct MixtureWeight {
  MixtureKey key;
  double weight = 0;
  // Epochs of the key's data the job may use (>= 1). More than 1 reuses the data,
  // reshuffled per epoch when the mixture shuffles.
  int64_t repeat = 1;
};

// One entry of a schedule: from chunk `start_chunk` on, `weights` apply.
struct ScheduleEntry {
  int64_t start_chunk = 0;
  std::vector<MixtureWeight> weights;
};

struct MixtureSpec {
  MixtureType type = MixtureType::kStatic;
  int64_t chunk_size = 1024;
  ChunkUnit unit = ChunkUnit::kSamples;
  // true: the stream ends at the first chunk that cannot be filled. false (best effort): the
  // missing share goes to the other keys; only the very last chunk may be partial.
  bool strict = true;
  uint64_t seed = 0;
  // Seeded block shuffle within each component: blocks of this many samples (in file
  // order) are permuted. 0 = no shuffle (file order).
  int64_t shuffle_block = 0;
  // Grouping properties for inferring / arbitrary mixtures. Empty = the default (every
  // string, enum and bool property of the matching datasets).
  std::vector<std::string> group_by;
  // Static, hierarchical (flattened), dynamic (initial weights). For a schedule: the first
  // entry's weights.
  std::vector<MixtureWeight> weights;
  // Schedule only: entries sorted by start_chunk, the first one starting at 0.
  std::vector<ScheduleEntry> schedule;
  // Dynamic only: how many chunks read-ahead may run past a consumer's position; a mixture
  // change then lands this many chunks later (docs/mixtures.md, "Live jobs").
  int64_t lag_chunks = 0;
};

}  // namespace mixtera::model
