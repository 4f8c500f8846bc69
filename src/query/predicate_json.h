// The JSON form of a query filter: what the Python `Query` class sends (docs/query.md).
//
//   {"op": "true"}                                          everything
//   {"op": "and" | "or", "args": [NODE, ...]}               at least one argument
//   {"op": "not", "arg": NODE}
//   {"op": "cmp", "prop": P, "cmp": "==" | "!=" | "<" | "<=" | ">" | ">=", "value": V}
//   {"op": "in", "prop": P, "values": [V, ...]}             at least one value
//   {"op": "contains", "prop": P, "value": V}
//   {"op": "is_null" | "is_not_null", "prop": P}
//
// P is a property name ([A-Za-z_][A-Za-z0-9_]*). V is a JSON string (kString), an integer
// without fraction or exponent (kInt; it must fit in int64), a number with a fraction or an
// exponent (kFloat: 1.0 and 1e3 are floats), or true/false (kBool). Unknown keys are errors.
#pragma once

#include <string>
#include <string_view>

#include "mixtera/result.h"
#include "model/predicate.h"

namespace mixtera::query {

// Parses the JSON form into a predicate tree, node for node (a one-argument "and" stays a
// one-child kAnd; "true" may appear anywhere).
// Errors: InvalidArgument "predicate JSON: <path>: <what>", where <path> names the bad node
// as `$`, `$.args[1]`, `$.arg.values[0]`, ...; malformed JSON names the byte offset.
Result<model::Predicate> PredicateFromJson(std::string_view json);

// The JSON form of `p` (compact, keys in the order above). PredicateFromJson of the result
// equals `p` for every well-formed tree (kNot with one child, kAnd/kOr with at least one,
// leaves with the values their kind takes, finite floats).
std::string PredicateToJson(const model::Predicate& p);

}  // namespace mixtera::query
