// Integer apportionment by the largest-remainder method (DESIGN.md §3.4).
#pragma once

#include <cstdint>
#include <vector>

namespace mixtera::mixture {

// Splits `total` into integer parts proportional to `weights` (each >= 0, not all 0 unless
// total == 0): floor(total * w_i / sum) each, then one more to the parts with the largest
// fractional remainders; ties go to the lower index. The parts sum to `total` exactly.
// Requires 0 <= total <= 2^53 (quotas are exact in doubles only that far).
std::vector<int64_t> LargestRemainder(int64_t total, const std::vector<double>& weights);

// The same for integer weights, computed exactly (no floating point), e.g. to split a
// count by the remaining sizes of components.
std::vector<int64_t> LargestRemainderExact(int64_t total, const std::vector<int64_t>& weights);

}  // namespace mixtera::mixture
