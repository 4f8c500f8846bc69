#include "mixture/key_resolution.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "testing/test_util.h"

namespace mixtera::mixture {
namespace {

using model::ComponentTable;
using model::GroupValue;
using model::Literal;
using model::MixtureKey;
using model::PropertyType;

Literal S(std::string s) { return Literal::String(std::move(s)); }
Literal I(int64_t v) { return Literal::Int(v); }
Literal F(double v) { return Literal::Float(v); }
Literal B(bool v) { return Literal::Bool(v); }

GroupValue Null() { return GroupValue{}; }
GroupValue V(Literal l) { return GroupValue{false, {std::move(l)}}; }
GroupValue List(std::vector<Literal> items) { return GroupValue{false, std::move(items)}; }

MixtureKey Key(std::vector<std::pair<std::string, std::vector<Literal>>> props) {
  return MixtureKey{std::move(props)};
}

// Grouping properties (sorted by name): flag (bool), lang (string), n (int), score (float),
// tags (string_list).
//
//   c   flag   lang        n     score  tags
//   0   true   "en"        1     0.5    ["a", "b"]
//   1   false  "de"        2     2.0    NULL
//   2   NULL   "en"        NULL  NULL   ["b"]
//   3   true   NULL        3     1.5    ["c", "c"]
//   4   false  "a;b"       -4    NULL   ["x:y", "p,q"]
//   5   NULL   "it's \"q\""  NULL  NULL   ["日本語"]
//   6   NULL   ""          NULL  NULL   [""]
//   7   NULL   NULL        NULL  NULL   []          (an empty list, not NULL)
ComponentTable Table() {
  ComponentTable t;
  t.properties = {"flag", "lang", "n", "score", "tags"};
  t.types = {PropertyType::kBool, PropertyType::kString, PropertyType::kInt, PropertyType::kFloat,
             PropertyType::kStringList};
  t.values = {
      {V(B(true)), V(S("en")), V(I(1)), V(F(0.5)), List({S("a"), S("b")})},
      {V(B(false)), V(S("de")), V(I(2)), V(F(2.0)), Null()},
      {Null(), V(S("en")), Null(), Null(), List({S("b")})},
      {V(B(true)), Null(), V(I(3)), V(F(1.5)), List({S("c"), S("c")})},
      {V(B(false)), V(S("a;b")), V(I(-4)), Null(), List({S("x:y"), S("p,q")})},
      {Null(), V(S("it's \"q\"")), Null(), Null(), List({S("日本語")})},
      {Null(), V(S("")), Null(), Null(), List({S("")})},
      {Null(), Null(), Null(), Null(), List({})},
  };
  t.sizes = {10, 20, 30, 40, 50, 60, 70, 80};
  return t;
}

// The components a key matches, in order.
std::vector<int64_t> Matches(const MixtureKey& key, const ComponentTable& t) {
  std::vector<int64_t> out;
  for (int64_t c = 0; c < t.num_components(); ++c) {
    if (KeyMatches(key, t, c)) out.push_back(c);
  }
  return out;
}

using C = std::vector<int64_t>;

TEST(KeyMatchesTest, ScalarProperties) {
  const ComponentTable t = Table();
  EXPECT_EQ(Matches(Key({{"lang", {S("en")}}}), t), (C{0, 2}));
  EXPECT_EQ(Matches(Key({{"lang", {S("en"), S("de")}}}), t), (C{0, 1, 2}));
  EXPECT_EQ(Matches(Key({{"lang", {S("fr")}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"flag", {B(true)}}}), t), (C{0, 3}));
  EXPECT_EQ(Matches(Key({{"flag", {B(false)}}}), t), (C{1, 4}));
  EXPECT_EQ(Matches(Key({{"n", {I(-4), I(3)}}}), t), (C{3, 4}));
}

TEST(KeyMatchesTest, EveryNamedPropertyMustMatch) {
  const ComponentTable t = Table();
  // lang en: {0, 2}; flag true: {0, 3} -> both: {0}.
  EXPECT_EQ(Matches(Key({{"flag", {B(true)}}, {"lang", {S("en")}}}), t), (C{0}));
  // lang en: {0, 2}; tags b: {0, 2} -> {0, 2}; adding n 1 -> {0} (2 has n NULL).
  EXPECT_EQ(Matches(Key({{"lang", {S("en")}}, {"tags", {S("b")}}}), t), (C{0, 2}));
  EXPECT_EQ(Matches(Key({{"lang", {S("en")}}, {"n", {I(1)}}, {"tags", {S("b")}}}), t), (C{0}));
  // A property that is not in the table matches nothing.
  EXPECT_EQ(Matches(Key({{"license", {S("MIT")}}}), t), C{});
  // A key without properties constrains nothing.
  EXPECT_EQ(Matches(MixtureKey{}, t), (C{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(KeyMatchesTest, ListValuedComponentsMatchOnAnyItem) {
  const ComponentTable t = Table();
  EXPECT_EQ(Matches(Key({{"tags", {S("a")}}}), t), (C{0}));
  EXPECT_EQ(Matches(Key({{"tags", {S("b")}}}), t), (C{0, 2}));
  EXPECT_EQ(Matches(Key({{"tags", {S("c")}}}), t), (C{3}));  // duplicates are harmless
  EXPECT_EQ(Matches(Key({{"tags", {S("zz"), S("a")}}}), t), (C{0}));
  // The empty list (component 7) has no item to match.
  EXPECT_EQ(Matches(Key({{"tags", {S("a"), S("b"), S("c"), S(""), S("x:y")}}}), t),
            (C{0, 2, 3, 4, 6}));
}

TEST(KeyMatchesTest, NullNeverMatches) {
  const ComponentTable t = Table();
  // Nothing a key can say matches NULL: not the empty string, not "NULL", not "null".
  EXPECT_EQ(Matches(Key({{"flag", {B(true), B(false)}}}), t), (C{0, 1, 3, 4}));
  EXPECT_EQ(Matches(Key({{"lang", {S(""), S("NULL"), S("null")}}}), t), (C{6}));
  EXPECT_EQ(Matches(Key({{"n", {I(0)}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"score", {F(0.0)}}}), t), C{});
}

TEST(KeyMatchesTest, NumbersCompareNumericallyOtherKindsMustAgree) {
  const ComponentTable t = Table();
  // An int property matched by a float key value and the other way round.
  EXPECT_EQ(Matches(Key({{"n", {F(1.0)}}}), t), (C{0}));
  EXPECT_EQ(Matches(Key({{"n", {F(1.5)}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"n", {F(-4.0), F(2.0)}}}), t), (C{1, 4}));
  EXPECT_EQ(Matches(Key({{"score", {I(2)}}}), t), (C{1}));
  EXPECT_EQ(Matches(Key({{"score", {F(0.5), F(1.5)}}}), t), (C{0, 3}));
  // No coercion between strings, numbers and booleans.
  EXPECT_EQ(Matches(Key({{"n", {S("1")}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"n", {B(true)}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"flag", {I(1)}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"flag", {S("true")}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"lang", {I(1)}}}), t), C{});
}

TEST(KeyMatchesTest, ValuesAreComparedAsWholeStrings) {
  // Nothing is string-encoded: "a;b" is one value, not "a" and "b"; separators, quotes,
  // unicode and the empty string compare byte for byte.
  const ComponentTable t = Table();
  EXPECT_EQ(Matches(Key({{"lang", {S("a;b")}}}), t), (C{4}));
  EXPECT_EQ(Matches(Key({{"lang", {S("a")}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"lang", {S("b")}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"tags", {S("x:y")}}}), t), (C{4}));
  EXPECT_EQ(Matches(Key({{"tags", {S("x")}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"tags", {S("p,q")}}}), t), (C{4}));
  EXPECT_EQ(Matches(Key({{"tags", {S("p")}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"lang", {S("it's \"q\"")}}}), t), (C{5}));
  EXPECT_EQ(Matches(Key({{"lang", {S("it's")}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"tags", {S("日本語")}}}), t), (C{5}));
  EXPECT_EQ(Matches(Key({{"tags", {S("日本")}}}), t), C{});
  EXPECT_EQ(Matches(Key({{"lang", {S("")}}}), t), (C{6}));
  EXPECT_EQ(Matches(Key({{"tags", {S("")}}}), t), (C{6}));
  EXPECT_EQ(Matches(Key({{"lang", {S("EN")}}}), t), C{});  // case-sensitive
  EXPECT_EQ(Matches(Key({{"lang", {S("en ")}}}), t), C{});
}

TEST(ResolveKeysTest, FirstDeclaredKeyOwnsSharedComponents) {
  const ComponentTable t = Table();
  // k0 lang en -> {0, 2}; k1 tags b -> {0, 2}; k2 flag false -> {1, 4}; k3 tags c -> {3}.
  // 0 and 2 are matched by k0 and k1: k0, declared first, owns them.
  const std::vector<MixtureKey> keys = {Key({{"lang", {S("en")}}}), Key({{"tags", {S("b")}}}),
                                        Key({{"flag", {B(false)}}}), Key({{"tags", {S("c")}}})};
  ASSERT_OK_AND_ASSIGN(KeyResolution r, ResolveKeys(keys, t));
  EXPECT_EQ(r.component_key, (std::vector<int32_t>{0, 2, 0, 3, 2, -1, -1, -1}));
  ASSERT_EQ(r.key_components.size(), 4u);
  EXPECT_EQ(r.key_components[0], (C{0, 2}));
  EXPECT_EQ(r.key_components[1], C{});  // matches, but owns nothing
  EXPECT_EQ(r.key_components[2], (C{1, 4}));
  EXPECT_EQ(r.key_components[3], (C{3}));
  // k1 matches components, so it is not "unmatched"; its components are reported shared.
  EXPECT_TRUE(r.unmatched_keys.empty());
  ASSERT_EQ(r.shared_components.size(), 2u);
  EXPECT_EQ(r.shared_components[0].first, 0);
  EXPECT_EQ(r.shared_components[0].second, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(r.shared_components[1].first, 2);
  EXPECT_EQ(r.shared_components[1].second, (std::vector<int32_t>{0, 1}));
}

TEST(ResolveKeysTest, DeclaredOrderDecides) {
  const ComponentTable t = Table();
  // The same two keys in the other order: now tags b owns 0 and 2, lang en owns nothing.
  ASSERT_OK_AND_ASSIGN(KeyResolution r,
                       ResolveKeys({Key({{"tags", {S("b")}}}), Key({{"lang", {S("en")}}})}, t));
  EXPECT_EQ(r.component_key, (std::vector<int32_t>{0, -1, 0, -1, -1, -1, -1, -1}));
  EXPECT_EQ(r.key_components[0], (C{0, 2}));
  EXPECT_EQ(r.key_components[1], C{});
  ASSERT_EQ(r.shared_components.size(), 2u);
  EXPECT_EQ(r.shared_components[0].second, (std::vector<int32_t>{0, 1}));
  // A narrower key declared first takes only what it matches: lang en & flag true -> {0};
  // then lang en gets the rest of its matches -> {2}.
  ASSERT_OK_AND_ASSIGN(
      KeyResolution r2,
      ResolveKeys({Key({{"flag", {B(true)}}, {"lang", {S("en")}}}), Key({{"lang", {S("en")}}})},
                  t));
  EXPECT_EQ(r2.key_components[0], (C{0}));
  EXPECT_EQ(r2.key_components[1], (C{2}));
  ASSERT_EQ(r2.shared_components.size(), 1u);
  EXPECT_EQ(r2.shared_components[0].first, 0);
  EXPECT_EQ(r2.shared_components[0].second, (std::vector<int32_t>{0, 1}));
}

TEST(ResolveKeysTest, ThreeKeysOnOneComponent) {
  const ComponentTable t = Table();
  // Component 0 is matched by all three keys; component 4 only by the last.
  ASSERT_OK_AND_ASSIGN(
      KeyResolution r,
      ResolveKeys({Key({{"n", {I(1)}}}), Key({{"tags", {S("a")}}}),
                   Key({{"score", {F(0.5)}}, {"flag", {B(true)}}}), Key({{"n", {I(-4)}}})},
                  t));
  EXPECT_EQ(r.component_key[0], 0);
  EXPECT_EQ(r.component_key[4], 3);
  ASSERT_EQ(r.shared_components.size(), 1u);
  EXPECT_EQ(r.shared_components[0].first, 0);
  EXPECT_EQ(r.shared_components[0].second, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_TRUE(r.unmatched_keys.empty());
}

TEST(ResolveKeysTest, UnmatchedKeysAreReported) {
  const ComponentTable t = Table();
  ASSERT_OK_AND_ASSIGN(KeyResolution r,
                       ResolveKeys({Key({{"lang", {S("fr")}}}), Key({{"lang", {S("de")}}}),
                                    Key({{"n", {S("1")}}}), Key({{"tags", {S("zz")}}})},
                                   t));
  EXPECT_EQ(r.unmatched_keys, (std::vector<int32_t>{0, 2, 3}));
  EXPECT_EQ(r.component_key, (std::vector<int32_t>{-1, 1, -1, -1, -1, -1, -1, -1}));
  EXPECT_EQ(r.key_components[1], (C{1}));
  EXPECT_TRUE(r.shared_components.empty());
}

TEST(ResolveKeysTest, NoKeys) {
  const ComponentTable t = Table();
  ASSERT_OK_AND_ASSIGN(KeyResolution r, ResolveKeys({}, t));
  EXPECT_EQ(r.component_key, std::vector<int32_t>(8, -1));
  EXPECT_TRUE(r.key_components.empty());
  EXPECT_TRUE(r.unmatched_keys.empty());
  EXPECT_TRUE(r.shared_components.empty());
}

TEST(ResolveKeysTest, EmptyTable) {
  ComponentTable t;
  t.properties = {"lang"};
  t.types = {PropertyType::kString};
  ASSERT_OK_AND_ASSIGN(KeyResolution r, ResolveKeys({Key({{"lang", {S("en")}}})}, t));
  EXPECT_TRUE(r.component_key.empty());
  EXPECT_EQ(r.unmatched_keys, (std::vector<int32_t>{0}));
}

TEST(ResolveKeysTest, KeyNamingANonGroupingPropertyIsAnError) {
  const ComponentTable t = Table();
  EXPECT_STATUS(ResolveKeys({Key({{"lang", {S("en")}}}), Key({{"license", {S("MIT")}}})}, t),
                StatusCode::kInvalidArgument,
                "mixture key names 'license', which is not a grouping property (grouping: flag, "
                "lang, n, score, tags)");
  // Also when another property of the same key is fine.
  EXPECT_STATUS(ResolveKeys({Key({{"lang", {S("en")}}, {"stars", {I(5)}}})}, t),
                StatusCode::kInvalidArgument, "'stars'");
}

TEST(ComponentKeyTest, OmitsNullsKeepsItemsAndKinds) {
  const ComponentTable t = Table();
  EXPECT_EQ(ComponentKey(t, 0), Key({{"flag", {B(true)}},
                                     {"lang", {S("en")}},
                                     {"n", {I(1)}},
                                     {"score", {F(0.5)}},
                                     {"tags", {S("a"), S("b")}}}));
  // tags NULL: omitted.
  EXPECT_EQ(ComponentKey(t, 1),
            Key({{"flag", {B(false)}}, {"lang", {S("de")}}, {"n", {I(2)}}, {"score", {F(2.0)}}}));
  EXPECT_EQ(ComponentKey(t, 2), Key({{"lang", {S("en")}}, {"tags", {S("b")}}}));
  // List items in stored order with duplicates.
  EXPECT_EQ(
      ComponentKey(t, 3),
      Key({{"flag", {B(true)}}, {"n", {I(3)}}, {"score", {F(1.5)}}, {"tags", {S("c"), S("c")}}}));
  // Values with separators and quotes stay whole.
  EXPECT_EQ(ComponentKey(t, 4), Key({{"flag", {B(false)}},
                                     {"lang", {S("a;b")}},
                                     {"n", {I(-4)}},
                                     {"tags", {S("x:y"), S("p,q")}}}));
  EXPECT_EQ(ComponentKey(t, 5), Key({{"lang", {S("it's \"q\"")}}, {"tags", {S("日本語")}}}));
  // The empty string is a value, not NULL.
  EXPECT_EQ(ComponentKey(t, 6), Key({{"lang", {S("")}}, {"tags", {S("")}}}));
}

TEST(ComponentKeyTest, AComponentKeyMatchesItsOwnComponent) {
  const ComponentTable t = Table();
  // Components 0-6 have at least one value; each is matched by its own key.
  for (int64_t c = 0; c < 7; ++c) {
    EXPECT_TRUE(KeyMatches(ComponentKey(t, c), t, c)) << "component " << c;
  }
  // Component 7 has only an empty (non-NULL) list: its key is {tags: []}, which, having no
  // value to match, matches nothing, not even component 7.
  EXPECT_EQ(ComponentKey(t, 7), Key({{"tags", {}}}));
  EXPECT_FALSE(KeyMatches(ComponentKey(t, 7), t, 7));
  // Component 0's key also describes only component 0 here.
  EXPECT_EQ(Matches(ComponentKey(t, 0), t), (C{0}));
  // Component 2's key (lang en, tags b) matches 0 too: a component key is a mixture key and
  // matches by overlap, not by equality.
  EXPECT_EQ(Matches(ComponentKey(t, 2), t), (C{0, 2}));
}

}  // namespace
}  // namespace mixtera::mixture
