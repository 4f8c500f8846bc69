#include "mixture/key_resolution.h"

#include <algorithm>

#include "base/strings.h"

namespace mixtera::mixture {
namespace {

bool LiteralsEqual(const model::Literal& a, const model::Literal& b) {
  using K = model::Literal::Kind;
  if (a.kind == K::kInt && b.kind == K::kFloat)
    return static_cast<double>(a.int_value) == b.float_value;
  if (a.kind == K::kFloat && b.kind == K::kInt)
    return a.float_value == static_cast<double>(b.int_value);
  return a == b;
}

}  // namespace

bool KeyMatches(const model::MixtureKey& key, const model::ComponentTable& table, int64_t c) {
  for (const auto& [prop, values] : key.properties) {
    auto it = std::find(table.properties.begin(), table.properties.end(), prop);
    if (it == table.properties.end()) return false;
    const model::GroupValue& v = table.values[c][it - table.properties.begin()];
    if (v.is_null) return false;
    bool any = false;
    for (const auto& item : v.items) {
      for (const auto& want : values) {
        if (LiteralsEqual(item, want)) {
          any = true;
          break;
        }
      }
      if (any) break;
    }
    if (!any) return false;
  }
  return true;
}

Result<KeyResolution> ResolveKeys(const std::vector<model::MixtureKey>& keys,
                                  const model::ComponentTable& table) {
  for (const auto& key : keys) {
    for (const auto& [prop, values] : key.properties) {
      if (std::find(table.properties.begin(), table.properties.end(), prop) ==
          table.properties.end()) {
        return Status::InvalidArgument(StrCat("mixture key names '", prop,
                                              "', which is not a grouping property (grouping: ",
                                              StrJoin(table.properties, ", "), ")"));
      }
    }
  }
  KeyResolution r;
  r.component_key.assign(table.num_components(), -1);
  r.key_components.resize(keys.size());
  std::vector<bool> key_matched(keys.size(), false);
  for (int64_t c = 0; c < table.num_components(); ++c) {
    std::vector<int32_t> matching;
    for (size_t k = 0; k < keys.size(); ++k) {
      if (KeyMatches(keys[k], table, c)) matching.push_back(static_cast<int32_t>(k));
    }
    if (matching.empty()) continue;
    r.component_key[c] = matching[0];
    r.key_components[matching[0]].push_back(c);
    for (int32_t k : matching) key_matched[k] = true;
    if (matching.size() > 1) r.shared_components.emplace_back(c, std::move(matching));
  }
  for (size_t k = 0; k < keys.size(); ++k) {
    if (!key_matched[k]) r.unmatched_keys.push_back(static_cast<int32_t>(k));
  }
  return r;
}

model::MixtureKey ComponentKey(const model::ComponentTable& table, int64_t c) {
  model::MixtureKey key;
  for (size_t p = 0; p < table.properties.size(); ++p) {
    const auto& v = table.values[c][p];
    if (v.is_null) continue;
    key.properties.emplace_back(table.properties[p], v.items);
  }
  return key;
}

}  // namespace mixtera::mixture
