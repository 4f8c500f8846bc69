// Test-only helpers: terse constructors for predicate trees and a seeded random tree
// generator, shared by the query module's tests.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model/predicate.h"

namespace mixtera::query::testing {

using model::CompareOp;
using model::Literal;
using model::Predicate;

inline Literal S(std::string v) { return Literal::String(std::move(v)); }
inline Literal I(int64_t v) { return Literal::Int(v); }
inline Literal F(double v) { return Literal::Float(v); }
inline Literal B(bool v) { return Literal::Bool(v); }

inline Predicate Leaf(Predicate::Kind kind, std::string prop, std::vector<Literal> values = {}) {
  Predicate p;
  p.kind = kind;
  p.property = std::move(prop);
  p.values = std::move(values);
  return p;
}
inline Predicate Cmp(std::string prop, CompareOp op, Literal v) {
  Predicate p = Leaf(Predicate::Kind::kCompare, std::move(prop), {std::move(v)});
  p.op = op;
  return p;
}
inline Predicate Eq(std::string prop, Literal v) {
  return Cmp(std::move(prop), CompareOp::kEq, std::move(v));
}
inline Predicate In(std::string prop, std::vector<Literal> values) {
  return Leaf(Predicate::Kind::kIn, std::move(prop), std::move(values));
}
inline Predicate Contains(std::string prop, Literal v) {
  return Leaf(Predicate::Kind::kContains, std::move(prop), {std::move(v)});
}
inline Predicate IsNull(std::string prop) {
  return Leaf(Predicate::Kind::kIsNull, std::move(prop));
}
inline Predicate IsNotNull(std::string prop) {
  return Leaf(Predicate::Kind::kIsNotNull, std::move(prop));
}
inline Predicate Node(Predicate::Kind kind, std::vector<Predicate> children) {
  Predicate p;
  p.kind = kind;
  p.children = std::move(children);
  return p;
}
inline Predicate And(std::vector<Predicate> c) { return Node(Predicate::Kind::kAnd, std::move(c)); }
inline Predicate Or(std::vector<Predicate> c) { return Node(Predicate::Kind::kOr, std::move(c)); }
inline Predicate Not(Predicate c) { return Node(Predicate::Kind::kNot, {std::move(c)}); }
inline Predicate True() { return Predicate{}; }

// Random trees of the shape ParseWhere produces: no kTrue below the root, kAnd/kOr with at
// least two children, leaves over `props` with literals drawn from varied pools.
class RandomPredicates {
 public:
  RandomPredicates(uint32_t seed, std::vector<std::string> props)
      : rng_(seed), props_(std::move(props)) {}

  Literal RandomLiteral() {
    switch (Pick(4)) {
      case 0: {
        static const char* kStrings[] = {"",    "en",        "it's",   "''",    "a;b", "k:v",
                                         "x,y", "\"q\"",     "日本語", "Grüße", "ü",   "zzz",
                                         " ",   "tab\there", "(",      ")",     "and", "null"};
        return Literal::String(kStrings[Pick(sizeof(kStrings) / sizeof(kStrings[0]))]);
      }
      case 1: {
        static const int64_t kInts[] = {0, 1, -1, 42, -7, INT64_MAX, INT64_MIN, 1000000007};
        return Literal::Int(kInts[Pick(sizeof(kInts) / sizeof(kInts[0]))]);
      }
      case 2: {
        static const double kFloats[] = {0.0, 1.5, -2.25, 1e300, -1e-300, 0.1, 3.0, 123456.789};
        if (Pick(3) == 0) {  // an arbitrary finite double
          std::uniform_real_distribution<double> d(-1e6, 1e6);
          return Literal::Float(d(rng_));
        }
        return Literal::Float(kFloats[Pick(sizeof(kFloats) / sizeof(kFloats[0]))]);
      }
      default:
        return Literal::Bool(Pick(2) == 0);
    }
  }

  Predicate RandomLeaf() {
    const std::string& prop = props_[Pick(props_.size())];
    switch (Pick(6)) {
      case 0:
      case 1:
        return Cmp(prop, static_cast<CompareOp>(Pick(6)), RandomLiteral());
      case 2: {
        std::vector<Literal> values;
        const size_t n = 1 + Pick(4);
        for (size_t i = 0; i < n; ++i) values.push_back(RandomLiteral());
        Predicate in = In(prop, std::move(values));
        return Pick(2) == 0 ? Not(std::move(in)) : in;
      }
      case 3:
        return Contains(prop, RandomLiteral());
      case 4:
        return IsNull(prop);
      default:
        return IsNotNull(prop);
    }
  }

  Predicate RandomTree(int depth) {
    if (depth <= 0 || Pick(3) == 0) return RandomLeaf();
    switch (Pick(3)) {
      case 0:
        return Not(RandomTree(depth - 1));
      default: {
        std::vector<Predicate> children;
        const size_t n = 2 + Pick(3);
        for (size_t i = 0; i < n; ++i) children.push_back(RandomTree(depth - 1));
        return Node(Pick(2) == 0 ? Predicate::Kind::kAnd : Predicate::Kind::kOr,
                    std::move(children));
      }
    }
  }

  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

 private:
  std::mt19937 rng_;
  std::vector<std::string> props_;
};

}  // namespace mixtera::query::testing
