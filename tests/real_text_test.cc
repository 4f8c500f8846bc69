// End-to-end registration of real text that every Debian machine has (/usr/include headers,
// /usr/share/doc copyright files and changelogs) in every format and compression: plain
// JSONL shards with blank lines, gzip (two members), multi-frame zstd, xz, bzip2, Parquet
// and WebDataset tars (plain and gzip). Expected results come from independent paths: the
// test's own bookkeeping while it writes the corpus, the CLI compressors and tar, and
// DuckDB's own JSON reader for the Parquet file. Checked: the counts of every registration,
// the store's per-property aggregates and every sample's values (read straight from
// mixtera.duckdb after the engine is closed), and the exact bytes of every record through
// the offsets files (pread for plain files, OpenInputStreamAt with the seek points for
// compressed ones).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/macros.h"
#include "base/sha256.h"
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

constexpr size_t kNumIncludeFiles = 300;
constexpr size_t kNumDocCopyrights = 100;
constexpr size_t kNumDocChangelogs = 25;
constexpr uintmax_t kMaxFileBytes = 200 * 1024;
constexpr int64_t kGzipCheckpointInterval = 256 * 1024;
constexpr int kZstdFrames = 5;

// One corpus record: a real file and the properties the test derives from it.
struct Record {
  std::string key;      // WebDataset key ("s00042")
  std::string text;     // the file's content (valid UTF-8, no NUL)
  std::string source;   // "include" | "doc"
  std::string ext;      // the extension without the dot, or "none"
  int64_t n_lines = 0;  // number of '\n' in text
  std::vector<std::string> tags;
  std::optional<std::string> maybe;  // nullopt: JSON null, or the key left out
  bool maybe_absent = false;         // the "maybe" key is left out of the JSON
  std::string line;                  // the JSONL line, without '\n'
};

// ---- Independent helpers (nothing here uses Mixtera code) ----

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;  // NUL bytes are valid UTF-8 but not wanted in the corpus
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::optional<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

// Decompresses a gzip file with the gzip CLI.
std::optional<std::string> GunzipWithCli(const fs::path& path) {
  std::string cmd = "gzip -dc '" + path.string() + "' 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  if (pclose(pipe) != 0) return std::nullopt;
  return out;
}

std::string JsonString(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

// The record's properties as JSON members (without braces), in a fixed order.
std::string PropertyMembers(const Record& r) {
  std::string out = "\"source\": " + JsonString(r.source) + ", \"ext\": " + JsonString(r.ext) +
                    ", \"n_lines\": " + std::to_string(r.n_lines) + ", \"tags\": [";
  for (size_t i = 0; i < r.tags.size(); ++i) out += (i ? ", " : "") + JsonString(r.tags[i]);
  out += "]";
  if (!r.maybe_absent) out += ", \"maybe\": " + (r.maybe ? JsonString(*r.maybe) : "null");
  return out;
}

// The JSONL line; `text` comes first in even records and last in odd ones.
std::string JsonLine(const Record& r, bool text_first) {
  if (text_first) return "{\"text\": " + JsonString(r.text) + ", " + PropertyMembers(r) + "}";
  return "{" + PropertyMembers(r) + ", \"text\": " + JsonString(r.text) + "}";
}

// The expected store values of a record, in the form CellText() renders them.
std::string ExpectedTuple(const Record& r) {
  std::string tags = "[";
  for (size_t i = 0; i < r.tags.size(); ++i) tags += (i ? "\x1f" : "") + r.tags[i];
  tags += "]";
  return r.source + "|" + r.ext + "|" + std::to_string(r.n_lines) + "|" + tags + "|" +
         (r.maybe ? *r.maybe : "NULL");
}

// Builds record `index` from a file's text, extension and tags, deriving the rest.
Record MakeRecord(size_t index, std::string source, std::string text, std::string ext,
                  std::vector<std::string> tags) {
  Record r;
  char key[16];
  std::snprintf(key, sizeof(key), "s%05zu", index);
  r.key = key;
  r.source = std::move(source);
  r.text = std::move(text);
  r.ext = ext.empty() ? "none" : std::move(ext);
  r.n_lines = std::count(r.text.begin(), r.text.end(), '\n');
  r.tags = std::move(tags);
  if (index % 3 == 0) {
    r.maybe = std::nullopt;
  } else if (index % 5 == 2) {
    r.maybe_absent = true;
  } else {
    r.maybe = "m" + std::to_string(r.text.size() % 5);
  }
  r.line = JsonLine(r, index % 2 == 0);
  return r;
}

std::vector<fs::path> SortedRegularFiles(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code ec2;
    if (it->is_symlink(ec2) || !it->is_regular_file(ec2)) continue;
    out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Record> CollectCorpus() {
  std::vector<Record> records;
  std::error_code ec;
  // The first headers under /usr/include, tagged with up to 3 of their folders.
  const fs::path include_root = "/usr/include";
  size_t num_include = 0;
  for (const fs::path& path : SortedRegularFiles(include_root)) {
    if (num_include == kNumIncludeFiles) break;
    uintmax_t size = fs::file_size(path, ec);
    if (ec || size > kMaxFileBytes) continue;
    std::optional<std::string> text = ReadWholeFile(path);
    if (!text || !IsValidUtf8(*text)) continue;
    fs::path rel = path.lexically_relative(include_root);
    std::vector<std::string> tags;
    for (const auto& part : rel.parent_path()) {
      if (tags.size() < 3) tags.push_back(part.string());
    }
    std::string ext = rel.extension().string();
    if (!ext.empty()) ext = ext.substr(1);
    records.push_back(MakeRecord(records.size(), "include", std::move(*text), ext, tags));
    ++num_include;
  }
  // Copyright files of the first packages in /usr/share/doc, and the decompressed
  // changelog.Debian.gz of every fourth one.
  const fs::path doc_root = "/usr/share/doc";
  std::vector<fs::path> packages;
  for (fs::directory_iterator it(doc_root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code ec2;
    if (!it->is_symlink(ec2) && it->is_directory(ec2)) packages.push_back(it->path());
  }
  std::sort(packages.begin(), packages.end());
  size_t num_copyright = 0, num_changelog = 0;
  for (const fs::path& pkg : packages) {
    if (num_copyright == kNumDocCopyrights) break;
    const std::string name = pkg.filename().string();
    fs::path copyright = pkg / "copyright";
    if (!fs::is_regular_file(copyright, ec) || fs::file_size(copyright, ec) > kMaxFileBytes)
      continue;
    std::optional<std::string> text = ReadWholeFile(copyright);
    if (!text || !IsValidUtf8(*text)) continue;
    records.push_back(MakeRecord(records.size(), "doc", std::move(*text), "", {name}));
    ++num_copyright;
    fs::path changelog = pkg / "changelog.Debian.gz";
    if (num_copyright % 4 != 1 || num_changelog == kNumDocChangelogs ||
        !fs::is_regular_file(changelog, ec)) {
      continue;
    }
    std::optional<std::string> log = GunzipWithCli(changelog);
    if (!log || log->size() > kMaxFileBytes || !IsValidUtf8(*log)) continue;
    // "changelog.Debian" after decompression: the extension is "Debian".
    records.push_back(MakeRecord(records.size(), "doc", std::move(*log), "Debian",
                                 {name, "changelog", "debian"}));
    ++num_changelog;
  }
  return records;
}

// ---- Reading the store ----

// Renders one cell: NULL, strings as-is, integers in decimal, string lists as
// "[a<US>b]". Other kinds are rendered as "<kind>" so that comparisons fail visibly.
std::string CellText(const duckdb::QueryResult& r, int col, int64_t row) {
  if (r.IsNull(col, row)) return "NULL";
  switch (r.column_kind(col)) {
    case duckdb::ColumnKind::kString:
      return std::string(r.GetString(col, row));
    case duckdb::ColumnKind::kInteger:
      return std::to_string(r.GetInt64(col, row));
    case duckdb::ColumnKind::kBoolean:
      return r.GetBool(col, row) ? "true" : "false";
    case duckdb::ColumnKind::kStringList: {
      std::string out = "[";
      for (int64_t i = 0; i < r.ListSize(col, row); ++i) {
        if (i > 0) out += "\x1f";
        out += r.IsListItemNull(col, row, i) ? "NULL" : std::string(r.GetListString(col, row, i));
      }
      return out + "]";
    }
    default:
      return "<" + r.column_type_name(col) + ">";
  }
}

using Rows = std::vector<std::vector<std::string>>;

Result<Rows> QueryRows(duckdb::Connection* conn, const std::string& sql) {
  MIXTERA_ASSIGN_OR_RETURN(auto result, conn->Query(sql));
  Rows rows;
  while (true) {
    MIXTERA_ASSIGN_OR_RETURN(bool more, result.NextChunk());
    if (!more) break;
    for (int64_t row = 0; row < result.chunk_size(); ++row) {
      std::vector<std::string> cells;
      for (int col = 0; col < result.column_count(); ++col)
        cells.push_back(CellText(result, col, row));
      rows.push_back(std::move(cells));
    }
  }
  return rows;
}

// Reads `length` decompressed bytes at `offset` through the seek points.
Result<std::string> ReadCompressedAt(const std::string& path, model::Compression compression,
                                     const std::vector<formats::SeekPoint>& points, int64_t offset,
                                     int64_t length, int64_t* start_position) {
  MIXTERA_ASSIGN_OR_RETURN(auto stream,
                           formats::OpenInputStreamAt(path, compression, points, offset));
  *start_position = stream->position();
  std::string out(static_cast<size_t>(length), '\0');
  size_t got = 0;
  while (got < out.size()) {
    MIXTERA_ASSIGN_OR_RETURN(size_t n, stream->Read(out.data() + got, out.size() - got));
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  return out;
}

// Compares bytes without printing whole records (they reach 200 KB): on a mismatch, the
// sizes and the first differing position with a little context.
::testing::AssertionResult SameBytes(std::string_view got, std::string_view want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t pos = 0;
  while (pos < got.size() && pos < want.size() && got[pos] == want[pos]) ++pos;
  size_t from = pos < 20 ? 0 : pos - 20;
  return ::testing::AssertionFailure()
         << "got " << got.size() << " bytes, want " << want.size() << "; first difference at byte "
         << pos << ": got \"" << got.substr(from, 60) << "\", want \"" << want.substr(from, 60)
         << "\"";
}

// ---- The test ----

enum class Kind { kJsonl, kParquet, kTar };

// One registered variant of the corpus.
struct Variant {
  std::string name;  // dataset name
  Kind kind = Kind::kJsonl;
  std::string path;  // pattern relative to the temp dir
  model::Compression compression = model::Compression::kNone;
  int64_t expected_files = 1;
  // For JSONL and tar: per file (by basename), the record index of each physical record
  // (-1 for a blank line) and the file's decompressed bytes.
  std::map<std::string, std::vector<int>> records;
  std::map<std::string, std::string> data;
  // Filled in by the registration.
  int64_t dataset_id = -1;
  std::vector<model::FileRecord> files;
};

class RealTextTest : public ::testing::Test {
 protected:
  static int NumFailures() {
    return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
  }
  void Sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }
  std::string Join(const std::string& rel) const { return dir_.Join(rel); }

  void BuildCorpus();
  void WriteJsonlVariants();
  void WriteParquet();
  void WriteTars();
  void RegisterAll();
  void CheckOffsets(const Variant& v);
  void CheckStore();

  TempDir dir_;
  std::vector<Record> recs_;
  std::string fingerprint_;  // sha256 of the records read: names the corpus in failures
  std::vector<Variant> variants_;
  std::string mx_;  // the Mixtera directory
};

void RealTextTest::BuildCorpus() {
  recs_ = CollectCorpus();
  size_t num_include = 0;
  for (const Record& r : recs_) num_include += r.source == "include";
  // The corpus is whatever this machine's /usr/include and /usr/share/doc hold; every
  // expectation below is derived from these records, and the fingerprint names them.
  Sha256 h;
  for (const Record& r : recs_) {
    h.Update(r.source);
    h.Update(std::string(1, '\0'));
    for (const std::string& t : r.tags) h.Update(t + '\x1f');
    h.Update(std::string(1, '\0'));
    h.Update(r.text);
    h.Update(std::string(1, '\0'));
  }
  fingerprint_ = h.HexDigest();
  std::cerr << "corpus: " << recs_.size() << " records (" << num_include
            << " from /usr/include), sha256 " << fingerprint_ << "\n";
  ASSERT_GE(num_include, 100u) << "too few readable UTF-8 files under /usr/include";
}

void RealTextTest::WriteJsonlVariants() {
  const size_t n = recs_.size();
  // Three plain shards; blank lines before every 37th record, the second shard starts with
  // one, and the last shard has no final newline.
  Variant plain{"plain", Kind::kJsonl, "corpus/plain/*.jsonl", model::Compression::kNone, 3};
  std::string all;
  std::vector<int> all_records;
  for (int k = 0; k < 3; ++k) {
    std::vector<int> lines;
    if (k == 1) lines.push_back(-1);
    for (size_t i = k * n / 3; i < (k + 1) * n / 3; ++i) {
      if (i % 37 == 5) lines.push_back(-1);
      if (i % 111 == 50) lines.push_back(-1);
      lines.push_back(static_cast<int>(i));
    }
    std::string content;
    for (size_t j = 0; j < lines.size(); ++j) {
      if (j > 0) content += '\n';
      if (lines[j] >= 0) content += recs_[lines[j]].line;
    }
    if (k < 2) content += '\n';
    std::string base = "shard-" + std::to_string(k) + ".jsonl";
    WriteFile(Join("corpus/plain/" + base), content);
    plain.records[base] = lines;
    plain.data[base] = content;
    all += content;
    all_records.insert(all_records.end(), lines.begin(), lines.end());
  }
  variants_.push_back(plain);

  // The concatenation, compressed by the CLI tools. gzip: two members split in the middle
  // of a line; zstd: kZstdFrames frames split at arbitrary bytes.
  WriteFile(Join("work/all.jsonl"), all);
  const size_t gz_split = all.size() * 2 / 5 + 3;
  WriteFile(Join("work/gz.0"), all.substr(0, gz_split));
  WriteFile(Join("work/gz.1"), all.substr(gz_split));
  fs::create_directories(Join("corpus/gz"));
  fs::create_directories(Join("corpus/zst"));
  fs::create_directories(Join("corpus/xz"));
  fs::create_directories(Join("corpus/bz2"));
  ASSERT_NO_FATAL_FAILURE(Sh("cd " + Join("work") +
                             " && gzip -n -c gz.0 > ../corpus/gz/all.jsonl.gz"
                             " && gzip -n -c gz.1 >> ../corpus/gz/all.jsonl.gz"));
  std::string zst_cmd = "cd " + Join("work") + " && : > ../corpus/zst/all.jsonl.zst";
  for (int k = 0; k < kZstdFrames; ++k) {
    size_t begin = all.size() * k / kZstdFrames + (k > 0 ? 11 : 0);
    size_t end = k + 1 == kZstdFrames ? all.size() : all.size() * (k + 1) / kZstdFrames + 11;
    WriteFile(Join("work/zst." + std::to_string(k)), all.substr(begin, end - begin));
    zst_cmd += " && zstd -q -c zst." + std::to_string(k) + " >> ../corpus/zst/all.jsonl.zst";
  }
  ASSERT_NO_FATAL_FAILURE(Sh(zst_cmd));
  ASSERT_NO_FATAL_FAILURE(Sh("cd " + Join("work") +
                             " && xz -1 -T1 -c all.jsonl > ../corpus/xz/all.jsonl.xz"
                             " && bzip2 -1 -c all.jsonl > ../corpus/bz2/all.jsonl.bz2"));
  struct C {
    const char* name;
    const char* file;
    model::Compression compression;
  };
  for (const C& c : {C{"gz", "all.jsonl.gz", model::Compression::kGzip},
                     C{"zst", "all.jsonl.zst", model::Compression::kZstd},
                     C{"xz", "all.jsonl.xz", model::Compression::kXz},
                     C{"bz2", "all.jsonl.bz2", model::Compression::kBzip2}}) {
    Variant v{c.name, Kind::kJsonl, std::string("corpus/") + c.name + "/" + c.file, c.compression,
              1};
    v.records[c.file] = all_records;
    v.data[c.file] = all;
    variants_.push_back(std::move(v));
  }
}

// Parquet written by DuckDB's own JSON reader from the plain shards (blank lines included).
void RealTextTest::WriteParquet() {
  fs::create_directories(Join("corpus/parquet"));
  ASSERT_OK_AND_ASSIGN(auto db, duckdb::Database::Open(":memory:"));
  ASSERT_OK_AND_ASSIGN(auto conn, db.Connect());
  const std::string parquet = Join("corpus/parquet/all.parquet");
  ASSERT_OK(conn.Execute(
      "COPY (SELECT * FROM read_json(" + duckdb::QuoteLiteral(Join("corpus/plain/*.jsonl")) +
      ", format = 'newline_delimited', columns = {text: 'VARCHAR', source: 'VARCHAR', ext: "
      "'VARCHAR', n_lines: 'BIGINT', tags: 'VARCHAR[]', maybe: 'VARCHAR'})) TO " +
      duckdb::QuoteLiteral(parquet) + " (FORMAT parquet, ROW_GROUP_SIZE 100)"));
  // A sanity check of the independent path itself.
  ASSERT_OK_AND_ASSIGN(int64_t rows, conn.QueryInt64("SELECT count(*) FROM read_parquet(" +
                                                     duckdb::QuoteLiteral(parquet) + ")"));
  ASSERT_EQ(rows, static_cast<int64_t>(recs_.size()));
  variants_.push_back(Variant{"parquet", Kind::kParquet, "corpus/parquet/all.parquet",
                              model::Compression::kNone, 1});
}

// A WebDataset tar (KEY.json with the properties, then KEY.txt with the text, in that order
// via an explicit member list) and the same tar gzip-compressed.
void RealTextTest::WriteTars() {
  std::string list;
  for (const Record& r : recs_) {
    WriteFile(Join("work/wds/" + r.key + ".json"), "{" + PropertyMembers(r) + "}");
    WriteFile(Join("work/wds/" + r.key + ".txt"), r.text);
    list += r.key + ".json\n" + r.key + ".txt\n";
  }
  WriteFile(Join("work/wds.list"), list);
  fs::create_directories(Join("corpus/wds"));
  fs::create_directories(Join("corpus/wds_gz"));
  ASSERT_NO_FATAL_FAILURE(Sh("tar -cf " + Join("corpus/wds/all.tar") + " -C " + Join("work/wds") +
                             " -T " + Join("work/wds.list") + " && gzip -n -c " +
                             Join("corpus/wds/all.tar") + " > " +
                             Join("corpus/wds_gz/all.tar.gz")));
  std::string tar = testing::ReadFile(Join("corpus/wds/all.tar"));
  std::vector<int> order;
  for (size_t i = 0; i < recs_.size(); ++i) order.push_back(static_cast<int>(i));
  Variant wds{"wds", Kind::kTar, "corpus/wds/all.tar", model::Compression::kNone, 1};
  wds.records["all.tar"] = order;
  wds.data["all.tar"] = tar;
  Variant wds_gz{"wds_gz", Kind::kTar, "corpus/wds_gz/all.tar.gz", model::Compression::kGzip, 1};
  wds_gz.records["all.tar.gz"] = order;
  wds_gz.data["all.tar.gz"] = tar;
  variants_.push_back(std::move(wds));
  variants_.push_back(std::move(wds_gz));
}

void RealTextTest::RegisterAll() {
  mx_ = Join("mx");
  ASSERT_OK_AND_ASSIGN(auto engine, engine::Engine::Open(mx_));
  ingest::IngestOptions options;
  options.num_threads = 2;
  options.batch_rows = 100;  // several batches per file
  options.gzip_checkpoint_interval = kGzipCheckpointInterval;
  const int64_t n = static_cast<int64_t>(recs_.size());
  for (Variant& v : variants_) {
    SCOPED_TRACE(v.name);
    const char* format = v.kind == Kind::kJsonl     ? "jsonl"
                         : v.kind == Kind::kParquet ? "parquet"
                                                    : "webdataset";
    const char* text = v.kind == Kind::kTar ? "txt" : "text";
    std::string yaml = "name: " + v.name + "\nformat: " + format + "\npath: " + v.path +
                       "\ntext: " + text +
                       "\nproperties:\n"
                       "  source: {type: enum, values: [include, doc]}\n"
                       "  ext: string\n"
                       "  n_lines: int\n"
                       "  tags: string_list\n"
                       "  maybe: {type: string, nullable: true}\n";
    ASSERT_OK_AND_ASSIGN(auto spec, ingest::ParseDatasetSpec(yaml, dir_.path()));
    ASSERT_OK_AND_ASSIGN(auto report, engine->RegisterDataset(spec, options, nullptr));
    EXPECT_EQ(report.num_files, v.expected_files);
    EXPECT_EQ(report.num_samples, n);
    EXPECT_EQ(report.num_skipped, 0);
    EXPECT_TRUE(report.skipped_examples.empty());
    ASSERT_OK_AND_ASSIGN(auto info, engine->GetDataset(v.name));
    EXPECT_EQ(info.num_samples, n);
    EXPECT_EQ(info.num_files, v.expected_files);
    EXPECT_EQ(info.num_skipped, 0);
    v.dataset_id = info.dataset_id;
    EXPECT_EQ(engine->OffsetsDir(v.dataset_id), mx_ + "/offsets/" + std::to_string(v.dataset_id));
    ASSERT_OK_AND_ASSIGN(v.files, engine->ListFiles(v.name));
    ASSERT_EQ(static_cast<int64_t>(v.files.size()), v.expected_files);
    int64_t total_bytes = 0;
    for (const model::FileRecord& f : v.files) {
      std::string base = fs::path(f.path).filename().string();
      SCOPED_TRACE(base);
      EXPECT_EQ(f.compression, v.compression);
      EXPECT_EQ(f.size_bytes, static_cast<int64_t>(fs::file_size(f.path)));
      total_bytes += f.size_bytes;
      EXPECT_EQ(f.num_skipped, 0);
      if (v.kind == Kind::kParquet) {
        EXPECT_EQ(f.num_records, n);
        EXPECT_EQ(f.num_samples, n);
        continue;
      }
      ASSERT_EQ(v.records.count(base), 1u) << "unexpected file " << f.path;
      const std::vector<int>& records = v.records[base];
      EXPECT_EQ(f.num_records, static_cast<int64_t>(records.size()));
      EXPECT_EQ(f.num_samples,
                std::count_if(records.begin(), records.end(), [](int r) { return r >= 0; }));
      if (v.compression == model::Compression::kZstd) {
        EXPECT_EQ(f.num_seek_points, kZstdFrames - 1);
      }
      if (v.compression == model::Compression::kGzip) {
        // A checkpoint about every kGzipCheckpointInterval bytes (at the next deflate block
        // boundary, so the spacing is somewhat larger).
        EXPECT_GE(f.num_seek_points,
                  static_cast<int64_t>(v.data[base].size()) / (2 * kGzipCheckpointInterval));
      }
    }
    EXPECT_EQ(info.total_bytes, total_bytes);
  }
  ASSERT_OK_AND_ASSIGN(auto all, engine->ListDatasets());
  EXPECT_EQ(all.size(), variants_.size());
}

void RealTextTest::CheckOffsets(const Variant& v) {
  SCOPED_TRACE(v.name);
  for (const model::FileRecord& f : v.files) {
    const std::string base = fs::path(f.path).filename().string();
    const std::vector<int>& records = v.records.at(base);
    const std::string& data = v.data.at(base);
    const std::string dir = mx_ + "/offsets/" + std::to_string(v.dataset_id) + "/";
    ASSERT_OK_AND_ASSIGN(
        auto offsets, formats::OffsetsReader::Open(dir + std::to_string(f.file_id) + ".offsets"));
    ASSERT_EQ(offsets->num_records(), static_cast<int64_t>(records.size()));
    std::vector<formats::SeekPoint> points;
    if (f.compression != model::Compression::kNone) {
      ASSERT_OK_AND_ASSIGN(points,
                           formats::ReadSeekPoints(dir + std::to_string(f.file_id) + ".seek"));
      EXPECT_EQ(static_cast<int64_t>(points.size()), f.num_seek_points);
    }
    // xz and bz2 have no seek points: each positioned read decodes from the start, so only
    // every 50th record (and the last) goes through OpenInputStreamAt; all of them are
    // compared with the bytes the test wrote.
    const bool slow =
        f.compression == model::Compression::kXz || f.compression == model::Compression::kBzip2;
    int fd = -1;
    if (f.compression == model::Compression::kNone) {
      fd = ::open(f.path.c_str(), O_RDONLY);
      ASSERT_GE(fd, 0) << f.path;
    }
    std::vector<formats::RecordExtent> extents;
    ASSERT_OK(offsets->GetRange(0, offsets->num_records(), &extents));
    ASSERT_EQ(extents.size(), records.size());
    int64_t prev_end = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      SCOPED_TRACE("record " + std::to_string(i));
      ASSERT_OK_AND_ASSIGN(formats::RecordExtent e, offsets->Get(static_cast<int64_t>(i)));
      EXPECT_EQ(e, extents[i]);
      ASSERT_GE(e.offset, prev_end);
      ASSERT_LE(e.offset + e.length, static_cast<int64_t>(data.size()));
      prev_end = e.offset + e.length;
      const std::string span = data.substr(e.offset, e.length);
      std::string got;
      if (fd >= 0) {
        got.resize(e.length);
        ASSERT_EQ(::pread(fd, got.data(), got.size(), e.offset), static_cast<ssize_t>(got.size()));
      } else if (!slow || i % 50 == 0 || i + 1 == records.size()) {
        int64_t start = -1;
        ASSERT_OK_AND_ASSIGN(
            got, ReadCompressedAt(f.path, f.compression, points, e.offset, e.length, &start));
        EXPECT_EQ(start, e.offset);
      } else {
        got = span;
      }
      if (v.kind == Kind::kJsonl) {
        const std::string expected = records[i] < 0 ? "" : recs_[records[i]].line;
        EXPECT_TRUE(SameBytes(span, expected)) << "offsets over the written bytes";
        EXPECT_TRUE(SameBytes(got, expected)) << "bytes read at the offsets";
      } else {
        // A tar sample spans from its first member's header (KEY.json) to the end of its
        // last member's data (KEY.txt, the text).
        const Record& r = recs_[records[i]];
        EXPECT_TRUE(SameBytes(got, span)) << "bytes read at the offsets";
        ASSERT_GE(span.size(), 1024u);
        EXPECT_EQ(std::string(span.c_str()), r.key + ".json");  // the header's name field
        EXPECT_NE(span.find(r.key + ".txt"), std::string::npos);
        EXPECT_NE(span.find("\"n_lines\": " + std::to_string(r.n_lines)), std::string::npos);
        ASSERT_GE(span.size(), r.text.size());
        EXPECT_TRUE(SameBytes(span.substr(span.size() - r.text.size()), r.text))
            << "the span ends with the text";
      }
      if (NumFailures() > 20) FAIL() << "too many failures, stopping";
    }
    if (fd >= 0) ::close(fd);
  }
}

// Reads mixtera.duckdb directly (the engine is closed) and compares every per-property
// aggregate and every sample with the test's own bookkeeping.
void RealTextTest::CheckStore() {
  std::map<std::string, int64_t> sources, exts, tags, maybes;
  int64_t n_lines = 0, null_maybe = 0, num_tags = 0;
  std::map<std::string, int64_t> tuples;  // ExpectedTuple -> count
  for (const Record& r : recs_) {
    ++sources[r.source];
    ++exts[r.ext];
    n_lines += r.n_lines;
    if (r.maybe) {
      ++maybes[*r.maybe];
    } else {
      ++null_maybe;
    }
    for (const auto& t : r.tags) ++tags[t];
    num_tags += static_cast<int64_t>(r.tags.size());
    ++tuples[ExpectedTuple(r)];
  }

  ASSERT_OK_AND_ASSIGN(auto db, duckdb::Database::Open(mx_ + "/mixtera.duckdb"));
  ASSERT_OK_AND_ASSIGN(auto conn, db.Connect());

  // Groups rows (dataset, value, count) into dataset -> value -> count.
  auto grouped =
      [&](const std::string& sql) -> std::map<std::string, std::map<std::string, int64_t>> {
    std::map<std::string, std::map<std::string, int64_t>> out;
    auto rows = QueryRows(&conn, sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString() << "\n" << sql;
    if (!rows.ok()) return out;
    for (const auto& row : *rows) out[row[0]][row[1]] += std::stoll(row[2]);
    return out;
  };
  auto by_source = grouped("SELECT dataset, source, count(*) FROM samples GROUP BY ALL");
  auto by_ext = grouped("SELECT dataset, ext, count(*) FROM samples GROUP BY ALL");
  auto by_tag = grouped(
      "SELECT dataset, t, count(*) FROM (SELECT dataset, unnest(tags) AS t FROM samples) GROUP BY "
      "ALL");
  auto by_maybe =
      grouped("SELECT dataset, maybe, count(*) FROM samples WHERE maybe IS NOT NULL GROUP BY ALL");
  ASSERT_OK_AND_ASSIGN(
      Rows totals,
      QueryRows(
          &conn,
          "SELECT dataset, count(*), sum(n_lines)::BIGINT, count(*) FILTER (WHERE maybe IS NULL), "
          "sum(len(tags))::BIGINT, count(DISTINCT (file_id, sample_id)) FROM samples GROUP BY "
          "ALL"));
  std::map<std::string, std::vector<std::string>> totals_by_dataset;
  for (auto& row : totals) totals_by_dataset[row[0]] = row;
  EXPECT_EQ(totals_by_dataset.size(), variants_.size());

  ASSERT_OK_AND_ASSIGN(
      Rows samples,
      QueryRows(
          &conn,
          "SELECT s.dataset, f.path, s.sample_id, s.source, s.ext, s.n_lines, s.tags, s.maybe "
          "FROM samples s JOIN files f ON f.file_id = s.file_id"));
  std::map<std::string, std::vector<const std::vector<std::string>*>> samples_by_dataset;
  for (const auto& row : samples) samples_by_dataset[row[0]].push_back(&row);

  const std::string n = std::to_string(recs_.size());
  for (const Variant& v : variants_) {
    SCOPED_TRACE(v.name);
    EXPECT_EQ(by_source[v.name], sources);
    EXPECT_EQ(by_ext[v.name], exts);
    EXPECT_EQ(by_tag[v.name], tags);
    EXPECT_EQ(by_maybe[v.name], maybes);
    ASSERT_EQ(totals_by_dataset.count(v.name), 1u);
    const std::vector<std::string>& t = totals_by_dataset[v.name];
    EXPECT_EQ(t[1], n) << "count";
    EXPECT_EQ(t[2], std::to_string(n_lines)) << "sum(n_lines)";
    EXPECT_EQ(t[3], std::to_string(null_maybe)) << "NULL maybe";
    EXPECT_EQ(t[4], std::to_string(num_tags)) << "sum(len(tags))";
    EXPECT_EQ(t[5], n) << "distinct (file_id, sample_id)";

    // Every sample: for JSONL and tar, its values are those of the record at its position;
    // for Parquet (row order is DuckDB's), the multiset of values matches.
    std::map<std::string, int64_t> seen;
    std::set<std::pair<std::string, int64_t>> positions;
    int mismatches = 0;
    for (const auto* row : samples_by_dataset[v.name]) {
      std::string tuple =
          (*row)[3] + "|" + (*row)[4] + "|" + (*row)[5] + "|" + (*row)[6] + "|" + (*row)[7];
      ++seen[tuple];
      if (v.kind == Kind::kParquet) continue;
      std::string base = fs::path((*row)[1]).filename().string();
      int64_t sample_id = std::stoll((*row)[2]);
      positions.insert({base, sample_id});
      auto it = v.records.find(base);
      ASSERT_NE(it, v.records.end()) << (*row)[1];
      ASSERT_GE(sample_id, 0);
      ASSERT_LT(sample_id, static_cast<int64_t>(it->second.size()));
      int rec = it->second[sample_id];
      if (rec < 0) {
        ADD_FAILURE() << base << " sample " << sample_id << " is a blank line";
      } else if (tuple != ExpectedTuple(recs_[rec]) && ++mismatches <= 5) {
        ADD_FAILURE() << base << " sample " << sample_id << ": got " << tuple << ", want "
                      << ExpectedTuple(recs_[rec]);
      }
    }
    EXPECT_EQ(mismatches, 0);
    // The multiset of sample values, with at most 5 differences shown.
    int differences = 0;
    for (const auto* side : {&seen, &tuples}) {
      const auto& other = side == &seen ? tuples : seen;
      for (const auto& [tuple, count] : *side) {
        auto it = other.find(tuple);
        int64_t other_count = it == other.end() ? 0 : it->second;
        if (other_count != count && side == &seen && ++differences <= 5) {
          ADD_FAILURE() << "store has " << count << " samples " << tuple << ", want "
                        << other_count;
        } else if (other_count == 0 && side == &tuples && ++differences <= 5) {
          ADD_FAILURE() << "store has no sample " << tuple << ", want " << count;
        }
      }
    }
    EXPECT_EQ(differences, 0);
    if (v.kind != Kind::kParquet) {
      EXPECT_EQ(positions.size(), recs_.size());
    }
  }
}

TEST_F(RealTextTest, EveryFormatAndCompressionMatchesIndependentCounts) {
  ASSERT_NO_FATAL_FAILURE(BuildCorpus());
  SCOPED_TRACE("corpus of this machine's files, sha256 " + fingerprint_);
  ASSERT_NO_FATAL_FAILURE(WriteJsonlVariants());
  ASSERT_NO_FATAL_FAILURE(WriteParquet());
  ASSERT_NO_FATAL_FAILURE(WriteTars());
  ASSERT_NO_FATAL_FAILURE(RegisterAll());  // closes the engine when done
  for (const Variant& v : variants_) {
    if (v.kind != Kind::kParquet) {
      ASSERT_NO_FATAL_FAILURE(CheckOffsets(v));
    }
  }
  ASSERT_NO_FATAL_FAILURE(CheckStore());
}

}  // namespace
}  // namespace mixtera
