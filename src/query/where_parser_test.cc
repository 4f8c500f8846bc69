#include "query/where_parser.h"

#include <string>
#include <utility>
#include <vector>

#include "query/test_predicates.h"
#include "testing/test_util.h"

namespace mixtera::query {
namespace {

using namespace ::mixtera::query::testing;  // NOLINT(build/namespaces)

Predicate MustParse(const std::string& text) {
  auto p = ParseWhere(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().ToString();
  return p.ok() ? std::move(p).value() : Predicate{};
}

// Parses `text` and expects `want`; also checks that the canonical text parses back to it.
void ExpectParse(const std::string& text, const Predicate& want) {
  SCOPED_TRACE(text);
  Predicate got = MustParse(text);
  EXPECT_EQ(got, want) << "got " << PredicateToString(got) << ", want " << PredicateToString(want);
  const std::string canonical = PredicateToString(got);
  EXPECT_EQ(MustParse(canonical), got) << canonical;
}

TEST(WhereParserTest, EmptyTextIsEverything) {
  EXPECT_EQ(MustParse(""), True());
  EXPECT_EQ(MustParse("   \t\n "), True());
  EXPECT_EQ(PredicateToString(True()), "");
}

TEST(WhereParserTest, PrecedenceIsSqls) {
  // comparison > not > and > or
  ExpectParse("a == 1 or b == 2 and not c == 3",
              Or({Eq("a", I(1)), And({Eq("b", I(2)), Not(Eq("c", I(3)))})}));
  ExpectParse("not a == 1 and b == 2", And({Not(Eq("a", I(1))), Eq("b", I(2))}));
  ExpectParse("a == 1 and b == 2 or c == 3",
              Or({And({Eq("a", I(1)), Eq("b", I(2))}), Eq("c", I(3))}));
  ExpectParse("not not a == 1", Not(Not(Eq("a", I(1)))));
}

TEST(WhereParserTest, ParenthesesGroup) {
  ExpectParse("(a == 1 or b == 2) and c == 3",
              And({Or({Eq("a", I(1)), Eq("b", I(2))}), Eq("c", I(3))}));
  ExpectParse("not (a == 1 or b == 2)", Not(Or({Eq("a", I(1)), Eq("b", I(2))})));
  ExpectParse("((a == 1))", Eq("a", I(1)));
  // A chain is one node; parentheses keep a nested one.
  ExpectParse("a == 1 and b == 2 and c == 3", And({Eq("a", I(1)), Eq("b", I(2)), Eq("c", I(3))}));
  ExpectParse("(a == 1 and b == 2) and c == 3",
              And({And({Eq("a", I(1)), Eq("b", I(2))}), Eq("c", I(3))}));
  ExpectParse("a == 1 or (b == 2 or c == 3)",
              Or({Eq("a", I(1)), Or({Eq("b", I(2)), Eq("c", I(3))})}));
}

TEST(WhereParserTest, AllOperators) {
  ExpectParse("a == 1", Cmp("a", CompareOp::kEq, I(1)));
  ExpectParse("a != 1", Cmp("a", CompareOp::kNe, I(1)));
  ExpectParse("a < 1", Cmp("a", CompareOp::kLt, I(1)));
  ExpectParse("a <= 1", Cmp("a", CompareOp::kLe, I(1)));
  ExpectParse("a > 1", Cmp("a", CompareOp::kGt, I(1)));
  ExpectParse("a >= 1", Cmp("a", CompareOp::kGe, I(1)));
  ExpectParse("a<=-1", Cmp("a", CompareOp::kLe, I(-1)));
  ExpectParse("a>='x'", Cmp("a", CompareOp::kGe, S("x")));
  ExpectParse("tags contains 'x'", Contains("tags", S("x")));
  ExpectParse("a in (1, 'b', 2.5, true)", In("a", {I(1), S("b"), F(2.5), B(true)}));
  ExpectParse("a in (1)", In("a", {I(1)}));
  ExpectParse("a not in ('x', 'y')", Not(In("a", {S("x"), S("y")})));
  ExpectParse("not a in ('x')", Not(In("a", {S("x")})));
  ExpectParse("a is null", IsNull("a"));
  ExpectParse("a is not null", IsNotNull("a"));
  ExpectParse("not a is null", Not(IsNull("a")));
}

TEST(WhereParserTest, StringLiterals) {
  ExpectParse("name == 'it''s'", Eq("name", S("it's")));
  ExpectParse("name == ''", Eq("name", S("")));
  ExpectParse("name == ''''", Eq("name", S("'")));
  ExpectParse("name == ''''''", Eq("name", S("''")));
  ExpectParse("name == 'a;b:c,d \"e\" (f) and or not'",
              Eq("name", S("a;b:c,d \"e\" (f) and or not")));
  ExpectParse("name == 'Grüße 日本語'", Eq("name", S("Grüße 日本語")));
  ExpectParse("name == 'line\nbreak\ttab'", Eq("name", S("line\nbreak\ttab")));
}

TEST(WhereParserTest, NumberLiterals) {
  ExpectParse("x == 0", Eq("x", I(0)));
  ExpectParse("x == -5", Eq("x", I(-5)));
  ExpectParse("x == 9223372036854775807", Eq("x", I(INT64_MAX)));
  ExpectParse("x == -9223372036854775808", Eq("x", I(INT64_MIN)));
  ExpectParse("x == 007", Eq("x", I(7)));
  ExpectParse("x > 1.5", Cmp("x", CompareOp::kGt, F(1.5)));
  ExpectParse("x < -2e3", Cmp("x", CompareOp::kLt, F(-2000.0)));
  ExpectParse("x < 1E+2", Cmp("x", CompareOp::kLt, F(100.0)));
  ExpectParse("x < 25e-1", Cmp("x", CompareOp::kLt, F(2.5)));
  ExpectParse("x < .5", Cmp("x", CompareOp::kLt, F(0.5)));
  ExpectParse("x < -.5", Cmp("x", CompareOp::kLt, F(-0.5)));
  ExpectParse("x < 5.", Cmp("x", CompareOp::kLt, F(5.0)));
  ExpectParse("x == 1.0", Eq("x", F(1.0)));
  ExpectParse("x == 1e19", Eq("x", F(1e19)));
  ExpectParse("x == 0.1", Eq("x", F(0.1)));
}

TEST(WhereParserTest, Booleans) {
  ExpectParse("flag == true", Eq("flag", B(true)));
  ExpectParse("flag != FALSE", Cmp("flag", CompareOp::kNe, B(false)));
  ExpectParse("flag in (True, false)", In("flag", {B(true), B(false)}));
}

TEST(WhereParserTest, KeywordsAreCaseInsensitive) {
  ExpectParse("A == 1 AND NOT b IN (1, 2) Or c Is Not NULL",
              Or({And({Eq("A", I(1)), Not(In("b", {I(1), I(2)}))}), IsNotNull("c")}));
  ExpectParse("x NOT IN (1) and y CONTAINS 'v' and z IS NULL",
              And({Not(In("x", {I(1)})), Contains("y", S("v")), IsNull("z")}));
  // Property names keep their case.
  EXPECT_EQ(MustParse("Lang == 'x'").property, "Lang");
}

TEST(WhereParserTest, PropertiesNamedLikeKeywords) {
  ExpectParse("not == 1", Eq("not", I(1)));
  ExpectParse("not not == 1", Not(Eq("not", I(1))));
  ExpectParse("and == 1 and or == 2", And({Eq("and", I(1)), Eq("or", I(2))}));
  ExpectParse("in in (1)", In("in", {I(1)}));
  ExpectParse("not not in (1)", Not(In("not", {I(1)})));
  ExpectParse("is is not null", IsNotNull("is"));
  ExpectParse("contains contains 'x'", Contains("contains", S("x")));
  ExpectParse("true == false", Eq("true", B(false)));
  ExpectParse("null is null", IsNull("null"));
}

TEST(WhereParserTest, CanonicalText) {
  auto canonical = [](const std::string& text) { return PredicateToString(MustParse(text)); };
  EXPECT_EQ(canonical("A==1   AND(b == 2 OR c==3)"), "A == 1 and (b == 2 or c == 3)");
  EXPECT_EQ(canonical("not (a == 1 and b == 2)"), "not (a == 1 and b == 2)");
  EXPECT_EQ(canonical("not (not a == 1)"), "not not a == 1");
  EXPECT_EQ(canonical("(not a == 1) and b is not null"), "not a == 1 and b is not null");
  EXPECT_EQ(canonical("NOT x IN ( 'a','it''s' )"), "x not in ('a', 'it''s')");
  EXPECT_EQ(canonical("(a == 1 and b == 2) and c == 3"), "(a == 1 and b == 2) and c == 3");
  EXPECT_EQ(canonical("a == 1 or b == 2 and c == 3"), "a == 1 or b == 2 and c == 3");
  EXPECT_EQ(canonical("(a == 1 or b == 2) and c == 3"), "(a == 1 or b == 2) and c == 3");
  EXPECT_EQ(canonical("x == 1.0"), "x == 1.0");
  EXPECT_EQ(canonical("x == -2e3"), "x == -2000.0");
  EXPECT_EQ(canonical("x == 1e300"), "x == 1e+300");
  EXPECT_EQ(canonical("x == .1"), "x == 0.1");
  EXPECT_EQ(canonical("x == TRUE"), "x == true");
  EXPECT_EQ(canonical("x is NOT null"), "x is not null");
  EXPECT_EQ(canonical("tags Contains 'a'"), "tags contains 'a'");
}

TEST(WhereParserTest, TreesTheGrammarCannotSpellPrintEquivalently) {
  // kTrue below the root: `dataset is not null` (always true).
  EXPECT_EQ(PredicateToString(Or({True(), Eq("a", I(1))})), "dataset is not null or a == 1");
  // A one-child kAnd prints as its child.
  EXPECT_EQ(PredicateToString(And({Eq("a", I(1))})), "a == 1");
  EXPECT_EQ(PredicateToString(Not(And({Or({Eq("a", I(1)), Eq("b", I(2))})}))),
            "not (a == 1 or b == 2)");
}

TEST(WhereParserTest, RandomTreesRoundTrip) {
  RandomPredicates gen(20240601, {"a", "lang", "tags", "not", "in", "and", "or", "is", "true",
                                  "null", "contains", "x_1"});
  for (int i = 0; i < 2000; ++i) {
    Predicate p = gen.RandomTree(4);
    const std::string text = PredicateToString(p);
    auto back = ParseWhere(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
    ASSERT_EQ(*back, p) << text << " reparsed as " << PredicateToString(*back);
  }
}

struct ErrorCase {
  std::string text;
  std::string message;
};

TEST(WhereParserTest, ErrorsNameTheColumn) {
  const std::vector<ErrorCase> cases = {
      {"language == and", "where: column 13: expected a literal after '==', got 'and'"},
      {"a == 1 and",
       "where: column 11: expected a property name, 'not' or '(', got the end of the text"},
      {"a = 1", "where: column 3: '=' is not an operator; use '=='"},
      {"a <> 1", "where: column 3: '<>' is not an operator; use '!='"},
      {"a ! 1", "where: column 3: '!' is not an operator; use '!=' or 'not'"},
      {"a == 'abc", "where: column 6: unterminated string literal (a quote is written '')"},
      {"a == 'it's'", "where: column 11: unterminated string literal (a quote is written '')"},
      {"a == 99999999999999999999",
       "where: column 6: integer literal '99999999999999999999' does not fit in 64 bits (write "
       "a float as 1e19)"},
      {"a == -9223372036854775809",
       "where: column 6: integer literal '-9223372036854775809' does not fit in 64 bits (write "
       "a float as 1e19)"},
      {"a == 1e999", "where: column 6: float literal '1e999' is out of range"},
      {"(a == 1",
       "where: column 8: expected ')' to close the '(' at column 1, got the end of the text"},
      {"a == 1)", "where: column 7: expected 'and', 'or' or the end of the text, got ')'"},
      {"a == 'x' b == 1", "where: column 10: expected 'and', 'or' or the end of the text, got 'b'"},
      {"a 1",
       "where: column 3: expected an operator (==, !=, <, <=, >, >=, in, not in, contains, is) "
       "after property 'a', got '1'"},
      {"a in 1", "where: column 6: expected '(' after 'in', got '1'"},
      {"a not in 1", "where: column 10: expected '(' after 'not in', got '1'"},
      {"a in ()", "where: column 7: expected a literal in the value list, got ')'"},
      {"a in (1,)", "where: column 9: expected a literal after ',', got ')'"},
      {"a in (1 2)", "where: column 9: expected ',' or ')' in the value list, got '2'"},
      {"a is nul", "where: column 6: expected 'null' after 'is', got 'nul'"},
      {"a is not 1", "where: column 10: expected 'null' after 'is not', got '1'"},
      {"a == null",
       "where: column 6: expected a literal after '==', got 'null' (test for NULL with 'is "
       "null' / 'is not null')"},
      {"a == b",
       "where: column 6: expected a literal after '==', got 'b' (strings are single-quoted: "
       "'b')"},
      {"a contains",
       "where: column 11: expected a literal after 'contains', got the end of the text"},
      {"a == \"x\"", "where: column 6: unexpected '\"': strings are single-quoted ('text')"},
      {"x == 'ü' and 1", "where: column 14: expected a property name, 'not' or '(', got '1'"},
      {"a not 5", "where: column 7: expected 'in' after 'a not', got '5'"},
      {"a == 1abc", "where: column 6: malformed number '1abc'"},
      {"a == 1.2.3", "where: column 6: malformed number '1.2.3'"},
      {"a == 1e", "where: column 6: malformed number '1e'"},
      {"a == -", "where: column 6: expected a number after '-' (write negative numbers as -5)"},
      {"a == .", "where: column 6: unexpected character '.'"},
      {"a € 1", "where: column 3: unexpected character '€'"},
      {"== 1", "where: column 1: expected a property name, 'not' or '(', got '=='"},
      {"a == 'a very long string literal that goes on and on' and",
       "where: column 58: expected a property name, 'not' or '(', got the end of the text"},
      {"a == 1 and 'a very long string literal that goes on and on'",
       "where: column 12: expected a property name, 'not' or '(', got 'a very long string "
       "literal that goe...'"},
      {"a == '\xff'", "where: the text is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    auto p = ParseWhere(c.text);
    ASSERT_FALSE(p.ok()) << c.text << " parsed as " << PredicateToString(*p);
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(p.status().message(), c.message) << c.text;
  }
}

TEST(WhereParserTest, DeepNestingIsAnErrorNotACrash) {
  const std::string parens = std::string(5000, '(') + "a == 1" + std::string(5000, ')');
  EXPECT_STATUS(ParseWhere(parens), StatusCode::kInvalidArgument, "nested too deeply");
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_STATUS(ParseWhere(nots + "a == 1"), StatusCode::kInvalidArgument, "nested too deeply");
  // Moderate nesting is fine.
  const std::string ok = std::string(50, '(') + "a == 1" + std::string(50, ')');
  EXPECT_EQ(MustParse(ok), Eq("a", I(1)));
}

TEST(WhereParserTest, LiteralToString) {
  EXPECT_EQ(LiteralToString(S("it's")), "'it''s'");
  EXPECT_EQ(LiteralToString(I(-3)), "-3");
  EXPECT_EQ(LiteralToString(F(2.0)), "2.0");
  EXPECT_EQ(LiteralToString(F(-0.5)), "-0.5");
  EXPECT_EQ(LiteralToString(F(1e-7)), "1e-07");
  EXPECT_EQ(LiteralToString(B(false)), "false");
  // Shortest text that reads back to the same double.
  const double third = 1.0 / 3.0;
  auto p = ParseWhere("x == " + LiteralToString(F(third)));
  ASSERT_OK(p);
  EXPECT_EQ(p->values[0].float_value, third);
}

TEST(WhereParserTest, IsPropertyName) {
  EXPECT_TRUE(IsPropertyName("a"));
  EXPECT_TRUE(IsPropertyName("_x9"));
  EXPECT_FALSE(IsPropertyName(""));
  EXPECT_FALSE(IsPropertyName("9a"));
  EXPECT_FALSE(IsPropertyName("a-b"));
  EXPECT_FALSE(IsPropertyName("a b"));
}

}  // namespace
}  // namespace mixtera::query
