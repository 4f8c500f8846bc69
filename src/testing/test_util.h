// Test helpers: status assertions and a temporary directory (style.md §2.9).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "mixtera/result.h"
#include "mixtera/status.h"

#define MIXTERA_TEST_CONCAT_INNER(a, b) a##b
#define MIXTERA_TEST_CONCAT(a, b) MIXTERA_TEST_CONCAT_INNER(a, b)

#define ASSERT_OK(expr)                                               \
  do {                                                                \
    const ::mixtera::Status _st = ::mixtera::testing::ToStatus(expr); \
    ASSERT_TRUE(_st.ok()) << _st.ToString();                          \
  } while (false)
#define EXPECT_OK(expr)                                               \
  do {                                                                \
    const ::mixtera::Status _st = ::mixtera::testing::ToStatus(expr); \
    EXPECT_TRUE(_st.ok()) << _st.ToString();                          \
  } while (false)

#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, rexpr)  \
  auto tmp = (rexpr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL(MIXTERA_TEST_CONCAT(_result_, __LINE__), lhs, rexpr)

// Asserts that `expr` (Status or Result) failed with `code` and its message contains `substr`.
#define EXPECT_STATUS(expr, expected_code, substr)                              \
  do {                                                                          \
    const ::mixtera::Status _st = ::mixtera::testing::ToStatus(expr);           \
    EXPECT_EQ(_st.code(), expected_code) << _st.ToString();                     \
    EXPECT_THAT(_st.message(), ::testing::HasSubstr(substr)) << _st.ToString(); \
  } while (false)

namespace mixtera::testing {

inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `contents` to `path` (creating parent folders); aborts the test on failure.
void WriteFile(const std::string& path, const std::string& contents);
// Returns the whole file; aborts the test on failure.
std::string ReadFile(const std::string& path);

}  // namespace mixtera::testing
