#include "mixture/ado.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/macros.h"
#include "base/strings.h"
#include "mixture/savgol.h"

namespace mixtera::mixture {
namespace {

using nlohmann::json;

constexpr int64_t kLogEvery = 5000;
constexpr int64_t kAdjustedV3Slack = 15;
constexpr int kSavgolMaxWindow = 101;
constexpr int kSavgolOrder = 3;

double Sum(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum;
}

void DivideBy(std::vector<double>* v, double d) {
  for (double& x : *v) x /= d;
}

template <typename T>
void PadTo(std::vector<T>* v, size_t n) {
  if (!v->empty() && v->size() < n) v->resize(n, T{0});
}

// The original's fallback: μ / K (not normalized: it sums to 1 / K).
std::vector<double> PriorOverKeys(const std::vector<double>& mu, size_t keys) {
  std::vector<double> out = mu;
  DivideBy(&out, static_cast<double>(keys));
  return out;
}

}  // namespace

Status ValidateAdoOptions(const AdoOptions& o) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("ADO: " + what); };
  if (o.variant != "vanilla" && o.variant != "adjusted_v1" && o.variant != "adjusted_v2" &&
      o.variant != "adjusted_v3") {
    return bad(StrCat("variant '", o.variant,
                      "' is not one of vanilla, adjusted_v1, adjusted_v2, adjusted_v3"));
  }
  for (auto [name, v] : {std::pair<const char*, double>{"gamma1", o.gamma1},
                         {"gamma2", o.gamma2},
                         {"delta_min", o.delta_min}}) {
    if (!(v >= 0 && v <= 1)) return bad(StrCat(name, " must be in [0, 1], got ", v));
  }
  if (!(o.s >= 0) || !std::isfinite(o.s)) return bad(StrCat("s must be >= 0, got ", o.s));
  if (o.scaling_law_update_interval < 1) {
    return bad(
        StrCat("scaling_law_update_interval must be >= 1, got ", o.scaling_law_update_interval));
  }
  if (o.subsampling_interval < 1) {
    return bad(StrCat("subsampling_interval must be >= 1, got ", o.subsampling_interval));
  }
  if (o.ignore_initial_steps < 0) {
    return bad(StrCat("ignore_initial_steps must be >= 0, got ", o.ignore_initial_steps));
  }
  if (o.start_step <= o.ignore_initial_steps) {
    return bad(StrCat("start_step (", o.start_step, ") must be bigger than ignore_initial_steps (",
                      o.ignore_initial_steps, ")"));
  }
  if (o.count_normalizer && !(std::isfinite(*o.count_normalizer) && *o.count_normalizer >= 0)) {
    return bad(StrCat("count_normalizer must be None or >= 0, got ", *o.count_normalizer));
  }
  if (o.fit_threads < 0) return bad(StrCat("fit_threads must be >= 0, got ", o.fit_threads));
  return Status::OK();
}

AdoDynamicMixing::AdoDynamicMixing(AdoOptions options) : options_(std::move(options)) {
  const size_t threads = options_.fit_threads > 0 ? static_cast<size_t>(options_.fit_threads)
                                                  : ThreadPool::HardwareThreads();
  pool_ = std::make_unique<ThreadPool>(threads);
}

Result<std::unique_ptr<AdoDynamicMixing>> AdoDynamicMixing::Create(AdoOptions options) {
  MIXTERA_RETURN_IF_ERROR(ValidateAdoOptions(options));
  return std::unique_ptr<AdoDynamicMixing>(new AdoDynamicMixing(std::move(options)));
}

void AdoDynamicMixing::UpdateState(std::span<const float> losses, std::span<const int64_t> counts) {
  const size_t n = losses.size();  // padded: >= every stored length
  if (options_.keep_log) {
    log_counts_.push_back(json(std::vector<int64_t>(counts.begin(), counts.end())).dump());
  }
  DynamicMixingAlgorithm::UpdateState(losses, counts);
  for (std::vector<double>* v : {&h_, &mu_, &pi_, &pi_bar_}) PadTo(v, n);
  for (auto& row : step_counts_) row.resize(n, 0);
  for (auto& row : step_losses_) row.resize(n, 0.0f);
  std::vector<float> average(n, 0.0f);
  for (size_t k = 0; k < n; ++k) {
    if (counts[k] != 0) {
      average[k] =
          static_cast<float>(static_cast<double>(losses[k]) / static_cast<double>(counts[k]));
    }
  }
  step_losses_.push_back(std::move(average));
  std::vector<int64_t> increment(n, 0);
  if (options_.use_same_step_size) {
    // Every key sampled so far advances by the step's total tokens.
    int64_t total = 0;
    for (int64_t c : counts) total += c;
    for (size_t k = 0; k < n; ++k) {
      if (counts_[k] > 0) increment[k] = total;
    }
  } else {
    increment.assign(counts.begin(), counts.end());
  }
  step_count_totals_.resize(n, 0);
  for (size_t k = 0; k < n; ++k) step_count_totals_[k] += increment[k];
  step_counts_.push_back(std::move(increment));
}

size_t AdoDynamicMixing::KnownKeys() const {
  return std::max(step_counts_.empty() ? size_t{0} : step_counts_.back().size(), mu_.size());
}

Result<std::optional<std::vector<double>>> AdoDynamicMixing::CalcMixture(bool updated_at_client) {
  log_due_ = false;
  ++total_steps_;
  const size_t keys = counts_.size();
  if (mu_.empty()) {
    double sum = Sum(initial_mixture_);
    if (initial_mixture_.empty() || !(std::fabs(sum - 1) <= 1e-8 + 1e-5)) {
      return Status::FailedPrecondition(
          StrCat("ADO: the initial mixture must be set and sum to 1 (has ", initial_mixture_.size(),
                 " weights summing to ", sum, ")"));
    }
    mu_ = initial_mixture_;
    mu_.resize(keys, 0.0);
  }
  if (total_steps_ < options_.start_step) {
    if (options_.keep_log) AppendLogEntry(false, {});
    log_due_ = total_steps_ % kLogEvery == 0;
    return std::optional<std::vector<double>>();
  }
  if (h_.empty()) h_ = mu_;
  bool refit = false;
  if ((total_steps_ - options_.start_step) % options_.scaling_law_update_interval == 0) {
    MIXTERA_RETURN_IF_ERROR(FitScalingLaws());
    refit = true;
  }
  bool force_log = false;
  if (options_.variant == "adjusted_v3" && handed_out_first_update_) {
    if (updated_at_client) next_continue_at_ = total_steps_ + kAdjustedV3Slack;
    const bool go_on = (next_continue_at_ && total_steps_ == *next_continue_at_) || refit;
    if (!go_on) return std::optional<std::vector<double>>();
    force_log = true;
  }
  const std::vector<double> dl_dn = LossDerivative();
  // Preference ρ ∝ max(0, μ · h^s · (−dL/dn)).
  std::vector<double> num(keys, 0.0);
  for (size_t k = 0; k < keys; ++k) {
    num[k] = std::max(mu_[k] * std::pow(h_[k], options_.s) * (-dl_dn[k]), 0.0);
  }
  const double num_sum = Sum(num);
  if (num_sum > 0) {
    rho_ = num;
    DivideBy(&rho_, num_sum);
  } else {
    rho_ = PriorOverKeys(mu_, keys);
  }
  // Policy π = γ2 ρ + (1 − γ2) π̄, normalized.
  if (pi_bar_.empty()) pi_bar_ = mu_;
  pi_.assign(keys, 0.0);
  for (size_t k = 0; k < keys; ++k) {
    pi_[k] = options_.gamma2 * rho_[k] + (1 - options_.gamma2) * pi_bar_[k];
  }
  DivideBy(&pi_, Sum(pi_));
  // Minimum probability for keys sampled so far, then one renormalization.
  std::vector<double> clipped = pi_;
  for (size_t k = 0; k < keys; ++k) {
    if (counts_[k] > 0) clipped[k] = std::max(clipped[k], options_.delta_min);
  }
  const double clipped_sum = Sum(clipped);
  if (clipped_sum == 0) {
    pi_ = PriorOverKeys(mu_, keys);
  } else {
    DivideBy(&clipped, clipped_sum);
    pi_ = std::move(clipped);
  }
  // Credit.
  if (options_.variant == "vanilla" || options_.variant == "adjusted_v3") {
    UpdateCredit(1);
  } else if (updated_at_client) {
    UpdateCredit(options_.variant == "adjusted_v2" ? total_steps_ - last_update_step_ : 1);
  }
  // History π̄ = w ρ + (1 − w) π̄, w = 1 / (t + 1), normalized.
  const double w = 1.0 / (static_cast<double>(total_steps_) + 1.0);
  for (size_t k = 0; k < keys; ++k) pi_bar_[k] = w * rho_[k] + (1 - w) * pi_bar_[k];
  DivideBy(&pi_bar_, Sum(pi_bar_));
  if (options_.keep_log) AppendLogEntry(true, dl_dn);
  handed_out_first_update_ = true;
  log_due_ = total_steps_ % kLogEvery == 0 || force_log;
  return std::optional<std::vector<double>>(pi_);
}

void AdoDynamicMixing::UpdateCredit(int64_t elapsed_steps) {
  double g = options_.gamma1;
  if (options_.variant == "adjusted_v2" && elapsed_steps > 1) {
    g = 1 - std::pow(1 - options_.gamma1, static_cast<double>(elapsed_steps));
  }
  for (size_t k = 0; k < h_.size(); ++k) h_[k] = g * pi_[k] + (1 - g) * h_[k];
  last_update_step_ = total_steps_;
}

std::vector<double> AdoDynamicMixing::LossDerivative() const {
  const size_t keys = counts_.size();
  std::vector<double> n(keys, 0.0);
  if (options_.use_same_step_size) {
    // The sum of the key's count increments over all steps (kept as the steps come, exact
    // in int64 as the original's sum over its history).
    for (size_t k = 0; k < keys && k < step_count_totals_.size(); ++k) {
      n[k] = static_cast<double>(step_count_totals_[k]);
    }
  } else {
    for (size_t k = 0; k < keys; ++k) n[k] = static_cast<double>(counts_[k]);
  }
  const bool normalize = options_.count_normalizer && *options_.count_normalizer > 1;
  std::vector<double> dl_dn(keys, 0.0);
  for (size_t k = 0; k < keys; ++k) {
    if (normalize) n[k] /= *options_.count_normalizer;
    // A key first sampled after the last refit has no law yet: no preference.
    const ScalingLawParams p = k < params_.size() ? params_[k] : ScalingLawParams{-1, -1, -1};
    dl_dn[k] = ScalingLawDerivative(p, n[k]);
  }
  return dl_dn;
}

Result<ScalingLawParams> AdoDynamicMixing::FitKey(size_t k, std::string* log_entry) {
  const size_t steps = step_counts_.size();
  std::vector<int64_t> counts(steps);
  std::vector<double> losses(steps);
  std::vector<int64_t> index(steps);
  int64_t cumulative = 0;
  for (size_t t = 0; t < steps; ++t) {
    cumulative += step_counts_[t][k];
    counts[t] = cumulative;
    losses[t] = step_losses_[t][k];
    index[t] = static_cast<int64_t>(t);
  }
  if (options_.use_same_step_size) {
    // A step without tokens of the key repeats its previous loss.
    for (size_t t = 1; t < steps; ++t) {
      if (losses[t] == 0) losses[t] = losses[t - 1];
    }
  } else {
    size_t kept = 0;
    for (size_t t = 0; t < steps; ++t) {
      if (losses[t] > 0) {
        counts[kept] = counts[t];
        losses[kept] = losses[t];
        index[kept] = index[t];
        ++kept;
      }
    }
    counts.resize(kept);
    losses.resize(kept);
    index.resize(kept);
  }
  std::optional<int> window;
  if (options_.savgol) {
    int w = static_cast<int>(std::min<size_t>(kSavgolMaxWindow, losses.size()));
    if (w % 2 == 0) --w;
    window = w;
    if (w > kSavgolOrder) {
      MIXTERA_ASSIGN_OR_RETURN(losses, SavitzkyGolay(losses, w, kSavgolOrder));
      for (double& l : losses) l = static_cast<float>(l);  // the original's float32 result
    }
  }
  std::vector<double> x, y, raw_x;
  std::vector<int64_t> kept_steps;
  int64_t seen = 0;
  for (size_t t = 0; t < losses.size(); ++t) {
    if (counts[t] <= 0 || index[t] <= options_.ignore_initial_steps) continue;
    if (seen++ % options_.subsampling_interval != 0) continue;
    raw_x.push_back(static_cast<double>(counts[t]));
    y.push_back(losses[t]);
    kept_steps.push_back(index[t]);
  }
  json entry = {{"step", total_steps_}, {"domain_index", k}};
  if (raw_x.empty()) {
    entry["error"] = "Too little data to fit scaling laws.";
    if (log_entry != nullptr) *log_entry = entry.dump();
    return ScalingLawParams{-1, -1, -1};
  }
  x = raw_x;
  if (options_.count_normalizer && *options_.count_normalizer > 1) {
    for (double& v : x) v /= *options_.count_normalizer;
  }
  Result<ScalingLawFit> fitted = FitScalingLaw(x, y);
  if (!fitted.ok()) {
    // Points the law cannot describe (a smoothed loss <= 0): no law for this key.
    entry["error"] = fitted.status().message();
    if (log_entry != nullptr) *log_entry = entry.dump();
    return Status::Unavailable(StrCat("key id ", k, ": ", fitted.status().message()));
  }
  const ScalingLawFit& fit = *fitted;
  if (log_entry != nullptr) {
    entry["counts_k"] = raw_x;
    entry["losses_k"] = y;
    entry["x_data"] = x;
    entry["y_data"] = y;
    entry["steps_k"] = kept_steps;
    entry["best_params"] = fit.params;
    entry["window_length"] = window ? json(*window) : json(nullptr);
    entry["best_loss"] = fit.success ? json(fit.loss) : json(nullptr);
    entry["applied_savgol"] = window.has_value() && *window > kSavgolOrder;
    entry["subsampled"] = options_.subsampling_interval > 1;
    *log_entry = entry.dump();
  }
  if (!fit.success) return Status::Unavailable(StrCat("no start converged for key id ", k));
  return fit.params;
}

Status AdoDynamicMixing::FitScalingLaws() {
  const size_t keys = counts_.size();
  std::vector<Result<ScalingLawParams>> results(keys, Status::Internal("not run"));
  std::vector<std::string> logs(keys);
  for (size_t k = 0; k < keys; ++k) {
    pool_->Submit([this, k, &results, &logs] {
      results[k] = FitKey(k, options_.keep_log ? &logs[k] : nullptr);
    });
  }
  pool_->Wait();
  // The laws change only when every key's fit is done (a failure leaves the old table).
  std::vector<ScalingLawParams> params(keys, ScalingLawParams{-1, -1, -1});
  std::vector<int> failures;
  for (size_t k = 0; k < keys; ++k) {
    if (results[k].ok()) {
      params[k] = *results[k];
    } else if (results[k].status().code() == StatusCode::kUnavailable) {
      failures.push_back(static_cast<int>(k));
    } else {
      return Status(results[k].status().code(),
                    StrCat("ADO: refit at step ", total_steps_, ", key id ", k, ": ",
                           results[k].status().message()));
    }
  }
  params_ = std::move(params);
  fit_failures_ = std::move(failures);
  if (options_.keep_log) {
    for (std::string& log : logs) log_scaling_laws_.push_back(std::move(log));
  }
  return Status::OK();
}

void AdoDynamicMixing::AppendLogEntry(bool full, const std::vector<double>& dl_dn) {
  json entry = {{"step", total_steps_},
                {"counts", counts_},
                {"losses", std::vector<double>(losses_.begin(), losses_.end())}};
  if (full) {
    entry["h_t"] = h_;
    entry["pi_t"] = pi_;
    entry["pi_bar_t_minus_1"] = pi_bar_;
    entry["rho_t"] = rho_;
    entry["dL_dn"] = dl_dn;
    entry["scaling_law_params"] = params_;
  }
  log_entries_.push_back(entry.dump());
}

std::string AdoDynamicMixing::LogJson() const {
  json config = {{"variant", options_.variant},
                 {"gamma1", options_.gamma1},
                 {"gamma2", options_.gamma2},
                 {"s", options_.s},
                 {"delta_min", options_.delta_min},
                 {"scaling_law_update_interval", options_.scaling_law_update_interval},
                 {"subsampling_interval", options_.subsampling_interval},
                 {"ignore_initial_steps", options_.ignore_initial_steps},
                 {"savgol", options_.savgol}};
  auto list = [](const std::vector<std::string>& texts) {
    json out = json::array();
    for (const std::string& t : texts) out.push_back(json::parse(t));
    return out;
  };
  json log = {{"config", config},
              {"entries", list(log_entries_)},
              {"scaling_laws", list(log_scaling_laws_)},
              {"log_counts", list(log_counts_)},
              {"mu_k", mu_.empty() ? json(nullptr) : json(mu_)}};
  return log.dump(4);
}

}  // namespace mixtera::mixture
