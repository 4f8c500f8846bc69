// The ranges of every number a user gives Mixtera — mixture and dataset spec fields, CLI
// flags, Python arguments — in one table (docs/reliability.md, "Limits"). Every entry point
// checks a number against its row here, so the same value is refused with the same message
// wherever it is given.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "mixtera/result.h"
#include "mixtera/status.h"

namespace mixtera::model {

// A closed range [min, max] for the number called `name`.
struct Limit {
  std::string_view name;
  int64_t min;
  int64_t max;
};

namespace limits {

// Large enough for any real run, small enough that every count derived from it is exact in
// a double (2^53) and cannot overflow int64 when multiplied by a small factor.
inline constexpr int64_t kMaxCount = int64_t{1} << 40;

inline constexpr Limit kChunkSize{"chunk_size", 1, kMaxCount};
inline constexpr Limit kShuffleBlock{"shuffle.block", 0, kMaxCount};
inline constexpr Limit kRepeat{"repeat", 1, int64_t{1} << 20};
inline constexpr Limit kLagChunks{"lag_chunks", 0, int64_t{1} << 20};
inline constexpr Limit kSequenceLength{"sequence_length", 0, int64_t{1} << 24};
inline constexpr Limit kDpGroups{"dp_groups", 1, int64_t{1} << 16};
inline constexpr Limit kNodesPerGroup{"nodes_per_group", 1, int64_t{1} << 16};
inline constexpr Limit kNumWorkers{"num_workers", 0, 1024};  // 0 and 1: one consumer per node
inline constexpr Limit kThreads{"threads", 0, 1024};
inline constexpr Limit kPrefetchChunks{"prefetch_chunks", 0, 1024};
inline constexpr Limit kChunkLimit{"limit", 0, std::numeric_limits<int64_t>::max()};

// Every row above, for the Python API and the docs' table.
inline constexpr Limit kAll[] = {kChunkSize,      kShuffleBlock,   kRepeat,        kLagChunks,
                                 kSequenceLength, kDpGroups,       kNodesPerGroup, kNumWorkers,
                                 kThreads,        kPrefetchChunks, kChunkLimit};

}  // namespace limits

// The row called `name`, or nullptr.
const Limit* FindLimit(std::string_view name);

// OK when limit.min <= value <= limit.max. Otherwise InvalidArgument
// "<field> must be in [min, max], got <value>", where `field` is how the caller's input names
// the number ("weights[1].repeat", "--dp-groups"; limit.name when empty).
Status CheckLimit(const Limit& limit, int64_t value, std::string_view field = {});

// A seed written as text (a CLI flag): a decimal integer in [0, 2^64) with nothing around it.
// Errors: InvalidArgument naming `name` and the text ("-1" and "18446744073709551616" are
// refused, not wrapped).
Result<uint64_t> ParseSeed(std::string_view text, std::string_view name = "seed");

}  // namespace mixtera::model
