// store_append_rate: how fast the metadata store takes rows, against DuckDB's own appender
// writing the same rows (the baseline, run in the same process and the same run).
//
//   store_append_rate [--rows N] [--runs R] [--dir DIR]
//
// Rows: N samples (default 2,000,000) in batches of 65,536 (one file each) with four
// properties: language (string, 5 values), license (enum, 3 values), nbytes (int), quality
// (float). Contenders, each into a new DuckDB file under DIR (default: a temporary folder),
// timed from the first row to the commit, in rotation, R runs each (default 3):
//   stream     DatasetWriter::AppendSampleStream (what `mixtera register` uses): one INSERT
//              that takes DuckDB's chunks filled with dictionary codes;
//   appender   DatasetWriter::AppendSamples, batch after batch;
//   duckdb     the baseline: duckdb_appender_* of DuckDB's C API into a plain table of the same
//              columns (file_id, sample_id, two VARCHARs, BIGINT, DOUBLE), one row at a time.
// Prints one line per contender with the median rows/s and its ratio to the baseline's
// median. Warm page cache; process start excluded; DuckDB's default threads.
// Exit status 0 on success, 1 on an error, 2 on a usage error.
#include <duckdb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/macros.h"
#include "model/sample_batch.h"
#include "store/metadata_store.h"

namespace {

using mixtera::Status;
using mixtera::model::DatasetSpec;
using mixtera::model::PropertySchema;
using mixtera::model::PropertyType;
using mixtera::model::SampleBatch;

constexpr int64_t kPerBatch = 65536;
const char* const kLanguages[] = {"Python", "C++", "Rust", "English web text", "German"};
const char* const kLicenses[] = {"MIT", "GPL", "BSD"};

PropertySchema Prop(const std::string& name, PropertyType type,
                    std::vector<std::string> values = {}) {
  PropertySchema p;
  p.name = name;
  p.type = type;
  p.enum_values = std::move(values);
  p.field = "/" + name;
  return p;
}

DatasetSpec BenchSpec() {
  DatasetSpec spec;
  spec.name = "bench";
  spec.format = mixtera::model::DataFormat::kJsonl;
  spec.path_patterns = {"/bench/*.jsonl"};
  spec.text_fields = {"/text"};
  spec.properties = {Prop("language", PropertyType::kString),
                     Prop("license", PropertyType::kEnum, {"MIT", "GPL", "BSD"}),
                     Prop("nbytes", PropertyType::kInt), Prop("quality", PropertyType::kFloat)};
  spec.normalized_json = "{\"name\":\"bench\"}";
  return spec;
}

// Row i's values, the same for every contender.
int64_t NBytes(int64_t i) { return i * 17 % 100000; }
double Quality(int64_t i) { return static_cast<double>(i % 1000) / 1000.0; }

std::vector<SampleBatch> MakeBatches(const DatasetSpec& spec, int64_t n) {
  std::vector<SampleBatch> batches;
  for (int64_t begin = 0; begin < n; begin += kPerBatch) {
    SampleBatch b(begin / kPerBatch, spec.properties);
    for (int64_t i = begin; i < std::min(n, begin + kPerBatch); ++i) {
      b.sample_ids.push_back(i - begin);
      b.columns[0].AppendString(kLanguages[i % 5]);
      b.columns[1].AppendString(kLicenses[i % 3]);
      b.columns[2].AppendInt(NBytes(i));
      b.columns[3].AppendFloat(Quality(i));
    }
    batches.push_back(std::move(b));
  }
  return batches;
}

mixtera::model::FileRecord File(const SampleBatch& b) {
  mixtera::model::FileRecord f;
  f.file_id = b.file_id;
  f.path = "/bench/" + std::to_string(b.file_id) + ".jsonl";
  f.size_bytes = 1;
  f.mtime_ns = 1;
  f.num_records = static_cast<int64_t>(b.num_rows());
  f.num_samples = f.num_records;
  return f;
}

// Appends every batch through the store and commits; returns the seconds it took.
mixtera::Result<double> RunStore(const std::string& path, const DatasetSpec& spec,
                                 const std::vector<SampleBatch>& batches, bool stream) {
  MIXTERA_ASSIGN_OR_RETURN(auto store, mixtera::store::MetadataStore::Open(path));
  const auto start = std::chrono::steady_clock::now();
  MIXTERA_ASSIGN_OR_RETURN(auto writer, store->BeginDataset(spec));
  MIXTERA_ASSIGN_OR_RETURN(int64_t first,
                           writer->ReserveFileIds(static_cast<int64_t>(batches.size())));
  if (first != 0) return Status::Internal("file ids do not start at 0");
  if (stream) {
    size_t next = 0;
    MIXTERA_RETURN_IF_ERROR(
        writer->AppendSampleStream([&]() -> mixtera::Result<const SampleBatch*> {
          return next < batches.size() ? &batches[next++] : nullptr;
        }));
  } else {
    for (const SampleBatch& b : batches) MIXTERA_RETURN_IF_ERROR(writer->AppendSamples(b));
  }
  for (const SampleBatch& b : batches) MIXTERA_RETURN_IF_ERROR(writer->AddFile(File(b)));
  MIXTERA_RETURN_IF_ERROR(writer->Commit());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MIXTERA_ASSIGN_OR_RETURN(int64_t count, store->CountSamples());
  int64_t rows = 0;
  for (const SampleBatch& b : batches) rows += static_cast<int64_t>(b.num_rows());
  if (count != rows) return Status::Internal("the store holds a different number of rows");
  return seconds;
}

// The baseline: DuckDB's C API appender, row by row, into a plain table; commit at the end.
mixtera::Result<double> RunDuckDb(const std::string& path, int64_t n) {
  duckdb_database db = nullptr;
  duckdb_connection conn = nullptr;
  if (duckdb_open(path.c_str(), &db) != DuckDBSuccess)
    return Status::IOError("cannot open " + path);
  if (duckdb_connect(db, &conn) != DuckDBSuccess) return Status::IOError("cannot connect");
  auto sql = [&](const char* q) {
    duckdb_result r;
    const bool ok = duckdb_query(conn, q, &r) == DuckDBSuccess;
    duckdb_destroy_result(&r);
    return ok;
  };
  Status status;
  const auto start = std::chrono::steady_clock::now();
  if (!sql("CREATE TABLE samples (file_id BIGINT, sample_id BIGINT, language VARCHAR, "
           "license VARCHAR, nbytes BIGINT, quality DOUBLE)") ||
      !sql("BEGIN TRANSACTION")) {
    status = Status::Internal("cannot create the baseline table");
  }
  duckdb_appender appender = nullptr;
  if (status.ok() && duckdb_appender_create(conn, nullptr, "samples", &appender) != DuckDBSuccess) {
    status = Status::Internal("cannot create an appender");
  }
  for (int64_t i = 0; status.ok() && i < n; ++i) {
    duckdb_append_int64(appender, i / kPerBatch);
    duckdb_append_int64(appender, i % kPerBatch);
    duckdb_append_varchar(appender, kLanguages[i % 5]);
    duckdb_append_varchar(appender, kLicenses[i % 3]);
    duckdb_append_int64(appender, NBytes(i));
    duckdb_append_double(appender, Quality(i));
    if (duckdb_appender_end_row(appender) != DuckDBSuccess) {
      status = Status::Internal(duckdb_appender_error(appender));
    }
  }
  if (appender != nullptr && duckdb_appender_destroy(&appender) != DuckDBSuccess && status.ok()) {
    status = Status::Internal("the appender failed to flush");
  }
  if (status.ok() && !sql("COMMIT")) status = Status::Internal("commit failed");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  duckdb_disconnect(&conn);
  duckdb_close(&db);
  if (!status.ok()) return status;
  return seconds;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int Usage() {
  std::fprintf(stderr, "usage: store_append_rate [--rows N] [--runs R] [--dir DIR]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 2'000'000;
  int runs = 3;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    if (arg == "--rows") {
      rows = std::atoll(argv[++i]);
    } else if (arg == "--runs") {
      runs = std::atoi(argv[++i]);
    } else if (arg == "--dir") {
      dir = argv[++i];
    } else {
      return Usage();
    }
  }
  if (rows < 1 || runs < 1) return Usage();
  const bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/mixtera-append-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return 1;
    dir = tmpl;
  }
  const DatasetSpec spec = BenchSpec();
  const std::vector<SampleBatch> batches = MakeBatches(spec, rows);
  const char* names[] = {"stream", "appender", "duckdb"};
  std::vector<double> seconds[3];
  for (int r = 0; r < runs; ++r) {
    for (int c = 0; c < 3; ++c) {
      const std::string path = dir + "/" + names[c] + std::to_string(r) + ".duckdb";
      std::filesystem::remove(path);
      std::filesystem::remove(path + ".wal");
      mixtera::Result<double> s =
          c == 2 ? RunDuckDb(path, rows) : RunStore(path, spec, batches, c == 0);
      std::filesystem::remove(path);
      std::filesystem::remove(path + ".wal");
      if (!s.ok()) {
        std::fprintf(stderr, "store_append_rate: %s: %s\n", names[c],
                     s.status().ToString().c_str());
        return 1;
      }
      seconds[c].push_back(*s);
    }
  }
  if (own_dir) std::filesystem::remove_all(dir);
  const double baseline = Median(seconds[2]);
  std::printf("store append rate: %lld rows x 4 properties, median of %d runs (warm cache)\n",
              static_cast<long long>(rows), runs);
  for (int c = 0; c < 3; ++c) {
    const double m = Median(seconds[c]);
    std::printf("  %-9s %.3f s  %6.2f M rows/s  ratio vs duckdb appender %.2fx\n", names[c], m,
                static_cast<double>(rows) / m / 1e6, baseline / m);
  }
  return 0;
}
