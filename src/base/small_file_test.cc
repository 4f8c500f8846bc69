#include "base/small_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "testing/test_util.h"

namespace mixtera {
namespace {

TEST(ReadSmallFile, ReadsARegularFileWhole) {
  testing::TempDir dir;
  std::ofstream(dir.Join("a.yaml")) << "name: a\n";
  ASSERT_OK_AND_ASSIGN(std::string text, ReadSmallFile(dir.Join("a.yaml"), "spec file"));
  EXPECT_EQ(text, "name: a\n");
  std::ofstream(dir.Join("empty.yaml")).close();
  ASSERT_OK_AND_ASSIGN(std::string empty, ReadSmallFile(dir.Join("empty.yaml"), "spec file"));
  EXPECT_EQ(empty, "");
}

// `mixtera register DIR /dev/zero` used to read forever (issue: hardening, 12).
TEST(ReadSmallFile, DevicesFifosFoldersAndHugeFilesAreErrorsNotHangs) {
  testing::TempDir dir;
  EXPECT_STATUS(ReadSmallFile("/dev/zero", "spec file").status(), StatusCode::kInvalidArgument,
                "spec file '/dev/zero' is not a regular file");
  ASSERT_EQ(::mkfifo(dir.Join("fifo").c_str(), 0644), 0);  // no writer: opening must not block
  EXPECT_STATUS(ReadSmallFile(dir.Join("fifo"), "spec file").status(), StatusCode::kInvalidArgument,
                "is not a regular file");
  EXPECT_STATUS(ReadSmallFile(dir.path(), "mixture file").status(), StatusCode::kInvalidArgument,
                "is not a regular file");
  std::ofstream(dir.Join("big")) << std::string(2000, 'x');
  EXPECT_STATUS(ReadSmallFile(dir.Join("big"), "spec file", 1000).status(),
                StatusCode::kInvalidArgument, "has 2000 bytes; at most 1000 are read");
  EXPECT_STATUS(ReadSmallFile(dir.Join("missing"), "spec file").status(), StatusCode::kNotFound,
                "does not exist");
}

}  // namespace
}  // namespace mixtera
