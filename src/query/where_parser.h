// The text form of a query filter (DESIGN.md §3.3; docs/query.md), used by the CLI's
// `--where` and Python's `Query.where(...)`:
//
//   language == 'Python' and (stars >= 10 or license in ('MIT', 'BSD')) and tags contains 'x'
//
// Grammar (keywords and, or, not, in, contains, is, null, true, false are case-insensitive;
// precedence as in SQL: comparison > not > and > or):
//
//   expr    := or ; or := and ("or" and)* ; and := not ("and" not)* ; not := "not" not | atom
//   atom    := "(" expr ")" | prop cmp literal | prop ["not"] "in" "(" literal ("," literal)* ")"
//            | prop "contains" literal | prop "is" ["not"] "null"
//   cmp     := "==" | "!=" | "<" | "<=" | ">" | ">="
//   prop    := [A-Za-z_][A-Za-z0-9_]*
//   literal := 'single-quoted string' ('' escapes a quote) | -?integer | -?float | true | false
//
// A property may be named like a keyword: where an atom starts, a name followed by an
// operator (cmp, in, not in, contains, is) is a property.
#pragma once

#include <string>
#include <string_view>

#include "mixtera/result.h"
#include "model/predicate.h"

namespace mixtera::query {

// Parses `text` into a predicate tree. An empty or all-whitespace text yields
// Predicate{kTrue} (everything). `p not in (...)` becomes kNot(kIn); `p is not null` becomes
// kIsNotNull; a chain `a and b and c` becomes one kAnd with three children (likewise `or`),
// and parentheses keep their grouping (`(a and b) and c` is a kAnd inside a kAnd). Integers
// are int64 (kInt); a number with a '.' or an exponent is a double (kFloat).
//
// Errors: InvalidArgument "where: column N: expected X, got Y" with the 1-based column (in
// characters) of the offending token; an integer that does not fit in 64 bits, a float
// out of the range of double, an unterminated string and text that is not UTF-8 are errors
// too. Properties are not checked here (see ValidatePredicate in filter_compiler.h).
Result<model::Predicate> ParseWhere(std::string_view text);

// The canonical text of `p` in the grammar above: single spaces around operators and after
// commas, lower-case keywords, strings single-quoted with '' escapes, floats in their
// shortest exact form (always with a '.' or an exponent), and parentheses only where
// precedence or the tree's grouping needs them. Root kTrue prints as "" (everything).
//
// For every predicate ParseWhere can produce, ParseWhere(PredicateToString(p)) == p, so the
// text is a stable cache key. Trees the grammar cannot spell (kTrue below the root, a
// one-child kAnd/kOr, a property name that is not an identifier) print as an equivalent
// text: a nested kTrue prints as `dataset is not null` (the pseudo-property is never NULL).
std::string PredicateToString(const model::Predicate& p);

// "==", "!=", "<", "<=", ">", ">=".
std::string_view CompareOpText(model::CompareOp op);

// A literal as the grammar spells it: 'it''s', 42, -1.5, 1e+300, true.
std::string LiteralToString(const model::Literal& literal);

// True when `name` matches [A-Za-z_][A-Za-z0-9_]*.
bool IsPropertyName(std::string_view name);

}  // namespace mixtera::query
