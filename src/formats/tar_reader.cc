#include "formats/tar_reader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_set>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/macros.h"
#include "base/strings.h"

namespace mixtera::formats {
namespace {

// A tar archive is a sequence of 512-byte blocks: a header block per entry, the entry's
// data padded to a whole block, and two zero blocks at the end.
constexpr int64_t kBlockBytes = 512;
// Reads from the stream are at least this large.
constexpr size_t kReadBufferBytes = size_t{1} << 20;
// Upper bound for GNU long names and pax headers; real ones are a few hundred bytes.
constexpr int64_t kMaxExtendedHeaderBytes = int64_t{16} << 20;
// Loaded member contents grow by at most this much per read.
constexpr int64_t kLoadPieceBytes = int64_t{64} << 20;

// Header field positions (POSIX ustar; GNU uses the same for what is read here).
constexpr size_t kNameOffset = 0, kNameBytes = 100;
constexpr size_t kSizeOffset = 124, kSizeBytes = 12;
constexpr size_t kChecksumOffset = 148, kChecksumBytes = 8;
constexpr size_t kTypeOffset = 156;
constexpr size_t kMagicOffset = 257;
constexpr size_t kPrefixOffset = 345, kPrefixBytes = 155;

int64_t Padding(int64_t size) { return (kBlockBytes - size % kBlockBytes) % kBlockBytes; }

// The bytes of `field` up to its first NUL.
std::string CString(const char* field, size_t max_bytes) {
  return std::string(field, strnlen(field, max_bytes));
}

// Parses an octal header field: optional leading spaces, octal digits, then NUL/space
// padding. Returns false for anything else or an overflow.
bool ParseOctal(const char* field, size_t n, int64_t* out) {
  size_t i = 0;
  while (i < n && field[i] == ' ') ++i;
  int64_t value = 0;
  bool any = false;
  for (; i < n && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (value > (std::numeric_limits<int64_t>::max() >> 3)) return false;
    value = (value << 3) | (field[i] - '0');
    any = true;
  }
  for (; i < n; ++i) {
    if (field[i] != ' ' && field[i] != '\0') return false;
  }
  *out = value;
  return any;
}

// Parses the size field: octal, or GNU/star base-256 when the first byte has its high bit.
bool ParseSize(const char* field, int64_t* out) {
  const auto* b = reinterpret_cast<const uint8_t*>(field);
  if ((b[0] & 0x80) == 0) return ParseOctal(field, kSizeBytes, out);
  if (b[0] & 0x40) return false;  // negative
  uint64_t value = b[0] & 0x3f;
  for (size_t i = 1; i < kSizeBytes; ++i) {
    if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) >> 8)) return false;
    value = (value << 8) | b[i];
  }
  *out = static_cast<int64_t>(value);
  return true;
}

// Checks the header checksum: the sum of all bytes with the checksum field read as spaces.
// Historic tars summed signed chars; both sums are accepted.
bool ChecksumMatches(const char* block) {
  int64_t stored = 0;
  if (!ParseOctal(block + kChecksumOffset, kChecksumBytes, &stored)) return false;
  // One branch-free pass: the unsigned sum and the number of bytes >= 128, which a signed sum
  // counts 256 lower; then the checksum field is replaced by spaces.
  const auto* bytes = reinterpret_cast<const uint8_t*>(block);
  uint32_t sum = 0;
  uint32_t high = 0;
#if defined(__SSE2__)
  // psadbw sums 8 bytes per lane, of the bytes and of their high bits.
  const __m128i zero = _mm_setzero_si128();
  const __m128i ones = _mm_set1_epi8(1);
  __m128i sums = zero;
  __m128i highs = zero;
  for (int64_t i = 0; i < kBlockBytes; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i));
    sums = _mm_add_epi64(sums, _mm_sad_epu8(v, zero));
    highs = _mm_add_epi64(highs, _mm_sad_epu8(_mm_and_si128(_mm_srli_epi16(v, 7), ones), zero));
  }
  sum = static_cast<uint32_t>(_mm_cvtsi128_si32(sums)) +
        static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(sums, 8)));
  high = static_cast<uint32_t>(_mm_cvtsi128_si32(highs)) +
         static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(highs, 8)));
#else
  for (int64_t i = 0; i < kBlockBytes; ++i) {
    sum += bytes[i];
    high += bytes[i] >> 7;
  }
#endif
  for (size_t i = kChecksumOffset; i < kChecksumOffset + kChecksumBytes; ++i) {
    sum -= bytes[i];
    high -= bytes[i] >> 7;
  }
  sum += static_cast<uint32_t>(kChecksumBytes) * ' ';
  const int64_t unsigned_sum = sum;
  const int64_t signed_sum = unsigned_sum - 256 * static_cast<int64_t>(high);
  return stored == unsigned_sum || stored == signed_sum;
}

bool AllZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// Parses pax records "<len> <key>=<value>\n" (NUL padding may follow); sets `*path` (a view
// into `data`) and `*size` when those keys occur. Returns false for malformed records.
bool ParsePaxRecords(std::string_view data, std::optional<std::string_view>* path, int64_t* size) {
  size_t pos = 0;
  while (pos < data.size()) {
    if (data[pos] == '\0') break;  // NUL padding
    const size_t space = data.find(' ', pos);
    if (space == std::string_view::npos) return false;
    int64_t len = 0;
    for (size_t i = pos; i < space; ++i) {
      if (data[i] < '0' || data[i] > '9' || len > kMaxExtendedHeaderBytes) return false;
      len = len * 10 + (data[i] - '0');
    }
    if (len <= 0 || pos + static_cast<size_t>(len) > data.size() ||
        data[pos + static_cast<size_t>(len) - 1] != '\n' ||
        space + 1 > pos + static_cast<size_t>(len) - 1) {
      return false;
    }
    const std::string_view record =
        data.substr(space + 1, pos + static_cast<size_t>(len) - 1 - (space + 1));
    const size_t eq = record.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view key = record.substr(0, eq);
    const std::string_view value = record.substr(eq + 1);
    if (key == "path") {
      *path = value;
    } else if (key == "size") {
      int64_t v = 0;
      if (value.empty()) return false;
      for (char c : value) {
        if (c < '0' || c > '9' || v > (std::numeric_limits<int64_t>::max() - 9) / 10) return false;
        v = v * 10 + (c - '0');
      }
      *size = v;
    }
    pos += static_cast<size_t>(len);
  }
  return true;
}

// Buffered reads over an InputStream, counting the stream offset.
class StreamReader {
 public:
  explicit StreamReader(std::unique_ptr<InputStream> stream)
      : stream_(std::move(stream)),
        buf_(new char[kReadBufferBytes]),
        offset_(stream_->position()) {}
  // Over bytes in memory that start at stream offset `offset`: no buffer, no copy but the
  // caller's.
  StreamReader(std::string_view memory, int64_t offset)
      : memory_(memory.data()), memory_size_(memory.size()), offset_(offset) {}

  // Stream offset of the next unread byte.
  int64_t offset() const { return offset_; }

  // Reads up to `n` bytes; fewer only at the end of the stream.
  Result<size_t> ReadFully(char* dst, size_t n) {
    if (memory_ != nullptr) {
      const size_t take = std::min(n, memory_size_ - memory_pos_);
      std::memcpy(dst, memory_ + memory_pos_, take);
      memory_pos_ += take;
      offset_ += static_cast<int64_t>(take);
      return take;
    }
    size_t done = 0;
    while (done < n) {
      if (begin_ == end_) {
        if (n - done >= kReadBufferBytes) {  // large reads bypass the buffer
          MIXTERA_ASSIGN_OR_RETURN(size_t got, stream_->Read(dst + done, n - done));
          if (got == 0) break;
          done += got;
          offset_ += static_cast<int64_t>(got);
          continue;
        }
        MIXTERA_ASSIGN_OR_RETURN(bool more, Fill());
        if (!more) break;
      }
      const size_t take = std::min(n - done, end_ - begin_);
      std::memcpy(dst + done, buf_.get() + begin_, take);
      begin_ += take;
      done += take;
      offset_ += static_cast<int64_t>(take);
    }
    return done;
  }

  // Skips up to `n` bytes; returns how many were skipped (fewer only at the end).
  Result<int64_t> Skip(int64_t n) {
    if (memory_ != nullptr) {
      const size_t take = std::min(static_cast<size_t>(n), memory_size_ - memory_pos_);
      memory_pos_ += take;
      offset_ += static_cast<int64_t>(take);
      return static_cast<int64_t>(take);
    }
    int64_t done = 0;
    while (done < n) {
      if (begin_ == end_) {
        MIXTERA_ASSIGN_OR_RETURN(bool more, Fill());
        if (!more) break;
      }
      const size_t take =
          static_cast<size_t>(std::min<int64_t>(n - done, static_cast<int64_t>(end_ - begin_)));
      begin_ += take;
      done += static_cast<int64_t>(take);
      offset_ += static_cast<int64_t>(take);
    }
    return done;
  }

 private:
  Result<bool> Fill() {
    MIXTERA_ASSIGN_OR_RETURN(size_t got, stream_->Read(buf_.get(), kReadBufferBytes));
    begin_ = 0;
    end_ = got;
    return got > 0;
  }

  std::unique_ptr<InputStream> stream_;
  std::unique_ptr<char[]> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
  const char* memory_ = nullptr;  // memory mode
  size_t memory_size_ = 0;
  size_t memory_pos_ = 0;
  int64_t offset_;
};

// A regular-file member whose header was read and whose data was not.
struct Entry {
  std::string name;
  int64_t header_offset = 0;
  int64_t data_offset = 0;
  int64_t size = 0;
};

// Splits a member path into key and extension (WebDataset convention); the views point into
// `name`.
void SplitName(std::string_view name, std::string_view* key, std::string_view* extension) {
  const size_t slash = name.rfind('/');
  const size_t dot = name.find('.', slash == std::string_view::npos ? 0 : slash + 1);
  *key = name.substr(0, dot);
  *extension = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
}

// Whether `block` is a POSIX ustar header ("ustar\0" + "00"), which may store a path prefix;
// GNU headers ("ustar  \0") do not.
bool IsPosixUstar(const char* block) {
  return std::memcmp(block + kMagicOffset,
                     "ustar\0"
                     "00",
                     8) == 0;
}

}  // namespace

const TarMember* TarSample::Find(const std::string& extension) const {
  for (const TarMember& m : members) {
    if (m.extension == extension) return &m;
  }
  return nullptr;
}

class TarSampleScanner::Impl {
 public:
  Impl(std::unique_ptr<InputStream> stream, std::string path, std::set<std::string> load)
      : reader_(std::move(stream)), path_(std::move(path)), load_(std::move(load)) {}
  Impl(std::string_view memory, int64_t offset, std::string path, std::set<std::string> load)
      : reader_(memory, offset), path_(std::move(path)), load_(std::move(load)) {}

  Result<std::optional<TarSample>> Next() {
    if (!status_.ok()) return status_;
    Result<std::optional<TarSample>> result = NextImpl();
    if (!result.ok()) status_ = result.status();
    return result;
  }

 private:
  Result<std::optional<TarSample>> NextImpl() {
    if (!pending_.has_value()) {
      MIXTERA_ASSIGN_OR_RETURN(pending_, NextEntry());
      if (!pending_.has_value()) return std::optional<TarSample>();
    }
    TarSample sample;
    // Views into pending_->name, copied before the entry moves on.
    std::string_view key_view, extension_view;
    SplitName(pending_->name, &key_view, &extension_view);
    sample.key = std::string(key_view);
    std::string extension(extension_view);
    if (finished_keys_.count(sample.key) != 0) {
      return Status::Corruption(StrCat(path_, ": members of sample ", JsonQuote(sample.key),
                                       " are not consecutive (member ", JsonQuote(pending_->name),
                                       " at offset ", pending_->header_offset, ")"));
    }
    sample.begin_offset = pending_->header_offset;
    while (pending_.has_value()) {
      Entry entry = std::move(*pending_);
      pending_.reset();
      if (sample.Find(extension) != nullptr) {
        return Status::Corruption(StrCat(path_, ": duplicate member ", JsonQuote(entry.name),
                                         " in sample ", JsonQuote(sample.key)));
      }
      TarMember member;
      member.extension = extension;
      member.header_offset = entry.header_offset;
      member.data_offset = entry.data_offset;
      member.size = entry.size;
      member.loaded = load_.count(extension) != 0 || load_.count("*") != 0;
      MIXTERA_RETURN_IF_ERROR(ConsumeData(entry, member.loaded ? &member.data : nullptr));
      sample.end_offset = entry.data_offset + entry.size;
      sample.members.push_back(std::move(member));

      MIXTERA_ASSIGN_OR_RETURN(pending_, NextEntry());
      if (!pending_.has_value()) break;
      SplitName(pending_->name, &key_view, &extension_view);
      if (key_view != sample.key) break;
      extension = std::string(extension_view);
    }
    finished_keys_.insert(sample.key);
    return std::optional<TarSample>(std::move(sample));
  }

  // Reads headers up to the next regular-file member; nullopt at the end of the archive.
  Result<std::optional<Entry>> NextEntry() {
    if (at_end_) return std::optional<Entry>();
    std::string extended_name;  // from a GNU 'L' entry or a pax 'path' record
    int64_t pax_size = -1;
    int64_t first_header = -1;  // offset of the first header of this member
    char block[kBlockBytes];
    while (true) {
      const int64_t header_offset = reader_.offset();
      MIXTERA_ASSIGN_OR_RETURN(size_t got, reader_.ReadFully(block, kBlockBytes));
      if (got == 0 && first_header < 0) {
        // Clean end at a block boundary without the end-of-archive blocks: accepted.
        at_end_ = true;
        return std::optional<Entry>();
      }
      if (got < static_cast<size_t>(kBlockBytes)) {
        return Status::Corruption(
            StrCat(path_, ": truncated tar archive: the stream ends at offset ", reader_.offset(),
                   " inside the header at offset ", header_offset, AfterMember()));
      }
      if (AllZero(block, kBlockBytes)) {
        if (first_header >= 0) {
          return Status::Corruption(StrCat(path_, ": zero block at offset ", header_offset,
                                           " after an extended header", AfterMember()));
        }
        MIXTERA_RETURN_IF_ERROR(CheckEndOfArchive(header_offset));
        at_end_ = true;
        return std::optional<Entry>();
      }
      const std::string header_name = CString(block + kNameOffset, kNameBytes);
      if (!ChecksumMatches(block)) {
        return Status::Corruption(StrCat(path_, ": bad tar header checksum at offset ",
                                         header_offset, " (member ", JsonQuote(header_name), ")"));
      }
      int64_t size = 0;
      if (!ParseSize(block + kSizeOffset, &size)) {
        return Status::Corruption(StrCat(path_, ": bad size field in the tar header at offset ",
                                         header_offset, " (member ", JsonQuote(header_name), ")"));
      }
      const char type = block[kTypeOffset];
      if (first_header < 0) first_header = header_offset;
      std::string name = header_name;
      if (IsPosixUstar(block)) {
        std::string prefix = CString(block + kPrefixOffset, kPrefixBytes);
        if (!prefix.empty()) name = prefix + "/" + name;
      }
      if (!extended_name.empty()) name = extended_name;
      last_member_ = name;

      switch (type) {
        case 'L': {  // GNU long name for the next entry
          MIXTERA_ASSIGN_OR_RETURN(std::string data, ReadExtendedData(name, size));
          extended_name = CString(data.data(), data.size());
          continue;
        }
        case 'x': {  // pax extended header for the next entry
          MIXTERA_ASSIGN_OR_RETURN(std::string data, ReadExtendedData(name, size));
          MIXTERA_RETURN_IF_ERROR(ParsePax(data, header_offset, &extended_name, &pax_size));
          continue;
        }
        case 'K':  // GNU long link name: part of this member's headers, not needed
          MIXTERA_RETURN_IF_ERROR(SkipData(name, reader_.offset(), size));
          continue;
        case '0':
        case '\0':
        case '7': {  // regular file (and contiguous file, which is one too)
          Entry entry;
          entry.name = std::move(name);
          entry.header_offset = first_header;
          entry.data_offset = reader_.offset();
          entry.size = pax_size >= 0 ? pax_size : size;
          return std::optional<Entry>(std::move(entry));
        }
        default:
          // Links, devices, directories and FIFOs ('1'-'6') have no data; anything else
          // ('g' global pax headers, GNU sparse or dump-dir entries) is skipped with its data.
          if (type < '1' || type > '6') {
            MIXTERA_RETURN_IF_ERROR(SkipData(name, reader_.offset(), size));
          }
          extended_name.clear();
          pax_size = -1;
          first_header = -1;
          continue;
      }
    }
  }

  // After one zero block: a second zero block (or the end of the stream) must follow.
  Status CheckEndOfArchive(int64_t first_zero_offset) {
    char block[kBlockBytes];
    MIXTERA_ASSIGN_OR_RETURN(size_t got, reader_.ReadFully(block, kBlockBytes));
    if (AllZero(block, got)) return Status::OK();
    return Status::Corruption(StrCat(path_, ": a lone zero block at offset ", first_zero_offset,
                                     " is followed by more data", AfterMember()));
  }

  // Reads the data of a long-name or pax entry and skips its padding.
  Result<std::string> ReadExtendedData(const std::string& name, int64_t size) {
    if (size > kMaxExtendedHeaderBytes) {
      return Status::Corruption(StrCat(path_, ": extended tar header of ", size,
                                       " bytes at offset ", reader_.offset(), " (member ",
                                       JsonQuote(name), ") is larger than the limit"));
    }
    Entry entry{name, 0, reader_.offset(), size};
    std::string data;
    MIXTERA_RETURN_IF_ERROR(ConsumeData(entry, &data));
    return data;
  }

  // Parses the pax records of the header at `header_offset`; takes `path` and `size`.
  Status ParsePax(const std::string& data, int64_t header_offset, std::string* name,
                  int64_t* size) {
    std::optional<std::string_view> path;
    if (!ParsePaxRecords(data, &path, size)) {
      return Status::Corruption(
          StrCat(path_, ": malformed pax header at offset ", header_offset, AfterMember()));
    }
    if (path.has_value()) *name = std::string(*path);
    return Status::OK();
  }

  // Reads (into `out`, when set) or skips the data of `entry` and its padding.
  Status ConsumeData(const Entry& entry, std::string* out) {
    int64_t got = 0;
    if (out != nullptr) {
      // Grown piece by piece, so a truncated archive that claims a huge size fails with
      // Corruption instead of a giant allocation.
      out->clear();
      while (got < entry.size) {
        const int64_t piece = std::min(entry.size - got, kLoadPieceBytes);
        out->resize(static_cast<size_t>(got + piece));
        MIXTERA_ASSIGN_OR_RETURN(size_t n,
                                 reader_.ReadFully(out->data() + got, static_cast<size_t>(piece)));
        got += static_cast<int64_t>(n);
        if (n < static_cast<size_t>(piece)) break;
      }
      out->resize(static_cast<size_t>(got));
    } else {
      MIXTERA_ASSIGN_OR_RETURN(got, reader_.Skip(entry.size));
    }
    if (got < entry.size) return TruncatedData(entry.name, entry.data_offset, entry.size, got);
    const int64_t pad = Padding(entry.size);
    MIXTERA_ASSIGN_OR_RETURN(int64_t skipped, reader_.Skip(pad));
    if (skipped < pad) {
      return Status::Corruption(StrCat(path_,
                                       ": truncated tar archive: the stream ends inside "
                                       "the padding after member ",
                                       JsonQuote(entry.name), " at offset ", reader_.offset()));
    }
    return Status::OK();
  }

  Status SkipData(const std::string& name, int64_t data_offset, int64_t size) {
    return ConsumeData(Entry{name, 0, data_offset, size}, nullptr);
  }

  Status TruncatedData(const std::string& name, int64_t data_offset, int64_t size, int64_t got) {
    return Status::Corruption(StrCat(path_, ": truncated tar archive: member ", JsonQuote(name),
                                     " (data at offset ", data_offset, ") has ", got, " of ", size,
                                     " bytes"));
  }

  std::string AfterMember() const {
    if (last_member_.empty()) return "";
    return StrCat(" (after member ", JsonQuote(last_member_), ")");
  }

  StreamReader reader_;
  std::string path_;
  std::set<std::string> load_;
  std::optional<Entry> pending_;  // the next member's header, already read
  std::unordered_set<std::string> finished_keys_;
  std::string last_member_;  // for messages
  bool at_end_ = false;
  Status status_;  // sticky error
};

bool SplitPlainTarSample(std::string_view sample, std::string_view* key,
                         std::vector<PlainTarMember>* members) {
  members->clear();
  size_t at = 0;
  // From a GNU long-name or pax header, for the next regular file.
  std::optional<std::string_view> extended_name;
  int64_t pax_size = -1;
  while (true) {
    if (sample.size() - at < static_cast<size_t>(kBlockBytes)) return false;
    const char* block = sample.data() + at;
    const char type = block[kTypeOffset];
    const bool regular = type == '0' || type == '\0' || type == '7';
    if (!regular && type != 'x' && type != 'L') return false;
    if (block[kPrefixOffset] != '\0' && IsPosixUstar(block)) {
      return false;  // a POSIX path prefix: the name is not one piece of the header
    }
    int64_t size = 0;
    if (!ParseSize(block + kSizeOffset, &size) || !ChecksumMatches(block)) return false;
    if (regular && pax_size >= 0) {
      size = pax_size;  // a pax size overrides the header's
      pax_size = -1;
    }
    const size_t data_begin = at + static_cast<size_t>(kBlockBytes);
    if (static_cast<uint64_t>(size) > sample.size() - data_begin) return false;
    const std::string_view data = sample.substr(data_begin, static_cast<size_t>(size));
    const size_t data_end = data_begin + static_cast<size_t>(size);
    if (!regular) {
      if (type == 'L') {
        extended_name = data.substr(0, strnlen(data.data(), data.size()));
      } else if (!ParsePaxRecords(data, &extended_name, &pax_size)) {
        return false;
      }
      at = data_end + static_cast<size_t>(Padding(size));
      continue;
    }
    const std::string_view name =
        extended_name.has_value() && !extended_name->empty()
            ? *extended_name
            : std::string_view(block + kNameOffset, strnlen(block + kNameOffset, kNameBytes));
    extended_name.reset();
    std::string_view member_key, extension;
    SplitName(name, &member_key, &extension);
    if (members->empty()) {
      *key = member_key;
    } else if (member_key != *key) {
      return false;
    }
    for (const PlainTarMember& m : *members) {
      if (m.extension == extension) return false;
    }
    members->push_back(PlainTarMember{extension, data});
    if (data_end == sample.size()) return true;
    at = data_end + static_cast<size_t>(Padding(size));
    if (at >= sample.size()) return false;
  }
}

TarSampleScanner::TarSampleScanner(std::unique_ptr<InputStream> stream, std::string path,
                                   std::set<std::string> load_extensions)
    : impl_(
          std::make_unique<Impl>(std::move(stream), std::move(path), std::move(load_extensions))) {}

TarSampleScanner::TarSampleScanner(std::string_view memory, int64_t offset, std::string path,
                                   std::set<std::string> load_extensions)
    : impl_(std::make_unique<Impl>(memory, offset, std::move(path), std::move(load_extensions))) {}

TarSampleScanner::~TarSampleScanner() = default;

Result<std::optional<TarSample>> TarSampleScanner::Next() { return impl_->Next(); }

}  // namespace mixtera::formats
