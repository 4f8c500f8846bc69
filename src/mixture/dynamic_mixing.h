// Dynamic mixing algorithms (DESIGN.md §3.4, §3.8; reference/original-mixtera.md §4.2): an
// algorithm turns per-key training feedback — for one training step, the sum of the losses and
// the number of tokens (or samples) of each key id — into a new mixture over key ids, or
// keeps the current one.
//
//   AdoDynamicMixing ado(AdoOptions{});            // or SimpleAveraging
//   ado.set_initial_mixture({0.5, 0.5});
//   MIXTERA_ASSIGN_OR_RETURN(std::optional<std::vector<double>> next,
//                            ado.ProcessLosses(losses, counts, mixture_id));
//   if (next) ...  // the new distribution over key ids (sums to 1)
//
// The base class keeps what every algorithm needs, as the original's DynamicMixingAlgorithm:
// the cumulative loss sums (float32, accumulated in float32 as the original does) and counts
// (int64) per key id, the initial mixture, and the largest mixture id reported so far.
// Feedback arrays shorter than the number of keys known (seen before, or in the initial
// mixture) are padded with zeros (keys not sampled in the step; the original's ADO failed on
// them); longer ones add keys.
//
// Pure code: no I/O, deterministic (the same calls give the same bits on any thread count).
// Thread safety: not thread-safe; one caller at a time (the job's owner serializes feedback).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mixtera/result.h"

namespace mixtera::mixture {

class DynamicMixingAlgorithm {
 public:
  virtual ~DynamicMixingAlgorithm() = default;

  // The prior over key ids (the job's initial mixture, normalized by the caller).
  const std::vector<double>& initial_mixture() const { return initial_mixture_; }
  void set_initial_mixture(std::vector<double> mixture) { initial_mixture_ = std::move(mixture); }

  // Cumulative feedback per key id.
  const std::vector<float>& losses() const { return losses_; }
  const std::vector<int64_t>& counts() const { return counts_; }
  int64_t last_received_mixture() const { return last_received_mixture_; }

  // One training step's feedback. `updated_at_client` (for CalcMixture) is whether
  // `mixture_id` is larger than every id reported before. Returns the new mixture over key ids
  // (one weight per key id seen, summing to 1), or nullopt to keep the current one.
  // Errors: InvalidArgument when losses and counts differ in length, a loss is not finite, a
  // count is negative, or mixture_id < 0 — the state is then unchanged; errors of CalcMixture
  // (after the state was updated).
  Result<std::optional<std::vector<double>>> ProcessLosses(std::span<const float> losses,
                                                           std::span<const int64_t> counts,
                                                           int64_t mixture_id);

  // Clears the cumulative losses and counts (as the original's reset_state; an algorithm's
  // own state is kept).
  void ResetState();

 protected:
  // Adds one step's feedback to the cumulative state (arrays already checked). Subclasses
  // that keep per-step history extend it and call the base first.
  virtual void UpdateState(std::span<const float> losses, std::span<const int64_t> counts);
  // Keys an algorithm's own state knows of (feedback is padded to at least this many).
  virtual size_t KnownKeys() const { return 0; }
  virtual Result<std::optional<std::vector<double>>> CalcMixture(bool updated_at_client) = 0;

  std::vector<double> initial_mixture_;
  std::vector<float> losses_;
  std::vector<int64_t> counts_;
  int64_t last_received_mixture_ = -1;
};

// The original's SimpleAveragingAlgorithm: after every step, the mixture is proportional to
// each sampled key's average loss (cumulative loss sum / count; float32 as the original),
// uniform over the sampled keys when all averages are 0; nullopt while no key was sampled.
class SimpleAveraging final : public DynamicMixingAlgorithm {
 protected:
  Result<std::optional<std::vector<double>>> CalcMixture(bool updated_at_client) override;
};

}  // namespace mixtera::mixture
