#include "client/chunk_order.h"

namespace mixtera::client {

std::vector<int32_t> SmoothRoundRobin(const std::vector<int64_t>& counts) {
  int64_t total = 0;
  for (int64_t c : counts) total += c > 0 ? c : 0;
  std::vector<int32_t> order;
  order.reserve(static_cast<size_t>(total));
  // current[i] = t * counts[i] - total * taken[i] = total * deficit[i] (exact integers).
  std::vector<int64_t> current(counts.size(), 0);
  for (int64_t t = 0; t < total; ++t) {
    int32_t best = -1;
    for (size_t i = 0; i < counts.size(); ++i) {
      if (counts[i] <= 0) continue;
      current[i] += counts[i];
      if (best < 0 || current[i] > current[best]) best = static_cast<int32_t>(i);
    }
    current[best] -= total;
    order.push_back(best);
  }
  return order;
}

}  // namespace mixtera::client
