// DatasetSpec: what a user declares to register a dataset (DESIGN.md §3.1), after parsing
// and validation. Parsing from YAML/JSON lives in ingest/spec_parser.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mixtera/result.h"
#include "model/property.h"

namespace mixtera::model {

// Serialized into the store, hence the explicit underlying type.
enum class DataFormat : uint8_t { kJsonl = 0, kParquet = 1, kWebDataset = 2 };

// "jsonl", "parquet", "webdataset".
std::string_view DataFormatName(DataFormat format);
// Errors: InvalidArgument naming the known formats.
Result<DataFormat> ParseDataFormat(std::string_view name);

// OK for a dataset name: 1-256 bytes of valid UTF-8 without control characters (NUL
// included). Errors: InvalidArgument saying which rule the name breaks (it is quoted only
// when printable).
Status ValidateDatasetName(std::string_view name);

enum class OnError : uint8_t {
  kFail = 0,  // the first bad record fails the registration; nothing is stored
  kSkip = 1,  // bad records are skipped, counted and reported
};

struct DatasetSpec {
  std::string name;
  DataFormat format = DataFormat::kJsonl;
  // Path patterns as written, already resolved against the spec file's folder (absolute).
  std::vector<std::string> path_patterns;
  // The text selector(s): JSON pointers (jsonl), column names (parquet) or member
  // extensions (webdataset). Empty when the dataset declares no text.
  std::vector<std::string> text_fields;
  // Properties after merging the preset (spec entries override preset entries by name).
  std::vector<PropertySchema> properties;
  OnError on_error = OnError::kFail;
  std::string preset;  // empty when none
  // The spec as normalized JSON, stored with the dataset for reference.
  std::string normalized_json;
};

}  // namespace mixtera::model
