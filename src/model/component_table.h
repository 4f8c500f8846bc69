// ComponentTable: the components of a query result (DESIGN.md §3.4) — the distinct
// combinations of the grouping properties' values among the matching samples — with their
// sizes. Component c of the table is component c of the job's ChunkerIndex.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/predicate.h"
#include "model/property.h"

namespace mixtera::model {

// One grouping property's value in a component: NULL, a scalar (one item) or a
// string_list (its items in stored order, duplicates kept).
struct GroupValue {
  bool is_null = true;
  std::vector<Literal> items;
  bool operator==(const GroupValue& o) const = default;
};

struct ComponentTable {
  // The grouping properties, sorted by name, and their types.
  std::vector<std::string> properties;
  std::vector<PropertyType> types;
  // values[c][p]: component c's value of properties[p].
  std::vector<std::vector<GroupValue>> values;
  // Matching samples per component.
  std::vector<int64_t> sizes;

  int64_t num_components() const { return static_cast<int64_t>(values.size()); }
};

// Total order on literals used to sort components: by kind, then by value (strings by
// bytes). Returns <0, 0, >0.
int CompareLiterals(const Literal& a, const Literal& b);
// Total order on group values: NULL first, then item by item, shorter first on ties.
int CompareGroupValues(const GroupValue& a, const GroupValue& b);

// The JSON form of a literal (a JSON string, number or bool): the one literal encoder of
// every file we write (job files, mixture specs). A float always reads back as a float (2.0
// is written "2.0", never "2") with 17 significant digits (an exact round trip); NaN and infinities
// are written as null.
std::string LiteralToJson(const Literal& l);

}  // namespace mixtera::model
