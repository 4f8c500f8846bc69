// The `_mixtera` extension: thin conversions over the engine (style.md §2.10). Everything
// that blocks runs with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "base/logging.h"
#include "base/strings.h"
#include "engine/engine.h"
#include "engine/job_manager.h"
#include "ingest/spec_parser.h"
#include "mixing_bindings.h"
#include "mixture/mixture_parser.h"
#include "model/limits.h"
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

// A live job's driver written in Python (mixtera.client builds the two callables from the
// mixture's algorithm): start(initial: float64 array); on_feedback(step, mixture_id, losses,
// counts) -> weights or None. Runs on the job manager's pool threads, taking the GIL.
class PyDriver final : public engine::MixingDriver {
 public:
  PyDriver(py::object start, py::object on_feedback)
      : start_(std::move(start)), on_feedback_(std::move(on_feedback)) {}
  ~PyDriver() override {
    py::gil_scoped_acquire gil;
    start_ = py::object();
    on_feedback_ = py::object();
  }
  Status Start(const std::vector<double>& initial) override {
    py::gil_scoped_acquire gil;
    try {
      py::array_t<double> a(static_cast<py::ssize_t>(initial.size()));
      std::copy(initial.begin(), initial.end(), a.mutable_data());
      start_(a);
    } catch (py::error_already_set& e) {
      return Status::InvalidArgument(StrCat("the mixing algorithm's start failed: ", e.what()));
    }
    return Status::OK();
  }
  Result<std::optional<std::vector<double>>> OnFeedback(const chunk::FeedbackRecord& f) override {
    py::gil_scoped_acquire gil;
    try {
      py::array_t<float> losses(static_cast<py::ssize_t>(f.losses.size()));
      std::copy(f.losses.begin(), f.losses.end(), losses.mutable_data());
      py::array_t<int64_t> counts(static_cast<py::ssize_t>(f.counts.size()));
      std::copy(f.counts.begin(), f.counts.end(), counts.mutable_data());
      py::object out = on_feedback_(f.training_step, f.mixture_id, losses, counts);
      if (out.is_none()) return std::optional<std::vector<double>>();
      return std::optional<std::vector<double>>(out.cast<std::vector<double>>());
    } catch (py::error_already_set& e) {
      return Status::InvalidArgument(StrCat("the mixing algorithm failed: ", e.what()));
    } catch (const py::cast_error& e) {
      return Status::InvalidArgument(
          StrCat("the mixing algorithm returned something other than weights: ", e.what()));
    }
  }

 private:
  py::object start_;
  py::object on_feedback_;
};

class PyEngine {
 private:
  // Runs `fn` (a job manager call) without the GIL and returns its value or raises.
  template <typename Fn>
  auto Unlocked(Fn fn) {
    if (jobs_ == nullptr) ThrowStatus(Status::FailedPrecondition("the client is closed"));
    using R = decltype(fn());
    std::optional<R> result;
    {
      py::gil_scoped_release release;
      result.emplace(fn());
    }
    if constexpr (std::is_same_v<R, Status>) {
      return std::move(*result);
    } else {
      return ValueOrThrow(std::move(*result));
    }
  }

  std::shared_ptr<chunk::Job> Job(const std::string& job_id) {
    return Unlocked([&] { return jobs_->Get(job_id); });
  }

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
    std::atomic<bool> cancel{false};
    options.cancel = &cancel;
    Result<ingest::IngestReport> report = Status::Internal("unset");
    // A signal (Ctrl-C) while the registration runs: its exception, raised after the
    // registration stopped with nothing committed.
    PyObject* signal_type = nullptr;
    PyObject* signal_value = nullptr;
    PyObject* signal_trace = nullptr;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      std::future<Result<ingest::IngestReport>> done = std::async(std::launch::async, [&] {
        return engine_->RegisterDataset(*spec, options, record_parser.get());
      });
      // Python runs signal handlers only in the main thread between bytecodes: look for
      // them while the registration runs.
      while (done.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        py::gil_scoped_acquire gil;
        if (signal_type == nullptr && PyErr_CheckSignals() != 0) {
          PyErr_Fetch(&signal_type, &signal_value, &signal_trace);
          cancel = true;
        }
      }
      report = done.get();
      py::gil_scoped_acquire gil;
      if (signal_type == nullptr && PyErr_CheckSignals() != 0) {
        // The signal came while the registration committed: undo it, so that an interrupted
        // register_dataset never leaves the dataset behind.
        PyErr_Fetch(&signal_type, &signal_value, &signal_trace);
        if (report.ok()) {
          py::gil_scoped_release unlocked;
          Status removed = engine_->RemoveDataset(spec->name);
          if (!removed.ok()) LogWarning(removed.ToString());
        }
      }
    }
    if (signal_type != nullptr) {
      record_parser.reset();
      PyErr_Restore(signal_type, signal_value, signal_trace);
      throw py::error_already_set();
    }
    if (record_parser != nullptr) record_parser->RaiseInterrupt();
    record_parser.reset();
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
    Status adopted;
    {
      py::gil_scoped_release release;
      adopted = jobs_->Adopt(std::shared_ptr<chunk::Job>(std::move(job)));
    }
    ThrowIfError(adopted);
    return summary;
  }

  // Chunk k of a job: {"status": "chunk" | "not_yet" | "end"} and, for a chunk, "index",
  // "mixture_id", "partial" and "keys": [{"key_id", "num_samples", "ranges": [{"file",
  // "begin", "end"}]}]. Jobs of earlier sessions are opened from the directory.
  py::dict GetChunk(const std::string& job_id, int64_t k) {
    auto job = Job(job_id);
    chunk::ChunkReply r = Unlocked([&] { return jobs_->GetChunk(job_id, k); });
    py::dict out;
    if (r.status != chunk::ChunkStatus::kChunk) {
      out["status"] = r.status == chunk::ChunkStatus::kEnd ? "end" : "not_yet";
      return out;
    }
    out["status"] = "chunk";
    out["index"] = r.chunk.index;
    out["mixture_id"] = r.chunk.mixture_id;
    out["partial"] = r.chunk.partial;
    py::list& key_objects = key_objects_[job_id];
    if (key_objects.empty()) {
      py::object loads = py::module_::import("json").attr("loads");
      for (size_t i = 0; i < job->definition().keys.size(); ++i) {
        key_objects.append(loads(job->KeyJsonText(static_cast<int32_t>(i))));
      }
    }
    const bool exact = job->definition().exact_tokens;
    auto split = [&](const std::optional<chunk::SplitDocument>& d, const char* what) -> py::object {
      if (!d) return py::none();
      py::dict document;
      document["file"] = job->definition().files[d->file_index].path;
      document["sample"] = d->sample;
      document[what] = d->tokens;
      return document;
    };
    py::list keys;
    for (const auto& part : r.chunk.keys) {
      py::dict key;
      key["key"] = key_objects[part.key_id];
      key["key_id"] = part.key_id;
      key["num_samples"] = part.num_samples;
      if (exact) {
        key["num_tokens"] = part.num_tokens;
        key["head"] = split(part.head, "skip_tokens");
        key["tail"] = split(part.tail, "keep_tokens");
      }
      py::list ranges;
      for (const auto& range : part.ranges) {
        py::dict d;
        d["file"] = job->definition().files[range.file_index].path;
        d["begin"] = range.begin;
        d["end"] = range.end;
        ranges.append(std::move(d));
      }
      key["ranges"] = std::move(ranges);
      keys.append(std::move(key));
    }
    out["keys"] = std::move(keys);
    return out;
  }

  std::string JobSummary(const std::string& job_id) { return engine::JobSummaryJson(*Job(job_id)); }

  // A consumer of this process starts chunk k of the job (engine::JobManager::StartChunk).
  void StartChunk(const std::string& job_id, int64_t k) {
    ThrowIfError(Unlocked([&] { return jobs_->StartChunk(job_id, k); }));
  }

  py::dict ProcessFeedback(const std::string& job_id, int64_t step, int64_t mixture_id,
                           py::array_t<float, py::array::c_style | py::array::forcecast> losses,
                           py::array_t<int64_t, py::array::c_style | py::array::forcecast> counts,
                           int64_t dp_group, int64_t position) {
    engine::ClientFeedback f;
    f.training_step = step;
    f.mixture_id = mixture_id;
    f.losses.assign(losses.data(), losses.data() + losses.size());
    f.counts.assign(counts.data(), counts.data() + counts.size());
    f.dp_group = dp_group;
    f.position = position;
    engine::FeedbackResult r = Unlocked([&] { return jobs_->ProcessFeedback(job_id, f); });
    py::dict out;
    out["duplicate"] = r.duplicate;
    out["ignored"] = r.ignored;
    out["applies_at"] = r.applies_at;
    return out;
  }

  // Attaches a live job's mixing algorithm: a native one (`native`, a
  // `_mixtera.MixingAlgorithm`) or Python callables (PyDriver).
  void SetMixingAlgorithm(const std::string& job_id, py::object native, py::object start,
                          py::object on_feedback) {
    std::shared_ptr<engine::MixingDriver> driver;
    if (!native.is_none()) {
      driver = NativeDriverOf(native);
      if (driver == nullptr) {
        ThrowStatus(Status::InvalidArgument("not a native mixing algorithm"));
      }
    } else {
      driver = std::make_shared<PyDriver>(std::move(start), std::move(on_feedback));
    }
    ThrowIfError(Unlocked([&] { return jobs_->SetDriver(job_id, std::move(driver)); }));
  }

  std::vector<std::pair<int64_t, std::vector<double>>> MixtureLog(const std::string& job_id) {
    auto log = Unlocked([&] { return jobs_->MixtureLog(job_id); });
    std::vector<std::pair<int64_t, std::vector<double>>> out;
    for (auto& e : log) out.emplace_back(e.start_chunk, std::move(e.weights));
    return out;
  }

  py::dict JobStatus(const std::string& job_id) {
    engine::LiveJobStatus s = Unlocked([&] { return jobs_->JobStatus(job_id); });
    py::dict out;
    out["job_id"] = s.job_id;
    out["dynamic"] = s.dynamic;
    out["writer"] = s.writer;
    out["lag_chunks"] = s.lag_chunks;
    out["horizon"] = s.horizon;
    out["planned_chunks"] = s.planned_chunks;
    out["num_mixtures"] = s.num_mixtures;
    out["feedback_records"] = s.feedback_records;
    out["pending_feedback"] = s.pending_feedback;
    out["driver_errors"] = s.driver_errors;
    out["last_driver_error"] = s.last_driver_error;
    return out;
  }

  void Drain(const std::string& job_id) {
    ThrowIfError(Unlocked([&] { return jobs_->Drain(job_id); }));
  }

  const std::shared_ptr<engine::JobManager>& jobs() const {
    if (jobs_ == nullptr) ThrowStatus(Status::FailedPrecondition("the client is closed"));
    return jobs_;
  }

  const std::string& dir() const { return dir_; }

  // Releases the metadata store (and its file lock) and the live jobs (streams still open
  // keep theirs); the Python client refuses further calls.
  void Close() {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.reset();
    engine_.reset();
  }

  ~PyEngine() {
    py::gil_scoped_release release;  // the job manager's pool may be waiting for the GIL
    jobs_.reset();
    engine_.reset();
  }

 private:
  explicit PyEngine(std::unique_ptr<engine::Engine> e)
      : engine_(std::move(e)),
        dir_(engine_->dir()),
        jobs_(std::make_shared<engine::JobManager>(dir_)) {}

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

  std::unique_ptr<engine::Engine> engine_;  // null after Close()
  std::string dir_;
  std::shared_ptr<engine::JobManager> jobs_;     // null after Close()
  std::map<std::string, py::list> key_objects_;  // per job: its keys as Python dicts
  // The engine is not thread-safe: calls from several Python threads take turns.
  std::mutex mu_;
};

}  // namespace

std::shared_ptr<engine::JobManager> JobManagerOf(py::handle engine) {
  return engine.cast<const PyEngine&>().jobs();
}

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
      .def("get_chunk", &PyEngine::GetChunk, py::arg("job_id"), py::arg("index"))
      .def("job_summary_json", &PyEngine::JobSummary, py::arg("job_id"))
      .def("start_chunk", &PyEngine::StartChunk, py::arg("job_id"), py::arg("index"))
      .def("process_feedback", &PyEngine::ProcessFeedback, py::arg("job_id"), py::arg("step"),
           py::arg("mixture_id"), py::arg("losses"), py::arg("counts"), py::arg("dp_group"),
           py::arg("position"))
      .def("set_mixing_algorithm", &PyEngine::SetMixingAlgorithm, py::arg("job_id"),
           py::arg("native"), py::arg("start"), py::arg("on_feedback"))
      .def("mixture_log", &PyEngine::MixtureLog, py::arg("job_id"))
      .def("job_status", &PyEngine::JobStatus, py::arg("job_id"))
      .def("drain", &PyEngine::Drain, py::arg("job_id"))
      .def("close", &PyEngine::Close)
      .def_property_readonly("directory", &PyEngine::dir);
  m.def(
      "canonical_where",
      [](const std::string& text) {
        return mixtera::query::PredicateToString(
            mixtera::python::ValueOrThrow(mixtera::query::ParseWhere(text)));
      },
      py::arg("text"), "The canonical text form of a where expression (raises on errors)");
  m.def(
      "limits",
      [] {
        py::dict out;
        for (const auto& limit : mixtera::model::limits::kAll) {
          out[py::str(std::string(limit.name))] = py::make_tuple(limit.min, limit.max);
        }
        return out;
      },
      "The table of ranges of every number a user gives: {name: (min, max)} "
      "(docs/reliability.md)");
  mixtera::python::BindTokenizer(m);
  mixtera::python::BindSampleStream(m);
  mixtera::python::BindMixingAlgorithms(m);
}
