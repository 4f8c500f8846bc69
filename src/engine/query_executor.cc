#include "engine/query_executor.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <set>

#include "base/macros.h"
#include "base/strings.h"
#include "engine/token_counter.h"
#include "formats/offsets_file.h"
#include "formats/sample_reader.h"
#include "mixture/key_resolution.h"
#include "mixture/mixture_parser.h"
#include "model/limits.h"
#include "query/filter_compiler.h"
#include "query/index_builder.h"
#include "query/where_parser.h"
#include "tokenize/tokenizer.h"

namespace mixtera::engine {
namespace {

constexpr int64_t kManyComponents = 10000;

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The keys of a mixture in first-declared order: its weights, or for a schedule the union
// over its entries (a key keeps the position of its first appearance and its first repeat).
std::vector<model::MixtureWeight> DeclaredKeys(const model::MixtureSpec& spec) {
  if (spec.type != model::MixtureType::kSchedule) return spec.weights;
  std::vector<model::MixtureWeight> keys;
  for (const auto& entry : spec.schedule) {
    for (const auto& w : entry.weights) {
      if (std::none_of(keys.begin(), keys.end(), [&](const auto& k) { return k.key == w.key; })) {
        keys.push_back(w);
      }
    }
  }
  return keys;
}

// Per key, tokens per record byte and per sample, measured on up to n samples spread evenly
// over the key's components (in component order, then file order), n = 65536 / keys clamped
// to [16, 256]: deterministic for a given index. Record bytes come from the offsets files
// (Parquet has none: its samples count only towards tokens per sample). A key without
// samples gets 1 token per byte and per sample.
Status MeasureTokenRatios(chunk::JobDefinition* def, const index::ChunkerIndex& index,
                          const tokenize::Tokenizer& tokenizer) {
  const int64_t per_key =
      std::clamp<int64_t>(65536 / std::max<int64_t>(1, def->keys.size()), 16, 256);
  // (file index, sample id) -> the keys that sampled it (a sample may serve several keys).
  std::map<uint32_t, std::map<uint32_t, std::vector<size_t>>> wanted;
  std::vector<int64_t> sampled(def->keys.size(), 0);
  std::vector<index::SampleRange> one;
  for (size_t k = 0; k < def->keys.size(); ++k) {
    int64_t total = 0;
    for (int64_t c : def->keys[k].components) total += index.component_size(c);
    const int64_t n = std::min(total, per_key);
    for (int64_t i = 0; i < n; ++i) {
      // The (2i+1)/(2n) quantile of the key's samples.
      int64_t p = static_cast<int64_t>((static_cast<__int128>(2 * i + 1) * total) / (2 * n));
      for (int64_t c : def->keys[k].components) {
        const int64_t size = index.component_size(c);
        if (p < size) {
          one.clear();
          index.Extract(c, p, p + 1, &one);
          wanted[one[0].file_index][one[0].begin].push_back(k);
          ++sampled[k];
          break;
        }
        p -= size;
      }
    }
  }
  std::vector<double> tokens(def->keys.size(), 0), byte_tokens(def->keys.size(), 0),
      bytes(def->keys.size(), 0);
  for (const auto& [file_index, samples] : wanted) {
    const chunk::JobFile& f = def->files[file_index];
    formats::SampleFile sf{f.path,         f.format,     f.compression, f.text_fields,
                           f.offsets_path, f.size_bytes, f.mtime_ns};
    std::vector<uint32_t> ids;
    for (const auto& [id, keys] : samples) ids.push_back(id);
    MIXTERA_ASSIGN_OR_RETURN(auto texts, formats::ReadSampleTexts(sf, ids));
    MIXTERA_ASSIGN_OR_RETURN(auto encoded, tokenizer.EncodeBatch(texts));
    std::unique_ptr<formats::OffsetsReader> offsets;
    if (f.format != "parquet") {
      MIXTERA_ASSIGN_OR_RETURN(offsets, formats::OffsetsReader::Open(f.offsets_path + ".offsets"));
    }
    size_t i = 0;
    for (const auto& [id, keys] : samples) {
      const double n = static_cast<double>(encoded[i].size());
      double record_bytes = -1;
      if (offsets != nullptr) {
        // The record's share of the file: up to the next record (separators included), as
        // EstimatedTokenCounter counts bytes.
        MIXTERA_ASSIGN_OR_RETURN(formats::RecordExtent e, offsets->Get(id));
        record_bytes = static_cast<double>(e.length);
        if (static_cast<int64_t>(id) + 1 < offsets->num_records()) {
          MIXTERA_ASSIGN_OR_RETURN(formats::RecordExtent next, offsets->Get(id + 1));
          record_bytes = static_cast<double>(next.offset - e.offset);
        }
      }
      for (size_t k : keys) {
        tokens[k] += n;
        if (record_bytes >= 0) {
          byte_tokens[k] += n;
          bytes[k] += record_bytes;
        }
      }
      ++i;
    }
  }
  def->key_tokens_per_byte.assign(def->keys.size(), 1.0);
  def->key_tokens_per_sample.assign(def->keys.size(), 1.0);
  for (size_t k = 0; k < def->keys.size(); ++k) {
    if (sampled[k] > 0) {
      def->key_tokens_per_sample[k] = std::max(tokens[k] / static_cast<double>(sampled[k]), 1e-3);
    }
    if (bytes[k] > 0) def->key_tokens_per_byte[k] = std::max(byte_tokens[k] / bytes[k], 1e-6);
  }
  return Status::OK();
}

}  // namespace

std::vector<std::string> DefaultGrouping(const std::vector<store::GlobalProperty>& properties) {
  std::vector<std::string> names;
  for (const auto& p : properties) {
    if (p.type == model::PropertyType::kString || p.type == model::PropertyType::kEnum ||
        p.type == model::PropertyType::kBool) {
      names.push_back(p.name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::unique_ptr<chunk::Job>> BuildJob(
    store::MetadataStore* store, const std::string& job_id, const model::Predicate& where,
    const model::MixtureSpec& mixture, const QueryOptions& options, const JobOptions& job_options,
    const std::function<std::string(int64_t)>& offsets_dir, JobBuildStats* stats) {
  const auto t0 = std::chrono::steady_clock::now();
  MIXTERA_RETURN_IF_ERROR(chunk::ValidateJobId(job_id));
  std::unique_ptr<tokenize::Tokenizer> tokenizer;
  if (mixture.unit == model::ChunkUnit::kTokens) {
    if (mixture.type == model::MixtureType::kArbitrary) {
      return Status::InvalidArgument("an arbitrary mixture has no proportions; use unit: samples");
    }
    if (job_options.tokenizer.empty()) {
      return Status::InvalidArgument(
          "unit: tokens needs a tokenizer file to measure tokens per sample "
          "(QueryExecutionArgs(tokenizer=...) or --tokenizer)");
    }
    MIXTERA_ASSIGN_OR_RETURN(tokenizer, tokenize::LoadTokenizer(job_options.tokenizer));
  }
  query::FilterContext ctx;
  MIXTERA_ASSIGN_OR_RETURN(ctx.properties, store->ListProperties());
  ctx.holdout_fraction = options.holdout_fraction;
  MIXTERA_RETURN_IF_ERROR(query::ValidatePredicate(where, ctx));

  const bool per_component = mixture.type == model::MixtureType::kInferring ||
                             mixture.type == model::MixtureType::kArbitrary;
  const std::vector<model::MixtureWeight> declared = DeclaredKeys(mixture);
  std::vector<std::string> group_by;
  if (per_component) {
    group_by = mixture.group_by.empty() ? DefaultGrouping(ctx.properties) : mixture.group_by;
  } else {
    std::set<std::string> names;
    for (const auto& w : declared) {
      for (const auto& [prop, values] : w.key.properties) names.insert(prop);
    }
    group_by.assign(names.begin(), names.end());
  }
  MIXTERA_ASSIGN_OR_RETURN(query::BuiltIndex built, query::BuildIndex(store, where, group_by, ctx));
  const auto t_plan = std::chrono::steady_clock::now();

  chunk::JobDefinition def;
  def.job_id = job_id;
  const chunk::Topology& topology = job_options.topology;
  def.topology = topology;
  MIXTERA_RETURN_IF_ERROR(model::CheckLimit(model::limits::kDpGroups, topology.dp_groups));
  MIXTERA_RETURN_IF_ERROR(
      model::CheckLimit(model::limits::kNodesPerGroup, topology.nodes_per_group));
  MIXTERA_RETURN_IF_ERROR(model::CheckLimit(model::limits::kNumWorkers, topology.num_workers));
  def.topology.num_workers = std::max<int64_t>(1, topology.num_workers);  // 0: one consumer
  def.query = query::PredicateToString(where);
  def.mixture = mixture;
  MIXTERA_ASSIGN_OR_RETURN(def.store_version, store->Version());
  std::vector<model::DatasetInfo> datasets = built.datasets;
  for (size_t i = 0; i < built.files.size(); ++i) {
    const model::FileRecord& f = built.files[i];
    auto ds = std::find_if(datasets.begin(), datasets.end(),
                           [&](const auto& d) { return d.dataset_id == f.dataset_id; });
    MIXTERA_CHECK(ds != datasets.end());
    chunk::JobFile jf;
    jf.path = f.path;
    jf.dataset = ds->name;
    jf.file_id = f.file_id;
    jf.size_bytes = f.size_bytes;
    jf.mtime_ns = f.mtime_ns;
    jf.format = std::string(model::DataFormatName(ds->format));
    jf.compression = std::string(model::CompressionName(f.compression));
    jf.text_fields = ds->text_fields;
    jf.offsets_path = StrCat(offsets_dir(f.dataset_id), "/", f.file_id);
    jf.num_records = f.num_records;
    def.files.push_back(std::move(jf));
  }
  def.components = std::move(built.components);
  const auto& table = def.components;
  if (table.num_components() > kManyComponents) {
    def.warnings.push_back(StrCat(table.num_components(), " components (more than ",
                                  kManyComponents, "): consider fewer grouping properties"));
  }
  if (per_component) {
    std::vector<double> weights;
    for (int64_t c = 0; c < table.num_components(); ++c) {
      def.keys.push_back({mixture::ComponentKey(table, c), {c}, 1});
      weights.push_back(static_cast<double>(table.sizes[c]));
    }
    // Inferring: natural proportions. Arbitrary: the job ignores weights (chunks are filled
    // across components in order).
    def.mixture_log.push_back({0, std::move(weights)});
  } else {
    std::vector<model::MixtureKey> keys;
    for (const auto& w : declared) keys.push_back(w.key);
    MIXTERA_ASSIGN_OR_RETURN(mixture::KeyResolution res, mixture::ResolveKeys(keys, table));
    for (size_t k = 0; k < declared.size(); ++k) {
      def.keys.push_back({declared[k].key, res.key_components[k], declared[k].repeat});
    }
    for (int32_t k : res.unmatched_keys) {
      def.warnings.push_back(
          StrCat("key ", mixture::MixtureKeyToJson(keys[k]), " matches no samples"));
    }
    for (const auto& [c, matching] : res.shared_components) {
      std::vector<std::string> names;
      for (int32_t k : matching) names.push_back(mixture::MixtureKeyToJson(keys[k]));
      def.warnings.push_back(StrCat(
          "component ", mixture::MixtureKeyToJson(mixture::ComponentKey(table, c)),
          " is matched by several keys (", StrJoin(names, ", "), "); it belongs to the first"));
    }
    auto weights_of = [&](const std::vector<model::MixtureWeight>& ws) {
      std::vector<double> out(declared.size(), 0);
      for (const auto& w : ws) {
        for (size_t k = 0; k < declared.size(); ++k) {
          if (declared[k].key == w.key) out[k] = w.weight;
        }
      }
      return out;
    };
    if (mixture.type == model::MixtureType::kSchedule) {
      for (const auto& entry : mixture.schedule) {
        def.mixture_log.push_back({entry.start_chunk, weights_of(entry.weights)});
      }
    } else {
      def.mixture_log.push_back({0, weights_of(mixture.weights)});
    }
  }
  auto index = std::move(built.index);
  if (tokenizer != nullptr) {
    def.tokenizer_fingerprint = tokenizer->fingerprint();
    def.packing = job_options.packing;
    MIXTERA_RETURN_IF_ERROR(
        model::CheckLimit(model::limits::kSequenceLength, def.packing.sequence_length));
    std::set<int64_t> read;  // the datasets the job reads
    for (const auto& f : built.files) read.insert(f.dataset_id);
    std::vector<std::string> uncounted;
    for (const auto& d : datasets) {
      if (read.count(d.dataset_id) == 0) continue;
      if (!HasTokenCounts(offsets_dir(d.dataset_id), def.tokenizer_fingerprint)) {
        uncounted.push_back(d.name);
      }
    }
    if (uncounted.empty() && !read.empty()) {
      def.exact_tokens = true;
      std::map<int64_t, std::string> folders;
      for (const auto& d : datasets) {
        folders[d.dataset_id] =
            TokenCountsDir(offsets_dir(d.dataset_id), def.tokenizer_fingerprint);
      }
      for (size_t i = 0; i < def.files.size(); ++i) {
        def.files[i].token_counts_path =
            StrCat(folders[built.files[i].dataset_id], "/", def.files[i].file_id, ".tokens");
      }
    } else {
      def.warnings.push_back(StrCat("token quotas are estimates: no token counts for ",
                                    def.tokenizer_fingerprint, " in ", StrJoin(uncounted, ", "),
                                    " (run `mixtera count-tokens DIR DATASET --tokenizer ",
                                    job_options.tokenizer, "` for exact chunks)"));
      MIXTERA_RETURN_IF_ERROR(MeasureTokenRatios(&def, *index, *tokenizer));
    }
  }
  if (stats != nullptr) {
    stats->scan_seconds = built.scan_seconds;
    stats->finish_seconds = built.finish_seconds;
    stats->num_samples = built.num_samples;
    stats->index_bytes = index->bytes();
    stats->num_entries = index->num_entries();
    stats->num_ranges = index->num_ranges();
  }
  const bool arbitrary = mixture.type == model::MixtureType::kArbitrary;
  const std::vector<double> first_weights = def.mixture_log[0].weights;
  MIXTERA_ASSIGN_OR_RETURN(auto job, chunk::Job::Create(std::move(def), std::move(index)));
  if (!arbitrary) {
    // Keys whose weight rounds to zero samples per chunk.
    const std::vector<int64_t> counts = job->InitialCounts();
    int64_t zero = 0;
    for (size_t k = 0; k < counts.size(); ++k) {
      if (first_weights[k] <= 0 || counts[k] > 0 || job->key_supply()[k] == 0) continue;
      ++zero;
      if (!per_component) {
        job->AddWarning(StrCat("key ", mixture::MixtureKeyToJson(job->definition().keys[k].key),
                               " gets 0 samples per chunk (weight ", first_weights[k],
                               " x chunk_size ", mixture.chunk_size, " rounds to 0)"));
      }
    }
    // A strict mixture whose key cannot fill even one chunk: the job holds nothing.
    if (mixture.strict && job->plan().num_chunks() == 0) {
      for (size_t k = 0; k < counts.size(); ++k) {
        if (counts[k] > job->key_supply()[k]) {
          job->AddWarning(StrCat("the job holds no chunk: key ",
                                 mixture::MixtureKeyToJson(job->definition().keys[k].key),
                                 " needs ", counts[k], " per chunk and has ", job->key_supply()[k],
                                 " (strict mixture; lower chunk_size, or set strict: false)"));
          break;
        }
      }
    }
    if (per_component && zero > 0) {
      job->AddWarning(StrCat(zero, " of ", counts.size(),
                             " components get 0 samples per chunk (their share of chunk_size ",
                             mixture.chunk_size,
                             " rounds to 0); they are used only once larger "
                             "components run out (best effort) or never (strict)"));
    }
  }
  if (stats != nullptr) {
    stats->plan_seconds = Since(t_plan);
    stats->total_seconds = Since(t0);
  }
  return job;
}

}  // namespace mixtera::engine
