// FastJsonRecordParser: the fast path for JSONL records, built on simdjson's On-Demand API.
//
// It validates a record as completely as the DOM parser does — UTF-8, structure, every
// number, every string escape (without unescaping strings nobody reads) — and extracts the
// declared properties. It never reports an error itself: when a record is not a clean
// success it returns false and the caller re-parses the record with the DOM path, which
// produces the canonical error (so messages are identical on both paths). Large records
// with long texts parse several times faster than through the DOM, which copies and
// unescapes every string.
//
// Thread safety: one parser per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/property_extractor.h"
#include "model/property.h"
#include "model/sample_batch.h"

namespace mixtera::ingest {

class FastJsonRecordParser {
 public:
  // Returns null when the fast path cannot serve these fields (a pointer with "*").
  // `pointers[i]` is the JSON pointer of properties[i].
  static std::unique_ptr<FastJsonRecordParser> Make(
      const std::vector<model::PropertySchema>& properties,
      const std::vector<std::string>& pointers, const std::vector<std::string>& text_pointers);
  ~FastJsonRecordParser();

  // Parses `line`, which must be followed by at least 64 readable bytes. On success appends
  // one value per property to `batch->columns` (not the sample id) and returns true. Returns
  // false, with the columns unchanged, for anything else; the caller then uses the DOM path.
  bool Parse(std::string_view line, model::SampleBatch* batch);

 private:
  class Impl;
  explicit FastJsonRecordParser(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mixtera::ingest
