#include "ingest/ingester.h"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
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
      : shared_(shared), label_(std::move(label)), num_files_(num_files), total_bytes_(total_bytes) {
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
    std::fprintf(stderr, "\r%s: files %lld/%lld, %lld samples, %s of %s, %.1f MB/s   ",
                 label_.c_str(), static_cast<long long>(shared_->files_done.load()),
                 static_cast<long long>(num_files_), static_cast<long long>(shared_->samples_done.load()),
                 HumanBytes(bytes).c_str(), HumanBytes(total_bytes_).c_str(),
                 secs > 0 ? static_cast<double>(bytes) / 1e6 / secs : 0.0);
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

Result<IngestReport> IngestDataset(const model::DatasetSpec& spec, store::DatasetWriter* writer,
                                   const std::string& offsets_dir, const IngestOptions& options,
                                   RecordParser* parser) {
  Clock::time_point start = Clock::now();
  if (parser != nullptr && spec.format != model::DataFormat::kJsonl) {
    return Status::InvalidArgument(StrCat("dataset '", spec.name,
                                          "': a parser callable is supported for jsonl datasets only"));
  }
  MIXTERA_ASSIGN_OR_RETURN(std::vector<std::string> paths, ExpandPathPatterns(spec.path_patterns));

  std::vector<std::string> pointers;
  for (const auto& p : spec.properties) pointers.push_back(p.field);
  std::vector<std::string> text_pointers;
  if (spec.format == model::DataFormat::kJsonl) text_pointers = spec.text_fields;
  if (spec.format != model::DataFormat::kJsonl) pointers.assign(spec.properties.size(), "");
  MIXTERA_ASSIGN_OR_RETURN(JsonPropertyExtractor extractor,
                           JsonPropertyExtractor::Make(spec.properties, pointers, text_pointers));

  MIXTERA_ASSIGN_OR_RETURN(int64_t first_file_id,
                           writer->ReserveFileIds(static_cast<int64_t>(paths.size())));
  std::vector<model::FileRecord> files(paths.size());
  int64_t total_bytes = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    model::FileRecord& f = files[i];
    f.file_id = first_file_id + static_cast<int64_t>(i);
    f.dataset_id = writer->dataset_id();
    f.path = paths[i];
    struct stat st;
    if (stat(f.path.c_str(), &st) != 0) {
      return Status::NotFound(StrCat(f.path, ": file disappeared during registration"));
    }
    f.size_bytes = static_cast<int64_t>(st.st_size);
    f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    total_bytes += f.size_bytes;
  }

  ScanShared shared;
  shared.spec = &spec;
  shared.options = &options;
  shared.parser = parser;
  shared.offsets_dir = offsets_dir;
  shared.json_extractor = &extractor;

  size_t num_threads = options.num_threads > 0 ? static_cast<size_t>(options.num_threads)
                                               : ThreadPool::HardwareThreads();
  num_threads = std::min(num_threads, std::max<size_t>(files.size(), 1));
  BoundedQueue<QueueItem> queue(2 * num_threads + 2);
  std::unique_ptr<ProgressLine> progress;
  if (options.show_progress) {
    progress = std::make_unique<ProgressLine>(&shared, "register " + spec.name,
                                              static_cast<int64_t>(files.size()), total_bytes);
  }

  ThreadPool pool(num_threads);
  for (size_t i = 0; i < files.size(); ++i) {
    pool.Submit([&shared, &files, &queue, i] {
      Status st;
      if (shared.cancelled.load()) {
        st = Status::Cancelled("registration cancelled");
      } else {
        BatchSink sink = [&queue](model::SampleBatch&& batch) { queue.Push(std::move(batch)); };
        st = ScanFile(&shared, &files[i], sink);
      }
      if (!st.ok() && st.code() != StatusCode::kCancelled) shared.cancelled = true;
      shared.bytes_done += files[i].size_bytes;
      ++shared.files_done;
      queue.Push(FileDone{i, std::move(st)});
    });
  }

  // Append on this thread until every file has reported; keep draining after an error so
  // that no scanner stays blocked on a full queue.
  Status first_error;
  size_t first_error_index = files.size();
  Status store_error;
  size_t files_reported = 0;
  IngestReport report;
  while (files_reported < files.size()) {
    QueueItem item = queue.Pop();
    if (auto* batch = std::get_if<model::SampleBatch>(&item)) {
      if (store_error.ok() && !shared.cancelled.load()) {
        store_error = writer->AppendSamples(*batch);
        if (!store_error.ok()) shared.cancelled = true;
      }
      continue;
    }
    FileDone& done = std::get<FileDone>(item);
    ++files_reported;
    if (!done.status.ok()) {
      if (done.status.code() != StatusCode::kCancelled && done.index < first_error_index) {
        first_error_index = done.index;
        first_error = done.status;
      }
      continue;
    }
    if (store_error.ok() && !shared.cancelled.load()) {
      store_error = writer->AddFile(files[done.index]);
      if (!store_error.ok()) shared.cancelled = true;
    }
  }
  pool.Stop();
  progress.reset();
  if (!first_error.ok()) return first_error;
  if (!store_error.ok()) return store_error.WithContext(StrCat("storing dataset '", spec.name, "'"));

  for (const auto& f : files) {
    ++report.num_files;
    report.num_samples += f.num_samples;
    report.num_skipped += f.num_skipped;
    report.bytes_on_disk += f.size_bytes;
  }
  report.skipped_examples = std::move(shared.skipped_examples);
  report.warnings = std::move(shared.warnings);
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace mixtera::ingest
