#include "mixture/mixture_parser.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "testing/test_util.h"

namespace mixtera::mixture {
namespace {

using model::ChunkUnit;
using model::Literal;
using model::MixtureKey;
using model::MixtureSpec;
using model::MixtureType;
using model::MixtureWeight;

constexpr StatusCode kInvalid = StatusCode::kInvalidArgument;

Literal S(std::string s) { return Literal::String(std::move(s)); }
Literal I(int64_t v) { return Literal::Int(v); }
Literal F(double v) { return Literal::Float(v); }
Literal B(bool v) { return Literal::Bool(v); }

MixtureKey Key(std::vector<std::pair<std::string, std::vector<Literal>>> props) {
  return MixtureKey{std::move(props)};
}

Result<MixtureSpec> Parse(const std::string& text) { return ParseMixtureSpec(text, "test.yaml"); }

// Two specs are equal except that weights may differ by floating-point rounding.
void ExpectSameWeights(const std::vector<MixtureWeight>& a, const std::vector<MixtureWeight>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key) << "weight " << i << ": " << MixtureKeyToJson(a[i].key) << " vs "
                                  << MixtureKeyToJson(b[i].key);
    EXPECT_NEAR(a[i].weight, b[i].weight, 1e-12) << "weight " << i;
    EXPECT_EQ(a[i].repeat, b[i].repeat) << "weight " << i;
  }
}

void ExpectSameSpec(const MixtureSpec& a, const MixtureSpec& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.chunk_size, b.chunk_size);
  EXPECT_EQ(a.unit, b.unit);
  EXPECT_EQ(a.strict, b.strict);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.shuffle_block, b.shuffle_block);
  EXPECT_EQ(a.group_by, b.group_by);
  ExpectSameWeights(a.weights, b.weights);
  ASSERT_EQ(a.schedule.size(), b.schedule.size());
  for (size_t i = 0; i < a.schedule.size(); ++i) {
    EXPECT_EQ(a.schedule[i].start_chunk, b.schedule[i].start_chunk);
    ExpectSameWeights(a.schedule[i].weights, b.schedule[i].weights);
  }
}

// ---------------------------------------------------------------------------------------
// Fields and defaults

TEST(MixtureParserTest, StaticWithEveryField) {
  const char* yaml = R"(
type: static
chunk_size: 512
unit: tokens
strict: false
seed: 42
shuffle: {block: 64}
group_by: [language, license]
weights:
  - key: {license: [MIT], language: [en, de]}
    weight: 0.75
    repeat: 3
  - key: {language: fr}
    weight: 0.25
)";
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(yaml));
  EXPECT_EQ(spec.type, MixtureType::kStatic);
  EXPECT_EQ(spec.chunk_size, 512);
  EXPECT_EQ(spec.unit, ChunkUnit::kTokens);
  EXPECT_FALSE(spec.strict);
  EXPECT_EQ(spec.seed, 42u);
  EXPECT_EQ(spec.shuffle_block, 64);
  EXPECT_EQ(spec.group_by, (std::vector<std::string>{"language", "license"}));
  ASSERT_EQ(spec.weights.size(), 2u);
  // Properties sorted by name (language < license), values in the order written.
  EXPECT_EQ(spec.weights[0].key, Key({{"language", {S("en"), S("de")}}, {"license", {S("MIT")}}}));
  EXPECT_DOUBLE_EQ(spec.weights[0].weight, 0.75);
  EXPECT_EQ(spec.weights[0].repeat, 3);
  // A scalar value is a one-element list; repeat defaults to 1.
  EXPECT_EQ(spec.weights[1].key, Key({{"language", {S("fr")}}}));
  EXPECT_DOUBLE_EQ(spec.weights[1].weight, 0.25);
  EXPECT_EQ(spec.weights[1].repeat, 1);
  EXPECT_TRUE(spec.schedule.empty());
}

TEST(MixtureParserTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec,
                       Parse("type: static\nweights: [{key: {a: x}, weight: 1}]\n"));
  EXPECT_EQ(spec.type, MixtureType::kStatic);
  EXPECT_EQ(spec.chunk_size, 1024);
  EXPECT_EQ(spec.unit, ChunkUnit::kSamples);
  EXPECT_TRUE(spec.strict);
  EXPECT_EQ(spec.seed, 0u);
  EXPECT_EQ(spec.shuffle_block, 0);
  EXPECT_TRUE(spec.group_by.empty());
  EXPECT_TRUE(spec.schedule.empty());
}

TEST(MixtureParserTest, EveryTypeName) {
  const std::string w = "\nweights: [{key: {a: x}, weight: 1}]\n";
  const std::string t = "\ntree: {property: a, components: [{values: x, weight: 1}]}\n";
  const std::string sch = "\nschedule: [{start_chunk: 0, weights: [{key: {a: x}, weight: 1}]}]\n";
  const std::vector<std::pair<std::string, MixtureType>> cases = {
      {"type: static" + w, MixtureType::kStatic},
      {"type: dynamic" + w, MixtureType::kDynamic},
      {"type: inferring", MixtureType::kInferring},
      {"type: arbitrary", MixtureType::kArbitrary},
      {"type: hierarchical" + t, MixtureType::kHierarchical},
      {"type: schedule" + sch, MixtureType::kSchedule},
  };
  for (const auto& [text, type] : cases) {
    ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(text));
    EXPECT_EQ(spec.type, type) << text;
    EXPECT_EQ(model::MixtureTypeName(spec.type), text.substr(6, text.find('\n') - 6)) << text;
  }
}

TEST(MixtureParserTest, DynamicLagRoundTrips) {
  ASSERT_OK_AND_ASSIGN(
      MixtureSpec spec,
      Parse("type: dynamic\nlag_chunks: 3\nweights: [{key: {a: x}, weight: 1}]\n"));
  EXPECT_EQ(spec.lag_chunks, 3);
  const std::string json = MixtureSpecToJson(spec);
  EXPECT_NE(json.find("\"lag_chunks\":3"), std::string::npos) << json;
  ASSERT_OK_AND_ASSIGN(MixtureSpec back, ParseMixtureSpec(json, "round trip"));
  EXPECT_EQ(back.lag_chunks, 3);
}

TEST(MixtureParserTest, StrictAndBestEffort) {
  const std::string w = "weights: [{key: {a: x}, weight: 1}]\n";
  auto strict_of = [&](const std::string& fields) -> Result<bool> {
    auto r = Parse("type: static\n" + fields + w);
    if (!r.ok()) return r.status();
    return r->strict;
  };
  ASSERT_OK_AND_ASSIGN(bool s1, strict_of("strict: true\n"));
  EXPECT_TRUE(s1);
  ASSERT_OK_AND_ASSIGN(bool s2, strict_of("strict: false\n"));
  EXPECT_FALSE(s2);
  ASSERT_OK_AND_ASSIGN(bool s3, strict_of("best_effort: true\n"));
  EXPECT_FALSE(s3);
  ASSERT_OK_AND_ASSIGN(bool s4, strict_of("best_effort: false\n"));
  EXPECT_TRUE(s4);
  ASSERT_OK_AND_ASSIGN(bool s5, strict_of("strict: False\nbest_effort: True\n"));
  EXPECT_FALSE(s5);
  ASSERT_OK_AND_ASSIGN(bool s6, strict_of("strict: true\nbest_effort: false\n"));
  EXPECT_TRUE(s6);
  EXPECT_STATUS(strict_of("strict: true\nbest_effort: true\n"), kInvalid, "contradict");
  EXPECT_STATUS(strict_of("strict: false\nbest_effort: false\n"), kInvalid, "contradict");
  EXPECT_STATUS(strict_of("strict: 1\n"), kInvalid, "strict must be true or false, got 1");
  EXPECT_STATUS(strict_of("strict: 'true'\n"), kInvalid, "strict must be true or false");
  EXPECT_STATUS(strict_of("best_effort: yes\n"), kInvalid, "best_effort must be true or false");
}

TEST(MixtureParserTest, ShuffleForms) {
  const std::string w = "weights: [{key: {a: x}, weight: 1}]\n";
  auto block_of = [&](const std::string& shuffle) -> Result<int64_t> {
    auto r = Parse("type: static\nshuffle: " + shuffle + "\n" + w);
    if (!r.ok()) return r.status();
    return r->shuffle_block;
  };
  auto expect_block = [&](const std::string& shuffle, int64_t want) {
    auto r = block_of(shuffle);
    ASSERT_TRUE(r.ok()) << shuffle << ": " << r.status().ToString();
    EXPECT_EQ(*r, want) << shuffle;
  };
  expect_block("{block: 64}", 64);
  expect_block("{block: 0}", 0);
  expect_block("128", 128);  // the scalar form is the block size
  expect_block("0", 0);
  expect_block("false", 0);
  expect_block("False", 0);
  expect_block("~", 0);
  expect_block("null", 0);
  EXPECT_STATUS(block_of("{block: 8, size: 2}"), kInvalid,
                "shuffle: unknown key 'size' (known: block)");
  EXPECT_STATUS(block_of("{}"), kInvalid, "shuffle needs 'block'");
  EXPECT_STATUS(block_of("{block: -1}"), kInvalid, "shuffle.block must be in [0, 1099511627776]");
  EXPECT_STATUS(block_of("-5"), kInvalid, "shuffle.block must be in [0, 1099511627776]");
  EXPECT_STATUS(block_of("{block: 1.5}"), kInvalid, "shuffle.block must be an integer");
  EXPECT_STATUS(block_of("true"), kInvalid, "shuffle must be an integer");
  EXPECT_STATUS(block_of("[1]"), kInvalid, "shuffle must be an integer");
}

TEST(MixtureParserTest, GroupByForms) {
  ASSERT_OK_AND_ASSIGN(MixtureSpec one, Parse("type: inferring\ngroup_by: language\n"));
  EXPECT_EQ(one.group_by, (std::vector<std::string>{"language"}));
  ASSERT_OK_AND_ASSIGN(MixtureSpec two, Parse("type: arbitrary\ngroup_by: [b, a]\n"));
  EXPECT_EQ(two.group_by, (std::vector<std::string>{"b", "a"}));  // as written
  ASSERT_OK_AND_ASSIGN(MixtureSpec none, Parse("type: arbitrary\ngroup_by: ~\n"));
  EXPECT_TRUE(none.group_by.empty());
  EXPECT_STATUS(Parse("type: inferring\ngroup_by: {a: b}\n"), kInvalid,
                "group_by must be a property name or a list of them");
  EXPECT_STATUS(Parse("type: inferring\ngroup_by: [a, [b]]\n"), kInvalid,
                "group_by[1] must be a property name");
}

TEST(MixtureParserTest, IntegerFields) {
  const std::string w = "weights: [{key: {a: x}, weight: 1}]\n";
  ASSERT_OK_AND_ASSIGN(MixtureSpec s, Parse("type: static\nchunk_size: 1\nseed: 0\n" + w));
  EXPECT_EQ(s.chunk_size, 1);
  // The seed spans uint64.
  ASSERT_OK_AND_ASSIGN(MixtureSpec big, Parse("type: static\nseed: 18446744073709551615\n" + w));
  EXPECT_EQ(big.seed, UINT64_MAX);
  EXPECT_STATUS(Parse("type: static\nseed: 18446744073709551616\n" + w), kInvalid,
                "seed must be an integer");
  EXPECT_STATUS(Parse("type: static\nseed: -1\n" + w), kInvalid, "seed must be an integer");
  EXPECT_STATUS(Parse("type: static\nseed: '7'\n" + w), kInvalid, "seed must be an integer");
  EXPECT_STATUS(Parse("type: static\nchunk_size: 0\n" + w), kInvalid,
                "chunk_size must be in [1, 1099511627776]");
  EXPECT_STATUS(Parse("type: static\nchunk_size: -3\n" + w), kInvalid,
                "chunk_size must be in [1, 1099511627776]");
  // The largest int64 used to loop forever in the apportionment (issue: hardening, 2).
  EXPECT_STATUS(Parse("type: static\nchunk_size: 9223372036854775807\n" + w), kInvalid,
                "chunk_size must be in [1, 1099511627776], got 9223372036854775807");
  EXPECT_OK(Parse("type: static\nchunk_size: 1099511627776\n" + w).status());
  EXPECT_STATUS(Parse("type: static\nchunk_size: 1.5\n" + w), kInvalid,
                "chunk_size must be an integer, got 1.5");
  EXPECT_STATUS(Parse("type: static\nchunk_size: '8'\n" + w), kInvalid,
                "chunk_size must be an integer");
  EXPECT_STATUS(Parse("type: static\nchunk_size: 1e3\n" + w), kInvalid,
                "chunk_size must be an integer");
  EXPECT_STATUS(Parse("type: static\nunit: bytes\n" + w), kInvalid,
                "unit must be 'samples' or 'tokens', got 'bytes'");
}

// ---------------------------------------------------------------------------------------
// Literal typing

TEST(MixtureParserTest, LiteralTyping) {
  const char* yaml = R"(
type: static
weights:
  - key:
      v: ['1', 1, 1.5, true, "x", '', 1e3, -7, +3, True, false, 'true', "2.5", yes, 2.0, .5,
          0x1e, 1.2.3, nan, .inf, !!str 5, 99999999999999999999]
    weight: 1
)";
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(yaml));
  ASSERT_EQ(spec.weights.size(), 1u);
  ASSERT_EQ(spec.weights[0].key.properties.size(), 1u);
  const std::vector<Literal> want = {
      S("1"),                     // quoted: a string
      I(1),                       // plain integer
      F(1.5),                     // plain float
      B(true),                    //
      S("x"),                     //
      S(""),                      // the empty string
      F(1000),                    // exponent form is a float
      I(-7),                      //
      I(3),                       // explicit plus sign
      B(true),                    // True is accepted too
      B(false),                   //
      S("true"),                  // quoted: a string
      S("2.5"),                   // quoted: a string
      S("yes"),                   // YAML 1.1 booleans are plain strings
      F(2.0),                     // 2.0 is a float, not an integer
      F(0.5),                     //
      S("0x1e"),                  // only decimal numbers (strtod would read hex 0x1e as 30)
      S("1.2.3"),                 //
      S("nan"),                   // not a number: a string
      S(".inf"),                  //
      S("5"),                     // explicitly tagged !!str
      S("99999999999999999999"),  // does not fit int64: kept as a string
  };
  EXPECT_EQ(spec.weights[0].key.properties[0].second, want);
}

TEST(MixtureParserTest, JsonLiteralTyping) {
  const char* json = R"({"type": "static", "weights": [
    {"key": {"v": ["1", 1, 1.5, true, false, "", "true", 2.0, -0.25, 1E2]}, "weight": 1}]})";
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(json));
  EXPECT_EQ(spec.weights[0].key.properties[0].second,
            (std::vector<Literal>{S("1"), I(1), F(1.5), B(true), B(false), S(""), S("true"), F(2.0),
                                  F(-0.25), F(100)}));
}

TEST(MixtureParserTest, ValuesKeepSpecialCharactersVerbatim) {
  // Nothing is string-encoded: separators of the original's string form (; :), commas,
  // quotes, backslashes, YAML indicators, unicode and whitespace stay as written.
  const char* yaml = R"(
type: static
weights:
  - key:
      "odd:name;x": ["a;b", "c:d", "e,f", "it's", "say \"hi\"", 'back\slash', "日本語", "🙂",
                     " lead", "tab\there", "- dash", "# hash", "{x: 1}", "null", "~", ""]
    weight: 1
)";
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(yaml));
  const auto& props = spec.weights[0].key.properties;
  ASSERT_EQ(props.size(), 1u);
  EXPECT_EQ(props[0].first, "odd:name;x");
  EXPECT_EQ(
      props[0].second,
      (std::vector<Literal>{S("a;b"), S("c:d"), S("e,f"), S("it's"), S("say \"hi\""),
                            S("back\\slash"), S("日本語"), S("🙂"), S(" lead"), S("tab\there"),
                            S("- dash"), S("# hash"), S("{x: 1}"), S("null"), S("~"), S("")}));
}

// ---------------------------------------------------------------------------------------
// Weights

TEST(MixtureParserTest, WeightsAreNormalizedWithinTolerance) {
  // 0.5 + 0.5005 = 1.0005: within 1e-3 of 1, so accepted and divided by 1.0005.
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(R"(
type: static
weights:
  - {key: {a: x}, weight: 0.5}
  - {key: {a: y}, weight: 0.5005}
)"));
  EXPECT_DOUBLE_EQ(spec.weights[0].weight, 0.5 / 1.0005);
  EXPECT_DOUBLE_EQ(spec.weights[1].weight, 0.5005 / 1.0005);
  // One third written to three decimals: 0.333 * 3 = 0.999.
  ASSERT_OK_AND_ASSIGN(MixtureSpec thirds, Parse(R"(
type: static
weights: [{key: {a: x}, weight: 0.333}, {key: {a: y}, weight: 0.333}, {key: {a: z}, weight: 0.333}]
)"));
  for (const auto& w : thirds.weights) EXPECT_DOUBLE_EQ(w.weight, 1.0 / 3);
  // Zero weights are allowed.
  ASSERT_OK_AND_ASSIGN(MixtureSpec zero, Parse(R"(
type: static
weights: [{key: {a: x}, weight: 0}, {key: {a: y}, weight: 1}]
)"));
  EXPECT_EQ(zero.weights[0].weight, 0.0);
  EXPECT_EQ(zero.weights[1].weight, 1.0);
}

TEST(MixtureParserTest, WeightErrorsNameTheEntry) {
  auto parse_weights = [](const std::string& entries) {
    return Parse("type: static\nweights:\n" + entries);
  };
  // 0.5 + 0.4 = 0.9: off by 0.1 > 1e-3.
  EXPECT_STATUS(parse_weights("  - {key: {a: x}, weight: 0.5}\n  - {key: {a: y}, weight: 0.4}\n"),
                kInvalid, "test.yaml: weights: weights sum to 0.9, not 1");
  // 0.5 + 0.502 = 1.002.
  EXPECT_STATUS(parse_weights("  - {key: {a: x}, weight: 0.5}\n  - {key: {a: y}, weight: 0.502}\n"),
                kInvalid, "weights sum to 1.002, not 1");
  EXPECT_STATUS(parse_weights("  - {key: {a: x}, weight: 0}\n"), kInvalid,
                "weights sum to 0, not 1");
  EXPECT_STATUS(parse_weights("  - {key: {a: x}, weight: 1.5}\n  - {key: {a: y}, weight: -0.5}\n"),
                kInvalid, "weights[1].weight is negative");
  EXPECT_STATUS(parse_weights("  - {key: {a: x}, weight: '1'}\n"), kInvalid,
                R"(weights[0].weight must be a number, got "1")");
  EXPECT_STATUS(parse_weights("  - {key: {a: x}, weight: .nan}\n"), kInvalid,
                "weights[0].weight must be a number");
  EXPECT_STATUS(parse_weights("  - {key: {a: x}, weight: [1]}\n"), kInvalid,
                "weights[0].weight must be a number");
  EXPECT_STATUS(parse_weights("  - {key: {a: x}, weight: 1}\n  - {key: {a: y}}\n"), kInvalid,
                "weights[1] needs 'key' and 'weight'");
  EXPECT_STATUS(parse_weights("  - {weight: 1}\n"), kInvalid,
                "weights[0] needs 'key' and 'weight'");
  EXPECT_STATUS(parse_weights("  - {key: {a: x}, weight: 0.5}\n  - {key: {a: y}, wieght: 0.5}\n"),
                kInvalid, "weights[1]: unknown key 'wieght' (known: key, repeat, weight)");
  EXPECT_STATUS(parse_weights("  - [a, 1]\n"), kInvalid, "weights[0] must be a mapping");
  // repeat
  EXPECT_STATUS(
      parse_weights("  - {key: {a: x}, weight: 0.5}\n  - {key: {a: y}, weight: 0.5, repeat: 0}\n"),
      kInvalid, "weights[1].repeat must be in [1, 1048576]");
  EXPECT_STATUS(
      parse_weights("  - {key: {a: x}, weight: 0.5}\n  - {key: {a: y}, weight: 0.5, repeat: -2}\n"),
      kInvalid, "weights[1].repeat must be in [1, 1048576]");
  EXPECT_STATUS(
      parse_weights(
          "  - {key: {a: x}, weight: 0.5}\n  - {key: {a: y}, weight: 0.5, repeat: 1.5}\n"),
      kInvalid, "weights[1].repeat must be an integer, got 1.5");
  // keys
  EXPECT_STATUS(parse_weights("  - {key: {}, weight: 1}\n"), kInvalid,
                "weights[0].key must be a non-empty mapping {property: [values]}");
  EXPECT_STATUS(parse_weights("  - {key: en, weight: 1}\n"), kInvalid,
                "weights[0].key must be a non-empty mapping");
  EXPECT_STATUS(
      parse_weights("  - {key: {a: x}, weight: 0.5}\n  - {key: {lang: []}, weight: 0.5}\n"),
      kInvalid, "weights[1].key.lang: the value list is empty");
  EXPECT_STATUS(parse_weights("  - {key: {lang: [en, ~]}, weight: 1}\n"), kInvalid,
                "weights[0].key.lang[1]: expected a value");
  EXPECT_STATUS(parse_weights("  - {key: {lang: }, weight: 1}\n"), kInvalid,
                "weights[0].key.lang: expected a value");
  EXPECT_STATUS(parse_weights("  - {key: {lang: [[en]]}, weight: 1}\n"), kInvalid,
                "weights[0].key.lang[0]: expected a value");
  EXPECT_STATUS(parse_weights("  - {key: {lang: en, lang: fr}, weight: 1}\n"), kInvalid,
                "weights[0].key: property 'lang' appears twice");
  // Duplicate keys: the same value sets, in any order and with repeats.
  EXPECT_STATUS(parse_weights("  - {key: {a: x}, weight: 0.5}\n  - {key: {a: [x]}, weight: 0.5}\n"),
                kInvalid, R"(weights[1]: key {"a":["x"]} appears twice)");
  EXPECT_STATUS(parse_weights("  - {key: {a: [x, y], b: 1}, weight: 0.5}\n"
                              "  - {key: {b: [1, 1], a: [y, x]}, weight: 0.5}\n"),
                kInvalid, "weights[1]: key ");
  // ... but different types or values are different keys.
  EXPECT_OK(parse_weights("  - {key: {a: 1}, weight: 0.5}\n  - {key: {a: '1'}, weight: 0.5}\n"));
  EXPECT_OK(parse_weights("  - {key: {a: x}, weight: 0.5}\n  - {key: {a: [x, y]}, weight: 0.5}\n"));
  EXPECT_OK(
      parse_weights("  - {key: {a: x}, weight: 0.5}\n  - {key: {a: x, b: y}, weight: 0.5}\n"));
  // The list itself
  EXPECT_STATUS(Parse("type: static\nweights: []\n"), kInvalid,
                "weights must be a non-empty list of {key, weight[, repeat]}");
  EXPECT_STATUS(Parse("type: static\nweights: {a: 1}\n"), kInvalid,
                "weights must be a non-empty list");
}

// ---------------------------------------------------------------------------------------
// Document-level errors

TEST(MixtureParserTest, DocumentErrors) {
  const std::string w = "weights: [{key: {a: x}, weight: 1}]\n";
  EXPECT_STATUS(Parse("type: static\nchunk: 5\n" + w), kInvalid,
                "test.yaml: mixture: unknown key 'chunk' (known: best_effort, chunk_size, "
                "group_by, hierarchical, lag_chunks, schedule, seed, shuffle, strict, tree, type, "
                "unit, weights)");
  EXPECT_STATUS(Parse("type: static\nlag_chunks: 2\n" + w), kInvalid,
                "'lag_chunks' applies to dynamic mixtures only");
  EXPECT_STATUS(Parse("type: dynamic\nlag_chunks: -1\n" + w), kInvalid,
                "lag_chunks must be in [0, 1048576]");
  EXPECT_STATUS(Parse("type: static\nchunk_size: 5\nchunk_size: 6\n" + w), kInvalid,
                "mixture: key 'chunk_size' appears twice");
  EXPECT_STATUS(Parse(w), kInvalid, "test.yaml: missing 'type'");
  EXPECT_STATUS(Parse("type: statik\n" + w), kInvalid,
                "unknown mixture type 'statik' (known: static, inferring, arbitrary, "
                "hierarchical, schedule, dynamic)");
  EXPECT_STATUS(Parse("type: static\nweights: [\n"), kInvalid, "test.yaml: not valid YAML/JSON");
  EXPECT_STATUS(Parse("{\"type\": \"static\""), kInvalid, "not valid YAML/JSON");
  EXPECT_STATUS(Parse("{\"type\": \"static\" \"seed\": 1}"), kInvalid, "not valid YAML/JSON");
  EXPECT_STATUS(Parse("type: static\n  bad indent: [\n"), kInvalid, "not valid YAML/JSON");
  EXPECT_STATUS(Parse(""), kInvalid, "a mixture must be a mapping");
  EXPECT_STATUS(Parse("- type: static\n"), kInvalid, "a mixture must be a mapping");
  EXPECT_STATUS(Parse("static"), kInvalid, "a mixture must be a mapping");
}

TEST(MixtureParserTest, FieldsThatDoNotFitTheType) {
  const std::string w = "weights: [{key: {a: x}, weight: 1}]\n";
  const std::string t = "tree: {property: a, components: [{values: x, weight: 1}]}\n";
  const std::string sch = "schedule: [{start_chunk: 0, weights: [{key: {a: x}, weight: 1}]}]\n";
  EXPECT_STATUS(Parse("type: static\n"), kInvalid, "the static mixture needs 'weights'");
  EXPECT_STATUS(Parse("type: dynamic\n"), kInvalid, "the dynamic mixture needs 'weights'");
  EXPECT_STATUS(Parse("type: static\n" + w + t), kInvalid, "the static mixture takes no 'tree'");
  EXPECT_STATUS(Parse("type: static\n" + w + sch), kInvalid,
                "the static mixture takes no 'schedule'");
  EXPECT_STATUS(Parse("type: dynamic\n" + w + t), kInvalid, "the dynamic mixture takes no 'tree'");
  EXPECT_STATUS(Parse("type: inferring\n" + w), kInvalid,
                "the inferring mixture takes no 'weights'");
  EXPECT_STATUS(Parse("type: inferring\n" + t), kInvalid, "the inferring mixture takes no 'tree'");
  EXPECT_STATUS(Parse("type: arbitrary\n" + sch), kInvalid,
                "the arbitrary mixture takes no 'schedule'");
  EXPECT_STATUS(Parse("type: hierarchical\n" + w + t), kInvalid,
                "the hierarchical mixture takes no 'weights'");
  EXPECT_STATUS(Parse("type: hierarchical\n" + t + sch), kInvalid,
                "the hierarchical mixture takes no 'schedule'");
  EXPECT_STATUS(Parse("type: hierarchical\n"), kInvalid, "the hierarchical mixture needs 'tree'");
  EXPECT_STATUS(Parse("type: schedule\n" + sch + w), kInvalid,
                "the schedule mixture takes no 'weights'");
  EXPECT_STATUS(Parse("type: schedule\n" + sch + t), kInvalid,
                "the schedule mixture takes no 'tree'");
  EXPECT_STATUS(Parse("type: schedule\n"), kInvalid,
                "the schedule mixture needs a non-empty 'schedule' list");
  EXPECT_STATUS(Parse("type: schedule\nschedule: []\n"), kInvalid,
                "the schedule mixture needs a non-empty 'schedule' list");
}

// ---------------------------------------------------------------------------------------
// Hierarchical

TEST(MixtureParserTest, HierarchicalTreeIsFlattened) {
  // topic: law 0.6 (split by language: en 0.5, [de, fr] 0.5), med 0.4.
  // Leaves in depth-first order:
  //   {language: [en], topic: [law]}      0.6 * 0.5 = 0.3
  //   {language: [de, fr], topic: [law]}  0.6 * 0.5 = 0.3
  //   {topic: [med, bio]}                 0.4
  // Keys list properties by name (language before topic) whatever the tree's order.
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(R"(
type: hierarchical
chunk_size: 100
tree:
  property: topic
  components:
    - values: [law]
      weight: 0.6
      tree:
        property: language
        components:
          - {values: en, weight: 0.5}
          - {values: [de, fr], weight: 0.5}
    - values: [med, bio]
      weight: 0.4
)"));
  EXPECT_EQ(spec.type, MixtureType::kHierarchical);
  EXPECT_EQ(spec.chunk_size, 100);
  ASSERT_EQ(spec.weights.size(), 3u);
  EXPECT_EQ(spec.weights[0].key, Key({{"language", {S("en")}}, {"topic", {S("law")}}}));
  EXPECT_NEAR(spec.weights[0].weight, 0.3, 1e-12);
  EXPECT_EQ(spec.weights[1].key, Key({{"language", {S("de"), S("fr")}}, {"topic", {S("law")}}}));
  EXPECT_NEAR(spec.weights[1].weight, 0.3, 1e-12);
  EXPECT_EQ(spec.weights[2].key, Key({{"topic", {S("med"), S("bio")}}}));
  EXPECT_NEAR(spec.weights[2].weight, 0.4, 1e-12);
  for (const auto& w : spec.weights) EXPECT_EQ(w.repeat, 1);
}

TEST(MixtureParserTest, HierarchicalLevelsAreNormalizedSeparately) {
  // Outer: 0.6 + 0.4005 = 1.0005 -> 0.6 / 1.0005 and 0.4005 / 1.0005.
  // Inner (under x): 0.25 + 0.7495 = 0.9995 -> each / 0.9995, times the outer weight.
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(R"(
type: hierarchical
tree:
  property: a
  components:
    - values: x
      weight: 0.6
      tree:
        property: b
        components: [{values: 1, weight: 0.25}, {values: 2, weight: 0.7495}]
    - {values: y, weight: 0.4005}
)"));
  ASSERT_EQ(spec.weights.size(), 3u);
  EXPECT_EQ(spec.weights[0].key, Key({{"a", {S("x")}}, {"b", {I(1)}}}));
  EXPECT_NEAR(spec.weights[0].weight, 0.6 / 1.0005 * 0.25 / 0.9995, 1e-12);
  EXPECT_NEAR(spec.weights[1].weight, 0.6 / 1.0005 * 0.7495 / 0.9995, 1e-12);
  EXPECT_NEAR(spec.weights[2].weight, 0.4005 / 1.0005, 1e-12);
  EXPECT_NEAR(spec.weights[0].weight + spec.weights[1].weight + spec.weights[2].weight, 1.0, 1e-12);
}

TEST(MixtureParserTest, HierarchicalErrors) {
  auto tree = [](const std::string& body) { return Parse("type: hierarchical\ntree:\n" + body); };
  EXPECT_STATUS(tree(R"(
  property: language
  components:
    - values: en
      weight: 1
      tree:
        property: language
        components: [{values: en, weight: 1}]
)"),
                kInvalid, "tree.components[0].tree: property 'language' is already split above");
  EXPECT_STATUS(tree(R"(
  property: a
  components:
    - values: x
      weight: 1
      tree:
        property: b
        components: [{values: 1, weight: 0.5}, {values: 2, weight: 0.4}]
)"),
                kInvalid, "tree.components[0].tree: component weights sum to 0.9, not 1");
  EXPECT_STATUS(tree("  property: a\n  components: [{values: x, weight: 1.5}, {values: y, "
                     "weight: -0.5}]\n"),
                kInvalid, "tree.components[1].weight is negative");
  EXPECT_STATUS(tree("  property: a\n  components: [{values: x, weight: 1, value: 2}]\n"), kInvalid,
                "tree.components[0]: unknown key 'value' (known: tree, values, weight)");
  EXPECT_STATUS(tree("  prop: a\n  components: [{values: x, weight: 1}]\n"), kInvalid,
                "tree: unknown key 'prop' (known: components, property)");
  EXPECT_STATUS(tree("  components: [{values: x, weight: 1}]\n"), kInvalid,
                "tree needs 'property' and a non-empty 'components' list");
  EXPECT_STATUS(tree("  property: a\n  components: []\n"), kInvalid,
                "tree needs 'property' and a non-empty 'components' list");
  EXPECT_STATUS(tree("  property: a\n  components: [{values: x}]\n"), kInvalid,
                "tree.components[0] needs 'values' and 'weight'");
  EXPECT_STATUS(tree("  property: a\n  components: [{values: [], weight: 1}]\n"), kInvalid,
                "tree.components[0].values: the value list is empty");
  EXPECT_STATUS(tree("  property: a\n  components: [x]\n"), kInvalid,
                "tree.components[0] must be a mapping");
  EXPECT_STATUS(Parse("type: hierarchical\ntree: [a]\n"), kInvalid,
                "tree must be a mapping {property, components}");
  // Two siblings with the same values would flatten into one key twice.
  EXPECT_STATUS(tree("  property: a\n  components: [{values: [x, y], weight: 0.5}, "
                     "{values: [y, x], weight: 0.5}]\n"),
                kInvalid, R"(tree: key {"a":["y","x"]} appears twice)");
}

// ---------------------------------------------------------------------------------------
// Schedule

TEST(MixtureParserTest, Schedule) {
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(R"(
type: schedule
chunk_size: 10
schedule:
  - start_chunk: 0
    weights: [{key: {lang: en}, weight: 1, repeat: 2}]
  - start_chunk: 100
    tree:
      property: lang
      components: [{values: en, weight: 0.25}, {values: de, weight: 0.75}]
  - start_chunk: 250
    weights: [{key: {lang: de}, weight: 1}]
)"));
  EXPECT_EQ(spec.type, MixtureType::kSchedule);
  ASSERT_EQ(spec.schedule.size(), 3u);
  EXPECT_EQ(spec.schedule[0].start_chunk, 0);
  EXPECT_EQ(spec.schedule[1].start_chunk, 100);
  EXPECT_EQ(spec.schedule[2].start_chunk, 250);
  ASSERT_EQ(spec.schedule[0].weights.size(), 1u);
  EXPECT_EQ(spec.schedule[0].weights[0].key, Key({{"lang", {S("en")}}}));
  EXPECT_EQ(spec.schedule[0].weights[0].repeat, 2);
  // The tree entry is flattened like a hierarchical mixture.
  ASSERT_EQ(spec.schedule[1].weights.size(), 2u);
  EXPECT_EQ(spec.schedule[1].weights[1].key, Key({{"lang", {S("de")}}}));
  EXPECT_DOUBLE_EQ(spec.schedule[1].weights[0].weight, 0.25);
  EXPECT_DOUBLE_EQ(spec.schedule[1].weights[1].weight, 0.75);
  // spec.weights is the first entry's.
  ExpectSameWeights(spec.weights, spec.schedule[0].weights);
}

TEST(MixtureParserTest, ScheduleErrors) {
  const std::string e = "weights: [{key: {a: x}, weight: 1}]";
  auto sched = [&](const std::string& entries) {
    return Parse("type: schedule\nschedule:\n" + entries);
  };
  EXPECT_STATUS(sched("  - {start_chunk: 5, " + e + "}\n"), kInvalid,
                "schedule[0].start_chunk must be 0");
  EXPECT_STATUS(sched("  - {start_chunk: 0, " + e + "}\n  - {start_chunk: 10, " + e +
                      "}\n  - {start_chunk: 10, " + e + "}\n"),
                kInvalid, "schedule[2].start_chunk must be greater than the previous entry's");
  EXPECT_STATUS(sched("  - {start_chunk: 0, " + e + "}\n  - {start_chunk: 10, " + e +
                      "}\n  - {start_chunk: 5, " + e + "}\n"),
                kInvalid, "schedule[2].start_chunk must be greater than the previous entry's");
  EXPECT_STATUS(sched("  - {start_chunk: 0, " + e + "}\n  - {start_chunk: 1.5, " + e + "}\n"),
                kInvalid, "schedule[1].start_chunk must be an integer");
  EXPECT_STATUS(sched("  - {" + e + "}\n"), kInvalid, "schedule[0] needs 'start_chunk'");
  EXPECT_STATUS(sched("  - {start_chunk: 0, " + e + "}\n  - {start_chunk: 3}\n"), kInvalid,
                "schedule[1] needs 'weights' or 'tree'");
  EXPECT_STATUS(sched("  - {start_chunk: 0, " + e + "}\n  - {start_chunk: 3, " + e +
                      ", tree: {property: a, components: [{values: x, weight: 1}]}}\n"),
                kInvalid, "schedule[1] has both 'weights' and 'tree'");
  EXPECT_STATUS(sched("  - {start_chunk: 0, " + e + ", start: 1}\n"), kInvalid,
                "schedule[0]: unknown key 'start' (known: start_chunk, tree, weights)");
  EXPECT_STATUS(sched("  - {start_chunk: 0, weights: [{key: {a: x}, weight: 2}, {key: {a: y}, "
                      "weight: -1}]}\n"),
                kInvalid, "schedule[0].weights[1].weight is negative");
  EXPECT_STATUS(sched("  - {start_chunk: 0, " + e +
                      "}\n  - {start_chunk: 3, tree: {property: a, "
                      "components: [{values: x, weight: 0.5}]}}\n"),
                kInvalid, "schedule[1].tree: component weights sum to 0.5, not 1");
  EXPECT_STATUS(sched("  - 0\n"), kInvalid, "schedule[0] must be a mapping");
}

// ---------------------------------------------------------------------------------------
// JSON form

TEST(MixtureParserTest, KeyToJsonAndString) {
  const MixtureKey key =
      Key({{"lang", {S("en"), S("a;b:c")}}, {"n", {I(1), F(2.0), F(0.5), B(true)}}});
  EXPECT_EQ(MixtureKeyToJson(key), R"({"lang":["en","a;b:c"],"n":[1,2.0,0.5,true]})");
  EXPECT_EQ(MixtureKeyToString(key), "lang:en:a;b:c;n:1:2.0:0.5:true");
  EXPECT_EQ(MixtureKeyToJson(Key({{"q", {S("say \"hi\"\\"), S("日本"), S("")}}})),
            R"({"q":["say \"hi\"\\","日本",""]})");
  EXPECT_EQ(MixtureKeyToJson(MixtureKey{}), "{}");
}

TEST(MixtureParserTest, SpecToJsonExactText) {
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(R"(
type: static
chunk_size: 8
best_effort: true
seed: 3
shuffle: 16
weights: [{key: {a: x}, weight: 0.5, repeat: 2}, {key: {a: 1.0}, weight: 0.5}]
)"));
  EXPECT_EQ(MixtureSpecToJson(spec),
            R"({"type":"static","chunk_size":8,"unit":"samples","strict":false,"seed":3,)"
            R"("shuffle":{"block":16},"weights":[{"key":{"a":["x"]},"weight":0.5,"repeat":2},)"
            R"({"key":{"a":[1.0]},"weight":0.5}]})");
  ASSERT_OK_AND_ASSIGN(MixtureSpec inferring, Parse("type: inferring\ngroup_by: [x, y]\n"));
  EXPECT_EQ(MixtureSpecToJson(inferring),
            R"({"type":"inferring","chunk_size":1024,"unit":"samples","strict":true,"seed":0,)"
            R"("group_by":["x","y"]})");
}

TEST(MixtureParserTest, JsonRoundTrip) {
  const std::vector<std::string> docs = {
      // static with every field and awkward values
      R"(
type: static
chunk_size: 333
unit: tokens
strict: false
seed: 18446744073709551615
shuffle: {block: 7}
group_by: [a, "b;c"]
weights:
  - key: {"x:y": ["a;b", "c,d", "it's", "say \"hi\"", "日本語", "", "tab\there", "\u0001"]}
    weight: 0.1
    repeat: 4
  - key: {n: [1, -2, 2.0, 0.1, 1e20, -0.0, 12345678.9], f: [true, false], s: ['1', 'true']}
    weight: 0.2
  - {key: {z: "🙂"}, weight: 0.7}
)",
      // hierarchical (comes back as static + "hierarchical": true, then as hierarchical)
      R"(
type: hierarchical
tree:
  property: topic
  components:
    - values: [law]
      weight: 0.3
      tree:
        property: language
        components: [{values: en, weight: 0.1}, {values: [de, fr], weight: 0.9}]
    - {values: [med, bio], weight: 0.7}
)",
      // schedule with a tree entry
      R"(
type: schedule
chunk_size: 10
seed: 9
schedule:
  - start_chunk: 0
    weights: [{key: {lang: en}, weight: 0.3}, {key: {lang: de}, weight: 0.7, repeat: 3}]
  - start_chunk: 17
    tree: {property: lang, components: [{values: en, weight: 0.6}, {values: de, weight: 0.4}]}
)",
      "type: inferring\ngroup_by: language\n",
      "type: arbitrary\nstrict: false\nshuffle: 1\n",
      "type: dynamic\nweights: [{key: {a: x}, weight: 0.25}, {key: {a: y}, weight: 0.75}]\n",
  };
  for (const auto& doc : docs) {
    SCOPED_TRACE(doc);
    ASSERT_OK_AND_ASSIGN(MixtureSpec spec, Parse(doc));
    const std::string json = MixtureSpecToJson(spec);
    SCOPED_TRACE(json);
    ASSERT_OK_AND_ASSIGN(MixtureSpec back, ParseMixtureSpec(json, "json"));
    ExpectSameSpec(spec, back);
    // And the JSON form is a fixed point.
    EXPECT_EQ(MixtureSpecToJson(back), json);
  }
}

TEST(MixtureParserTest, JsonAndYamlFormsAgree) {
  ASSERT_OK_AND_ASSIGN(MixtureSpec from_yaml, Parse(R"(
type: static
chunk_size: 64
unit: tokens
seed: 5
shuffle: {block: 4}
weights:
  - key: {lang: [en, de], stars: 5}
    weight: 0.5
  - key: {lang: fr}
    weight: 0.5
    repeat: 2
)"));
  ASSERT_OK_AND_ASSIGN(MixtureSpec from_json, Parse(R"({
  "type": "static", "chunk_size": 64, "unit": "tokens", "seed": 5, "shuffle": {"block": 4},
  "weights": [
    {"key": {"stars": [5], "lang": ["en", "de"]}, "weight": 0.5},
    {"key": {"lang": ["fr"]}, "weight": 0.5, "repeat": 2}
  ]})"));
  ExpectSameSpec(from_yaml, from_json);
}

TEST(MixtureParserTest, HierarchicalFlagIsReadBack) {
  // "hierarchical": true marks a flattened tree; on a static mixture it restores the type.
  ASSERT_OK_AND_ASSIGN(
      MixtureSpec spec,
      Parse(R"({"type":"static","hierarchical":true,"weights":[{"key":{"a":["x"]},"weight":1}]})"));
  EXPECT_EQ(spec.type, MixtureType::kHierarchical);
  ASSERT_OK_AND_ASSIGN(
      MixtureSpec plain,
      Parse(
          R"({"type":"static","hierarchical":false,"weights":[{"key":{"a":["x"]},"weight":1}]})"));
  EXPECT_EQ(plain.type, MixtureType::kStatic);
  EXPECT_STATUS(
      Parse(R"({"type":"static","hierarchical":1,"weights":[{"key":{"a":["x"]},"weight":1}]})"),
      kInvalid, "hierarchical must be true or false");
}

// ---------------------------------------------------------------------------------------
// Files

TEST(MixtureParserTest, ParsesFilesAndNamesThemInErrors) {
  testing::TempDir dir;
  const std::string good = dir.Join("m.yaml");
  testing::WriteFile(good, "type: static\nchunk_size: 2\nweights: [{key: {a: x}, weight: 1}]\n");
  ASSERT_OK_AND_ASSIGN(MixtureSpec spec, ParseMixtureSpecFile(good));
  EXPECT_EQ(spec.chunk_size, 2);
  const std::string json = dir.Join("m.json");
  testing::WriteFile(json, R"({"type": "inferring", "seed": 1})");
  ASSERT_OK_AND_ASSIGN(MixtureSpec inferring, ParseMixtureSpecFile(json));
  EXPECT_EQ(inferring.type, MixtureType::kInferring);
  EXPECT_EQ(inferring.seed, 1u);
  const std::string bad = dir.Join("bad.yaml");
  testing::WriteFile(bad, "type: static\nweights: [{key: {a: x}, weight: 2}]\n");
  EXPECT_STATUS(ParseMixtureSpecFile(bad), kInvalid, bad + ": weights: weights sum to 2, not 1");
  EXPECT_STATUS(ParseMixtureSpecFile(dir.Join("missing.yaml")), StatusCode::kNotFound,
                dir.Join("missing.yaml"));
}

}  // namespace
}  // namespace mixtera::mixture
