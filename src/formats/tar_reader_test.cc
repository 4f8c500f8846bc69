#include "formats/tar_reader.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/strings.h"
#include "testing/test_util.h"

namespace mixtera::formats {
namespace {

using model::Compression;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// One 512-byte ustar header; `base256` writes the size in GNU base-256 form.
std::string TarHeader(const std::string& name, int64_t size, char type, bool base256 = false) {
  char h[512] = {};
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(h + 100, 8, "%07o", 0644);
  std::snprintf(h + 108, 8, "%07o", 0);
  std::snprintf(h + 116, 8, "%07o", 0);
  if (base256) {
    h[124] = static_cast<char>(0x80);
    for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
  } else {
    std::snprintf(h + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  }
  std::snprintf(h + 136, 12, "%011o", 0);
  std::memset(h + 148, ' ', 8);
  h[156] = type;
  std::memcpy(h + 257,
              "ustar\0"
              "00",
              8);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<uint8_t>(c);
  std::snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
  return std::string(h, 512);
}

// Recomputes the checksum of a header edited after TarHeader().
std::string Rechecksum(std::string h) {
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<uint8_t>(c);
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  return h;
}

std::string Padded(const std::string& data) {
  return data + std::string((512 - data.size() % 512) % 512, '\0');
}

std::string TarEntry(const std::string& name, const std::string& data, char type = '0',
                     bool base256 = false) {
  return TarHeader(name, static_cast<int64_t>(data.size()), type, base256) + Padded(data);
}

const std::string kEnd(1024, '\0');

Result<std::vector<TarSample>> Drain(TarSampleScanner* scanner) {
  std::vector<TarSample> out;
  while (true) {
    Result<std::optional<TarSample>> sample = scanner->Next();
    if (!sample.ok()) return sample.status();
    if (!sample->has_value()) break;
    out.push_back(std::move(**sample));
  }
  return out;
}

std::string Describe(const Result<std::vector<TarSample>>& r) {
  if (!r.ok()) return r.status().ToString();
  std::string out;
  for (const TarSample& s : *r) {
    out += StrCat(s.key, "@", s.begin_offset, "-", s.end_offset, ":");
    for (const TarMember& m : s.members) {
      out += StrCat(m.extension, "/", m.header_offset, "/", m.data_offset, "/", m.size, "/",
                    m.loaded, "/", m.data, ";");
    }
  }
  return out;
}

// Scans the archive as a stream; plain archives are also scanned from memory (the
// constructor the sample reader uses), which must give the same samples or the same error.
Result<std::vector<TarSample>> ScanAll(const std::string& path, Compression compression,
                                       std::set<std::string> load = {"json", "txt"}) {
  Result<std::unique_ptr<InputStream>> stream = OpenInputStream(path, compression);
  if (!stream.ok()) return stream.status();
  TarSampleScanner scanner(std::move(*stream), path, load);
  Result<std::vector<TarSample>> from_stream = Drain(&scanner);
  if (compression == Compression::kNone) {
    const std::string bytes = ReadFile(path);
    TarSampleScanner in_memory(std::string_view(bytes), 0, path, load);
    EXPECT_EQ(Describe(Drain(&in_memory)), Describe(from_stream)) << path;
  }
  return from_stream;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// A WebDataset-like folder: json/txt/png members, nested folders, names over 100 bytes.
std::map<std::string, std::string> MakeFiles(bool long_base_name) {
  const std::string nested =
      "nested_directory_with_a_long_name_0123456789/second_level_folder_abcdefghij/third";
  std::map<std::string, std::string> files = {
      {"shard/000001.json", "{\"text\": \"one\"}"},
      {"shard/000001.png", RandomBytes(3000, 1)},
      {"shard/000001.txt", "one"},
      {"shard/000002.json", "{\"text\": \"two\"}"},
      {"shard/000002.txt", std::string(512, 't')},  // exactly one block: no padding
      {"shard/000004.seg.json", "{}"},
      {"shard/" + nested + "/000003.json", "{\"text\": \"three\"}"},
      {"shard/" + nested + "/000003.png", RandomBytes(100000, 2)},
      {"shard/" + nested + "/000003.txt", ""},
  };
  if (long_base_name) {
    const std::string base = "sample_" + std::string(120, 'k');
    files["shard/" + base + ".json"] = "{\"long\": true}";
    files["shard/" + base + ".txt"] = "long";
  }
  return files;
}

// Groups sorted file names into expected (key, [(extension, contents)]).
std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> Expected(
    const std::map<std::string, std::string>& files) {
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> out;
  for (const auto& [name, data] : files) {
    const size_t slash = name.rfind('/');
    const size_t dot = name.find('.', slash + 1);
    const std::string key = name.substr(0, dot);
    if (out.empty() || out.back().first != key) out.push_back({key, {}});
    out.back().second.push_back({name.substr(dot + 1), data});
  }
  return out;
}

void CheckSamples(const std::vector<TarSample>& samples,
                  const std::map<std::string, std::string>& files, const std::string& bytes) {
  const auto expected = Expected(files);
  ASSERT_EQ(samples.size(), expected.size());
  std::map<std::string, const TarSample*> by_key;
  for (const TarSample& s : samples) by_key[s.key] = &s;
  ASSERT_EQ(by_key.size(), expected.size());
  int64_t prev_end = 0;
  for (const TarSample& s : samples) {
    EXPECT_GE(s.begin_offset, prev_end);
    prev_end = s.end_offset;
  }
  for (const auto& [key, members] : expected) {
    ASSERT_TRUE(by_key.count(key)) << key;
    const TarSample& s = *by_key[key];
    ASSERT_EQ(s.members.size(), members.size()) << key;
    EXPECT_EQ(s.begin_offset, s.members.front().header_offset);
    EXPECT_EQ(s.end_offset, s.members.back().data_offset + s.members.back().size);
    for (size_t i = 0; i < members.size(); ++i) {
      const TarMember& m = s.members[i];
      EXPECT_EQ(m.extension, members[i].first) << key;
      EXPECT_EQ(m.size, static_cast<int64_t>(members[i].second.size()));
      EXPECT_EQ((m.data_offset - m.header_offset) % 512, 0);
      EXPECT_GE(m.data_offset - m.header_offset, 512);
      // The offsets point at the member's bytes in the (decompressed) stream.
      EXPECT_TRUE(bytes.substr(m.data_offset, m.size) == members[i].second) << key;
      const bool load = m.extension == "json" || m.extension == "txt";
      EXPECT_EQ(m.loaded, load);
      if (load) {
        EXPECT_EQ(m.data, members[i].second);
      } else {
        EXPECT_TRUE(m.data.empty());
      }
      EXPECT_EQ(s.Find(m.extension), &m);
    }
    EXPECT_EQ(s.Find("nope"), nullptr);
  }
}

void RunOrFail(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

class TarFormatTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TarFormatTest, ScansArchivesMadeByTar) {
  const std::string format = GetParam();
  TempDir dir;
  const auto files = MakeFiles(format != "ustar");
  for (const auto& [name, data] : files) WriteFile(dir.Join("src/" + name), data);
  const std::string tar = dir.Join("a.tar");
  RunOrFail("tar --format=" + format + " --sort=name -cf '" + tar + "' -C '" + dir.Join("src") +
            "' shard");
  ASSERT_OK_AND_ASSIGN(std::vector<TarSample> samples, ScanAll(tar, Compression::kNone));
  CheckSamples(samples, files, ReadFile(tar));

  // Compressed: offsets are in the decompressed stream.
  RunOrFail("gzip -k '" + tar + "'");
  ASSERT_OK_AND_ASSIGN(samples, ScanAll(tar + ".gz", Compression::kGzip));
  CheckSamples(samples, files, ReadFile(tar));
}

INSTANTIATE_TEST_SUITE_P(Formats, TarFormatTest, ::testing::Values("gnu", "pax", "ustar"));

class TarErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = MakeFiles(true);
    for (const auto& [name, data] : files_) WriteFile(dir_.Join("src/" + name), data);
    tar_ = dir_.Join("a.tar");
    RunOrFail("tar --format=gnu --sort=name -cf '" + tar_ + "' -C '" + dir_.Join("src") +
              "' shard");
    bytes_ = ReadFile(tar_);
    ASSERT_OK_AND_ASSIGN(samples_, ScanAll(tar_, Compression::kNone));
  }
  // Scans `contents` written to a file.
  Result<std::vector<TarSample>> Scan(const std::string& contents) {
    WriteFile(dir_.Join("t.tar"), contents);
    return ScanAll(dir_.Join("t.tar"), Compression::kNone);
  }
  const TarMember& Member(const std::string& key, const std::string& ext) {
    for (const TarSample& s : samples_) {
      if (s.key == key) return *s.Find(ext);
    }
    std::abort();
  }

  TempDir dir_;
  std::map<std::string, std::string> files_;
  std::string tar_;
  std::string bytes_;
  std::vector<TarSample> samples_;
};

TEST_F(TarErrorTest, TruncatedMemberDataNamesTheMember) {
  const TarMember& png = Member("shard/000001", "png");
  auto result = Scan(bytes_.substr(0, png.data_offset + 1000));
  EXPECT_STATUS(result, StatusCode::kCorruption, "truncated");
  EXPECT_STATUS(result, StatusCode::kCorruption, "shard/000001.png");
  EXPECT_STATUS(result, StatusCode::kCorruption, dir_.Join("t.tar"));
  // A loaded member.
  const TarMember& json = Member("shard/000002", "json");
  EXPECT_STATUS(Scan(bytes_.substr(0, json.data_offset + 3)), StatusCode::kCorruption,
                "shard/000002.json");
  // Inside the padding after the data.
  EXPECT_STATUS(Scan(bytes_.substr(0, json.data_offset + json.size + 1)), StatusCode::kCorruption,
                "shard/000002.json");
}

TEST_F(TarErrorTest, TruncatedHeaderIsCorruption) {
  const TarMember& txt = Member("shard/000002", "txt");
  auto result = Scan(bytes_.substr(0, txt.header_offset + 100));
  EXPECT_STATUS(result, StatusCode::kCorruption, "truncated");
  EXPECT_STATUS(result, StatusCode::kCorruption, "shard/000002.json");  // the member before
  // Between a GNU long-name entry and the header it belongs to.
  const TarSample* long_sample = nullptr;
  for (const TarSample& s : samples_) {
    if (s.key.size() > 100) long_sample = &s;
  }
  ASSERT_NE(long_sample, nullptr);
  const TarMember& m = long_sample->members[0];
  ASSERT_GT(m.data_offset - m.header_offset, 512);
  EXPECT_EQ(bytes_[m.header_offset + 156], 'L');
  EXPECT_STATUS(Scan(bytes_.substr(0, m.data_offset - 512)), StatusCode::kCorruption, "truncated");
}

TEST_F(TarErrorTest, MissingEndOfArchiveIsAccepted) {
  const int64_t end = samples_.back().end_offset;
  const std::string cut = bytes_.substr(0, end + (512 - end % 512) % 512);
  ASSERT_OK_AND_ASSIGN(std::vector<TarSample> samples, Scan(cut));
  CheckSamples(samples, files_, bytes_);
  // One zero block and then the end is fine too.
  ASSERT_OK_AND_ASSIGN(samples, Scan(cut + std::string(512, '\0')));
  EXPECT_EQ(samples.size(), samples_.size());
}

TEST_F(TarErrorTest, BadChecksumIsCorruption) {
  std::string bad = bytes_;
  const TarMember& txt = Member("shard/000002", "txt");
  bad[txt.header_offset + 10] ^= 0x01;
  EXPECT_STATUS(Scan(bad), StatusCode::kCorruption, "checksum");
}

// Issue: hardening, 10: a garbage header put its raw bytes (control characters, invalid
// UTF-8) into the message. Names in messages are now JSON-quoted: printable and valid UTF-8.
TEST_F(TarErrorTest, AGarbageHeaderNameIsQuotedInTheMessage) {
  std::string bad = bytes_;
  const TarMember& txt = Member("shard/000002", "txt");
  const std::string garbage = std::string("\x01\x1b[31m\xff\xfe", 8) + "x";
  bad.replace(txt.header_offset, garbage.size(), garbage);
  auto scanned = Scan(bad);
  ASSERT_FALSE(scanned.ok());
  const std::string& message = scanned.status().message();
  EXPECT_NE(message.find("checksum"), std::string::npos) << message;
  EXPECT_NE(message.find("\\u0001\\u001b[31m\\ufffd\\ufffdx"), std::string::npos) << message;
  for (unsigned char c : message) EXPECT_GE(c, 0x20) << message;
  EXPECT_TRUE(IsValidUtf8(message));
}

TEST(TarScannerTest, ChecksumsSumBytesUnsignedOrSignedAsHistoricTarsDid) {
  // A UTF-8 name puts bytes >= 128 in the header: the unsigned and the signed sums differ.
  TempDir dir;
  std::string header = TarHeader("d\xc3\xa9j\xc3\xa0/001.txt", 2, '0', false);
  ASSERT_OK_AND_ASSIGN(auto unsigned_ok, [&]() -> Result<std::vector<TarSample>> {
    WriteFile(dir.Join("u.tar"), header + Padded("hi") + kEnd);
    return ScanAll(dir.Join("u.tar"), Compression::kNone);
  }());
  ASSERT_EQ(unsigned_ok.size(), 1u);
  EXPECT_EQ(unsigned_ok[0].key, "d\xc3\xa9j\xc3\xa0/001");
  // The same header with a signed-char checksum is accepted too; any other sum is not.
  std::memset(&header[148], ' ', 8);
  int sum = 0;
  for (char c : header) sum += static_cast<signed char>(c);
  std::snprintf(&header[148], 8, "%06o", sum);
  header[155] = ' ';
  WriteFile(dir.Join("s.tar"), header + Padded("hi") + kEnd);
  ASSERT_OK_AND_ASSIGN(auto signed_ok, ScanAll(dir.Join("s.tar"), Compression::kNone));
  EXPECT_EQ(signed_ok.size(), 1u);
  std::snprintf(&header[148], 8, "%06o", sum + 1);
  header[155] = ' ';
  WriteFile(dir.Join("b.tar"), header + Padded("hi") + kEnd);
  EXPECT_STATUS(ScanAll(dir.Join("b.tar"), Compression::kNone), StatusCode::kCorruption,
                "checksum");
}

TEST(TarScannerTest, NonConsecutiveKeysAreCorruption) {
  TempDir dir;
  WriteFile(dir.Join("a.json"), "{}");
  WriteFile(dir.Join("b.json"), "{}");
  WriteFile(dir.Join("a.txt"), "x");
  RunOrFail("tar -cf '" + dir.Join("x.tar") + "' -C '" + dir.path() + "' a.json b.json a.txt");
  EXPECT_STATUS(ScanAll(dir.Join("x.tar"), Compression::kNone), StatusCode::kCorruption,
                "members of sample \"a\" are not consecutive");
}

TEST(TarScannerTest, Base256SizesPaxPathsAndSkippedEntries) {
  TempDir dir;
  const std::string data(1000, 'd');
  const std::string pax_record = "30 path=deep/dir/0007.cls.txt\n";
  ASSERT_EQ(pax_record.size(), 30u);
  const std::string contents = TarEntry("deep/", "", '5') +                         // directory
                               TarEntry("0006.bin", data, '0', /*base256=*/true) +  // base-256 size
                               TarEntry("link", "", '2') +                          // symlink
                               TarEntry("PaxHeaders/x", pax_record, 'x') +
                               TarEntry("short_name", "hello") +
                               TarEntry("global", "8 a=bcd\n", 'g') +  // global pax header
                               TarEntry("noext", "n") + kEnd;
  WriteFile(dir.Join("m.tar"), contents);
  ASSERT_OK_AND_ASSIGN(std::vector<TarSample> samples,
                       ScanAll(dir.Join("m.tar"), Compression::kNone, {"bin", "cls.txt", ""}));
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].key, "0006");
  EXPECT_EQ(samples[0].members[0].extension, "bin");
  EXPECT_EQ(samples[0].members[0].data, data);
  EXPECT_EQ(samples[0].begin_offset, 512);
  EXPECT_EQ(samples[1].key, "deep/dir/0007");
  EXPECT_EQ(samples[1].members[0].extension, "cls.txt");
  EXPECT_EQ(samples[1].members[0].data, "hello");
  EXPECT_EQ(samples[1].begin_offset, 512 * 5);  // at the pax header
  EXPECT_EQ(samples[1].members[0].data_offset, 512 * 8);
  EXPECT_EQ(samples[2].key, "noext");
  EXPECT_EQ(samples[2].members[0].extension, "");
  EXPECT_EQ(samples[2].members[0].data, "n");
}

TEST(TarScannerTest, EmptyArchives) {
  TempDir dir;
  for (const std::string& contents : {std::string(), kEnd, std::string(10240, '\0')}) {
    WriteFile(dir.Join("e.tar"), contents);
    ASSERT_OK_AND_ASSIGN(std::vector<TarSample> samples,
                         ScanAll(dir.Join("e.tar"), Compression::kNone));
    EXPECT_TRUE(samples.empty());
  }
}

TEST(TarScannerTest, MalformedArchives) {
  TempDir dir;
  auto scan = [&](const std::string& contents) {
    WriteFile(dir.Join("b.tar"), contents);
    return ScanAll(dir.Join("b.tar"), Compression::kNone);
  };
  EXPECT_STATUS(scan(TarEntry("a.txt", "x") + std::string(512, '\0') + TarEntry("b.txt", "y")),
                StatusCode::kCorruption, "lone zero block");
  EXPECT_STATUS(scan(TarEntry("a.txt", "x") + TarEntry("a.txt", "y") + kEnd),
                StatusCode::kCorruption, "duplicate member \"a.txt\"");
  std::string bad_size = TarHeader("a.txt", 5, '0');
  std::memcpy(&bad_size[124], "12x45", 5);
  EXPECT_STATUS(scan(bad_size + kEnd), StatusCode::kCorruption, "checksum");
  EXPECT_STATUS(scan(Rechecksum(bad_size) + kEnd), StatusCode::kCorruption, "bad size field");
  EXPECT_STATUS(scan(TarEntry("PaxHeaders/x", "99 path=x\n", 'x') + TarEntry("a", "") + kEnd),
                StatusCode::kCorruption, "malformed pax header");
  EXPECT_STATUS(scan("not a tar file at all"), StatusCode::kCorruption, "truncated");
  EXPECT_STATUS(scan(std::string(512, 'z')), StatusCode::kCorruption, "checksum");
}

// SplitPlainTarSample agrees with the scanner on every sample of archives made by tar, and
// declines (returns false) on every form it does not take, so the scanner decides those.
TEST_P(TarFormatTest, PlainSplitAgreesWithTheScanner) {
  const std::string format = GetParam();
  TempDir dir;
  const auto files = MakeFiles(/*long_names=*/false);
  for (const auto& [name, data] : files) WriteFile(dir.Join("src/" + name), data);
  const std::string tar = dir.Join("a.tar");
  RunOrFail("tar --format=" + format + " --sort=name -cf '" + tar + "' -C '" + dir.Join("src") +
            "' shard");
  const std::string bytes = ReadFile(tar);
  ASSERT_OK_AND_ASSIGN(std::vector<TarSample> samples, ScanAll(tar, Compression::kNone, {"*"}));
  ASSERT_FALSE(samples.empty());
  size_t split = 0;
  std::vector<PlainTarMember> members;
  for (const TarSample& s : samples) {
    const std::string_view sample_bytes(bytes.data() + s.begin_offset,
                                        static_cast<size_t>(s.end_offset - s.begin_offset));
    std::string_view key;
    const bool ok = SplitPlainTarSample(sample_bytes, &key, &members);
    // ustar stores paths over 100 bytes with a prefix, which the fast path declines.
    bool short_names = true;
    for (const TarMember& m : s.members) {
      short_names = short_names && s.key.size() + 1 + m.extension.size() < 100;
    }
    EXPECT_EQ(ok, format != "ustar" || short_names) << format << " " << s.key;
    if (!ok) continue;
    ++split;
    EXPECT_EQ(key, s.key);
    ASSERT_EQ(members.size(), s.members.size()) << s.key;
    for (size_t i = 0; i < members.size(); ++i) {
      EXPECT_EQ(members[i].extension, s.members[i].extension);
      EXPECT_EQ(members[i].data, s.members[i].data);
    }
  }
  EXPECT_GT(split, 0u);
}

TEST(TarPlainSplitTest, DeclinesEveryFormItDoesNotTake) {
  const std::string a = TarEntry("d/0001.json", "{\"x\":1}");
  const std::string b = TarEntry("d/0001.txt", "hello world");
  auto exact = [](const std::string& s) {
    // Without the last member's padding, as the offsets file records a sample.
    size_t end = s.size();
    while (end > 0 && s[end - 1] == '\0') --end;
    return s.substr(0, end);
  };
  std::string_view key;
  std::vector<PlainTarMember> members;
  const std::string good = a + exact(b);
  ASSERT_TRUE(SplitPlainTarSample(good, &key, &members));
  EXPECT_EQ(key, "d/0001");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].extension, "json");
  EXPECT_EQ(members[0].data, "{\"x\":1}");
  EXPECT_EQ(members[1].extension, "txt");
  EXPECT_EQ(members[1].data, "hello world");

  std::string bad_checksum = good;
  bad_checksum[600] ^= 1;  // in the first member's data: still fine
  EXPECT_TRUE(SplitPlainTarSample(bad_checksum, &key, &members));
  bad_checksum = good;
  bad_checksum[10] ^= 1;  // in the first header's name
  EXPECT_FALSE(SplitPlainTarSample(bad_checksum, &key, &members));
  EXPECT_FALSE(SplitPlainTarSample(good.substr(0, good.size() - 1), &key, &members));
  EXPECT_FALSE(SplitPlainTarSample(good + "x", &key, &members));
  EXPECT_FALSE(SplitPlainTarSample(good.substr(0, 700), &key, &members));
  EXPECT_FALSE(SplitPlainTarSample(std::string_view(), &key, &members));
  EXPECT_FALSE(SplitPlainTarSample(a + exact(TarEntry("d/0002.txt", "x")), &key, &members));
  EXPECT_FALSE(SplitPlainTarSample(a + exact(TarEntry("d/0001.json", "x")), &key, &members));
  // GNU long names and pax paths and sizes are taken; malformed pax records are not.
  ASSERT_TRUE(SplitPlainTarSample(a + exact(TarEntry("././@LongLink", "d/0001.long.txt", 'L') + b),
                                  &key, &members));
  EXPECT_EQ(members[1].extension, "long.txt");
  const std::string pax =
      "23 path=d/0001.pax.txt\n"
      "10 size=5\n";
  ASSERT_TRUE(SplitPlainTarSample(
      a + exact(TarEntry("PaxHeaders/x", pax, 'x') + TarEntry("d/0001.txt", "hello")), &key,
      &members));
  EXPECT_EQ(members[1].extension, "pax.txt");
  EXPECT_EQ(members[1].data, "hello");
  EXPECT_FALSE(SplitPlainTarSample(a + exact(TarEntry("PaxHeaders/x", "99 path=x\n", 'x') + b),
                                   &key, &members));
  EXPECT_FALSE(SplitPlainTarSample(
      a + exact(TarEntry("PaxHeaders/x", "23 path=d/0002.pax.txt\n", 'x') + b), &key, &members));
  EXPECT_FALSE(
      SplitPlainTarSample(a + exact(TarEntry("global", "8 a=bcd\n", 'g') + b), &key, &members));
  EXPECT_FALSE(SplitPlainTarSample(TarEntry("d/", "", '5') + exact(b), &key, &members));
  std::string prefixed = TarHeader("0001.txt", 11, '0');
  std::memcpy(&prefixed[345], "d", 1);
  EXPECT_FALSE(SplitPlainTarSample(Rechecksum(prefixed) + "hello world", &key, &members));
  // A contiguous file ('7') and a base-256 size are plain.
  EXPECT_TRUE(SplitPlainTarSample(a + exact(TarEntry("d/0001.txt", "hello world", '7', true)), &key,
                                  &members));
  EXPECT_EQ(members[1].data, "hello world");
}

}  // namespace
}  // namespace mixtera::formats
