// Records the store keeps about registered datasets and their files (docs/store_schema.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/dataset_spec.h"
#include "model/property.h"

namespace mixtera::model {

// Compression of a data file, detected by magic bytes. Serialized, hence explicit values.
enum class Compression : uint8_t { kNone = 0, kGzip = 1, kZstd = 2, kXz = 3, kBzip2 = 4 };

// "none", "gzip", "zstd", "xz", "bz2".
std::string_view CompressionName(Compression c);

struct FileRecord {
  int64_t file_id = 0;  // unique across the store
  int64_t dataset_id = 0;
  std::string path;  // absolute
  int64_t size_bytes = 0;
  int64_t mtime_ns = 0;  // st_mtim at registration
  Compression compression = Compression::kNone;
  int64_t num_records = 0;      // physical records (lines incl. blank ones, rows, tar samples)
  int64_t num_samples = 0;      // kept samples
  int64_t num_skipped = 0;      // bad records skipped under on_error: skip
  int64_t num_seek_points = 0;  // for compressed files
};

struct DatasetInfo {
  int64_t dataset_id = 0;
  std::string name;
  DataFormat format = DataFormat::kJsonl;
  std::vector<std::string> text_fields;
  std::vector<PropertySchema> properties;
  OnError on_error = OnError::kFail;
  int64_t num_files = 0;
  int64_t num_samples = 0;
  int64_t num_skipped = 0;
  int64_t total_bytes = 0;  // sum of file sizes on disk
  std::string spec_json;    // DatasetSpec::normalized_json
};

}  // namespace mixtera::model
