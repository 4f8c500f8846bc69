// Predicate: the filter of a query as a tree (DESIGN.md §3.3). Built by the text grammar
// (query::ParseWhere) and by the Python forms (query::PredicateFromJson); compiled into
// parameterized SQL per dataset by the query module.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mixtera::model {

// A literal of the query language: 'string', integer, float, true/false.
struct Literal {
  enum class Kind : uint8_t { kString, kInt, kFloat, kBool };
  Kind kind = Kind::kString;
  std::string string_value;
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;

  static Literal String(std::string v) {
    Literal l;
    l.kind = Kind::kString;
    l.string_value = std::move(v);
    return l;
  }
  static Literal Int(int64_t v) {
    Literal l;
    l.kind = Kind::kInt;
    l.int_value = v;
    return l;
  }
  static Literal Float(double v) {
    Literal l;
    l.kind = Kind::kFloat;
    l.float_value = v;
    return l;
  }
  static Literal Bool(bool v) {
    Literal l;
    l.kind = Kind::kBool;
    l.bool_value = v;
    return l;
  }
  bool operator==(const Literal& o) const = default;
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// A node of the filter tree. SQL three-valued logic applies throughout: a comparison with a
// NULL property value is NULL (not true), NOT NULL is NULL, and only rows whose whole
// predicate is TRUE match.
struct Predicate {
  enum class Kind : uint8_t {
    kTrue,       // matches everything (an empty query)
    kAnd,        // children (at least one)
    kOr,         // children (at least one)
    kNot,        // exactly one child
    kCompare,    // property op values[0]; on a string_list, == / != mean contains / not contains
    kIn,         // property in (values...), at least one value; on a string_list: any overlap
    kContains,   // string_list property contains values[0]
    kIsNull,     // property is null
    kIsNotNull,  // property is not null
  };
  Kind kind = Kind::kTrue;
  CompareOp op = CompareOp::kEq;  // kCompare only
  std::string property;           // leaf kinds only
  std::vector<Literal> values;    // kCompare, kIn, kContains
  std::vector<Predicate> children;

  bool operator==(const Predicate& o) const = default;
};

}  // namespace mixtera::model
