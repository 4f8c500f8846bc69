// Scanning one data file of a dataset being registered: records -> offsets, seek points and
// batches of typed properties. Used by IngestDataset (ingester.h); one scanner per file,
// run on a pool thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "ingest/ingester.h"
#include "ingest/property_extractor.h"
#include "model/dataset_info.h"
#include "model/dataset_spec.h"
#include "model/sample_batch.h"

namespace mixtera::ingest {

// State shared by the scanners of one registration.
struct ScanShared {
  const model::DatasetSpec* spec = nullptr;
  const IngestOptions* options = nullptr;
  RecordParser* parser = nullptr;
  std::string offsets_dir;
  // Extractor for JSON-valued fields (JSONL records; WebDataset json members).
  const JsonPropertyExtractor* json_extractor = nullptr;

  std::atomic<bool> cancelled{false};
  // Progress counters.
  std::atomic<int64_t> samples_done{0};
  std::atomic<int64_t> bytes_done{0};  // compressed bytes of finished files
  std::atomic<int64_t> files_done{0};

  std::mutex mu;  // guards the three vectors below
  std::vector<std::string> skipped_examples;
  std::vector<std::string> warnings;
  // Batches the consumer is done with: scanners reuse their grown buffers instead of
  // growing fresh ones, which costs allocations and page faults for every batch.
  std::vector<model::SampleBatch> spare_batches;

  // An empty batch of this dataset's schema for file_id: a spare one when there is one.
  // Thread-safe.
  model::SampleBatch TakeBatch(int64_t file_id);
  // Keeps a spent batch for TakeBatch (at most max_spare_batches; others are freed).
  // Thread-safe.
  void ReturnBatch(model::SampleBatch&& batch);
  // Set before scanning: as many as can be in flight (in the queue, on the scanners and on
  // the consuming thread), so that none is freed only for a scanner to grow a new one.
  size_t max_spare_batches = 16;
};

// Receives the scanner's output. `emit_batch` may block (bounded queue).
using BatchSink = std::function<void(model::SampleBatch&&)>;

// Scans `file` (whose id, path, size and mtime are set) and fills its counts.
// Returns the first fatal error (see IngestDataset), or OK.
Status ScanFile(ScanShared* shared, model::FileRecord* file, const BatchSink& emit_batch);

}  // namespace mixtera::ingest
