// The byte-level half of the sample reader (JSONL and WebDataset); the Parquet half and the
// dispatching ReadSampleTexts are in sample_reader_parquet.cc.
#include "formats/sample_reader.h"

#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "base/macros.h"
#include "base/strings.h"
#include "formats/file_util.h"
#include "formats/input_stream.h"
#include "formats/offsets_file.h"
#include "formats/tar_reader.h"
#include "model/dataset_info.h"

namespace mixtera::formats {
namespace {

using model::Compression;

// A tar archive is made of 512-byte blocks; member headers start on block boundaries.
constexpr int64_t kTarBlockBytes = 512;
// Decoded bytes discarded per read while skipping forward in a compressed stream.
constexpr size_t kSkipBufferBytes = size_t{256} << 10;

Result<Compression> ParseCompression(const SampleFile& file) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd,
                        Compression::kXz, Compression::kBzip2}) {
    if (file.compression == model::CompressionName(c)) return c;
  }
  return Status::InvalidArgument(StrCat(file.path, ": unknown compression '", file.compression,
                                        "' (known: none, gzip, zstd, xz, bz2)"));
}

std::string OffsetsFilePath(const SampleFile& file) { return file.offsets_path + ".offsets"; }
std::string SeekFilePath(const SampleFile& file) { return file.offsets_path + ".seek"; }

// A wanted sample: its position in the caller's list, its id and its extent.
struct Wanted {
  size_t index = 0;
  uint32_t sample_id = 0;
  RecordExtent extent;
  int64_t end() const { return extent.offset + extent.length; }
};

// Wanted samples read together: the stream bytes [begin, end).
struct Span {
  int64_t begin = 0;
  int64_t end = 0;
  size_t first = 0;  // wanted[first, last) lie in the span
  size_t last = 0;
};

// Looks up the extents of `sample_ids` in the file's offsets. Errors: those of
// OffsetsReader::Open (NotFound, Corruption naming the offsets file); OutOfRange for an id at
// or beyond the file's records.
Result<std::vector<Wanted>> LookUpExtents(const SampleFile& file, const OffsetsReader* offsets,
                                          const std::vector<uint32_t>& sample_ids) {
  std::vector<Wanted> wanted(sample_ids.size());
  if (sample_ids.empty()) return wanted;
  if (static_cast<int64_t>(sample_ids.back()) >= offsets->num_records()) {
    return Status::OutOfRange(StrCat(file.path, ": sample ", sample_ids.back(),
                                     " is beyond the file, which has ", offsets->num_records(),
                                     " records"));
  }
  std::vector<RecordExtent> run;
  for (size_t i = 0; i < sample_ids.size();) {
    // A run of consecutive ids is decoded sequentially; a lone id by one directory lookup.
    size_t j = i + 1;
    while (j < sample_ids.size() && sample_ids[j] == sample_ids[j - 1] + 1) ++j;
    if (j - i == 1) {
      MIXTERA_ASSIGN_OR_RETURN(wanted[i].extent, offsets->Get(sample_ids[i]));
    } else {
      run.clear();
      MIXTERA_RETURN_IF_ERROR(offsets->GetRange(sample_ids[i], sample_ids[j - 1] + 1, &run));
      for (size_t k = i; k < j; ++k) wanted[k].extent = run[k - i];
    }
    for (size_t k = i; k < j; ++k) {
      wanted[k].index = k;
      wanted[k].sample_id = sample_ids[k];
    }
    i = j;
  }
  return wanted;
}

int64_t MaxSpanGap(const SampleFile& file) {
  return file.compression == "none" ? kMaxPlainSpanGapBytes : kMaxSpanGapBytes;
}

// Groups `wanted` (ascending, non-overlapping) into spans: a sample joins the current span
// when the gap before it is at most `max_gap` bytes and the span stays within kMaxSpanBytes.
std::vector<Span> MakeSpans(const std::vector<Wanted>& wanted, int64_t max_gap) {
  std::vector<Span> spans;
  for (size_t i = 0; i < wanted.size(); ++i) {
    const Wanted& w = wanted[i];
    if (!spans.empty()) {
      Span& s = spans.back();
      if (w.extent.offset - s.end <= max_gap && w.end() - s.begin <= kMaxSpanBytes) {
        s.end = w.end();
        s.last = i + 1;
        continue;
      }
    }
    spans.push_back({w.extent.offset, w.end(), i, i + 1});
  }
  return spans;
}

// Grows `*out` to at least `size` bytes; never shrinks it, so a reused buffer is not zeroed
// again.
void GrowTo(size_t size, std::string* out) {
  if (out->size() < size) out->resize(size);
}

// Reads byte ranges of a file's (decompressed) stream. Ranges in ascending order are the fast
// path: a compressed stream then decodes forward instead of starting over.
class RangeReader {
 public:
  virtual ~RangeReader() = default;
  // Sets the first `length` bytes of `*out` to the bytes [offset, offset + length), followed by
  // at least `padding` bytes of unspecified value (`*out` only grows: a reused buffer is not
  // cleared again). Errors: Corruption when the stream ends before offset + length (the
  // offsets do not match the file); those of the stream.
  virtual Status Read(int64_t offset, int64_t length, size_t padding, std::string* out) = 0;
};

// Plain files: one pread() per range.
class PlainRangeReader final : public RangeReader {
 public:
  PlainRangeReader(internal::ScopedFd fd, std::string path)
      : fd_(std::move(fd)), path_(std::move(path)) {}

  Status Read(int64_t offset, int64_t length, size_t padding, std::string* out) override {
    GrowTo(static_cast<size_t>(length) + padding, out);
    MIXTERA_ASSIGN_OR_RETURN(
        size_t got,
        internal::PReadFully(fd_.get(), out->data(), static_cast<size_t>(length), offset, path_));
    if (got < static_cast<size_t>(length)) {
      return Status::Corruption(StrCat(path_, ": the file ends at offset ", offset + got,
                                       " inside a record its offsets place at [", offset, ", ",
                                       offset + length, ")"));
    }
    return Status::OK();
  }

 private:
  internal::ScopedFd fd_;
  std::string path_;
};

// Compressed files: one decoder, opened at the last seek point at or before the first range
// and kept decoding forward; it is reopened only when a seek point lies between its position
// and the next range (which skips decoding the bytes in between).
class CompressedRangeReader final : public RangeReader {
 public:
  CompressedRangeReader(std::string path, Compression compression,
                        std::vector<SeekPoint> seek_points)
      : path_(std::move(path)), compression_(compression), seek_points_(std::move(seek_points)) {}

  Status Read(int64_t offset, int64_t length, size_t padding, std::string* out) override {
    if (stream_ == nullptr || offset < stream_->position() || SeekPointBetween(offset)) {
      auto opened = OpenInputStreamAt(path_, compression_, seek_points_, offset);
      if (!opened.ok()) return PastEnd(opened.status(), offset, length);
      stream_ = std::move(opened).value();
    }
    while (stream_->position() < offset) {  // decode forward through the gap
      if (scratch_ == nullptr) scratch_.reset(new char[kSkipBufferBytes]);
      const size_t want =
          static_cast<size_t>(std::min<int64_t>(kSkipBufferBytes, offset - stream_->position()));
      MIXTERA_ASSIGN_OR_RETURN(size_t got, stream_->Read(scratch_.get(), want));
      if (got == 0) return Truncated(offset, length);
    }
    GrowTo(static_cast<size_t>(length) + padding, out);
    size_t done = 0;
    while (done < static_cast<size_t>(length)) {
      MIXTERA_ASSIGN_OR_RETURN(
          size_t got, stream_->Read(out->data() + done, static_cast<size_t>(length) - done));
      if (got == 0) return Truncated(offset, length);
      done += got;
    }
    return Status::OK();
  }

 private:
  // True when the last seek point at or before `offset` lies beyond the stream's position.
  bool SeekPointBetween(int64_t offset) const {
    auto it = std::upper_bound(
        seek_points_.begin(), seek_points_.end(), offset,
        [](int64_t off, const SeekPoint& p) { return off < p.decompressed_offset; });
    return it != seek_points_.begin() && std::prev(it)->decompressed_offset > stream_->position();
  }

  Status Truncated(int64_t offset, int64_t length) const {
    return Status::Corruption(StrCat(path_, ": the decompressed stream ends at offset ",
                                     stream_->position(), " inside a record its offsets place at [",
                                     offset, ", ", offset + length, ")"));
  }
  // OpenInputStreamAt reports a start past the stream's end as OutOfRange; for a reader that
  // means the offsets do not match the file.
  Status PastEnd(const Status& st, int64_t offset, int64_t length) const {
    if (st.code() != StatusCode::kOutOfRange) return st;
    return Status::Corruption(StrCat(st.message(), "; its offsets place a record at [", offset,
                                     ", ", offset + length, ")"));
  }

  std::string path_;
  Compression compression_;
  std::vector<SeekPoint> seek_points_;
  std::unique_ptr<InputStream> stream_;
  std::unique_ptr<char[]> scratch_;
};

// Opens the reader for `file`'s stream: pread for plain files, a decoder with the file's seek
// points otherwise. Errors: NotFound / IOError for the data or seek-point file; Corruption for
// a bad seek-point file.
Result<std::unique_ptr<RangeReader>> OpenRangeReader(const SampleFile& file) {
  MIXTERA_ASSIGN_OR_RETURN(Compression compression, ParseCompression(file));
  if (compression == Compression::kNone) {
    MIXTERA_ASSIGN_OR_RETURN(internal::ScopedFd fd, internal::OpenForRead(file.path));
    return std::unique_ptr<RangeReader>(
        std::make_unique<PlainRangeReader>(std::move(fd), file.path));
  }
  MIXTERA_ASSIGN_OR_RETURN(std::vector<SeekPoint> points, ReadSeekPoints(SeekFilePath(file)));
  return std::unique_ptr<RangeReader>(
      std::make_unique<CompressedRangeReader>(file.path, compression, std::move(points)));
}

}  // namespace

// What reading one file needs across calls: its offsets and its byte-range reader (for a
// compressed file, a decoder positioned where the last read stopped).
struct FileReadState {
  std::string path;
  int64_t size_bytes = 0;
  int64_t mtime_ns = 0;
  std::unique_ptr<OffsetsReader> offsets;
  std::unique_ptr<RangeReader> reader;
  std::string buffer;  // the span buffer, kept to avoid reallocating and zero-filling it

  // Frees a buffer that grew past what a cache should hold per file.
  void TrimBuffer() {
    if (buffer.capacity() > kKeptBufferBytes) std::string().swap(buffer);
  }
  static constexpr size_t kKeptBufferBytes = size_t{4} << 20;
};

struct ReaderCache::Impl {
  size_t max_files;
  std::list<FileReadState> files;  // most recently used first
};

ReaderCache::ReaderCache(size_t max_files) : impl_(new Impl{std::max<size_t>(1, max_files), {}}) {}
ReaderCache::~ReaderCache() = default;
size_t ReaderCache::size() const { return impl_->files.size(); }

namespace {

// The read state of `file`: from `cache` (moved to the front) when it holds the same file,
// else opened — into the cache, or into `*local` without one.
Result<FileReadState*> GetReadState(const SampleFile& file, ReaderCache* cache,
                                    FileReadState* local) {
  if (cache != nullptr) {
    auto& files = cache->impl_->files;
    for (auto it = files.begin(); it != files.end(); ++it) {
      if (it->path == file.path && it->size_bytes == file.size_bytes &&
          it->mtime_ns == file.mtime_ns) {
        files.splice(files.begin(), files, it);
        return &files.front();
      }
    }
  }
  FileReadState state{file.path, file.size_bytes, file.mtime_ns, nullptr, nullptr, {}};
  MIXTERA_ASSIGN_OR_RETURN(state.offsets, OffsetsReader::Open(OffsetsFilePath(file)));
  MIXTERA_ASSIGN_OR_RETURN(state.reader, OpenRangeReader(file));
  if (cache == nullptr) {
    *local = std::move(state);
    return local;
  }
  auto& files = cache->impl_->files;
  files.push_front(std::move(state));
  if (files.size() > cache->impl_->max_files) files.pop_back();
  return &files.front();
}

// The read state of `file` (GetReadState) and the extents of `sample_ids` in it.
Result<FileReadState*> PrepareRead(const SampleFile& file, const std::vector<uint32_t>& sample_ids,
                                   ReaderCache* cache, FileReadState* local,
                                   std::vector<Wanted>* wanted) {
  MIXTERA_ASSIGN_OR_RETURN(FileReadState * state, GetReadState(file, cache, local));
  MIXTERA_ASSIGN_OR_RETURN(*wanted, LookUpExtents(file, state->offsets.get(), sample_ids));
  return state;
}

Status NoTextFields(const SampleFile& file) {
  if (!file.text_fields.empty()) return Status::OK();
  return Status::InvalidArgument(
      StrCat(file.path, ": the dataset declares no text field, so there is no text to read"));
}

// ---- JSONL ----

// A parsed JSON pointer (RFC 6901), resolved as ingest resolves text pointers: an object
// segment is a key, an array segment a decimal index; "" is the whole document.
struct JsonPointer {
  std::string text;
  std::vector<std::string> segments;
};

Result<JsonPointer> ParseJsonPointer(const SampleFile& file, const std::string& text) {
  JsonPointer p;
  p.text = text;
  if (text.empty()) return p;
  if (text[0] != '/') {
    return Status::InvalidArgument(
        StrCat(file.path, ": text field '", text, "' is not a JSON pointer (must start with '/')"));
  }
  size_t pos = 1;
  while (true) {
    const size_t slash = text.find('/', pos);
    const std::string_view raw = std::string_view(text).substr(
        pos, slash == std::string::npos ? std::string::npos : slash - pos);
    std::string seg;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        seg += raw[i];
        continue;
      }
      if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        seg += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        return Status::InvalidArgument(
            StrCat(file.path, ": text field '", text, "': bad '~' escape in JSON pointer"));
      }
    }
    p.segments.push_back(std::move(seg));
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return p;
}

// Resolves `pointer` in `doc`; nullopt when a segment is missing.
std::optional<simdjson::dom::element> Resolve(simdjson::dom::element doc,
                                              const JsonPointer& pointer) {
  for (const std::string& seg : pointer.segments) {
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) == simdjson::SUCCESS) {
      if (obj.at_key(seg).get(doc) != simdjson::SUCCESS) return std::nullopt;
      continue;
    }
    simdjson::dom::array arr;
    if (doc.get_array().get(arr) != simdjson::SUCCESS) return std::nullopt;
    size_t index = 0;
    auto [ptr, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), index);
    if (seg.empty() || ec != std::errc() || ptr != seg.data() + seg.size()) return std::nullopt;
    if (arr.at(index).get(doc) != simdjson::SUCCESS) return std::nullopt;
  }
  return doc;
}

std::string_view JsonTypeName(const simdjson::dom::element& e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "a number";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::BOOL:
      return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a JSON value";
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Extracts the text of one JSONL line. REQUIRES: SIMDJSON_PADDING readable bytes follow
// `line`.
// With `whole_record`, *out is the line itself once it parses as a JSON object.
Status JsonlText(const SampleFile& file, uint32_t sample_id, std::string_view line,
                 const std::vector<JsonPointer>& pointers, bool whole_record,
                 simdjson::dom::parser* parser, std::string* out) {
  if (IsBlank(line)) {
    return Status::InvalidArgument(
        StrCat(file.path, ": sample ", sample_id, " is a blank line, not a sample"));
  }
  simdjson::dom::element doc;
  const auto error =
      parser->parse(reinterpret_cast<const uint8_t*>(line.data()), line.size(), false).get(doc);
  if (error) {
    return Status::Corruption(
        StrCat(file.path, ": sample ", sample_id, ": ",
               error == simdjson::UTF8_ERROR
                   ? std::string("invalid UTF-8")
                   : StrCat("malformed JSON (", simdjson::error_message(error), ")")));
  }
  if (whole_record) {
    if (!doc.is_object()) {
      return Status::InvalidArgument(StrCat(file.path, ": sample ", sample_id,
                                            ": a record must be a JSON object, got ",
                                            JsonTypeName(doc)));
    }
    out->assign(line);
    return Status::OK();
  }
  out->clear();
  for (size_t i = 0; i < pointers.size(); ++i) {
    std::optional<simdjson::dom::element> value = Resolve(doc, pointers[i]);
    if (!value) {
      return Status::InvalidArgument(StrCat(file.path, ": sample ", sample_id, ": text field '",
                                            pointers[i].text, "' is missing"));
    }
    std::string_view text;
    if (value->get_string().get(text) != simdjson::SUCCESS) {
      return Status::InvalidArgument(StrCat(file.path, ": sample ", sample_id, ": text field '",
                                            pointers[i].text, "' must be a string, got ",
                                            JsonTypeName(*value)));
    }
    if (i > 0) out->append(kTextFieldSeparator);
    out->append(text);
  }
  return Status::OK();
}

}  // namespace

Status CheckSampleFile(const SampleFile& file) {
  struct stat st;
  if (::stat(file.path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return Status::NotFound(StrCat(file.path, ": missing (registered with ", file.size_bytes,
                                     " bytes); the file was moved or deleted since registration"));
    }
    return internal::ErrnoStatus(err, "stat", file.path);
  }
  const int64_t size = static_cast<int64_t>(st.st_size);
  const int64_t mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (size == file.size_bytes && mtime_ns == file.mtime_ns) return Status::OK();
  std::vector<std::string> changes;
  if (size != file.size_bytes) {
    changes.push_back(StrCat("size ", file.size_bytes, " -> ", size, " bytes"));
  }
  if (mtime_ns != file.mtime_ns) {
    changes.push_back(StrCat("mtime ", file.mtime_ns, " -> ", mtime_ns, " ns"));
  }
  return Status::FailedPrecondition(StrCat(file.path,
                                           ": changed since registration: ", StrJoin(changes, ", "),
                                           "; register the dataset again to read it"));
}

Status CheckSampleIds(const SampleFile& file, const std::vector<uint32_t>& sample_ids) {
  for (size_t i = 1; i < sample_ids.size(); ++i) {
    if (sample_ids[i] <= sample_ids[i - 1]) {
      return Status::InvalidArgument(
          StrCat(file.path, ": sample ids must be strictly ascending, got ", sample_ids[i - 1],
                 " before ", sample_ids[i], " (position ", i, ")"));
    }
  }
  return Status::OK();
}

namespace {

// The JSONL reader: texts, or with `records` whole lines (dict mode).
Result<std::vector<std::string>> ReadJsonl(const SampleFile& file,
                                           const std::vector<uint32_t>& sample_ids, bool records,
                                           ReaderCache* cache) {
  std::vector<JsonPointer> pointers;
  if (!records) {
    MIXTERA_RETURN_IF_ERROR(NoTextFields(file));
    for (const std::string& field : file.text_fields) {
      MIXTERA_ASSIGN_OR_RETURN(JsonPointer p, ParseJsonPointer(file, field));
      pointers.push_back(std::move(p));
    }
  }
  std::vector<std::string> texts(sample_ids.size());
  if (sample_ids.empty()) return texts;
  FileReadState local;
  std::vector<Wanted> wanted;
  MIXTERA_ASSIGN_OR_RETURN(FileReadState * state,
                           PrepareRead(file, sample_ids, cache, &local, &wanted));
  RangeReader* reader = state->reader.get();
  std::string& buf = state->buffer;
  simdjson::dom::parser parser;
  for (const Span& span : MakeSpans(wanted, MaxSpanGap(file))) {
    MIXTERA_RETURN_IF_ERROR(
        reader->Read(span.begin, span.end - span.begin, simdjson::SIMDJSON_PADDING, &buf));
    for (size_t i = span.first; i < span.last; ++i) {
      const Wanted& w = wanted[i];
      const std::string_view line(buf.data() + (w.extent.offset - span.begin),
                                  static_cast<size_t>(w.extent.length));
      MIXTERA_RETURN_IF_ERROR(
          JsonlText(file, w.sample_id, line, pointers, records, &parser, &texts[w.index]));
    }
  }
  state->TrimBuffer();
  return texts;
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::string EncodeTarRecord(const std::string& key, const std::vector<TarMember>& members) {
  std::string out;
  PutU32(&out, static_cast<uint32_t>(key.size()));
  out.append(key);
  PutU32(&out, static_cast<uint32_t>(members.size()));
  for (const TarMember& m : members) {
    PutU32(&out, static_cast<uint32_t>(m.extension.size()));
    out.append(m.extension);
    PutU64(&out, m.data.size());
    out.append(m.data);
  }
  return out;
}

Result<std::vector<std::string>> ReadJsonlSampleTexts(const SampleFile& file,
                                                      const std::vector<uint32_t>& sample_ids) {
  return ReadJsonl(file, sample_ids, /*records=*/false, nullptr);
}

Result<std::vector<std::string>> ReadJsonlSampleRecords(const SampleFile& file,
                                                        const std::vector<uint32_t>& sample_ids) {
  return ReadJsonl(file, sample_ids, /*records=*/true, nullptr);
}

namespace {

// Sets `*text` to the members named by `text_fields`, joined in that order. Returns false when
// one is missing (the scanner path then reports it).
bool JoinPlainTextMembers(const std::vector<PlainTarMember>& members,
                          const std::vector<std::string>& text_fields, std::string* text) {
  text->clear();
  for (size_t f = 0; f < text_fields.size(); ++f) {
    const PlainTarMember* found = nullptr;
    for (const PlainTarMember& m : members) {
      if (m.extension == text_fields[f]) found = &m;
    }
    if (found == nullptr) {
      text->clear();
      return false;
    }
    if (f > 0) text->append(kTextFieldSeparator);
    text->append(found->data);
  }
  return true;
}

// The WebDataset reader: texts, or with `records` every member (EncodeTarRecord).
Result<std::vector<std::string>> ReadWebDataset(const SampleFile& file,
                                                const std::vector<uint32_t>& sample_ids,
                                                bool records, ReaderCache* cache) {
  if (!records) MIXTERA_RETURN_IF_ERROR(NoTextFields(file));
  std::vector<std::string> texts(sample_ids.size());
  if (sample_ids.empty()) return texts;
  FileReadState local;
  std::vector<Wanted> wanted;
  MIXTERA_ASSIGN_OR_RETURN(FileReadState * state,
                           PrepareRead(file, sample_ids, cache, &local, &wanted));
  RangeReader* reader = state->reader.get();
  std::string& buf = state->buffer;
  const std::set<std::string> load =
      records ? std::set<std::string>{"*"}
              : std::set<std::string>(file.text_fields.begin(), file.text_fields.end());
  std::string_view plain_key;
  std::vector<PlainTarMember> plain_members;
  for (const Span& span : MakeSpans(wanted, MaxSpanGap(file))) {
    // A span starts at a member header (block-aligned) and ends at the end of a member's data;
    // zero padding to the next block boundary lets the scanner end cleanly there.
    const size_t length = static_cast<size_t>(span.end - span.begin);
    const size_t padding =
        static_cast<size_t>((kTarBlockBytes - span.end % kTarBlockBytes) % kTarBlockBytes);
    MIXTERA_RETURN_IF_ERROR(reader->Read(span.begin, span.end - span.begin, padding, &buf));
    std::memset(buf.data() + length, 0, padding);
    // The fast path splits each wanted sample in place (SplitPlainTarSample); at the first
    // sample it cannot take, the scanner takes over for the rest of the span.
    size_t next = span.first;
    if (!records) {
      for (; next < span.last; ++next) {
        const Wanted& w = wanted[next];
        const std::string_view bytes(buf.data() + (w.extent.offset - span.begin),
                                     static_cast<size_t>(w.extent.length));
        if (!SplitPlainTarSample(bytes, &plain_key, &plain_members) ||
            !JoinPlainTextMembers(plain_members, file.text_fields, &texts[w.index])) {
          break;
        }
      }
      if (next == span.last) continue;
    }
    TarSampleScanner scanner(std::string_view(buf.data(), length + padding), span.begin, file.path,
                             load);
    // The scanner also yields the samples in the span's gaps; only wanted ones are kept.
    while (next < span.last) {
      MIXTERA_ASSIGN_OR_RETURN(std::optional<TarSample> sample, scanner.Next());
      if (!sample || sample->begin_offset > wanted[next].extent.offset) break;
      const Wanted& w = wanted[next];
      if (sample->begin_offset < w.extent.offset) continue;  // in a gap
      if (sample->end_offset != w.end()) break;
      std::string& text = texts[w.index];
      if (records) {
        text = EncodeTarRecord(sample->key, sample->members);
        ++next;
        continue;
      }
      for (size_t f = 0; f < file.text_fields.size(); ++f) {
        const TarMember* member = sample->Find(file.text_fields[f]);
        if (member == nullptr) {
          return Status::InvalidArgument(StrCat(file.path, ": sample ", w.sample_id, " ('",
                                                sample->key, "'): text member '.",
                                                file.text_fields[f], "' is missing"));
        }
        if (f > 0) text.append(kTextFieldSeparator);
        if (file.text_fields.size() == 1) {
          // The member's bytes become the text without another copy.
          for (TarMember& m : sample->members) {
            if (&m == member) text = std::move(m.data);
          }
        } else {
          text.append(member->data);
        }
      }
      ++next;
    }
    if (next < span.last) {
      const Wanted& w = wanted[next];
      return Status::Corruption(StrCat(file.path, ": no tar sample at [", w.extent.offset, ", ",
                                       w.end(), ") where the offsets place sample ", w.sample_id,
                                       "; the offsets do not match the archive"));
    }
  }
  state->TrimBuffer();
  return texts;
}

}  // namespace

Result<std::vector<std::string>> ReadWebDatasetSampleTexts(
    const SampleFile& file, const std::vector<uint32_t>& sample_ids) {
  return ReadWebDataset(file, sample_ids, /*records=*/false, nullptr);
}

Result<std::vector<std::string>> ReadWebDatasetSampleRecords(
    const SampleFile& file, const std::vector<uint32_t>& sample_ids) {
  return ReadWebDataset(file, sample_ids, /*records=*/true, nullptr);
}

Result<std::vector<std::string>> ReadByteSamples(const SampleFile& file,
                                                 const std::vector<uint32_t>& sample_ids,
                                                 bool records, ReaderCache* cache) {
  if (file.format == "jsonl") return ReadJsonl(file, sample_ids, records, cache);
  if (file.format == "webdataset") return ReadWebDataset(file, sample_ids, records, cache);
  return Status::InvalidArgument(StrCat(file.path, ": not a JSONL or WebDataset file"));
}

}  // namespace mixtera::formats
