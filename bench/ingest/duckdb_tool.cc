// duckdb_tool: runs SQL statements against a DuckDB database through DuckDB's C API.
//
// Used by bench/ingest to (1) convert the JSONL corpus to Parquet and (2) time DuckDB's own
// JSON ingest (read_json + CREATE TABLE AS / INSERT ... SELECT) as the baseline that
// `mixtera register` is compared against. It is a benchmark peer, not part of Mixtera, so it
// talks to duckdb.h directly rather than through src/duckdb.
//
//   duckdb_tool [--threads N] [--memory-limit SIZE] DB_FILE SQL [SQL ...]
//
// DB_FILE may be ":memory:". Statements run in order; the rows of every result that has
// rows are printed to stdout, tab-separated, one line per row. Extension auto-install and
// auto-load are off (no network; only what is statically in libduckdb.so). Exit 0 on
// success, 1 on a SQL error (message on stderr), 2 on a usage error.
#include <duckdb.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: duckdb_tool [--threads N] [--memory-limit SIZE] DB_FILE SQL [SQL ...]\n");
  return 2;
}

bool SetConfig(duckdb_config config, const char* name, const std::string& value) {
  if (duckdb_set_config(config, name, value.c_str()) == DuckDBError) {
    std::fprintf(stderr, "duckdb_tool: cannot set %s=%s\n", name, value.c_str());
    return false;
  }
  return true;
}

void PrintRows(duckdb_result* result) {
  idx_t cols = duckdb_column_count(result);
  idx_t rows = duckdb_row_count(result);
  for (idx_t r = 0; r < rows; ++r) {
    for (idx_t c = 0; c < cols; ++c) {
      char* v = duckdb_value_varchar(result, c, r);
      std::fputs(v != nullptr ? v : "NULL", stdout);
      std::fputc(c + 1 < cols ? '\t' : '\n', stdout);
      if (v != nullptr) duckdb_free(v);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string threads;
  std::string memory_limit;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--threads" || arg == "--memory-limit") && i + 1 < argc) {
      (arg == "--threads" ? threads : memory_limit) = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else if (arg.rfind("--", 0) == 0) {
      return Usage();
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() < 2) return Usage();

  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) {
    std::fprintf(stderr, "duckdb_tool: cannot create a config\n");
    return 1;
  }
  bool ok = SetConfig(config, "autoinstall_known_extensions", "false") &&
            SetConfig(config, "autoload_known_extensions", "false");
  if (ok && !threads.empty()) ok = SetConfig(config, "threads", threads);
  if (ok && !memory_limit.empty()) ok = SetConfig(config, "memory_limit", memory_limit);
  if (!ok) {
    duckdb_destroy_config(&config);
    return 2;
  }

  duckdb_database db = nullptr;
  char* open_error = nullptr;
  const char* path = positional[0] == ":memory:" ? nullptr : positional[0].c_str();
  if (duckdb_open_ext(path, &db, config, &open_error) == DuckDBError) {
    std::fprintf(stderr, "duckdb_tool: cannot open %s: %s\n", positional[0].c_str(),
                 open_error != nullptr ? open_error : "unknown error");
    if (open_error != nullptr) duckdb_free(open_error);
    duckdb_destroy_config(&config);
    return 1;
  }
  duckdb_destroy_config(&config);

  duckdb_connection con = nullptr;
  if (duckdb_connect(db, &con) == DuckDBError) {
    std::fprintf(stderr, "duckdb_tool: cannot connect\n");
    duckdb_close(&db);
    return 1;
  }

  int rc = 0;
  for (size_t i = 1; i < positional.size() && rc == 0; ++i) {
    duckdb_result result;
    if (duckdb_query(con, positional[i].c_str(), &result) == DuckDBError) {
      const char* err = duckdb_result_error(&result);
      std::fprintf(stderr, "duckdb_tool: error in statement %zu: %s\n", i,
                   err != nullptr ? err : "unknown error");
      rc = 1;
    } else {
      PrintRows(&result);
    }
    duckdb_destroy_result(&result);
  }
  std::fflush(stdout);
  duckdb_disconnect(&con);
  duckdb_close(&db);
  return rc;
}
