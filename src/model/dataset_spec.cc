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

}  // namespace mixtera::model
