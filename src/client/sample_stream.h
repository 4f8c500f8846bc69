// SampleStream: one consumer's view of a job (DESIGN.md §3.5-3.6). It walks the consumer's
// chunks (ConsumerChunk), reads each chunk's samples (chunk_reader.h) and hands them out in
// the chunk's round-robin order — as texts, or tokenized on C++ threads and packed into
// training windows (token_packer.h). Up to `prefetch_chunks` chunks are read and tokenized
// ahead on a background thread.
//
//   MIXTERA_ASSIGN_OR_RETURN(auto stream, SampleStream::Open(job, options, tokenizer));
//   while (true) {
//     MIXTERA_ASSIGN_OR_RETURN(std::unique_ptr<LoadedChunk> c, stream->Next());
//     if (c == nullptr) break;  // end of the job for this consumer
//     ...
//   }
//
// Streaming never opens the metadata store: the job folder and the data files suffice.
// Thread safety: Next() must be called from one thread at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "chunk/job.h"
#include "client/chunk_source.h"
#include "client/token_packer.h"
#include "formats/sample_reader.h"
#include "mixtera/result.h"
#include "tokenize/tokenizer.h"

namespace mixtera::client {

// kText: each sample's text; kDict: each sample whole (formats::ReadSampleRecords);
// kTokens: packed windows.
enum class StreamMode { kText, kDict, kTokens };

struct StreamOptions {
  // The consumer: dp group, node within it (all nodes of a group read the same chunks) and
  // DataLoader worker (0 when there are no workers).
  int64_t dp_group = 0;
  int64_t node = 0;
  int64_t worker = 0;
  StreamMode mode = StreamMode::kText;
  // kTokens: window shape and the BOS/EOS ids to add per document (resolved by the caller:
  // explicit ids, else the tokenizer's, DESIGN.md §3.6).
  int64_t sequence_length = 0;
  bool overlapping = false;
  std::optional<int32_t> bos;
  std::optional<int32_t> eos;
  bool document_starts = false;
  // Chunks read ahead (0 = read each chunk when Next() asks for it).
  int64_t prefetch_chunks = 2;
  // Threads for tokenizing a chunk (0 = all cores).
  int tokenize_threads = 0;
  // Start at the consumer's t-th chunk (resuming from a checkpoint).
  int64_t start = 0;
};

// One chunk, ready to hand out.
struct LoadedChunk {
  int64_t chunk_index = 0;  // global chunk index k
  int64_t position = 0;     // the consumer's t for this chunk
  int32_t mixture_id = 0;
  // The key id of each key part of the chunk's descriptor (the order of
  // windows.wasted_tokens).
  std::vector<int32_t> part_key_ids;
  // kText / kDict: the samples (texts or records) in round-robin order, with their key ids;
  // kDict: whether each record is a WebDataset record (else a JSON object).
  std::vector<int32_t> key_ids;
  std::vector<std::string> texts;
  std::vector<uint8_t> record_is_tar;
  // kTokens: the windows (their key ids are windows.key_ids).
  PackedWindows windows;
};

// The token ids of the last few documents that chunk boundaries cut (exact token counts),
// by (file index, sample id). Not thread-safe.
class SplitDocCache {
 public:
  using Key = std::pair<uint32_t, uint32_t>;
  static constexpr size_t kMaxDocuments = 16;
  // Copies the cached ids of `key` into *ids; false when absent.
  bool Find(const Key& key, std::vector<int32_t>* ids);
  void Insert(const Key& key, const std::vector<int32_t>& ids);

 private:
  std::list<std::pair<Key, std::vector<int32_t>>> docs_;  // most recent first
};

class SampleStream {
 public:
  // Validates the options against the job's topology. `tokenizer` is required in kTokens
  // mode. Errors: InvalidArgument naming the bad option (a dp group outside the topology, a
  // worker >= num_workers, sequence_length < 1 in token mode, no tokenizer).
  static Result<std::unique_ptr<SampleStream>> Open(
      std::unique_ptr<ChunkSource> source, StreamOptions options,
      std::shared_ptr<const tokenize::Tokenizer> tokenizer);
  // A job in memory that nobody changes while it streams (JobChunkSource).
  static Result<std::unique_ptr<SampleStream>> Open(
      std::shared_ptr<const chunk::Job> job, StreamOptions options,
      std::shared_ptr<const tokenize::Tokenizer> tokenizer) {
    return Open(JobChunkSource(std::move(job)), std::move(options), std::move(tokenizer));
  }
  ~SampleStream();
  SampleStream(const SampleStream&) = delete;
  SampleStream& operator=(const SampleStream&) = delete;

  // The consumer's next chunk, or nullptr after its last one. Tells the source the consumer
  // starts it first (a live job decides it then; read-ahead waits at undecided chunks).
  // Blocks while the chunk is being read. After an error the stream stays failed with it.
  Result<std::unique_ptr<LoadedChunk>> Next();

  // True when the read-ahead already holds the consumer's next chunk (or the stream ended or
  // failed), so that Next() only waits for the live job's decision, never for reading. Call
  // from the consumer's thread.
  bool NextIsReady();

  // Makes a Next() blocked in another thread (waiting for an undecided chunk, or for the
  // read-ahead) return Cancelled, and every later call too. Thread-safe; e.g. on Ctrl-C.
  void Cancel();

 private:
  SampleStream(std::unique_ptr<ChunkSource> source, StreamOptions options,
               std::shared_ptr<const tokenize::Tokenizer> tokenizer);

  // A chunk's descriptor and samples, read but not yet ordered or tokenized.
  struct ReadChunk {
    int64_t position = 0;
    int64_t chunk_index = 0;
    chunk::ChunkDescriptor desc;
    std::vector<std::vector<std::string>> texts;  // per key part, in range order
  };
  // Loads the consumer's chunk number t (Read, then Finish): nullptr when the job has ended.
  Result<std::unique_ptr<LoadedChunk>> Load(int64_t t) const;
  // Reads chunk t's samples; nullopt when the job has ended. Uses the reader cache: one
  // call at a time.
  Result<std::optional<ReadChunk>> Read(int64_t t) const;
  // Orders (and in token mode tokenizes and packs) a read chunk.
  Result<std::unique_ptr<LoadedChunk>> Finish(ReadChunk read) const;
  void Prefetch();
  // Next without the start report.
  Result<std::unique_ptr<LoadedChunk>> NextLoaded();

  std::unique_ptr<ChunkSource> source_;
  const chunk::Job* job_;  // source_->job()
  StreamOptions options_;
  std::shared_ptr<const tokenize::Tokenizer> tokenizer_;
  // Used by Load only, which runs on one thread (the producer, or Next's caller without
  // prefetch): files' readers stay open from chunk to chunk.
  std::unique_ptr<formats::ReaderCache> reader_cache_ = std::make_unique<formats::ReaderCache>();
  // Used by Finish only (one thread, like Load).
  mutable SplitDocCache split_docs_;
  int64_t next_ = 0;    // the next t to hand out (no prefetch) or to load (prefetch)
  int64_t handed_ = 0;  // the next t to hand out
  bool ended_ = false;  // Next returned the end

  // Prefetch state, guarded by mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<std::unique_ptr<LoadedChunk>>> ready_;
  bool finished_ = false;  // the producer pushed the end or an error
  bool stop_ = false;
  // Set by the destructor: cancels a wait for an undecided chunk (Job::WaitForChunk).
  std::atomic<bool> cancel_{false};
  std::thread producer_;
  std::optional<Status> failed_;
};

}  // namespace mixtera::client
