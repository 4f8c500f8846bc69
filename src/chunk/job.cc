#include "chunk/job.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "base/macros.h"
#include "base/strings.h"
#include "chunk/job_state.h"
#include "mixture/mixture_parser.h"

namespace mixtera::chunk {
namespace {

// Sorts and merges *part (one part's ranges), appends them to *storage and returns where they
// start there.
size_t AppendPartRanges(std::vector<index::SampleRange>* part,
                        std::vector<index::SampleRange>* storage) {
  SortAndMergeRanges(part);
  const size_t start = storage->size();
  storage->insert(storage->end(), part->begin(), part->end());
  return start;
}

using nlohmann::json;
constexpr int kFormatVersion = 2;

// job.json ends with `,\n "checksum": "crc32:<8 hex digits>"\n}`: the CRC-32 (zlib) of the
// document without that member, i.e. of the text before it followed by `\n}`.
constexpr std::string_view kChecksumMember = ",\n \"checksum\": \"crc32:";

uint32_t TextCrc32(std::string_view text) {
  return static_cast<uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
}

std::string WithChecksum(const std::string& document) {
  MIXTERA_CHECK(document.size() >= 2 && document.compare(document.size() - 2, 2, "\n}") == 0);
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", TextCrc32(document));
  return StrCat(document.substr(0, document.size() - 2), kChecksumMember, hex, "\"\n}");
}

// The document without its checksum member, when the checksum matches. Errors: Corruption
// naming `path`.
Result<std::string> VerifiedDocument(const std::string& text, const std::string& path) {
  const size_t at = text.rfind(kChecksumMember);
  const size_t hex_at = at + kChecksumMember.size();
  if (at == std::string::npos || text.size() != hex_at + 8 + 3 ||
      text.compare(hex_at + 8, 3, "\"\n}") != 0) {
    return Status::Corruption(StrCat(path,
                                     ": no checksum at its end (a job file is written by "
                                     "Mixtera, not edited; execute the query again)"));
  }
  const std::string document = StrCat(text.substr(0, at), "\n}");
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", TextCrc32(document));
  if (text.compare(hex_at, 8, hex) != 0) {
    return Status::Corruption(StrCat(path, ": the checksum does not match its contents"));
  }
  return document;
}

json LiteralJson(const model::Literal& l) { return json::parse(model::LiteralToJson(l)); }

Result<model::Literal> LiteralFromJson(const json& j) {
  if (j.is_string()) return model::Literal::String(j.get<std::string>());
  if (j.is_boolean()) return model::Literal::Bool(j.get<bool>());
  if (j.is_number_integer()) return model::Literal::Int(j.get<int64_t>());
  if (j.is_number_float()) return model::Literal::Float(j.get<double>());
  return Status::Corruption(StrCat("not a literal: ", j.dump()));
}

json KeyJson(const model::MixtureKey& key) {
  json j = json::object();
  for (const auto& [prop, values] : key.properties) {
    json list = json::array();
    for (const auto& v : values) list.push_back(LiteralJson(v));
    j[prop] = std::move(list);
  }
  return j;
}

Result<model::MixtureKey> KeyFromJson(const json& j) {
  model::MixtureKey key;
  for (const auto& [prop, values] : j.items()) {
    std::vector<model::Literal> list;
    for (const auto& v : values) {
      MIXTERA_ASSIGN_OR_RETURN(auto l, LiteralFromJson(v));
      list.push_back(std::move(l));
    }
    key.properties.emplace_back(prop, std::move(list));
  }
  std::sort(key.properties.begin(), key.properties.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return key;
}

}  // namespace

int64_t ChunkDescriptor::num_samples() const {
  int64_t n = 0;
  for (const auto& k : keys) n += k.num_samples;
  return n;
}

int64_t ConsumerChunk(int64_t G, int64_t g, int64_t W, int64_t w, int64_t t) {
  return g + G * (w + W * t);
}

Status ValidateJobId(const std::string& job_id) {
  bool ok = !job_id.empty() && job_id.size() <= 128 && job_id[0] != '.';
  for (char ch : job_id) {
    ok =
        ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-');
  }
  if (!ok) {
    return Status::InvalidArgument(StrCat("job id ", JsonQuote(job_id),
                                          " must be 1-128 characters of A-Z a-z 0-9 . _ - "
                                          "and must not start with '.'"));
  }
  return Status::OK();
}

Job::Job(JobDefinition def, std::unique_ptr<index::ChunkerIndex> index)
    : def_(std::move(def)), index_(std::move(index)) {}

Result<std::unique_ptr<Job>> Job::Create(JobDefinition def,
                                         std::unique_ptr<index::ChunkerIndex> index) {
  std::unique_ptr<Job> job(new Job(std::move(def), std::move(index)));
  MIXTERA_RETURN_IF_ERROR(job->Init());
  return job;
}

Status Job::Init() {
  const auto& table = def_.components;
  if (table.num_components() != index_->num_components()) {
    return Status::InvalidArgument(StrCat("job ", def_.job_id, ": ", table.num_components(),
                                          " components but the index has ",
                                          index_->num_components()));
  }
  for (int64_t c = 0; c < table.num_components(); ++c) {
    if (table.sizes[c] != index_->component_size(c)) {
      return Status::InvalidArgument(
          StrCat("job ", def_.job_id, ": component ", c, " size differs from the index"));
    }
  }
  if (def_.mixture_log.empty() || def_.mixture_log[0].start_chunk != 0) {
    return Status::InvalidArgument(
        StrCat("job ", def_.job_id, ": the mixture log must start at chunk 0"));
  }
  const auto& spec = def_.mixture;
  streams_.clear();
  supply_.assign(def_.keys.size(), 0);
  for (size_t k = 0; k < def_.keys.size(); ++k) {
    const JobKey& key = def_.keys[k];
    for (int64_t c : key.components) {
      if (c < 0 || c >= table.num_components()) {
        return Status::InvalidArgument(
            StrCat("job ", def_.job_id, ": key ", k, " names component ", c));
      }
      supply_[k] += table.sizes[c] * key.repeat;
    }
  }
  for (const auto& e : def_.mixture_log) {
    if (!arbitrary() && e.weights.size() != def_.keys.size()) {
      return Status::InvalidArgument(StrCat("job ", def_.job_id, ": a mixture log entry has ",
                                            e.weights.size(), " weights for ", def_.keys.size(),
                                            " keys"));
    }
  }
  if (arbitrary()) {
    // One plan key: every component, concatenated in component order.
    std::vector<int64_t> comps, sizes;
    for (int64_t c = 0; c < table.num_components(); ++c) {
      if (table.sizes[c] == 0) continue;
      comps.push_back(c);
      sizes.push_back(table.sizes[c]);
    }
    int64_t total = 0;
    for (int64_t s : sizes) total += s;
    if (total > 0) {
      streams_.emplace_back(std::move(comps), std::move(sizes), 1, /*concatenated=*/true,
                            spec.shuffle_block, spec.seed);
    }
    std::vector<MixtureEvent> log = {{0, {1.0}}};
    plan_ = Plan::Build({total}, log, spec.chunk_size, /*strict=*/false);
    return Status::OK();
  }
  streams_.reserve(def_.keys.size());
  for (const JobKey& key : def_.keys) {
    std::vector<int64_t> sizes;
    std::vector<int64_t> comps;
    for (int64_t c : key.components) {
      if (table.sizes[c] == 0) continue;
      comps.push_back(c);
      sizes.push_back(table.sizes[c]);
    }
    streams_.emplace_back(std::move(comps), std::move(sizes), key.repeat, /*concatenated=*/false,
                          spec.shuffle_block, spec.seed);
  }
  if (spec.unit == model::ChunkUnit::kTokens) MIXTERA_RETURN_IF_ERROR(InitTokens());
  if (def_.packing.sequence_length < 0) {
    return Status::InvalidArgument(
        StrCat("job ", def_.job_id, ": sequence_length ", def_.packing.sequence_length, " < 0"));
  }
  plan_ = Plan::Build(supply_, def_.mixture_log, spec.chunk_size, spec.strict, Units());
  return Status::OK();
}

PlanUnits Job::Units() const {
  PlanUnits units;
  if (def_.mixture.unit != model::ChunkUnit::kTokens) return units;
  if (def_.packing.sequence_length > 0) {
    const int64_t s = def_.packing.sequence_length;
    units.window_stride = def_.packing.overlapping ? s : s + 1;
    units.window_extra = def_.packing.overlapping ? 1 : 0;
  }
  return units;
}

Status Job::InitTokens() {
  token_counters_.clear();
  if (def_.exact_tokens) {
    std::vector<std::unique_ptr<formats::TokenCountsReader>> readers;
    for (const JobFile& f : def_.files) {
      if (f.token_counts_path.empty()) {
        return Status::InvalidArgument(
            StrCat("job ", def_.job_id, ": exact tokens, but ", f.path, " has no token counts"));
      }
      MIXTERA_ASSIGN_OR_RETURN(auto reader, formats::TokenCountsReader::Open(f.token_counts_path));
      if (reader->num_records() != f.num_records) {
        return Status::Corruption(StrCat(f.token_counts_path, ": token counts of ",
                                         reader->num_records(), " records for ", f.path,
                                         ", which has ", f.num_records));
      }
      readers.push_back(std::move(reader));
    }
    std::shared_ptr<const RangeTokenCounter> counter =
        std::make_shared<ExactTokenCounter>(std::move(readers), def_.packing.extra_per_document());
    token_counters_.assign(def_.keys.size(), counter);
  } else {
    if (def_.key_tokens_per_byte.size() != def_.keys.size() ||
        def_.key_tokens_per_sample.size() != def_.keys.size()) {
      return Status::InvalidArgument(
          StrCat("job ", def_.job_id, ": unit: tokens needs every key's measured tokens per byte ",
                 "and per sample (", def_.keys.size(), " keys)"));
    }
    std::vector<std::shared_ptr<const formats::OffsetsReader>> offsets;
    for (const JobFile& f : def_.files) {
      if (f.format == "parquet") {  // no byte offsets: mean tokens per sample
        offsets.push_back(nullptr);
        continue;
      }
      MIXTERA_ASSIGN_OR_RETURN(auto reader,
                               formats::OffsetsReader::Open(f.offsets_path + ".offsets"));
      offsets.push_back(std::move(reader));
    }
    for (size_t k = 0; k < def_.keys.size(); ++k) {
      token_counters_.push_back(std::make_shared<EstimatedTokenCounter>(
          offsets, def_.key_tokens_per_byte[k], def_.key_tokens_per_sample[k]));
    }
  }
  token_index_.clear();
  for (size_t k = 0; k < streams_.size(); ++k) {
    MIXTERA_ASSIGN_OR_RETURN(KeyTokenIndex key_index,
                             KeyTokenIndex::Build(streams_[k], *index_, *token_counters_[k]));
    token_index_.push_back(std::move(key_index));
    supply_[k] = token_index_[k].total_tokens();
  }
  return Status::OK();
}

Status Job::ExtractTokens(int32_t key, int64_t t0, int64_t t1, ChunkKeyPart* part,
                          std::vector<index::SampleRange>* storage) const {
  const KeyStream& stream = streams_[key];
  const KeyTokenIndex& ti = token_index_[key];
  const RangeTokenCounter& counter = *token_counters_[key];
  std::vector<index::SampleRange> one;
  auto sample_at = [&](int64_t p, int64_t tokens) {
    one.clear();
    stream.Extract(*index_, p, p + 1, &one);
    return SplitDocument{one[0].file_index, one[0].begin, tokens};
  };
  // The samples holding tokens before t (every sample for t = the total).
  auto samples_before = [&](int64_t t) -> Result<int64_t> {
    if (t == 0) return int64_t{0};
    if (t >= ti.total_tokens()) return stream.total_size();
    MIXTERA_ASSIGN_OR_RETURN(const int64_t p, ti.PositionOfToken(stream, *index_, counter, t - 1));
    return p + 1;
  };
  // Estimated: a sample goes with the chunk holding its first token.
  MIXTERA_ASSIGN_OR_RETURN(int64_t begin, samples_before(t0));
  MIXTERA_ASSIGN_OR_RETURN(const int64_t end, samples_before(t1));
  if (def_.exact_tokens) {
    // Exact: a sample holding tokens on both sides of t0 is cut (head), and so is one
    // holding tokens on both sides of t1 (tail). Samples of 0 tokens at a boundary go
    // with the later chunk.
    if (begin > 0) {
      MIXTERA_ASSIGN_OR_RETURN(const int64_t before_begin,
                               ti.TokensBefore(stream, *index_, counter, begin));
      if (before_begin > t0) {
        --begin;
        MIXTERA_ASSIGN_OR_RETURN(const int64_t before_head,
                                 ti.TokensBefore(stream, *index_, counter, begin));
        part->head = sample_at(begin, t0 - before_head);
      }
    }
    if (end > 0 && t1 < ti.total_tokens()) {
      MIXTERA_ASSIGN_OR_RETURN(const int64_t before_end,
                               ti.TokensBefore(stream, *index_, counter, end));
      if (before_end > t1) {
        MIXTERA_ASSIGN_OR_RETURN(const int64_t before_tail,
                                 ti.TokensBefore(stream, *index_, counter, end - 1));
        part->tail = sample_at(end - 1, t1 - before_tail);
      }
    }
    part->num_tokens = t1 - t0;
  }
  part->num_samples = end - begin;
  stream.Extract(*index_, begin, end, storage);
  return Status::OK();
}

std::vector<int64_t> Job::InitialCounts() const {
  std::vector<int64_t> counts(arbitrary() ? 1 : def_.keys.size(), 0);
  if (plan_.segments().empty()) {
    // No chunk at all (a strict key short of one chunk's count): what the first mixture asks.
    if (arbitrary() || def_.mixture_log.empty()) return counts;
    std::vector<double> weights = def_.mixture_log[0].weights;
    for (double& w : weights) w = std::max(w, 0.0);
    bool any = false;
    for (double w : weights) any = any || w > 0;
    if (!any) return counts;
    return ChunkCounts(def_.mixture.chunk_size, weights, Units());
  }
  const auto& seg = plan_.segments()[0];
  for (uint32_t e = seg.entry_begin; e < seg.entry_end; ++e) {
    counts[plan_.entries()[e].key] = plan_.entries()[e].count;
  }
  return counts;
}

Result<ChunkReply> Job::GetChunk(int64_t k) const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return GetChunkLocked(k);
}

Result<ChunkReply> Job::WaitForChunk(int64_t k, std::chrono::steady_clock::time_point deadline,
                                     const std::atomic<bool>* cancel) const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  while (true) {
    MIXTERA_ASSIGN_OR_RETURN(ChunkReply reply, GetChunkLocked(k));
    if (reply.status != ChunkStatus::kNotYet) return reply;
    if (cancel != nullptr && cancel->load()) {
      return Status::Cancelled(StrCat("waiting for chunk ", k, " of job ", def_.job_id));
    }
    if (deadline == std::chrono::steady_clock::time_point::max()) {
      state_changed_.wait(lock);
    } else if (state_changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return Status::Unavailable(
          StrCat("chunk ", k, " of job ", def_.job_id, " was not decided before the deadline"));
    }
  }
}

void Job::WakeWaiters() const {
  { std::unique_lock<std::shared_mutex> lock(state_mu_); }  // no waiter misses the flag
  state_changed_.notify_all();
}

void Job::SetHorizon(int64_t horizon) {
  {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    def_.horizon = horizon;
  }
  state_changed_.notify_all();
}

int64_t Job::horizon() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return def_.horizon;
}

int64_t Job::num_mixtures() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return static_cast<int64_t>(def_.mixture_log.size());
}

std::vector<MixtureEvent> Job::MixtureLogCopy() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return def_.mixture_log;
}

int64_t Job::num_planned_chunks() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return plan_.num_chunks();
}

void Job::RecordFeedback(int64_t group, int64_t step) {
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  ++feedback_records_;
  auto [it, inserted] = last_feedback_step_.emplace(group, step);
  if (!inserted) it->second = std::max(it->second, step);
}

int64_t Job::last_feedback_step(int64_t group) const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  auto it = last_feedback_step_.find(group);
  return it == last_feedback_step_.end() ? -1 : it->second;
}

int64_t Job::feedback_records() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return feedback_records_;
}

Result<ChunkReply> Job::GetChunkLocked(int64_t k) const {
  if (k < 0) return Status::InvalidArgument(StrCat("chunk index ", k, " is negative"));
  ChunkReply reply;
  if (def_.horizon >= 0 && k >= def_.horizon && k < plan_.num_chunks()) {
    reply.status = ChunkStatus::kNotYet;
    return reply;
  }
  if (k >= plan_.num_chunks()) {
    reply.status =
        (def_.horizon >= 0 && k >= def_.horizon) ? ChunkStatus::kNotYet : ChunkStatus::kEnd;
    return reply;
  }
  const PlanSegment& seg = plan_.SegmentOf(k);
  ChunkDescriptor& chunk = reply.chunk;
  reply.status = ChunkStatus::kChunk;
  chunk.index = k;
  chunk.keys.reserve(seg.entry_end - seg.entry_begin);
  std::vector<size_t> starts;  // per part: its first range in chunk.range_storage
  // A part's ranges are extracted apart from the others': extraction merges a range into an
  // adjacent one before it, which must not be the previous part's last range.
  std::vector<index::SampleRange> part_ranges;
  starts.reserve(seg.entry_end - seg.entry_begin + 1);
  chunk.mixture_id = seg.mixture_id;
  chunk.partial = seg.partial;
  const int64_t t = k - seg.first_chunk;
  for (uint32_t e = seg.entry_begin; e < seg.entry_end; ++e) {
    const PlanEntry& entry = plan_.entries()[e];
    const int64_t begin = entry.start + t * entry.count;
    const int64_t end = begin + entry.count;
    const KeyStream& stream = streams_[entry.key];
    if (arbitrary()) {
      // Split the concatenated stream's positions into one part per component.
      const auto& comps = stream.components();
      int64_t offset = 0;
      for (size_t i = 0; i < comps.size() && offset < end; ++i) {
        const int64_t size = def_.components.sizes[comps[i]];
        const int64_t lo = std::max(begin, offset), hi = std::min(end, offset + size);
        if (lo < hi) {
          ChunkKeyPart part;
          part.key_id = static_cast<int32_t>(comps[i]);
          part.num_samples = hi - lo;
          KeyStream single({comps[i]}, {size}, 1, false, def_.mixture.shuffle_block,
                           def_.mixture.seed);
          part_ranges.clear();
          single.Extract(*index_, lo - offset, hi - offset, &part_ranges);
          starts.push_back(AppendPartRanges(&part_ranges, &chunk.range_storage));
          chunk.keys.push_back(part);
        }
        offset += size;
      }
      continue;
    }
    ChunkKeyPart part;
    part.key_id = entry.key;
    part.num_samples = entry.count;
    part_ranges.clear();
    if (!token_index_.empty()) {
      MIXTERA_RETURN_IF_ERROR(ExtractTokens(entry.key, begin, end, &part, &part_ranges));
    } else {
      stream.Extract(*index_, begin, end, &part_ranges);
    }
    starts.push_back(AppendPartRanges(&part_ranges, &chunk.range_storage));
    chunk.keys.push_back(part);
  }
  // The spans are set once the storage stops growing.
  starts.push_back(chunk.range_storage.size());
  for (size_t i = 0; i < chunk.keys.size(); ++i) {
    chunk.keys[i].ranges = std::span<const index::SampleRange>(
        chunk.range_storage.data() + starts[i], starts[i + 1] - starts[i]);
  }
  return reply;
}

Status Job::CheckMixtureUpdate(int64_t at_chunk, const std::vector<double>& weights) const {
  if (arbitrary())
    return Status::FailedPrecondition("an arbitrary mixture has no weights to change");
  if (weights.size() != def_.keys.size()) {
    return Status::InvalidArgument(
        StrCat("expected ", def_.keys.size(), " weights, got ", weights.size()));
  }
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  if (at_chunk <= def_.mixture_log.back().start_chunk) {
    return Status::InvalidArgument(StrCat("a mixture change must come after chunk ",
                                          def_.mixture_log.back().start_chunk, ", got ", at_chunk));
  }
  double sum = 0;
  for (double w : weights) {
    if (!(w >= 0) || !std::isfinite(w)) {
      return Status::InvalidArgument("weights must be finite and >= 0");
    }
    sum += w;
  }
  if (sum <= 0) return Status::InvalidArgument("at least one weight must be > 0");
  return Status::OK();
}

Status Job::UpdateMixture(int64_t at_chunk, std::vector<double> weights) {
  MIXTERA_RETURN_IF_ERROR(CheckMixtureUpdate(at_chunk, weights));
  {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    def_.mixture_log.push_back({at_chunk, std::move(weights)});
    // Replans from the previous change on only (Plan::Extend), not from chunk 0.
    plan_.Extend(def_.mixture_log.back());
  }
  state_changed_.notify_all();
  return Status::OK();
}

std::string Job::KeyJsonText(int32_t key_id) const {
  return KeyJson(def_.keys[key_id].key).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Job::ChunkJson(const ChunkDescriptor& chunk) const {
  json j;
  j["index"] = chunk.index;
  j["mixture_id"] = chunk.mixture_id;
  j["partial"] = chunk.partial;
  json keys = json::array();
  for (const auto& part : chunk.keys) {
    json jk;
    jk["key"] = KeyJson(def_.keys[part.key_id].key);
    jk["key_id"] = part.key_id;
    jk["num_samples"] = part.num_samples;
    if (def_.exact_tokens) {
      jk["num_tokens"] = part.num_tokens;
      auto split = [&](const std::optional<SplitDocument>& d, const char* what) {
        if (!d) return json(nullptr);
        return json{
            {"file", def_.files[d->file_index].path}, {"sample", d->sample}, {what, d->tokens}};
      };
      jk["head"] = split(part.head, "skip_tokens");
      jk["tail"] = split(part.tail, "keep_tokens");
    }
    json ranges = json::array();
    for (const auto& r : part.ranges) {
      ranges.push_back(
          {{"file", def_.files[r.file_index].path}, {"begin", r.begin}, {"end", r.end}});
    }
    jk["ranges"] = std::move(ranges);
    keys.push_back(std::move(jk));
  }
  j["keys"] = std::move(keys);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Job::DefinitionJson() const {
  json j;
  j["format_version"] = kFormatVersion;
  j["job_id"] = def_.job_id;
  j["topology"] = {{"dp_groups", def_.topology.dp_groups},
                   {"nodes_per_group", def_.topology.nodes_per_group},
                   {"num_workers", def_.topology.num_workers}};
  j["query"] = def_.query;
  j["mixture"] = json::parse(mixture::MixtureSpecToJson(def_.mixture));
  j["store_version"] = def_.store_version;
  json files = json::array();
  for (const auto& f : def_.files) {
    files.push_back({{"path", f.path},
                     {"dataset", f.dataset},
                     {"file_id", f.file_id},
                     {"size_bytes", f.size_bytes},
                     {"mtime_ns", f.mtime_ns},
                     {"format", f.format},
                     {"compression", f.compression},
                     {"text_fields", f.text_fields},
                     {"offsets_path", f.offsets_path},
                     {"num_records", f.num_records},
                     {"token_counts_path", f.token_counts_path}});
  }
  j["files"] = std::move(files);
  const auto& t = def_.components;
  json comps;
  comps["properties"] = t.properties;
  json types = json::array();
  for (auto type : t.types) types.push_back(std::string(model::PropertyTypeName(type)));
  comps["types"] = std::move(types);
  comps["sizes"] = t.sizes;
  json values = json::array();
  for (const auto& row : t.values) {
    json jr = json::array();
    for (const auto& v : row) {
      if (v.is_null) {
        jr.push_back(nullptr);
      } else {
        json items = json::array();
        for (const auto& item : v.items) items.push_back(LiteralJson(item));
        jr.push_back(std::move(items));
      }
    }
    values.push_back(std::move(jr));
  }
  comps["values"] = std::move(values);
  j["components"] = std::move(comps);
  json keys = json::array();
  for (const auto& k : def_.keys) {
    keys.push_back({{"key", KeyJson(k.key)}, {"components", k.components}, {"repeat", k.repeat}});
  }
  j["keys"] = std::move(keys);
  json log = json::array();
  for (const auto& e : def_.mixture_log)
    log.push_back({{"start_chunk", e.start_chunk}, {"weights", e.weights}});
  j["mixture_log"] = std::move(log);
  j["horizon"] = def_.horizon;
  j["tokenizer_fingerprint"] = def_.tokenizer_fingerprint;
  j["exact_tokens"] = def_.exact_tokens;
  j["key_tokens_per_byte"] = def_.key_tokens_per_byte;
  j["key_tokens_per_sample"] = def_.key_tokens_per_sample;
  j["packing"] = {{"sequence_length", def_.packing.sequence_length},
                  {"overlapping", def_.packing.overlapping},
                  {"bos", def_.packing.bos},
                  {"eos", def_.packing.eos}};
  j["warnings"] = def_.warnings;
  return j.dump(1, ' ', false, json::error_handler_t::replace);
}

Status Job::Save(const std::string& job_dir) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(job_dir, ec))
    return Status::AlreadyExists(StrCat("job folder ", job_dir, " already exists"));
  const fs::path target(job_dir);
  fs::create_directories(target.parent_path(), ec);
  const std::string tmp =
      StrCat(target.parent_path().string(), "/.tmp-", target.filename().string(), "-", ::getpid());
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec)) {
    return Status::IOError(StrCat("cannot create ", tmp, ": ", ec.message()));
  }
  auto fail = [&](Status s) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return s;
  };
  if (Status s = index_->Save(tmp + "/index.bin"); !s.ok()) return fail(s);
  {
    std::ofstream out(tmp + "/job.json", std::ios::binary);
    out << WithChecksum(DefinitionJson());
    out.close();
    if (!out) return fail(Status::IOError(StrCat("cannot write ", tmp, "/job.json")));
  }
  if (std::rename(tmp.c_str(), job_dir.c_str()) != 0) {
    const int err = errno;
    if (err == EEXIST || err == ENOTEMPTY) {
      return fail(Status::AlreadyExists(StrCat("job folder ", job_dir, " already exists")));
    }
    return fail(Status::IOError(StrCat("cannot create ", job_dir, ": ", std::strerror(err))));
  }
  return Status::OK();
}

Result<std::unique_ptr<Job>> Job::Open(const std::string& job_dir) {
  const std::string path = job_dir + "/job.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(StrCat("no job at ", job_dir, " (", path, " is missing)"));
  std::stringstream buf;
  buf << in.rdbuf();
  MIXTERA_ASSIGN_OR_RETURN(const std::string document, VerifiedDocument(buf.str(), path));
  JobDefinition def;
  try {
    const json j = json::parse(document);
    if (j.at("format_version").get<int>() != kFormatVersion) {
      return Status::Corruption(
          StrCat(path, ": unknown format_version ", j.at("format_version").dump()));
    }
    def.job_id = j.at("job_id").get<std::string>();
    const json& topo = j.at("topology");
    def.topology.dp_groups = topo.at("dp_groups").get<int64_t>();
    def.topology.nodes_per_group = topo.at("nodes_per_group").get<int64_t>();
    def.topology.num_workers = topo.at("num_workers").get<int64_t>();
    def.query = j.at("query").get<std::string>();
    MIXTERA_ASSIGN_OR_RETURN(def.mixture, mixture::ParseMixtureSpec(j.at("mixture").dump(), path));
    def.store_version = j.at("store_version").get<int64_t>();
    for (const auto& f : j.at("files")) {
      JobFile file;
      file.path = f.at("path").get<std::string>();
      file.dataset = f.at("dataset").get<std::string>();
      file.file_id = f.at("file_id").get<int64_t>();
      file.size_bytes = f.at("size_bytes").get<int64_t>();
      file.mtime_ns = f.at("mtime_ns").get<int64_t>();
      file.format = f.at("format").get<std::string>();
      file.compression = f.at("compression").get<std::string>();
      file.text_fields = f.at("text_fields").get<std::vector<std::string>>();
      file.offsets_path = f.at("offsets_path").get<std::string>();
      file.num_records = f.at("num_records").get<int64_t>();
      file.token_counts_path = f.value("token_counts_path", std::string());
      def.files.push_back(std::move(file));
    }
    const json& comps = j.at("components");
    def.components.properties = comps.at("properties").get<std::vector<std::string>>();
    for (const auto& t : comps.at("types")) {
      MIXTERA_ASSIGN_OR_RETURN(auto type, model::ParsePropertyType(t.get<std::string>()));
      def.components.types.push_back(type);
    }
    def.components.sizes = comps.at("sizes").get<std::vector<int64_t>>();
    for (const auto& row : comps.at("values")) {
      std::vector<model::GroupValue> values;
      for (const auto& v : row) {
        model::GroupValue gv;
        gv.is_null = v.is_null();
        if (!gv.is_null) {
          for (const auto& item : v) {
            MIXTERA_ASSIGN_OR_RETURN(auto l, LiteralFromJson(item));
            gv.items.push_back(std::move(l));
          }
        }
        values.push_back(std::move(gv));
      }
      if (values.size() != def.components.properties.size()) {
        return Status::Corruption(StrCat(path, ": a component has the wrong number of values"));
      }
      def.components.values.push_back(std::move(values));
    }
    if (def.components.values.size() != def.components.sizes.size()) {
      return Status::Corruption(StrCat(path, ": component values and sizes differ in number"));
    }
    for (const auto& k : j.at("keys")) {
      JobKey key;
      MIXTERA_ASSIGN_OR_RETURN(key.key, KeyFromJson(k.at("key")));
      key.components = k.at("components").get<std::vector<int64_t>>();
      key.repeat = k.at("repeat").get<int64_t>();
      if (key.repeat < 1) return Status::Corruption(StrCat(path, ": repeat < 1"));
      def.keys.push_back(std::move(key));
    }
    for (const auto& e : j.at("mixture_log")) {
      def.mixture_log.push_back(
          {e.at("start_chunk").get<int64_t>(), e.at("weights").get<std::vector<double>>()});
    }
    def.horizon = j.at("horizon").get<int64_t>();
    def.tokenizer_fingerprint = j.at("tokenizer_fingerprint").get<std::string>();
    def.key_tokens_per_sample = j.at("key_tokens_per_sample").get<std::vector<double>>();
    def.exact_tokens = j.value("exact_tokens", false);
    def.key_tokens_per_byte = j.value("key_tokens_per_byte", std::vector<double>());
    if (j.contains("packing")) {
      const json& p = j.at("packing");
      def.packing.sequence_length = p.at("sequence_length").get<int64_t>();
      def.packing.overlapping = p.at("overlapping").get<bool>();
      def.packing.bos = p.at("bos").get<bool>();
      def.packing.eos = p.at("eos").get<bool>();
    }
    def.warnings = j.at("warnings").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    return Status::Corruption(StrCat(path, ": ", e.what()));
  }
  MIXTERA_ASSIGN_OR_RETURN(auto index, index::ChunkerIndex::Load(job_dir + "/index.bin"));
  auto job = Job::Create(std::move(def), std::move(index));
  if (!job.ok()) return Status::Corruption(StrCat(path, ": ", job.status().message()));
  MIXTERA_RETURN_IF_ERROR(ReplayJobState(job_dir, job->get()));
  return job;
}

std::string ConsumerState::ToJson() const {
  json j = {{"dp_groups", dp_groups},
            {"dp_group", dp_group},
            {"num_workers", num_workers},
            {"worker", worker},
            {"next", next}};
  return j.dump();
}

Result<ConsumerState> ConsumerState::FromJson(std::string_view text) {
  ConsumerState s;
  try {
    const json j = json::parse(text);
    s.dp_groups = j.at("dp_groups").get<int64_t>();
    s.dp_group = j.at("dp_group").get<int64_t>();
    s.num_workers = j.at("num_workers").get<int64_t>();
    s.worker = j.at("worker").get<int64_t>();
    s.next = j.at("next").get<int64_t>();
  } catch (const json::exception& e) {
    return Status::InvalidArgument(StrCat("consumer state: ", e.what()));
  }
  if (s.dp_groups < 1 || s.dp_group < 0 || s.dp_group >= s.dp_groups || s.num_workers < 1 ||
      s.worker < 0 || s.worker >= s.num_workers || s.next < 0) {
    return Status::InvalidArgument(StrCat("consumer state out of range: ", s.ToJson()));
  }
  return s;
}

std::string Job::StateJson() const {
  json log = json::array();
  for (const auto& e : def_.mixture_log)
    log.push_back({{"start_chunk", e.start_chunk}, {"weights", e.weights}});
  return json({{"job_id", def_.job_id}, {"mixture_log", std::move(log)}, {"horizon", def_.horizon}})
      .dump();
}

Status Job::RestoreState(std::string_view text) {
  std::vector<MixtureEvent> log;
  int64_t horizon = -1;
  try {
    const json j = json::parse(text);
    if (j.at("job_id").get<std::string>() != def_.job_id) {
      return Status::InvalidArgument(
          StrCat("state of job ", j.at("job_id").dump(), ", not ", def_.job_id));
    }
    for (const auto& e : j.at("mixture_log")) {
      log.push_back(
          {e.at("start_chunk").get<int64_t>(), e.at("weights").get<std::vector<double>>()});
    }
    horizon = j.at("horizon").get<int64_t>();
  } catch (const json::exception& e) {
    return Status::InvalidArgument(StrCat("job state: ", e.what()));
  }
  if (log.empty() || log[0].start_chunk != 0) {
    return Status::InvalidArgument("job state: the mixture log must start at chunk 0");
  }
  for (size_t i = 0; i < log.size(); ++i) {
    if ((i > 0 && log[i].start_chunk <= log[i - 1].start_chunk) ||
        (!arbitrary() && log[i].weights.size() != def_.keys.size())) {
      return Status::InvalidArgument(
          StrCat("job state: mixture log entry ", i, " does not fit the job"));
    }
  }
  {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    def_.mixture_log = std::move(log);
    def_.horizon = horizon;
    if (!arbitrary()) {
      plan_ = Plan::Build(supply_, def_.mixture_log, def_.mixture.chunk_size, def_.mixture.strict,
                          Units());
    }
  }
  state_changed_.notify_all();
  return Status::OK();
}

}  // namespace mixtera::chunk
