#include "ingest/ingester.h"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>
#include <variant>

#include "base/logging.h"
#include "base/macros.h"
#include "base/strings.h"
#include "base/thread_pool.h"
#include "ingest/batch_queue.h"
#include "ingest/file_listing.h"
#include "ingest/file_scanner.h"

namespace mixtera::ingest {
namespace {

using Clock = std::chrono::steady_clock;

// What a scanner hands to the appending thread: a batch, or the end of a file (with its
// final record, or the error that ended it).
struct FileDone {
  size_t index = 0;
  Status status;
};
using QueueItem = std::variant<model::SampleBatch, FileDone>;

// Prints "\r<label> files a/b, N samples, X MB, Y MB/s" on stderr about twice a second.
class ProgressLine {
 public:
  ProgressLine(const ScanShared* shared, std::string label, int64_t num_files, int64_t total_bytes)
      : shared_(shared),
        label_(std::move(label)),
        num_files_(num_files),
        total_bytes_(total_bytes) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~ProgressLine() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    Print();
    std::fputc('\n', stderr);
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stop_; })) Print();
  }
  void Print() {
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    int64_t bytes = shared_->bytes_done.load();
    std::fprintf(
        stderr, "\r%s: files %lld/%lld, %lld samples, %s of %s, %.1f MB/s   ", label_.c_str(),
        static_cast<long long>(shared_->files_done.load()), static_cast<long long>(num_files_),
        static_cast<long long>(shared_->samples_done.load()), HumanBytes(bytes).c_str(),
        HumanBytes(total_bytes_).c_str(), secs > 0 ? static_cast<double>(bytes) / 1e6 / secs : 0.0);
    std::fflush(stderr);
  }

  const ScanShared* shared_;
  std::string label_;
  int64_t num_files_;
  int64_t total_bytes_;
  Clock::time_point start_ = Clock::now();
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

struct IngestSession::State {
  model::DatasetSpec spec;
  IngestOptions options;
  RecordParser* parser = nullptr;
  std::string staging_dir;
  Clock::time_point start;
  std::unique_ptr<JsonPropertyExtractor> extractor;
  std::vector<model::FileRecord> files;
  ScanShared shared;
  std::unique_ptr<BoundedQueue<QueueItem>> queue;
  std::unique_ptr<ProgressLine> progress;
  std::unique_ptr<ThreadPool> pool;
  size_t files_reported = 0;
  bool finished = false;

  // Pops items until a batch arrives (returned) or every file has reported (nullopt),
  // handing the files' reports to on_file.
  std::optional<model::SampleBatch> NextBatch(const std::function<void(FileDone&)>& on_file) {
    while (files_reported < files.size()) {
      QueueItem item = queue->Pop();
      if (auto* batch = std::get_if<model::SampleBatch>(&item)) return std::move(*batch);
      ++files_reported;
      on_file(std::get<FileDone>(item));
    }
    return std::nullopt;
  }

  // Pops the rest of the queue, dropping the batches, so that no scanner stays blocked on
  // a full queue.
  void Drain(const std::function<void(FileDone&)>& on_file) {
    while (auto batch = NextBatch(on_file)) shared.ReturnBatch(std::move(*batch));
  }
};

IngestSession::IngestSession(std::unique_ptr<State> state) : state_(std::move(state)) {}

IngestSession::~IngestSession() {
  if (!state_->finished) {
    state_->shared.cancelled = true;
    state_->Drain([](FileDone&) {});
  }
  if (state_->pool) state_->pool->Stop();
  state_->progress.reset();
}

Result<std::unique_ptr<IngestSession>> IngestSession::Start(const model::DatasetSpec& spec,
                                                            const std::string& staging_dir,
                                                            const IngestOptions& options,
                                                            RecordParser* parser) {
  auto state = std::make_unique<State>();
  State& s = *state;
  s.start = Clock::now();
  s.spec = spec;
  s.options = options;
  s.parser = parser;
  s.staging_dir = staging_dir;
  if (parser != nullptr && spec.format != model::DataFormat::kJsonl) {
    return Status::InvalidArgument(StrCat(
        "dataset '", spec.name, "': a parser callable is supported for jsonl datasets only"));
  }
  MIXTERA_ASSIGN_OR_RETURN(std::vector<std::string> paths, ExpandPathPatterns(spec.path_patterns));
  if (!options.mixtera_dir.empty()) {
    const std::string inside = options.mixtera_dir + "/";
    const size_t before = paths.size();
    // Compared after resolving symlinks, as the Mixtera directory is.
    std::erase_if(paths, [&](const std::string& p) {
      std::error_code ec;
      const std::string real = std::filesystem::weakly_canonical(p, ec).string();
      return (ec ? p : real).compare(0, inside.size(), inside) == 0;
    });
    if (paths.empty()) {
      return Status::InvalidArgument(
          StrCat("dataset '", spec.name,
                 "': the path patterns match only files inside the Mixtera "
                 "directory '",
                 options.mixtera_dir, "' (its store and offsets are not data)"));
    }
    if (paths.size() < before) {
      s.shared.warnings.push_back(
          StrCat(before - paths.size(), " files matched inside the Mixtera directory '",
                 options.mixtera_dir, "' were left out (its store and offsets are not data)"));
    }
  }

  std::vector<std::string> pointers;
  for (const auto& p : spec.properties) pointers.push_back(p.field);
  std::vector<std::string> text_pointers;
  if (spec.format == model::DataFormat::kJsonl) text_pointers = spec.text_fields;
  if (spec.format != model::DataFormat::kJsonl) pointers.assign(spec.properties.size(), "");
  MIXTERA_ASSIGN_OR_RETURN(JsonPropertyExtractor extractor,
                           JsonPropertyExtractor::Make(spec.properties, pointers, text_pointers));
  s.extractor = std::make_unique<JsonPropertyExtractor>(std::move(extractor));

  // Until Finish() knows the store's file ids, a file is known by its index in path order.
  s.files.resize(paths.size());
  int64_t total_bytes = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    model::FileRecord& f = s.files[i];
    f.file_id = static_cast<int64_t>(i);
    f.path = paths[i];
    struct stat st;
    if (stat(f.path.c_str(), &st) != 0) {
      return Status::NotFound(StrCat(f.path, ": file disappeared during registration"));
    }
    if (!S_ISREG(st.st_mode)) {  // a FIFO or device would block or never end
      return Status::InvalidArgument(StrCat(f.path, ": not a regular file"));
    }
    f.size_bytes = static_cast<int64_t>(st.st_size);
    f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    total_bytes += f.size_bytes;
  }

  s.shared.spec = &s.spec;
  s.shared.options = &s.options;
  s.shared.parser = parser;
  s.shared.offsets_dir = staging_dir;
  s.shared.json_extractor = s.extractor.get();

  size_t num_threads = options.num_threads > 0 ? static_cast<size_t>(options.num_threads)
                                               : ThreadPool::HardwareThreads();
  num_threads = std::min(num_threads, std::max<size_t>(s.files.size(), 1));
  // Room for the scanners to keep going while the store opens (DuckDB takes ~50 ms to start;
  // with 4096-row batches of small records a scanner fills 16 of them in about that time),
  // bounded all the same: a few MB whatever the corpus size.
  const size_t queue_capacity = 16 * num_threads + 16;
  s.queue = std::make_unique<BoundedQueue<QueueItem>>(queue_capacity);
  // Every batch in flight can come back as a spare.
  s.shared.max_spare_batches = queue_capacity + num_threads + 1;
  if (options.show_progress) {
    s.progress = std::make_unique<ProgressLine>(&s.shared, "register " + spec.name,
                                                static_cast<int64_t>(s.files.size()), total_bytes);
  }
  s.pool = std::make_unique<ThreadPool>(num_threads, options.scanner_nice);
  State* raw = state.get();
  for (size_t i = 0; i < s.files.size(); ++i) {
    s.pool->Submit([raw, i] {
      Status st;
      if (raw->shared.cancelled.load()) {
        st = Status::Cancelled("registration cancelled");
      } else {
        BatchSink sink = [raw](model::SampleBatch&& batch) { raw->queue->Push(std::move(batch)); };
        st = ScanFile(&raw->shared, &raw->files[i], sink);
      }
      // Any failure stops every scan: a Cancelled status of its own (a parser interrupted by
      // KeyboardInterrupt or SystemExit) too, never just this file's share.
      if (!st.ok()) raw->shared.cancelled = true;
      raw->shared.bytes_done += raw->files[i].size_bytes;
      ++raw->shared.files_done;
      raw->queue->Push(FileDone{i, std::move(st)});
    });
  }
  return std::unique_ptr<IngestSession>(new IngestSession(std::move(state)));
}

Result<IngestReport> IngestSession::Finish(store::DatasetWriter* writer,
                                           const std::string& offsets_dir) {
  State& s = *state_;
  MIXTERA_CHECK(!s.finished);
  s.finished = true;
  const std::string& name = s.spec.name;
  auto first_id = writer->ReserveFileIds(static_cast<int64_t>(s.files.size()));
  Status store_error = first_id.status();
  const int64_t first_file_id = first_id.ok() ? *first_id : 0;
  if (!store_error.ok()) s.shared.cancelled = true;

  Status first_error;
  size_t first_error_index = s.files.size();
  // Why the scan was cancelled: the first cancellation that says more than that it was.
  Status cancel_status;
  auto interrupted = [&] {
    if (s.options.cancel != nullptr && s.options.cancel->load()) {
      if (cancel_status.ok()) cancel_status = Status::Cancelled("registration interrupted");
      s.shared.cancelled = true;
    }
    return s.shared.cancelled.load();
  };
  auto on_file = [&](FileDone& done) {
    if (!done.status.ok()) {
      if (done.status.code() == StatusCode::kCancelled) {
        if (cancel_status.ok() && done.status.message() != "registration cancelled") {
          cancel_status = done.status;
        }
      } else if (done.index < first_error_index) {
        first_error_index = done.index;
        first_error = done.status;
      }
      return;
    }
    if (!store_error.ok() || s.shared.cancelled.load()) return;
    model::FileRecord record = s.files[done.index];
    record.file_id = first_file_id + static_cast<int64_t>(done.index);
    record.dataset_id = writer->dataset_id();
    store_error = writer->AddFile(record);
    if (!store_error.ok()) s.shared.cancelled = true;
  };
  if (store_error.ok()) {
    // The batch handed to the writer last; it goes back to the scanners on the next call.
    std::optional<model::SampleBatch> current;
    Status appended = writer->AppendSampleStream([&]() -> Result<const model::SampleBatch*> {
      if (current.has_value()) {
        s.shared.ReturnBatch(std::move(*current));
        current.reset();
      }
      while (auto batch = s.NextBatch(on_file)) {
        if (!store_error.ok() || interrupted()) {
          s.shared.ReturnBatch(std::move(*batch));
          continue;
        }
        batch->file_id += first_file_id;
        current = std::move(batch);
        return &*current;
      }
      return nullptr;
    });
    if (!appended.ok()) {
      if (store_error.ok()) store_error = appended;
      s.shared.cancelled = true;
    }
  }
  // After an error, the rest of the queue (no scanner may stay blocked on it).
  s.Drain(on_file);
  s.pool->Stop();
  s.progress.reset();
  if (!first_error.ok()) return first_error;
  if (!store_error.ok()) return store_error.WithContext(StrCat("storing dataset '", name, "'"));
  if (interrupted()) {
    // Never commit what a cancelled scan delivered: the dataset would silently miss samples.
    return (cancel_status.ok() ? Status::Cancelled("registration cancelled") : cancel_status)
        .WithContext(StrCat("registering dataset '", name, "'"));
  }

  IngestReport report;
  for (size_t i = 0; i < s.files.size(); ++i) {
    const model::FileRecord& f = s.files[i];
    ++report.num_files;
    report.num_samples += f.num_samples;
    report.num_skipped += f.num_skipped;
    report.bytes_on_disk += f.size_bytes;
    const int64_t file_id = first_file_id + static_cast<int64_t>(i);
    for (const char* ext : {".offsets", ".seek"}) {
      std::string from = StrCat(s.staging_dir, "/", i, ext);
      std::string to = StrCat(offsets_dir, "/", file_id, ext);
      if (from == to) continue;
      if (std::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
        return Status::IOError(
            StrCat("cannot move '", from, "' to '", to, "': ", std::strerror(errno)));
      }
    }
  }
  report.skipped_examples = std::move(s.shared.skipped_examples);
  report.warnings = std::move(s.shared.warnings);
  report.seconds = std::chrono::duration<double>(Clock::now() - s.start).count();
  return report;
}

Result<IngestReport> IngestDataset(const model::DatasetSpec& spec, store::DatasetWriter* writer,
                                   const std::string& offsets_dir, const IngestOptions& options,
                                   RecordParser* parser) {
  // Offsets are staged in a subfolder: renaming "<index>" to "<file_id>" in place could
  // overwrite a file not yet renamed.
  std::string staging = offsets_dir + "/.staging";
  if (mkdir(staging.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::IOError(StrCat("cannot create '", staging, "': ", std::strerror(errno)));
  }
  Result<IngestReport> report = Status::Internal("not run");
  {
    auto session = IngestSession::Start(spec, staging, options, parser);
    report = session.ok() ? (*session)->Finish(writer, offsets_dir)
                          : Result<IngestReport>(session.status());
  }
  std::error_code ec;
  std::filesystem::remove_all(staging, ec);
  return report;
}

}  // namespace mixtera::ingest
