// Matching mixture keys against a query's components (DESIGN.md §3.4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mixtera/result.h"
#include "model/component_table.h"
#include "model/mixture_spec.h"

namespace mixtera::mixture {

// True when, for every property the key names, component c's value (or one of its list
// items) is among the key's values. A NULL value matches nothing. Integers and floats
// compare numerically; otherwise kinds must agree.
bool KeyMatches(const model::MixtureKey& key, const model::ComponentTable& table, int64_t c);

struct KeyResolution {
  // component_key[c]: the first key (in declared order) matching component c, or -1.
  std::vector<int32_t> component_key;
  // key_components[k]: the components key k owns, in component order.
  std::vector<std::vector<int64_t>> key_components;
  // Keys that match no component.
  std::vector<int32_t> unmatched_keys;
  // Components matched by more than one key, with every key that matches them.
  std::vector<std::pair<int64_t, std::vector<int32_t>>> shared_components;
};

// Assigns every component to the first declared key that matches it.
// Errors: InvalidArgument when a key names a property that is not a grouping property.
Result<KeyResolution> ResolveKeys(const std::vector<model::MixtureKey>& keys,
                                  const model::ComponentTable& table);

// Component c's key: its non-NULL grouping values ({prop: [value]} for scalars, the items
// for lists), properties sorted by name.
model::MixtureKey ComponentKey(const model::ComponentTable& table, int64_t c);

}  // namespace mixtera::mixture
