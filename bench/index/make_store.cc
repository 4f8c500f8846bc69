// index_make_store: writes a synthetic Mixtera directory for bench/index (see README.md).
//
//   index_make_store DIR --samples N --components C --layout clustered|interleaved
//                    [--files F] [--run-length L] [--seed S] [--force]
//
// Result: DIR/mixtera.duckdb (a schema-v2 store, written through store::MetadataStore, so it
// is exactly what `mixtera register` would have produced) holding one dataset `synth`
// (format jsonl) with N samples spread over F files (default 100; the first N % F files get
// one sample more), and DIR/offsets/ (empty). The data files themselves do not exist: the
// `files` rows carry plausible paths (DIR/data/shard-NNNNN.jsonl), sizes (2 KiB per sample)
// and a fixed mtime, which is all that query, index and chunk computation read.
//
// Properties, in declaration order:
//   lang   string  a (a language code)     } the three categorical properties; every
//   topic  string  b ("topic_NN")          } combination (lang, topic, source) occurs, so
//   source enum    c ("src_NN")            } there are exactly C = a*b*c components
//   score  float   in [0, 1), two decimals, independent of the combination
// with a >= b >= c the most balanced factorization of C (20 = 5*2*2, 1000 = 10*10*10,
// 10000 = 25*20*20). Combination k is (lang k % a, topic (k / a) % b, source k / (a*b)).
//
// Layouts (g = global sample index, files in file_id order, samples in sample_id order):
//   clustered    runs of L consecutive samples share a combination: block g / L gets
//                combination (block * P) mod C, P coprime to C, so neighbouring blocks always
//                differ. Runs are also cut at file boundaries. Default L = min(4096, N / C).
//   interleaved  no two neighbouring samples of a file share a combination (every range has
//                length 1): each file starts at a pseudo-random combination and every sample
//                moves on by a pseudo-random step in [1, C-1] (mod C). Needs C >= 2.
// Everything is a pure function of (N, C, layout, F, L, seed): reruns produce the same store.
//
// Caching: DIR/index_make_store.stamp records the parameters and the report. When it matches
// the request and DIR/mixtera.duckdb exists, nothing is written and the stored report is
// printed with "cached": true. Otherwise (or with --force) DIR/mixtera.duckdb is deleted and
// rebuilt; the stamp is written last, so an interrupted run is redone next time.
//
// Output: one JSON line on stdout: dir, dataset, samples, files, components, cardinalities,
// layout, run_length, seed, num_ranges (maximal runs of one combination within a file, i.e.
// the intervals of the original's gaps-and-islands query), store_bytes, generate_s, cached.
// Progress goes to stderr. Exit status 0 on success, 1 on an error, 2 on a usage error.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "model/dataset_info.h"
#include "model/dataset_spec.h"
#include "model/property.h"
#include "model/sample_batch.h"
#include "store/metadata_store.h"

namespace {

namespace fs = std::filesystem;
using mixtera::StrCat;

constexpr int kStampVersion = 1;  // bump when the generated data changes
constexpr const char* kStampFile = "index_make_store.stamp";
constexpr int64_t kBytesPerSample = 2048;          // plausible JSONL record size
constexpr int64_t kMtimeNs = 1700000000000000000;  // fixed, so reruns are identical
constexpr int64_t kBatchRows = 65536;              // rows per SampleBatch handed to the store

struct Options {
  std::string dir;
  int64_t samples = 0;
  int64_t components = 0;
  std::string layout;
  int64_t files = 100;
  int64_t run_length = 0;  // 0: default
  uint64_t seed = 42;
  bool force = false;
};

int Usage() {
  std::fprintf(stderr,
               "usage: index_make_store DIR --samples N --components C "
               "--layout clustered|interleaved [--files F] [--run-length L] [--seed S] "
               "[--force]\n");
  return 2;
}

// SplitMix64: a fast, well-mixed 64-bit hash of a counter.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Gcd(uint64_t a, uint64_t b) {
  while (b != 0) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// The most balanced a >= b >= c with a*b*c == n (minimal a/c, then minimal a).
std::vector<int64_t> Factor3(int64_t n) {
  std::vector<int64_t> best = {n, 1, 1};
  for (int64_t c = 1; c * c * c <= n; ++c) {
    if (n % c != 0) continue;
    for (int64_t b = c; b * b <= n / c; ++b) {
      if ((n / c) % b != 0) continue;
      int64_t a = n / c / b;
      // Compare a/c ratios without division: a*best_c < best_a*c.
      if (a * best[2] < best[0] * c || (a * best[2] == best[0] * c && a < best[0])) {
        best = {a, b, c};
      }
    }
  }
  return best;
}

// Value names of the three categorical properties.
std::vector<std::string> LangValues(int64_t n) {
  static const char* kCodes[] = {"en", "de", "fr", "es", "it", "pt", "nl", "sv", "pl", "ru",
                                 "ja", "zh", "ko", "ar", "hi", "tr", "cs", "fi", "da", "no",
                                 "el", "he", "hu", "ro", "uk", "id", "vi", "th", "bg", "hr"};
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) {
    out.push_back(i < static_cast<int64_t>(std::size(kCodes)) ? std::string(kCodes[i])
                                                              : StrCat("lang_", i));
  }
  return out;
}

std::vector<std::string> NumberedValues(const std::string& prefix, int64_t n) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%s%02" PRId64, prefix.c_str(), i);
    out.emplace_back(buf);
  }
  return out;
}

// The parameters that determine the store's content, as recorded in the stamp.
std::string StampParams(const Options& o) {
  return StrCat("index_make_store v", kStampVersion, " samples=", o.samples,
                " components=", o.components, " layout=", o.layout, " files=", o.files,
                " run_length=", o.run_length, " seed=", o.seed);
}

int64_t DirBytes(const std::string& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += static_cast<int64_t>(e.file_size(ec));
  }
  return total;
}

// Assigns combinations to the samples of one file, one batch at a time.
class Layout {
 public:
  explicit Layout(const Options& o) : o_(o) {
    // A multiplier coprime to C near C * 0.618, so consecutive blocks land far apart.
    auto c = static_cast<uint64_t>(o.components);
    step_ = c <= 1 ? 0 : std::max<uint64_t>(1, static_cast<uint64_t>(c * 0.6180339887));
    while (c > 1 && Gcd(step_, c) != 1) ++step_;
  }

  // Starts file `file_index` whose first sample has global index `first_global`.
  void StartFile(int64_t file_index, int64_t first_global) {
    global_ = first_global;
    if (o_.layout == "interleaved") {
      current_ = static_cast<int64_t>(Mix(o_.seed ^ Mix(static_cast<uint64_t>(file_index))) %
                                      static_cast<uint64_t>(o_.components));
    }
    first_in_file_ = true;
  }

  // The combination of the next sample.
  int64_t Next() {
    int64_t k;
    const auto c = static_cast<uint64_t>(o_.components);
    if (o_.layout == "clustered") {
      auto block = static_cast<uint64_t>(global_ / o_.run_length);
      k = static_cast<int64_t>((block % c) * step_ % c);
    } else if (first_in_file_) {
      k = current_;
    } else {
      uint64_t step = 1 + Mix(o_.seed * 31 + static_cast<uint64_t>(global_)) % (c - 1);
      k = static_cast<int64_t>((static_cast<uint64_t>(current_) + step) % c);
    }
    first_in_file_ = false;
    current_ = k;
    ++global_;
    return k;
  }

 private:
  const Options& o_;
  uint64_t step_ = 1;
  int64_t global_ = 0;
  int64_t current_ = 0;
  bool first_in_file_ = true;
};

std::string JsonList(const std::vector<int64_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += StrCat(i ? "," : "", v[i]);
  return out + "]";
}

int Fail(const mixtera::Status& st, const char* what) {
  std::fprintf(stderr, "index_make_store: %s: %s\n", what, st.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else if (arg == "--force") {
      o.force = true;
    } else if (arg == "--samples" || arg == "--components" || arg == "--files" ||
               arg == "--run-length" || arg == "--seed" || arg == "--layout") {
      const char* v = value();
      if (v == nullptr) return Usage();
      if (arg == "--layout") {
        o.layout = v;
        continue;
      }
      char* end = nullptr;
      long long n = std::strtoll(v, &end, 10);
      if (end == v || *end != '\0' || n < 0) return Usage();
      if (arg == "--samples") o.samples = n;
      if (arg == "--components") o.components = n;
      if (arg == "--files") o.files = n;
      if (arg == "--run-length") o.run_length = n;
      if (arg == "--seed") o.seed = static_cast<uint64_t>(n);
    } else if (arg.rfind("--", 0) == 0 || !o.dir.empty()) {
      return Usage();
    } else {
      o.dir = arg;
    }
  }
  if (o.dir.empty() || o.samples < 1 || o.components < 1 || o.files < 1 ||
      (o.layout != "clustered" && o.layout != "interleaved")) {
    return Usage();
  }
  if (o.layout == "interleaved" && o.components < 2) {
    std::fprintf(stderr, "index_make_store: the interleaved layout needs --components >= 2\n");
    return 2;
  }
  if (o.files > o.samples) o.files = o.samples;
  if (o.run_length == 0) {
    o.run_length =
        o.layout == "clustered" ? std::clamp<int64_t>(o.samples / o.components, 1, 4096) : 1;
  }
  if (o.layout == "interleaved") o.run_length = 1;

  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) {
    std::fprintf(stderr, "index_make_store: cannot create %s: %s\n", o.dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  const std::string dir = fs::absolute(o.dir).lexically_normal().string();
  const std::string db_path = dir + "/mixtera.duckdb";
  const std::string stamp_path = StrCat(dir, "/", kStampFile);
  const std::string params = StampParams(o);

  // A matching stamp and an existing store: nothing to do.
  if (!o.force && fs::exists(db_path, ec)) {
    std::ifstream in(stamp_path);
    std::string first, report;
    if (std::getline(in, first) && first == params && std::getline(in, report) &&
        report.size() > 2 && report.back() == '}') {
      report.pop_back();
      std::printf("%s,\"cached\":true}\n", report.c_str());
      return 0;
    }
  }
  fs::remove(stamp_path, ec);
  for (const char* suffix : {"", ".wal"}) fs::remove(db_path + suffix, ec);
  fs::create_directories(dir + "/offsets", ec);

  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int64_t> card = Factor3(o.components);
  const std::vector<std::string> langs = LangValues(card[0]);
  const std::vector<std::string> topics = NumberedValues("topic_", card[1]);
  const std::vector<std::string> sources = NumberedValues("src_", card[2]);

  namespace model = mixtera::model;
  model::DatasetSpec spec;
  spec.name = "synth";
  spec.format = model::DataFormat::kJsonl;
  spec.path_patterns = {dir + "/data/*.jsonl"};
  spec.text_fields = {"/text"};
  auto prop = [](std::string name, model::PropertyType type, std::vector<std::string> values) {
    model::PropertySchema p;
    p.name = name;
    p.type = type;
    p.enum_values = std::move(values);
    p.field = "/" + name;
    return p;
  };
  spec.properties = {prop("lang", model::PropertyType::kString, {}),
                     prop("topic", model::PropertyType::kString, {}),
                     prop("source", model::PropertyType::kEnum, sources),
                     prop("score", model::PropertyType::kFloat, {})};
  std::string enum_json;
  for (size_t i = 0; i < sources.size(); ++i) {
    enum_json += StrCat(i ? "," : "", mixtera::JsonQuote(sources[i]));
  }
  spec.normalized_json = StrCat(
      "{\"name\":\"synth\",\"format\":\"jsonl\",\"path\":[",
      mixtera::JsonQuote(spec.path_patterns[0]),
      "],\"text\":[\"/text\"],\"on_error\":\"fail\",\"properties\":{"
      "\"lang\":{\"type\":\"string\",\"field\":\"/lang\",\"nullable\":false},"
      "\"topic\":{\"type\":\"string\",\"field\":\"/topic\",\"nullable\":false},"
      "\"source\":{\"type\":\"enum\",\"field\":\"/source\",\"nullable\":false,"
      "\"values\":[",
      enum_json, "]},\"score\":{\"type\":\"float\",\"field\":\"/score\",\"nullable\":false}}}");

  auto store = mixtera::store::MetadataStore::Open(db_path);
  if (!store.ok()) return Fail(store.status(), "opening the store");
  auto writer_or = (*store)->BeginDataset(spec);
  if (!writer_or.ok()) return Fail(writer_or.status(), "starting the registration");
  auto& writer = *writer_or;
  auto first_file_id = writer->ReserveFileIds(o.files);
  if (!first_file_id.ok()) return Fail(first_file_id.status(), "reserving file ids");

  Layout layout(o);
  const bool progress = isatty(STDERR_FILENO) != 0;  // a progress line only on a terminal
  int64_t num_ranges = 0;
  int64_t global = 0;
  const int64_t per_file = o.samples / o.files;
  const int64_t extra = o.samples % o.files;
  for (int64_t f = 0; f < o.files; ++f) {
    const int64_t file_id = *first_file_id + f;
    const int64_t n = per_file + (f < extra ? 1 : 0);
    layout.StartFile(f, global);
    int64_t prev = -1;
    model::SampleBatch batch(file_id, spec.properties);
    for (int64_t begin = 0; begin < n; begin += kBatchRows) {
      const int64_t rows = std::min(kBatchRows, n - begin);
      batch.sample_ids.clear();
      for (auto& c : batch.columns) c.Clear();
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t k = layout.Next();
        if (k != prev) ++num_ranges;
        prev = k;
        batch.sample_ids.push_back(begin + i);
        batch.columns[0].AppendString(langs[k % card[0]]);
        batch.columns[1].AppendString(topics[(k / card[0]) % card[1]]);
        batch.columns[2].AppendString(sources[k / (card[0] * card[1])]);
        const uint64_t h = Mix(o.seed * 0x1000193 + static_cast<uint64_t>(global + begin + i));
        batch.columns[3].AppendFloat(static_cast<double>(h % 100) / 100.0);
      }
      auto st = writer->AppendSamples(batch);
      if (!st.ok()) return Fail(st, "appending samples");
    }
    global += n;

    model::FileRecord file;
    file.file_id = file_id;
    char name[64];
    std::snprintf(name, sizeof(name), "/data/shard-%05" PRId64 ".jsonl", f);
    file.path = dir + name;
    file.size_bytes = n * kBytesPerSample;
    file.mtime_ns = kMtimeNs;
    file.compression = model::Compression::kNone;
    file.num_records = n;
    file.num_samples = n;
    auto st = writer->AddFile(file);
    if (!st.ok()) return Fail(st, "adding a file");
    if (progress && ((f + 1) % 10 == 0 || f + 1 == o.files)) {
      std::fprintf(stderr, "\rindex_make_store: %" PRId64 "/%" PRId64 " files, %" PRId64 " samples",
                   f + 1, o.files, global);
    }
  }
  if (progress) std::fprintf(stderr, "\n");
  auto st = writer->Commit();
  if (!st.ok()) return Fail(st, "committing");
  writer.reset();
  store->reset();  // closes DuckDB, which checkpoints the WAL into the file

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ostringstream report;
  report << "{\"dir\":" << mixtera::JsonQuote(dir)
         << ",\"dataset\":\"synth\",\"samples\":" << o.samples << ",\"files\":" << o.files
         << ",\"components\":" << o.components << ",\"cardinalities\":" << JsonList(card)
         << ",\"layout\":\"" << o.layout << "\",\"run_length\":" << o.run_length
         << ",\"seed\":" << o.seed << ",\"num_ranges\":" << num_ranges
         << ",\"store_bytes\":" << DirBytes(dir) << ",\"generate_s\":" << seconds << "}";
  {
    std::ofstream out(stamp_path + ".tmp");
    out << params << "\n" << report.str() << "\n";
    out.close();
    if (!out) {
      std::fprintf(stderr, "index_make_store: cannot write %s\n", stamp_path.c_str());
      return 1;
    }
    fs::rename(stamp_path + ".tmp", stamp_path, ec);
    if (ec) {
      std::fprintf(stderr, "index_make_store: cannot write %s: %s\n", stamp_path.c_str(),
                   ec.message().c_str());
      return 1;
    }
  }
  std::string out = report.str();
  out.pop_back();
  std::printf("%s,\"cached\":false}\n", out.c_str());
  return 0;
}
