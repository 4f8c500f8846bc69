// index_baseline: the original Mixtera's query execution and ChunkerIndex construction,
// reproduced in C++ against a store of this project (the baseline of bench/index; see
// README.md next to this file and reference/original-mixtera.md §1.10, §2.2).
//
//   index_baseline DIR [--where SQL] [--properties a,b,...] [--threads N]
//                  [--duckdb-threads N] [--memory-limit SIZE] [--print-keys K]
//   index_baseline --version          (prints the DuckDB version)
//
// What it does, as the original does it:
//  1. Base query over the decoded `samples` view: SELECT dataset, file_id, sample_id and the
//     property columns [WHERE SQL]. The original selects `*`; here only the categorical
//     properties (string, enum, string_list: the only property types the original supports,
//     so numeric ones like `score` could not exist in its store) take part, unless
//     --properties names others. Each such column is a grouping column, so the components
//     are the distinct combinations of these properties. Unlike the original's VARCHAR/ENUM
//     columns, this store keeps dictionary codes, so the view decodes them (a list lookup per
//     value), and it has the dataset name where the original had an INTEGER dataset_id
//     (mapped back to the id while fetching).
//  2. The original's gaps-and-islands query, verbatim (mixtera/core/query/query.py):
//     grouping columns dataset, file_id and the property columns sorted alphabetically;
//     LAG diff per partition ordered by sample_id, a GROUP BY per row, a running SUM of
//     diff != 1 as group_id, one row per island with interval_start = MIN(sample_id),
//     interval_end = MAX(sample_id) + 1, ordered by the grouping columns and interval_start.
//  3. The result is fetched into Arrow-like record batches (columnar; strings as offsets +
//     bytes; up to 1,000,000 rows per batch, the batch size of DuckDB's fetch_arrow_table),
//     as `fetch_arrow_table()` does.
//  4. create_chunker_index_cpp: the batches are split into contiguous ranges, one per thread;
//     each thread builds a private hash map key -> dataset_id -> file_id -> vector of
//     (start, end), the key being "prop:value" pairs joined by ';' (list items joined by ',';
//     NULLs skipped), releasing each batch after processing it; the per-thread maps are
//     merged in thread order (concatenate + inplace_merge). std::unordered_map stands in for
//     absl::flat_hash_map. The original's final step, converting the map into a Python dict of
//     MixtureKey objects, and its progress bars are not reproduced, so the map build is a
//     lower bound of the original's.
//
// Threads: DuckDB uses its default (all cores) unless --duckdb-threads is given (the original
// configured cores - 4); the map build uses --threads (default: the usable cores). DuckDB's
// memory limit is the original's, 66% of the physical memory, unless --memory-limit is given
// (DuckDB syntax, e.g. 8GB); past it DuckDB spills to its temporary directory.
// The store is opened read-only; extension autoinstall/autoload are off.
//
// Output: one JSON line on stdout with open_s (opening DuckDB), query_s (query + fetch),
// build_s (map build + merge), total_s (all three), components (keys of the map),
// intervals, samples (sum of interval lengths), result_rows, threads, duckdb_threads,
// duckdb_memory_limit, duckdb_version, group_by, where, peak_rss_bytes (getrusage
// ru_maxrss). The process exits without freeing the map (the original hands it over to
// Python). Exit status 0 on success, 1 on an error, 2 on a usage error.
#include <duckdb.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

// The original's types (chunker.hpp), with std::unordered_map for absl::flat_hash_map.
using MixtureKeyCpp = std::string;
using Interval = std::pair<int64_t, int64_t>;
using FileIntervals = std::unordered_map<int64_t, std::vector<Interval>>;
using DatasetFiles = std::unordered_map<int64_t, FileIntervals>;
using ChunkerIndexCpp = std::unordered_map<MixtureKeyCpp, DatasetFiles>;

constexpr int64_t kRowsPerBatch = 1000000;  // DuckDB's fetch_arrow_table default batch size

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "index_baseline: %s\n", msg.c_str());
  std::exit(1);
}

// An Arrow-like string column (Arrow's `string`: int32 offsets): item i is
// data[offsets[i], offsets[i+1]), NULL when !valid[i].
struct StringColumn {
  std::vector<int32_t> offsets{0};
  std::string data;
  std::vector<uint8_t> valid;

  void Append(const char* p, size_t n) {
    data.append(p, n);
    if (data.size() > static_cast<size_t>(INT32_MAX)) Die("a string column exceeds 2 GiB");
    offsets.push_back(static_cast<int32_t>(data.size()));
    valid.push_back(1);
  }
  void AppendNull() {
    offsets.push_back(static_cast<int32_t>(data.size()));
    valid.push_back(0);
  }
  std::string GetString(int64_t i) const {
    return data.substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
};

// One record batch of the interval table. `props` follow the sorted property columns.
struct RecordBatch {
  int64_t num_rows = 0;
  std::vector<int64_t> dataset_id, file_id, interval_start, interval_end;
  std::vector<StringColumn> props;
};

struct Options {
  std::string dir;
  std::string where;
  std::vector<std::string> properties;  // empty: the categorical properties of the store
  int threads = 0;
  int duckdb_threads = 0;
  std::string memory_limit;  // empty: 66% of the physical memory, as the original
  int print_keys = 0;
};

int Usage() {
  std::fprintf(stderr,
               "usage: index_baseline DIR [--where SQL] [--properties a,b,...] [--threads N] "
               "[--duckdb-threads N] [--memory-limit SIZE] [--print-keys K]\n");
  return 2;
}

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string Quote(const std::string& id) {
  std::string out = "\"";
  for (char c : id) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// Runs a small query and returns its rows as strings (NULL as "").
std::vector<std::vector<std::string>> SmallQuery(duckdb_connection con, const std::string& sql) {
  duckdb_result r;
  if (duckdb_query(con, sql.c_str(), &r) == DuckDBError) {
    std::string err = duckdb_result_error(&r) ? duckdb_result_error(&r) : "unknown error";
    duckdb_destroy_result(&r);
    Die("query failed: " + err + "\n  " + sql);
  }
  std::vector<std::vector<std::string>> rows;
  for (idx_t row = 0; row < duckdb_row_count(&r); ++row) {
    std::vector<std::string> cols;
    for (idx_t c = 0; c < duckdb_column_count(&r); ++c) {
      char* v = duckdb_value_varchar(&r, c, row);
      cols.emplace_back(v ? v : "");
      if (v) duckdb_free(v);
    }
    rows.push_back(std::move(cols));
  }
  duckdb_destroy_result(&r);
  return rows;
}

// The original's gaps-and-islands query (query.py, Query.execute), with `base_query` and the
// grouping columns (dataset, file_id, sorted properties) filled in.
std::string GapsAndIslandsSql(const std::string& base_query,
                              const std::vector<std::string>& group_cols) {
  const std::string partition_clause = Join(group_cols, ", ");
  return "WITH base_data AS (\n    " + base_query +
         "\n),\n"
         "grouped_samples AS (\n"
         "    SELECT\n"
         "        *,\n"
         "        sample_id - LAG(sample_id, 1, sample_id)\n"
         "            OVER (PARTITION BY " +
         partition_clause +
         " ORDER BY sample_id) AS diff\n"
         "    FROM base_data\n"
         "),\n"
         "intervals AS (\n"
         "    SELECT\n"
         "        " +
         partition_clause +
         ",\n"
         "        SUM(CASE WHEN diff != 1 THEN 1 ELSE 0 END)\n"
         "            OVER (PARTITION BY " +
         partition_clause +
         " ORDER BY sample_id) AS group_id,\n"
         "        MIN(sample_id) as interval_start,\n"
         "        MAX(sample_id) + 1 as interval_end\n"
         "    FROM grouped_samples\n"
         "    GROUP BY " +
         partition_clause +
         ", diff, sample_id\n"
         ")\n"
         "SELECT\n"
         "    " +
         partition_clause +
         ",\n"
         "    group_id,\n"
         "    MIN(interval_start) as interval_start,\n"
         "    MAX(interval_end) as interval_end\n"
         "FROM intervals\n"
         "GROUP BY " +
         partition_clause +
         ", group_id\n"
         "ORDER BY " +
         partition_clause + ", interval_start\n";
}

// Reads row `row` of an integer vector of DuckDB type `type` as int64.
int64_t ReadInt(duckdb_type type, void* data, idx_t row) {
  switch (type) {
    case DUCKDB_TYPE_BIGINT:
      return static_cast<int64_t*>(data)[row];
    case DUCKDB_TYPE_INTEGER:
      return static_cast<int32_t*>(data)[row];
    case DUCKDB_TYPE_HUGEINT:
      return static_cast<int64_t>(static_cast<duckdb_hugeint*>(data)[row].lower);
    default:
      Die("unexpected integer column type " + std::to_string(static_cast<int>(type)));
  }
}

// process_batch of the original: one row -> key string -> map entry.
void ProcessBatch(const RecordBatch& batch, const std::vector<std::string>& property_columns,
                  ChunkerIndexCpp& local_chunker_index) {
  for (int64_t i = 0; i < batch.num_rows; ++i) {
    std::string key;
    bool first_prop = true;
    for (size_t j = 0; j < property_columns.size(); ++j) {
      const StringColumn& array = batch.props[j];
      if (!array.valid[i]) continue;
      if (!first_prop) key += ";";
      first_prop = false;
      key += property_columns[j] + ":";
      std::string value = array.GetString(i);
      key += value;
    }
    int64_t interval_start = batch.interval_start[i];
    int64_t interval_end = batch.interval_end[i];
    if (interval_end < interval_start) continue;  // the original warns and skips
    Interval interval = {interval_start, interval_end};
    local_chunker_index[key][batch.dataset_id[i]][batch.file_id[i]].push_back(interval);
  }
}

// merge_sorted_intervals_inplace + merge_chunker_indices of the original.
void MergeChunkerIndices(std::vector<ChunkerIndexCpp>& thread_indices,
                         ChunkerIndexCpp& merged_index) {
  for (auto& local_index : thread_indices) {
    for (auto& [key, datasets] : local_index) {
      auto& target_datasets = merged_index[key];
      for (auto& [dataset_id, files] : datasets) {
        auto& target_files = target_datasets[dataset_id];
        for (auto& [file_id, intervals] : files) {
          auto& target = target_files[file_id];
          if (target.empty()) {
            target = std::move(intervals);
          } else {
            size_t m = target.size();
            target.reserve(m + intervals.size());
            target.insert(target.end(), std::make_move_iterator(intervals.begin()),
                          std::make_move_iterator(intervals.end()));
            intervals.clear();
            intervals.shrink_to_fit();
            std::inplace_merge(target.begin(), target.begin() + static_cast<int64_t>(m),
                               target.end());
          }
        }
        files = FileIntervals();
      }
      datasets = DatasetFiles();
    }
    local_index = ChunkerIndexCpp();
  }
  thread_indices.clear();
  thread_indices.shrink_to_fit();
}

}  // namespace

int main(int argc, char** argv) {
  const auto t_start = std::chrono::steady_clock::now();
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) std::exit(Usage());
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else if (arg == "--version") {
      std::printf("%s\n", duckdb_library_version());
      return 0;
    } else if (arg == "--where") {
      o.where = value();
    } else if (arg == "--properties") {
      std::string list = value();
      size_t pos = 0;
      while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        if (comma > pos) o.properties.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else if (arg == "--threads") {
      o.threads = std::atoi(value().c_str());
    } else if (arg == "--memory-limit") {
      o.memory_limit = value();
    } else if (arg == "--duckdb-threads") {
      o.duckdb_threads = std::atoi(value().c_str());
    } else if (arg == "--print-keys") {
      o.print_keys = std::atoi(value().c_str());
    } else if (arg.rfind("--", 0) == 0 || !o.dir.empty()) {
      return Usage();
    } else {
      o.dir = arg;
    }
  }
  if (o.dir.empty()) return Usage();
  if (o.threads <= 0) {
    cpu_set_t set;
    o.threads = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    if (o.threads < 1) o.threads = 1;
  }

  // --- open --------------------------------------------------------------------------
  const std::string db_path = o.dir + "/mixtera.duckdb";
  if (access(db_path.c_str(), R_OK) != 0) Die(db_path + " not found: not a Mixtera directory");
  duckdb_config config = nullptr;
  duckdb_create_config(&config);
  duckdb_set_config(config, "access_mode", "READ_ONLY");
  duckdb_set_config(config, "autoinstall_known_extensions", "false");
  duckdb_set_config(config, "autoload_known_extensions", "false");
  if (o.duckdb_threads > 0) {
    duckdb_set_config(config, "threads", std::to_string(o.duckdb_threads).c_str());
  }
  if (o.memory_limit.empty()) {
    const double ram =
        static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
    o.memory_limit = std::to_string(static_cast<int64_t>(ram * 0.66 / (1 << 20))) + "MiB";
  }
  if (duckdb_set_config(config, "memory_limit", o.memory_limit.c_str()) == DuckDBError) {
    Die("invalid --memory-limit " + o.memory_limit);
  }
  duckdb_database db = nullptr;
  char* open_error = nullptr;
  if (duckdb_open_ext(db_path.c_str(), &db, config, &open_error) == DuckDBError) {
    std::string err = open_error ? open_error : "unknown error";
    if (open_error) duckdb_free(open_error);
    Die("cannot open " + db_path + ": " + err);
  }
  duckdb_destroy_config(&config);
  duckdb_connection con = nullptr;
  if (duckdb_connect(db, &con) == DuckDBError) Die("cannot connect");
  const double open_s = Since(t_start);

  // --- query + fetch ---------------------------------------------------------------------
  const auto t_query = std::chrono::steady_clock::now();
  const int duckdb_threads =
      std::atoi(SmallQuery(con, "SELECT current_setting('threads')")[0][0].c_str());
  // dataset name -> dataset_id (the original's samples table has dataset_id itself).
  std::unordered_map<std::string, int64_t> dataset_ids;
  for (const auto& row : SmallQuery(con, "SELECT name, dataset_id FROM datasets")) {
    dataset_ids[row[0]] = std::strtoll(row[1].c_str(), nullptr, 10);
  }
  std::vector<std::string> props = o.properties;
  if (props.empty()) {
    for (const auto& row : SmallQuery(con,
                                      "SELECT DISTINCT name FROM properties WHERE type IN "
                                      "('string', 'enum', 'string_list')")) {
      props.push_back(row[0]);
    }
  }
  if (props.empty()) Die("the store has no categorical properties");
  std::sort(props.begin(), props.end());  // the original sorts the property columns

  std::vector<std::string> group_cols = {"dataset", "file_id"};
  std::vector<std::string> quoted_props;
  for (const auto& p : props) quoted_props.push_back(Quote(p));
  group_cols.insert(group_cols.end(), quoted_props.begin(), quoted_props.end());
  const std::string base_query = "SELECT dataset, file_id, sample_id, " + Join(quoted_props, ", ") +
                                 " FROM samples" + (o.where.empty() ? "" : " WHERE " + o.where);
  const std::string sql = GapsAndIslandsSql(base_query, group_cols);

  duckdb_prepared_statement stmt = nullptr;
  if (duckdb_prepare(con, sql.c_str(), &stmt) == DuckDBError) {
    Die(std::string("cannot prepare the query: ") + duckdb_prepare_error(stmt) + "\n" + sql);
  }
  duckdb_pending_result pending = nullptr;
  if (duckdb_pending_prepared_streaming(stmt, &pending) == DuckDBError) {
    Die(std::string("cannot start the query: ") + duckdb_pending_error(pending));
  }
  duckdb_result result;
  if (duckdb_execute_pending(pending, &result) == DuckDBError) {
    Die(std::string("query failed: ") + duckdb_result_error(&result));
  }
  // Result columns: group cols..., group_id, interval_start, interval_end.
  const idx_t ncols = duckdb_column_count(&result);
  const idx_t first_prop_col = 2;
  const idx_t start_col = ncols - 2, end_col = ncols - 1;
  if (ncols != group_cols.size() + 3) Die("unexpected result shape");
  const duckdb_type file_type = duckdb_column_type(&result, 1);
  const duckdb_type start_type = duckdb_column_type(&result, start_col);
  const duckdb_type end_type = duckdb_column_type(&result, end_col);
  for (idx_t c = 0; c < props.size(); ++c) {
    if (duckdb_column_type(&result, first_prop_col + c) != DUCKDB_TYPE_VARCHAR) {
      Die("property column '" + props[c] + "' is not VARCHAR (lists are not supported here)");
    }
  }

  std::vector<std::unique_ptr<RecordBatch>> batches;
  int64_t result_rows = 0;
  int64_t cached_dataset_id = -1;
  std::string cached_dataset;
  while (true) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(result);
    if (chunk == nullptr) break;
    const idx_t n = duckdb_data_chunk_get_size(chunk);
    if (n == 0) {
      duckdb_destroy_data_chunk(&chunk);
      break;
    }
    if (batches.empty() || batches.back()->num_rows + static_cast<int64_t>(n) > kRowsPerBatch) {
      batches.push_back(std::make_unique<RecordBatch>());
      batches.back()->props.resize(props.size());
    }
    RecordBatch& b = *batches.back();
    auto* ds = static_cast<duckdb_string_t*>(
        duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0)));
    void* file_data = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 1));
    void* start_data = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, start_col));
    void* end_data = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, end_col));
    for (idx_t r = 0; r < n; ++r) {
      std::string name(duckdb_string_t_data(&ds[r]), duckdb_string_t_length(ds[r]));
      if (name != cached_dataset) {
        cached_dataset = name;
        cached_dataset_id = dataset_ids.at(name);
      }
      b.dataset_id.push_back(cached_dataset_id);
      b.file_id.push_back(ReadInt(file_type, file_data, r));
      b.interval_start.push_back(ReadInt(start_type, start_data, r));
      b.interval_end.push_back(ReadInt(end_type, end_data, r));
    }
    for (size_t c = 0; c < props.size(); ++c) {
      duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, first_prop_col + c);
      auto* strs = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vec));
      uint64_t* validity = duckdb_vector_get_validity(vec);
      StringColumn& col = b.props[c];
      for (idx_t r = 0; r < n; ++r) {
        if (validity != nullptr && !duckdb_validity_row_is_valid(validity, r)) {
          col.AppendNull();
        } else {
          col.Append(duckdb_string_t_data(&strs[r]), duckdb_string_t_length(strs[r]));
        }
      }
    }
    b.num_rows += static_cast<int64_t>(n);
    result_rows += static_cast<int64_t>(n);
    duckdb_destroy_data_chunk(&chunk);
  }
  if (duckdb_result_error(&result) != nullptr) {
    Die(std::string("fetching the result failed: ") + duckdb_result_error(&result));
  }
  duckdb_destroy_result(&result);
  duckdb_destroy_pending(&pending);
  duckdb_destroy_prepare(&stmt);
  const double query_s = Since(t_query);

  // --- create_chunker_index ------------------------------------------------------------
  const auto t_build = std::chrono::steady_clock::now();
  // Property column names as the original's key uses them (unquoted).
  std::vector<ChunkerIndexCpp> thread_indices(o.threads);
  {
    const auto num_batches = static_cast<int64_t>(batches.size());
    const int64_t per_thread = (num_batches + o.threads - 1) / o.threads;
    std::vector<std::thread> threads;
    for (int t = 0; t < o.threads; ++t) {
      const int64_t begin = t * per_thread;
      const int64_t end = std::min(begin + per_thread, num_batches);
      if (begin >= end) continue;
      threads.emplace_back([&, begin, end, t]() {
        for (int64_t bi = begin; bi < end; ++bi) {
          ProcessBatch(*batches[bi], props, thread_indices[t]);
          batches[bi].reset();  // the original releases each batch after processing it
        }
      });
    }
    for (auto& th : threads) th.join();
    batches.clear();
  }
  ChunkerIndexCpp merged;
  if (thread_indices.size() == 1) {
    merged = std::move(thread_indices[0]);
  } else {
    MergeChunkerIndices(thread_indices, merged);
  }
  const double build_s = Since(t_build);
  const double total_s = Since(t_start);

  int64_t intervals = 0, samples = 0;
  for (const auto& [key, datasets] : merged) {
    for (const auto& [dataset_id, files] : datasets) {
      for (const auto& [file_id, ivs] : files) {
        intervals += static_cast<int64_t>(ivs.size());
        for (const auto& iv : ivs) samples += iv.second - iv.first;
      }
    }
  }
  if (o.print_keys > 0) {
    std::vector<std::string> keys;
    for (const auto& kv : merged) keys.push_back(kv.first);
    std::sort(keys.begin(), keys.end());
    for (int i = 0; i < o.print_keys && i < static_cast<int>(keys.size()); ++i) {
      std::fprintf(stderr, "key %s\n", keys[i].c_str());
    }
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::vector<std::string> group_json;
  for (const auto& g : std::vector<std::string>{"dataset", "file_id"}) {
    group_json.push_back(JsonString(g));
  }
  for (const auto& p : props) group_json.push_back(JsonString(p));
  std::printf(
      "{\"open_s\":%.6f,\"query_s\":%.6f,\"build_s\":%.6f,\"total_s\":%.6f,\"components\":%zu,"
      "\"intervals\":%" PRId64 ",\"samples\":%" PRId64 ",\"result_rows\":%" PRId64
      ",\"threads\":%d,\"duckdb_threads\":%d,\"duckdb_memory_limit\":%s,\"duckdb_version\":%s,"
      "\"group_by\":[%s],"
      "\"where\":%s,"
      "\"peak_rss_bytes\":%lld}\n",
      open_s, query_s, build_s, total_s, merged.size(), intervals, samples, result_rows, o.threads,
      duckdb_threads, JsonString(o.memory_limit).c_str(),
      JsonString(duckdb_library_version()).c_str(), Join(group_json, ",").c_str(),
      JsonString(o.where).c_str(), static_cast<long long>(ru.ru_maxrss) * 1024);
  std::fflush(stdout);
  // Like the original (which hands the map to Python), the map is not freed here; exit now
  // so the destructor of millions of small vectors does not count against the baseline.
  _exit(0);
}
