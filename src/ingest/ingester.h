// Ingest: registering one dataset's files into the store (DESIGN.md §3.1).
//
// Files are scanned in parallel on a thread pool, each as a stream with memory bounded
// independently of its size; scanner threads extract typed properties into columnar
// batches, and the calling thread streams the batches into the store through the
// registration's DatasetWriter (one INSERT, see AppendSampleStream). Per file, an offsets
// file (every record's byte offset and length) and, for compressed files, a seek-point file
// are written under `offsets_dir`.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/property_extractor.h"
#include "mixtera/result.h"
#include "model/dataset_spec.h"
#include "store/metadata_store.h"

namespace mixtera::ingest {

// User code that computes the properties of JSONL records (the Python `parser=` hook).
// Thread safety: ParseBatch may be called from several scanner threads at once; an
// implementation serializes internally if it must (the Python one holds the GIL).
class RecordParser {
 public:
  virtual ~RecordParser() = default;

  struct Record {
    int64_t line_index;      // 0-based line number in the file
    std::string_view bytes;  // the line without its '\n'
  };
  // For each record i, sets (*values)[i] to one value per declared property (in spec order)
  // or (*errors)[i] to a non-OK status describing why the record is bad. Both vectors come
  // sized to records.size(). A non-OK return aborts the registration.
  virtual Status ParseBatch(const std::vector<Record>& records,
                            std::vector<std::vector<LooseValue>>* values,
                            std::vector<Status>* errors) = 0;
};

struct IngestOptions {
  // --- behaviour ---
  // Show a progress line on stderr (files, samples, MB/s). Default: false; the CLI turns it
  // on when stderr is a terminal.
  bool show_progress = false;
  // How many skipped-record messages are kept in the report. Default: 10.
  int max_reported_errors = 10;
  // When set and it becomes true (e.g. on Ctrl-C), the registration stops and returns
  // Cancelled; nothing is committed. Not owned; must outlive the registration.
  const std::atomic<bool>* cancel = nullptr;
  // The Mixtera directory registered into (absolute): files below it (its store, offsets,
  // job files) are never data, whatever the path patterns match. Empty: none.
  std::string mixtera_dir;
  // --- performance ---
  // Scanner threads. Default: 0 = one per hardware thread.
  int num_threads = 0;
  // Added to the scanner threads' nice value. Default: 10. The thread that opens the store
  // and appends is the bottleneck on small records, and with as many scanners as cores it
  // would share a core with them; below its priority they cannot delay it, and they stay
  // ahead all the same (the queue holds 16 batches per scanner). Under autogroup scheduling
  // (Linux's default) nice ranks threads only within the process's group. 0 = no change.
  int scanner_nice = 10;
  // Rows per batch handed to the store. Default: 4096 (smaller batches are reused sooner,
  // so fewer fresh pages are touched while the queue is full).
  size_t batch_rows = 4096;
  // Distance between gzip seek points in decompressed bytes. Default: 16 MiB.
  int64_t gzip_checkpoint_interval = int64_t{16} << 20;
};

struct IngestReport {
  int64_t num_files = 0;
  int64_t num_samples = 0;  // kept samples
  int64_t num_skipped = 0;  // bad records skipped (on_error: skip)
  int64_t bytes_on_disk = 0;
  double seconds = 0;
  // The first messages of skipped records ("<path>: line 3: ..."), at most
  // IngestOptions::max_reported_errors.
  std::vector<std::string> skipped_examples;
  // Warnings, e.g. a large compressed file without seek points.
  std::vector<std::string> warnings;
};

// A registration in progress. Start() lists the files and starts scanning them at once, so
// the caller can open the store meanwhile; batches wait in a bounded queue (scanners block
// when it is full) until Finish() appends them through the writer.
//
// Offsets are written to `staging_dir`, named by the file's index in path order; Finish()
// moves them to `offsets_dir` as "<file_id>.offsets" / "<file_id>.seek".
// Thread safety: one thread drives a session; the scanners are its own threads.
class IngestSession {
 public:
  // Errors: see IngestDataset (those found before scanning: missing paths, a parser for a
  // format other than jsonl, a bad field pointer).
  static Result<std::unique_ptr<IngestSession>> Start(const model::DatasetSpec& spec,
                                                      const std::string& staging_dir,
                                                      const IngestOptions& options,
                                                      RecordParser* parser);
  // Cancels the scan if Finish() did not run, and joins the scanner threads.
  ~IngestSession();
  IngestSession(const IngestSession&) = delete;
  IngestSession& operator=(const IngestSession&) = delete;

  // Appends every scanned batch and file to `writer` (which the caller commits or drops)
  // and moves the offsets into `offsets_dir` (which must exist). Call at most once.
  // Errors: see IngestDataset.
  Result<IngestReport> Finish(store::DatasetWriter* writer, const std::string& offsets_dir);

 private:
  struct State;
  explicit IngestSession(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Scans every file of `spec` into `writer` (which the caller commits or drops): Start()
// then Finish(), with `offsets_dir` as the staging folder too.
// `offsets_dir` must exist; files named "<file_id>.offsets" / "<file_id>.seek" are written
// there. `parser` (may be null) computes the properties of JSONL records instead of the
// spec's fields.
// Errors: NotFound for a path that matches nothing; InvalidArgument for a spec the format
// cannot honour; Corruption / InvalidArgument naming the file and line / row / tar member
// for a bad record when on_error is fail; Corruption for a truncated or corrupt file;
// IOError / NotFound for unreadable files. On error, files already written under
// `offsets_dir` are left for the caller to remove.
Result<IngestReport> IngestDataset(const model::DatasetSpec& spec, store::DatasetWriter* writer,
                                   const std::string& offsets_dir, const IngestOptions& options,
                                   RecordParser* parser);

}  // namespace mixtera::ingest
