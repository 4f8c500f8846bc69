#include "client/sample_stream.h"

#include <chrono>
#include <future>

#include "base/macros.h"
#include "base/strings.h"
#include "client/chunk_order.h"
#include "client/chunk_reader.h"
#include "model/limits.h"

namespace mixtera::client {
namespace {

// Where a part's split documents sit in its range order (exact token counts): the head is
// the first occurrence of its sample, the tail the last; -1 when the part has none.
struct PartSplits {
  int64_t head = -1;
  int64_t tail = -1;
};

PartSplits FindSplits(const chunk::ChunkKeyPart& part) {
  PartSplits out;
  int64_t i = 0;
  for (const index::SampleRange& r : part.ranges) {
    for (uint32_t s = r.begin; s < r.end; ++s, ++i) {
      if (part.head && out.head < 0 && part.head->file_index == r.file_index &&
          part.head->sample == s) {
        out.head = i;
      }
      if (part.tail && part.tail->file_index == r.file_index && part.tail->sample == s) {
        out.tail = i;
      }
    }
  }
  return out;
}

}  // namespace

bool SplitDocCache::Find(const Key& key, std::vector<int32_t>* ids) {
  for (auto it = docs_.begin(); it != docs_.end(); ++it) {
    if (it->first == key) {
      *ids = it->second;
      docs_.splice(docs_.begin(), docs_, it);
      return true;
    }
  }
  return false;
}

void SplitDocCache::Insert(const Key& key, const std::vector<int32_t>& ids) {
  docs_.emplace_front(key, ids);
  if (docs_.size() > kMaxDocuments) docs_.pop_back();
}

SampleStream::SampleStream(std::unique_ptr<ChunkSource> source, StreamOptions options,
                           std::shared_ptr<const tokenize::Tokenizer> tokenizer)
    : source_(std::move(source)),
      job_(&source_->job()),
      options_(std::move(options)),
      tokenizer_(std::move(tokenizer)) {
  next_ = options_.start;
  handed_ = options_.start;
}

Result<std::unique_ptr<SampleStream>> SampleStream::Open(
    std::unique_ptr<ChunkSource> source, StreamOptions options,
    std::shared_ptr<const tokenize::Tokenizer> tokenizer) {
  const chunk::Job* job = &source->job();
  const chunk::Topology& topo = job->definition().topology;
  auto bad = [](std::string what) { return Status::InvalidArgument(std::move(what)); };
  if (options.dp_group < 0 || options.dp_group >= topo.dp_groups) {
    return bad(StrCat("dp_group_id ", options.dp_group, " is outside the job's ", topo.dp_groups,
                      " dp groups (QueryExecutionArgs.dp_groups)"));
  }
  if (options.node < 0 || options.node >= topo.nodes_per_group) {
    return bad(StrCat("node_id ", options.node, " is outside the job's ", topo.nodes_per_group,
                      " nodes per group (QueryExecutionArgs.nodes_per_group)"));
  }
  if (options.worker < 0 || options.worker >= topo.num_workers) {
    return bad(StrCat("worker_id ", options.worker, " is outside the job's ", topo.num_workers,
                      " workers per node (QueryExecutionArgs.num_workers)"));
  }
  MIXTERA_RETURN_IF_ERROR(
      model::CheckLimit(model::limits::kPrefetchChunks, options.prefetch_chunks));
  if (options.start < 0) return bad("the start position must be >= 0");
  if (options.mode == StreamMode::kTokens) {
    if (tokenizer == nullptr) return bad("token mode needs a tokenizer");
    if (options.sequence_length < 1) {
      return bad(
          StrCat("token mode needs sequence_length >= 1 (got ", options.sequence_length, ")"));
    }
  }
  const chunk::JobDefinition& def = job->definition();
  if (def.exact_tokens && options.mode == StreamMode::kTokens) {
    // The job's exact windows hold only for the tokenizer and packing it was planned with.
    if (tokenizer->fingerprint() != def.tokenizer_fingerprint) {
      return bad(StrCat("job ", def.job_id, " was planned with exact token counts of tokenizer ",
                        def.tokenizer_fingerprint, "; stream it with that tokenizer (got ",
                        tokenizer->fingerprint(), ")"));
    }
    const chunk::TokenPacking& p = def.packing;
    if (p.bos != options.bos.has_value() || p.eos != options.eos.has_value()) {
      return bad(StrCat("job ", def.job_id, " was planned with bos=", p.bos ? "True" : "False",
                        ", eos=", p.eos ? "True" : "False", " per document; stream with the same",
                        " (got bos=", options.bos ? "True" : "False",
                        ", eos=", options.eos ? "True" : "False", ")"));
    }
    if (p.sequence_length > 0 &&
        (p.sequence_length != options.sequence_length || p.overlapping != options.overlapping)) {
      return bad(StrCat("job ", def.job_id, " was planned with sequence_length ", p.sequence_length,
                        p.overlapping ? " (overlapping)" : "", "; stream with the same (got ",
                        options.sequence_length, options.overlapping ? " (overlapping)" : "", ")"));
    }
  }
  std::unique_ptr<SampleStream> stream(
      new SampleStream(std::move(source), std::move(options), std::move(tokenizer)));
  if (stream->options_.prefetch_chunks > 0) {
    stream->producer_ = std::thread([s = stream.get()] { s->Prefetch(); });
  }
  return stream;
}

SampleStream::~SampleStream() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cancel_ = true;
  source_->Wake();
  cv_.notify_all();
  if (producer_.joinable()) producer_.join();
}

bool SampleStream::NextIsReady() {
  if (failed_ || ended_) return true;
  if (!producer_.joinable()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return !ready_.empty();
}

void SampleStream::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);  // a consumer between its check and its wait
    cancel_ = true;
  }
  source_->Wake();
  cv_.notify_all();
}

Result<std::unique_ptr<LoadedChunk>> SampleStream::Load(int64_t t) const {
  MIXTERA_ASSIGN_OR_RETURN(std::optional<ReadChunk> read, Read(t));
  if (!read) return std::unique_ptr<LoadedChunk>();
  return Finish(std::move(*read));
}

Result<std::optional<SampleStream::ReadChunk>> SampleStream::Read(int64_t t) const {
  const chunk::Topology& topo = job_->definition().topology;
  const int64_t k =
      chunk::ConsumerChunk(topo.dp_groups, options_.dp_group, topo.num_workers, options_.worker, t);
  // A chunk a dynamic mixture has not decided yet is waited for (no polling); the stream's
  // destructor cancels the wait.
  MIXTERA_ASSIGN_OR_RETURN(chunk::ChunkReply reply, source_->WaitForChunk(k, &cancel_));
  if (reply.status == chunk::ChunkStatus::kEnd) return std::optional<ReadChunk>();
  const bool records = options_.mode == StreamMode::kDict;
  MIXTERA_ASSIGN_OR_RETURN(
      std::vector<std::vector<std::string>> texts,
      ReadChunkTexts(job_->definition(), reply.chunk, records, reader_cache_.get()));
  return std::optional<ReadChunk>(ReadChunk{t, k, std::move(reply.chunk), std::move(texts)});
}

Result<std::unique_ptr<LoadedChunk>> SampleStream::Finish(ReadChunk read) const {
  const int64_t t = read.position, k = read.chunk_index;
  const chunk::ChunkDescriptor& desc = read.desc;
  std::vector<std::vector<std::string>>& texts = read.texts;
  const bool records = options_.mode == StreamMode::kDict;
  auto loaded = std::make_unique<LoadedChunk>();
  loaded->chunk_index = k;
  loaded->position = t;
  loaded->mixture_id = desc.mixture_id;
  std::vector<int32_t> part_keys;
  for (const chunk::ChunkKeyPart& part : desc.keys) part_keys.push_back(part.key_id);
  loaded->part_key_ids = part_keys;
  const bool exact = job_->definition().exact_tokens;
  std::vector<PartSplits> splits(desc.keys.size());
  if (exact) {
    for (size_t p = 0; p < desc.keys.size(); ++p) splits[p] = FindSplits(desc.keys[p]);
  }
  if (options_.mode != StreamMode::kTokens) {
    // The format of every record (dict mode), in range order per part.
    std::vector<std::vector<uint8_t>> is_tar(texts.size());
    if (records) {
      for (size_t p = 0; p < desc.keys.size(); ++p) {
        for (const index::SampleRange& r : desc.keys[p].ranges) {
          const bool tar = job_->definition().files[r.file_index].format == "webdataset";
          is_tar[p].insert(is_tar[p].end(), r.end - r.begin, tar ? 1 : 0);
        }
      }
    }
    // A document cut by a chunk boundary (exact token counts) is delivered whole with the
    // chunk holding its start.
    for (size_t p = 0; p < texts.size(); ++p) {
      if (splits[p].head >= 0) {
        texts[p].erase(texts[p].begin() + splits[p].head);
        if (records) is_tar[p].erase(is_tar[p].begin() + splits[p].head);
      }
    }
    std::vector<int64_t> counts;
    for (const auto& t_part : texts) counts.push_back(static_cast<int64_t>(t_part.size()));
    std::vector<size_t> next(texts.size(), 0);
    for (int32_t p : SmoothRoundRobin(counts)) {
      loaded->key_ids.push_back(part_keys[p]);
      if (records) loaded->record_is_tar.push_back(is_tar[p][next[p]]);
      loaded->texts.push_back(std::move(texts[p][next[p]++]));
    }
    return loaded;
  }
  // Token mode: tokenize all texts of the chunk in one batch, then pack per key. A document
  // cut by chunk boundaries (exact counts) is tokenized once per stream while it stays in
  // the small cache of split documents, not again in every chunk that holds a part of it.
  std::vector<std::vector<std::vector<int32_t>>> docs(texts.size());
  std::vector<std::string> flat;
  std::vector<std::pair<size_t, size_t>> where;  // (part, document) of each flat text
  auto split_doc = [&](size_t p, size_t d) -> std::optional<SplitDocCache::Key> {
    if (static_cast<int64_t>(d) == splits[p].head) {
      return SplitDocCache::Key{desc.keys[p].head->file_index, desc.keys[p].head->sample};
    }
    if (static_cast<int64_t>(d) == splits[p].tail) {
      return SplitDocCache::Key{desc.keys[p].tail->file_index, desc.keys[p].tail->sample};
    }
    return std::nullopt;
  };
  for (size_t p = 0; p < texts.size(); ++p) {
    docs[p].resize(texts[p].size());
    for (size_t d = 0; d < texts[p].size(); ++d) {
      if (exact) {
        const std::optional<SplitDocCache::Key> key = split_doc(p, d);
        if (key && split_docs_.Find(*key, &docs[p][d])) continue;
      }
      flat.push_back(std::move(texts[p][d]));
      where.emplace_back(p, d);
    }
  }
  Result<std::vector<std::vector<int32_t>>> ids =
      tokenizer_->EncodeBatch(flat, options_.tokenize_threads);
  if (!ids.ok()) return ids.status().WithContext(StrCat("chunk ", k));
  for (size_t i = 0; i < where.size(); ++i) {
    const auto [p, d] = where[i];
    docs[p][d] = std::move((*ids)[i]);
    if (exact) {
      if (const std::optional<SplitDocCache::Key> key = split_doc(p, d)) {
        split_docs_.Insert(*key, docs[p][d]);
      }
    }
  }
  PackOptions pack{.sequence_length = options_.sequence_length,
                   .overlapping = options_.overlapping,
                   .bos = options_.bos,
                   .eos = options_.eos,
                   .document_starts = options_.document_starts};
  if (!exact) {
    loaded->windows = PackWindows(docs, part_keys, pack);
    return loaded;
  }
  // Exact token counts: BOS/EOS are document tokens, and the split documents are cut where
  // the job says; each part must then hold exactly its planned tokens.
  std::vector<std::vector<uint8_t>> continued(docs.size());
  for (size_t p = 0; p < docs.size(); ++p) {
    continued[p].assign(docs[p].size(), 0);
    int64_t total = 0;
    for (size_t d = 0; d < docs[p].size(); ++d) {
      std::vector<int32_t>& doc = docs[p][d];
      if (pack.bos) doc.insert(doc.begin(), *pack.bos);
      if (pack.eos) doc.push_back(*pack.eos);
      int64_t from = 0, to = static_cast<int64_t>(doc.size());
      if (static_cast<int64_t>(d) == splits[p].head) from = desc.keys[p].head->tokens;
      if (static_cast<int64_t>(d) == splits[p].tail) to = desc.keys[p].tail->tokens;
      if (from > to || to > static_cast<int64_t>(doc.size())) {
        return Status::Corruption(
            StrCat("chunk ", k, ": a document has ", doc.size(),
                   " tokens but the job's token counts cut it at [", from, ", ", to,
                   "); the data or the tokenizer changed since `mixtera count-tokens`"));
      }
      doc.erase(doc.begin() + to, doc.end());
      doc.erase(doc.begin(), doc.begin() + from);
      continued[p][d] = from > 0 ? 1 : 0;
      total += to - from;
    }
    if (total != desc.keys[p].num_tokens) {
      return Status::Corruption(
          StrCat("chunk ", k, ", key ", part_keys[p], ": the documents hold ", total,
                 " tokens but the job's token counts say ", desc.keys[p].num_tokens,
                 "; the data or the tokenizer changed since `mixtera count-tokens`"));
    }
  }
  pack.bos.reset();
  pack.eos.reset();
  loaded->windows = PackWindows(docs, part_keys, pack, &continued);
  return loaded;
}

void SampleStream::Prefetch() {
  // In token mode the next chunk is read on another thread while this one is tokenized, so
  // reading overlaps tokenizing. The reads run one after another (the reader cache is used
  // by one thread at a time).
  const bool overlap = options_.mode == StreamMode::kTokens;
  std::future<Result<std::optional<ReadChunk>>> next_read;
  auto start_read = [this](int64_t t) {
    return std::async(std::launch::async, [this, t] { return Read(t); });
  };
  if (overlap) next_read = start_read(next_);
  for (int64_t t = next_;; ++t) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || static_cast<int64_t>(ready_.size()) < options_.prefetch_chunks;
      });
      if (stop_) {
        if (next_read.valid()) next_read.wait();
        return;
      }
    }
    Result<std::unique_ptr<LoadedChunk>> loaded = Status::Internal("unset");
    if (overlap) {
      Result<std::optional<ReadChunk>> read = next_read.get();
      if (!read.ok()) {
        loaded = read.status();
      } else if (!*read) {
        loaded = std::unique_ptr<LoadedChunk>();
      } else {
        next_read = start_read(t + 1);
        loaded = Finish(std::move(**read));
      }
    } else {
      loaded = Load(t);
    }
    const bool last = !loaded.ok() || *loaded == nullptr;
    if (last && next_read.valid()) next_read.wait();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(std::move(loaded));
      if (last) finished_ = true;
    }
    cv_.notify_all();
    if (last) return;
  }
}

Result<std::unique_ptr<LoadedChunk>> SampleStream::Next() {
  if (failed_) return *failed_;
  if (!ended_) {
    const chunk::Topology& topo = job_->definition().topology;
    Status started = source_->StartChunk(chunk::ConsumerChunk(
        topo.dp_groups, options_.dp_group, topo.num_workers, options_.worker, handed_));
    if (!started.ok()) {
      failed_ = started;
      return started;
    }
  }
  Result<std::unique_ptr<LoadedChunk>> out = NextLoaded();
  if (out.ok()) {
    if (*out == nullptr) {
      ended_ = true;
    } else {
      ++handed_;
    }
  }
  return out;
}

Result<std::unique_ptr<LoadedChunk>> SampleStream::NextLoaded() {
  if (!producer_.joinable()) {
    Result<std::unique_ptr<LoadedChunk>> loaded = Load(next_);
    if (!loaded.ok()) {
      failed_ = loaded.status();
      return loaded;
    }
    if (*loaded != nullptr) ++next_;
    return loaded;
  }
  Result<std::unique_ptr<LoadedChunk>> item = Status::Internal("unset");
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !ready_.empty() || cancel_.load(); });
    if (ready_.empty()) return Status::Cancelled("the stream was cancelled");
    item = std::move(ready_.front());
    // The end marker stays queued so later calls see the end again.
    if (item.ok() && *item == nullptr) {
      ready_.front() = std::unique_ptr<LoadedChunk>();
      return std::unique_ptr<LoadedChunk>();
    }
    ready_.pop_front();
  }
  cv_.notify_all();
  if (!item.ok()) failed_ = item.status();
  return item;
}

}  // namespace mixtera::client
