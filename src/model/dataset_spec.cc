#include "model/dataset_spec.h"

#include "base/strings.h"

namespace mixtera::model {

std::string_view DataFormatName(DataFormat format) {
  switch (format) {
    case DataFormat::kJsonl:
      return "jsonl";
    case DataFormat::kParquet:
      return "parquet";
    case DataFormat::kWebDataset:
      return "webdataset";
  }
  return "unknown";
}

Result<DataFormat> ParseDataFormat(std::string_view name) {
  for (auto f : {DataFormat::kJsonl, DataFormat::kParquet, DataFormat::kWebDataset}) {
    if (name == DataFormatName(f)) return f;
  }
  return Status::InvalidArgument(
      StrCat("unknown format '", name, "' (known formats: jsonl, parquet, webdataset)"));
}

Status ValidateDatasetName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("a dataset name must not be empty");
  if (name.size() > 256) {
    return Status::InvalidArgument(
        StrCat("a dataset name has at most 256 bytes, got ", name.size()));
  }
  if (!IsValidUtf8(name)) {
    return Status::InvalidArgument("a dataset name must be valid UTF-8 text");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(
          StrCat("a dataset name must not contain control characters (found byte ",
                 static_cast<int>(c), ")"));
    }
  }
  return Status::OK();
}

}  // namespace mixtera::model
