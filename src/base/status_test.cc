#include "mixtera/status.h"

#include "base/macros.h"
#include "mixtera/result.h"
#include "testing/test_util.h"

namespace mixtera {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  MIXTERA_ASSIGN_OR_RETURN(int h, Half(v));
  MIXTERA_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = Status::NotFound("dataset 'x'");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.ToString(), "NotFound: dataset 'x'");
  Status copy = s;
  EXPECT_EQ(copy.message(), "dataset 'x'");
  EXPECT_EQ(s.WithContext("registering").message(), "registering: dataset 'x'");
  EXPECT_EQ(s.WithContext("registering").code(), StatusCode::kNotFound);
  EXPECT_TRUE(Status().WithContext("ctx").ok());
}

TEST(ResultTest, PropagatesErrorsThroughMacros) {
  ASSERT_OK_AND_ASSIGN(int q, Quarter(12));
  EXPECT_EQ(q, 3);
  EXPECT_STATUS(Quarter(6), StatusCode::kInvalidArgument, "odd");
  Result<int> from_ok{Status::OK()};
  EXPECT_EQ(from_ok.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace mixtera
