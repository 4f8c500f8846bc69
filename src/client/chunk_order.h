// The order of a chunk's items across keys (DESIGN.md §3.6): a deterministic smooth weighted
// round-robin, so every prefix of a chunk holds each key's share to within one item.
//
// Thread safety: pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mixtera::client {

// Returns a sequence of key indices of length sum(counts) in which key i appears counts[i]
// times. Step t (1-based) takes the key whose deficit t * counts[i] / total - taken[i] is
// largest (the lowest index among equal deficits), which keeps |taken[i] - t * counts[i] /
// total| < 1 for every prefix t. Negative counts count as 0.
std::vector<int32_t> SmoothRoundRobin(const std::vector<int64_t>& counts);

}  // namespace mixtera::client
