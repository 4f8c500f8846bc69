#include "ingest/fast_json_parser.h"

#include <simdjson.h>

#include "testing/test_util.h"

namespace mixtera::ingest {
namespace {

using model::PropertySchema;
using model::PropertyType;

// Renders row `row` of every column, so results of the two paths can be compared.
std::string RenderRow(const model::SampleBatch& batch, size_t row) {
  std::string out;
  for (const auto& c : batch.columns) {
    if (!c.is_valid(row)) {
      out += "null|";
      continue;
    }
    switch (c.type()) {
      case PropertyType::kInt:
        out += std::to_string(c.int_at(row));
        break;
      case PropertyType::kFloat:
        out += std::to_string(c.float_at(row));
        break;
      case PropertyType::kBool:
        out += c.bool_at(row) ? "true" : "false";
        break;
      case PropertyType::kString:
      case PropertyType::kEnum:
        out += "s:" + std::string(c.string_at(row));
        break;
      case PropertyType::kStringList:
        out += "[";
        for (size_t k = 0; k < c.list_size(row); ++k) out += std::string(c.list_item(row, k)) + ",";
        out += "]";
        break;
    }
    out += "|";
  }
  return out;
}

// The DOM path as file_scanner.cc runs it: parse, object check, text check, extraction.
bool DomParse(simdjson::dom::parser& parser, const JsonPropertyExtractor& extractor,
              std::string_view line, model::SampleBatch* batch) {
  simdjson::dom::element doc;
  return !parser.parse(reinterpret_cast<const uint8_t*>(line.data()), line.size(), false)
              .get(doc) &&
         doc.is_object() && extractor.CheckText(doc).ok() && extractor.Extract(doc, batch).ok();
}

class FastJsonParserTest : public ::testing::Test {
 protected:
  std::vector<PropertySchema> props_ = {
      {"s", PropertyType::kString, true, {}, "/s"},
      {"e", PropertyType::kEnum, true, {"a", "b"}, "/meta/e"},
      {"i", PropertyType::kInt, true, {}, "/i"},
      {"f", PropertyType::kFloat, true, {}, "/f"},
      {"b", PropertyType::kBool, true, {}, "/b"},
      {"l", PropertyType::kStringList, true, {}, "/l"},
      {"x", PropertyType::kString, true, {}, "/arr/1/x"},
  };
  std::vector<std::string> pointers_ = {"/s", "/meta/e", "/i", "/f", "/b", "/l", "/arr/1/x"};
  std::vector<std::string> text_ = {"/text"};
};

// The fast path must agree with the DOM path (parse, object check, text check, extraction)
// on every record: where it succeeds the DOM path succeeds with the same values, and where
// the DOM path fails the fast path declines.
TEST_F(FastJsonParserTest, AgreesWithTheDomPathOnValidAndInvalidRecords) {
  const std::vector<std::string> records = {
      R"({"text": "t", "s": "x", "meta": {"e": "a"}, "i": 5, "f": 2.5, "b": true, "l": ["p", "q"]})",
      R"({"text": "t"})",
      R"(  {"text": "t", "i": -9223372036854775808}  )",
      R"({"text": "t", "i": 9223372036854775808})",
      R"({"text": "t", "i": 3.0})",
      R"({"text": "t", "i": "3"})",
      R"({"text": "t", "f": 7})",
      R"({"text": "t", "f": 1e400})",
      R"({"text": "t", "b": 1})",
      R"({"text": "t", "l": "solo"})",
      R"({"text": "t", "l": ["a", 1]})",
      R"({"text": "t", "l": []})",
      R"({"text": "t", "e": "a"})",
      R"({"text": "t", "meta": {"e": "c"}})",
      R"({"text": "t", "meta": {"e": null}})",
      R"({"text": "t", "arr": [{"x": "no"}, {"x": "yes"}]})",
      R"({"text": "t", "arr": [{"x": "only"}]})",
      R"({"text": "t", "arr": "notalist"})",
      R"({"text": "line\nwith \"escapes\" \u00fc \ud83d\ude00 \/ \\", "s": "\u0041"})",
      R"({"text": "t", "other": "bad \q escape"})",
      R"({"text": "t", "other": "bad \u12 escape"})",
      R"({"text": "t", "ot\qher": 1})",
      R"({"text": "t", "n": 01})",
      R"({"text": "t", "n": 1.})",
      R"({"text": "t", "n": -})",
      R"({"text": "t", "n": [1, 2, {"deep": [true, false, null]}]})",
      R"({"text": "t", "n": tru})",
      R"({"text": "t", "n": nul})",
      R"({"text": "t"} x)",
      R"({"text": "t"} {"text": "u"})",
      R"({"text": "t",})",
      R"({"text": "t")",
      R"({"text": 5})",
      R"({"no_text": "t"})",
      R"(["text", "t"])",
      R"("just a string")",
      R"({"text": "t", "s": "dup1", "s": "dup2"})",
      "{\"text\": \"t\", \"s\": \"tab\there\"}",
      "{\"text\": \"t\"}\r",
      R"({})",
      "",
      R"({"text":"t","z":[1,"k":null}]})",
      R"({"a":"x":"y"},"text":"t"})",
      R"({"text":"t","meta":{"l\u0061ng":"en", "\u0065": "b"}})",
      R"({"text":"t","m\u0065ta":{"e":"a"}})",
      R"({"text":"t","f":123456789012345678901234567890})",
      R"({"text":"t","f":18446744073709551615})",
      R"({"text":"t","f":-0})",
      R"({"text":"t","f":-0.0})",
      R"({"text":"t","i":-0})",
      std::string("{\"text\":\"t\",\"d\":") + std::string(1023, '[') + std::string(1023, ']') + "}",
      std::string("{\"text\":\"t\",\"d\":") + std::string(1024, '[') + std::string(1024, ']') + "}",
  };
  auto fast = FastJsonRecordParser::Make(props_, pointers_, text_);
  ASSERT_NE(fast, nullptr);
  ASSERT_OK_AND_ASSIGN(auto dom, JsonPropertyExtractor::Make(props_, pointers_, text_));
  simdjson::dom::parser dom_parser;
  int fast_accepted = 0;
  for (const std::string& record : records) {
    SCOPED_TRACE(record);
    std::string padded = record + std::string(64, ' ');
    std::string_view line(padded.data(), record.size());
    model::SampleBatch fast_batch(1, props_);
    bool fast_ok = fast->Parse(line, &fast_batch);

    model::SampleBatch dom_batch(1, props_);
    bool dom_ok = DomParse(dom_parser, dom, line, &dom_batch);
    if (fast_ok) {
      ++fast_accepted;
      EXPECT_TRUE(dom_ok) << "the fast path accepted a record the DOM path rejects";
      ASSERT_EQ(fast_batch.columns[0].size(), 1u);
      if (dom_ok) {
        EXPECT_EQ(RenderRow(fast_batch, 0), RenderRow(dom_batch, 0));
      }
    } else {
      EXPECT_EQ(fast_batch.columns[0].size(), 0u) << "declined records leave no partial row";
    }
  }
  // The fast path is not vacuous: it serves the clean records itself.
  EXPECT_GE(fast_accepted, 12);
}

// Escapes in strings nobody reads are validated without unescaping; generated strings put
// backslashes at every position around the 32- and 64-byte blocks of the scan.
TEST_F(FastJsonParserTest, ValidatesEveryEscapeLikeTheDomParser) {
  const std::vector<std::string> pieces = {"a",       "\\n",   "\\\\",    "\\q",
                                           "\\u00e9", "\\u12", "\\\"",    "\\/",
                                           "xyz",     "\\",    "\\\\\\q", "\\uD83D\\uDE00"};
  auto fast = FastJsonRecordParser::Make(props_, pointers_, text_);
  simdjson::dom::parser dom_parser;
  uint64_t state = 12345;
  int accepted = 0, rejected = 0;
  for (int n = 0; n < 6000; ++n) {
    std::string value;
    size_t target = n % 200;
    while (value.size() < target) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      value += pieces[(state >> 33) % pieces.size()];
    }
    std::string record = "{\"text\": \"t\", \"other\": \"" + value + "\", \"s\": \"v\"}";
    std::string padded = record + std::string(64, ' ');
    std::string_view line(padded.data(), record.size());
    model::SampleBatch batch(1, props_);
    bool fast_ok = fast->Parse(line, &batch);
    simdjson::dom::element doc;
    bool dom_ok =
        !dom_parser.parse(reinterpret_cast<const uint8_t*>(line.data()), line.size(), false)
             .get(doc);
    ASSERT_EQ(fast_ok, dom_ok) << record;
    (fast_ok ? accepted : rejected)++;
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 100);
}

// Random mutations with JSON-significant bytes of valid records: the fast path must never
// accept a record the DOM path rejects, nor extract different values.
TEST_F(FastJsonParserTest, MutatedRecordsNeverDisagreeWithTheDomPath) {
  const std::vector<std::string> bases = {
      R"({"text": "a \"b\" \\ c", "s": "x", "meta": {"e": "a", "q": [1, {"r": null}]}, "i": 5, "f": -2.5e3, "b": false, "l": ["p", "q"], "arr": [{}, {"x": "y"}]})",
      R"({"z": [1, "k", {"n": [true, null, 3]}], "text": "t\u00e9", "s": "", "l": "one"})",
  };
  const char kBytes[] = "\"\\:,{}[]0-.eu ntf";
  auto fast = FastJsonRecordParser::Make(props_, pointers_, text_);
  ASSERT_OK_AND_ASSIGN(auto dom, JsonPropertyExtractor::Make(props_, pointers_, text_));
  simdjson::dom::parser dom_parser;
  uint64_t state = 99;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  int fast_accepted = 0;
  for (int n = 0; n < 40000; ++n) {
    std::string record = bases[n % bases.size()];
    for (int m = 0, count = 1 + static_cast<int>(next() % 3); m < count; ++m) {
      size_t pos = next() % record.size();
      char c = kBytes[next() % (sizeof(kBytes) - 1)];
      switch (next() % 3) {
        case 0:
          record[pos] = c;
          break;
        case 1:
          record.insert(record.begin() + static_cast<std::ptrdiff_t>(pos), c);
          break;
        default:
          record.erase(pos, 1);
          break;
      }
    }
    std::string padded = record + std::string(64, ' ');
    std::string_view line(padded.data(), record.size());
    model::SampleBatch fast_batch(1, props_);
    if (!fast->Parse(line, &fast_batch)) continue;
    ++fast_accepted;
    model::SampleBatch dom_batch(1, props_);
    bool dom_ok = DomParse(dom_parser, dom, line, &dom_batch);
    ASSERT_TRUE(dom_ok) << "accepted by the fast path only: " << record;
    ASSERT_EQ(RenderRow(fast_batch, 0), RenderRow(dom_batch, 0)) << record;
  }
  EXPECT_GT(fast_accepted, 1000);
}

TEST_F(FastJsonParserTest, DeclinesWildcardPointers) {
  std::vector<PropertySchema> props = {{"l", PropertyType::kStringList, true, {}, "/a/*/b"}};
  EXPECT_EQ(FastJsonRecordParser::Make(props, {"/a/*/b"}, {}), nullptr);
}

}  // namespace
}  // namespace mixtera::ingest
