#include "model/component_table.h"

#include <cmath>
#include <cstdio>

#include "base/strings.h"

namespace mixtera::model {

int CompareLiterals(const Literal& a, const Literal& b) {
  if (a.kind != b.kind) return static_cast<int>(a.kind) < static_cast<int>(b.kind) ? -1 : 1;
  switch (a.kind) {
    case Literal::Kind::kString: {
      const int c = a.string_value.compare(b.string_value);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Literal::Kind::kInt:
      return a.int_value < b.int_value ? -1 : (a.int_value > b.int_value ? 1 : 0);
    case Literal::Kind::kFloat:
      return a.float_value < b.float_value ? -1 : (a.float_value > b.float_value ? 1 : 0);
    case Literal::Kind::kBool:
      return static_cast<int>(a.bool_value) - static_cast<int>(b.bool_value);
  }
  return 0;
}

int CompareGroupValues(const GroupValue& a, const GroupValue& b) {
  if (a.is_null != b.is_null) return a.is_null ? -1 : 1;
  for (size_t i = 0; i < a.items.size() && i < b.items.size(); ++i) {
    const int c = CompareLiterals(a.items[i], b.items[i]);
    if (c != 0) return c;
  }
  if (a.items.size() != b.items.size()) return a.items.size() < b.items.size() ? -1 : 1;
  return 0;
}

std::string LiteralToJson(const Literal& l) {
  switch (l.kind) {
    case Literal::Kind::kString:
      return JsonQuote(l.string_value);
    case Literal::Kind::kInt:
      return std::to_string(l.int_value);
    case Literal::Kind::kFloat: {
      if (!std::isfinite(l.float_value)) return "null";
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", l.float_value);
      std::string out = buf;
      // An integral value keeps a fraction so that it reads back as a float, not an int.
      if (out.find_first_not_of("-0123456789") == std::string::npos) out += ".0";
      return out;
    }
    case Literal::Kind::kBool:
      return l.bool_value ? "true" : "false";
  }
  return "null";
}

}  // namespace mixtera::model
