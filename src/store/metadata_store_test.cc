#include "store/metadata_store.h"

#include <cstdio>
#include <string>
#include <vector>

#include "base/strings.h"
#include "duckdb/connection.h"
#include "store/schema.h"
#include "testing/test_util.h"

namespace mixtera::store {
namespace {

using ::mixtera::testing::TempDir;
using model::DatasetSpec;
using model::PropertySchema;
using model::PropertyType;
using model::SampleBatch;

PropertySchema Prop(const std::string& name, PropertyType type, bool nullable = false,
                    std::vector<std::string> values = {}) {
  PropertySchema p;
  p.name = name;
  p.type = type;
  p.nullable = nullable;
  p.enum_values = std::move(values);
  p.field = "/" + name;
  return p;
}

DatasetSpec Spec(const std::string& name, std::vector<PropertySchema> props) {
  DatasetSpec spec;
  spec.name = name;
  spec.format = model::DataFormat::kJsonl;
  spec.path_patterns = {"/data/" + name + "/*.jsonl"};
  spec.text_fields = {"/text"};
  spec.properties = std::move(props);
  spec.normalized_json = "{\"name\":\"" + name + "\"}";
  return spec;
}

model::FileRecord File(int64_t file_id, const std::string& path, int64_t samples) {
  model::FileRecord f;
  f.file_id = file_id;
  f.path = path;
  f.size_bytes = 100 * (file_id + 1);
  f.mtime_ns = 1700000000000000000 + file_id;
  f.compression = model::Compression::kZstd;
  f.num_records = samples + 1;
  f.num_samples = samples;
  f.num_skipped = 1;
  f.num_seek_points = 2;
  return f;
}

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    auto store = MetadataStore::Open(path_, StoreOptions{"512MB", 2});
    ASSERT_OK(store);
    store_ = std::move(store).value();
  }

  // Registers `spec` with one file of `n` samples whose lang is "en"/"de" alternating.
  void RegisterSimple(const DatasetSpec& spec, int64_t n) {
    ASSERT_OK_AND_ASSIGN(auto writer, store_->BeginDataset(spec));
    ASSERT_OK_AND_ASSIGN(int64_t file_id, writer->ReserveFileIds(1));
    SampleBatch batch(file_id, spec.properties);
    for (int64_t i = 0; i < n; ++i) {
      batch.sample_ids.push_back(i);
      for (size_t c = 0; c < spec.properties.size(); ++c) {
        auto& col = batch.columns[c];
        switch (col.type()) {
          case PropertyType::kString:
          case PropertyType::kEnum:
            col.AppendString(i % 2 ? "de" : "en");
            break;
          case PropertyType::kInt:
            col.AppendInt(i);
            break;
          case PropertyType::kFloat:
            col.AppendFloat(i * 0.5);
            break;
          case PropertyType::kBool:
            col.AppendBool(i % 2 == 0);
            break;
          case PropertyType::kStringList:
            col.BeginList();
            col.AppendListItem("a");
            col.EndList();
            break;
        }
      }
    }
    ASSERT_OK(writer->AppendSamples(batch));
    ASSERT_OK(writer->AddFile(File(file_id, "/data/" + spec.name + "/0.jsonl", n)));
    ASSERT_OK(writer->Commit());
  }

  // Runs SQL against the store file through a second connection (after closing the store).
  duckdb::QueryResult Sql(const std::string& sql) {
    store_.reset();
    auto db = duckdb::Database::Open(path_);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    auto conn = db->Connect();
    auto result = conn->Query(sql);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return std::move(result).value();
  }

  TempDir dir_;
  std::string path_ = dir_.Join("mixtera.duckdb");
  std::unique_ptr<MetadataStore> store_;
};

TEST_F(MetadataStoreTest, FreshStoreIsEmpty) {
  ASSERT_OK_AND_ASSIGN(int64_t version, store_->Version());
  EXPECT_EQ(version, 0);
  ASSERT_OK_AND_ASSIGN(auto datasets, store_->ListDatasets());
  EXPECT_TRUE(datasets.empty());
  ASSERT_OK_AND_ASSIGN(int64_t count, store_->CountSamples());
  EXPECT_EQ(count, 0);
  ASSERT_OK_AND_ASSIGN(auto props, store_->ListProperties());
  EXPECT_TRUE(props.empty());
  EXPECT_STATUS(store_->GetDataset("x"), StatusCode::kNotFound, "dataset 'x' not found");
  EXPECT_STATUS(store_->ListFiles("x"), StatusCode::kNotFound, "'x'");
  EXPECT_STATUS(store_->RemoveDataset("x"), StatusCode::kNotFound, "'x'");
}

TEST_F(MetadataStoreTest, RegisterPersistsAcrossReopen) {
  DatasetSpec spec = Spec("pile", {Prop("lang", PropertyType::kString),
                                   Prop("license", PropertyType::kEnum, false, {"MIT", "GPL"}),
                                   Prop("stars", PropertyType::kInt, true)});
  ASSERT_OK_AND_ASSIGN(auto writer, store_->BeginDataset(spec));
  EXPECT_EQ(writer->dataset_id(), 1);
  ASSERT_OK_AND_ASSIGN(int64_t first, writer->ReserveFileIds(2));
  EXPECT_EQ(first, 0);
  for (int64_t f = 0; f < 2; ++f) {
    SampleBatch batch(f, spec.properties);
    for (int64_t i = 0; i < 3; ++i) {
      batch.sample_ids.push_back(i * 2);
      batch.columns[0].AppendString(f == 0 ? "en" : "de");
      batch.columns[1].AppendString("MIT");
      batch.columns[2].AppendInt(10 * f + i);
    }
    ASSERT_OK(writer->AppendSamples(batch));
  }
  ASSERT_OK(writer->AddFile(File(1, "/data/b.jsonl", 3)));  // any order
  ASSERT_OK(writer->AddFile(File(0, "/data/a.jsonl", 3)));
  ASSERT_OK(writer->Commit());
  EXPECT_STATUS(writer->Commit(), StatusCode::kFailedPrecondition, "already committed");
  writer.reset();

  Reopen();
  ASSERT_OK_AND_ASSIGN(int64_t version, store_->Version());
  EXPECT_EQ(version, 1);
  ASSERT_OK_AND_ASSIGN(model::DatasetInfo info, store_->GetDataset("pile"));
  EXPECT_EQ(info.dataset_id, 1);
  EXPECT_EQ(info.name, "pile");
  EXPECT_EQ(info.format, model::DataFormat::kJsonl);
  EXPECT_EQ(info.text_fields, std::vector<std::string>{"/text"});
  EXPECT_EQ(info.on_error, model::OnError::kFail);
  EXPECT_EQ(info.num_files, 2);
  EXPECT_EQ(info.num_samples, 6);
  EXPECT_EQ(info.num_skipped, 2);
  EXPECT_EQ(info.total_bytes, 300);
  EXPECT_EQ(info.spec_json, "{\"name\":\"pile\"}");
  ASSERT_EQ(info.properties.size(), 3u);
  EXPECT_EQ(info.properties[1].name, "license");
  EXPECT_EQ(info.properties[1].type, PropertyType::kEnum);
  EXPECT_EQ(info.properties[1].enum_values, (std::vector<std::string>{"MIT", "GPL"}));
  EXPECT_EQ(info.properties[1].field, "/license");
  EXPECT_FALSE(info.properties[1].nullable);
  EXPECT_TRUE(info.properties[2].nullable);

  ASSERT_OK_AND_ASSIGN(auto files, store_->ListFiles("pile"));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].file_id, 0);
  EXPECT_EQ(files[0].path, "/data/a.jsonl");
  EXPECT_EQ(files[0].dataset_id, 1);
  EXPECT_EQ(files[0].compression, model::Compression::kZstd);
  EXPECT_EQ(files[0].mtime_ns, 1700000000000000000);
  EXPECT_EQ(files[0].num_records, 4);
  EXPECT_EQ(files[0].num_seek_points, 2);
  EXPECT_EQ(files[1].file_id, 1);

  ASSERT_OK_AND_ASSIGN(auto ids, store_->ListSampleIds("pile", 1));
  EXPECT_EQ(ids, (std::vector<uint32_t>{0, 2, 4}));
  EXPECT_STATUS(store_->ListSampleIds("nope", 0).status(), StatusCode::kNotFound, "nope");

  ASSERT_OK_AND_ASSIGN(int64_t count, store_->CountSamples());
  EXPECT_EQ(count, 6);
  duckdb::QueryResult r =
      Sql("SELECT file_id, sample_id, lang, license, stars, dataset FROM samples "
          "ORDER BY file_id, sample_id");
  ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
  ASSERT_TRUE(more);
  ASSERT_EQ(r.chunk_size(), 6);
  EXPECT_EQ(r.GetInt64(0, 4), 1);
  EXPECT_EQ(r.GetInt64(1, 4), 2);
  EXPECT_EQ(r.GetString(2, 4), "de");
  EXPECT_EQ(r.GetString(3, 4), "MIT");
  EXPECT_EQ(r.GetInt64(4, 4), 11);
  EXPECT_EQ(r.GetString(5, 4), "pile");
}

TEST_F(MetadataStoreTest, DroppedWriterRollsBackEverything) {
  DatasetSpec spec = Spec("tmp", {Prop("lang", PropertyType::kString)});
  {
    ASSERT_OK_AND_ASSIGN(auto writer, store_->BeginDataset(spec));
    ASSERT_OK_AND_ASSIGN(int64_t file_id, writer->ReserveFileIds(3));
    SampleBatch batch(file_id, spec.properties);
    for (int i = 0; i < 5000; ++i) {
      batch.sample_ids.push_back(i);
      batch.columns[0].AppendString("en");
    }
    ASSERT_OK(writer->AppendSamples(batch));
    ASSERT_OK(writer->AddFile(File(file_id, "/x", 5000)));
    // A second registration waits for this one.
    EXPECT_STATUS(store_->BeginDataset(Spec("other", {})), StatusCode::kFailedPrecondition,
                  "in progress");
    EXPECT_STATUS(store_->RemoveDataset("tmp"), StatusCode::kFailedPrecondition, "in progress");
    // Reads see only committed state meanwhile.
    ASSERT_OK_AND_ASSIGN(int64_t count, store_->CountSamples());
    EXPECT_EQ(count, 0);
  }
  ASSERT_OK_AND_ASSIGN(int64_t version, store_->Version());
  EXPECT_EQ(version, 0);
  EXPECT_STATUS(store_->GetDataset("tmp"), StatusCode::kNotFound, "tmp");
  ASSERT_OK_AND_ASSIGN(auto props, store_->ListProperties());
  EXPECT_TRUE(props.empty());

  // The same ids are handed out again, and the name is free.
  ASSERT_OK_AND_ASSIGN(auto writer, store_->BeginDataset(spec));
  EXPECT_EQ(writer->dataset_id(), 1);
  ASSERT_OK_AND_ASSIGN(int64_t file_id, writer->ReserveFileIds(1));
  EXPECT_EQ(file_id, 0);
  writer.reset();

  duckdb::QueryResult r =
      Sql("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'samples_%'");
  ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
  ASSERT_TRUE(more);
  EXPECT_EQ(r.GetInt64(0, 0), 0);
}

TEST_F(MetadataStoreTest, FailedCommitRollsBack) {
  DatasetSpec spec = Spec("bad", {Prop("lang", PropertyType::kString)});
  ASSERT_OK_AND_ASSIGN(auto writer, store_->BeginDataset(spec));
  ASSERT_OK_AND_ASSIGN(int64_t file_id, writer->ReserveFileIds(1));
  ASSERT_OK(writer->AddFile(File(file_id, "/x", 7)));  // 7 samples claimed, none appended
  EXPECT_STATUS(writer->Commit(), StatusCode::kInvalidArgument, "7 samples but 0");
  EXPECT_STATUS(writer->AddFile(File(file_id, "/x", 7)), StatusCode::kFailedPrecondition, "");
  writer.reset();
  EXPECT_STATUS(store_->GetDataset("bad"), StatusCode::kNotFound, "bad");
  ASSERT_OK_AND_ASSIGN(int64_t version, store_->Version());
  EXPECT_EQ(version, 0);
}

TEST_F(MetadataStoreTest, RejectsDuplicateDataset) {
  RegisterSimple(Spec("x", {Prop("lang", PropertyType::kString)}), 3);
  EXPECT_STATUS(store_->BeginDataset(Spec("x", {})), StatusCode::kAlreadyExists,
                "dataset 'x' already exists");
}

TEST_F(MetadataStoreTest, RejectsTypeConflict) {
  RegisterSimple(Spec("first", {Prop("lang", PropertyType::kString)}), 2);
  RegisterSimple(Spec("second", {Prop("lang", PropertyType::kString)}), 2);
  Status st = store_->BeginDataset(Spec("third", {Prop("lang", PropertyType::kInt)})).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), ::testing::HasSubstr("'lang'"));
  EXPECT_THAT(st.message(), ::testing::HasSubstr("int"));
  EXPECT_THAT(st.message(), ::testing::HasSubstr("string"));
  EXPECT_THAT(st.message(), ::testing::HasSubstr("'first'"));
  EXPECT_STATUS(store_->BeginDataset(Spec("third", {Prop("Lang", PropertyType::kString)})),
                StatusCode::kInvalidArgument, "differs only in case");
}

TEST_F(MetadataStoreTest, ValidatesPropertyNames) {
  for (const char* bad : {"1abc", "a-b", "", "a b", "naïve"}) {
    EXPECT_STATUS(store_->BeginDataset(Spec("d", {Prop(bad, PropertyType::kString)})),
                  StatusCode::kInvalidArgument, "invalid property name");
  }
  for (const char* reserved : {"file_id", "sample_id", "dataset", "split", "Split"}) {
    EXPECT_STATUS(store_->BeginDataset(Spec("d", {Prop(reserved, PropertyType::kString)})),
                  StatusCode::kInvalidArgument, "reserved");
  }
  EXPECT_STATUS(store_->BeginDataset(
                    Spec("d", {Prop("a", PropertyType::kString), Prop("A", PropertyType::kInt)})),
                StatusCode::kInvalidArgument, "twice");
  EXPECT_STATUS(store_->BeginDataset(Spec("d", {Prop("e", PropertyType::kEnum)})),
                StatusCode::kInvalidArgument, "lists no values");
  EXPECT_STATUS(store_->BeginDataset(Spec("", {})), StatusCode::kInvalidArgument, "empty");
  // SQL keywords and odd-but-valid names work as quoted columns.
  RegisterSimple(
      Spec("d", {Prop("select", PropertyType::kString), Prop("_x9", PropertyType::kInt)}), 2);
}

TEST_F(MetadataStoreTest, RemoveDatasetDropsEverything) {
  RegisterSimple(Spec("a", {Prop("lang", PropertyType::kString)}), 4);
  RegisterSimple(Spec("b", {Prop("lang", PropertyType::kString), Prop("n", PropertyType::kInt)}),
                 6);
  ASSERT_OK_AND_ASSIGN(int64_t count, store_->CountSamples());
  EXPECT_EQ(count, 10);
  ASSERT_OK(store_->RemoveDataset("a"));
  ASSERT_OK_AND_ASSIGN(int64_t version, store_->Version());
  EXPECT_EQ(version, 3);
  ASSERT_OK_AND_ASSIGN(count, store_->CountSamples());
  EXPECT_EQ(count, 6);
  EXPECT_STATUS(store_->GetDataset("a"), StatusCode::kNotFound, "'a'");
  ASSERT_OK(store_->RemoveDataset("b"));
  ASSERT_OK_AND_ASSIGN(count, store_->CountSamples());
  EXPECT_EQ(count, 0);
  ASSERT_OK_AND_ASSIGN(auto props, store_->ListProperties());
  EXPECT_TRUE(props.empty());
  // The name can be registered again (with another type now that nobody declares `n`), and
  // ids are never reused.
  RegisterSimple(Spec("a", {Prop("n", PropertyType::kString)}), 1);
  ASSERT_OK_AND_ASSIGN(auto info, store_->GetDataset("a"));
  EXPECT_EQ(info.dataset_id, 3);
  ASSERT_OK_AND_ASSIGN(auto files, store_->ListFiles("a"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].file_id, 2);
  duckdb::QueryResult r =
      Sql("SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM properties), "
          "(SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'samples_%')");
  ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
  ASSERT_TRUE(more);
  EXPECT_EQ(r.GetInt64(0, 0), 1);
  EXPECT_EQ(r.GetInt64(1, 0), 1);
  EXPECT_EQ(r.GetInt64(2, 0), 1);
}

TEST_F(MetadataStoreTest, ListsAreOrdered) {
  RegisterSimple(Spec("zeta", {Prop("b_prop", PropertyType::kInt)}), 1);
  RegisterSimple(
      Spec("alpha", {Prop("a_prop", PropertyType::kBool), Prop("b_prop", PropertyType::kInt)}), 1);
  RegisterSimple(Spec("mid", {Prop("c_prop", PropertyType::kStringList)}), 1);
  ASSERT_OK_AND_ASSIGN(auto datasets, store_->ListDatasets());
  ASSERT_EQ(datasets.size(), 3u);
  EXPECT_EQ(datasets[0].name, "alpha");
  EXPECT_EQ(datasets[1].name, "mid");
  EXPECT_EQ(datasets[2].name, "zeta");
  EXPECT_EQ(datasets[0].properties.size(), 2u);
  EXPECT_EQ(datasets[0].properties[0].name, "a_prop");
  EXPECT_EQ(datasets[2].properties.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto props, store_->ListProperties());
  ASSERT_EQ(props.size(), 3u);
  EXPECT_EQ(props[0].name, "a_prop");
  EXPECT_EQ(props[0].type, PropertyType::kBool);
  EXPECT_EQ(props[1].name, "b_prop");
  EXPECT_EQ(props[1].type, PropertyType::kInt);
  EXPECT_EQ(props[2].type, PropertyType::kStringList);
}

TEST_F(MetadataStoreTest, StringListsAndNullsRoundTrip) {
  DatasetSpec spec =
      Spec("l", {Prop("tags", PropertyType::kStringList, true),
                 Prop("score", PropertyType::kFloat, true), Prop("ok", PropertyType::kBool, true),
                 Prop("name", PropertyType::kString, true)});
  ASSERT_OK_AND_ASSIGN(auto writer, store_->BeginDataset(spec));
  ASSERT_OK_AND_ASSIGN(int64_t file_id, writer->ReserveFileIds(1));
  SampleBatch batch(file_id, spec.properties);
  const int64_t n = 5000;  // spans several DuckDB chunks
  for (int64_t i = 0; i < n; ++i) {
    batch.sample_ids.push_back(i);
    if (i % 3 == 0) {
      for (auto& col : batch.columns) col.AppendNull();
      continue;
    }
    batch.columns[0].BeginList();
    for (int64_t k = 0; k < i % 5; ++k) {
      batch.columns[0].AppendListItem(k % 2 ? "a longer tag that is not inlined" : "t");
    }
    batch.columns[0].EndList();
    batch.columns[1].AppendFloat(i / 4.0);
    batch.columns[2].AppendBool(i % 2 == 1);
    batch.columns[3].AppendString(i % 7 == 0 ? "" : "ünïcödé");
  }
  ASSERT_OK(writer->AppendSamples(batch));
  ASSERT_OK(writer->AddFile(File(file_id, "/l.jsonl", n)));
  ASSERT_OK(writer->Commit());
  writer.reset();

  duckdb::QueryResult r =
      Sql("SELECT sample_id, tags, score, ok, name FROM samples WHERE dataset = 'l' AND sample_id "
          "IN (3, 4, 7, 14) "
          "ORDER BY sample_id");
  ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
  ASSERT_TRUE(more);
  ASSERT_EQ(r.chunk_size(), 4);
  for (int col = 1; col <= 4; ++col) EXPECT_TRUE(r.IsNull(col, 0)) << col;  // 3 % 3 == 0
  ASSERT_EQ(r.ListSize(1, 1), 4);                                           // sample 4
  EXPECT_EQ(r.GetListString(1, 1, 0), "t");
  EXPECT_EQ(r.GetListString(1, 1, 1), "a longer tag that is not inlined");
  EXPECT_EQ(r.GetDouble(2, 1), 1.0);
  EXPECT_FALSE(r.GetBool(3, 1));
  EXPECT_EQ(r.GetString(4, 1), "ünïcödé");
  EXPECT_EQ(r.GetString(4, 2), "");  // sample 7: empty, not NULL
  EXPECT_FALSE(r.IsNull(4, 2));
  EXPECT_EQ(r.ListSize(1, 3), 4);  // sample 14
  duckdb::QueryResult totals =
      Sql("SELECT count(*) FILTER (WHERE tags IS NULL), sum(len(tags))::BIGINT, "
          "count(*) FILTER (WHERE list_contains(tags, 't')) FROM samples");
  ASSERT_OK_AND_ASSIGN(more, totals.NextChunk());
  int64_t nulls = 0, items = 0, with_t = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 3 == 0) {
      ++nulls;
    } else {
      items += i % 5;
      with_t += i % 5 > 0;
    }
  }
  EXPECT_EQ(totals.GetInt64(0, 0), nulls);
  EXPECT_EQ(totals.GetInt64(1, 0), items);
  EXPECT_EQ(totals.GetInt64(2, 0), with_t);
}

TEST_F(MetadataStoreTest, RejectsBadBatches) {
  DatasetSpec spec = Spec("b", {Prop("lang", PropertyType::kString)});
  ASSERT_OK_AND_ASSIGN(auto writer, store_->BeginDataset(spec));
  ASSERT_OK_AND_ASSIGN(int64_t file_id, writer->ReserveFileIds(1));
  SampleBatch unreserved(file_id + 1, spec.properties);
  EXPECT_STATUS(writer->AppendSamples(unreserved), StatusCode::kInvalidArgument, "not reserved");
  SampleBatch wrong_type(file_id, {Prop("lang", PropertyType::kInt)});
  EXPECT_STATUS(writer->AppendSamples(wrong_type), StatusCode::kInvalidArgument, "type int");
  SampleBatch ragged(file_id, spec.properties);
  ragged.sample_ids = {0, 1};
  ragged.columns[0].AppendString("x");
  EXPECT_STATUS(writer->AppendSamples(ragged), StatusCode::kInvalidArgument, "1 rows");
  SampleBatch bad_utf8(file_id, spec.properties);
  bad_utf8.sample_ids = {5};
  bad_utf8.columns[0].AppendString("\xff\xfe");
  EXPECT_STATUS(writer->AppendSamples(bad_utf8), StatusCode::kInvalidArgument, "sample 5");
  EXPECT_STATUS(writer->AddFile(File(file_id + 1, "/y", 0)), StatusCode::kInvalidArgument,
                "not reserved");
  ASSERT_OK(writer->AddFile(File(file_id, "/y", 0)));
  EXPECT_STATUS(writer->AddFile(File(file_id, "/y", 0)), StatusCode::kInvalidArgument, "twice");
}

TEST_F(MetadataStoreTest, RejectsForeignFiles) {
  auto run = [](const std::string& path, const std::string& sql) {
    auto db = duckdb::Database::Open(path);
    ASSERT_OK(db);
    ASSERT_OK_AND_ASSIGN(auto conn, db->Connect());
    ASSERT_OK(conn.Execute(sql));
  };
  run(dir_.Join("foreign.duckdb"), "CREATE TABLE something (x INT)");
  EXPECT_STATUS(MetadataStore::Open(dir_.Join("foreign.duckdb")), StatusCode::kCorruption,
                "not a Mixtera store");
  ::mixtera::testing::WriteFile(dir_.Join("junk.duckdb"), std::string(10000, 'j'));
  EXPECT_STATUS(MetadataStore::Open(dir_.Join("junk.duckdb")), StatusCode::kCorruption,
                "junk.duckdb");
  run(dir_.Join("v.duckdb"),
      internal::CreateSchemaSql() + "UPDATE meta SET value = 99 WHERE key = 'schema_version'");
  EXPECT_STATUS(MetadataStore::Open(dir_.Join("v.duckdb")), StatusCode::kCorruption,
                "schema version 99");
}

// Batches of every property type with nulls, of varied sizes (empty, partial chunks, several
// chunks), for files [first_file, first_file + 3).
std::vector<SampleBatch> MixedBatches(const DatasetSpec& spec, int64_t first_file) {
  std::vector<SampleBatch> batches;
  int64_t k = 0;
  for (int64_t f = 0; f < 3; ++f) {
    int64_t sample = 0;
    for (int64_t rows : {int64_t{0}, int64_t{5000}, int64_t{1}, int64_t{2048}, int64_t{777}}) {
      SampleBatch batch(first_file + f, spec.properties);
      for (int64_t r = 0; r < rows; ++r, ++k) {
        batch.sample_ids.push_back(sample++);
        batch.columns[0].AppendString(StrCat("lang-", k % 13));
        if (k % 5 == 0) {
          batch.columns[1].AppendNull();
        } else {
          batch.columns[1].AppendInt(k * 3);
        }
        batch.columns[2].AppendFloat(static_cast<double>(k) / 4);
        batch.columns[3].AppendBool(k % 3 == 0);
        batch.columns[4].BeginList();
        for (int64_t t = 0; t < k % 3; ++t)
          batch.columns[4].AppendListItem(StrCat("tag-", t + k % 7));
        batch.columns[4].EndList();
      }
      batches.push_back(std::move(batch));
    }
  }
  return batches;
}

DatasetSpec MixedSpec(const std::string& name) {
  return Spec(name, {Prop("lang", PropertyType::kString), Prop("n", PropertyType::kInt, true),
                     Prop("score", PropertyType::kFloat), Prop("flag", PropertyType::kBool),
                     Prop("tags", PropertyType::kStringList)});
}

TEST_F(MetadataStoreTest, AppendSampleStreamStoresWhatAppendSamplesStores) {
  int64_t total = 0;
  for (const char* name : {"by_batch", "by_stream"}) {
    const DatasetSpec spec = MixedSpec(name);
    ASSERT_OK_AND_ASSIGN(auto writer, store_->BeginDataset(spec));
    ASSERT_OK_AND_ASSIGN(int64_t first, writer->ReserveFileIds(3));
    std::vector<SampleBatch> batches = MixedBatches(spec, first);
    if (std::string(name) == "by_batch") {
      for (const auto& b : batches) ASSERT_OK(writer->AppendSamples(b));
    } else {
      size_t next = 0;
      ASSERT_OK(writer->AppendSampleStream([&]() -> Result<const SampleBatch*> {
        return next < batches.size() ? &batches[next++] : nullptr;
      }));
      EXPECT_EQ(next, batches.size());
    }
    total = 0;
    for (int64_t f = 0; f < 3; ++f) {
      int64_t n = 0;
      for (const auto& b : batches) n += b.file_id == first + f ? b.num_rows() : 0;
      ASSERT_OK(writer->AddFile(File(first + f, StrCat("/data/", name, f), n)));
      total += n;
    }
    ASSERT_OK(writer->Commit());
  }
  // Same rows, file ids taken relative to each dataset's first file, codes from the shared
  // dictionaries.
  const std::string columns =
      "file_id - min(file_id) OVER () AS f, sample_id, lang, n, score, flag, tags";
  duckdb::QueryResult r =
      Sql(StrCat("SELECT (SELECT count(*) FROM samples_1), (SELECT count(*) FROM samples_2), "
                 "(SELECT count(*) FROM (SELECT ",
                 columns, " FROM samples_1 EXCEPT ALL SELECT ", columns,
                 " FROM samples_2)), (SELECT count(*) FROM (SELECT ", columns,
                 " FROM samples_2 EXCEPT ALL SELECT ", columns,
                 " FROM samples_1)), "
                 "(SELECT count(*) FROM samples_2 WHERE n IS NULL)"));
  ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
  ASSERT_TRUE(more);
  EXPECT_EQ(r.GetInt64(0, 0), total);
  EXPECT_EQ(r.GetInt64(1, 0), total);
  EXPECT_EQ(r.GetInt64(2, 0), 0);
  EXPECT_EQ(r.GetInt64(3, 0), 0);
  EXPECT_EQ(r.GetInt64(4, 0), (total + 4) / 5);
}

TEST_F(MetadataStoreTest, AppendSampleStreamErrors) {
  const DatasetSpec spec = MixedSpec("d");
  {
    ASSERT_OK_AND_ASSIGN(auto writer, store_->BeginDataset(spec));
    ASSERT_OK_AND_ASSIGN(int64_t first, writer->ReserveFileIds(3));
    std::vector<SampleBatch> batches = MixedBatches(spec, first);
    size_t next = 0;
    EXPECT_STATUS(writer->AppendSampleStream([&]() -> Result<const SampleBatch*> {
      if (next == 3) return Status::Corruption("a.jsonl: line 9: truncated");
      return &batches[next++];
    }),
                  StatusCode::kCorruption, "line 9");
    // A batch of an unreserved file, and one that does not fit the spec.
    SampleBatch unreserved = std::move(batches[1]);
    unreserved.file_id = first + 7;
    bool served = false;
    auto once = [&](const SampleBatch* b) {
      served = false;
      return [&served, b]() -> Result<const SampleBatch*> {
        if (served) return nullptr;
        served = true;
        return b;
      };
    };
    EXPECT_STATUS(writer->AppendSampleStream(once(&unreserved)), StatusCode::kInvalidArgument,
                  "not reserved");
    SampleBatch ragged = std::move(batches[6]);
    ragged.columns[2].AppendFloat(1.0);
    EXPECT_STATUS(writer->AppendSampleStream(once(&ragged)), StatusCode::kInvalidArgument, "rows");
  }
  // The failed registration left nothing behind.
  ASSERT_OK_AND_ASSIGN(auto datasets, store_->ListDatasets());
  EXPECT_TRUE(datasets.empty());
  duckdb::QueryResult r =
      Sql("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'samples_%'");
  ASSERT_OK_AND_ASSIGN(bool more, r.NextChunk());
  ASSERT_TRUE(more);
  EXPECT_EQ(r.GetInt64(0, 0), 0);
}

}  // namespace
}  // namespace mixtera::store
