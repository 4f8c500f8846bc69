#include "model/dataset_info.h"

namespace mixtera::model {

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kXz:
      return "xz";
    case Compression::kBzip2:
      return "bz2";
  }
  return "unknown";
}

}  // namespace mixtera::model
