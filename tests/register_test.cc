// End-to-end registration through the Engine on small generated corpora: every format and
// compression, exact counts, exact bytes through the stored offsets, and every kind of bad
// input with the located error it must produce.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/strings.h"
#include "duckdb/connection.h"
#include "engine/engine.h"
#include "formats/input_stream.h"
#include "formats/offsets_file.h"
#include "ingest/spec_parser.h"
#include "testing/test_util.h"

namespace mixtera {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::WriteFile;

class RegisterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto eng = engine::Engine::Open(dir_.Join("mx"));
    ASSERT_TRUE(eng.ok()) << eng.status().ToString();
    engine_ = std::move(eng).value();
  }

  // Registers the YAML spec `yaml` (paths relative to the temp dir).
  Result<ingest::IngestReport> Register(const std::string& yaml) {
    auto spec = ingest::ParseDatasetSpec(yaml, dir_.path());
    if (!spec.ok()) return spec.status();
    ingest::IngestOptions options;
    options.num_threads = 2;
    return engine_->RegisterDataset(*spec, options, nullptr);
  }

  void Sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

  // Checks that nothing of dataset `name` remains after a failed registration.
  void ExpectNothingRegistered(const std::string& name) {
    EXPECT_STATUS(engine_->GetDataset(name), StatusCode::kNotFound, name);
    size_t offsets = 0;
    for (auto& e : fs::directory_iterator(dir_.Join("mx/offsets"))) {
      (void)e;
      ++offsets;
    }
    auto datasets = engine_->ListDatasets();
    ASSERT_TRUE(datasets.ok());
    EXPECT_EQ(offsets, datasets->size()) << "offsets left behind";
    size_t staged = 0;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir_.Join("mx/.staging"), ec)) {
      (void)e;
      ++staged;
    }
    EXPECT_EQ(staged, 0u) << "staging folders left behind";
  }

  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

const char* kLines =
    "{\"text\": \"alpha\", \"lang\": \"en\", \"n\": 1}\n"
    "\n"
    "{\"text\": \"beta\", \"lang\": \"de\", \"n\": 2}\r\n"
    "{\"text\": \"gamma \\u00fc\", \"lang\": \"en\", \"n\": 3}\n";

TEST_F(RegisterTest, JsonlSampleIdsAreLineIndicesAndOffsetsGiveExactBytes) {
  WriteFile(dir_.Join("d/a.jsonl"), kLines);
  ASSERT_OK_AND_ASSIGN(auto report, Register("name: a\nformat: jsonl\npath: d/*.jsonl\ntext: text\n"
                                             "properties: {lang: string, n: int}\n"));
  EXPECT_EQ(report.num_files, 1);
  EXPECT_EQ(report.num_samples, 3);
  ASSERT_OK_AND_ASSIGN(auto info, engine_->GetDataset("a"));
  EXPECT_EQ(info.num_samples, 3);
  ASSERT_OK_AND_ASSIGN(auto files, engine_->ListFiles("a"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].num_records, 4);  // the blank line keeps its index
  ASSERT_OK_AND_ASSIGN(auto offsets,
                       formats::OffsetsReader::Open(engine_->OffsetsDir(info.dataset_id) + "/" +
                                                    std::to_string(files[0].file_id) + ".offsets"));
  std::string data = kLines;
  std::vector<std::string> lines = {"{\"text\": \"alpha\", \"lang\": \"en\", \"n\": 1}", "",
                                    "{\"text\": \"beta\", \"lang\": \"de\", \"n\": 2}\r",
                                    "{\"text\": \"gamma \\u00fc\", \"lang\": \"en\", \"n\": 3}"};
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(auto e, offsets->Get(i));
    EXPECT_EQ(data.substr(e.offset, e.length), lines[i]) << i;
  }
}

TEST_F(RegisterTest, EveryCompressionGivesTheSameSamplesAndDecompressedOffsets) {
  WriteFile(dir_.Join("c/plain.jsonl"), kLines);
  Sh("cd " + dir_.Join("c") +
     " && gzip -k -c plain.jsonl > g.jsonl.gz && zstd -q -c plain.jsonl > z.jsonl.zst"
     " && xz -c plain.jsonl > x.jsonl.xz && bzip2 -c plain.jsonl > b.jsonl.bz2 && cp g.jsonl.gz "
     "g_noext");
  ASSERT_OK_AND_ASSIGN(auto report,
                       Register("name: c\nformat: jsonl\npath: c\nproperties: {lang: string}\n"));
  EXPECT_EQ(report.num_files, 6);
  EXPECT_EQ(report.num_samples, 18);
  ASSERT_OK_AND_ASSIGN(auto info, engine_->GetDataset("c"));
  ASSERT_OK_AND_ASSIGN(auto files, engine_->ListFiles("c"));
  std::map<std::string, model::Compression> expected = {
      {"b.jsonl.bz2", model::Compression::kBzip2}, {"g.jsonl.gz", model::Compression::kGzip},
      {"g_noext", model::Compression::kGzip},      {"plain.jsonl", model::Compression::kNone},
      {"x.jsonl.xz", model::Compression::kXz},     {"z.jsonl.zst", model::Compression::kZstd}};
  for (const auto& f : files) {
    std::string base = fs::path(f.path).filename().string();
    EXPECT_EQ(f.compression, expected[base]) << base;
    EXPECT_EQ(f.num_samples, 3);
    ASSERT_OK_AND_ASSIGN(auto offsets,
                         formats::OffsetsReader::Open(engine_->OffsetsDir(info.dataset_id) + "/" +
                                                      std::to_string(f.file_id) + ".offsets"));
    ASSERT_OK_AND_ASSIGN(auto e, offsets->Get(2));
    EXPECT_EQ(std::string(kLines).substr(e.offset, e.length),
              "{\"text\": \"beta\", \"lang\": \"de\", \"n\": 2}\r");
  }
}

struct BadCase {
  const char* name;
  std::string content;
  const char* properties;
  StatusCode code;
  const char* message;
};

TEST_F(RegisterTest, BadRecordsFailWithFileAndLine) {
  std::vector<BadCase> cases = {
      {"malformed", "{\"n\": 1}\n{\"n\": 2,}\n", "{n: int}", StatusCode::kCorruption,
       "line 2: malformed JSON"},
      {"utf8", "{\"n\": 1, \"s\": \"ok\"}\n{\"n\": 2, \"s\": \"\xff\xfe\"}\n", "{n: int}",
       StatusCode::kCorruption, "line 2: invalid UTF-8"},
      {"intstring", "{\"n\": \"123\"}\n", "{n: int}", StatusCode::kInvalidArgument,
       "line 1: property 'n' (int): expected an integer, got string \"123\""},
      {"intfloat", "{\"n\": 1}\n\n{\"n\": 3.0}\n", "{n: int}", StatusCode::kInvalidArgument,
       "line 3:"},
      {"missing", "{\"n\": 1}\n{\"m\": 1}\n", "{n: int}", StatusCode::kInvalidArgument,
       "line 2: property 'n' is missing or null and not nullable"},
      {"enum", "{\"l\": \"MIT\"}\n{\"l\": \"WTFPL\"}\n", "{l: {type: enum, values: [MIT]}}",
       StatusCode::kInvalidArgument,
       "line 2: property 'l': value \"WTFPL\" is not one of the enum values"},
      {"notobject", "[1, 2]\n", "{n: int}", StatusCode::kCorruption,
       "line 1: expected a JSON object"},
      {"empty", "", "{n: int}", StatusCode::kInvalidArgument, "file is empty"},
  };
  for (const auto& c : cases) {
    std::string path = dir_.Join(std::string("bad/") + c.name + ".jsonl");
    WriteFile(path, c.content);
    auto r = Register(std::string("name: ") + c.name + "\nformat: jsonl\npath: " + path +
                      "\nproperties: " + c.properties + "\n");
    SCOPED_TRACE(c.name);
    EXPECT_STATUS(r, c.code, c.message);
    EXPECT_STATUS(r, c.code, path);
    ExpectNothingRegistered(c.name);
  }
}

TEST_F(RegisterTest, SkipModeCountsAndReportsBadRecords) {
  WriteFile(dir_.Join("s/a.jsonl"), "{\"n\": 1}\n{\"n\": \"x\"}\nnot json\n{\"n\": 4}\n");
  ASSERT_OK_AND_ASSIGN(auto report,
                       Register("name: s\nformat: jsonl\npath: s/a.jsonl\non_error: skip\n"
                                "properties: {n: int}\n"));
  EXPECT_EQ(report.num_samples, 2);
  EXPECT_EQ(report.num_skipped, 2);
  ASSERT_EQ(report.skipped_examples.size(), 2u);
  EXPECT_THAT(report.skipped_examples[0], ::testing::HasSubstr("a.jsonl: line 2: property 'n'"));
  EXPECT_THAT(report.skipped_examples[1], ::testing::HasSubstr("line 3: malformed JSON"));
  ASSERT_OK_AND_ASSIGN(auto info, engine_->GetDataset("s"));
  EXPECT_EQ(info.num_skipped, 2);
  EXPECT_EQ(info.num_samples, 2);
}

TEST_F(RegisterTest, TruncatedCompressedFilesAreCorruption) {
  std::string big;
  for (int i = 0; i < 20000; ++i)
    big += "{\"n\": " + std::to_string(i) + ", \"text\": \"some words here\"}\n";
  WriteFile(dir_.Join("t/src.jsonl"), big);
  for (std::string tool : {"gzip", "zstd", "xz", "bzip2"}) {
    std::string out = dir_.Join("t/" + tool + ".jsonl.c");
    Sh(tool + " -c " + dir_.Join("t/src.jsonl") + " > " + out + ".full");
    std::uintmax_t size = fs::file_size(out + ".full");
    fs::copy_file(out + ".full", out);
    fs::resize_file(out, size / 2);
    auto r =
        Register("name: t" + tool + "\nformat: jsonl\npath: " + out + "\nproperties: {n: int}\n");
    SCOPED_TRACE(tool);
    EXPECT_STATUS(r, StatusCode::kCorruption, out);
    ExpectNothingRegistered("t" + tool);
  }
}

TEST_F(RegisterTest, WarnsAboutLargeCompressedFilesWithoutSeekPoints) {
  std::string data;
  while (data.size() < (size_t{3} << 20)) {
    data += "{\"n\": " + std::to_string(data.size()) + ", \"text\": \"filler filler filler\"}\n";
  }
  WriteFile(dir_.Join("z/plain.jsonl"), data);
  // One zstd frame: no seek points. Two gzip members: checkpoints every 1 MiB.
  Sh("cd " + dir_.Join("z") +
     " && zstd -q -c plain.jsonl > one.jsonl.zst && gzip -c plain.jsonl > g.jsonl.gz");
  auto spec = ingest::ParseDatasetSpec(
      "name: z\nformat: jsonl\npath: [z/one.jsonl.zst, z/g.jsonl.gz]\n", dir_.path());
  ASSERT_TRUE(spec.ok());
  ingest::IngestOptions options;
  options.gzip_checkpoint_interval = int64_t{1} << 20;
  ASSERT_OK_AND_ASSIGN(auto report, engine_->RegisterDataset(*spec, options, nullptr));
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_THAT(report.warnings[0], ::testing::HasSubstr("one.jsonl.zst"));
  EXPECT_THAT(report.warnings[0], ::testing::HasSubstr("has no seek points"));
}

TEST_F(RegisterTest, FifoIsRejectedInsteadOfBlocking) {
  fs::create_directories(dir_.Join("fifo"));
  ASSERT_EQ(mkfifo(dir_.Join("fifo/f.jsonl").c_str(), 0644), 0);
  EXPECT_STATUS(Register("name: f\nformat: jsonl\npath: fifo/f.jsonl\n"),
                StatusCode::kInvalidArgument, "not a regular file");
  ExpectNothingRegistered("f");
}

TEST_F(RegisterTest, SkippedRecordMessagesStayValidUtf8) {
  std::string value;
  for (int i = 0; i < 30; ++i) value += "\xc3\xa9";  // 30 x U+00E9, cut by the 40-byte limit
  WriteFile(dir_.Join("u/a.jsonl"), "{\"l\": \"a\"}\n{\"l\": \"" + value + "\"}\n");
  ASSERT_OK_AND_ASSIGN(auto report,
                       Register("name: u\nformat: jsonl\npath: u/a.jsonl\non_error: skip\n"
                                "properties: {l: {type: enum, values: [a]}}\n"));
  ASSERT_EQ(report.skipped_examples.size(), 1u);
  EXPECT_TRUE(IsValidUtf8(report.skipped_examples[0])) << report.skipped_examples[0];
  EXPECT_THAT(report.skipped_examples[0], ::testing::HasSubstr("line 2"));
}

TEST_F(RegisterTest, InvalidUtf8TextMemberIsABadRecordNotAFailedRegistration) {
  WriteFile(dir_.Join("wu/src/s0.cls"), "cat");
  WriteFile(dir_.Join("wu/src/s1.cls"), "\xff\xfe");
  WriteFile(dir_.Join("wu/src/s2.cls"), "dog");
  Sh("cd " + dir_.Join("wu/src") + " && tar cf ../a.tar s0.cls s1.cls s2.cls");
  ASSERT_OK_AND_ASSIGN(auto report,
                       Register("name: wu\nformat: webdataset\npath: wu/a.tar\non_error: skip\n"
                                "properties: {label: {type: string, field: cls}}\n"));
  EXPECT_EQ(report.num_samples, 2);
  EXPECT_EQ(report.num_skipped, 1);
  ASSERT_EQ(report.skipped_examples.size(), 1u);
  EXPECT_THAT(report.skipped_examples[0], ::testing::HasSubstr("sample 's1': property 'label'"));
}

TEST_F(RegisterTest, MissingPathsAndDuplicateNames) {
  EXPECT_STATUS(Register("name: m\nformat: jsonl\npath: nowhere/*.jsonl\n"), StatusCode::kNotFound,
                "matches no files");
  WriteFile(dir_.Join("dup/a.jsonl"), "{\"n\": 1}\n");
  ASSERT_OK(Register("name: dup\nformat: jsonl\npath: dup\n"));
  EXPECT_STATUS(Register("name: dup\nformat: jsonl\npath: dup\n"), StatusCode::kAlreadyExists,
                "already exists");
  ExpectNothingRegistered("no such dataset");  // no stray offsets or staging folders
}

TEST_F(RegisterTest, PropertyTypesAreGlobalAcrossDatasets) {
  WriteFile(dir_.Join("g/a.jsonl"), "{\"p\": 1}\n");
  WriteFile(dir_.Join("g/b.jsonl"), "{\"p\": \"x\"}\n");
  ASSERT_OK(Register("name: ga\nformat: jsonl\npath: g/a.jsonl\nproperties: {p: int}\n"));
  EXPECT_STATUS(Register("name: gb\nformat: jsonl\npath: g/b.jsonl\nproperties: {p: string}\n"),
                StatusCode::kInvalidArgument, "'p'");
  ExpectNothingRegistered("gb");
  ASSERT_OK(Register("name: gc\nformat: jsonl\npath: g/a.jsonl\nproperties: {p: int}\n"));
}

TEST_F(RegisterTest, WebDatasetTarPropertiesFromJsonAndTextMembers) {
  WriteFile(dir_.Join("w/src/s0.json"), "{\"category\": \"cat\", \"w\": 5}");
  WriteFile(dir_.Join("w/src/s0.txt"), "a cat");
  WriteFile(dir_.Join("w/src/s0.cls"), "3\n");
  WriteFile(dir_.Join("w/src/s1.json"), "{\"category\": \"dog\", \"w\": 6}");
  WriteFile(dir_.Join("w/src/s1.txt"), "a dog");
  WriteFile(dir_.Join("w/src/s1.cls"), "4\n");
  Sh("cd " + dir_.Join("w/src") +
     " && tar cf ../a.tar s0.json s0.txt s0.cls s1.json s1.txt s1.cls");
  ASSERT_OK_AND_ASSIGN(
      auto report,
      Register("name: w\nformat: webdataset\npath: w/a.tar\ntext: txt\n"
               "properties: {category: string, w: int, label: {type: int, field: cls}}\n"));
  EXPECT_EQ(report.num_samples, 2);
  ASSERT_OK_AND_ASSIGN(auto info, engine_->GetDataset("w"));
  ASSERT_OK_AND_ASSIGN(auto files, engine_->ListFiles("w"));
  ASSERT_OK_AND_ASSIGN(auto offsets,
                       formats::OffsetsReader::Open(engine_->OffsetsDir(info.dataset_id) + "/" +
                                                    std::to_string(files[0].file_id) + ".offsets"));
  ASSERT_OK_AND_ASSIGN(auto e1, offsets->Get(1));
  std::string tar = testing::ReadFile(dir_.Join("w/a.tar"));
  std::string span = tar.substr(e1.offset, e1.length);
  EXPECT_EQ(span.substr(0, 7), "s1.json");         // starts at the first member's header
  EXPECT_EQ(span.substr(span.size() - 2), "4\n");  // ends with the last member's data

  // A bad member value is located by sample key; a truncated tar names the member.
  WriteFile(dir_.Join("w/src/s1.cls"), "four\n");
  Sh("cd " + dir_.Join("w/src") +
     " && tar cf ../b.tar s0.json s0.txt s0.cls s1.json s1.txt s1.cls");
  EXPECT_STATUS(Register("name: wb\nformat: webdataset\npath: w/b.tar\n"
                         "properties: {label: {type: int, field: cls}}\n"),
                StatusCode::kInvalidArgument,
                "sample 's1': property 'label' (int): expected an integer");
  fs::copy_file(dir_.Join("w/a.tar"), dir_.Join("w/t.tar"));
  fs::resize_file(dir_.Join("w/t.tar"), 512 * 3 + 100);
  EXPECT_STATUS(
      Register("name: wt\nformat: webdataset\npath: w/t.tar\nproperties: {category: string}\n"),
      StatusCode::kCorruption, "t.tar");
  ExpectNothingRegistered("wt");
}

TEST_F(RegisterTest, RemoveDropsDatasetAndOffsets) {
  WriteFile(dir_.Join("r/a.jsonl"), "{\"n\": 1}\n");
  ASSERT_OK(Register("name: r\nformat: jsonl\npath: r\n"));
  ASSERT_OK_AND_ASSIGN(auto info, engine_->GetDataset("r"));
  EXPECT_TRUE(fs::exists(engine_->OffsetsDir(info.dataset_id)));
  ASSERT_OK(engine_->RemoveDataset("r"));
  EXPECT_FALSE(fs::exists(engine_->OffsetsDir(info.dataset_id)));
  EXPECT_STATUS(engine_->RemoveDataset("r"), StatusCode::kNotFound, "'r'");
  ASSERT_OK(Register("name: r\nformat: jsonl\npath: r\n"));  // the name is free again
}

TEST_F(RegisterTest, VerifyReportsChangedAndMissingFiles) {
  WriteFile(dir_.Join("v/a.jsonl"), "{\"n\": 1}\n");
  WriteFile(dir_.Join("v/b.jsonl"), "{\"n\": 2}\n");
  WriteFile(dir_.Join("v/c.jsonl"), "{\"n\": 3}\n");
  ASSERT_OK(Register("name: v\nformat: jsonl\npath: v\n"));
  ASSERT_OK_AND_ASSIGN(auto clean, engine_->Verify(std::nullopt));
  EXPECT_EQ(clean.num_files_checked, 3);
  EXPECT_TRUE(clean.changes.empty());
  WriteFile(dir_.Join("v/a.jsonl"), "{\"n\": 10}\n");  // size changes
  fs::remove(dir_.Join("v/b.jsonl"));
  struct timespec times[2] = {{0, UTIME_OMIT}, {12345, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, dir_.Join("v/c.jsonl").c_str(), times, 0), 0);
  ASSERT_OK_AND_ASSIGN(auto report, engine_->Verify(std::string("v")));
  ASSERT_EQ(report.changes.size(), 3u);
  EXPECT_EQ(report.changes[0].change, "size");
  EXPECT_EQ(report.changes[1].change, "missing");
  EXPECT_EQ(report.changes[2].change, "mtime");
  EXPECT_STATUS(engine_->Verify(std::string("nope")), StatusCode::kNotFound, "nope");
}

}  // namespace
}  // namespace mixtera

namespace mixtera {
namespace {

TEST_F(RegisterTest, ParquetRowsWrongColumnsAndCorruptFiles) {
  fs::create_directories(dir_.Join("p"));
  {
    ASSERT_OK_AND_ASSIGN(auto db, duckdb::Database::Open(":memory:"));
    ASSERT_OK_AND_ASSIGN(auto conn, db.Connect());
    ASSERT_OK(
        conn.Execute("COPY (SELECT i AS n, CASE WHEN i % 3 = 0 THEN 'a' ELSE 'b' END AS cat, "
                     "'text ' || i AS text FROM range(1000) t(i)) TO '" +
                     dir_.Join("p/good.parquet") + "' (FORMAT parquet, ROW_GROUP_SIZE 100)"));
  }
  ASSERT_OK_AND_ASSIGN(auto report,
                       Register("name: p\nformat: parquet\npath: p/good.parquet\ntext: text\n"
                                "properties: {n: int, cat: {type: enum, values: [a, b]}}\n"));
  EXPECT_EQ(report.num_samples, 1000);
  EXPECT_STATUS(
      Register("name: p2\nformat: parquet\npath: p/good.parquet\nproperties: {cat: int}\n"),
      StatusCode::kInvalidArgument, "cat");
  EXPECT_STATUS(
      Register("name: p3\nformat: parquet\npath: p/good.parquet\nproperties: {colour: string}\n"),
      StatusCode::kInvalidArgument, "colour");
  EXPECT_STATUS(Register("name: p4\nformat: parquet\npath: p/good.parquet\n"
                         "properties: {cat: {type: enum, values: [a]}}\n"),
                StatusCode::kInvalidArgument, "row 1");
  std::string data = testing::ReadFile(dir_.Join("p/good.parquet"));
  WriteFile(dir_.Join("p/corrupt.parquet"), data.substr(0, data.size() / 2));
  EXPECT_STATUS(
      Register("name: p5\nformat: parquet\npath: p/corrupt.parquet\nproperties: {n: int}\n"),
      StatusCode::kCorruption, "corrupt.parquet");
  ExpectNothingRegistered("p5");
}

}  // namespace
}  // namespace mixtera
