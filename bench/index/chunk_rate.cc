// index_chunk_rate: how fast chunks are computed by random access (bench/index/README.md).
//
//   index_chunk_rate DIR --mixture MIXFILE [--chunk-size N] [--where EXPR] [--seconds S]
//
// Builds the job in memory (Engine::PlanQuery), then computes chunks by random access for
// about S seconds (default 2) in each of two orders and prints one JSON line:
//   {"chunks_per_s" (increasing indices from a random start, as a consumer walks its
//    chunks), "random_chunks_per_s" (uniformly random indices), "samples_per_s",
//    "ranges_per_chunk", "num_chunks", "build_s"}.
// Single thread; the job build is not part of the rate.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "engine/engine.h"
#include "mixture/mixture_parser.h"
#include "query/where_parser.h"

int main(int argc, char** argv) {
  using namespace mixtera;
  std::string dir, mixture_path, where;
  int64_t chunk_size = -1;
  double seconds = 2.0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "index_chunk_rate: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--mixture") {
      mixture_path = next();
    } else if (a == "--chunk-size") {
      chunk_size = std::stoll(next());
    } else if (a == "--where") {
      where = next();
    } else if (a == "--seconds") {
      seconds = std::stod(next());
    } else if (dir.empty()) {
      dir = a;
    } else {
      std::fprintf(stderr,
                   "usage: index_chunk_rate DIR --mixture FILE [--chunk-size N] [--where EXPR] "
                   "[--seconds S]\n");
      return 2;
    }
  }
  if (dir.empty() || mixture_path.empty()) {
    std::fprintf(stderr,
                 "usage: index_chunk_rate DIR --mixture FILE [--chunk-size N] [--where EXPR] "
                 "[--seconds S]\n");
    return 2;
  }
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "index_chunk_rate: %s\n", s.ToString().c_str());
    return 1;
  };
  auto spec = mixture::ParseMixtureSpecFile(mixture_path);
  if (!spec.ok()) return fail(spec.status());
  if (chunk_size > 0) spec->chunk_size = chunk_size;
  spec->strict = false;  // every sample reachable, so the whole index is exercised
  auto pred = query::ParseWhere(where);
  if (!pred.ok()) return fail(pred.status());
  auto engine = engine::Engine::Open(dir);
  if (!engine.ok()) return fail(engine.status());
  const auto t0 = std::chrono::steady_clock::now();
  auto job = (*engine)->PlanQuery("bench", *pred, *spec);
  if (!job.ok()) return fail(job.status());
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int64_t n = (*job)->plan().num_chunks();
  if (n == 0) return fail(Status::InvalidArgument("the job has no chunks"));
  // Two access orders: chunk indices in increasing order from a random start (what a
  // consumer does: its chunks are k = g + G (w + W t)), and uniformly random indices.
  auto measure = [&](bool random_order, double* chunks_per_s, double* samples_per_s,
                     double* ranges_per_chunk) -> Status {
    std::mt19937_64 rng(42);
    int64_t next = static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
    int64_t chunks = 0, samples = 0, ranges = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (elapsed < seconds) {
      for (int i = 0; i < 64; ++i) {
        const int64_t k =
            random_order ? static_cast<int64_t>(rng() % static_cast<uint64_t>(n)) : (next++ % n);
        auto reply = (*job)->GetChunk(k);
        if (!reply.ok()) return reply.status();
        ++chunks;
        samples += reply->chunk.num_samples();
        for (const auto& part : reply->chunk.keys)
          ranges += static_cast<int64_t>(part.ranges.size());
      }
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    *chunks_per_s = chunks / elapsed;
    *samples_per_s = samples / elapsed;
    *ranges_per_chunk = static_cast<double>(ranges) / chunks;
    return Status::OK();
  };
  double seq_rate, seq_samples, seq_ranges, rnd_rate, rnd_samples, rnd_ranges;
  if (Status s = measure(false, &seq_rate, &seq_samples, &seq_ranges); !s.ok()) return fail(s);
  if (Status s = measure(true, &rnd_rate, &rnd_samples, &rnd_ranges); !s.ok()) return fail(s);
  std::printf(
      "{\"chunks_per_s\": %.1f, \"random_chunks_per_s\": %.1f, \"samples_per_s\": %.1f, "
      "\"ranges_per_chunk\": %.1f, \"num_chunks\": %lld, \"build_s\": %.3f}\n",
      seq_rate, rnd_rate, seq_samples, seq_ranges, static_cast<long long>(n), build_s);
  return 0;
}
