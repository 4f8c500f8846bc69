// dynamic_bench: live jobs (bench/dynamic/README.md). One run, baselines in the same run:
//
//   dynamic_bench [--changes N] [--components C] [--chunk-size S] [--seconds T]
//
// A job over C components (interleaved across 8 files, one key per component, as an
// inferring mixture would have) is saved in a temporary Mixtera directory and driven by an
// engine::JobManager. Prints JSON lines:
//   change:  N mixture changes through feedback (StartChunk + ProcessFeedback + the driver),
//            the time per change early and late, and the baseline: planning the same log
//            from chunk 0 (Plan::Build) at the end — what a change cost before Plan::Extend.
//   rate:    chunks/s by random access over the decided chunks after N changes vs a static
//            job of the same shape (sequential from a random start, as consumers walk).
//   latency: p50/p99 of decided-chunk requests while a driver refits (a CPU-bound refit of
//            --refit-ms per feedback on the job manager's pool) vs idle.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "chunk/job.h"
#include "engine/engine.h"
#include "engine/job_manager.h"
#include "index/chunker_index.h"

namespace {

using namespace mixtera;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

template <typename T>
T OrDie(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "dynamic_bench: %s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

void OrDie(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "dynamic_bench: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// C components interleaved over 8 files of `per_file` samples; key k = component k.
std::unique_ptr<chunk::Job> MakeJob(int components, int per_file, int64_t chunk_size, bool dynamic,
                                    const std::string& id) {
  index::ChunkerIndexBuilder b;
  for (int c = 0; c < components; ++c) b.AddComponent();
  chunk::JobDefinition def;
  def.job_id = id;
  for (int f = 0; f < 8; ++f) {
    b.BeginFile(static_cast<uint32_t>(f));
    for (int s = 0; s < per_file; ++s) {
      b.AddRun((s * 7 + f) % components, static_cast<uint32_t>(s), static_cast<uint32_t>(s + 1));
    }
    b.EndFile();
    def.files.push_back({"/bench/f" + std::to_string(f),
                         "ds",
                         f,
                         1000,
                         1,
                         "jsonl",
                         "none",
                         {"/text"},
                         "",
                         per_file});
  }
  std::vector<int64_t> order(components);
  for (int c = 0; c < components; ++c) order[c] = c;
  auto index = b.Finish(order);
  def.components.properties = {"topic"};
  def.components.types = {model::PropertyType::kString};
  std::vector<double> weights;
  for (int c = 0; c < components; ++c) {
    def.components.values.push_back(
        {model::GroupValue{false, {model::Literal::String("t" + std::to_string(c))}}});
    def.components.sizes.push_back(index->component_size(c));
    chunk::JobKey key;
    key.key.properties = {{"topic", {model::Literal::String("t" + std::to_string(c))}}};
    key.components.push_back(c);
    def.keys.push_back(key);
    weights.push_back(1.0);
    def.mixture.weights.push_back({key.key, 1.0 / components, 1});
  }
  def.mixture_log.push_back({0, weights});
  def.mixture.type = dynamic ? model::MixtureType::kDynamic : model::MixtureType::kStatic;
  def.mixture.chunk_size = chunk_size;
  def.mixture.strict = false;
  def.horizon = dynamic ? 0 : -1;
  return OrDie(chunk::Job::Create(std::move(def), std::move(index)), "Job::Create");
}

// Returns weights that differ per step (every key keeps some weight).
class StepWeights final : public engine::MixingDriver {
 public:
  StepWeights(int keys, double refit_ms) : keys_(keys), refit_ms_(refit_ms) {}
  Status Start(const std::vector<double>&) override { return Status::OK(); }
  Result<std::optional<std::vector<double>>> OnFeedback(const chunk::FeedbackRecord& f) override {
    if (refit_ms_ > 0) {  // a CPU-bound refit
      const auto until = Clock::now() + std::chrono::duration<double, std::milli>(refit_ms_);
      volatile double x = 0;
      while (Clock::now() < until) x = x + 1e-9;
    }
    std::vector<double> w(keys_);
    for (int k = 0; k < keys_; ++k) w[k] = 1.0 + static_cast<double>((f.training_step + k) % 5);
    return std::optional<std::vector<double>>(std::move(w));
  }

 private:
  int keys_;
  double refit_ms_;
};

double ChunkRate(const std::function<void(int64_t)>& get, int64_t decided, double seconds) {
  std::mt19937_64 rng(7);
  int64_t n = 0;
  const auto start = Clock::now();
  int64_t k = static_cast<int64_t>(rng() % static_cast<uint64_t>(decided));
  while (Seconds(start, Clock::now()) < seconds) {
    for (int i = 0; i < 64; ++i) {
      get(k);
      k = (k + 1) % decided;
      ++n;
    }
  }
  return static_cast<double>(n) / Seconds(start, Clock::now());
}

std::pair<double, double> Percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
}

}  // namespace

int main(int argc, char** argv) {
  int changes = 10000, components = 1000;
  int64_t chunk_size = 1024;
  double seconds = 2.0, refit_ms = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--changes")
      changes = std::atoi(argv[i + 1]);
    else if (a == "--components")
      components = std::atoi(argv[i + 1]);
    else if (a == "--chunk-size")
      chunk_size = std::atoll(argv[i + 1]);
    else if (a == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (a == "--refit-ms")
      refit_ms = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr,
                   "usage: dynamic_bench [--changes N] [--components C] "
                   "[--chunk-size S] [--seconds T] [--refit-ms M]\n");
      return 2;
    }
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("mx_dynamic_bench_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "jobs");
  // Enough data for every change's chunk (best effort spreads the rest).
  const int per_file =
      static_cast<int>(std::max<int64_t>(1000, (changes + 2) * chunk_size / 8 + chunk_size));

  // --- changes ---------------------------------------------------------------------------
  std::shared_ptr<chunk::Job> job(MakeJob(components, per_file, chunk_size, true, "dyn"));
  OrDie(job->Save(engine::Engine::JobDirOf(dir.string(), "dyn")), "Save");
  engine::JobManager jobs(dir.string());
  OrDie(jobs.Adopt(job), "Adopt");
  OrDie(jobs.SetDriver("dyn", std::make_shared<StepWeights>(components, 0)), "SetDriver");
  std::vector<double> per_change;
  per_change.reserve(changes);
  for (int k = 0; k < changes; ++k) {
    const auto t0 = Clock::now();
    OrDie(jobs.StartChunk("dyn", k), "StartChunk");
    engine::ClientFeedback f;
    f.training_step = k + 1;
    f.position = k + 1;
    OrDie(jobs.ProcessFeedback("dyn", f).status(), "ProcessFeedback");
    OrDie(jobs.Drain("dyn"), "Drain");
    per_change.push_back(Seconds(t0, Clock::now()));
  }
  OrDie(jobs.StartChunk("dyn", changes), "StartChunk");
  const int window = std::max(1, changes / 10);
  auto mean = [&](int from) {
    double s = 0;
    for (int i = from; i < from + window; ++i) s += per_change[i];
    return s / window;
  };
  const double early = mean(0), late = mean(changes - window);
  const auto log = OrDie(jobs.MixtureLog("dyn"), "MixtureLog");
  std::vector<int64_t> supply = job->key_supply();
  const auto b0 = Clock::now();
  chunk::Plan rebuilt = chunk::Plan::Build(supply, log, chunk_size, false);
  const double rebuild = Seconds(b0, Clock::now());
  std::printf(
      "{\"bench\": \"change\", \"changes\": %d, \"components\": %d, \"ms_per_change_first_10pct\": "
      "%.3f, \"ms_per_change_last_10pct\": %.3f, \"baseline_replan_from_chunk_0_ms\": %.3f, "
      "\"ratio_replan_vs_change\": %.1f, \"planned_chunks\": %lld}\n",
      changes, components, early * 1e3, late * 1e3, rebuild * 1e3, rebuild / late,
      static_cast<long long>(rebuilt.num_chunks()));

  // --- chunk rate after the changes vs a static job ----------------------------------------
  std::shared_ptr<chunk::Job> fixed(MakeJob(components, per_file, chunk_size, false, "static"));
  const int64_t decided = changes + 1;
  auto get_dynamic = [&](int64_t k) { OrDie(jobs.GetChunk("dyn", k).status(), "GetChunk"); };
  auto get_static = [&](int64_t k) { OrDie(fixed->GetChunk(k).status(), "GetChunk"); };
  const double dyn_rate = ChunkRate(get_dynamic, decided, seconds);
  const double static_rate = ChunkRate(get_static, decided, seconds);
  std::printf(
      "{\"bench\": \"rate\", \"dynamic_chunks_per_s\": %.0f, \"static_chunks_per_s\": %.0f, "
      "\"ratio_dynamic_vs_static\": %.2f, \"target_chunks_per_s\": 10000}\n",
      dyn_rate, static_rate, dyn_rate / static_rate);

  // --- decided-chunk latency while refits run vs idle --------------------------------------
  auto sample = [&](int n) {
    std::vector<double> lat;
    std::mt19937_64 rng(3);
    for (int i = 0; i < n; ++i) {
      const int64_t k = static_cast<int64_t>(rng() % static_cast<uint64_t>(decided));
      const auto t0 = Clock::now();
      get_dynamic(k);
      lat.push_back(Seconds(t0, Clock::now()) * 1e6);
    }
    return lat;
  };
  const int n = 20000;
  const auto idle_start = Clock::now();
  auto idle = Percentiles(sample(n));
  const double idle_ms = Seconds(idle_start, Clock::now()) * 1e3;
  OrDie(jobs.SetDriver("dyn", std::make_shared<StepWeights>(components, refit_ms)), "SetDriver");
  // Queue refits for twice as long as the idle sampling took, so that they run on the pool
  // during all of the sampling (refits_pending_after > 0 shows they did).
  const int refits = std::max(4, static_cast<int>(2 * idle_ms / std::max(1.0, refit_ms)) + 1);
  for (int i = 0; i < refits; ++i) {
    engine::ClientFeedback f;
    f.training_step = changes + 1 + i;
    f.position = changes + 1;
    OrDie(jobs.ProcessFeedback("dyn", f).status(), "ProcessFeedback");
  }
  auto busy = Percentiles(sample(n));
  auto status = OrDie(jobs.JobStatus("dyn"), "JobStatus");
  std::printf(
      "{\"bench\": \"latency\", \"idle_p50_us\": %.2f, \"idle_p99_us\": %.2f, "
      "\"refitting_p50_us\": %.2f, \"refitting_p99_us\": %.2f, \"ratio_p99_refitting_vs_idle\": "
      "%.2f, \"refits_pending_after\": %lld, \"target_ratio\": 1.5}\n",
      idle.first, idle.second, busy.first, busy.second, busy.second / idle.second,
      static_cast<long long>(status.pending_feedback));
  OrDie(jobs.Drain("dyn"), "Drain");
  std::filesystem::remove_all(dir);
  return 0;
}
