#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "duckdb/connection.h"
#include "testing/test_util.h"

namespace mixtera::duckdb {
namespace {

using ::mixtera::testing::TempDir;

class DuckDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(":memory:", DatabaseOptions{"256MB", 1});
    ASSERT_OK(db);
    db_.emplace(std::move(db).value());
    auto conn = db_->Connect();
    ASSERT_OK(conn);
    conn_.emplace(std::move(conn).value());
  }

  std::optional<Database> db_;
  std::optional<Connection> conn_;
};

TEST_F(DuckDbTest, QueryReadsEveryKind) {
  ASSERT_OK_AND_ASSIGN(
      QueryResult r,
      conn_->Query("SELECT 'abc' AS s, 'a string longer than twelve' AS long_s, 42::TINYINT AS i8,"
                   " -7::INTEGER AS i32, 1234567890123 AS i64, 2.5::FLOAT AS f, 0.25::DOUBLE AS d,"
                   " true AS b, ['x', NULL, 'a much longer list item'] AS l, NULL::BIGINT AS n,"
                   " DATE '2024-01-02' AS dt, 3.5::DECIMAL(4,1) AS dec"));
  ASSERT_EQ(r.column_count(), 12);
  EXPECT_EQ(r.column_name(0), "s");
  EXPECT_EQ(r.column_kind(0), ColumnKind::kString);
  EXPECT_EQ(r.column_kind(2), ColumnKind::kInteger);
  EXPECT_EQ(r.column_type_name(2), "TINYINT");
  EXPECT_EQ(r.column_kind(5), ColumnKind::kFloat);
  EXPECT_EQ(r.column_kind(6), ColumnKind::kFloat);
  EXPECT_EQ(r.column_kind(7), ColumnKind::kBoolean);
  EXPECT_EQ(r.column_kind(8), ColumnKind::kStringList);
  EXPECT_EQ(r.column_type_name(8), "VARCHAR[]");
  EXPECT_EQ(r.column_kind(10), ColumnKind::kOther);
  EXPECT_EQ(r.column_type_name(10), "DATE");
  EXPECT_EQ(r.column_kind(11), ColumnKind::kOther);
  EXPECT_EQ(ColumnKindName(ColumnKind::kStringList), "string_list");

  ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
  ASSERT_TRUE(more);
  ASSERT_EQ(r.chunk_size(), 1);
  EXPECT_EQ(r.GetString(0, 0), "abc");
  EXPECT_EQ(r.GetString(1, 0), "a string longer than twelve");
  EXPECT_EQ(r.GetInt64(2, 0), 42);
  EXPECT_EQ(r.GetInt64(3, 0), -7);
  EXPECT_EQ(r.GetInt64(4, 0), 1234567890123);
  EXPECT_EQ(r.GetDouble(4, 0), 1234567890123.0);
  EXPECT_EQ(r.GetDouble(5, 0), 2.5);
  EXPECT_EQ(r.GetDouble(6, 0), 0.25);
  EXPECT_TRUE(r.GetBool(7, 0));
  ASSERT_EQ(r.ListSize(8, 0), 3);
  EXPECT_EQ(r.GetListString(8, 0, 0), "x");
  EXPECT_TRUE(r.IsListItemNull(8, 0, 1));
  EXPECT_FALSE(r.IsListItemNull(8, 0, 2));
  EXPECT_EQ(r.GetListString(8, 0, 2), "a much longer list item");
  EXPECT_TRUE(r.IsNull(9, 0));
  EXPECT_FALSE(r.IsNull(0, 0));
  ASSERT_OK_AND_ASSIGN(more, r.NextChunk());
  EXPECT_FALSE(more);
}

TEST_F(DuckDbTest, UnsignedBigintOutOfRange) {
  ASSERT_OK_AND_ASSIGN(QueryResult r,
                       conn_->Query("SELECT 18446744073709551615::UBIGINT, 5::UBIGINT"));
  ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
  ASSERT_TRUE(more);
  int64_t v = -1;
  EXPECT_FALSE(r.TryGetInt64(0, 0, &v));
  EXPECT_EQ(v, -1);
  EXPECT_TRUE(r.TryGetInt64(1, 0, &v));
  EXPECT_EQ(v, 5);
}

TEST_F(DuckDbTest, ManyChunks) {
  ASSERT_OK_AND_ASSIGN(QueryResult r, conn_->Query("SELECT range AS x FROM range(10000)"));
  int64_t expected = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
    if (!more) break;
    EXPECT_LE(r.chunk_size(), VectorSize());
    for (int64_t row = 0; row < r.chunk_size(); ++row) {
      ASSERT_EQ(r.GetInt64(0, row), expected);
      ++expected;
    }
  }
  EXPECT_EQ(expected, 10000);
}

TEST_F(DuckDbTest, ErrorsCarryDuckDbText) {
  EXPECT_STATUS(conn_->Query("SELEC 1"), StatusCode::kInvalidArgument, "syntax error");
  EXPECT_STATUS(conn_->Execute("SELECT * FROM no_such_table"), StatusCode::kInvalidArgument,
                "no_such_table");
  // The SQL excerpt DuckDB appends is dropped.
  Status s = conn_->Execute("SELECT * FROM no_such_table");
  EXPECT_EQ(s.message().find("LINE 1"), std::string::npos) << s.message();
  EXPECT_STATUS(conn_->Query("SELECT * FROM read_parquet('/nonexistent/x.parquet')"),
                StatusCode::kIOError, "/nonexistent/x.parquet");
  EXPECT_STATUS(conn_->Prepare("SELECT * FROM nope WHERE x = ?"), StatusCode::kInvalidArgument,
                "nope");
}

TEST_F(DuckDbTest, QueryInt64) {
  ASSERT_OK_AND_ASSIGN(int64_t v, conn_->QueryInt64("SELECT 40 + 2"));
  EXPECT_EQ(v, 42);
  EXPECT_STATUS(conn_->QueryInt64("SELECT 'x'"), StatusCode::kInvalidArgument, "integer");
  EXPECT_STATUS(conn_->QueryInt64("SELECT 1 WHERE false"), StatusCode::kInvalidArgument,
                "one non-NULL");
  EXPECT_STATUS(conn_->QueryInt64("SELECT NULL::INT"), StatusCode::kInvalidArgument,
                "one non-NULL");
}

TEST_F(DuckDbTest, PreparedStatementBindsEveryType) {
  ASSERT_OK(conn_->Execute("CREATE TABLE t (i BIGINT, d DOUBLE, b BOOLEAN, s VARCHAR)"));
  ASSERT_OK_AND_ASSIGN(PreparedStatement insert,
                       conn_->Prepare("INSERT INTO t VALUES (?, ?, ?, ?)"));
  EXPECT_EQ(insert.parameter_count(), 4);
  ASSERT_OK(insert.BindInt64(1, 7));
  ASSERT_OK(insert.BindDouble(2, 1.5));
  ASSERT_OK(insert.BindBool(3, true));
  ASSERT_OK(insert.BindString(4, std::string_view("it's\0x", 6)));
  ASSERT_OK_AND_ASSIGN(QueryResult r1, insert.Execute());
  EXPECT_EQ(r1.rows_changed(), 1);
  ASSERT_OK(insert.BindNull(1));
  ASSERT_OK(insert.BindNull(4));
  ASSERT_OK_AND_ASSIGN(QueryResult r2, insert.Execute());
  EXPECT_STATUS(insert.BindInt64(9, 1), StatusCode::kInvalidArgument, "parameter 9");

  ASSERT_OK_AND_ASSIGN(
      PreparedStatement select,
      conn_->Prepare("SELECT i, d, b, s FROM t WHERE d = ? ORDER BY i NULLS LAST"));
  ASSERT_OK(select.BindDouble(1, 1.5));
  ASSERT_OK_AND_ASSIGN(QueryResult r, select.Execute());
  ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
  ASSERT_TRUE(more);
  ASSERT_EQ(r.chunk_size(), 2);
  EXPECT_EQ(r.GetInt64(0, 0), 7);
  EXPECT_TRUE(r.GetBool(2, 0));
  EXPECT_EQ(r.GetString(3, 0), std::string_view("it's\0x", 6));
  EXPECT_TRUE(r.IsNull(0, 1));
  EXPECT_TRUE(r.IsNull(3, 1));
}

TEST_F(DuckDbTest, StreamingResult) {
  ASSERT_OK_AND_ASSIGN(PreparedStatement stmt,
                       conn_->Prepare("SELECT range AS x FROM range(?) ORDER BY x"));
  ASSERT_OK(stmt.BindInt64(1, 5000));
  ASSERT_OK_AND_ASSIGN(QueryResult r, stmt.ExecuteStreaming());
  int64_t n = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
    if (!more) break;
    for (int64_t row = 0; row < r.chunk_size(); ++row) ASSERT_EQ(r.GetInt64(0, row), n++);
  }
  EXPECT_EQ(n, 5000);
}

TEST_F(DuckDbTest, AppenderFillsEverySupportedType) {
  ASSERT_OK(conn_->Execute(
      "CREATE TABLE t (a BIGINT, b INTEGER, c DOUBLE, d BOOLEAN, e VARCHAR, f VARCHAR[])"));
  ASSERT_OK_AND_ASSIGN(Appender app, conn_->CreateAppender("t"));
  ASSERT_EQ(app.column_count(), 6);
  EXPECT_EQ(app.column_type(1), AppendType::kInteger);
  EXPECT_EQ(app.column_type(5), AppendType::kVarcharList);
  const int64_t n = 5000;  // several chunks, the last one partial
  int64_t row = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 7 == 3) {
      for (int col = 0; col < 6; ++col) app.SetNull(col, row);
    } else {
      app.SetInt64(0, row, i);
      app.SetInt32(1, row, static_cast<int32_t>(-i));
      app.SetDouble(2, row, i * 0.5);
      app.SetBool(3, row, i % 2 == 0);
      app.SetString(4, row,
                    i % 3 == 0 ? "short" : "a value that is not inlined " + std::to_string(i));
      app.BeginList(5, row);
      for (int64_t k = 0; k < i % 4; ++k) app.AppendListItem(5, "item-" + std::to_string(k));
    }
    if (++row == app.chunk_capacity()) {
      ASSERT_OK(app.AppendChunk(row));
      row = 0;
    }
  }
  ASSERT_OK(app.AppendChunk(row));
  ASSERT_OK(app.Close());

  ASSERT_OK_AND_ASSIGN(int64_t count, conn_->QueryInt64("SELECT count(*) FROM t"));
  EXPECT_EQ(count, n);
  ASSERT_OK_AND_ASSIGN(int64_t nulls,
                       conn_->QueryInt64("SELECT count(*) FROM t WHERE a IS NULL "
                                         "AND b IS NULL AND e IS NULL AND f IS NULL"));
  EXPECT_EQ(nulls, (n + 3) / 7);
  ASSERT_OK_AND_ASSIGN(
      QueryResult r,
      conn_->Query("SELECT a, b, c, d, e, f FROM t WHERE a IN (4, 4999) ORDER BY a"));
  ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
  ASSERT_TRUE(more);
  ASSERT_EQ(r.chunk_size(), 2);
  EXPECT_EQ(r.GetInt64(1, 0), -4);
  EXPECT_EQ(r.GetDouble(2, 0), 2.0);
  EXPECT_TRUE(r.GetBool(3, 0));
  EXPECT_EQ(r.GetString(4, 0), "a value that is not inlined 4");
  EXPECT_EQ(r.ListSize(5, 0), 0);
  EXPECT_EQ(r.GetString(4, 1), "a value that is not inlined 4999");
  ASSERT_EQ(r.ListSize(5, 1), 3);
  EXPECT_EQ(r.GetListString(5, 1, 2), "item-2");
  ASSERT_OK_AND_ASSIGN(int64_t items, conn_->QueryInt64("SELECT sum(len(f))::BIGINT FROM t"));
  int64_t expected_items = 0;
  for (int64_t i = 0; i < n; ++i) expected_items += i % 7 == 3 ? 0 : i % 4;
  EXPECT_EQ(items, expected_items);
}

// Bulk writes through the chunk's arrays, mixed with SetNull, across several chunks.
TEST_F(DuckDbTest, AppenderMutableArraysWriteWholeChunks) {
  ASSERT_OK(conn_->Execute("CREATE TABLE t (a BIGINT, b INTEGER)"));
  ASSERT_OK_AND_ASSIGN(Appender app, conn_->CreateAppender("t"));
  const int64_t capacity = app.chunk_capacity();
  const int64_t n = 3 * capacity + 17;
  for (int64_t first = 0; first < n; first += capacity) {
    const int64_t rows = std::min(capacity, n - first);
    int64_t* a = app.MutableInt64(0);
    int32_t* b = app.MutableInt32(1);
    for (int64_t r = 0; r < rows; ++r) {
      a[r] = (first + r) * 3;
      if ((first + r) % 5 == 0) {
        app.SetNull(1, r);
      } else {
        b[r] = static_cast<int32_t>(-(first + r));
      }
    }
    ASSERT_OK(app.AppendChunk(rows));
  }
  ASSERT_OK(app.Close());
  ASSERT_OK_AND_ASSIGN(int64_t count, conn_->QueryInt64("SELECT count(*) FROM t"));
  EXPECT_EQ(count, n);
  // Every row as written: a = 3i, b = -i except NULL for every 5th i.
  ASSERT_OK_AND_ASSIGN(
      int64_t wrong,
      conn_->QueryInt64("SELECT count(*) FROM t WHERE a % 3 <> 0 OR "
                        "(b IS NULL) <> ((a // 3) % 5 = 0) OR (b IS NOT NULL AND b <> -(a // 3))"));
  EXPECT_EQ(wrong, 0);
  ASSERT_OK_AND_ASSIGN(int64_t distinct_a, conn_->QueryInt64("SELECT count(DISTINCT a) FROM t"));
  EXPECT_EQ(distinct_a, n);
  ASSERT_OK_AND_ASSIGN(int64_t max_a, conn_->QueryInt64("SELECT max(a) FROM t"));
  EXPECT_EQ(max_a, 3 * (n - 1));
}

TEST_F(DuckDbTest, AppenderErrors) {
  EXPECT_STATUS(conn_->CreateAppender("missing"), StatusCode::kInvalidArgument, "missing");
  ASSERT_OK(conn_->Execute("CREATE TABLE dates (d DATE)"));
  EXPECT_STATUS(conn_->CreateAppender("dates"), StatusCode::kInvalidArgument, "DATE");
  ASSERT_OK(conn_->Execute("CREATE TABLE k (id BIGINT PRIMARY KEY)"));
  ASSERT_OK_AND_ASSIGN(Appender app, conn_->CreateAppender("k"));
  app.SetInt64(0, 0, 1);
  app.SetInt64(0, 1, 1);
  Status s = app.AppendChunk(2);
  if (s.ok()) s = app.Close();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("'k'"));
}

TEST_F(DuckDbTest, AppenderJoinsTheTransaction) {
  ASSERT_OK(conn_->Begin());
  ASSERT_OK(conn_->Execute("CREATE TABLE t (x BIGINT)"));
  {
    ASSERT_OK_AND_ASSIGN(Appender app, conn_->CreateAppender("t"));
    app.SetInt64(0, 0, 1);
    ASSERT_OK(app.AppendChunk(1));
    ASSERT_OK(app.Close());
  }
  ASSERT_OK_AND_ASSIGN(int64_t n, conn_->QueryInt64("SELECT count(*) FROM t"));
  EXPECT_EQ(n, 1);
  ASSERT_OK(conn_->Rollback());
  EXPECT_STATUS(conn_->Query("SELECT * FROM t"), StatusCode::kInvalidArgument, "t");
}

TEST(InsertFromChunksTest, FillsEveryTypeThroughPartialChunks) {
  // A file database, so that DuckDB writes full row groups while the insert runs.
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(dir.path() + "/t.duckdb"));
  ASSERT_OK_AND_ASSIGN(Connection conn, db.Connect());
  ASSERT_OK(
      conn.Execute("CREATE TABLE t (a BIGINT, b INTEGER, c DOUBLE, d BOOLEAN, e VARCHAR, "
                   "f VARCHAR[], g INTEGER[])"));
  const int64_t n = 300000;  // more than two row groups
  int64_t next = 0;
  int calls = 0;
  ASSERT_OK(conn.InsertFromChunks("t", [&](Appender& app) -> Result<int64_t> {
    // Chunks of varying, mostly partial sizes.
    const int64_t rows =
        std::min({app.chunk_capacity(), n - next, int64_t{700} + 600 * (calls++ % 3)});
    for (int64_t r = 0; r < rows; ++r, ++next) {
      const int64_t i = next;
      if (i % 7 == 3) {
        for (int col = 0; col < 7; ++col) app.SetNull(col, r);
        continue;
      }
      app.SetInt64(0, r, i);
      app.SetInt32(1, r, static_cast<int32_t>(-i));
      app.SetDouble(2, r, static_cast<double>(i) * 0.5);
      app.SetBool(3, r, i % 2 == 0);
      app.SetString(4, r,
                    i % 3 == 0 ? "short" : "a value that is not inlined " + std::to_string(i));
      app.BeginList(5, r);
      for (int64_t k = 0; k < i % 4; ++k) app.AppendListItem(5, "item-" + std::to_string(k));
      app.BeginList(6, r);
      for (int64_t k = 0; k < i % 3; ++k) app.AppendListInt32(6, static_cast<int32_t>(k + i));
    }
    return rows;
  }));
  EXPECT_GT(calls, n / 2048);

  // Expected values by formula over i in [0, n) without i % 7 == 3.
  int64_t rows = 0, sum_a = 0, sum_items = 0, sum_ints = 0, evens = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 7 == 3) continue;
    ++rows;
    sum_a += i;
    sum_items += i % 4;
    for (int64_t k = 0; k < i % 3; ++k) sum_ints += k + i;
    evens += i % 2 == 0;
  }
  ASSERT_OK_AND_ASSIGN(int64_t count, conn.QueryInt64("SELECT count(*) FROM t"));
  EXPECT_EQ(count, n);
  ASSERT_OK_AND_ASSIGN(int64_t nulls, conn.QueryInt64("SELECT count(*) FROM t WHERE a IS NULL "
                                                      "AND d IS NULL AND f IS NULL AND g IS NULL"));
  EXPECT_EQ(nulls, n - rows);
  ASSERT_OK_AND_ASSIGN(int64_t a, conn.QueryInt64("SELECT CAST(sum(a) AS BIGINT) FROM t"));
  EXPECT_EQ(a, sum_a);
  ASSERT_OK_AND_ASSIGN(int64_t b, conn.QueryInt64("SELECT CAST(-sum(b) AS BIGINT) FROM t"));
  EXPECT_EQ(b, sum_a);
  ASSERT_OK_AND_ASSIGN(int64_t c, conn.QueryInt64("SELECT CAST(sum(c) * 2 AS BIGINT) FROM t"));
  EXPECT_EQ(c, sum_a);
  ASSERT_OK_AND_ASSIGN(int64_t d, conn.QueryInt64("SELECT count(*) FROM t WHERE d"));
  EXPECT_EQ(d, evens);
  ASSERT_OK_AND_ASSIGN(int64_t items, conn.QueryInt64("SELECT CAST(sum(len(f)) AS BIGINT) FROM t"));
  EXPECT_EQ(items, sum_items);
  ASSERT_OK_AND_ASSIGN(int64_t ints,
                       conn.QueryInt64("SELECT CAST(sum(list_sum(g)) AS BIGINT) FROM t"));
  EXPECT_EQ(ints, sum_ints);
  ASSERT_OK_AND_ASSIGN(
      int64_t matches,
      conn.QueryInt64("SELECT count(*) FROM t WHERE a IS NOT NULL AND e = CASE WHEN a % 3 = 0 "
                      "THEN 'short' ELSE 'a value that is not inlined ' || a END AND "
                      "f = list_transform(range(a % 4), k -> 'item-' || k)"));
  EXPECT_EQ(matches, rows);
}

TEST(InsertFromChunksTest, ErrorsJoinTheTransactionAndTheFunctionDiesWithTheInsert) {
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(":memory:"));
  ASSERT_OK_AND_ASSIGN(Connection conn, db.Connect());
  ASSERT_OK(conn.Execute("CREATE TABLE t (x BIGINT)"));
  int calls = 0;
  auto fail_third = [&](Appender& app) -> Result<int64_t> {
    if (++calls == 3) return Status::InvalidArgument("record 7 is bad");
    for (int64_t r = 0; r < 10; ++r) app.SetInt64(0, r, r);
    return int64_t{10};
  };
  EXPECT_STATUS(conn.InsertFromChunks("t", fail_third), StatusCode::kInvalidArgument,
                "record 7 is bad");
  ASSERT_OK_AND_ASSIGN(int64_t count, conn.QueryInt64("SELECT count(*) FROM t"));
  EXPECT_EQ(count, 0);  // the failed INSERT left nothing

  // Inside a transaction the rows are the transaction's.
  ASSERT_OK(conn.Begin());
  int64_t left = 2;
  ASSERT_OK(conn.InsertFromChunks("t", [&](Appender& app) -> Result<int64_t> {
    if (left-- == 0) return int64_t{0};
    app.SetInt64(0, 0, 5);
    return int64_t{1};
  }));
  ASSERT_OK_AND_ASSIGN(count, conn.QueryInt64("SELECT count(*) FROM t"));
  EXPECT_EQ(count, 2);
  ASSERT_OK(conn.Rollback());
  ASSERT_OK_AND_ASSIGN(count, conn.QueryInt64("SELECT count(*) FROM t"));
  EXPECT_EQ(count, 0);

  EXPECT_STATUS(conn.InsertFromChunks("missing", fail_third), StatusCode::kInvalidArgument,
                "missing");
  // The registered functions stay in the catalog but refuse to run outside their insert.
  ASSERT_OK_AND_ASSIGN(QueryResult names,
                       conn.Query("SELECT function_name FROM duckdb_functions() WHERE "
                                  "function_name LIKE 'mixtera_chunk_source_%'"));
  ASSERT_OK_AND_ASSIGN(bool more, names.NextChunk());
  ASSERT_TRUE(more);
  const std::string name(names.GetString(0, 0));
  EXPECT_STATUS(conn.Query("SELECT * FROM " + name + "()"), StatusCode::kInvalidArgument,
                "only serves");
}

TEST(DatabaseTest, FilePersistsAndRejectsGarbage) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(dir.Join("a.duckdb")));
    ASSERT_OK_AND_ASSIGN(Connection conn, db.Connect());
    ASSERT_OK(conn.Execute("CREATE TABLE t AS SELECT 5 AS x"));
  }
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(dir.Join("a.duckdb")));
    ASSERT_OK_AND_ASSIGN(Connection conn, db.Connect());
    ASSERT_OK_AND_ASSIGN(int64_t x, conn.QueryInt64("SELECT x FROM t"));
    EXPECT_EQ(x, 5);
  }
  ::mixtera::testing::WriteFile(dir.Join("garbage.duckdb"), std::string(8192, 'x'));
  EXPECT_STATUS(Database::Open(dir.Join("garbage.duckdb")), StatusCode::kCorruption,
                "garbage.duckdb");
  EXPECT_STATUS(Database::Open(dir.Join("no/such/dir/x.duckdb")), StatusCode::kIOError, "x.duckdb");
  EXPECT_STATUS(Database::Open(":memory:", DatabaseOptions{"lots", 0}),
                StatusCode::kInvalidArgument, "");
}

TEST(DatabaseTest, ConnectionOutlivesDatabaseObject) {
  std::optional<Connection> conn;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(":memory:"));
    ASSERT_OK_AND_ASSIGN(Connection c, db.Connect());
    conn.emplace(std::move(c));
  }
  ASSERT_OK_AND_ASSIGN(int64_t v, conn->QueryInt64("SELECT 1"));
  EXPECT_EQ(v, 1);
}

TEST(QuoteTest, EscapesQuotes) {
  EXPECT_EQ(QuoteIdentifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
  EXPECT_EQ(VectorSize(), 2048);
}

}  // namespace
}  // namespace mixtera::duckdb
