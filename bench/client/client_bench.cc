// client_bench: Mixtera's client stream against the limit of reading the same data
// (bench/client/README.md).
//
//   client_bench --job DIR/jobs/ID [--mode text|tokens] [--repeat R]
//                [--tokenizer FILE] [--sequence-length N] [--threads N]
//                [--duckdb-threads N] [--min-round-seconds S] [--only IMPL]
//
// Streams consumer (dp group 0, node 0, worker 0) of a materialized job. One untimed warm-up
// pass of every contender comes first; it also checks that they produce the same data (the
// exit status is 1 when they differ). Then R rounds (default 3): in each, every contender in
// turn makes P passes over the whole job, P chosen from the warm-up so that a round of the
// slowest lasts S seconds (default 1). --only times one contender without the check (for
// profiling; one untimed pass of it sets P). Prints JSON lines on stdout:
//   {"event": "job", "format", "compression", "chunks", "samples", "files"}
//   {"event": "check", "ok", "detail", "samples", "bytes"[, "tokens"]}
//   {"event": "rep", "rep", "impl", "seconds" (wall, per pass), "cpu_seconds" (user + system
//    of all threads, per pass), "passes", "samples", "bytes", "tokens"}
//                                                         per round and contender
//
// --mode text (the contenders):
//   mixtera       client::SampleStream in text mode (prefetch 2): every chunk's texts, in the
//                 chunk's round-robin order.
//   limit         the same chunks' samples read without Mixtera's reader: per chunk, the
//                 ranges of all keys merged per file, one positioned read per run of
//                 consecutive samples (extents from the job's offsets files, opened once per
//                 pass), the text field taken with simdjson On-Demand (JSONL) or from the tar
//                 member (WebDataset); compressed files decoded with libzstd / zlib / liblzma
//                 from the last seek point at or before the chunk's first run of the file,
//                 forward across its later runs; Parquet through DuckDB's C API, one query per
//                 chunk and file over the row span the chunk wants. Texts are kept per key (no
//                 interleaving).
//   limit_keep    compressed files only: as `limit`, but every key reads a file with its own
//                 decoder, kept across chunks (restarted only when a seek point lets it skip
//                 ahead): the least decoding a consumer that reads chunk after chunk needs.
// --mode tokens:
//   mixtera       client::SampleStream in token mode: read, tokenize (EncodeBatch per chunk on
//                 --threads threads), add EOS per document, pack into windows of
//                 sequence_length + 1 tokens.
//   tokenizer     Tokenizer::EncodeBatch alone, once over all texts of the job (read before,
//                 untimed), on --threads threads.
//   tokenizer_per_chunk  EncodeBatch per chunk's texts (the batches the stream makes).
//   tokenizer_new_thread  as `tokenizer`, but called from a thread started for the pass (as
//                 the stream's producer thread is): its per-thread tokenizer caches start
//                 empty, the pool threads' stay warm.
// "tokens" counts every token the tokenizer produced plus one EOS per document (for mixtera:
// the packed windows plus the tokens of each key's dropped last partial window).
#include <duckdb.h>
#include <fcntl.h>
#include <lzma.h>
#include <simdjson.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "chunk/job.h"
#include "client/sample_stream.h"
#include "formats/input_stream.h"
#include "formats/offsets_file.h"
#include "tokenize/tokenizer.h"

namespace {

using mixtera::Status;
using mixtera::chunk::Job;
using mixtera::chunk::JobFile;

constexpr const char* kUsage =
    "usage: client_bench --job DIR/jobs/ID [--mode text|tokens] [--repeat R]\n"
    "                    [--tokenizer FILE] [--sequence-length N] [--threads N]\n"
    "                    [--duckdb-threads N] [--min-round-seconds S] [--only IMPL]\n";

// Compressed bytes read per pread() by the decoders.
constexpr size_t kInputBlockBytes = size_t{256} << 10;
// Decoded bytes discarded per call while skipping forward.
constexpr size_t kSkipBytes = size_t{256} << 10;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "client_bench: %s\n", msg.c_str());
  std::exit(1);
}

template <typename T>
T OrDie(mixtera::Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}

// CPU seconds (user + system) of the whole process so far.
double CpuNow() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec * 1e-6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Emit(const nlohmann::json& j) {
  std::fputs((j.dump() + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// Reads exactly `n` bytes at `offset` (fewer only at the end of the file).
size_t PRead(int fd, char* buf, size_t n, int64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      Die(path + ": pread: " + std::strerror(errno));
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

// ---- The chunks of the consumer ---------------------------------------------------------

// One sample a chunk wants from one file: its id, the key part and its position there.
struct Want {
  uint32_t sample_id;
  uint32_t part;
  uint32_t position;
};

// A chunk as the limit reads it: per file (job file index), the wanted samples sorted by id;
// per key part, how many samples it has.
struct ChunkPlan {
  std::vector<int32_t> part_keys;
  std::vector<uint32_t> part_sizes;
  std::map<uint32_t, std::vector<Want>> by_file;
};

// The chunks of consumer (0, 0, 0), computed once outside every timing.
std::vector<ChunkPlan> PlanChunks(const Job& job) {
  const mixtera::chunk::Topology& topo = job.definition().topology;
  std::vector<ChunkPlan> plans;
  for (int64_t t = 0;; ++t) {
    const int64_t k =
        mixtera::chunk::ConsumerChunk(topo.dp_groups, 0, topo.num_workers, /*w=*/0, t);
    mixtera::chunk::ChunkReply reply = OrDie(job.GetChunk(k), "GetChunk");
    if (reply.status == mixtera::chunk::ChunkStatus::kEnd) break;
    if (reply.status == mixtera::chunk::ChunkStatus::kNotYet) Die("a chunk is not decided yet");
    ChunkPlan plan;
    for (size_t p = 0; p < reply.chunk.keys.size(); ++p) {
      const mixtera::chunk::ChunkKeyPart& part = reply.chunk.keys[p];
      if (part.head || part.tail) {
        Die("the job cuts documents at chunk boundaries (unit: tokens with exact counts); the "
            "limit and the checks read whole samples: use a unit: samples job");
      }
      plan.part_keys.push_back(part.key_id);
      uint32_t position = 0;
      for (const mixtera::index::SampleRange& r : part.ranges) {
        for (uint32_t s = r.begin; s < r.end; ++s) {
          plan.by_file[r.file_index].push_back({s, static_cast<uint32_t>(p), position++});
        }
      }
      plan.part_sizes.push_back(position);
    }
    for (auto& [file, wants] : plan.by_file) {
      std::sort(wants.begin(), wants.end(),
                [](const Want& a, const Want& b) { return a.sample_id < b.sample_id; });
      for (size_t i = 1; i < wants.size(); ++i) {
        if (wants[i].sample_id == wants[i - 1].sample_id) {
          Die("a chunk wants a sample twice (repeat > 1): not supported by the limit");
        }
      }
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

// ---- Decoders of compressed files (the limit's own, not Mixtera's) -----------------------

// Forward-only decoded stream of a compressed file, starting at a known decoded position.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // Decodes the next `n` bytes into `out`. Dies on corrupt data or a stream that ends early.
  virtual void Read(char* out, size_t n) = 0;
  int64_t position() const { return position_; }

  void SkipTo(int64_t offset) {
    if (scratch_.empty()) scratch_.resize(kSkipBytes);
    while (position_ < offset) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(kSkipBytes, offset - position_));
      Read(scratch_.data(), n);
    }
  }

 protected:
  Decoder(int fd, std::string path, int64_t file_offset, int64_t position)
      : fd_(fd), path_(std::move(path)), file_offset_(file_offset), position_(position) {
    input_.resize(kInputBlockBytes);
  }
  // Reads the next block of compressed bytes; returns how many (0 at the end of the file).
  size_t Refill() {
    const size_t got = PRead(fd_, input_.data(), input_.size(), file_offset_, path_);
    file_offset_ += static_cast<int64_t>(got);
    return got;
  }

  int fd_;
  std::string path_;
  int64_t file_offset_;  // next compressed byte to read
  int64_t position_;     // decoded bytes before the next one Read() returns
  std::vector<char> input_;
  std::vector<char> scratch_;
};

// zstd: a frame start (or the file's start); ZSTD_decompressStream runs across frames.
class ZstdDecoder final : public Decoder {
 public:
  ZstdDecoder(int fd, const std::string& path, int64_t file_offset, int64_t position)
      : Decoder(fd, path, file_offset, position), dctx_(ZSTD_createDCtx()) {}
  ~ZstdDecoder() override { ZSTD_freeDCtx(dctx_); }

  void Read(char* out, size_t n) override {
    ZSTD_outBuffer o{out, n, 0};
    while (o.pos < o.size) {
      if (in_.pos == in_.size) {
        const size_t got = Refill();
        if (got == 0) Die(path_ + ": zstd stream ends early");
        in_ = {input_.data(), got, 0};
      }
      const size_t r = ZSTD_decompressStream(dctx_, &o, &in_);
      if (ZSTD_isError(r)) Die(path_ + ": zstd: " + ZSTD_getErrorName(r));
    }
    position_ += static_cast<int64_t>(n);
  }

 private:
  ZSTD_DCtx* dctx_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
};

// gzip: from the file's start (gzip member headers), or from an inflate checkpoint (raw
// deflate primed with the checkpoint's bits and 32 KiB window).
class GzipDecoder final : public Decoder {
 public:
  GzipDecoder(int fd, const std::string& path, const mixtera::formats::SeekPoint* point)
      : Decoder(fd, path, 0, 0) {
    std::memset(&z_, 0, sizeof(z_));
    if (point == nullptr) {
      if (inflateInit2(&z_, 15 + 16) != Z_OK) Die(path + ": inflateInit2");
      return;
    }
    raw_ = true;
    position_ = point->decompressed_offset;
    file_offset_ = point->compressed_offset;
    if (inflateInit2(&z_, -15) != Z_OK) Die(path + ": inflateInit2");
    if (point->bits > 0) {
      unsigned char byte = 0;
      if (PRead(fd, reinterpret_cast<char*>(&byte), 1, point->compressed_offset - 1, path) != 1) {
        Die(path + ": bad seek point");
      }
      if (inflatePrime(&z_, point->bits, byte >> (8 - point->bits)) != Z_OK) {
        Die(path + ": inflatePrime");
      }
    }
    if (inflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(point->window.data()),
                             static_cast<uInt>(point->window.size())) != Z_OK) {
      Die(path + ": inflateSetDictionary");
    }
  }
  ~GzipDecoder() override { inflateEnd(&z_); }

  void Read(char* out, size_t n) override {
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(n);
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0) {
        const size_t got = Refill();
        if (got == 0) Die(path_ + ": gzip stream ends early");
        z_.next_in = reinterpret_cast<Bytef*>(input_.data());
        z_.avail_in = static_cast<uInt>(got);
      }
      const int ret = inflate(&z_, Z_NO_FLUSH);
      if (ret == Z_STREAM_END) {
        // The end of a member: the next one (if any) starts after the trailer, which a raw
        // inflate leaves unread.
        if (raw_) SkipInput(8);
        raw_ = false;
        if (inflateReset2(&z_, 15 + 16) != Z_OK) Die(path_ + ": inflateReset2");
        continue;
      }
      if (ret != Z_OK && ret != Z_BUF_ERROR) Die(path_ + ": inflate failed");
    }
    position_ += static_cast<int64_t>(n);
  }

 private:
  void SkipInput(size_t n) {
    while (n > 0) {
      if (z_.avail_in == 0) {
        const size_t got = Refill();
        if (got == 0) return;
        z_.next_in = reinterpret_cast<Bytef*>(input_.data());
        z_.avail_in = static_cast<uInt>(got);
      }
      const size_t take = std::min<size_t>(n, z_.avail_in);
      z_.next_in += take;
      z_.avail_in -= static_cast<uInt>(take);
      n -= take;
    }
  }

  z_stream z_;
  bool raw_ = false;
};

// xz: from the file's start only (xz files have no seek points).
class XzDecoder final : public Decoder {
 public:
  XzDecoder(int fd, const std::string& path) : Decoder(fd, path, 0, 0) {
    if (lzma_stream_decoder(&s_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
      Die(path + ": lzma_stream_decoder");
    }
  }
  ~XzDecoder() override { lzma_end(&s_); }

  void Read(char* out, size_t n) override {
    s_.next_out = reinterpret_cast<uint8_t*>(out);
    s_.avail_out = n;
    while (s_.avail_out > 0) {
      if (s_.avail_in == 0 && !eof_) {
        const size_t got = Refill();
        eof_ = got == 0;
        s_.next_in = reinterpret_cast<const uint8_t*>(input_.data());
        s_.avail_in = got;
      }
      const lzma_ret ret = lzma_code(&s_, eof_ ? LZMA_FINISH : LZMA_RUN);
      if (ret == LZMA_STREAM_END && s_.avail_out > 0) Die(path_ + ": xz stream ends early");
      if (ret != LZMA_OK && ret != LZMA_STREAM_END) Die(path_ + ": xz decoding failed");
    }
    position_ += static_cast<int64_t>(n);
  }

 private:
  lzma_stream s_ = LZMA_STREAM_INIT;
  bool eof_ = false;
};

// ---- The limit: one data file --------------------------------------------------------------

// A data file as the limit reads it: descriptor, offsets and seek points opened once.
class LimitFile {
 public:
  explicit LimitFile(const JobFile& jf) : jf_(jf) {
    fd_ = ::open(jf.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) Die(jf.path + ": open: " + std::strerror(errno));
    if (jf.format == "parquet") return;
    offsets_ = OrDie(mixtera::formats::OffsetsReader::Open(jf.offsets_path + ".offsets"),
                     "offsets of " + jf.path);
    if (jf.compression != "none") {
      seek_points_ = OrDie(mixtera::formats::ReadSeekPoints(jf.offsets_path + ".seek"),
                           "seek points of " + jf.path);
    }
  }
  ~LimitFile() { ::close(fd_); }
  LimitFile(const LimitFile&) = delete;
  LimitFile& operator=(const LimitFile&) = delete;

  const JobFile& job_file() const { return jf_; }

  // The extents of samples [begin, end).
  void Extents(uint32_t begin, uint32_t end, std::vector<mixtera::formats::RecordExtent>* out) {
    out->clear();
    const Status st = offsets_->GetRange(begin, end, out);
    if (!st.ok()) Die(jf_.path + ": offsets: " + st.ToString());
  }

  // Replaces `*buf` with the stream bytes [offset, offset + length) plus `padding` zero
  // bytes. Compressed files keep one decoder per `stream` (the caller's choice: one for the
  // whole file, or one per key): it decodes forward when it can reach the range without
  // passing a seek point, else a new one starts at the last seek point at or before it.
  void ReadBytes(int stream, int64_t offset, int64_t length, size_t padding, std::string* buf) {
    buf->resize(static_cast<size_t>(length) + padding);
    std::memset(buf->data() + length, 0, padding);
    if (jf_.compression == "none") {
      if (PRead(fd_, buf->data(), static_cast<size_t>(length), offset, jf_.path) !=
          static_cast<size_t>(length)) {
        Die(jf_.path + ": the file ends inside a record");
      }
      return;
    }
    std::unique_ptr<Decoder>& decoder = decoders_[stream];
    if (decoder == nullptr || offset < decoder->position() || SeekPointBetween(*decoder, offset)) {
      decoder = Open(offset);
    }
    decoder->SkipTo(offset);
    decoder->Read(buf->data(), static_cast<size_t>(length));
  }

  // Forgets the decoders (the next read starts at a seek point).
  void DropDecoders() { decoders_.clear(); }

 private:
  // The last seek point at or before `offset`, or null for the file's start.
  const mixtera::formats::SeekPoint* SeekPointFor(int64_t offset) const {
    auto it = std::upper_bound(seek_points_.begin(), seek_points_.end(), offset,
                               [](int64_t off, const mixtera::formats::SeekPoint& p) {
                                 return off < p.decompressed_offset;
                               });
    return it == seek_points_.begin() ? nullptr : &*std::prev(it);
  }
  bool SeekPointBetween(const Decoder& decoder, int64_t offset) const {
    const mixtera::formats::SeekPoint* p = SeekPointFor(offset);
    return p != nullptr && p->decompressed_offset > decoder.position();
  }
  std::unique_ptr<Decoder> Open(int64_t offset) const {
    const mixtera::formats::SeekPoint* p = SeekPointFor(offset);
    if (jf_.compression == "zstd") {
      return std::make_unique<ZstdDecoder>(fd_, jf_.path, p ? p->compressed_offset : 0,
                                           p ? p->decompressed_offset : 0);
    }
    if (jf_.compression == "gzip") return std::make_unique<GzipDecoder>(fd_, jf_.path, p);
    if (jf_.compression == "xz") return std::make_unique<XzDecoder>(fd_, jf_.path);
    Die(jf_.path + ": the limit does not decode " + jf_.compression);
  }

  JobFile jf_;
  int fd_ = -1;
  std::unique_ptr<mixtera::formats::OffsetsReader> offsets_;
  std::vector<mixtera::formats::SeekPoint> seek_points_;
  std::map<int, std::unique_ptr<Decoder>> decoders_;
};

// ---- The limit: per format -----------------------------------------------------------------

using KeyTexts = std::vector<std::vector<std::string>>;  // [part][position]

// A single top-level key from a JSON pointer "/name" (all the limit supports).
std::string TopLevelKey(const std::string& pointer) {
  if (pointer.size() < 2 || pointer[0] != '/' ||
      pointer.find_first_of("/~", 1) != std::string::npos) {
    Die("the limit supports only top-level text fields, got '" + pointer + "'");
  }
  return pointer.substr(1);
}

// Octal field of a tar header.
uint64_t TarOctal(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n && p[i] != '\0' && p[i] != ' '; ++i) {
    if (p[i] < '0' || p[i] > '7') Die("bad octal field in a tar header");
    v = v * 8 + static_cast<uint64_t>(p[i] - '0');
  }
  return v;
}

// Reads the samples of one file that a chunk wants into `texts`, the limit's way.
class LimitReader {
 public:
  explicit LimitReader(const Job& job, int duckdb_threads) : job_(job) {
    const auto& files = job.definition().files;
    files_.resize(files.size());
    if (!files.empty() && files[0].format == "parquet") OpenDuckDb(duckdb_threads);
  }
  ~LimitReader() {
    if (stmt_ != nullptr) duckdb_destroy_prepare(&stmt_);
    if (conn_ != nullptr) duckdb_disconnect(&conn_);
    if (db_ != nullptr) duckdb_close(&db_);
  }

  // Reads a whole chunk. With keep_decoders false, every file's samples are read in one
  // ascending sweep whose decoder starts over at every chunk; with it true (compressed files),
  // each key sweeps the file with its own decoder, kept across chunks, so a key's decoding
  // never restarts unless a seek point lets it skip ahead.
  void ReadChunk(const ChunkPlan& plan, bool keep_decoders, KeyTexts* texts) {
    texts->assign(plan.part_sizes.size(), {});
    for (size_t p = 0; p < plan.part_sizes.size(); ++p) (*texts)[p].resize(plan.part_sizes[p]);
    for (const auto& [file_index, wants] : plan.by_file) {
      LimitFile& f = File(file_index);
      const std::string& format = f.job_file().format;
      const bool tar = format == "webdataset";
      if (format == "parquet") {
        ReadParquet(f, wants, texts);
      } else if (!keep_decoders) {
        f.DropDecoders();
        ReadRecords(f, /*stream=*/0, wants, tar, texts);
      } else {
        for (size_t p = 0; p < plan.part_keys.size(); ++p) {
          part_wants_.clear();
          for (const Want& w : wants) {
            if (w.part == p) part_wants_.push_back(w);
          }
          if (!part_wants_.empty()) ReadRecords(f, plan.part_keys[p], part_wants_, tar, texts);
        }
      }
    }
  }

 private:
  LimitFile& File(uint32_t index) {
    if (files_[index] == nullptr) {
      files_[index] = std::make_unique<LimitFile>(job_.definition().files[index]);
      const JobFile& jf = files_[index]->job_file();
      if (jf.text_fields.size() != 1) Die(jf.path + ": the limit supports one text field");
      if (jf.format == "jsonl") key_ = TopLevelKey(jf.text_fields[0]);
      if (jf.format == "webdataset") key_ = "." + jf.text_fields[0];
    }
    return *files_[index];
  }

  // JSONL and WebDataset: one read per run of consecutive samples.
  void ReadRecords(LimitFile& f, int stream, const std::vector<Want>& wants, bool tar,
                   KeyTexts* texts) {
    for (size_t i = 0; i < wants.size();) {
      size_t j = i + 1;
      while (j < wants.size() && wants[j].sample_id == wants[j - 1].sample_id + 1) ++j;
      f.Extents(wants[i].sample_id, wants[j - 1].sample_id + 1, &extents_);
      const int64_t begin = extents_.front().offset;
      const int64_t end = extents_.back().offset + extents_.back().length;
      f.ReadBytes(stream, begin, end - begin, simdjson::SIMDJSON_PADDING, &buf_);
      for (size_t k = i; k < j; ++k) {
        const mixtera::formats::RecordExtent& e = extents_[k - i];
        const size_t at = static_cast<size_t>(e.offset - begin);
        std::string& out = (*texts)[wants[k].part][wants[k].position];
        if (tar) {
          TarText(f, buf_.data() + at, static_cast<size_t>(e.length), &out);
        } else {
          JsonText(f, at, static_cast<size_t>(e.length), &out);
        }
      }
      i = j;
    }
  }

  // The text field of the JSON line at buf_[at, at + length).
  void JsonText(LimitFile& f, size_t at, size_t length, std::string* out) {
    simdjson::padded_string_view view(buf_.data() + at, length, buf_.size() - at);
    simdjson::ondemand::document doc;
    if (parser_.iterate(view).get(doc) != simdjson::SUCCESS) Die(f.job_file().path + ": bad JSON");
    std::string_view text;
    if (doc.find_field_unordered(key_).get_string().get(text) != simdjson::SUCCESS) {
      Die(f.job_file().path + ": no string field '" + key_ + "'");
    }
    out->assign(text);
  }

  // The data of the member named *<key_> of the tar sample at p[0, length).
  void TarText(LimitFile& f, const char* p, size_t length, std::string* out) {
    size_t at = 0;
    while (at + 512 <= length) {
      const char* h = p + at;
      const uint64_t size = TarOctal(h + 124, 12);
      const std::string_view name(h, strnlen(h, 100));
      if (name.size() >= key_.size() && name.substr(name.size() - key_.size()) == key_) {
        out->assign(h + 512, size);
        return;
      }
      at += 512 + (size + 511) / 512 * 512;
    }
    Die(f.job_file().path + ": no member *" + key_ + " in a tar sample");
  }

  void OpenDuckDb(int threads) {
    duckdb_config config;
    if (duckdb_create_config(&config) == DuckDBError) Die("duckdb_create_config");
    duckdb_set_config(config, "threads", std::to_string(threads).c_str());
    duckdb_set_config(config, "autoinstall_known_extensions", "false");
    duckdb_set_config(config, "autoload_known_extensions", "false");
    char* error = nullptr;
    if (duckdb_open_ext(":memory:", &db_, config, &error) == DuckDBError) {
      Die(std::string("duckdb_open_ext: ") + (error ? error : "?"));
    }
    duckdb_destroy_config(&config);
    if (duckdb_connect(db_, &conn_) == DuckDBError) Die("duckdb_connect");
  }

  // Parquet: one query per chunk and file over the rows [first wanted, last wanted]; the
  // wanted rows are kept. (A per-row filter pushed into the query, so that DuckDB would
  // skip the other rows' text, made it slower here: DuckDB decodes the row groups' text
  // column whole either way.)
  void ReadParquet(LimitFile& f, const std::vector<Want>& wants, KeyTexts* texts) {
    const JobFile& jf = f.job_file();
    if (stmt_ == nullptr) {
      const std::string sql = "SELECT file_row_number, \"" + jf.text_fields[0] +
                              "\" FROM read_parquet($1, file_row_number = true) "
                              "WHERE file_row_number BETWEEN $2 AND $3";
      if (duckdb_prepare(conn_, sql.c_str(), &stmt_) == DuckDBError) {
        Die(std::string("prepare: ") + duckdb_prepare_error(stmt_));
      }
    }
    const int64_t lo = wants.front().sample_id;
    const int64_t hi = wants.back().sample_id;
    slot_.assign(static_cast<size_t>(hi - lo + 1), -1);
    for (size_t i = 0; i < wants.size(); ++i) {
      slot_[wants[i].sample_id - lo] = static_cast<int64_t>(i);
    }
    duckdb_bind_varchar(stmt_, 1, jf.path.c_str());
    duckdb_bind_int64(stmt_, 2, lo);
    duckdb_bind_int64(stmt_, 3, hi);
    duckdb_result result;
    if (duckdb_execute_prepared_streaming(stmt_, &result) == DuckDBError) {
      Die(jf.path + ": " + duckdb_result_error(&result));
    }
    size_t found = 0;
    while (true) {
      duckdb_data_chunk chunk = duckdb_fetch_chunk(result);
      if (chunk == nullptr) break;
      const idx_t n = duckdb_data_chunk_get_size(chunk);
      const auto* rows = static_cast<const int64_t*>(
          duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0)));
      auto* strs = static_cast<duckdb_string_t*>(
          duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 1)));
      for (idx_t r = 0; r < n; ++r) {
        const int64_t s = slot_[static_cast<size_t>(rows[r] - lo)];
        if (s < 0) continue;
        const Want& w = wants[static_cast<size_t>(s)];
        (*texts)[w.part][w.position].assign(duckdb_string_t_data(&strs[r]),
                                            duckdb_string_t_length(strs[r]));
        ++found;
      }
      duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&result);
    if (found != wants.size()) Die(jf.path + ": DuckDB returned fewer rows than wanted");
  }

  const Job& job_;
  std::vector<std::unique_ptr<LimitFile>> files_;
  std::string key_;
  simdjson::ondemand::parser parser_;
  std::string buf_;
  std::vector<mixtera::formats::RecordExtent> extents_;
  std::vector<Want> part_wants_;
  duckdb_database db_ = nullptr;
  duckdb_connection conn_ = nullptr;
  duckdb_prepared_statement stmt_ = nullptr;
  std::vector<int64_t> slot_;  // per row of [lo, hi]: its index in the wanted list, or -1
};

// ---- Passes ---------------------------------------------------------------------------------

struct Totals {
  int64_t samples = 0;
  int64_t bytes = 0;
  int64_t tokens = 0;
};

struct Config {
  std::string job_dir;
  std::string mode = "text";
  int repeat = 3;
  std::string tokenizer_path;
  int64_t sequence_length = 1024;
  int threads = 0;
  int duckdb_threads = 1;
  // Each round runs every contender this long at least (whole passes; see TimeRounds).
  double min_round_seconds = 1.0;
  // Time only this contender (no warm-up, no check): for profiling.
  std::string only;
};

mixtera::client::StreamOptions StreamOptionsFor(const Config& cfg,
                                                const mixtera::tokenize::Tokenizer* tok) {
  mixtera::client::StreamOptions o;
  o.prefetch_chunks = 2;
  o.tokenize_threads = cfg.threads;
  if (cfg.mode == "tokens") {
    o.mode = mixtera::client::StreamMode::kTokens;
    o.sequence_length = cfg.sequence_length;
    o.eos = tok->eos_id();
    if (!o.eos) Die("the tokenizer has no EOS token");
  }
  return o;
}

// Streams the job through SampleStream. `seen`, when set, receives every chunk.
Totals MixteraPass(const Config& cfg, const std::shared_ptr<const Job>& job,
                   const std::shared_ptr<const mixtera::tokenize::Tokenizer>& tok,
                   std::vector<std::unique_ptr<mixtera::client::LoadedChunk>>* seen) {
  auto stream =
      OrDie(mixtera::client::SampleStream::Open(job, StreamOptionsFor(cfg, tok.get()), tok),
            "SampleStream::Open");
  Totals t;
  while (true) {
    std::unique_ptr<mixtera::client::LoadedChunk> c = OrDie(stream->Next(), "Next");
    if (c == nullptr) break;
    t.samples += static_cast<int64_t>(c->texts.size());
    for (const std::string& s : c->texts) t.bytes += static_cast<int64_t>(s.size());
    t.tokens += static_cast<int64_t>(c->windows.tokens.size());
    for (int64_t w : c->windows.wasted_tokens) t.tokens += w;
    if (seen != nullptr) seen->push_back(std::move(c));
  }
  return t;
}

// Reads every chunk the limit's way. `all`, when set, receives every chunk's texts.
Totals LimitPass(const Job& job, const std::vector<ChunkPlan>& plans, bool keep_decoders,
                 int duckdb_threads, std::vector<KeyTexts>* all) {
  LimitReader reader(job, duckdb_threads);
  Totals t;
  KeyTexts texts;
  for (const ChunkPlan& plan : plans) {
    reader.ReadChunk(plan, keep_decoders, &texts);
    for (const auto& part : texts) {
      t.samples += static_cast<int64_t>(part.size());
      for (const std::string& s : part) t.bytes += static_cast<int64_t>(s.size());
    }
    if (all != nullptr) all->push_back(std::move(texts));
  }
  return t;
}

// Mixtera's chunk c regrouped by key part, in the stream's order within each key.
KeyTexts ByPart(const ChunkPlan& plan, const mixtera::client::LoadedChunk& c) {
  KeyTexts out(plan.part_keys.size());
  for (size_t i = 0; i < c.texts.size(); ++i) {
    auto it = std::find(plan.part_keys.begin(), plan.part_keys.end(), c.key_ids[i]);
    if (it == plan.part_keys.end()) Die("a text with a key the chunk does not have");
    out[static_cast<size_t>(it - plan.part_keys.begin())].push_back(c.texts[i]);
  }
  return out;
}

// Text mode check: Mixtera's texts, per chunk and key, equal the limit's.
std::string CheckTexts(const std::vector<ChunkPlan>& plans,
                       const std::vector<std::unique_ptr<mixtera::client::LoadedChunk>>& mixtera,
                       const std::vector<KeyTexts>& limit) {
  if (mixtera.size() != limit.size()) {
    return "chunks: mixtera " + std::to_string(mixtera.size()) + ", limit " +
           std::to_string(limit.size());
  }
  for (size_t c = 0; c < limit.size(); ++c) {
    if (ByPart(plans[c], *mixtera[c]) != limit[c]) {
      return "chunk " + std::to_string(c) + ": the texts differ";
    }
  }
  return "";
}

// Token mode check: Mixtera's windows of each key equal the baseline ids of that key's
// documents (in chunk order), each followed by EOS and cut into windows of sequence_length+1.
std::string CheckWindows(const Config& cfg, int32_t eos, const std::vector<ChunkPlan>& plans,
                         const std::vector<std::unique_ptr<mixtera::client::LoadedChunk>>& chunks,
                         const std::vector<std::vector<int32_t>>& ids) {
  if (chunks.size() != plans.size()) return "chunk counts differ";
  const size_t L = static_cast<size_t>(cfg.sequence_length + 1);
  size_t doc = 0;
  for (size_t c = 0; c < plans.size(); ++c) {
    const mixtera::client::PackedWindows& w = chunks[c]->windows;
    for (size_t p = 0; p < plans[c].part_keys.size(); ++p) {
      std::vector<int32_t> stream;
      for (uint32_t d = 0; d < plans[c].part_sizes[p]; ++d, ++doc) {
        stream.insert(stream.end(), ids[doc].begin(), ids[doc].end());
        stream.push_back(eos);
      }
      size_t next = 0;  // next expected window of this key
      for (int64_t i = 0; i < w.num_windows(); ++i) {
        if (w.key_ids[static_cast<size_t>(i)] != plans[c].part_keys[p]) continue;
        if ((next + 1) * L > stream.size() ||
            !std::equal(w.tokens.begin() + static_cast<int64_t>(i * L),
                        w.tokens.begin() + static_cast<int64_t>((i + 1) * L),
                        stream.begin() + static_cast<int64_t>(next * L))) {
          return "chunk " + std::to_string(c) + ", key part " + std::to_string(p) + ", window " +
                 std::to_string(next) + " differs";
        }
        ++next;
      }
      if (next != stream.size() / L) {
        return "chunk " + std::to_string(c) + ", key part " + std::to_string(p) + ": " +
               std::to_string(next) + " windows, expected " + std::to_string(stream.size() / L);
      }
      if (p < w.wasted_tokens.size() &&
          w.wasted_tokens[p] != static_cast<int64_t>(stream.size() % L)) {
        return "chunk " + std::to_string(c) + ": wasted tokens differ";
      }
    }
  }
  return "";
}

// A contender: one timed pass over the whole job.
struct Contender {
  std::string name;
  std::function<Totals()> pass;
};

// Times the contenders in `cfg.repeat` rounds; in each round every contender runs `passes`
// times in a row, in turn, and its seconds per pass are emitted. `passes` is the smallest
// count that makes the slowest contender's round last cfg.min_round_seconds, judged from
// `warm_seconds` (one pass each), so that all contenders do the same work.
void TimeRounds(const Config& cfg, const std::vector<Contender>& contenders, double warm_seconds) {
  if (!cfg.only.empty()) {
    // No warm-up ran: one untimed pass of the chosen contender sets the pass count.
    for (const Contender& c : contenders) {
      if (c.name != cfg.only) continue;
      const double t0 = Now();
      c.pass();
      warm_seconds = Now() - t0;
    }
  }
  const int passes = std::max(
      1, static_cast<int>(std::ceil(cfg.min_round_seconds / std::max(warm_seconds, 1e-6))));
  for (int rep = 0; rep < cfg.repeat; ++rep) {
    for (const Contender& c : contenders) {
      if (!cfg.only.empty() && c.name != cfg.only) continue;
      Totals t;
      const double t0 = Now();
      const double c0 = CpuNow();
      for (int i = 0; i < passes; ++i) t = c.pass();
      const double seconds = (Now() - t0) / passes;
      const double cpu_seconds = (CpuNow() - c0) / passes;
      Emit({{"event", "rep"},
            {"rep", rep},
            {"impl", c.name},
            {"seconds", seconds},
            {"cpu_seconds", cpu_seconds},
            {"passes", passes},
            {"samples", t.samples},
            {"bytes", t.bytes},
            {"tokens", t.tokens}});
    }
  }
}

int RunText(const Config& cfg, const std::shared_ptr<const Job>& job,
            const std::vector<ChunkPlan>& plans) {
  const bool compressed = job->definition().files[0].compression != "none";
  std::vector<Contender> contenders = {
      {"mixtera", [&] { return MixteraPass(cfg, job, nullptr, nullptr); }},
      {"limit", [&] { return LimitPass(*job, plans, false, cfg.duckdb_threads, nullptr); }}};
  if (compressed) {
    contenders.push_back(
        {"limit_keep", [&] { return LimitPass(*job, plans, true, cfg.duckdb_threads, nullptr); }});
  }
  std::string problem;
  double warm = 0;
  if (cfg.only.empty()) {
    // Warm-up and check: every contender once, untimed for the results.
    std::vector<std::unique_ptr<mixtera::client::LoadedChunk>> seen;
    double t0 = Now();
    MixteraPass(cfg, job, nullptr, &seen);
    warm = Now() - t0;
    std::vector<KeyTexts> limit;
    t0 = Now();
    const Totals lt = LimitPass(*job, plans, false, cfg.duckdb_threads, &limit);
    warm = std::max(warm, Now() - t0);
    problem = CheckTexts(plans, seen, limit);
    if (problem.empty() && compressed) {
      std::vector<KeyTexts> kept;
      t0 = Now();
      LimitPass(*job, plans, true, cfg.duckdb_threads, &kept);
      warm = std::max(warm, Now() - t0);
      if (kept != limit) problem = "limit_keep: the texts differ from limit";
    }
    Emit({{"event", "check"},
          {"ok", problem.empty()},
          {"detail", problem},
          {"samples", lt.samples},
          {"bytes", lt.bytes}});
  }
  TimeRounds(cfg, contenders, warm);
  return problem.empty() ? 0 : 1;
}

int RunTokens(const Config& cfg, const std::shared_ptr<const Job>& job,
              const std::vector<ChunkPlan>& plans) {
  if (cfg.tokenizer_path.empty()) Die("--mode tokens needs --tokenizer");
  std::shared_ptr<const mixtera::tokenize::Tokenizer> tok =
      OrDie(mixtera::tokenize::LoadTokenizer(cfg.tokenizer_path), "LoadTokenizer");
  const int32_t eos = *StreamOptionsFor(cfg, tok.get()).eos;
  // The texts, read once (untimed), in the order the stream tokenizes them: chunk by chunk,
  // key part by key part.
  std::vector<KeyTexts> limit;
  LimitPass(*job, plans, true, cfg.duckdb_threads, &limit);
  std::vector<std::string> all;
  std::vector<std::vector<std::string>> per_chunk;
  int64_t bytes = 0;
  for (KeyTexts& chunk : limit) {
    per_chunk.emplace_back();
    for (auto& part : chunk) {
      for (auto& s : part) {
        bytes += static_cast<int64_t>(s.size());
        all.push_back(s);
        per_chunk.back().push_back(std::move(s));
      }
    }
  }
  limit.clear();
  auto encode_all = [&](std::vector<std::vector<int32_t>>* keep) {
    auto ids = OrDie(tok->EncodeBatch(all, cfg.threads), "EncodeBatch");
    Totals t;
    t.samples = static_cast<int64_t>(ids.size());
    t.bytes = bytes;
    for (const auto& d : ids) t.tokens += static_cast<int64_t>(d.size()) + 1;  // + EOS
    if (keep != nullptr) *keep = std::move(ids);
    return t;
  };
  auto encode_per_chunk = [&] {
    Totals t;
    t.bytes = bytes;
    for (const auto& texts : per_chunk) {
      auto ids = OrDie(tok->EncodeBatch(texts, cfg.threads), "EncodeBatch");
      t.samples += static_cast<int64_t>(ids.size());
      for (const auto& d : ids) t.tokens += static_cast<int64_t>(d.size()) + 1;
    }
    return t;
  };
  auto mixtera_pass = [&] {
    Totals t = MixteraPass(cfg, job, tok, nullptr);
    t.bytes = bytes;
    t.samples = static_cast<int64_t>(all.size());
    return t;
  };
  // As `tokenizer`, called from a thread started for the pass, as SampleStream's producer
  // thread is per stream: its per-thread tokenizer caches start empty.
  auto encode_new_thread = [&] {
    Totals t;
    std::thread worker([&] { t = encode_all(nullptr); });
    worker.join();
    return t;
  };
  const std::vector<Contender> contenders = {{"mixtera", mixtera_pass},
                                             {"tokenizer", [&] { return encode_all(nullptr); }},
                                             {"tokenizer_per_chunk", encode_per_chunk},
                                             {"tokenizer_new_thread", encode_new_thread}};
  std::string problem;
  double warm = 0;
  if (cfg.only.empty()) {
    // Warm-up (also of the tokenizer's caches) and check.
    std::vector<std::unique_ptr<mixtera::client::LoadedChunk>> seen;
    double t0 = Now();
    const Totals mt = MixteraPass(cfg, job, tok, &seen);
    warm = Now() - t0;
    std::vector<std::vector<int32_t>> ids;
    t0 = Now();
    const Totals bt = encode_all(&ids);
    warm = std::max(warm, Now() - t0);
    encode_per_chunk();
    if (mt.tokens != bt.tokens) {
      problem = "tokens: mixtera " + std::to_string(mt.tokens) + ", tokenizer " +
                std::to_string(bt.tokens);
    } else {
      problem = CheckWindows(cfg, eos, plans, seen, ids);
    }
    Emit({{"event", "check"},
          {"ok", problem.empty()},
          {"detail", problem},
          {"samples", bt.samples},
          {"bytes", bytes},
          {"tokens", bt.tokens}});
  }
  TimeRounds(cfg, contenders, warm);
  return problem.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + arg + "\n" + kUsage);
      return argv[++i];
    };
    if (arg == "--job") {
      cfg.job_dir = value();
    } else if (arg == "--mode") {
      cfg.mode = value();
    } else if (arg == "--repeat") {
      cfg.repeat = std::atoi(value().c_str());
    } else if (arg == "--tokenizer") {
      cfg.tokenizer_path = value();
    } else if (arg == "--sequence-length") {
      cfg.sequence_length = std::atoll(value().c_str());
    } else if (arg == "--threads") {
      cfg.threads = std::atoi(value().c_str());
    } else if (arg == "--duckdb-threads") {
      cfg.duckdb_threads = std::atoi(value().c_str());
    } else if (arg == "--min-round-seconds") {
      cfg.min_round_seconds = std::atof(value().c_str());
    } else if (arg == "--only") {
      cfg.only = value();
    } else {
      Die("unknown argument " + arg + "\n" + kUsage);
    }
  }
  if (cfg.job_dir.empty() || (cfg.mode != "text" && cfg.mode != "tokens") || cfg.repeat < 0 ||
      cfg.sequence_length < 1 || cfg.duckdb_threads < 1) {
    Die(kUsage);
  }
  std::shared_ptr<const Job> job = OrDie(Job::Open(cfg.job_dir), "Job::Open");
  const auto& files = job->definition().files;
  if (files.empty()) Die("the job has no files");
  for (const JobFile& f : files) {
    if (f.format != files[0].format || f.compression != files[0].compression) {
      Die("the job mixes formats or compressions; use one per job");
    }
  }
  const std::vector<ChunkPlan> plans = PlanChunks(*job);
  int64_t samples = 0;
  for (const ChunkPlan& p : plans) {
    for (uint32_t n : p.part_sizes) samples += n;
  }
  Emit({{"event", "job"},
        {"format", files[0].format},
        {"compression", files[0].compression},
        {"chunks", plans.size()},
        {"samples", samples},
        {"files", files.size()}});
  return cfg.mode == "text" ? RunText(cfg, job, plans) : RunTokens(cfg, job, plans);
}
