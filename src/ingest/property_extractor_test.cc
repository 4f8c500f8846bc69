#include "ingest/property_extractor.h"

#include "testing/test_util.h"

namespace mixtera::ingest {
namespace {

using model::PropertySchema;
using model::PropertyType;

// Extracts one property of `type` at "/v" from `json`; returns the status and the column.
struct One {
  Status status;
  model::SampleBatch batch;
};

One ExtractOne(PropertyType type, const std::string& json, bool nullable = false,
               std::vector<std::string> values = {}, std::string pointer = "/v") {
  PropertySchema p{"v", type, nullable, std::move(values), pointer};
  auto extractor = JsonPropertyExtractor::Make({p}, {pointer}, {});
  One out{Status::OK(), model::SampleBatch(1, {p})};
  if (!extractor.ok()) {
    out.status = extractor.status();
    return out;
  }
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc = parser.parse(padded).value();
  out.status = extractor->Extract(doc, &out.batch);
  return out;
}

TEST(PropertyExtractorTest, IntRejectsStringsFloatsAndBools) {
  auto ok = ExtractOne(PropertyType::kInt, R"({"v": -42})");
  ASSERT_OK(ok.status);
  EXPECT_EQ(ok.batch.columns[0].int_at(0), -42);
  EXPECT_STATUS(ExtractOne(PropertyType::kInt, R"({"v": "123"})").status,
                StatusCode::kInvalidArgument, "expected an integer, got string \"123\"");
  EXPECT_STATUS(ExtractOne(PropertyType::kInt, R"({"v": 3.0})").status,
                StatusCode::kInvalidArgument, "got float 3.0");
  EXPECT_STATUS(ExtractOne(PropertyType::kInt, R"({"v": true})").status,
                StatusCode::kInvalidArgument, "got boolean");
  EXPECT_STATUS(ExtractOne(PropertyType::kInt, R"({"v": 18446744073709551615})").status,
                StatusCode::kInvalidArgument, "within int64");
}

TEST(PropertyExtractorTest, BoolRejectsZeroAndOne) {
  auto ok = ExtractOne(PropertyType::kBool, R"({"v": false})");
  ASSERT_OK(ok.status);
  EXPECT_FALSE(ok.batch.columns[0].bool_at(0));
  EXPECT_STATUS(ExtractOne(PropertyType::kBool, R"({"v": 1})").status, StatusCode::kInvalidArgument,
                "expected true or false");
}

TEST(PropertyExtractorTest, FloatAcceptsIntegers) {
  auto ok = ExtractOne(PropertyType::kFloat, R"({"v": 7})");
  ASSERT_OK(ok.status);
  EXPECT_DOUBLE_EQ(ok.batch.columns[0].float_at(0), 7.0);
  EXPECT_STATUS(ExtractOne(PropertyType::kFloat, R"({"v": "7"})").status,
                StatusCode::kInvalidArgument, "expected a number");
}

TEST(PropertyExtractorTest, MissingAndNullNeedNullable) {
  EXPECT_STATUS(ExtractOne(PropertyType::kString, R"({"w": 1})").status,
                StatusCode::kInvalidArgument, "missing or null and not nullable");
  EXPECT_STATUS(ExtractOne(PropertyType::kString, R"({"v": null})").status,
                StatusCode::kInvalidArgument, "not nullable");
  auto ok = ExtractOne(PropertyType::kString, R"({"v": null})", /*nullable=*/true);
  ASSERT_OK(ok.status);
  EXPECT_FALSE(ok.batch.columns[0].is_valid(0));
}

TEST(PropertyExtractorTest, EnumChecksValues) {
  ASSERT_OK(ExtractOne(PropertyType::kEnum, R"({"v": "MIT"})", false, {"MIT", "BSD"}).status);
  EXPECT_STATUS(ExtractOne(PropertyType::kEnum, R"({"v": "GPL"})", false, {"MIT", "BSD"}).status,
                StatusCode::kInvalidArgument, "\"GPL\" is not one of the enum values [MIT, BSD]");
}

TEST(PropertyExtractorTest, StringListWrapsScalarsAndChecksItems) {
  auto scalar = ExtractOne(PropertyType::kStringList, R"({"v": "en"})");
  ASSERT_OK(scalar.status);
  ASSERT_EQ(scalar.batch.columns[0].list_size(0), 1u);
  EXPECT_EQ(scalar.batch.columns[0].list_item(0, 0), "en");
  auto list = ExtractOne(PropertyType::kStringList, R"({"v": ["a", "", "c"]})");
  ASSERT_OK(list.status);
  EXPECT_EQ(list.batch.columns[0].list_size(0), 3u);
  auto bad = ExtractOne(PropertyType::kStringList, R"({"v": ["a", 1]})");
  EXPECT_STATUS(bad.status, StatusCode::kInvalidArgument,
                "list items must be strings, got integer 1");
  EXPECT_EQ(bad.batch.columns[0].size(), 0u);  // rolled back
}

TEST(PropertyExtractorTest, NestedPointersAndWildcards) {
  auto nested = ExtractOne(PropertyType::kString, R"({"meta": {"a/b": {"x": ["p", "q"]}}})", false,
                           {}, "/meta/a~1b/x/1");
  ASSERT_OK(nested.status);
  EXPECT_EQ(nested.batch.columns[0].string_at(0), "q");
  auto wild =
      ExtractOne(PropertyType::kStringList,
                 R"({"meta": {"language": [{"name": "en"}, {"name": "de"}, {"other": 1}]}})", false,
                 {}, "/meta/language/*/name");
  ASSERT_OK(wild.status);
  ASSERT_EQ(wild.batch.columns[0].list_size(0), 2u);
  EXPECT_EQ(wild.batch.columns[0].list_item(0, 1), "de");
  EXPECT_STATUS(
      ExtractOne(PropertyType::kStringList, R"({"meta": {}})", false, {}, "/meta/language/*/name")
          .status,
      StatusCode::kInvalidArgument, "missing");
}

TEST(PropertyExtractorTest, FailureRollsBackEarlierColumnsOfTheRow) {
  std::vector<PropertySchema> props = {{"a", PropertyType::kString, false, {}, "/a"},
                                       {"b", PropertyType::kInt, false, {}, "/b"}};
  ASSERT_OK_AND_ASSIGN(auto extractor, JsonPropertyExtractor::Make(props, {"/a", "/b"}, {"/text"}));
  model::SampleBatch batch(1, props);
  simdjson::dom::parser parser;
  simdjson::padded_string bad(std::string(R"({"a": "x", "b": "y", "text": "t"})"));
  simdjson::dom::element doc = parser.parse(bad).value();
  EXPECT_FALSE(extractor.Extract(doc, &batch).ok());
  EXPECT_EQ(batch.columns[0].size(), 0u);
  simdjson::padded_string no_text(std::string(R"({"a": "x", "b": 1, "text": 5})"));
  doc = parser.parse(no_text).value();
  EXPECT_STATUS(extractor.CheckText(doc), StatusCode::kInvalidArgument,
                "text field '/text' must be a string");
}

TEST(PropertyCheckerTest, TextAndLooseValuesFollowTheSameRules) {
  PropertyChecker as_int({"n", PropertyType::kInt, false, {}, "cls"});
  model::PropertyColumn column(PropertyType::kInt);
  ASSERT_OK(as_int.AppendText(" 17\n", &column));
  EXPECT_EQ(column.int_at(0), 17);
  EXPECT_STATUS(as_int.AppendText("17.5", &column), StatusCode::kInvalidArgument,
                "expected an integer");
  EXPECT_STATUS(as_int.AppendLoose(LooseValue{3.0}, &column), StatusCode::kInvalidArgument,
                "got a float");
  EXPECT_STATUS(as_int.AppendLoose(LooseValue{true}, &column), StatusCode::kInvalidArgument,
                "got a boolean");
  ASSERT_OK(as_int.AppendLoose(LooseValue{int64_t{5}}, &column));
  EXPECT_EQ(column.size(), 2u);
}

}  // namespace
}  // namespace mixtera::ingest
