// ReadSampleTexts on data files "registered" the way ingest does it: the offsets (and, for
// compressed files, the seek points) are recorded with the formats writers while the file is
// read to its end. End-to-end registration through the Engine is in tests/sample_reader_test.cc.
#include "formats/sample_reader.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "duckdb/connection.h"
#include "formats/input_stream.h"
#include "formats/line_reader.h"
#include "formats/offsets_file.h"
#include "formats/tar_reader.h"
#include "testing/test_util.h"

namespace mixtera::formats {
namespace {

using ::mixtera::testing::ReadFile;
using ::mixtera::testing::TempDir;
using ::mixtera::testing::WriteFile;

void Sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

// Sorted distinct random ids in [0, n): each id is kept with probability `p`.
std::vector<uint32_t> RandomSubset(uint32_t n, double p, std::mt19937* rng) {
  std::bernoulli_distribution keep(p);
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < n; ++i) {
    if (keep(*rng)) ids.push_back(i);
  }
  return ids;
}

std::vector<std::string> Select(const std::vector<std::string>& all,
                                const std::vector<uint32_t>& ids) {
  std::vector<std::string> out;
  for (uint32_t id : ids) out.push_back(all[id]);
  return out;
}

class SampleReaderTest : public ::testing::Test {
 protected:
  // Records offsets and seek points of `path` as ingest does (a small gzip checkpoint interval
  // gives gzip files many seek points) and returns the file as registered.
  SampleFile Register(const std::string& path, const std::string& format,
                      std::vector<std::string> text_fields) {
    SampleFile file;
    file.path = path;
    file.format = format;
    file.text_fields = std::move(text_fields);
    file.offsets_path = dir_.Join(StrCat("offsets/", next_file_id_++));
    Status st = Index(&file);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return file;
  }

  Status Index(SampleFile* file) {
    std::filesystem::create_directories(dir_.Join("offsets"));
    struct stat st;
    if (::stat(file->path.c_str(), &st) != 0) return Status::IOError("stat failed");
    file->size_bytes = st.st_size;
    file->mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (file->format == "parquet") {
      file->compression = "none";
      return Status::OK();
    }
    auto compression = DetectFileCompression(file->path);
    if (!compression.ok()) return compression.status();
    file->compression = std::string(model::CompressionName(*compression));
    std::vector<SeekPoint> points;
    InputStreamOptions options;
    options.seek_points = &points;
    options.gzip_checkpoint_interval = 4096;
    auto stream = OpenInputStream(file->path, *compression, options);
    if (!stream.ok()) return stream.status();
    auto offsets = OffsetsWriter::Create(file->offsets_path + ".offsets");
    if (!offsets.ok()) return offsets.status();
    if (file->format == "jsonl") {
      LineReader lines(std::move(stream).value());
      LineReader::Line line;
      while (true) {
        auto more = lines.Next(&line);
        if (!more.ok()) return more.status();
        if (!*more) break;
        Status s = (*offsets)->Add(line.offset, static_cast<int64_t>(line.bytes.size()));
        if (!s.ok()) return s;
      }
    } else {
      TarSampleScanner scanner(std::move(stream).value(), file->path, {});
      while (true) {
        auto sample = scanner.Next();
        if (!sample.ok()) return sample.status();
        if (!sample->has_value()) break;
        Status s = (*offsets)->Add((*sample)->begin_offset,
                                   (*sample)->end_offset - (*sample)->begin_offset);
        if (!s.ok()) return s;
      }
    }
    Status s = (*offsets)->Finish();
    if (!s.ok()) return s;
    num_seek_points_ = static_cast<int64_t>(points.size());
    if (*compression != model::Compression::kNone) {
      return WriteSeekPoints(file->offsets_path + ".seek", points);
    }
    return Status::OK();
  }

  // Checks ReadSampleTexts against `texts` (sample id -> text) for random subsets of several
  // densities, every sample, and single samples at both ends.
  void CheckRandomSubsets(const SampleFile& file, const std::vector<std::string>& texts,
                          uint32_t seed) {
    std::mt19937 rng(seed);
    const uint32_t n = static_cast<uint32_t>(texts.size());
    std::vector<std::vector<uint32_t>> subsets = {{}, {0}, {n - 1}, {0, n - 1}};
    std::vector<uint32_t> all(n);
    for (uint32_t i = 0; i < n; ++i) all[i] = i;
    subsets.push_back(all);
    for (double p : {0.001, 0.01, 0.1, 0.5, 0.9}) {
      for (int rep = 0; rep < 3; ++rep) subsets.push_back(RandomSubset(n, p, &rng));
    }
    for (const auto& ids : subsets) {
      auto got = ReadSampleTexts(file, ids);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(*got, Select(texts, ids)) << file.path << ": " << ids.size() << " ids";
    }
  }

  TempDir dir_;
  int next_file_id_ = 0;
  int64_t num_seek_points_ = 0;
};

// JSONL records with texts of varied length (some with escapes and non-ASCII), and every
// 50th line blank; `texts` gets each record's text ("" for blank lines).
std::string MakeJsonl(int n, uint32_t seed, std::vector<std::string>* texts) {
  std::mt19937 rng(seed);
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i % 50 == 49) {
      out += "\n";
      texts->push_back("");
      continue;
    }
    std::string text = StrCat("doc ", i, ":");
    const int words = static_cast<int>(rng() % 200);
    for (int w = 0; w < words; ++w) text += StrCat(" w", rng() % 1000);
    if (i % 7 == 0) text += " \"quoted\"\ttab \xc3\xbc";
    texts->push_back(text);
    std::string escaped;
    for (char c : text) {
      if (c == '"') {
        escaped += "\\\"";
      } else if (c == '\t') {
        escaped += "\\t";
      } else {
        escaped += c;
      }
    }
    out += StrCat("{\"id\": ", i, ", \"text\": \"", escaped, "\"}", i % 3 == 0 ? "\r\n" : "\n");
  }
  return out;
}

TEST_F(SampleReaderTest, JsonlPlainGzipAndZstdGiveTheTextsWritten) {
  std::vector<std::string> texts;
  const std::string data = MakeJsonl(3000, 1, &texts);
  // Ids of blank lines are not samples: leave them out of the expected texts by never asking.
  WriteFile(dir_.Join("plain.jsonl"), data);
  // Multi-member gzip and multi-frame zstd: the file split in 5 parts, each compressed alone.
  const size_t part = data.size() / 5 + 1;
  for (int i = 0; i < 5; ++i) WriteFile(dir_.Join(StrCat("part", i)), data.substr(i * part, part));
  Sh("cd " + dir_.path() +
     " && for i in 0 1 2 3 4; do gzip -c part$i >> multi.jsonl.gz; zstd -q -c part$i >> "
     "multi.jsonl.zst; done && zstd -q -c plain.jsonl > single.jsonl.zst && bzip2 -c plain.jsonl "
     "> b.jsonl.bz2");
  std::vector<uint32_t> blank;
  for (uint32_t i = 49; i < texts.size(); i += 50) blank.push_back(i);
  for (const char* name :
       {"plain.jsonl", "multi.jsonl.gz", "multi.jsonl.zst", "single.jsonl.zst", "b.jsonl.bz2"}) {
    SCOPED_TRACE(name);
    SampleFile file = Register(dir_.Join(name), "jsonl", {"/text"});
    if (std::string(name) == "multi.jsonl.gz") {
      EXPECT_GE(num_seek_points_, 5);  // deflate block boundaries past each 4 KiB
    }
    if (std::string(name) == "multi.jsonl.zst") {
      EXPECT_EQ(num_seek_points_, 4);  // the starts of frames 2-5
    }
    // Random subsets without the blank lines.
    std::mt19937 rng(7);
    for (double p : {0.002, 0.02, 0.3, 1.0}) {
      std::vector<uint32_t> ids;
      for (uint32_t id : RandomSubset(static_cast<uint32_t>(texts.size()), p, &rng)) {
        if (id % 50 != 49) ids.push_back(id);
      }
      ASSERT_OK_AND_ASSIGN(auto got, ReadSampleTexts(file, ids));
      EXPECT_EQ(got, Select(texts, ids)) << p;
    }
    ASSERT_OK_AND_ASSIGN(auto last, ReadSampleTexts(file, {2998}));
    EXPECT_EQ(last, std::vector<std::string>{texts[2998]});
    EXPECT_STATUS(ReadSampleTexts(file, {3, 49}), StatusCode::kInvalidArgument,
                  "sample 49 is a blank line");
    EXPECT_STATUS(ReadSampleTexts(file, {1, 3000}), StatusCode::kOutOfRange, "sample 3000");
  }
}

TEST_F(SampleReaderTest, AReaderCacheGivesTheSameTextsAcrossCalls) {
  std::vector<std::string> texts;
  const std::string data = MakeJsonl(3000, 2, &texts);
  WriteFile(dir_.Join("plain.jsonl"), data);
  Sh("cd " + dir_.path() +
     " && gzip -c plain.jsonl > a.jsonl.gz && zstd -q -c plain.jsonl > a.jsonl.zst");
  ReaderCache cache(2);  // three files: each visit may evict another
  std::vector<SampleFile> files;
  for (const char* name : {"plain.jsonl", "a.jsonl.gz", "a.jsonl.zst"}) {
    files.push_back(Register(dir_.Join(name), "jsonl", {"/text"}));
  }
  // Consecutive "chunks" forwards, then a jump back: every call through the cache equals
  // the texts written.
  std::vector<std::pair<uint32_t, uint32_t>> windows;
  for (uint32_t b = 0; b < 2900; b += 300) windows.push_back({b, b + 120});
  windows.push_back({10, 40});
  for (const auto& [b, e] : windows) {
    std::vector<uint32_t> ids;
    for (uint32_t id = b; id < e; ++id) {
      if (id % 50 != 49) ids.push_back(id);
    }
    for (const SampleFile& file : files) {
      SCOPED_TRACE(file.path);
      ASSERT_OK_AND_ASSIGN(auto got, ReadSampleTexts(file, ids, &cache));
      ASSERT_EQ(got, Select(texts, ids)) << b;
    }
  }
  // A file changed since it was cached is an error, not a stale read.
  WriteFile(dir_.Join("plain.jsonl"), data + "{\"text\": \"late\"}\n");
  EXPECT_STATUS(ReadSampleTexts(files[0], {1}, &cache), StatusCode::kFailedPrecondition,
                "changed since registration");
}

TEST_F(SampleReaderTest, SeveralTextFieldsNestedPointersAndEscapes) {
  WriteFile(dir_.Join("a.jsonl"),
            "{\"meta\": {\"a/b\": \"title 0\", \"t~\": \"x\"}, \"body\": [\"b0\", \"b1\"]}\n"
            "{\"meta\": {\"a/b\": \"title 1\"}, \"body\": [\"c0\", \"\\u00e9\\n\"]}\n");
  SampleFile file = Register(dir_.Join("a.jsonl"), "jsonl", {"/meta/a~1b", "/body/1"});
  ASSERT_OK_AND_ASSIGN(auto got, ReadSampleTexts(file, {0, 1}));
  EXPECT_EQ(got, (std::vector<std::string>{"title 0\n\nb1", "title 1\n\n\xc3\xa9\n"}));
  file.text_fields = {"/meta/t~0"};
  ASSERT_OK_AND_ASSIGN(got, ReadSampleTexts(file, {0}));
  EXPECT_EQ(got, std::vector<std::string>{"x"});
  EXPECT_STATUS(ReadSampleTexts(file, {0, 1}), StatusCode::kInvalidArgument,
                "a.jsonl: sample 1: text field '/meta/t~0' is missing");
  file.text_fields = {"/body"};
  EXPECT_STATUS(ReadSampleTexts(file, {1}), StatusCode::kInvalidArgument,
                "a.jsonl: sample 1: text field '/body' must be a string, got an array");
  file.text_fields = {"body"};
  EXPECT_STATUS(ReadSampleTexts(file, {1}), StatusCode::kInvalidArgument, "not a JSON pointer");
  file.text_fields = {};
  EXPECT_STATUS(ReadSampleTexts(file, {1}), StatusCode::kInvalidArgument, "no text field");
}

TEST_F(SampleReaderTest, BadIdsFormatsAndCompressions) {
  WriteFile(dir_.Join("a.jsonl"), "{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
  SampleFile file = Register(dir_.Join("a.jsonl"), "jsonl", {"/text"});
  ASSERT_OK_AND_ASSIGN(auto none, ReadSampleTexts(file, {}));
  EXPECT_TRUE(none.empty());
  EXPECT_STATUS(ReadSampleTexts(file, {1, 0}), StatusCode::kInvalidArgument, "strictly ascending");
  EXPECT_STATUS(ReadSampleTexts(file, {1, 1}), StatusCode::kInvalidArgument, "strictly ascending");
  EXPECT_STATUS(ReadSampleTexts(file, {2}), StatusCode::kOutOfRange,
                "sample 2 is beyond the file, which has 2 records");
  SampleFile bad = file;
  bad.format = "csv";
  EXPECT_STATUS(ReadSampleTexts(bad, {0}), StatusCode::kInvalidArgument, "unknown format 'csv'");
  bad = file;
  bad.compression = "lz4";
  EXPECT_STATUS(ReadSampleTexts(bad, {0}), StatusCode::kInvalidArgument, "unknown compression");
  bad = file;
  bad.offsets_path = dir_.Join("nowhere");
  EXPECT_STATUS(ReadSampleTexts(bad, {0}), StatusCode::kNotFound, "nowhere.offsets");
}

TEST_F(SampleReaderTest, ChangedAndMissingFilesAreReportedBeforeReading) {
  WriteFile(dir_.Join("a.jsonl"), "{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
  SampleFile file = Register(dir_.Join("a.jsonl"), "jsonl", {"/text"});
  ASSERT_OK(ReadSampleTexts(file, {0, 1}));

  SampleFile other_mtime = file;
  other_mtime.mtime_ns += 1;
  EXPECT_STATUS(ReadSampleTexts(other_mtime, {0}), StatusCode::kFailedPrecondition,
                StrCat(file.path, ": changed since registration: mtime ", other_mtime.mtime_ns,
                       " -> ", file.mtime_ns, " ns"));

  WriteFile(dir_.Join("a.jsonl"), "{\"text\": \"A\"}\n{\"text\": \"bb\"}\n");
  EXPECT_STATUS(ReadSampleTexts(file, {0}), StatusCode::kFailedPrecondition,
                StrCat(file.path, ": changed since registration: size ", file.size_bytes, " -> ",
                       file.size_bytes + 1, " bytes"));

  std::filesystem::remove(dir_.Join("a.jsonl"));
  EXPECT_STATUS(ReadSampleTexts(file, {0}), StatusCode::kNotFound, file.path + ": missing");
}

TEST_F(SampleReaderTest, RecordsThatNoLongerParseAreCorruption) {
  // Same size, same mtime, other bytes: the reader still notices a broken record.
  WriteFile(dir_.Join("a.jsonl"), "{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
  SampleFile file = Register(dir_.Join("a.jsonl"), "jsonl", {"/text"});
  WriteFile(dir_.Join("a.jsonl"), "{\"text\": \"a\"}\n{\"text\": \"b\"]\n");
  ASSERT_OK(Index(&file));  // re-register size/mtime only; offsets are the same
  EXPECT_STATUS(ReadSampleTexts(file, {1}), StatusCode::kCorruption,
                "a.jsonl: sample 1: malformed JSON");
}

// A WebDataset archive of `n` samples "s<i>" with .txt, .json and (for every third) .cls
// members; `texts` gets "<txt>" per sample.
void MakeTar(const TempDir& dir, int n, std::vector<std::string>* texts) {
  std::mt19937 rng(3);
  for (int i = 0; i < n; ++i) {
    std::string key = StrCat("s", 10000 + i);
    std::string text = StrCat("text of ", key, std::string(rng() % 1500, 'x'));
    if (i % 11 == 0) text += "\xff\xfe not UTF-8";  // member bytes are returned as they are
    WriteFile(dir.Join("wds/" + key + ".txt"), text);
    WriteFile(dir.Join("wds/" + key + ".json"), StrCat("{\"i\": ", i, "}"));
    if (i % 3 == 0) WriteFile(dir.Join("wds/" + key + ".cls"), "1");
    texts->push_back(text);
  }
}

TEST_F(SampleReaderTest, WebDatasetPlainAndCompressed) {
  std::vector<std::string> texts;
  MakeTar(dir_, 400, &texts);
  Sh("cd " + dir_.Join("wds") + " && tar --format=pax --sort=name -cf ../a.tar . && cd .. && " +
     "gzip -k -c a.tar > a.tar.gz && zstd -q -c a.tar > a.tar.zst");
  // tar adds "./" (a directory entry) first, so the sample ids start at 0 with s10000.
  for (const char* name : {"a.tar", "a.tar.gz", "a.tar.zst"}) {
    SCOPED_TRACE(name);
    SampleFile file = Register(dir_.Join(name), "webdataset", {"txt"});
    CheckRandomSubsets(file, texts, 11);
    file.text_fields = {"txt", "json"};
    ASSERT_OK_AND_ASSIGN(auto two, ReadSampleTexts(file, {5}));
    EXPECT_EQ(two, std::vector<std::string>{texts[5] + "\n\n{\"i\": 5}"});
    file.text_fields = {"cls"};
    ASSERT_OK_AND_ASSIGN(auto cls, ReadSampleTexts(file, {0, 3}));
    EXPECT_EQ(cls, (std::vector<std::string>{"1", "1"}));
    EXPECT_STATUS(ReadSampleTexts(file, {3, 4}), StatusCode::kInvalidArgument,
                  StrCat(name, ": sample 4 ('./s10004'): text member '.cls' is missing"));
    EXPECT_STATUS(ReadSampleTexts(file, {400}), StatusCode::kOutOfRange, "sample 400");
  }
}

// ustar stores a path over 100 bytes with a prefix, which the in-place split declines: every
// third sample here has one, so reads switch between the split and the scanner within a span.
TEST_F(SampleReaderTest, WebDatasetSamplesTheInPlaceSplitDeclinesAreScanned) {
  const std::string long_dir(90, 'd');
  std::vector<std::string> texts;
  std::string list;
  for (int i = 0; i < 60; ++i) {
    const std::string key = (i % 3 == 1 ? long_dir + "/" : "") + StrCat("s", 100 + i);
    const std::string text = StrCat("text ", i, std::string(i * 37 % 900, 'y'));
    WriteFile(dir_.Join("wds/" + key + ".json"), "{}");
    WriteFile(dir_.Join("wds/" + key + ".txt"), text);
    list += key + ".json\n" + key + ".txt\n";
    texts.push_back(text);
  }
  WriteFile(dir_.Join("list"), list);
  Sh("tar --format=ustar -cf '" + dir_.Join("a.tar") + "' -C '" + dir_.Join("wds") + "' -T '" +
     dir_.Join("list") + "'");
  SampleFile file = Register(dir_.Join("a.tar"), "webdataset", {"txt"});
  CheckRandomSubsets(file, texts, 5);
}

TEST_F(SampleReaderTest, WebDatasetOffsetsThatDoNotMatchTheArchiveAreCorruption) {
  std::vector<std::string> texts;
  MakeTar(dir_, 5, &texts);
  Sh("cd " + dir_.Join("wds") + " && tar --format=gnu --sort=name -cf ../a.tar .");
  SampleFile file = Register(dir_.Join("a.tar"), "webdataset", {"txt"});
  // Offsets of a different archive (one sample less at the front) under the same name.
  std::filesystem::remove(dir_.Join("wds/s10000.txt"));
  std::filesystem::remove(dir_.Join("wds/s10000.json"));
  std::filesystem::remove(dir_.Join("wds/s10000.cls"));
  Sh("cd " + dir_.Join("wds") + " && tar --format=gnu --sort=name -cf ../b.tar .");
  SampleFile other = Register(dir_.Join("b.tar"), "webdataset", {"txt"});
  file.offsets_path = other.offsets_path;
  EXPECT_STATUS(ReadSampleTexts(file, {1}), StatusCode::kCorruption, "a.tar");
}

class ParquetSampleReaderTest : public SampleReaderTest {
 protected:
  std::string WriteParquet(const std::string& name, const std::string& select,
                           const std::string& options = "") {
    std::string path = dir_.Join(name);
    auto db = duckdb::Database::Open(":memory:", duckdb::DatabaseOptions{"256MB", 1});
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    auto conn = db->Connect();
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    Status st = conn->Execute("COPY (" + select + ") TO " + duckdb::QuoteLiteral(path) +
                              " (FORMAT parquet" + options + ")");
    EXPECT_TRUE(st.ok()) << st.ToString();
    return path;
  }
};

TEST_F(ParquetSampleReaderTest, RandomRowsAcrossRowGroups) {
  // 200k rows in row groups of 10k; sparse subsets span several queries (gaps > 65536 rows).
  const uint32_t n = 200000;
  std::string path =
      WriteParquet("p.parquet",
                   StrCat("SELECT i, 'text ' || i || repeat('y', (i % 37)::INTEGER) AS text, "
                          "'t' || (i % 5) AS title, (i % 3)::INTEGER AS n FROM range(",
                          n, ") t(i)"),
                   ", ROW_GROUP_SIZE 10000");
  std::vector<std::string> texts(n);
  for (uint32_t i = 0; i < n; ++i) texts[i] = StrCat("text ", i, std::string(i % 37, 'y'));
  SampleFile file = Register(path, "parquet", {"text"});
  CheckRandomSubsets(file, texts, 5);
  ASSERT_OK_AND_ASSIGN(auto far, ReadSampleTexts(file, {0, 100000, 199999}));
  EXPECT_EQ(far, (std::vector<std::string>{texts[0], texts[100000], texts[199999]}));

  file.text_fields = {"title", "text"};
  ASSERT_OK_AND_ASSIGN(auto two, ReadSampleTexts(file, {7}));
  EXPECT_EQ(two, std::vector<std::string>{"t2\n\n" + texts[7]});

  EXPECT_STATUS(ReadSampleTexts(file, {5, n}), StatusCode::kOutOfRange,
                StrCat("sample ", n, " is beyond the file, which has ", n, " rows"));
  file.text_fields = {"nope"};
  EXPECT_STATUS(ReadSampleTexts(file, {5}), StatusCode::kInvalidArgument,
                "p.parquet: no text column 'nope' (columns: i, text, title, n)");
  file.text_fields = {"n"};
  EXPECT_STATUS(ReadSampleTexts(file, {5}), StatusCode::kInvalidArgument,
                "p.parquet: text column 'n' has type INTEGER; expected VARCHAR");
}

TEST_F(ParquetSampleReaderTest, NullTextsAndBrokenFiles) {
  std::string path =
      WriteParquet("n.parquet", "SELECT * FROM (VALUES ('a'), (NULL), ('c')) t(text)");
  SampleFile file = Register(path, "parquet", {"text"});
  ASSERT_OK_AND_ASSIGN(auto got, ReadSampleTexts(file, {0, 2}));
  EXPECT_EQ(got, (std::vector<std::string>{"a", "c"}));
  EXPECT_STATUS(ReadSampleTexts(file, {0, 1}), StatusCode::kInvalidArgument,
                "n.parquet: sample 1: text column 'text' is NULL");

  std::string data = ReadFile(path);
  WriteFile(dir_.Join("broken.parquet"), data.substr(0, data.size() / 2));
  SampleFile broken = Register(dir_.Join("broken.parquet"), "parquet", {"text"});
  EXPECT_STATUS(ReadSampleTexts(broken, {0}), StatusCode::kCorruption, "broken.parquet");

  std::filesystem::remove(path);
  EXPECT_STATUS(ReadSampleTexts(file, {0}), StatusCode::kNotFound, path + ": missing");
}

TEST_F(ParquetSampleReaderTest, WorksInForkedChildAndOtherThreads) {
  // DataLoader workers are forked from a process that may have read already.
  std::string path = WriteParquet("f.parquet", "SELECT 'r' || i AS text FROM range(3000) t(i)");
  SampleFile file = Register(path, "parquet", {"text"});
  const std::vector<std::string> expected = {"r1", "r2999"};
  ASSERT_OK_AND_ASSIGN(auto got, ReadSampleTexts(file, {1, 2999}));
  EXPECT_EQ(got, expected);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto child = ReadSampleTexts(file, {1, 2999});
    ::_exit(child.ok() && *child == expected ? 0 : 3);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);

  std::vector<std::thread> threads;
  std::vector<Result<std::vector<std::string>>> results(4, Status::Internal("not run"));
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] { results[t] = ReadSampleTexts(file, {1, 2999}); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, expected);
  }
}

}  // namespace
}  // namespace mixtera::formats
