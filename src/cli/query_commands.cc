#include "cli/query_commands.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "base/logging.h"
#include "base/macros.h"
#include "base/strings.h"
#include "engine/engine.h"
#include "formats/offsets_file.h"
#include "mixture/key_resolution.h"
#include "mixture/mixture_parser.h"
#include "model/limits.h"
#include "query/where_parser.h"

namespace mixtera::cli {
namespace {

using nlohmann::json;

int Fail(const Status& status) {
  std::fprintf(stderr, "mixtera: error: %s\n", status.ToString().c_str());
  return 1;
}

Result<std::unique_ptr<engine::Engine>> OpenExisting(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir + "/mixtera.duckdb", ec)) {
    return Status::NotFound(StrCat("'", dir, "' is not a Mixtera directory (no mixtera.duckdb)"));
  }
  return engine::Engine::Open(dir);
}

// The bytes of every sample in the job's index, from the offsets files. Errors: those of
// the offsets files (e.g. NotFound when one is missing).
Result<int64_t> MatchingBytes(const chunk::Job& job) {
  const auto& index = job.index();
  const auto& files = job.definition().files;
  std::map<uint32_t, std::unique_ptr<formats::OffsetsReader>> readers;
  std::vector<index::SampleRange> ranges;
  std::vector<formats::RecordExtent> extents;
  int64_t bytes = 0;
  constexpr int64_t kStep = 1 << 20;
  for (int64_t c = 0; c < index.num_components(); ++c) {
    for (int64_t p = 0; p < index.component_size(c); p += kStep) {
      ranges.clear();
      index.Extract(c, p, std::min(index.component_size(c), p + kStep), &ranges);
      for (const auto& r : ranges) {
        auto& reader = readers[r.file_index];
        if (reader == nullptr) {
          MIXTERA_ASSIGN_OR_RETURN(
              reader, formats::OffsetsReader::Open(files[r.file_index].offsets_path + ".offsets"));
        }
        extents.clear();
        MIXTERA_RETURN_IF_ERROR(reader->GetRange(r.begin, r.end, &extents));
        for (const auto& e : extents) bytes += e.length;
      }
    }
  }
  return bytes;
}

Result<model::MixtureSpec> LoadMixture(const std::string& path) {
  if (path.empty()) {
    model::MixtureSpec spec;
    spec.type = model::MixtureType::kInferring;
    return spec;
  }
  return mixture::ParseMixtureSpecFile(path);
}

std::string KeyText(const model::MixtureKey& key) {
  return key.properties.empty() ? "{}" : mixture::MixtureKeyToJson(key);
}

}  // namespace

int RunQuery(const QueryCommand& cmd) {
  auto where = query::ParseWhere(cmd.where);
  if (!where.ok()) return Fail(where.status());
  auto spec = LoadMixture(cmd.mixture_path);
  if (!spec.ok()) return Fail(spec.status());
  auto engine = OpenExisting(cmd.dir);
  if (!engine.ok()) return Fail(engine.status());
  engine::JobBuildStats stats;
  engine::JobOptions job_options;
  job_options.tokenizer = cmd.tokenizer;
  job_options.packing = cmd.packing;
  auto job_or = (*engine)->PlanQuery("query", *where, *spec, &stats, job_options);
  if (!job_or.ok()) return Fail(job_or.status());
  const chunk::Job& job = **job_or;
  const auto& def = job.definition();
  const auto& table = def.components;
  json bytes = nullptr;
  if (cmd.bytes) {
    auto b = MatchingBytes(job);
    if (b.ok()) {
      bytes = *b;
    } else {
      LogWarning(StrCat("cannot count the matching bytes: ", b.status().ToString()));
    }
  }
  std::map<std::string, int> datasets;
  for (const auto& f : def.files) datasets[f.dataset]++;
  const bool with_mixture = !cmd.mixture_path.empty();
  const std::vector<int64_t> per_chunk = job.InitialCounts();
  const bool arbitrary = def.mixture.type == model::MixtureType::kArbitrary;

  if (cmd.json) {
    json j;
    j["query"] = def.query;
    j["num_samples"] = stats.num_samples;
    j["num_files"] = def.files.size();
    j["num_datasets"] = datasets.size();
    j["bytes"] = bytes;
    j["grouping"] = table.properties;
    json comps = json::array();
    for (int64_t c = 0; c < table.num_components(); ++c) {
      comps.push_back({{"key", json::parse(KeyText(mixture::ComponentKey(table, c)))},
                       {"num_samples", table.sizes[c]}});
    }
    j["components"] = std::move(comps);
    if (with_mixture) {
      j["mixture"] = json::parse(mixture::MixtureSpecToJson(def.mixture));
      json keys = json::array();
      if (!arbitrary) {
        for (size_t k = 0; k < def.keys.size(); ++k) {
          const int64_t n = per_chunk[k];
          keys.push_back({{"key", json::parse(KeyText(def.keys[k].key))},
                          {"key_id", k},
                          {"per_chunk", n},
                          {"available", job.key_supply()[k]},
                          {"full_chunks", n > 0 ? json(job.key_supply()[k] / n) : json(nullptr)},
                          {"delivered", job.plan().delivered()[k]},
                          {"runs_out_at_chunk", job.plan().exhausted_at()[k] >= 0
                                                    ? json(job.plan().exhausted_at()[k])
                                                    : json(nullptr)},
                          {"num_components", def.keys[k].components.size()},
                          {"tokens_per_sample", def.key_tokens_per_sample.empty()
                                                    ? json(nullptr)
                                                    : json(def.key_tokens_per_sample[k])},
                          {"tokens_per_byte", def.key_tokens_per_byte.empty()
                                                  ? json(nullptr)
                                                  : json(def.key_tokens_per_byte[k])}});
        }
      }
      j["keys"] = std::move(keys);
      j["plan_unit"] = def.mixture.unit == model::ChunkUnit::kTokens ? "tokens" : "samples";
      j["exact_tokens"] = def.exact_tokens;
      j["num_chunks"] = job.plan().num_chunks();
      j["end_reason"] = job.plan().end_reason();
    }
    j["warnings"] = def.warnings;
    j["timings"] = {{"scan_s", stats.scan_seconds},
                    {"finish_s", stats.finish_seconds},
                    {"plan_s", stats.plan_seconds},
                    {"total_s", stats.total_seconds}};
    j["index_bytes"] = stats.index_bytes;
    j["num_ranges"] = stats.num_ranges;
    j["num_entries"] = stats.num_entries;
    std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::printf("query: %s\n", def.query.empty() ? "(everything)" : def.query.c_str());
    std::printf("matching: %lld samples in %zu files of %zu datasets",
                static_cast<long long>(stats.num_samples), def.files.size(), datasets.size());
    if (bytes.is_number()) std::printf(", %s", HumanBytes(bytes.get<int64_t>()).c_str());
    std::printf("\ncomponents (grouped by %s): %lld\n",
                table.properties.empty() ? "nothing" : StrJoin(table.properties, ", ").c_str(),
                static_cast<long long>(table.num_components()));
    for (int64_t c = 0; c < table.num_components() && c < cmd.max_listed; ++c) {
      std::printf("  %-50s %12lld samples\n", KeyText(mixture::ComponentKey(table, c)).c_str(),
                  static_cast<long long>(table.sizes[c]));
    }
    if (table.num_components() > cmd.max_listed) {
      std::printf("  ... and %lld more (--json lists all)\n",
                  static_cast<long long>(table.num_components() - cmd.max_listed));
    }
    if (with_mixture) {
      std::printf(
          "mixture: %s, chunk_size %lld %s, %s, seed %llu\n",
          model::MixtureTypeName(def.mixture.type), static_cast<long long>(def.mixture.chunk_size),
          model::ChunkUnitName(def.mixture.unit), def.mixture.strict ? "strict" : "best effort",
          static_cast<unsigned long long>(def.mixture.seed));
      if (def.mixture.unit == model::ChunkUnit::kTokens) {
        std::printf("token counts: %s\n",
                    def.exact_tokens
                        ? "exact (per chunk and available count tokens)"
                        : "estimated per key from record bytes (per chunk and available count "
                          "tokens)");
      }
      if (!arbitrary) {
        std::printf("  %-40s %10s %12s %12s %14s\n", "key", "per chunk", "available", "full chunks",
                    "runs out at");
        for (size_t k = 0; k < def.keys.size(); ++k) {
          const int64_t n = per_chunk[k];
          const int64_t out = job.plan().exhausted_at()[k];
          std::printf("  %-40s %10lld %12lld %12s %14s\n", KeyText(def.keys[k].key).c_str(),
                      static_cast<long long>(n), static_cast<long long>(job.key_supply()[k]),
                      n > 0 ? std::to_string(job.key_supply()[k] / n).c_str() : "-",
                      out >= 0 ? StrCat("chunk ", out).c_str()
                      : (n > job.key_supply()[k] && job.plan().num_chunks() == 0)
                          ? "short at chunk 0"
                          : "never");
        }
      }
      std::printf("chunks: %lld (%s)\n", static_cast<long long>(job.plan().num_chunks()),
                  job.plan().end_reason().c_str());
    }
    std::printf("time: %.3f s (scan %.3f, finish %.3f, plan %.3f); index %s\n", stats.total_seconds,
                stats.scan_seconds, stats.finish_seconds, stats.plan_seconds,
                HumanBytes(stats.index_bytes).c_str());
  }
  for (const auto& w : def.warnings) LogWarning(w);
  return 0;
}

int RunChunks(const ChunksCommand& cmd) {
  if (Status st = model::CheckLimit(model::limits::kDpGroups, cmd.dp_groups, "--dp-groups");
      !st.ok()) {
    return Fail(st);
  }
  if (cmd.dp_group < 0 || cmd.dp_group >= cmd.dp_groups) {
    return Fail(Status::InvalidArgument(StrCat(
        "--dp-group must be in [0, --dp-groups = ", cmd.dp_groups, "), got ", cmd.dp_group)));
  }
  auto where = query::ParseWhere(cmd.where);
  if (!where.ok()) return Fail(where.status());
  auto spec = mixture::ParseMixtureSpecFile(cmd.mixture_path);
  if (!spec.ok()) return Fail(spec.status());
  if (cmd.has_seed) spec->seed = cmd.seed;
  auto engine = OpenExisting(cmd.dir);
  if (!engine.ok()) return Fail(engine.status());
  engine::JobOptions job_options;
  job_options.tokenizer = cmd.tokenizer;
  job_options.packing = cmd.packing;
  auto job_or = (*engine)->PlanQuery("chunks", *where, *spec, nullptr, job_options);
  if (!job_or.ok()) return Fail(job_or.status());
  const chunk::Job& job = **job_or;
  for (const auto& w : job.definition().warnings) LogWarning(w);
  for (int64_t t = 0; cmd.limit < 0 || t < cmd.limit; ++t) {
    const int64_t k = chunk::ConsumerChunk(cmd.dp_groups, cmd.dp_group, 1, 0, t);
    auto reply = job.GetChunk(k);
    if (!reply.ok()) return Fail(reply.status());
    if (reply->status != chunk::ChunkStatus::kChunk) break;
    if (cmd.json) {
      std::cout << job.ChunkJson(reply->chunk) << "\n";
    } else {
      std::printf("chunk %lld (mixture %d%s): %lld samples\n", static_cast<long long>(k),
                  reply->chunk.mixture_id, reply->chunk.partial ? ", partial" : "",
                  static_cast<long long>(reply->chunk.num_samples()));
      for (const auto& part : reply->chunk.keys) {
        std::printf("  key %d %s: %lld samples in %zu ranges\n", part.key_id,
                    KeyText(job.definition().keys[part.key_id].key).c_str(),
                    static_cast<long long>(part.num_samples), part.ranges.size());
      }
    }
  }
  std::cout.flush();
  return 0;
}

}  // namespace mixtera::cli
