#include "mixture/dynamic_mixing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "mixture/ado.h"
#include "testing/test_util.h"

namespace mixtera::mixture {
namespace {

using Mixture = std::optional<std::vector<double>>;

TEST(SimpleAveraging, MixtureFollowsTheAverageLossOfSampledKeys) {
  SimpleAveraging alg;
  // Loss sums 20 and 10 over 10 tokens each: averages 2 and 1 -> 2/3, 1/3; key 2 unsampled.
  ASSERT_OK_AND_ASSIGN(Mixture m, alg.ProcessLosses(std::vector<float>{20, 10, 0},
                                                    std::vector<int64_t>{10, 10, 0}, 0));
  ASSERT_TRUE(m.has_value());
  EXPECT_NEAR((*m)[0], 2.0 / 3, 1e-7);
  EXPECT_NEAR((*m)[1], 1.0 / 3, 1e-7);
  EXPECT_EQ((*m)[2], 0.0);
  // Cumulative: (20 + 0) / 10 = 2, (10 + 30) / 20 = 2, key 2 now 4 / 2 = 2: uniform thirds.
  // A short array (2 keys) is padded: key 2 gets nothing this step.
  ASSERT_OK_AND_ASSIGN(Mixture thirds, alg.ProcessLosses(std::vector<float>{0, 30, 4},
                                                         std::vector<int64_t>{0, 10, 2}, 1));
  ASSERT_TRUE(thirds.has_value());
  EXPECT_EQ(thirds->size(), 3u);
  for (size_t k = 0; k < thirds->size(); ++k) EXPECT_NEAR(thirds->at(k), 1.0 / 3, 1e-7);
  ASSERT_OK(alg.ProcessLosses(std::vector<float>{0}, std::vector<int64_t>{0}, 1).status());
  EXPECT_EQ(alg.counts(), (std::vector<int64_t>{10, 20, 2}));
  EXPECT_EQ(alg.last_received_mixture(), 1);
}

TEST(SimpleAveraging, NothingSampledKeepsTheMixtureAndZeroAveragesAreUniform) {
  SimpleAveraging alg;
  ASSERT_OK_AND_ASSIGN(Mixture m,
                       alg.ProcessLosses(std::vector<float>{0, 0}, std::vector<int64_t>{0, 0}, 0));
  EXPECT_FALSE(m.has_value());
  ASSERT_OK_AND_ASSIGN(
      m, alg.ProcessLosses(std::vector<float>{0, 0, 0}, std::vector<int64_t>{5, 0, 5}, 0));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, (std::vector<double>{0.5, 0.0, 0.5}));
}

TEST(DynamicMixing, BadFeedbackIsAnErrorAndChangesNothing) {
  SimpleAveraging alg;
  ASSERT_OK(alg.ProcessLosses(std::vector<float>{1, 1}, std::vector<int64_t>{1, 1}, 0).status());
  EXPECT_STATUS(alg.ProcessLosses(std::vector<float>{NAN, 1}, std::vector<int64_t>{1, 1}, 3),
                StatusCode::kInvalidArgument, "loss of key id 0 is nan");
  EXPECT_STATUS(alg.ProcessLosses(std::vector<float>{1, INFINITY}, std::vector<int64_t>{1, 1}, 3),
                StatusCode::kInvalidArgument, "key id 1");
  EXPECT_STATUS(alg.ProcessLosses(std::vector<float>{1, 1}, std::vector<int64_t>{1, -2}, 3),
                StatusCode::kInvalidArgument, "count of key id 1 is -2");
  EXPECT_STATUS(alg.ProcessLosses(std::vector<float>{1}, std::vector<int64_t>{1, 1}, 3),
                StatusCode::kInvalidArgument, "1 losses but 2 counts");
  EXPECT_STATUS(alg.ProcessLosses(std::vector<float>{1}, std::vector<int64_t>{1}, -1),
                StatusCode::kInvalidArgument, "mixture id -1");
  EXPECT_EQ(alg.counts(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(alg.losses(), (std::vector<float>{1, 1}));
  EXPECT_EQ(alg.last_received_mixture(), 0);
}

TEST(Ado, OptionsAreValidated) {
  AdoOptions o;
  o.start_step = 500;
  EXPECT_STATUS(AdoDynamicMixing::Create(o).status(), StatusCode::kInvalidArgument,
                "start_step (500) must be bigger than ignore_initial_steps (500)");
  o = AdoOptions{};
  o.variant = "adjusted_v9";
  EXPECT_STATUS(AdoDynamicMixing::Create(o).status(), StatusCode::kInvalidArgument, "adjusted_v9");
  o = AdoOptions{};
  o.gamma2 = 1.5;
  EXPECT_STATUS(AdoDynamicMixing::Create(o).status(), StatusCode::kInvalidArgument, "gamma2");
}

// Small ADO settings: refits at calls 6, 11, ...; points of calls > 3 (0-based index > 2).
AdoOptions SmallAdo() {
  AdoOptions o;
  o.start_step = 6;
  o.ignore_initial_steps = 2;
  o.scaling_law_update_interval = 5;
  o.subsampling_interval = 1;
  o.savgol = false;
  o.fit_threads = 1;
  return o;
}

// Key 0's loss falls like a power law of its tokens (100 per step); key 1 is sampled only in
// the first step (index 0, ignored by the fit), so without use_same_step_size (no forward
// fill of its loss) it has no law and no preference.
void Feed(AdoDynamicMixing* ado, int step, Mixture* out, int64_t mixture_id = 0) {
  const double n = 100.0 * (step + 1);
  const float loss0 = static_cast<float>(100.0 * (1.8 + 3.0 * std::pow(n, -0.4)));
  std::vector<float> losses = {loss0, step == 0 ? 50.0f : 0.0f};
  std::vector<int64_t> counts = {100, step == 0 ? 10 : 0};
  ASSERT_OK_AND_ASSIGN(*out, ado->ProcessLosses(losses, counts, mixture_id));
}

TEST(Ado, WarmUpThenTheFormulasOfTheFirstSteps) {
  AdoOptions o = SmallAdo();
  o.delta_min = 0.01;
  o.use_same_step_size = false;
  ASSERT_OK_AND_ASSIGN(auto ado, AdoDynamicMixing::Create(o));
  ado->set_initial_mixture({0.999, 0.001});
  Mixture m;
  for (int step = 0; step < 5; ++step) {
    ASSERT_NO_FATAL_FAILURE(Feed(ado.get(), step, &m));
    EXPECT_FALSE(m.has_value()) << "call " << step + 1 << " is before start_step 6";
  }
  ASSERT_NO_FATAL_FAILURE(Feed(ado.get(), 5, &m));
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(ado->scaling_law_params().size(), 2u);
  EXPECT_EQ(ado->scaling_law_params()[1], (ScalingLawParams{-1, -1, -1}));
  // Key 0's law decreases, so its preference is positive and key 1's is 0: ρ = (1, 0).
  EXPECT_EQ(ado->rho(), (std::vector<double>{1.0, 0.0}));
  // π = 0.1 ρ + 0.9 μ = (0.9991, 0.0009); key 1 was sampled: raised to δ = 0.01, renormalized.
  const double p0 = 0.1 + 0.9 * 0.999, p1 = 0.9 * 0.001;
  const double sum = p0 + std::max(p1, 0.01);
  EXPECT_NEAR((*m)[0], p0 / sum, 1e-12);
  EXPECT_NEAR((*m)[1], 0.01 / sum, 1e-12);
  // h = 0.1 π + 0.9 μ; π̄ = w ρ + (1 - w) μ with w = 1 / (6 + 1).
  EXPECT_NEAR(ado->h()[0], 0.1 * (p0 / sum) + 0.9 * 0.999, 1e-12);
  const double w = 1.0 / 7;
  EXPECT_NEAR(ado->pi_bar()[0], w + (1 - w) * 0.999, 1e-12);
  // The next call uses the updated π̄: π = 0.1 ρ + 0.9 π̄, then the same clip.
  const double bar0 = ado->pi_bar()[0], bar1 = ado->pi_bar()[1];
  ASSERT_NO_FATAL_FAILURE(Feed(ado.get(), 6, &m));
  const double q0 = 0.1 + 0.9 * bar0, q1 = 0.9 * bar1;
  EXPECT_NEAR((*m)[0], q0 / (q0 + std::max(q1, 0.01)), 1e-12);
  EXPECT_EQ(ado->total_steps(), 7);
}

TEST(Ado, CreditUpdatesPerVariant) {
  // adjusted_v1: h changes only when the client reports a new mixture id.
  for (const char* variant : {"adjusted_v1", "adjusted_v2"}) {
    SCOPED_TRACE(variant);
    AdoOptions o = SmallAdo();
    o.variant = variant;
    ASSERT_OK_AND_ASSIGN(auto ado, AdoDynamicMixing::Create(o));
    ado->set_initial_mixture({0.7, 0.3});
    Mixture m;
    for (int step = 0; step < 6; ++step) ASSERT_NO_FATAL_FAILURE(Feed(ado.get(), step, &m, 0));
    // Mixture id 0 was first reported at call 1, so call 6 is not "updated": h = μ still.
    EXPECT_EQ(ado->h(), (std::vector<double>{0.7, 0.3}));
    const std::vector<double> pi = ado->pi();
    ASSERT_NO_FATAL_FAILURE(Feed(ado.get(), 6, &m, 1));
    const std::vector<double> pi7 = ado->pi();
    // v1: γ = 0.1; v2: γ = 1 - 0.9^(7 - 0), the first update since step 0.
    const double g = std::string(variant) == "adjusted_v1" ? 0.1 : 1 - std::pow(0.9, 7);
    EXPECT_NEAR(ado->h()[0], g * pi7[0] + (1 - g) * 0.7, 1e-12);
    (void)pi;
  }
}

TEST(Ado, AdjustedV3ContinuesFifteenStepsAfterANewMixtureOrAtARefit) {
  AdoOptions o = SmallAdo();
  o.variant = "adjusted_v3";
  o.scaling_law_update_interval = 100;
  ASSERT_OK_AND_ASSIGN(auto ado, AdoDynamicMixing::Create(o));
  ado->set_initial_mixture({0.5, 0.5});
  Mixture m;
  for (int step = 0; step < 6; ++step) ASSERT_NO_FATAL_FAILURE(Feed(ado.get(), step, &m, 0));
  EXPECT_TRUE(m.has_value()) << "the first call at start_step continues";
  ASSERT_NO_FATAL_FAILURE(Feed(ado.get(), 6, &m, 1));  // call 7: new id -> continue at 22
  EXPECT_FALSE(m.has_value());
  for (int step = 7; step < 20; ++step) {
    ASSERT_NO_FATAL_FAILURE(Feed(ado.get(), step, &m, 1));
    EXPECT_FALSE(m.has_value()) << "call " << step + 1;
  }
  ASSERT_NO_FATAL_FAILURE(Feed(ado.get(), 20, &m, 1));  // call 21
  EXPECT_FALSE(m.has_value());
  ASSERT_NO_FATAL_FAILURE(Feed(ado.get(), 21, &m, 1));  // call 22 = 7 + 15
  EXPECT_TRUE(m.has_value());
  EXPECT_TRUE(ado->log_due());
}

TEST(Ado, SameBitsOnOneAndTwoFitThreads) {
  // 12 keys with noisy power-law losses, refits at 40, 80, 120.
  auto run = [](int threads) {
    AdoOptions o;
    o.start_step = 40;
    o.ignore_initial_steps = 10;
    o.scaling_law_update_interval = 40;
    o.subsampling_interval = 2;
    o.count_normalizer = 64;
    o.fit_threads = threads;
    auto ado = AdoDynamicMixing::Create(o);
    EXPECT_OK(ado.status());
    std::vector<double> prior(12, 1.0 / 12);
    (*ado)->set_initial_mixture(prior);
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0, 0.01);
    std::vector<std::vector<double>> out;
    for (int step = 0; step < 130; ++step) {
      std::vector<float> losses(12);
      std::vector<int64_t> counts(12);
      for (int k = 0; k < 12; ++k) {
        counts[k] = 64 + 8 * k;
        const double n = 1.0 + step * 64.0;
        losses[k] =
            static_cast<float>(counts[k] * (1.5 + 0.05 * k + 2 * std::pow(n, -0.3) + noise(rng)));
      }
      auto m = (*ado)->ProcessLosses(losses, counts, step / 10);
      EXPECT_OK(m.status());
      if (m.ok() && m->has_value()) out.push_back(**m);
    }
    return out;
  };
  const auto one = run(1), two = run(2);
  ASSERT_EQ(one.size(), 130u - 39u);
  EXPECT_EQ(one, two);
}

TEST(Ado, AKeyWhoseFitDataHoldAZeroLossGetsNoLawAndTheOthersAreFitted) {
  // Key 1 is sampled (counts > 0) but reports a loss of 0: its fit points hold y = 0, which
  // the law cannot describe. It is a fit failure; key 0 still gets its law.
  AdoOptions o = SmallAdo();
  o.use_same_step_size = true;
  ASSERT_OK_AND_ASSIGN(auto ado, AdoDynamicMixing::Create(o));
  ado->set_initial_mixture({0.5, 0.5});
  Mixture m;
  for (int step = 0; step < 6; ++step) {
    const double n = 100.0 * (step + 1);
    std::vector<float> losses = {static_cast<float>(100.0 * (1.8 + 3.0 * std::pow(n, -0.4))), 0.0f};
    ASSERT_OK_AND_ASSIGN(m, ado->ProcessLosses(losses, std::vector<int64_t>{100, 100}, 0));
  }
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(ado->fit_failures(), std::vector<int>{1});
  EXPECT_EQ(ado->scaling_law_params()[1], (ScalingLawParams{-1, -1, -1}));
  EXPECT_NE(ado->scaling_law_params()[0][0], -1);
  // After ResetState the history still knows both keys: short feedback is padded, and the
  // mixture keeps one weight per key.
  ado->ResetState();
  ASSERT_OK_AND_ASSIGN(m, ado->ProcessLosses(std::vector<float>{50}, std::vector<int64_t>{100}, 1));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->size(), 2u);
  EXPECT_EQ(ado->counts().size(), 2u);
}

TEST(Ado, InitialMixtureMustBeSet) {
  ASSERT_OK_AND_ASSIGN(auto ado, AdoDynamicMixing::Create(SmallAdo()));
  EXPECT_STATUS(ado->ProcessLosses(std::vector<float>{1}, std::vector<int64_t>{1}, 0).status(),
                StatusCode::kFailedPrecondition, "initial mixture");
}

}  // namespace
}  // namespace mixtera::mixture
