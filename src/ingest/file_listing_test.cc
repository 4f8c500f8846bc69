#include "ingest/file_listing.h"

#include <unistd.h>

#include "testing/test_util.h"

namespace mixtera::ingest {
namespace {

class FileListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* f : {"a/1.jsonl", "a/2.jsonl", "a/b/3.jsonl", "a/b/c/4.jsonl", "a/x.txt",
                          "a/.hidden.jsonl", "a/.git/5.jsonl", "z/6.jsonl"}) {
      testing::WriteFile(dir_.Join(f), "{}\n");
    }
  }
  std::vector<std::string> Expand(std::vector<std::string> patterns) {
    for (auto& p : patterns) p = dir_.Join(p);
    auto r = ExpandPathPatterns(patterns);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (auto& p : *r) out.push_back(p.substr(dir_.path().size() + 1));
    return out;
  }
  testing::TempDir dir_;
};

TEST_F(FileListingTest, StarStaysWithinOneFolder) {
  EXPECT_EQ(Expand({"a/*.jsonl"}), (std::vector<std::string>{"a/1.jsonl", "a/2.jsonl"}));
}

TEST_F(FileListingTest, DoubleStarRecursesAndSkipsHidden) {
  EXPECT_EQ(Expand({"**/*.jsonl"}),
            (std::vector<std::string>{"a/1.jsonl", "a/2.jsonl", "a/b/3.jsonl", "a/b/c/4.jsonl",
                                      "z/6.jsonl"}));
  EXPECT_EQ(Expand({"a/**/4.jsonl"}), (std::vector<std::string>{"a/b/c/4.jsonl"}));
}

TEST_F(FileListingTest, FolderMeansAllVisibleFilesAndResultIsSortedAndUnique) {
  EXPECT_EQ(Expand({"a/b", "a/b/3.jsonl"}),
            (std::vector<std::string>{"a/b/3.jsonl", "a/b/c/4.jsonl"}));
  EXPECT_EQ(Expand({"z/6.jsonl", "a/1.jsonl"}),
            (std::vector<std::string>{"a/1.jsonl", "z/6.jsonl"}));
  EXPECT_EQ(Expand({"a/.hidden.jsonl"}), (std::vector<std::string>{"a/.hidden.jsonl"}));
}

TEST_F(FileListingTest, FollowsSymlinks) {
  ASSERT_EQ(symlink(dir_.Join("a/b").c_str(), dir_.Join("z/link").c_str()), 0);
  EXPECT_EQ(Expand({"z/**/*.jsonl"}),
            (std::vector<std::string>{"z/6.jsonl", "z/link/3.jsonl", "z/link/c/4.jsonl"}));
}

TEST_F(FileListingTest, NoMatchIsNotFound) {
  EXPECT_STATUS(ExpandPathPatterns({dir_.Join("a/*.parquet")}), StatusCode::kNotFound,
                "matches no files");
  EXPECT_STATUS(ExpandPathPatterns({dir_.Join("nope.jsonl")}), StatusCode::kNotFound,
                "does not exist");
}

}  // namespace
}  // namespace mixtera::ingest
