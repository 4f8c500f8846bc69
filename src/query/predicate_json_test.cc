#include "query/predicate_json.h"

#include <string>
#include <utility>
#include <vector>

#include "query/test_predicates.h"
#include "query/where_parser.h"
#include "testing/test_util.h"

namespace mixtera::query {
namespace {

using namespace ::mixtera::query::testing;  // NOLINT(build/namespaces)

Predicate MustParseJson(const std::string& json) {
  auto p = PredicateFromJson(json);
  EXPECT_TRUE(p.ok()) << json << ": " << p.status().ToString();
  return p.ok() ? std::move(p).value() : Predicate{};
}

TEST(PredicateJsonTest, EveryNodeKind) {
  EXPECT_EQ(MustParseJson(R"({"op":"true"})"), True());
  EXPECT_EQ(MustParseJson(R"({"op":"cmp","prop":"lang","cmp":"==","value":"en"})"),
            Eq("lang", S("en")));
  EXPECT_EQ(MustParseJson(R"({"op":"cmp","prop":"stars","cmp":">=","value":10})"),
            Cmp("stars", CompareOp::kGe, I(10)));
  EXPECT_EQ(MustParseJson(R"({"op":"cmp","prop":"s","cmp":"<","value":-2.5})"),
            Cmp("s", CompareOp::kLt, F(-2.5)));
  EXPECT_EQ(MustParseJson(R"({"op":"cmp","prop":"f","cmp":"!=","value":true})"),
            Cmp("f", CompareOp::kNe, B(true)));
  EXPECT_EQ(MustParseJson(R"({"op":"cmp","prop":"f","cmp":"<=","value":0})"),
            Cmp("f", CompareOp::kLe, I(0)));
  EXPECT_EQ(MustParseJson(R"({"op":"cmp","prop":"f","cmp":">","value":0})"),
            Cmp("f", CompareOp::kGt, I(0)));
  EXPECT_EQ(MustParseJson(R"({"op":"in","prop":"lang","values":["en","de",3]})"),
            In("lang", {S("en"), S("de"), I(3)}));
  EXPECT_EQ(MustParseJson(R"({"op":"contains","prop":"tags","value":"x"})"),
            Contains("tags", S("x")));
  EXPECT_EQ(MustParseJson(R"({"op":"is_null","prop":"a"})"), IsNull("a"));
  EXPECT_EQ(MustParseJson(R"({"op":"is_not_null","prop":"a"})"), IsNotNull("a"));
  EXPECT_EQ(MustParseJson(R"({"op":"not","arg":{"op":"is_null","prop":"a"}})"), Not(IsNull("a")));
  // Node for node: a one-argument "and" stays, "true" may be nested, key order is free.
  EXPECT_EQ(MustParseJson(R"({"args":[{"op":"true"}],"op":"and"})"), And({True()}));
  EXPECT_EQ(MustParseJson(R"( {"op":"or","args":[{"op":"true"},{"op":"is_null","prop":"a"}]} )"),
            Or({True(), IsNull("a")}));
}

TEST(PredicateJsonTest, NumberKinds) {
  auto value = [](const std::string& v) {
    return MustParseJson(R"({"op":"cmp","prop":"x","cmp":"==","value":)" + v + "}").values.at(0);
  };
  EXPECT_EQ(value("1"), I(1));
  EXPECT_EQ(value("-1"), I(-1));
  EXPECT_EQ(value("0"), I(0));
  EXPECT_EQ(value("9223372036854775807"), I(INT64_MAX));
  EXPECT_EQ(value("-9223372036854775808"), I(INT64_MIN));
  EXPECT_EQ(value("1.0"), F(1.0));
  EXPECT_EQ(value("1e3"), F(1000.0));
  EXPECT_EQ(value("-2.5E-1"), F(-0.25));
  EXPECT_EQ(value("\"5\""), S("5"));
  EXPECT_EQ(value("\"\\u00fc\\\"\""), S("ü\""));
  EXPECT_EQ(value("false"), B(false));
}

struct ErrorCase {
  std::string json;
  std::string message;
};

TEST(PredicateJsonTest, ErrorsNameThePath) {
  const std::vector<ErrorCase> cases = {
      {R"({"op":"and","args":[{"op":"cmp","prop":"x","cmp":"=","value":1}]})",
       R"(predicate JSON: $.args[0].cmp: expected one of "==", "!=", "<", "<=", ">", ">=", got "=")"},
      {R"({"op":"or","args":[{"op":"true"},{"op":"xor"}]})",
       "predicate JSON: $.args[1].op: unknown op \"xor\" (known: true, and, or, not, cmp, in, "
       "contains, is_null, is_not_null)"},
      {R"({"op":"not","arg":{"op":"in","prop":"x","values":[1,null]}})",
       "predicate JSON: $.arg.values[1]: expected a string, number or boolean, got null"},
      {R"({"op":"not","arg":{"op":"in","prop":"x","values":[]}})",
       "predicate JSON: $.arg.values: expected a non-empty array, got []"},
      {R"({"op":"in","prop":"x","values":"a"})",
       "predicate JSON: $.values: expected a non-empty array, got \"a\""},
      {R"({"op":"and","args":[]})", "predicate JSON: $.args: expected a non-empty array, got []"},
      {R"({"op":"and"})", "predicate JSON: $: op 'and' needs 'args'"},
      {R"({"op":"not"})", "predicate JSON: $: op 'not' needs 'arg'"},
      {R"({"op":"cmp","prop":"x","cmp":"=="})", "predicate JSON: $: op 'cmp' needs 'value'"},
      {R"({"op":"cmp","cmp":"==","value":1})", "predicate JSON: $: op 'cmp' needs 'prop'"},
      {R"({"op":"cmp","prop":"a b","cmp":"==","value":1})",
       "predicate JSON: $.prop: \"a b\" is not a property name ([A-Za-z_][A-Za-z0-9_]*)"},
      {R"({"op":"cmp","prop":7,"cmp":"==","value":1})",
       "predicate JSON: $.prop: expected a property name (a string), got 7"},
      {R"({"op":"cmp","prop":"x","cmp":"==","value":[1]})",
       "predicate JSON: $.value: expected a string, number or boolean, got [1]"},
      {R"({"op":"cmp","prop":"x","cmp":"==","value":{"a":1}})",
       "predicate JSON: $.value: expected a string, number or boolean, got {\"a\":1}"},
      {R"({"op":"is_null","prop":"x","value":1})",
       "predicate JSON: $: unknown key \"value\" for op 'is_null' (it takes 'op', 'prop')"},
      {R"({"op":"true","args":[]})",
       "predicate JSON: $: unknown key \"args\" for op 'true' (it takes 'op')"},
      {R"({"prop":"x"})", "predicate JSON: $: missing 'op'"},
      {R"({"op":1})", "predicate JSON: $.op: expected a string, got 1"},
      {R"([1])", "predicate JSON: $: expected an object, got [1]"},
      {R"({"op":"cmp","prop":"x","cmp":"==","value":9223372036854775808})",
       "predicate JSON: $.value: integer 9223372036854775808 does not fit in 64 bits"},
      {R"({"op":"cmp","prop":"x","cmp":"==","value":-9223372036854775809})",
       "predicate JSON: integer -9223372036854775809 does not fit in 64 bits"},
      {R"({"op":"cmp","prop":"x","cmp":"==","value":123456789012345678901234567890})",
       "predicate JSON: integer 123456789012345678901234567890 does not fit in 64 bits"},
  };
  for (const auto& c : cases) {
    auto p = PredicateFromJson(c.json);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_EQ(p.status().message(), c.message) << c.json;
  }
}

TEST(PredicateJsonTest, MalformedJson) {
  for (const std::string json : {"", "{", "{\"op\":\"true\"} x", "{'op':'true'}", "nul"}) {
    auto p = PredicateFromJson(json);
    ASSERT_FALSE(p.ok()) << json;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(p.status().message(),
                ::testing::StartsWith("predicate JSON: malformed JSON at byte "))
        << json;
  }
  EXPECT_STATUS(PredicateFromJson(R"({"op":"cmp","prop":"x","cmp":"==","value":1e400})"),
                StatusCode::kInvalidArgument, "predicate JSON: ");
}

TEST(PredicateJsonTest, DeepNestingIsAnErrorNotACrash) {
  std::string json;
  for (int i = 0; i < 1000; ++i) json += R"({"op":"not","arg":)";
  json += R"({"op":"true"})";
  json += std::string(1000, '}');
  EXPECT_STATUS(PredicateFromJson(json), StatusCode::kInvalidArgument, "nested too deeply");
}

TEST(PredicateJsonTest, ToJsonExactText) {
  Predicate p = And({Eq("lang", S("it's \"q\"")), Not(In("stars", {I(1), F(2.5), F(3.0)})),
                     Or({IsNull("x"), IsNotNull("y"), Contains("tags", S("日本"))}), True(),
                     Cmp("flag", CompareOp::kNe, B(false))});
  EXPECT_EQ(PredicateToJson(p),
            R"({"op":"and","args":[{"op":"cmp","prop":"lang","cmp":"==","value":"it's \"q\""},)"
            R"({"op":"not","arg":{"op":"in","prop":"stars","values":[1,2.5,3.0]}},)"
            R"({"op":"or","args":[{"op":"is_null","prop":"x"},{"op":"is_not_null","prop":"y"},)"
            R"({"op":"contains","prop":"tags","value":"日本"}]},{"op":"true"},)"
            R"({"op":"cmp","prop":"flag","cmp":"!=","value":false}]})");
  EXPECT_EQ(MustParseJson(PredicateToJson(p)), p);
}

TEST(PredicateJsonTest, RandomTreesRoundTrip) {
  RandomPredicates gen(77, {"a", "lang", "tags", "not", "x_1"});
  for (int i = 0; i < 2000; ++i) {
    Predicate p = gen.RandomTree(4);
    if (gen.Pick(5) == 0) p = And({std::move(p)});  // one-child nodes round-trip too
    if (gen.Pick(5) == 0) p = Or({True(), std::move(p)});
    const std::string json = PredicateToJson(p);
    auto back = PredicateFromJson(json);
    ASSERT_TRUE(back.ok()) << json << ": " << back.status().ToString();
    ASSERT_EQ(*back, p) << json;
  }
}

TEST(PredicateJsonTest, AgreesWithTheTextForm) {
  for (const std::string text : {"lang == 'en' and (stars >= 10 or license in ('MIT', 'BSD'))",
                                 "tags contains 'x' and not flag == true",
                                 "x not in (1, 2.5, 'a') or y is not null", "score < -1e-3"}) {
    auto p = ParseWhere(text);
    ASSERT_OK(p);
    EXPECT_EQ(MustParseJson(PredicateToJson(*p)), *p) << text;
  }
  // The JSON the Python Query class sends for select([('language', '==', 'Python'),
  // ('stars', '>=', 10)]) and ('license', '==', ['MIT', 'BSD']).
  EXPECT_EQ(
      MustParseJson(
          R"({"op": "and", "args": [{"op": "cmp", "prop": "language", "cmp": "==", )"
          R"("value": "Python"}, {"op": "cmp", "prop": "stars", "cmp": ">=", "value": 10}]})"),
      MustParseJson("{\"op\":\"and\",\"args\":[" + PredicateToJson(Eq("language", S("Python"))) +
                    "," + PredicateToJson(Cmp("stars", CompareOp::kGe, I(10))) + "]}"));
  EXPECT_EQ(MustParseJson(R"({"op": "in", "prop": "license", "values": ["MIT", "BSD"]})"),
            *ParseWhere("license in ('MIT', 'BSD')"));
}

}  // namespace
}  // namespace mixtera::query
