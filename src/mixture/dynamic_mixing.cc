#include "mixture/dynamic_mixing.h"

#include <algorithm>
#include <cmath>

#include "base/macros.h"
#include "base/strings.h"

namespace mixtera::mixture {

Result<std::optional<std::vector<double>>> DynamicMixingAlgorithm::ProcessLosses(
    std::span<const float> losses, std::span<const int64_t> counts, int64_t mixture_id) {
  if (losses.size() != counts.size()) {
    return Status::InvalidArgument(StrCat("feedback: ", losses.size(), " losses but ",
                                          counts.size(), " counts (one of each per key id)"));
  }
  if (mixture_id < 0) {
    return Status::InvalidArgument(StrCat("feedback: mixture id ", mixture_id, " is negative"));
  }
  for (size_t k = 0; k < losses.size(); ++k) {
    if (!std::isfinite(losses[k])) {
      return Status::InvalidArgument(
          StrCat("feedback: the loss of key id ", k, " is ", losses[k], " (must be finite)"));
    }
    if (counts[k] < 0) {
      return Status::InvalidArgument(
          StrCat("feedback: the count of key id ", k, " is ", counts[k], " (must be >= 0)"));
    }
  }
  const bool updated_at_client = mixture_id > last_received_mixture_;
  if (updated_at_client) last_received_mixture_ = mixture_id;
  // Pad a short step to the keys known so far (seen, or in the initial mixture): the keys it
  // leaves out were not sampled.
  const size_t n = std::max({losses.size(), losses_.size(), initial_mixture_.size(), KnownKeys()});
  std::vector<float> padded_losses(losses.begin(), losses.end());
  std::vector<int64_t> padded_counts(counts.begin(), counts.end());
  padded_losses.resize(n, 0.0f);
  padded_counts.resize(n, 0);
  UpdateState(padded_losses, padded_counts);
  return CalcMixture(updated_at_client);
}

void DynamicMixingAlgorithm::UpdateState(std::span<const float> losses,
                                         std::span<const int64_t> counts) {
  if (losses_.size() < losses.size()) {
    losses_.resize(losses.size(), 0.0f);
    counts_.resize(counts.size(), 0);
  }
  for (size_t k = 0; k < losses.size(); ++k) {
    losses_[k] += losses[k];
    counts_[k] += counts[k];
  }
}

void DynamicMixingAlgorithm::ResetState() {
  losses_.clear();
  counts_.clear();
}

Result<std::optional<std::vector<double>>> SimpleAveraging::CalcMixture(bool) {
  const size_t n = counts_.size();
  std::vector<float> average(n, 0.0f);
  size_t sampled = 0;
  float total = 0.0f;
  for (size_t k = 0; k < n; ++k) {
    if (counts_[k] <= 0) continue;
    ++sampled;
    average[k] =
        static_cast<float>(static_cast<double>(losses_[k]) / static_cast<double>(counts_[k]));
    total += average[k];
  }
  if (sampled == 0) return std::optional<std::vector<double>>();
  std::vector<float> mixture(n, 0.0f);
  for (size_t k = 0; k < n; ++k) {
    if (counts_[k] <= 0) continue;
    mixture[k] = total == 0.0f ? 1.0f / static_cast<float>(sampled) : average[k] / total;
  }
  float sum = 0.0f;
  for (float w : mixture) sum += w;
  std::vector<double> out(n);
  for (size_t k = 0; k < n; ++k) out[k] = sum != 0.0f ? mixture[k] / sum : mixture[k];
  return std::optional<std::vector<double>>(std::move(out));
}

}  // namespace mixtera::mixture
