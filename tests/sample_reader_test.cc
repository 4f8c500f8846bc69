// ReadSampleTexts end to end: datasets registered through the Engine (JSONL plain, gzip
// multi-member and zstd multi-frame; Parquet; WebDataset plain and gzip), read back with the
// file table the engine keeps, for random subsets of samples; and files changed or removed
// after registration.
#include "formats/sample_reader.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/strings.h"
#include "duckdb/connection.h"
#include "engine/engine.h"
#include "ingest/spec_parser.h"
#include "testing/test_util.h"

namespace mixtera {
namespace {

namespace fs = std::filesystem;
using formats::ReadSampleTexts;
using formats::SampleFile;
using testing::TempDir;
using testing::WriteFile;

class SampleReaderE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto eng = engine::Engine::Open(dir_.Join("mx"));
    ASSERT_TRUE(eng.ok()) << eng.status().ToString();
    engine_ = std::move(eng).value();
  }

  void Sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

  void Register(const std::string& yaml) {
    auto spec = ingest::ParseDatasetSpec(yaml, dir_.path());
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    ingest::IngestOptions options;
    options.num_threads = 2;
    options.gzip_checkpoint_interval = 8192;  // many gzip seek points in small files
    auto report = engine_->RegisterDataset(*spec, options, nullptr);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
  }

  // The registered files of dataset `name` as a job's file table describes them (the same
  // fields engine/query_executor.cc copies into chunk::JobFile), by file name.
  std::map<std::string, SampleFile> Files(const std::string& name) {
    std::map<std::string, SampleFile> out;
    auto info = engine_->GetDataset(name);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    auto files = engine_->ListFiles(name);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    if (!info.ok() || !files.ok()) return out;
    for (const model::FileRecord& f : *files) {
      SampleFile s;
      s.path = f.path;
      s.format = std::string(model::DataFormatName(info->format));
      s.compression = std::string(model::CompressionName(f.compression));
      s.text_fields = info->text_fields;
      s.offsets_path = StrCat(engine_->OffsetsDir(info->dataset_id), "/", f.file_id);
      s.size_bytes = f.size_bytes;
      s.mtime_ns = f.mtime_ns;
      out[fs::path(f.path).filename().string()] = s;
    }
    return out;
  }

  // Checks random subsets of `valid` (the sample ids that hold a sample) against `texts`.
  void CheckSubsets(const SampleFile& file, const std::vector<std::string>& texts,
                    const std::vector<uint32_t>& valid) {
    std::mt19937 rng(42);
    for (double p : {0.0, 0.003, 0.05, 0.4, 1.0}) {
      std::bernoulli_distribution keep(p);
      for (int rep = 0; rep < 3; ++rep) {
        std::vector<uint32_t> ids;
        std::vector<std::string> expected;
        for (uint32_t id : valid) {
          if (!keep(rng)) continue;
          ids.push_back(id);
          expected.push_back(texts[id]);
        }
        auto got = ReadSampleTexts(file, ids);
        ASSERT_TRUE(got.ok()) << file.path << ": " << got.status().ToString();
        ASSERT_EQ(*got, expected) << file.path << ", p " << p;
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

// Lines of JSON with texts of varied lengths; every 97th line is malformed (skipped under
// on_error: skip) and every 61st blank. `texts[i]` is line i's text; `valid` the sample ids.
std::string MakeJsonl(int n, std::vector<std::string>* texts, std::vector<uint32_t>* valid) {
  std::mt19937 rng(9);
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string words;
    for (int w = static_cast<int>(rng() % 120); w > 0; --w) words += StrCat(" t", rng() % 5000);
    // The JSON escape \u00e9 and the raw UTF-8 bytes of U+00E9 both decode to the same text.
    texts->push_back(StrCat("line ", i, " \xc3\xa9 \xc3\xa9", words));
    if (i % 61 == 60) {
      out += "\n";
    } else if (i % 97 == 96) {
      out += "{\"text\": \"broken\", \n";
    } else {
      out += StrCat("{\"n\": ", i, ", \"text\": \"line ", i, " \\u00e9 \xc3\xa9", words, "\"}\n");
      valid->push_back(static_cast<uint32_t>(i));
    }
  }
  return out;
}

TEST_F(SampleReaderE2ETest, JsonlEveryCompression) {
  std::vector<std::string> texts;
  std::vector<uint32_t> valid;
  const std::string data = MakeJsonl(4000, &texts, &valid);
  WriteFile(dir_.Join("j/plain.jsonl"), data);
  const size_t part = data.size() / 6 + 1;
  for (int i = 0; i < 6; ++i)
    WriteFile(dir_.Join(StrCat("parts/p", i)), data.substr(i * part, part));
  Sh("cd " + dir_.path() +
     " && for i in 0 1 2 3 4 5; do gzip -c parts/p$i >> j/multi.jsonl.gz;"
     " zstd -q -c parts/p$i >> j/multi.jsonl.zst; done && xz -c j/plain.jsonl > j/x.jsonl.xz");
  Register(
      "name: j\nformat: jsonl\npath: j\ntext: text\non_error: skip\n"
      "properties: {n: int}\n");
  auto files = Files("j");
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files["multi.jsonl.gz"].compression, "gzip");
  EXPECT_EQ(files["multi.jsonl.zst"].compression, "zstd");
  for (const auto& [name, file] : files) {
    SCOPED_TRACE(name);
    CheckSubsets(file, texts, valid);
    EXPECT_STATUS(ReadSampleTexts(file, {0, 96}), StatusCode::kCorruption,
                  file.path + ": sample 96: malformed JSON");
    EXPECT_STATUS(ReadSampleTexts(file, {4000}), StatusCode::kOutOfRange, "sample 4000");
  }
}

TEST_F(SampleReaderE2ETest, ParquetRows) {
  fs::create_directories(dir_.Join("p"));
  {
    auto db = duckdb::Database::Open(":memory:");
    ASSERT_TRUE(db.ok());
    auto conn = db->Connect();
    ASSERT_TRUE(conn.ok());
    ASSERT_OK(conn->Execute(
        "COPY (SELECT i AS n, 'row ' || i || repeat(' z', (i % 13)::INTEGER) AS text "
        "FROM range(50000) t(i)) TO " +
        duckdb::QuoteLiteral(dir_.Join("p/a.parquet")) + " (FORMAT parquet, ROW_GROUP_SIZE 4096)"));
  }
  Register("name: p\nformat: parquet\npath: p/a.parquet\ntext: text\nproperties: {n: int}\n");
  std::vector<std::string> texts;
  std::vector<uint32_t> valid;
  for (uint32_t i = 0; i < 50000; ++i) {
    std::string t = StrCat("row ", i);
    for (uint32_t k = 0; k < i % 13; ++k) t += " z";
    texts.push_back(t);
    valid.push_back(i);
  }
  auto files = Files("p");
  ASSERT_EQ(files.size(), 1u);
  CheckSubsets(files["a.parquet"], texts, valid);
}

TEST_F(SampleReaderE2ETest, WebDatasetPlainAndGzip) {
  std::vector<std::string> texts;
  std::vector<uint32_t> valid;
  for (int i = 0; i < 300; ++i) {
    const std::string key = StrCat("shard/", 100000 + i);
    std::string text = StrCat("caption ", i, std::string(static_cast<size_t>(i * 7 % 2000), '.'));
    WriteFile(dir_.Join("src/" + key + ".txt"), text);
    WriteFile(dir_.Join("src/" + key + ".json"), StrCat("{\"n\": ", i, "}"));
    texts.push_back(text);
    valid.push_back(static_cast<uint32_t>(i));
  }
  Sh("mkdir -p " + dir_.Join("w") + " && cd " + dir_.Join("src") +
     " && tar --format=gnu --sort=name -cf ../w/a.tar shard && gzip -c ../w/a.tar > "
     "../w/b.tar.gz");
  Register("name: w\nformat: webdataset\npath: w\ntext: txt\nproperties: {n: int}\n");
  auto files = Files("w");
  ASSERT_EQ(files.size(), 2u);
  for (const auto& [name, file] : files) {
    SCOPED_TRACE(name);
    CheckSubsets(file, texts, valid);
  }
}

TEST_F(SampleReaderE2ETest, ChangedAndMissingFiles) {
  WriteFile(dir_.Join("c/a.jsonl"), "{\"text\": \"one\"}\n{\"text\": \"two\"}\n");
  WriteFile(dir_.Join("c/b.jsonl"), "{\"text\": \"three\"}\n");
  Register("name: c\nformat: jsonl\npath: c\ntext: text\n");
  auto files = Files("c");
  ASSERT_OK_AND_ASSIGN(auto got, ReadSampleTexts(files["a.jsonl"], {0, 1}));
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));

  // Same size, new mtime.
  struct timeval times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(::utimes(files["a.jsonl"].path.c_str(), times), 0);
  EXPECT_STATUS(ReadSampleTexts(files["a.jsonl"], {0}), StatusCode::kFailedPrecondition,
                StrCat(files["a.jsonl"].path, ": changed since registration: mtime ",
                       files["a.jsonl"].mtime_ns, " -> 1000000000000000000 ns"));
  // New size (and mtime).
  WriteFile(dir_.Join("c/b.jsonl"), "{\"text\": \"three\"}\n{\"text\": \"four\"}\n");
  EXPECT_STATUS(ReadSampleTexts(files["b.jsonl"], {0}), StatusCode::kFailedPrecondition,
                StrCat(files["b.jsonl"].path, ": changed since registration: size 18 -> "));
  fs::remove(dir_.Join("c/b.jsonl"));
  EXPECT_STATUS(ReadSampleTexts(files["b.jsonl"], {0}), StatusCode::kNotFound,
                files["b.jsonl"].path + ": missing");
}

}  // namespace
}  // namespace mixtera
