#include "stream_bindings.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "client/chunk_source.h"
#include "client/sample_stream.h"
#include "engine/engine.h"
#include "status_bridge.h"
#include "tokenizer_bindings.h"

namespace py = pybind11;

namespace mixtera::python {
namespace {

// A WebDataset record (formats::EncodeTarRecord's framing) as {"__key__": key, ext: bytes}.
py::dict TarRecordDict(const std::string& record) {
  size_t pos = 0;
  auto u32 = [&] {
    uint32_t v = 0;
    for (int b = 0; b < 4; ++b)
      v |= static_cast<uint32_t>(static_cast<uint8_t>(record[pos++])) << (8 * b);
    return v;
  };
  auto u64 = [&] {
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(record[pos++])) << (8 * b);
    return v;
  };
  py::dict out;
  const uint32_t key_len = u32();
  out["__key__"] = py::str(record.data() + pos, key_len);
  pos += key_len;
  const uint32_t members = u32();
  for (uint32_t m = 0; m < members; ++m) {
    const uint32_t ext_len = u32();
    py::str ext(record.data() + pos, ext_len);
    pos += ext_len;
    const uint64_t len = u64();
    out[ext] = py::bytes(record.data() + pos, len);
    pos += len;
  }
  return out;
}

// A 1-D or 2-D numpy array over `data`, kept alive by `owner` (no copy).
template <typename T, typename Owner>
py::array_t<T> ArrayOver(std::shared_ptr<Owner> owner, const T* data,
                         std::vector<py::ssize_t> shape) {
  std::vector<py::ssize_t> strides(shape.size(), sizeof(T));
  if (shape.size() == 2) strides[0] = shape[1] * static_cast<py::ssize_t>(sizeof(T));
  auto* holder = new std::shared_ptr<Owner>(std::move(owner));
  py::capsule free_when_done(holder,
                             [](void* p) { delete static_cast<std::shared_ptr<Owner>*>(p); });
  return py::array_t<T>(shape, strides, data, free_when_done);
}

class PySampleStream {
 public:
  static std::unique_ptr<PySampleStream> Open(const std::string& directory,
                                              const std::string& job_id, int64_t dp_group,
                                              int64_t node, int64_t worker, const std::string& mode,
                                              py::object tokenizer, int64_t sequence_length,
                                              bool overlapping, std::optional<int32_t> bos,
                                              std::optional<int32_t> eos, bool document_starts,
                                              int64_t prefetch_chunks, int tokenize_threads,
                                              int64_t start, py::object engine, bool decide) {
    client::StreamOptions options;
    options.dp_group = dp_group;
    options.node = node;
    options.worker = worker;
    if (mode == "text") {
      options.mode = client::StreamMode::kText;
    } else if (mode == "dict") {
      options.mode = client::StreamMode::kDict;
    } else if (mode == "tokens") {
      options.mode = client::StreamMode::kTokens;
    } else {
      ThrowStatus(Status::InvalidArgument("mode must be \"text\", \"dict\" or \"tokens\", got \"" +
                                          mode + "\""));
    }
    options.sequence_length = sequence_length;
    options.overlapping = overlapping;
    options.bos = bos;
    options.eos = eos;
    options.document_starts = document_starts;
    options.prefetch_chunks = prefetch_chunks;
    options.tokenize_threads = tokenize_threads;
    options.start = start;
    std::shared_ptr<const tokenize::Tokenizer> tok;
    if (!tokenizer.is_none()) tok = tokenizer.cast<const PyTokenizer&>().shared();
    // In the process that owns the job (the client's engine) the stream reads the live job
    // and, with `decide`, reports the chunks it starts; elsewhere (DataLoader workers) it
    // opens the job folder and follows its state log.
    std::shared_ptr<engine::JobManager> jobs;
    if (!engine.is_none()) jobs = JobManagerOf(engine);
    Result<std::unique_ptr<client::SampleStream>> stream = Status::Internal("unset");
    {
      py::gil_scoped_release release;
      Result<std::unique_ptr<client::ChunkSource>> source =
          jobs != nullptr
              ? client::ManagedChunkSource(jobs, job_id, decide)
              : client::FollowingChunkSource(engine::Engine::JobDirOf(directory, job_id));
      if (!source.ok()) {
        stream = source.status();
      } else {
        stream = client::SampleStream::Open(std::move(source).value(), options, tok);
      }
    }
    auto out = std::make_unique<PySampleStream>();
    out->stream_ = ValueOrThrow(std::move(stream));
    out->mode_ = options.mode;
    return out;
  }

  ~PySampleStream() {
    py::gil_scoped_release release;  // stopping the prefetch thread may wait for a refit
    stream_.reset();
  }

  // The next chunk as a dict, or None at the end.
  py::object NextChunk() {
    Result<std::unique_ptr<client::LoadedChunk>> next = Status::Internal("unset");
    // Python runs signal handlers (Ctrl-C) only in the main thread between bytecodes: the
    // chunk is read on another thread while this one looks for signals, so a wait for an
    // undecided chunk ends on Ctrl-C (the stream is then cancelled).
    PyObject* signal_type = nullptr;
    PyObject* signal_value = nullptr;
    PyObject* signal_trace = nullptr;
    if (stream_->NextIsReady()) {
      // The common case: read-ahead is ahead of the loop; no helper thread is needed.
      py::gil_scoped_release release;
      next = stream_->Next();
    } else {
      py::gil_scoped_release release;
      client::SampleStream* stream = stream_.get();
      std::future<Result<std::unique_ptr<client::LoadedChunk>>> done =
          std::async(std::launch::async, [stream] { return stream->Next(); });
      while (done.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        py::gil_scoped_acquire gil;
        if (signal_type == nullptr && PyErr_CheckSignals() != 0) {
          PyErr_Fetch(&signal_type, &signal_value, &signal_trace);
          stream->Cancel();
        }
      }
      next = done.get();
    }
    if (signal_type != nullptr) {
      PyErr_Restore(signal_type, signal_value, signal_trace);
      throw py::error_already_set();
    }
    std::unique_ptr<client::LoadedChunk> loaded = ValueOrThrow(std::move(next));
    if (loaded == nullptr) return py::none();
    py::dict out;
    out["chunk"] = loaded->chunk_index;
    out["position"] = loaded->position;
    out["mixture_id"] = loaded->mixture_id;
    out["part_key_ids"] = loaded->part_key_ids;
    if (mode_ == client::StreamMode::kText) {
      out["key_ids"] = loaded->key_ids;
      py::list texts(loaded->texts.size());
      for (size_t i = 0; i < loaded->texts.size(); ++i) {
        const std::string& t = loaded->texts[i];
        PyObject* s = PyUnicode_DecodeUTF8(t.data(), static_cast<Py_ssize_t>(t.size()), "replace");
        if (s == nullptr) throw py::error_already_set();
        PyList_SET_ITEM(texts.ptr(), i, s);
      }
      out["texts"] = texts;
      return out;
    }
    if (mode_ == client::StreamMode::kDict) {
      out["key_ids"] = loaded->key_ids;
      py::object loads = py::module_::import("json").attr("loads");
      py::list samples(loaded->texts.size());
      for (size_t i = 0; i < loaded->texts.size(); ++i) {
        const std::string& record = loaded->texts[i];
        py::object sample = loaded->record_is_tar[i] ? TarRecordDict(record)
                                                     : loads(py::str(record.data(), record.size()));
        PyList_SET_ITEM(samples.ptr(), i, sample.release().ptr());
      }
      out["samples"] = samples;
      return out;
    }
    std::shared_ptr<client::LoadedChunk> owner(std::move(loaded));
    const client::PackedWindows& w = owner->windows;
    out["windows"] = ArrayOver<int32_t>(owner, w.tokens.data(), {w.num_windows(), w.window_length});
    out["key_ids"] = ArrayOver<int32_t>(owner, w.key_ids.data(), {w.num_windows()});
    out["wasted_tokens"] = w.wasted_tokens;
    if (!w.doc_start_begin.empty()) {
      out["doc_starts"] = ArrayOver<int32_t>(owner, w.doc_starts.data(),
                                             {static_cast<py::ssize_t>(w.doc_starts.size())});
      out["doc_start_begin"] = ArrayOver<int64_t>(
          owner, w.doc_start_begin.data(), {static_cast<py::ssize_t>(w.doc_start_begin.size())});
    }
    return out;
  }

 private:
  std::unique_ptr<client::SampleStream> stream_;
  client::StreamMode mode_ = client::StreamMode::kText;
};

}  // namespace

// What a consumer needs to know about a job before streaming it, read by the job's own code
// (Python never parses job files): topology, token packing, dynamic and lag.
py::dict JobInfo(const std::string& directory, const std::string& job_id) {
  ThrowIfError(chunk::ValidateJobId(job_id));
  Result<std::unique_ptr<chunk::Job>> opened = Status::Internal("unset");
  {
    py::gil_scoped_release release;
    opened = chunk::Job::Open(engine::Engine::JobDirOf(directory, job_id));
  }
  std::unique_ptr<chunk::Job> job = ValueOrThrow(std::move(opened));
  const chunk::JobDefinition& def = job->definition();
  py::dict topology, packing, out;
  topology["dp_groups"] = def.topology.dp_groups;
  topology["nodes_per_group"] = def.topology.nodes_per_group;
  topology["num_workers"] = def.topology.num_workers;
  packing["sequence_length"] = def.packing.sequence_length;
  packing["overlapping"] = def.packing.overlapping;
  packing["bos"] = def.packing.bos;
  packing["eos"] = def.packing.eos;
  out["topology"] = topology;
  out["packing"] = packing;
  out["dynamic"] = job->dynamic();
  out["lag_chunks"] = job->lag_chunks();
  return out;
}

void BindSampleStream(py::module_& m) {
  m.def("job_info", &JobInfo, py::arg("directory"), py::arg("job_id"),
        "A job's topology, packing, dynamic and lag_chunks (raises NotFoundError)");
  py::class_<PySampleStream>(m, "SampleStream")
      .def_static("open", &PySampleStream::Open, py::arg("directory"), py::arg("job_id"),
                  py::arg("dp_group"), py::arg("node"), py::arg("worker"), py::arg("mode"),
                  py::arg("tokenizer"), py::arg("sequence_length"), py::arg("overlapping"),
                  py::arg("bos"), py::arg("eos"), py::arg("document_starts"),
                  py::arg("prefetch_chunks"), py::arg("tokenize_threads"), py::arg("start"),
                  py::arg("engine") = py::none(), py::arg("decide") = false)
      .def("next_chunk", &PySampleStream::NextChunk);
}

}  // namespace mixtera::python
