#include "formats/parquet_scanner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "duckdb/connection.h"
#include "testing/test_util.h"

namespace mixtera::formats {
namespace {

using ::mixtera::testing::TempDir;
using model::PropertySchema;
using model::PropertyType;
using model::SampleBatch;

PropertySchema Prop(const std::string& name, PropertyType type, const std::string& field,
                    bool nullable = false, std::vector<std::string> values = {}) {
  PropertySchema p;
  p.name = name;
  p.type = type;
  p.field = field;
  p.nullable = nullable;
  p.enum_values = std::move(values);
  return p;
}

class ParquetScannerTest : public ::testing::Test {
 protected:
  // Writes `select` to `name` as Parquet with DuckDB's COPY; returns the path.
  std::string Write(const std::string& name, const std::string& select,
                    const std::string& copy_options = "") {
    std::string path = dir_.Join(name);
    auto db = duckdb::Database::Open(":memory:", duckdb::DatabaseOptions{"256MB", 1});
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    auto conn = db->Connect();
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    Status st = conn->Execute("COPY (" + select + ") TO " + duckdb::QuoteLiteral(path) +
                              " (FORMAT parquet" + copy_options + ")");
    EXPECT_TRUE(st.ok()) << st.ToString();
    return path;
  }

  // Scans the whole file; bad rows are recorded and skipped.
  Status ScanAll(ParquetScanner* scanner, SampleBatch* out, std::vector<Status>* bad = nullptr) {
    auto handler = [bad](int64_t /*row*/, const Status& error) {
      if (bad == nullptr) return error;
      bad->push_back(error);
      return Status::OK();
    };
    for (int guard = 0; guard < 100000; ++guard) {
      auto more = scanner->Next(out, handler);
      if (!more.ok()) return more.status();
      if (!*more) return Status::OK();
    }
    return Status::Internal("scanner never ended");
  }

  TempDir dir_;
};

TEST_F(ParquetScannerTest, ReadsEveryPropertyType) {
  std::string path = Write(
      "all.parquet",
      "SELECT i AS id, 'lang' || (i % 2) AS lang, CASE WHEN i % 2 = 0 THEN 'MIT' ELSE 'GPL' END "
      "AS lic, i * 10 AS n, (i * 3)::SMALLINT AS small, i / 4 AS f, i % 3 = 0 AS b, "
      "['x', 'tag' || i] AS tags, 'solo' AS single, CASE WHEN i = 2 THEN NULL ELSE i END AS maybe,"
      " 'body ' || i AS text FROM range(5) t(i)");
  std::vector<PropertySchema> props = {
      Prop("lang", PropertyType::kString, "lang"),
      Prop("license", PropertyType::kEnum, "lic", false, {"MIT", "GPL"}),
      Prop("n", PropertyType::kInt, "n"),
      Prop("small", PropertyType::kInt, "small"),
      Prop("f", PropertyType::kFloat, "f"),
      Prop("n_as_float", PropertyType::kFloat, "n"),
      Prop("b", PropertyType::kBool, "b"),
      Prop("tags", PropertyType::kStringList, "tags"),
      Prop("single", PropertyType::kStringList, "single"),
      Prop("maybe", PropertyType::kInt, "maybe", true),
  };
  ASSERT_OK_AND_ASSIGN(auto scanner, ParquetScanner::Open(path, 7, props, {"text"}));
  SampleBatch batch;
  ASSERT_OK(ScanAll(scanner.get(), &batch));
  EXPECT_EQ(scanner->num_rows(), 5);
  EXPECT_EQ(scanner->num_skipped(), 0);
  ASSERT_EQ(batch.num_rows(), 5u);
  EXPECT_EQ(batch.file_id, 7);
  EXPECT_EQ(batch.sample_ids, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  ASSERT_EQ(batch.columns.size(), props.size());
  EXPECT_EQ(batch.columns[0].string_at(1), "lang1");
  EXPECT_EQ(batch.columns[1].string_at(2), "MIT");
  EXPECT_EQ(batch.columns[2].int_at(3), 30);
  EXPECT_EQ(batch.columns[3].int_at(4), 12);
  EXPECT_EQ(batch.columns[4].float_at(2), 0.5);
  EXPECT_EQ(batch.columns[5].float_at(4), 40.0);
  EXPECT_TRUE(batch.columns[6].bool_at(3));
  EXPECT_FALSE(batch.columns[6].bool_at(1));
  ASSERT_EQ(batch.columns[7].list_size(4), 2u);
  EXPECT_EQ(batch.columns[7].list_item(4, 1), "tag4");
  ASSERT_EQ(batch.columns[8].list_size(0), 1u);
  EXPECT_EQ(batch.columns[8].list_item(0, 0), "solo");
  EXPECT_FALSE(batch.columns[9].is_valid(2));
  EXPECT_EQ(batch.columns[9].int_at(3), 3);

  // Exhausted: later calls keep returning false.
  auto more = scanner->Next(&batch, [](int64_t, const Status& e) { return e; });
  ASSERT_OK(more);
  EXPECT_FALSE(*more);
}

TEST_F(ParquetScannerTest, RowNumbersAcrossRowGroupsAndCalls) {
  const int64_t n = 10000;
  std::string path = Write("groups.parquet",
                           "SELECT i AS v, CASE WHEN i % 1000 = 7 THEN NULL ELSE 'ok' END AS s "
                           "FROM range(" +
                               std::to_string(n) + ") t(i)",
                           ", ROW_GROUP_SIZE 1000");
  std::vector<PropertySchema> props = {Prop("v", PropertyType::kInt, "v"),
                                       Prop("s", PropertyType::kString, "s")};
  ASSERT_OK_AND_ASSIGN(auto scanner,
                       ParquetScanner::Open(path, 1, props, {}, /*max_rows_per_call=*/3000));
  SampleBatch batch(1, props);
  std::vector<int64_t> bad_rows;
  auto handler = [&](int64_t row, const Status& error) {
    EXPECT_EQ(error.code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(error.message(),
                ::testing::HasSubstr("groups.parquet: row " + std::to_string(row)));
    bad_rows.push_back(row);
    return Status::OK();
  };
  size_t calls = 0;
  while (true) {
    size_t before = batch.num_rows();
    ASSERT_OK_AND_ASSIGN(bool more, scanner->Next(&batch, handler));
    EXPECT_LE(batch.num_rows() - before, 3000u);
    ++calls;
    if (!more) break;
  }
  EXPECT_GE(calls, 4u);
  EXPECT_EQ(scanner->num_rows(), n);
  EXPECT_EQ(scanner->num_skipped(), 10);
  EXPECT_EQ(bad_rows.size(), 10u);
  ASSERT_EQ(batch.num_rows(), static_cast<size_t>(n - 10));
  size_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 1000 == 7) continue;
    ASSERT_EQ(batch.sample_ids[k], i);
    ASSERT_EQ(batch.columns[0].int_at(k), i);
    ASSERT_EQ(batch.columns[1].string_at(k), "ok");
    ++k;
  }
}

TEST_F(ParquetScannerTest, BadRowsRollBackAndCanStop) {
  std::string path = Write(
      "bad.parquet",
      "SELECT * FROM (VALUES ('MIT', 'a', ['x']), ('WTFPL', 'b', ['y']), ('GPL', NULL, ['z']),"
      " ('MIT', 'c', ['p', NULL]), ('GPL', 'd', ['q'])) t(lic, name, tags)");
  std::vector<PropertySchema> props = {
      Prop("tags", PropertyType::kStringList, "tags"),
      Prop("license", PropertyType::kEnum, "lic", false, {"MIT", "GPL"}),
      Prop("name", PropertyType::kString, "name"),
  };
  {
    ASSERT_OK_AND_ASSIGN(auto scanner, ParquetScanner::Open(path, 0, props, {}));
    SampleBatch batch;
    std::vector<Status> bad;
    ASSERT_OK(ScanAll(scanner.get(), &batch, &bad));
    ASSERT_EQ(bad.size(), 3u);
    EXPECT_THAT(bad[0].message(),
                ::testing::HasSubstr("row 1: property 'license' has value \"WTFPL\""));
    EXPECT_THAT(bad[1].message(), ::testing::HasSubstr("row 2: property 'name' is NULL"));
    EXPECT_THAT(bad[2].message(),
                ::testing::HasSubstr("row 3: property 'tags' has a NULL list item"));
    for (const auto& b : bad) EXPECT_EQ(b.code(), StatusCode::kInvalidArgument);
    // The partial rows (tags were extracted before the failing column) are gone.
    ASSERT_EQ(batch.num_rows(), 2u);
    EXPECT_EQ(batch.sample_ids, (std::vector<int64_t>{0, 4}));
    for (const auto& c : batch.columns) EXPECT_EQ(c.size(), 2u);
    EXPECT_EQ(batch.columns[0].list_item(1, 0), "q");
    EXPECT_EQ(batch.columns[2].string_at(1), "d");
    EXPECT_EQ(scanner->num_skipped(), 3);
    EXPECT_EQ(scanner->num_rows(), 5);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto scanner, ParquetScanner::Open(path, 0, props, {}));
    SampleBatch batch;
    auto stop = [](int64_t row, const Status& /*error*/) {
      return Status::InvalidArgument("stop at row " + std::to_string(row));
    };
    EXPECT_STATUS(scanner->Next(&batch, stop), StatusCode::kInvalidArgument, "stop at row 1");
    EXPECT_EQ(batch.num_rows(), 1u);
    for (const auto& c : batch.columns) EXPECT_EQ(c.size(), 1u);
  }
}

TEST_F(ParquetScannerTest, SchemaErrorsNameFileAndColumn) {
  std::string path = Write("s.parquet",
                           "SELECT 1 AS n, 'x' AS s, 2.5 AS dec, 1.5::DOUBLE AS d, true AS b, "
                           "[1, 2] AS ints, DATE '2024-01-01' AS dt");
  struct Case {
    PropertySchema prop;
    std::string expected;
  };
  std::vector<Case> cases = {
      {Prop("a", PropertyType::kString, "nope"), "no column 'nope' for property 'a'"},
      {Prop("a", PropertyType::kString, "n"),
       "column 'n' for string property 'a' has type INTEGER"},
      {Prop("a", PropertyType::kEnum, "b", false, {"x"}), "has type BOOLEAN; expected VARCHAR"},
      {Prop("a", PropertyType::kInt, "d"), "column 'd' for int property 'a' has type DOUBLE"},
      {Prop("a", PropertyType::kInt, "s"), "has type VARCHAR; expected an integer type"},
      {Prop("a", PropertyType::kFloat, "dec"), "has type DECIMAL"},
      {Prop("a", PropertyType::kBool, "n"), "expected BOOLEAN"},
      {Prop("a", PropertyType::kStringList, "ints"), "has type INTEGER[]"},
      {Prop("a", PropertyType::kString, "dt"), "has type DATE"},
  };
  for (const auto& c : cases) {
    Status st = ParquetScanner::Open(path, 0, {c.prop}, {}).status();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_THAT(st.message(), ::testing::HasSubstr(c.expected));
    EXPECT_THAT(st.message(), ::testing::HasSubstr(path));
  }
  EXPECT_STATUS(ParquetScanner::Open(path, 0, {}, {"body"}), StatusCode::kInvalidArgument,
                "no column 'body' for the text");
  EXPECT_STATUS(ParquetScanner::Open(path, 0, {}, {"n"}), StatusCode::kInvalidArgument,
                "text column 'n' has type INTEGER");
  // Empty field: the property name is the column.
  ASSERT_OK(ParquetScanner::Open(path, 0, {Prop("s", PropertyType::kString, "")}, {"s"}));
}

TEST_F(ParquetScannerTest, MissingAndCorruptFiles) {
  EXPECT_STATUS(ParquetScanner::Open(dir_.Join("missing.parquet"), 0, {}, {}),
                StatusCode::kNotFound, "missing.parquet");
  ::mixtera::testing::WriteFile(dir_.Join("text.parquet"), "this is not parquet at all");
  EXPECT_STATUS(ParquetScanner::Open(dir_.Join("text.parquet"), 0, {}, {}), StatusCode::kCorruption,
                "text.parquet");

  // A real file cut in half has no footer.
  std::string path = Write("real.parquet", "SELECT i, 'v' || i AS s FROM range(1000) t(i)");
  std::string bytes = ::mixtera::testing::ReadFile(path);
  ::mixtera::testing::WriteFile(dir_.Join("cut.parquet"), bytes.substr(0, bytes.size() / 2));
  EXPECT_STATUS(ParquetScanner::Open(dir_.Join("cut.parquet"), 0, {}, {}), StatusCode::kCorruption,
                "cut.parquet");

  // Damaged data pages with an intact footer: the error comes from Next().
  std::string big = Write("big.parquet", "SELECT i, md5(i::VARCHAR) AS s FROM range(200000) t(i)",
                          ", COMPRESSION uncompressed");
  std::string data = ::mixtera::testing::ReadFile(big);
  for (size_t i = 64; i + 64 < data.size() / 2; i += 97) data[i] = static_cast<char>(0xff);
  ::mixtera::testing::WriteFile(dir_.Join("damaged.parquet"), data);
  auto scanner = ParquetScanner::Open(dir_.Join("damaged.parquet"), 0,
                                      {Prop("s", PropertyType::kString, "s")}, {});
  Status st = scanner.status();
  if (scanner.ok()) {
    SampleBatch batch;
    st = ScanAll(scanner->get(), &batch);
  }
  // Either the footer check or the page decoder notices; both report Corruption.
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_THAT(st.message(), ::testing::HasSubstr("damaged.parquet"));
}

TEST_F(ParquetScannerTest, OddPathsAndColumnNames) {
  std::string path =
      Write("it's a file.parquet", "SELECT 'v' AS \"odd \"\"name\"\"\", 1 AS \"select\"");
  ASSERT_OK_AND_ASSIGN(auto scanner,
                       ParquetScanner::Open(path, 0,
                                            {Prop("a", PropertyType::kString, "odd \"name\""),
                                             Prop("b", PropertyType::kInt, "select")},
                                            {}));
  SampleBatch batch;
  ASSERT_OK(ScanAll(scanner.get(), &batch));
  ASSERT_EQ(batch.num_rows(), 1u);
  EXPECT_EQ(batch.columns[0].string_at(0), "v");
  EXPECT_EQ(batch.columns[1].int_at(0), 1);
}

TEST_F(ParquetScannerTest, NoPropertiesStillCountsRows) {
  std::string path = Write("rows.parquet", "SELECT i FROM range(4321) t(i)");
  ASSERT_OK_AND_ASSIGN(auto scanner, ParquetScanner::Open(path, 3, {}, {}));
  SampleBatch batch;
  ASSERT_OK(ScanAll(scanner.get(), &batch));
  EXPECT_EQ(scanner->num_rows(), 4321);
  EXPECT_EQ(batch.num_rows(), 4321u);
  EXPECT_EQ(batch.file_id, 3);
}

TEST_F(ParquetScannerTest, ScannersOnSeveralThreads) {
  const int kThreads = 4;
  std::vector<std::string> paths;
  for (int t = 0; t < kThreads; ++t) {
    paths.push_back(
        Write("t" + std::to_string(t) + ".parquet",
              "SELECT i + " + std::to_string(t * 100000) + " AS v FROM range(20000) t(i)",
              ", ROW_GROUP_SIZE 2048"));
  }
  std::vector<PropertySchema> props = {Prop("v", PropertyType::kInt, "v")};
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto scanner = ParquetScanner::Open(paths[t], t, props, {}, 1000);
      if (!scanner.ok()) {
        results[t] = scanner.status();
        return;
      }
      SampleBatch batch;
      results[t] = ScanAll(scanner->get(), &batch);
      if (!results[t].ok()) return;
      for (size_t i = 0; i < batch.num_rows(); ++i) {
        if (batch.sample_ids[i] != static_cast<int64_t>(i) ||
            batch.columns[0].int_at(i) != static_cast<int64_t>(i) + t * 100000) {
          results[t] = Status::Internal("wrong row " + std::to_string(i));
          return;
        }
      }
      if (batch.num_rows() != 20000u) results[t] = Status::Internal("wrong row count");
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& st : results) EXPECT_OK(st);
}

TEST_F(ParquetScannerTest, WorksInForkedChild) {
  std::string path = Write("fork.parquet", "SELECT i AS v FROM range(3000) t(i)");
  std::vector<PropertySchema> props = {Prop("v", PropertyType::kInt, "v")};
  {
    // The parent uses the shared instance before forking.
    ASSERT_OK_AND_ASSIGN(auto scanner, ParquetScanner::Open(path, 0, props, {}));
    SampleBatch batch;
    ASSERT_OK(ScanAll(scanner.get(), &batch));
  }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto scanner = ParquetScanner::Open(path, 0, props, {});
    if (!scanner.ok()) ::_exit(2);
    SampleBatch batch;
    Status st = ScanAll(scanner->get(), &batch);
    ::_exit(st.ok() && batch.num_rows() == 3000u ? 0 : 3);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

TEST_F(ParquetScannerTest, RejectsForeignBatch) {
  std::string path = Write("f.parquet", "SELECT 'x' AS s");
  std::vector<PropertySchema> props = {Prop("s", PropertyType::kString, "s")};
  ASSERT_OK_AND_ASSIGN(auto scanner, ParquetScanner::Open(path, 3, props, {}));
  SampleBatch other(4, props);
  EXPECT_STATUS(scanner->Next(&other, [](int64_t, const Status& e) { return e; }),
                StatusCode::kInvalidArgument, "not built for this file");
}

}  // namespace
}  // namespace mixtera::formats
