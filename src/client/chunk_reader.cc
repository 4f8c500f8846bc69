#include "client/chunk_reader.h"

#include <algorithm>
#include <map>

#include "base/macros.h"
#include "base/strings.h"
#include "formats/sample_reader.h"

namespace mixtera::client {

Result<std::vector<std::vector<std::string>>> ReadChunkTexts(const chunk::JobDefinition& job,
                                                             const chunk::ChunkDescriptor& chunk,
                                                             bool records,
                                                             formats::ReaderCache* cache) {
  struct Wanted {
    uint32_t sample_id;
    uint32_t part;
    uint32_t position;
  };
  std::map<uint32_t, std::vector<Wanted>> by_file;
  std::vector<std::vector<std::string>> texts(chunk.keys.size());
  for (size_t p = 0; p < chunk.keys.size(); ++p) {
    uint32_t position = 0;
    for (const index::SampleRange& r : chunk.keys[p].ranges) {
      if (r.file_index >= job.files.size()) {
        return Status::InvalidArgument(StrCat("chunk ", chunk.index, ": file index ", r.file_index,
                                              " outside the job's ", job.files.size(), " files"));
      }
      std::vector<Wanted>& wanted = by_file[r.file_index];
      for (uint32_t s = r.begin; s < r.end; ++s) {
        wanted.push_back({s, static_cast<uint32_t>(p), position++});
      }
    }
    texts[p].resize(position);
  }
  for (auto& [file_index, wanted] : by_file) {
    std::sort(wanted.begin(), wanted.end(),
              [](const Wanted& a, const Wanted& b) { return a.sample_id < b.sample_id; });
    std::vector<uint32_t> ids;
    ids.reserve(wanted.size());
    for (const Wanted& w : wanted) {
      if (ids.empty() || ids.back() != w.sample_id) ids.push_back(w.sample_id);
    }
    const chunk::JobFile& jf = job.files[file_index];
    formats::SampleFile file{.path = jf.path,
                             .format = jf.format,
                             .compression = jf.compression,
                             .text_fields = jf.text_fields,
                             .offsets_path = jf.offsets_path,
                             .size_bytes = jf.size_bytes,
                             .mtime_ns = jf.mtime_ns};
    MIXTERA_ASSIGN_OR_RETURN(std::vector<std::string> read,
                             records ? formats::ReadSampleRecords(file, ids, cache)
                                     : formats::ReadSampleTexts(file, ids, cache));
    // A sample wanted twice (a repeated key's epochs meeting in one chunk) is copied.
    size_t next = 0;
    for (size_t i = 0; i < wanted.size(); ++i) {
      if (i > 0 && wanted[i].sample_id == wanted[i - 1].sample_id) {
        texts[wanted[i].part][wanted[i].position] =
            texts[wanted[i - 1].part][wanted[i - 1].position];
        continue;
      }
      texts[wanted[i].part][wanted[i].position] = std::move(read[next++]);
    }
  }
  return texts;
}

}  // namespace mixtera::client
