// ADO — Adaptive Data Optimization (Jiang et al.), as the original Mixtera's AdoDynamicMixing
// computes it (reference/original-mixtera.md §4.3; docs/dynamic_mixing.md has every step).
//
// Per feedback call (one training step): the per-step average loss and the per-step count
// increment of every key id are recorded; from call `start_step` on (1-based), the scaling
// laws L_k(n) = ε_k + β_k·n^(−α_k) are refit (FitScalingLaw, all keys in parallel) at calls
// start_step, start_step + interval, ..., and every call returns a new mixture π from the
// laws' derivatives, the credit h, the prior μ (the initial mixture) and the running average
// π̄ (adjusted_v3 only every 15 steps after the client reported a new mixture, or after a
// refit). Before `start_step` it returns nullopt.
//
// Differences from the original, on inputs it could not handle: short feedback arrays are
// padded (the original failed); a key first sampled after the last refit has no law until the
// next one and gets no preference (the original failed); a key whose 384 starts all fail to
// converge, or whose fit data hold a loss <= 0, keeps the law (−1, −1, −1) and is reported in
// fit_failures() (the original raised and failed the feedback request); a first step with no
// tokens at all is accepted; after ResetState, feedback is still padded to every key the
// history knows.
//
// Thread safety: not thread-safe (DynamicMixingAlgorithm); refits use the object's own pool.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "mixture/dynamic_mixing.h"
#include "mixture/scaling_law.h"

namespace mixtera::mixture {

struct AdoOptions {
  std::string variant = "vanilla";  // vanilla | adjusted_v1 | adjusted_v2 | adjusted_v3
  double gamma1 = 0.1;              // smoothing of the credit h
  double gamma2 = 0.1;              // smoothing of the policy π
  double s = 0.5;                   // exponent on h
  double delta_min = 0.01;          // minimum probability of a sampled key
  int64_t scaling_law_update_interval = 1000;
  int64_t subsampling_interval = 10;
  int64_t ignore_initial_steps = 500;
  int64_t start_step = 1000;  // must exceed ignore_initial_steps
  bool savgol = true;
  bool use_same_step_size = true;
  std::optional<double> count_normalizer;  // x and n are divided by it when > 1
  int fit_threads = 0;                     // threads for a refit; 0: the hardware threads
  bool keep_log = false;                   // keep the original's debug log (LogJson)
};

// Checks the options. Errors: InvalidArgument naming the option and its allowed range.
Status ValidateAdoOptions(const AdoOptions& options);

class AdoDynamicMixing final : public DynamicMixingAlgorithm {
 public:
  // Errors: those of ValidateAdoOptions.
  static Result<std::unique_ptr<AdoDynamicMixing>> Create(AdoOptions options);

  const AdoOptions& options() const { return options_; }
  int64_t total_steps() const { return total_steps_; }
  // (log β, log ε, α) per key id after the last refit; empty before the first.
  const std::vector<ScalingLawParams>& scaling_law_params() const { return params_; }
  // The state vectors, empty before they exist (μ from the first call, the others from
  // start_step on).
  const std::vector<double>& mu() const { return mu_; }
  const std::vector<double>& h() const { return h_; }
  const std::vector<double>& pi() const { return pi_; }
  const std::vector<double>& pi_bar() const { return pi_bar_; }
  const std::vector<double>& rho() const { return rho_; }
  // Key ids whose last refit converged from no start.
  const std::vector<int>& fit_failures() const { return fit_failures_; }
  // Whether the original would write its log after the last call (every 5000 steps, and on
  // adjusted_v3's forced continues).
  bool log_due() const { return log_due_; }
  // The original's JSON debug log ({"config", "entries", "scaling_laws", "log_counts",
  // "mu_k"}); empty entries unless keep_log.
  std::string LogJson() const;

 protected:
  void UpdateState(std::span<const float> losses, std::span<const int64_t> counts) override;
  size_t KnownKeys() const override;
  Result<std::optional<std::vector<double>>> CalcMixture(bool updated_at_client) override;

 private:
  explicit AdoDynamicMixing(AdoOptions options);

  // Refits every key's law on the pool; params_ gets one row per key id.
  Status FitScalingLaws();
  // The fit data of key k (the original's preparation) and its fit; (−1, −1, −1) without data.
  Result<ScalingLawParams> FitKey(size_t k, std::string* log_entry);
  std::vector<double> LossDerivative() const;
  void UpdateCredit(int64_t elapsed_steps);
  void AppendLogEntry(bool full, const std::vector<double>& dl_dn);

  AdoOptions options_;
  std::unique_ptr<ThreadPool> pool_;
  int64_t total_steps_ = 0;
  int64_t last_update_step_ = 0;
  std::optional<int64_t> next_continue_at_;
  bool handed_out_first_update_ = false;
  bool log_due_ = false;
  std::vector<double> mu_, h_, pi_, pi_bar_, rho_;
  std::vector<ScalingLawParams> params_;
  std::vector<int> fit_failures_;
  // Per call (row) and key id: the average loss (float32, as the original) and the count
  // increment.
  std::vector<std::vector<float>> step_losses_;
  std::vector<std::vector<int64_t>> step_counts_;
  std::vector<int64_t> step_count_totals_;  // per key id: the sum of its step_counts_ column
  // The debug log (keep_log): JSON texts, joined by LogJson.
  std::vector<std::string> log_entries_;
  std::vector<std::string> log_scaling_laws_;
  std::vector<std::string> log_counts_;
};

}  // namespace mixtera::mixture
