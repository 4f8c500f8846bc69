// The `_mixtera` extension: thin conversions over the engine (style.md §2.10). Everything
// that blocks runs with the GIL released.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "base/logging.h"
#include "base/strings.h"
#include "engine/engine.h"
#include "ingest/spec_parser.h"
#include "mixing_bindings.h"
#include "mixture/mixture_parser.h"
#include "parser_bridge.h"
#include "query/predicate_json.h"
#include "query/where_parser.h"
#include "status_bridge.h"
#include "stream_bindings.h"
#include "tokenizer_bindings.h"

namespace py = pybind11;

namespace mixtera::python {
namespace {

std::string ReportJson(const std::string& name, const ingest::IngestReport& r) {
  std::string examples, warnings;
  std::vector<std::string> quoted;
  for (const auto& e : r.skipped_examples) quoted.push_back(JsonQuote(e));
  examples = StrJoin(quoted, ",");
  quoted.clear();
  for (const auto& w : r.warnings) quoted.push_back(JsonQuote(w));
  warnings = StrJoin(quoted, ",");
  return StrCat("{\"name\":", JsonQuote(name), ",\"num_files\":", r.num_files,
                ",\"num_samples\":", r.num_samples, ",\"num_skipped\":", r.num_skipped,
                ",\"bytes\":", r.bytes_on_disk, ",\"seconds\":", r.seconds,
                ",\"skipped_examples\":[", examples, "],\"warnings\":[", warnings, "]}");
}

class PyEngine {
 public:
  static std::unique_ptr<PyEngine> Open(const std::string& dir) {
    Result<std::unique_ptr<engine::Engine>> eng = Status::Internal("unset");
    {
      py::gil_scoped_release release;
      eng = engine::Engine::Open(dir);
    }
    return std::unique_ptr<PyEngine>(new PyEngine(ValueOrThrow(std::move(eng))));
  }

  // Registers a spec given as YAML/JSON text. Returns the report as JSON text.
  std::string Register(const std::string& spec_text, const std::string& base_dir,
                       const std::string& origin, py::object parser, int num_threads) {
    auto spec = ingest::ParseDatasetSpec(spec_text, base_dir);
    if (!spec.ok()) ThrowStatus(origin.empty() ? spec.status() : spec.status().WithContext(origin));
    std::unique_ptr<PyRecordParser> record_parser;
    if (!parser.is_none())
      record_parser = std::make_unique<PyRecordParser>(parser, spec->properties);
    ingest::IngestOptions options;
    options.show_progress = StderrIsTerminal();
    options.num_threads = num_threads;
    Result<ingest::IngestReport> report = Status::Internal("unset");
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      report = engine_->RegisterDataset(*spec, options, record_parser.get());
      record_parser.reset();
    }
    ingest::IngestReport r = ValueOrThrow(std::move(report));
    for (const auto& w : r.warnings) LogWarning(w);
    return ReportJson(spec->name, r);
  }

  std::vector<std::string> ListDatasetsJson() {
    auto list = Locked([&] { return engine_->ListDatasets(); });
    std::vector<std::string> out;
    for (const auto& d : list) out.push_back(engine::DatasetInfoJson(d));
    return out;
  }

  std::string DatasetInfoJson(const std::string& name) {
    auto info = Locked([&] { return engine_->GetDataset(name); });
    return engine::DatasetInfoJson(info);
  }

  // Counts and stores the exact token counts of a dataset (engine::Engine::CountTokens);
  // returns the report as JSON.
  std::string CountTokens(const std::string& name, const std::string& tokenizer, int threads) {
    engine::TokenCountOptions options;
    options.threads = threads;
    auto report = Locked([&] { return engine_->CountTokens(name, tokenizer, options); });
    return engine::TokenCountReportJson(report);
  }

  void RemoveDataset(const std::string& name) {
    Status st;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      st = engine_->RemoveDataset(name);
    }
    ThrowIfError(st);
  }

  std::string VerifyJson(std::optional<std::string> name) {
    auto report = Locked([&] { return engine_->Verify(name); });
    std::vector<std::string> changes;
    for (const auto& c : report.changes) {
      changes.push_back(StrCat("{\"dataset\":", JsonQuote(c.dataset),
                               ",\"path\":", JsonQuote(c.path), ",\"change\":", JsonQuote(c.change),
                               ",\"registered_size_bytes\":", c.registered_size_bytes,
                               ",\"current_size_bytes\":", c.current_size_bytes,
                               ",\"registered_mtime_ns\":", c.registered_mtime_ns,
                               ",\"current_mtime_ns\":", c.current_mtime_ns, "}"));
    }
    return StrCat("{\"num_files_checked\":", report.num_files_checked, ",\"changes\":[",
                  StrJoin(changes, ","), "]}");
  }

  // Executes a query: `branches` are (kind, text) pairs OR-ed together, kind "json" (the
  // Python forms, query/predicate_json.h) or "where" (the text grammar). Returns the job
  // summary as JSON.
  std::string ExecuteQuery(const std::string& job_id,
                           const std::vector<std::pair<std::string, std::string>>& branches,
                           const std::string& mixture_json, int64_t dp_groups,
                           int64_t nodes_per_group, int64_t num_workers,
                           const std::string& tokenizer, int64_t sequence_length, bool overlapping,
                           bool bos, bool eos) {
    model::Predicate where;
    std::vector<model::Predicate> parsed;
    for (const auto& [kind, text] : branches) {
      Result<model::Predicate> p = Status::Internal("unset");
      if (kind == "json") {
        p = query::PredicateFromJson(text);
      } else if (kind == "where") {
        p = query::ParseWhere(text);
      } else {
        p = Status::InvalidArgument(StrCat("unknown query branch kind '", kind, "'"));
      }
      parsed.push_back(ValueOrThrow(std::move(p)));
    }
    if (parsed.size() == 1) {
      where = std::move(parsed[0]);
    } else if (parsed.size() > 1) {
      where.kind = model::Predicate::Kind::kOr;
      where.children = std::move(parsed);
    }
    model::MixtureSpec spec = ValueOrThrow(mixture::ParseMixtureSpec(mixture_json, "mixture"));
    engine::JobOptions options;
    options.topology = {dp_groups, nodes_per_group, std::max<int64_t>(1, num_workers)};
    options.tokenizer = tokenizer;
    options.packing = {sequence_length, overlapping, bos, eos};
    auto job = Locked([&] { return engine_->ExecuteQuery(job_id, where, spec, options); });
    std::string summary = engine::JobSummaryJson(*job);
    for (const auto& w : job->definition().warnings) LogWarning(w);
    std::lock_guard<std::mutex> lock(mu_);
    jobs_[job_id] = std::move(job);
    return summary;
  }

  // Chunk k of a job as JSON: {"status": "chunk", ...descriptor} | {"status": "not_yet"} |
  // {"status": "end"}. Jobs of earlier sessions are opened from the directory.
  std::string GetChunkJson(const std::string& job_id, int64_t k) {
    chunk::Job* job = FindJob(job_id);
    auto reply = [&] {
      py::gil_scoped_release release;
      return job->GetChunk(k);
    }();
    chunk::ChunkReply r = ValueOrThrow(std::move(reply));
    if (r.status == chunk::ChunkStatus::kEnd) return "{\"status\":\"end\"}";
    if (r.status == chunk::ChunkStatus::kNotYet) return "{\"status\":\"not_yet\"}";
    std::string body = job->ChunkJson(r.chunk);
    return "{\"status\":\"chunk\"," + body.substr(1);
  }

  std::string JobSummary(const std::string& job_id) {
    return engine::JobSummaryJson(*FindJob(job_id));
  }

  const std::string& dir() const { return dir_; }

  // Releases the metadata store (and its file lock) and the open jobs; the Python client
  // refuses further calls.
  void Close() {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.clear();
    engine_.reset();
  }

 private:
  explicit PyEngine(std::unique_ptr<engine::Engine> e)
      : engine_(std::move(e)), dir_(engine_->dir()) {}

  // Runs `fn` without the GIL and returns its value or raises.
  template <typename Fn>
  auto Locked(Fn fn) -> std::decay_t<decltype(fn().value())> {
    using R = decltype(fn());
    std::optional<R> result;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      result.emplace(fn());
    }
    return ValueOrThrow(std::move(*result));
  }

  chunk::Job* FindJob(const std::string& job_id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = jobs_.find(job_id);
      if (it != jobs_.end()) return it->second.get();
    }
    ThrowIfError(chunk::ValidateJobId(job_id));
    Result<std::unique_ptr<chunk::Job>> job = Status::Internal("unset");
    {
      py::gil_scoped_release release;
      job = chunk::Job::Open(engine_->JobDir(job_id));
    }
    auto opened = ValueOrThrow(std::move(job));
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = jobs_[job_id];
    if (slot == nullptr) slot = std::move(opened);
    return slot.get();
  }

  std::map<std::string, std::unique_ptr<chunk::Job>> jobs_;
  std::unique_ptr<engine::Engine> engine_;  // null after Close()
  std::string dir_;
  // The engine is not thread-safe: calls from several Python threads take turns.
  std::mutex mu_;
};

}  // namespace
}  // namespace mixtera::python

PYBIND11_MODULE(_mixtera, m) {
  using mixtera::python::PyEngine;
  m.doc() = "Native core of Mixtera (use the `mixtera` package, not this module)";
  py::class_<PyEngine>(m, "Engine")
      .def_static("open", &PyEngine::Open, py::arg("directory"))
      .def("register", &PyEngine::Register, py::arg("spec_text"), py::arg("base_dir"),
           py::arg("origin"), py::arg("parser"), py::arg("num_threads") = 0)
      .def("list_datasets_json", &PyEngine::ListDatasetsJson)
      .def("dataset_info_json", &PyEngine::DatasetInfoJson, py::arg("name"))
      .def("remove_dataset", &PyEngine::RemoveDataset, py::arg("name"))
      .def("verify_json", &PyEngine::VerifyJson, py::arg("name") = py::none())
      .def("execute_query", &PyEngine::ExecuteQuery, py::arg("job_id"), py::arg("branches"),
           py::arg("mixture_json"), py::arg("dp_groups"), py::arg("nodes_per_group"),
           py::arg("num_workers"), py::arg("tokenizer") = "", py::arg("sequence_length") = 0,
           py::arg("overlapping") = false, py::arg("bos") = false, py::arg("eos") = false)
      .def("count_tokens", &PyEngine::CountTokens, py::arg("name"), py::arg("tokenizer"),
           py::arg("threads") = 0)
      .def("get_chunk_json", &PyEngine::GetChunkJson, py::arg("job_id"), py::arg("index"))
      .def("job_summary_json", &PyEngine::JobSummary, py::arg("job_id"))
      .def("close", &PyEngine::Close)
      .def_property_readonly("directory", &PyEngine::dir);
  m.def(
      "canonical_where",
      [](const std::string& text) {
        return mixtera::query::PredicateToString(
            mixtera::python::ValueOrThrow(mixtera::query::ParseWhere(text)));
      },
      py::arg("text"), "The canonical text form of a where expression (raises on errors)");
  mixtera::python::BindTokenizer(m);
  mixtera::python::BindSampleStream(m);
  mixtera::python::BindMixingAlgorithms(m);
}
