// WebDataset tar files: samples are runs of consecutive members that share a key
// (the member path up to the first '.' of its base name; the rest is the extension,
// e.g. "shard/000123.json" -> key "shard/000123", extension "json").
// ustar, GNU long names ('L') and pax 'path' records are understood; directories and
// other non-regular entries are skipped.
//
// Thread safety: a scanner is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "formats/input_stream.h"
#include "mixtera/result.h"

namespace mixtera::formats {

struct TarMember {
  std::string extension;
  int64_t header_offset = 0;  // offset of the member's first header block (incl. long-name/pax)
  int64_t data_offset = 0;    // offset of its data
  int64_t size = 0;           // data bytes
  bool loaded = false;        // whether `data` holds the content
  std::string data;
};

struct TarSample {
  std::string key;
  int64_t begin_offset = 0;  // header_offset of the first member
  int64_t end_offset = 0;    // data end of the last member (without padding)
  std::vector<TarMember> members;
  // Returns the member with `extension`, or nullptr.
  const TarMember* Find(const std::string& extension) const;
};

// One member of a sample split in place by SplitPlainTarSample; views into its bytes.
struct PlainTarMember {
  std::string_view extension;
  std::string_view data;
};

// Splits `sample`, the exact bytes of one sample (from its first member's header to the end of
// its last member's data, as the offsets file records it), into its members without copying or
// allocating (beyond growing `members`, which is cleared first and whose capacity is reused).
// This is the fast path for the common form: every member a regular file ('0', '\0' or '7'),
// possibly after a pax ('x') or GNU long-name ('L') header, with valid checksums and sizes, no
// ustar path prefix, all with one key and distinct extensions, and nothing else in the bytes.
// Returns false for anything else, including damaged bytes; the caller then uses
// TarSampleScanner, which understands every form and names what is wrong. Sets `*key` to the
// members' key.
bool SplitPlainTarSample(std::string_view sample, std::string_view* key,
                         std::vector<PlainTarMember>* members);

class TarSampleScanner {
 public:
  // Reads samples from `stream`; `path` is used in messages. The contents of members whose
  // extension is in `load_extensions` ("*": every member) are loaded into TarMember::data.
  TarSampleScanner(std::unique_ptr<InputStream> stream, std::string path,
                   std::set<std::string> load_extensions);
  // Reads samples from the bytes `memory` (which must outlive the scanner), which start at
  // stream offset `offset`; the same as over a stream of those bytes, without buffering.
  TarSampleScanner(std::string_view memory, int64_t offset, std::string path,
                   std::set<std::string> load_extensions);
  ~TarSampleScanner();

  // Returns the next sample, or nullopt at the end of the archive.
  // Errors: Corruption naming the path and member for a truncated archive or a bad header
  // (bad checksum, bad size field); a key that reappears after another key (members of one
  // sample not consecutive) is Corruption too.
  Result<std::optional<TarSample>> Next();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mixtera::formats
