// The `mixtera` command line (DESIGN.md §1, conventions §3.2): with --json, stdout carries
// only JSON; progress and warnings go to stderr; exit code 0 on success, 1 on failure
// (and for `verify` when files changed), 2 on a usage error.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "base/logging.h"
#include "base/strings.h"
#include "cli/query_commands.h"
#include "engine/engine.h"
#include "ingest/spec_parser.h"
#include "model/limits.h"

namespace mixtera::cli {
namespace {

int Fail(const Status& status) {
  std::fprintf(stderr, "mixtera: error: %s\n", status.ToString().c_str());
  return 1;
}

Result<std::unique_ptr<engine::Engine>> OpenEngine(const std::string& dir, bool create) {
  if (!create) {
    std::error_code ec;
    if (!std::filesystem::exists(dir + "/mixtera.duckdb", ec)) {
      return Status::NotFound(StrCat("'", dir, "' is not a Mixtera directory (no mixtera.duckdb)"));
    }
  }
  return engine::Engine::Open(dir);
}

int RunRegister(const std::string& dir, const std::string& spec_path, bool json, int threads) {
  auto spec = ingest::ParseDatasetSpecFile(spec_path);
  if (!spec.ok()) return Fail(spec.status());
  ingest::IngestOptions options;
  options.num_threads = threads;
  options.show_progress = StderrIsTerminal();
  std::unique_ptr<engine::Engine> eng;
  // Registration appends on one thread and scans on its own pool; DuckDB's worker threads
  // would only compete with the scanners for the cores.
  engine::EngineOptions engine_options;
  engine_options.store.threads = 1;
  auto report = engine::Engine::OpenAndRegister(dir, *spec, options, engine_options, &eng);
  if (!report.ok()) return Fail(report.status());
  for (const auto& w : report->warnings) LogWarning(w);
  for (const auto& e : report->skipped_examples) LogWarning("skipped " + e);
  if (report->num_skipped > static_cast<int64_t>(report->skipped_examples.size())) {
    LogWarning(StrCat("skipped ", report->num_skipped, " bad records in total"));
  }
  double mbps =
      report->seconds > 0 ? static_cast<double>(report->bytes_on_disk) / 1e6 / report->seconds : 0;
  if (json) {
    nlohmann::json j;
    j["name"] = spec->name;
    j["num_files"] = report->num_files;
    j["num_samples"] = report->num_samples;
    j["num_skipped"] = report->num_skipped;
    j["bytes"] = report->bytes_on_disk;
    j["seconds"] = report->seconds;
    j["skipped_examples"] = report->skipped_examples;
    j["warnings"] = report->warnings;
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::printf(
        "registered '%s': %lld files, %lld samples, %lld skipped, %s in %.2f s (%.1f MB/s)\n",
        spec->name.c_str(), static_cast<long long>(report->num_files),
        static_cast<long long>(report->num_samples), static_cast<long long>(report->num_skipped),
        HumanBytes(report->bytes_on_disk).c_str(), report->seconds, mbps);
  }
  return 0;
}

int RunDatasets(const std::string& dir, bool json) {
  auto eng = OpenEngine(dir, /*create=*/false);
  if (!eng.ok()) return Fail(eng.status());
  auto datasets = (*eng)->ListDatasets();
  if (!datasets.ok()) return Fail(datasets.status());
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : *datasets)
      list.push_back(nlohmann::json::parse(engine::DatasetInfoJson(d)));
    std::cout << list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (datasets->empty()) {
    std::printf("no datasets registered in %s\n", (*eng)->dir().c_str());
    return 0;
  }
  std::printf("%-24s %-10s %8s %12s %10s %10s  %s\n", "NAME", "FORMAT", "FILES", "SAMPLES",
              "SKIPPED", "SIZE", "PROPERTIES");
  for (const auto& d : *datasets) {
    std::vector<std::string> props;
    for (const auto& p : d.properties)
      props.push_back(StrCat(p.name, ":", model::PropertyTypeName(p.type)));
    std::printf("%-24s %-10s %8lld %12lld %10lld %10s  %s\n", d.name.c_str(),
                std::string(model::DataFormatName(d.format)).c_str(),
                static_cast<long long>(d.num_files), static_cast<long long>(d.num_samples),
                static_cast<long long>(d.num_skipped), HumanBytes(d.total_bytes).c_str(),
                StrJoin(props, ", ").c_str());
  }
  return 0;
}

int RunRemove(const std::string& dir, const std::string& name, bool json) {
  auto eng = OpenEngine(dir, /*create=*/false);
  if (!eng.ok()) return Fail(eng.status());
  Status st = (*eng)->RemoveDataset(name);
  if (!st.ok()) return Fail(st);
  if (json) {
    std::cout << nlohmann::json{{"removed", name}}.dump(-1, ' ', false,
                                                        nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::printf("removed '%s'\n", name.c_str());
  }
  return 0;
}

int RunVerify(const std::string& dir, const std::string& name, bool json) {
  auto eng = OpenEngine(dir, /*create=*/false);
  if (!eng.ok()) return Fail(eng.status());
  std::optional<std::string> which;
  if (!name.empty()) which = name;
  auto report = (*eng)->Verify(which);
  if (!report.ok()) return Fail(report.status());
  if (json) {
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& c : report->changes) {
      changes.push_back({{"dataset", c.dataset},
                         {"path", c.path},
                         {"change", c.change},
                         {"registered_size_bytes", c.registered_size_bytes},
                         {"current_size_bytes", c.current_size_bytes},
                         {"registered_mtime_ns", c.registered_mtime_ns},
                         {"current_mtime_ns", c.current_mtime_ns}});
    }
    std::cout << nlohmann::json{{"num_files_checked", report->num_files_checked},
                                {"changes", changes}}
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    for (const auto& c : report->changes) {
      if (c.change == "missing") {
        std::printf("%s: %s: missing\n", c.dataset.c_str(), c.path.c_str());
      } else if (c.change == "size") {
        std::printf("%s: %s: size changed (%lld -> %lld bytes)\n", c.dataset.c_str(),
                    c.path.c_str(), static_cast<long long>(c.registered_size_bytes),
                    static_cast<long long>(c.current_size_bytes));
      } else {
        std::printf("%s: %s: modified (mtime changed)\n", c.dataset.c_str(), c.path.c_str());
      }
    }
    std::printf("%lld files checked, %zu changed\n",
                static_cast<long long>(report->num_files_checked), report->changes.size());
  }
  return report->changes.empty() ? 0 : 1;
}

int RunCountTokens(const std::string& dir, const std::string& name, const std::string& tokenizer,
                   bool json, int threads) {
  auto eng = OpenEngine(dir, /*create=*/false);
  if (!eng.ok()) return Fail(eng.status());
  engine::TokenCountOptions options;
  options.threads = threads;
  auto report = (*eng)->CountTokens(name, tokenizer, options);
  if (!report.ok()) return Fail(report.status());
  if (json) {
    std::cout << engine::TokenCountReportJson(*report) << "\n";
  } else if (report->already_counted) {
    std::printf("'%s' already has token counts for %s: %lld tokens in %lld samples (%s)\n",
                name.c_str(), report->fingerprint.c_str(),
                static_cast<long long>(report->num_tokens),
                static_cast<long long>(report->num_samples), report->folder.c_str());
  } else {
    const double mbps =
        report->seconds > 0 ? static_cast<double>(report->text_bytes) / 1e6 / report->seconds : 0;
    std::printf(
        "counted '%s' with %s: %lld tokens in %lld samples of %lld files, %.2f s (%.1f MB/s)\n",
        name.c_str(), report->fingerprint.c_str(), static_cast<long long>(report->num_tokens),
        static_cast<long long>(report->num_samples), static_cast<long long>(report->num_files),
        report->seconds, mbps);
  }
  return 0;
}

}  // namespace
}  // namespace mixtera::cli

int main(int argc, char** argv) {
  using namespace mixtera::cli;
  CLI::App app{"mixtera: a data plane for foundation-model training"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mixtera 0.1.0");
  bool json = false;
  std::string dir, spec, name;
  int threads = 0;

  auto* reg =
      app.add_subcommand("register", "Register a dataset described by a spec file (YAML or JSON)");
  reg->add_option("DIR", dir, "Mixtera directory (created if missing)")->required();
  reg->add_option("SPEC", spec, "dataset spec file")->required();
  reg->add_option("--threads", threads, "scanner threads (default: one per core)");
  reg->add_flag("--json", json, "print the result as JSON on stdout");

  auto* ls = app.add_subcommand("datasets", "List registered datasets");
  ls->add_option("DIR", dir, "Mixtera directory")->required();
  ls->add_flag("--json", json, "print a JSON list on stdout");

  auto* rm = app.add_subcommand("remove", "Remove a registered dataset (the data files stay)");
  rm->add_option("DIR", dir, "Mixtera directory")->required();
  rm->add_option("NAME", name, "dataset name")->required();
  rm->add_flag("--json", json, "print the result as JSON on stdout");

  auto* verify =
      app.add_subcommand("verify",
                         "Report data files whose size or mtime changed since registration "
                         "(exit code 1 when any did)");
  verify->add_option("DIR", dir, "Mixtera directory")->required();
  verify->add_option("NAME", name, "dataset name (default: all)");
  verify->add_flag("--json", json, "print the report as JSON on stdout");

  std::string tokenizer;
  auto* count = app.add_subcommand(
      "count-tokens",
      "Count and store every sample's exact token count under a tokenizer (for exact unit: "
      "tokens chunks)");
  count->add_option("DIR", dir, "Mixtera directory")->required();
  count->add_option("DATASET", name, "dataset name")->required();
  count
      ->add_option("--tokenizer", tokenizer,
                   "tokenizer file (tokenizer.json, .model, or a tiktoken rank file)")
      ->required();
  count->add_option("--threads", threads, "tokenizer threads (default: one per core)");
  count->add_flag("--json", json, "print the result as JSON on stdout");

  QueryCommand query_cmd;
  auto* query = app.add_subcommand(
      "query", "Dry run: the samples, components and (with --mixture) the chunk plan of a query");
  query->add_option("DIR", query_cmd.dir, "Mixtera directory")->required();
  query->add_option("--where", query_cmd.where, "filter expression (default: everything)");
  query->add_option("--mixture", query_cmd.mixture_path, "mixture file (YAML or JSON)");
  query->add_option("--tokenizer", query_cmd.tokenizer, "tokenizer file (for unit: tokens)");
  auto add_packing = [](CLI::App* cmd, mixtera::chunk::TokenPacking* packing) {
    cmd->add_option("--sequence-length", packing->sequence_length,
                    "unit: tokens: plan whole windows of sequence_length + 1 tokens");
    cmd->add_flag("--overlapping", packing->overlapping,
                  "unit: tokens: windows share one token (stride sequence_length)");
    cmd->add_flag("--bos", packing->bos, "unit: tokens: the client adds BOS per document");
    cmd->add_flag("--eos", packing->eos, "unit: tokens: the client adds EOS per document");
  };
  add_packing(query, &query_cmd.packing);
  query->add_flag("--json", query_cmd.json, "print one JSON object on stdout");
  query->add_flag("!--no-bytes", query_cmd.bytes,
                  "do not read the offsets files to count the matching bytes");

  ChunksCommand chunks_cmd;
  std::string seed;  // parsed by model::ParseSeed: CLI11 would wrap "-1" to 2^64 - 1
  auto* chunks = app.add_subcommand("chunks", "Print the chunk stream of one data-parallel group");
  chunks->add_option("DIR", chunks_cmd.dir, "Mixtera directory")->required();
  chunks->add_option("--where", chunks_cmd.where, "filter expression (default: everything)");
  chunks->add_option("--mixture", chunks_cmd.mixture_path, "mixture file (YAML or JSON)")
      ->required();
  auto* seed_opt =
      chunks->add_option("--seed", seed, "override the mixture file's seed (0 .. 2^64 - 1)");
  chunks->add_option("--dp-groups", chunks_cmd.dp_groups,
                     "number of data-parallel groups (default 1)");
  chunks->add_option("--dp-group", chunks_cmd.dp_group,
                     "the group whose chunks to print (default 0)");
  auto* limit_opt =
      chunks->add_option("--limit", chunks_cmd.limit, "print at most this many chunks");
  chunks->add_option("--tokenizer", chunks_cmd.tokenizer, "tokenizer file (for unit: tokens)");
  add_packing(chunks, &chunks_cmd.packing);
  chunks->add_flag("--json", chunks_cmd.json, "one JSON object per chunk on stdout");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  // Numbers are checked against the limits table (model/limits.h), as in every entry point.
  if (mixtera::Status st =
          mixtera::model::CheckLimit(mixtera::model::limits::kThreads, threads, "--threads");
      !st.ok()) {
    return Fail(st);
  }
  if (reg->parsed()) return RunRegister(dir, spec, json, threads);
  if (ls->parsed()) return RunDatasets(dir, json);
  if (rm->parsed()) return RunRemove(dir, name, json);
  if (verify->parsed()) return RunVerify(dir, name, json);
  if (count->parsed()) return RunCountTokens(dir, name, tokenizer, json, threads);
  if (query->parsed()) return RunQuery(query_cmd);
  if (chunks->parsed()) {
    chunks_cmd.has_seed = seed_opt->count() > 0;
    if (chunks_cmd.has_seed) {
      mixtera::Result<uint64_t> parsed = mixtera::model::ParseSeed(seed, "--seed");
      if (!parsed.ok()) return Fail(parsed.status());
      chunks_cmd.seed = *parsed;
    }
    if (limit_opt->count() > 0) {
      if (mixtera::Status st = mixtera::model::CheckLimit(mixtera::model::limits::kChunkLimit,
                                                          chunks_cmd.limit, "--limit");
          !st.ok()) {
        return Fail(st);
      }
    }
    return RunChunks(chunks_cmd);
  }
  return 2;
}
