#include "index/chunker_index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <numeric>
#include <span>
#include <thread>

#include "base/macros.h"
#include "base/strings.h"
#include "index/elias_fano.h"

namespace mixtera::index {
namespace {

constexpr char kMagic[8] = {'M', 'X', 'I', 'D', 'X', '0', '0', '6'};
constexpr uint8_t kRanges = 0;
constexpr uint8_t kSet = 1;
// One run stored inline in the entry: entry_data = first sample, entry_aux unused.
constexpr uint8_t kSingleRun = 2;
// An Elias-Fano set spanning several files: values are global sample numbers (file_base of
// the sample's file + its id) less file_base of the entry's file.
constexpr uint8_t kMultiFileSet = 3;

// A file's samples of one component go to a multi-file set when they are fewer than this
// (and not one run): a per-file entry would cost more in its record and word rounding than in
// its samples.
constexpr uint64_t kSmallSetSamples = 256;
// A single run this short costs less in a multi-file set (about 2 bytes per sample) than in
// its own 24-byte entry.
constexpr uint64_t kShortRunSamples = 12;
// A multi-file set is closed when it holds this many samples.
constexpr uint64_t kMultiFileSetSamples = 1024;

// Whether a file's `count` samples of one component (one run or not) go to the component's
// multi-file set rather than an entry of their own.
bool GoesToMultiFileSet(uint64_t count, bool one_run) {
  return count < kSmallSetSamples && (!one_run || count < kShortRunSamples);
}

// File header: magic, then these counts (all uint64, little endian as in memory).
struct Header {
  char magic[8];
  uint64_t num_components;
  uint64_t num_entries;
  uint64_t num_ranges;
  uint64_t num_words;
  uint64_t num_samples;
  uint64_t num_files;    // file slots: the file_base section has num_files + 1 values
  uint32_t payload_crc;  // CRC-32 (zlib) of every byte after the header
  uint32_t header_crc;   // CRC-32 of the header bytes before this field
};
static_assert(sizeof(Header) == 64);

uint32_t Crc32(const uint8_t* data, size_t n, uint32_t crc = 0) {
  // zlib takes lengths as uInt: feed it in pieces below 4 GiB.
  while (n > 0) {
    const size_t piece = std::min<size_t>(n, size_t{1} << 30);
    crc = static_cast<uint32_t>(::crc32(crc, data, static_cast<uInt>(piece)));
    data += piece;
    n -= piece;
  }
  return crc;
}

size_t Align8(size_t n) { return (n + 7) & ~size_t{7}; }

// The sections in file order, with their element sizes and counts.
struct Section {
  size_t element_size;
  uint64_t count;
};
std::vector<Section> SectionsOf(uint64_t c, uint64_t e, uint64_t r, uint64_t w, uint64_t f) {
  return {{4, c + 1}, {24, e + 1}, {4, r}, {4, r}, {4, r}, {8, w}, {8, f + 1}};
}

}  // namespace

// Owns the bytes the views point into: either vectors from the builder or a mapping.
struct ChunkerIndex::Storage {
  using EntryRecord = ChunkerIndex::EntryRecord;
  std::vector<uint32_t> component_entry_begin;
  BigArray<uint64_t> words;
  std::vector<EntryRecord> entries;
  std::vector<uint32_t> range_begin, range_end, range_offset;
  std::vector<uint64_t> file_base;
  void* map = nullptr;
  size_t map_size = 0;
  ~Storage() {
    if (map != nullptr) munmap(map, map_size);
  }
};

ChunkerIndex::ChunkerIndex() : storage_(std::make_unique<Storage>()) {}
ChunkerIndex::~ChunkerIndex() = default;

int64_t ChunkerIndex::component_size(int64_t c) const {
  return static_cast<int64_t>(entries_[component_entry_begin_[c + 1]].position -
                              entries_[component_entry_begin_[c]].position);
}

int64_t ChunkerIndex::num_set_samples() const {
  int64_t n = 0;
  for (uint64_t e = 0; e < num_entries_; ++e) {
    if (entries_[e].kind() == kSet || entries_[e].kind() == kMultiFileSet)
      n += static_cast<int64_t>(entries_[e + 1].position - entries_[e].position);
  }
  return n;
}

int64_t ChunkerIndex::bytes() const {
  size_t total = 0;
  for (const auto& s :
       SectionsOf(num_components_, num_entries_, num_ranges_, num_words_, num_files_)) {
    total += Align8(s.element_size * s.count);
  }
  return static_cast<int64_t>(total);
}

void ChunkerIndex::Extract(int64_t c, int64_t begin, int64_t end,
                           std::vector<SampleRange>* out) const {
  MIXTERA_CHECK(c >= 0 && static_cast<uint64_t>(c) < num_components_);
  MIXTERA_CHECK(0 <= begin && begin <= end && end <= component_size(c));
  if (begin == end) return;
  const uint64_t e_first = component_entry_begin_[c];
  const uint64_t e_last = component_entry_begin_[c + 1];
  const uint64_t base = entries_[e_first].position;
  uint64_t g = base + static_cast<uint64_t>(begin);
  const uint64_t g_end = base + static_cast<uint64_t>(end);
  // The entry holding position g: the last entry whose start is <= g.
  uint64_t e = static_cast<uint64_t>(
      std::upper_bound(entries_ + e_first, entries_ + e_last, g,
                       [](uint64_t v, const EntryRecord& r) { return v < r.position; }) -
      entries_ - 1);
  auto emit = [out](uint32_t file, uint32_t b, uint32_t en) {
    if (!out->empty() && out->back().file_index == file && out->back().end == b) {
      out->back().end = en;
    } else {
      out->push_back({file, b, en});
    }
  };
  while (g < g_end) {
    const uint64_t entry_end = entries_[e + 1].position;
    const uint64_t local = g - entries_[e].position;
    const uint64_t take = std::min(entry_end, g_end) - g;
    const uint32_t file = entries_[e].file();
    if (entries_[e].kind() == kSingleRun) {
      const uint32_t b = static_cast<uint32_t>(entries_[e].data + local);
      emit(file, b, b + static_cast<uint32_t>(take));
    } else if (entries_[e].kind() == kRanges) {
      const uint64_t r0 = entries_[e].data;
      const uint64_t r1 = r0 + entries_[e].aux;
      uint64_t r = static_cast<uint64_t>(
          std::upper_bound(range_offset_ + r0, range_offset_ + r1, static_cast<uint32_t>(local)) -
          range_offset_ - 1);
      uint64_t pos = local;
      uint64_t left = take;
      while (left > 0) {
        const uint64_t within = pos - range_offset_[r];
        const uint64_t avail = (range_end_[r] - range_begin_[r]) - within;
        const uint64_t n = std::min(avail, left);
        const uint32_t b = range_begin_[r] + static_cast<uint32_t>(within);
        emit(file, b, b + static_cast<uint32_t>(n));
        left -= n;
        pos += n;
        ++r;
      }
    } else if (entries_[e].kind() == kSet) {
      EliasFanoView set(words_ + entries_[e].data, entry_end - entries_[e].position,
                        entries_[e].aux);
      set.Decode(local, take, [&](uint64_t v) {
        emit(file, static_cast<uint32_t>(v), static_cast<uint32_t>(v + 1));
      });
    } else {
      EliasFanoView set(words_ + entries_[e].data, entry_end - entries_[e].position,
                        entries_[e].aux);
      const uint64_t entry_base = file_base_[file];
      uint32_t f = file;
      set.Decode(local, take, [&](uint64_t v) {
        const uint64_t global = entry_base + v;
        while (file_base_[f + 1] <= global) ++f;
        const auto sample = static_cast<uint32_t>(global - file_base_[f]);
        emit(f, sample, sample + 1);
      });
    }
    g += take;
    ++e;
  }
}

std::vector<std::pair<uint32_t, int64_t>> ChunkerIndex::ComponentFiles(int64_t c) const {
  std::vector<std::pair<uint32_t, int64_t>> files;
  const uint64_t first = component_entry_begin_[c], last = component_entry_begin_[c + 1];
  for (uint64_t e = first; e < last; ++e) {
    if (entries_[e].kind() != kMultiFileSet) {
      files.emplace_back(entries_[e].file(),
                         static_cast<int64_t>(entries_[e + 1].position - entries_[e].position));
      continue;
    }
    std::vector<SampleRange> ranges;
    Extract(c, static_cast<int64_t>(entries_[e].position - entries_[first].position),
            static_cast<int64_t>(entries_[e + 1].position - entries_[first].position), &ranges);
    for (const SampleRange& r : ranges) {
      if (files.empty() || files.back().first != r.file_index) files.emplace_back(r.file_index, 0);
      files.back().second += r.end - r.begin;
    }
  }
  return files;
}

Status ChunkerIndex::Save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr)
    return Status::IOError(StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.num_components = num_components_;
  h.num_entries = num_entries_;
  h.num_ranges = num_ranges_;
  h.num_words = num_words_;
  h.num_samples = num_samples_;
  h.num_files = num_files_;
  const void* arrays[] = {component_entry_begin_, entries_, range_begin_, range_end_,
                          range_offset_,          words_,   file_base_};
  const auto sections =
      SectionsOf(num_components_, num_entries_, num_ranges_, num_words_, num_files_);
  static const char kZeros[8] = {};
  uint32_t crc = 0;
  for (size_t i = 0; i < sections.size(); ++i) {
    const size_t n = sections[i].element_size * sections[i].count;
    crc = Crc32(static_cast<const uint8_t*>(arrays[i]), n, crc);
    crc = Crc32(reinterpret_cast<const uint8_t*>(kZeros), Align8(n) - n, crc);
  }
  h.payload_crc = crc;
  h.header_crc = Crc32(reinterpret_cast<const uint8_t*>(&h), offsetof(Header, header_crc));
  bool ok = std::fwrite(&h, sizeof(h), 1, f) == 1;
  for (size_t i = 0; i < sections.size() && ok; ++i) {
    const size_t n = sections[i].element_size * sections[i].count;
    if (n > 0) ok = std::fwrite(arrays[i], 1, n, f) == n;
    const size_t pad = Align8(n) - n;
    if (ok && pad > 0) ok = std::fwrite(kZeros, 1, pad, f) == pad;
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IOError(StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return Status::OK();
}

Result<std::unique_ptr<ChunkerIndex>> ChunkerIndex::Load(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(StrCat("cannot open ", path, ": ", std::strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    return Status::IOError(StrCat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < sizeof(Header)) {
    ::close(fd);
    return Status::Corruption(StrCat(path, ": not a Mixtera index (", size, " bytes)"));
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED)
    return Status::IOError(StrCat("cannot map ", path, ": ", std::strerror(errno)));
  std::unique_ptr<ChunkerIndex> index(new ChunkerIndex());
  index->storage_->map = map;
  index->storage_->map_size = size;
  MIXTERA_RETURN_IF_ERROR(index->Bind(static_cast<const uint8_t*>(map), size, path));
  return index;
}

Status ChunkerIndex::Bind(const uint8_t* data, size_t size, const std::string& origin) {
  Header h;
  if (size < sizeof(h)) return Status::Corruption(StrCat(origin, ": not a Mixtera index"));
  std::memcpy(&h, data, sizeof(h));
  if (std::memcmp(h.magic, kMagic, 5) == 0 && std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption(StrCat(origin, ": index format ", std::string(h.magic, 8), " is not ",
                                     std::string(kMagic, 8),
                                     ", which this version reads; execute the query again"));
  }
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption(StrCat(origin, ": not a Mixtera index (bad magic)"));
  }
  // Every byte is checked before any is trusted: a flipped bit must be an error, never a
  // crash or different samples.
  if (Crc32(data, offsetof(Header, header_crc)) != h.header_crc) {
    return Status::Corruption(StrCat(origin, ": the index header's checksum does not match"));
  }
  if (Crc32(data + sizeof(h), size - sizeof(h)) != h.payload_crc) {
    return Status::Corruption(
        StrCat(origin, ": the index's checksum does not match (", size, " bytes)"));
  }
  const auto sections =
      SectionsOf(h.num_components, h.num_entries, h.num_ranges, h.num_words, h.num_files);
  size_t offset = sizeof(Header);
  const void* ptrs[7];
  for (size_t i = 0; i < sections.size(); ++i) {
    // Guard the multiplication against absurd counts from a corrupt header.
    if (sections[i].count > size) {
      return Status::Corruption(StrCat(origin, ": index truncated or corrupt"));
    }
    const size_t n = sections[i].element_size * sections[i].count;
    if (offset + n > size) return Status::Corruption(StrCat(origin, ": index truncated"));
    ptrs[i] = data + offset;
    offset += Align8(n);
  }
  if (offset != size) return Status::Corruption(StrCat(origin, ": index has trailing bytes"));
  num_components_ = h.num_components;
  num_entries_ = h.num_entries;
  num_ranges_ = h.num_ranges;
  num_words_ = h.num_words;
  num_samples_ = h.num_samples;
  num_files_ = h.num_files;
  component_entry_begin_ = static_cast<const uint32_t*>(ptrs[0]);
  entries_ = static_cast<const EntryRecord*>(ptrs[1]);
  range_begin_ = static_cast<const uint32_t*>(ptrs[2]);
  range_end_ = static_cast<const uint32_t*>(ptrs[3]);
  range_offset_ = static_cast<const uint32_t*>(ptrs[4]);
  words_ = static_cast<const uint64_t*>(ptrs[5]);
  file_base_ = static_cast<const uint64_t*>(ptrs[6]);
  // Cheap consistency checks so a corrupt file fails here, not with a wild read later.
  if (component_entry_begin_[0] != 0 || component_entry_begin_[num_components_] != num_entries_ ||
      entries_[0].position != 0 || entries_[num_entries_].position != num_samples_) {
    return Status::Corruption(StrCat(origin, ": index tables are inconsistent"));
  }
  for (uint64_t c = 0; c < num_components_; ++c) {
    if (component_entry_begin_[c] > component_entry_begin_[c + 1]) {
      return Status::Corruption(StrCat(origin, ": index tables are inconsistent"));
    }
  }
  if (file_base_[0] != 0) {
    return Status::Corruption(StrCat(origin, ": index file table is inconsistent"));
  }
  for (uint64_t f = 0; f < num_files_; ++f) {
    if (file_base_[f + 1] < file_base_[f]) {
      return Status::Corruption(StrCat(origin, ": index file table is inconsistent"));
    }
  }
  for (uint64_t e = 0; e < num_entries_; ++e) {
    const uint64_t count = entries_[e + 1].position - entries_[e].position;
    const bool bad_ranges =
        entries_[e].kind() == kRanges &&
        (entries_[e].data + entries_[e].aux > num_ranges_ || entries_[e].aux == 0);
    const bool is_set = entries_[e].kind() == kSet || entries_[e].kind() == kMultiFileSet;
    const bool bad_set =
        is_set &&
        (entries_[e].data + EliasFanoLayout(count, entries_[e].aux).total_words() > num_words_);
    // A multi-file set's values must stay within the file table.
    const bool bad_multi =
        entries_[e].kind() == kMultiFileSet &&
        (entries_[e].file() >= num_files_ ||
         file_base_[entries_[e].file()] + entries_[e].aux > file_base_[num_files_]);
    const bool bad_run = entries_[e].kind() == kSingleRun && entries_[e].data + count >= UINT32_MAX;
    if (entries_[e + 1].position < entries_[e].position || bad_ranges || bad_run || bad_set ||
        bad_multi || count == 0) {
      return Status::Corruption(StrCat(origin, ": index entry ", e, " is inconsistent"));
    }
  }
  return Status::OK();
}

ChunkerIndexBuilder::ChunkerIndexBuilder() = default;
ChunkerIndexBuilder::~ChunkerIndexBuilder() = default;

int64_t ChunkerIndexBuilder::AddComponent() {
  component_sizes_.push_back(0);
  entries_.emplace_back();
  runs_.emplace_back();
  pending_.emplace_back();
  return num_components_++;
}

void ChunkerIndexBuilder::BeginFile(uint32_t file_index) {
  MIXTERA_CHECK(!in_file_ && file_index <= ChunkerIndex::kFileMask);
  MIXTERA_CHECK(!have_file_ || file_index > file_index_);
  in_file_ = true;
  have_file_ = true;
  file_index_ = file_index;
  // Files skipped since the last one hold nothing: their base is the next one's.
  while (file_base_.size() < static_cast<size_t>(file_index) + 1) {
    file_base_.push_back(file_base_.back());
  }
  file_universe_ = 0;
}

void ChunkerIndexBuilder::AddRun(int64_t component, uint32_t begin, uint32_t end) {
  MIXTERA_CHECK(in_file_ && begin < end && end < UINT32_MAX);
  file_universe_ = std::max(file_universe_, end);
  auto& runs = runs_[component];
  if (runs.empty()) {
    touched_.push_back(component);
  } else {
    MIXTERA_CHECK(begin >= runs.back().end);
    if (begin == runs.back().end) {
      runs.back().end = end;
      return;
    }
  }
  runs.push_back({begin, end});
}

void ChunkerIndexBuilder::AddPendingBlock(Pending& p) {
  uint32_t block;
  if (!free_blocks_.empty()) {
    block = free_blocks_.back();
    free_blocks_.pop_back();
  } else {
    block = static_cast<uint32_t>(block_next_.size());
    MIXTERA_CHECK(block < kNoBlock);
    if (block % kSlabBlocks == 0) {
      pool_slabs_.emplace_back();
      pool_slabs_.back().resize(size_t{kSlabBlocks} * kBlockValues);  // left uninitialized
    }
    block_next_.push_back(kNoBlock);
  }
  block_next_[block] = kNoBlock;
  if (p.count == 0) {
    p.head = block;
  } else {
    block_next_[p.tail] = block;
  }
  p.tail = block;
  p.tail_values = BlockValues(block);
}

void ChunkerIndexBuilder::AppendPending(int64_t c, uint32_t begin, uint32_t end) {
  Pending& p = pending_[c];
  while (begin < end) {
    if (p.count % kBlockValues == 0) AddPendingBlock(p);
    const uint32_t n = std::min(kBlockValues - p.count % kBlockValues, end - begin);
    uint32_t* out = p.tail_values + p.count % kBlockValues;
    for (uint32_t i = 0; i < n; ++i) out[i] = begin + i;
    p.count += n;
    begin += n;
  }
  p.last = end - 1;
}

void ChunkerIndexBuilder::CopyPending(const Pending& p, uint32_t* out) const {
  uint32_t copied = 0;
  for (uint32_t block = p.head; copied < p.count; block = block_next_[block]) {
    const uint32_t n = std::min(kBlockValues, p.count - copied);
    std::memcpy(out + copied, BlockValues(block), n * sizeof(uint32_t));
    copied += n;
  }
}

void ChunkerIndexBuilder::TakePending(int64_t c, std::vector<uint32_t>* out) {
  Pending& p = pending_[c];
  out->resize(p.count);
  CopyPending(p, out->data());
  for (uint32_t block = p.head; block != kNoBlock; block = block_next_[block]) {
    free_blocks_.push_back(block);
  }
  p = Pending{};
}

ChunkerIndexBuilder::Entry ChunkerIndexBuilder::MultiFileEntry(const Pending& p,
                                                               uint64_t first_word) {
  Entry entry{};
  entry.kind = kMultiFileSet;
  entry.file = p.file;
  entry.count = p.count;
  entry.aux = p.last + 1;
  entry.data = first_word;
  return entry;
}

uint32_t ChunkerIndexBuilder::OpenPending(int64_t c, uint64_t universe) {
  // The set's values are relative to its first file's base and must stay below 2^32.
  Pending& pending = pending_[c];
  const uint64_t file_base = file_base_[file_index_];
  if (pending.count > 0 && file_base + universe - file_base_[pending.file] >= UINT32_MAX) {
    FlushPending(c);
  }
  if (pending.count == 0) pending.file = file_index_;
  return static_cast<uint32_t>(file_base - file_base_[pending.file]);
}

void ChunkerIndexBuilder::FlushPending(int64_t c) {
  if (pending_[c].count == 0) return;
  const Entry entry = MultiFileEntry(pending_[c], words_.size());
  TakePending(c, &scratch_);
  EliasFanoEncode(scratch_, entry.aux, &words_);
  entries_[c].push_back(entry);
}

void ChunkerIndexBuilder::FlushComponent(int64_t c) {
  auto& runs = runs_[c];
  uint64_t count = 0;
  for (const Run& r : runs) count += r.end - r.begin;
  const uint64_t universe = runs.back().end;
  if (GoesToMultiFileSet(count, runs.size() == 1)) {
    const uint32_t shift = OpenPending(c, universe);
    for (const Run& r : runs) AppendPending(c, shift + r.begin, shift + r.end);
    component_sizes_[c] += static_cast<int64_t>(count);
    runs.clear();
    if (pending_[c].count >= kMultiFileSetSamples) FlushPending(c);
    return;
  }
  FlushPending(c);
  const uint64_t range_bytes = 12 * runs.size();
  const uint64_t set_bytes = 8 * EliasFanoLayout(count, universe).total_words();
  Entry entry{};
  entry.file = file_index_;
  entry.count = count;
  if (runs.size() == 1) {
    entry.kind = kSingleRun;
    entry.data = runs[0].begin;
    entry.aux = 0;
  } else if (range_bytes <= set_bytes) {
    entry.kind = kRanges;
    entry.aux = static_cast<uint32_t>(runs.size());
    entry.data = range_begin_.size();
    uint32_t offset = 0;
    for (const Run& r : runs) {
      range_begin_.push_back(r.begin);
      range_end_.push_back(r.end);
      range_offset_.push_back(offset);
      offset += r.end - r.begin;
    }
  } else {
    entry.kind = kSet;
    entry.aux = static_cast<uint32_t>(universe);
    entry.data = words_.size();
    scratch_.clear();
    for (const Run& r : runs) {
      for (uint32_t v = r.begin; v < r.end; ++v) scratch_.push_back(v);
    }
    EliasFanoEncode(scratch_, universe, &words_);
  }
  entries_[c].push_back(entry);
  component_sizes_[c] += static_cast<int64_t>(count);
  runs.clear();
}

void ChunkerIndexBuilder::EndFile() {
  MIXTERA_CHECK(in_file_);
  // The file's base is known; the next file's follows from its universe (its largest sample
  // id + 1 among the runs added).
  file_base_.push_back(file_base_[file_index_] + file_universe_);
  for (int64_t c : touched_) FlushComponent(c);
  touched_.clear();
  in_file_ = false;
}

void ChunkerIndexBuilder::FlushAllPending() {
  // Lay out every open set first (one allocation of words), then encode them; with many
  // pending samples, on two threads (each set goes to its own words).
  std::vector<int64_t> open;
  uint64_t total_values = 0;
  size_t end_word = words_.size();
  for (int64_t c = 0; c < num_components_; ++c) {
    const Pending& p = pending_[c];
    if (p.count == 0) continue;
    const Entry entry = MultiFileEntry(p, end_word);
    end_word += EliasFanoLayout(p.count, entry.aux).total_words();
    entries_[c].push_back(entry);
    open.push_back(c);
    total_values += p.count;
  }
  if (open.empty()) return;
  words_.resize(end_word);  // each set's encoding writes all of its words
  // The encoders only read the blocks (the builder is spent after Finish, so nothing frees
  // them); each set is copied to a scratch array of its thread, then encoded.
  auto encode = [this](std::span<const int64_t> components) {
    std::vector<uint32_t> values;
    for (int64_t c : components) {
      values.resize(pending_[c].count);
      CopyPending(pending_[c], values.data());
      const Entry& entry = entries_[c].back();
      EliasFanoEncodeTo(values.data(), values.size(), entry.aux, words_.data() + entry.data);
    }
  };
  constexpr uint64_t kParallelValues = uint64_t{1} << 16;
  if (total_values < kParallelValues) {
    encode(open);
  } else {
    // Two halves of about equal numbers of values.
    size_t split = 0;
    for (uint64_t seen = 0; split < open.size() && seen < total_values / 2; ++split) {
      seen += pending_[open[split]].count;
    }
    std::thread helper([&] { encode(std::span<const int64_t>(open).subspan(split)); });
    encode(std::span<const int64_t>(open).first(split));
    helper.join();
  }
  for (int64_t c : open) pending_[c] = Pending{};
}

void ChunkerIndexBuilder::AddFile(uint32_t file_index, std::span<const uint64_t> rows) {
  BeginFile(file_index);
  if (file_stats_.size() < static_cast<size_t>(num_components_)) {
    file_stats_.resize(static_cast<size_t>(num_components_));
  }
  // Pass 1: per component, its count and first and last sample in this file.
  // `ordered` collects violations of the row order and of the component range.
  bool ordered = true;
  uint64_t previous = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const uint64_t row = rows[i];
    const uint32_t c = static_cast<uint32_t>(row);
    const auto sample = static_cast<uint32_t>(row >> 32);
    ordered &= (i == 0 || (row >> 32) > previous) && c < static_cast<uint64_t>(num_components_);
    if (!ordered) break;
    previous = row >> 32;
    FileStats& st = file_stats_[c];
    if (st.count++ == 0) {
      touched_.push_back(c);
      st.first = sample;
    }
    st.last = sample;
  }
  MIXTERA_CHECK(ordered && previous < UINT32_MAX - 1);
  if (!rows.empty()) file_universe_ = static_cast<uint32_t>(previous) + 1;
  // Which components' samples go to their multi-file set (a component's samples are one run
  // when they are consecutive).
  for (int64_t c : touched_) {
    FileStats& st = file_stats_[c];
    st.pending = GoesToMultiFileSet(st.count, st.last - st.first + 1 == st.count);
    if (st.pending) st.shift = OpenPending(c, uint64_t{st.last} + 1);
  }
  // Pass 2: maximal runs of one component, to its pending samples or its runs.
  for (size_t i = 0; i < rows.size();) {
    const uint32_t c = static_cast<uint32_t>(rows[i]);
    const auto begin = static_cast<uint32_t>(rows[i] >> 32);
    uint32_t end = begin + 1;
    size_t j = i + 1;
    while (j < rows.size() && rows[j] == ((static_cast<uint64_t>(end) << 32) | c)) {
      ++end;
      ++j;
    }
    i = j;
    const FileStats& st = file_stats_[c];
    if (!st.pending) {
      auto& runs = runs_[c];
      if (!runs.empty() && runs.back().end == begin) {
        runs.back().end = end;
      } else {
        runs.push_back({begin, end});
      }
      continue;
    }
    Pending& p = pending_[c];
    if (end == begin + 1 && p.count % kBlockValues != 0) {
      p.tail_values[p.count % kBlockValues] = st.shift + begin;
      ++p.count;
      p.last = st.shift + begin;
    } else {
      AppendPending(c, st.shift + begin, st.shift + end);
    }
  }
  // EndFile, with the pending components already done.
  file_base_.push_back(file_base_[file_index_] + file_universe_);
  for (int64_t c : touched_) {
    FileStats& st = file_stats_[c];
    if (st.pending) {
      component_sizes_[c] += st.count;
      if (pending_[c].count >= kMultiFileSetSamples) FlushPending(c);
    } else {
      FlushComponent(c);
    }
    st.count = 0;
  }
  touched_.clear();
  in_file_ = false;
}

std::unique_ptr<ChunkerIndex> ChunkerIndexBuilder::Finish(const std::vector<int64_t>& order) {
  MIXTERA_CHECK(!in_file_ && static_cast<int64_t>(order.size()) == num_components_);
  FlushAllPending();
  std::unique_ptr<ChunkerIndex> index(new ChunkerIndex());
  auto& s = *index->storage_;
  uint64_t num_entries = 0;
  for (const auto& v : entries_) num_entries += v.size();
  MIXTERA_CHECK(num_entries < UINT32_MAX);
  s.component_entry_begin.reserve(order.size() + 1);
  s.entries.reserve(num_entries + 1);
  std::vector<bool> seen(order.size(), false);
  uint64_t position = 0;
  for (int64_t old : order) {
    MIXTERA_CHECK(old >= 0 && old < num_components_ && !seen[old]);
    seen[old] = true;
    s.component_entry_begin.push_back(static_cast<uint32_t>(s.entries.size()));
    for (const Entry& e : entries_[old]) {
      s.entries.push_back(
          {position, e.data, e.file | (static_cast<uint32_t>(e.kind) << 30), e.aux});
      position += e.count;
    }
    std::vector<Entry>().swap(entries_[old]);
  }
  s.component_entry_begin.push_back(static_cast<uint32_t>(s.entries.size()));
  s.entries.push_back({position, 0, 0, 0});  // sentinel: the end position
  s.range_begin = std::move(range_begin_);
  s.range_end = std::move(range_end_);
  s.range_offset = std::move(range_offset_);
  s.words = std::move(words_);
  s.file_base = std::move(file_base_);
  index->num_components_ = order.size();
  index->num_files_ = s.file_base.size() - 1;
  index->num_entries_ = num_entries;
  index->num_ranges_ = s.range_begin.size();
  index->num_words_ = s.words.size();
  index->num_samples_ = position;
  index->component_entry_begin_ = s.component_entry_begin.data();
  index->entries_ = s.entries.data();
  index->range_begin_ = s.range_begin.data();
  index->range_end_ = s.range_end.data();
  index->range_offset_ = s.range_offset.data();
  index->words_ = s.words.data();
  index->file_base_ = s.file_base.data();
  return index;
}

}  // namespace mixtera::index
