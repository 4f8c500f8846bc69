#include "mixture/mixture_parser.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/macros.h"
#include "base/small_file.h"
#include "base/strings.h"
#include "model/component_table.h"
#include "model/limits.h"

namespace mixtera::mixture {
namespace {

using model::Literal;
using model::MixtureKey;
using model::MixtureSpec;
using model::MixtureType;
using model::MixtureWeight;

Status Invalid(const std::string& origin, const std::string& msg) {
  return Status::InvalidArgument(StrCat(origin, ": ", msg));
}

bool IsStringScalar(const YAML::Node& node);

// `node` as written, for messages; a quoted scalar keeps its quotes, so "got '1'" is not
// mistaken for the number 1.
std::string NodeText(const YAML::Node& node) {
  if (node.IsScalar() && IsStringScalar(node)) return JsonQuote(node.Scalar());
  std::ostringstream out;
  out << node;
  return out.str();
}

// Rejects keys of `node` outside `allowed`, and keys written twice (YAML and JSON parsers,
// yaml-cpp included, otherwise keep one of them silently).
Status CheckKeys(const YAML::Node& node, const std::set<std::string>& allowed,
                 const std::string& where, const std::string& origin) {
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (!allowed.count(key)) {
      std::vector<std::string> names(allowed.begin(), allowed.end());
      return Invalid(
          origin, StrCat(where, ": unknown key '", key, "' (known: ", StrJoin(names, ", "), ")"));
    }
    if (!seen.insert(key).second) {
      return Invalid(origin, StrCat(where, ": key '", key, "' appears twice"));
    }
  }
  return Status::OK();
}

// A quoted scalar ('x', "x") or one tagged !!str: always a string, never a number or bool.
bool IsStringScalar(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

bool IsInteger(const std::string& s) {
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// [+-] digits [. [digits]] [e [+-] digits], or [+-] . digits [e [+-] digits]: the decimal
// floats (no hex floats, inf or nan, which strtod would also accept).
bool IsDecimalFloat(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// A YAML scalar as a literal: quoted scalars are strings; plain ones are booleans,
// integers or floats when they read as such, strings otherwise.
Result<Literal> ScalarLiteral(const YAML::Node& node, const std::string& where,
                              const std::string& origin) {
  if (!node.IsScalar()) {
    return Invalid(origin, StrCat(where, ": expected a value, got ", NodeText(node)));
  }
  const std::string& s = node.Scalar();
  if (IsStringScalar(node) || s.empty()) return Literal::String(s);
  if (s == "true" || s == "True") return Literal::Bool(true);
  if (s == "false" || s == "False") return Literal::Bool(false);
  if (IsInteger(s)) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && *end == '\0') return Literal::Int(v);
  }
  if (IsDecimalFloat(s) && s.find_first_of(".eE") != std::string::npos) {
    const double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d)) return Literal::Float(d);
  }
  return Literal::String(s);
}

Result<int64_t> ScalarInt(const YAML::Node& node, const std::string& where,
                          const std::string& origin) {
  if (node.IsScalar() && !IsStringScalar(node) && IsInteger(node.Scalar())) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(node.Scalar().c_str(), &end, 10);
    if (errno == 0) return static_cast<int64_t>(v);
  }
  return Invalid(origin, StrCat(where, " must be an integer, got ", NodeText(node)));
}

// `value` of the field at `where` within its row of the limits table (model/limits.h).
Status InRange(const model::Limit& limit, int64_t value, const std::string& where,
               const std::string& origin) {
  const Status st = model::CheckLimit(limit, value, where);
  return st.ok() ? st : Invalid(origin, st.message());
}

// A seed: an integer in [0, 2^64).
Result<uint64_t> ScalarSeed(const YAML::Node& node, const std::string& where,
                            const std::string& origin) {
  if (node.IsScalar() && !IsStringScalar(node) && IsInteger(node.Scalar()) &&
      node.Scalar()[0] != '-') {
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(node.Scalar().c_str(), &end, 10);
    if (errno == 0) return static_cast<uint64_t>(v);
  }
  return Invalid(origin, StrCat(where, " must be an integer in [0, 2^64), got ", NodeText(node)));
}

Result<double> ScalarNumber(const YAML::Node& node, const std::string& where,
                            const std::string& origin) {
  if (node.IsScalar() && !IsStringScalar(node)) {
    char* end = nullptr;
    const std::string& s = node.Scalar();
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && *end == '\0' && std::isfinite(d)) return d;
  }
  return Invalid(origin, StrCat(where, " must be a number, got ", NodeText(node)));
}

Result<bool> ScalarBool(const YAML::Node& node, const std::string& where,
                        const std::string& origin) {
  if (node.IsScalar() && !IsStringScalar(node)) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True") return true;
    if (s == "false" || s == "False") return false;
  }
  return Invalid(origin, StrCat(where, " must be true or false, got ", NodeText(node)));
}

Result<std::vector<Literal>> ValueList(const YAML::Node& node, const std::string& where,
                                       const std::string& origin) {
  std::vector<Literal> values;
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      MIXTERA_ASSIGN_OR_RETURN(Literal l,
                               ScalarLiteral(node[i], StrCat(where, "[", i, "]"), origin));
      values.push_back(std::move(l));
    }
  } else {
    MIXTERA_ASSIGN_OR_RETURN(Literal l, ScalarLiteral(node, where, origin));
    values.push_back(std::move(l));
  }
  if (values.empty()) return Invalid(origin, StrCat(where, ": the value list is empty"));
  return values;
}

Result<MixtureKey> ParseKey(const YAML::Node& node, const std::string& where,
                            const std::string& origin) {
  if (!node.IsMap() || node.size() == 0) {
    return Invalid(origin, StrCat(where, " must be a non-empty mapping {property: [values]}"));
  }
  MixtureKey key;
  for (const auto& kv : node) {
    const std::string prop = kv.first.Scalar();
    MIXTERA_ASSIGN_OR_RETURN(auto values, ValueList(kv.second, StrCat(where, ".", prop), origin));
    key.properties.emplace_back(prop, std::move(values));
  }
  std::sort(key.properties.begin(), key.properties.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < key.properties.size(); ++i) {
    if (key.properties[i].first == key.properties[i - 1].first) {
      return Invalid(origin,
                     StrCat(where, ": property '", key.properties[i].first, "' appears twice"));
    }
  }
  return key;
}

// Keys are sets of values per property: {a: [x, y]} and {a: [y, x, x]} are the same key.
MixtureKey CanonicalKey(const MixtureKey& key) {
  MixtureKey c = key;
  for (auto& [name, values] : c.properties) {
    std::sort(values.begin(), values.end(),
              [](const Literal& a, const Literal& b) { return model::CompareLiterals(a, b) < 0; });
    values.erase(std::unique(values.begin(), values.end()), values.end());
  }
  return c;
}

// Rejects a key that appears twice among `weights`: the list `where` (then where[i] names
// the entry) or the flattened tree `where`.
Status CheckDuplicateKeys(const std::vector<MixtureWeight>& weights, const std::string& where,
                          bool flattened_tree, const std::string& origin) {
  std::vector<MixtureKey> seen;
  for (size_t i = 0; i < weights.size(); ++i) {
    MixtureKey c = CanonicalKey(weights[i].key);
    if (std::find(seen.begin(), seen.end(), c) != seen.end()) {
      if (flattened_tree) {
        return Invalid(origin, StrCat(where, ": key ", MixtureKeyToJson(weights[i].key),
                                      " appears twice (sibling components with the same values)"));
      }
      return Invalid(origin, StrCat(where, "[", i, "]: key ", MixtureKeyToJson(weights[i].key),
                                    " appears twice"));
    }
    seen.push_back(std::move(c));
  }
  return Status::OK();
}

Status CheckWeightSum(const std::vector<MixtureWeight>& weights, const std::string& where,
                      const std::string& origin) {
  double sum = 0;
  for (const auto& w : weights) sum += w.weight;
  if (std::fabs(sum - 1.0) > 1e-3) {
    return Invalid(origin, StrCat(where, ": weights sum to ", sum, ", not 1"));
  }
  return Status::OK();
}

Result<std::vector<MixtureWeight>> ParseWeights(const YAML::Node& node, const std::string& where,
                                                const std::string& origin) {
  if (!node.IsSequence() || node.size() == 0) {
    return Invalid(origin, StrCat(where, " must be a non-empty list of {key, weight[, repeat]}"));
  }
  std::vector<MixtureWeight> weights;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string w_where = StrCat(where, "[", i, "]");
    const YAML::Node& entry = node[i];
    if (!entry.IsMap()) return Invalid(origin, StrCat(w_where, " must be a mapping"));
    MIXTERA_RETURN_IF_ERROR(CheckKeys(entry, {"key", "weight", "repeat"}, w_where, origin));
    if (!entry["key"] || !entry["weight"]) {
      return Invalid(origin, StrCat(w_where, " needs 'key' and 'weight'"));
    }
    MixtureWeight w;
    MIXTERA_ASSIGN_OR_RETURN(w.key, ParseKey(entry["key"], w_where + ".key", origin));
    MIXTERA_ASSIGN_OR_RETURN(w.weight, ScalarNumber(entry["weight"], w_where + ".weight", origin));
    if (w.weight < 0) return Invalid(origin, StrCat(w_where, ".weight is negative"));
    if (entry["repeat"]) {
      MIXTERA_ASSIGN_OR_RETURN(w.repeat, ScalarInt(entry["repeat"], w_where + ".repeat", origin));
      MIXTERA_RETURN_IF_ERROR(
          InRange(model::limits::kRepeat, w.repeat, w_where + ".repeat", origin));
    }
    weights.push_back(std::move(w));
  }
  MIXTERA_RETURN_IF_ERROR(CheckDuplicateKeys(weights, where, false, origin));
  MIXTERA_RETURN_IF_ERROR(CheckWeightSum(weights, where, origin));
  double sum = 0;
  for (const auto& w : weights) sum += w.weight;
  for (auto& w : weights) w.weight /= sum;
  return weights;
}

// Flattens a hierarchical node {property, components: [{values, weight, tree?}]} into
// leaf keys whose constraints are those along the path and whose weight is the product.
Status FlattenTree(const YAML::Node& node, const std::string& where, const MixtureKey& prefix,
                   double factor, const std::string& origin, std::vector<MixtureWeight>* out) {
  if (!node.IsMap())
    return Invalid(origin, StrCat(where, " must be a mapping {property, components}"));
  MIXTERA_RETURN_IF_ERROR(CheckKeys(node, {"property", "components"}, where, origin));
  if (!node["property"] || !node["property"].IsScalar() || !node["components"] ||
      !node["components"].IsSequence() || node["components"].size() == 0) {
    return Invalid(origin, StrCat(where, " needs 'property' and a non-empty 'components' list"));
  }
  const std::string prop = node["property"].Scalar();
  for (const auto& [name, values] : prefix.properties) {
    if (name == prop) {
      return Invalid(origin, StrCat(where, ": property '", prop, "' is already split above"));
    }
  }
  const YAML::Node& comps = node["components"];
  double sum = 0;
  std::vector<double> weights;
  for (size_t i = 0; i < comps.size(); ++i) {
    const std::string c_where = StrCat(where, ".components[", i, "]");
    if (!comps[i].IsMap()) return Invalid(origin, StrCat(c_where, " must be a mapping"));
    MIXTERA_RETURN_IF_ERROR(CheckKeys(comps[i], {"values", "weight", "tree"}, c_where, origin));
    if (!comps[i]["values"] || !comps[i]["weight"]) {
      return Invalid(origin, StrCat(c_where, " needs 'values' and 'weight'"));
    }
    MIXTERA_ASSIGN_OR_RETURN(double w,
                             ScalarNumber(comps[i]["weight"], c_where + ".weight", origin));
    if (w < 0) return Invalid(origin, StrCat(c_where, ".weight is negative"));
    weights.push_back(w);
    sum += w;
  }
  if (std::fabs(sum - 1.0) > 1e-3) {
    return Invalid(origin, StrCat(where, ": component weights sum to ", sum, ", not 1"));
  }
  for (size_t i = 0; i < comps.size(); ++i) {
    const std::string c_where = StrCat(where, ".components[", i, "]");
    MIXTERA_ASSIGN_OR_RETURN(auto values,
                             ValueList(comps[i]["values"], c_where + ".values", origin));
    MixtureKey key = prefix;
    key.properties.emplace_back(prop, std::move(values));
    std::sort(key.properties.begin(), key.properties.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    const double w = factor * weights[i] / sum;
    if (comps[i]["tree"]) {
      MIXTERA_RETURN_IF_ERROR(
          FlattenTree(comps[i]["tree"], c_where + ".tree", key, w, origin, out));
    } else {
      out->push_back({std::move(key), w, 1});
    }
  }
  return Status::OK();
}

Result<MixtureType> ParseType(const std::string& s, const std::string& origin) {
  static const std::map<std::string, MixtureType> kTypes = {
      {"static", MixtureType::kStatic},       {"inferring", MixtureType::kInferring},
      {"arbitrary", MixtureType::kArbitrary}, {"hierarchical", MixtureType::kHierarchical},
      {"schedule", MixtureType::kSchedule},   {"dynamic", MixtureType::kDynamic}};
  auto it = kTypes.find(s);
  if (it == kTypes.end()) {
    return Invalid(origin, StrCat("unknown mixture type '", s,
                                  "' (known: static, inferring, arbitrary, hierarchical, "
                                  "schedule, dynamic)"));
  }
  return it->second;
}

}  // namespace

Result<MixtureSpec> ParseMixtureSpec(std::string_view text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Invalid(origin, StrCat("not valid YAML/JSON: ", e.what()));
  }
  if (!root.IsMap()) return Invalid(origin, "a mixture must be a mapping (YAML or JSON object)");
  MIXTERA_RETURN_IF_ERROR(
      CheckKeys(root,
                {"type", "chunk_size", "unit", "strict", "best_effort", "seed", "shuffle",
                 "group_by", "weights", "tree", "schedule", "hierarchical", "lag_chunks"},
                "mixture", origin));
  MixtureSpec spec;
  if (!root["type"]) return Invalid(origin, "missing 'type'");
  MIXTERA_ASSIGN_OR_RETURN(spec.type, ParseType(root["type"].Scalar(), origin));
  if (root["chunk_size"]) {
    MIXTERA_ASSIGN_OR_RETURN(spec.chunk_size, ScalarInt(root["chunk_size"], "chunk_size", origin));
  }
  MIXTERA_RETURN_IF_ERROR(
      InRange(model::limits::kChunkSize, spec.chunk_size, "chunk_size", origin));
  if (root["unit"]) {
    const std::string u = root["unit"].Scalar();
    if (u == "samples") {
      spec.unit = model::ChunkUnit::kSamples;
    } else if (u == "tokens") {
      spec.unit = model::ChunkUnit::kTokens;
    } else {
      return Invalid(origin, StrCat("unit must be 'samples' or 'tokens', got '", u, "'"));
    }
  }
  if (root["strict"]) {
    MIXTERA_ASSIGN_OR_RETURN(spec.strict, ScalarBool(root["strict"], "strict", origin));
  }
  if (root["best_effort"]) {
    MIXTERA_ASSIGN_OR_RETURN(bool best_effort,
                             ScalarBool(root["best_effort"], "best_effort", origin));
    if (root["strict"] && best_effort == spec.strict) {
      return Invalid(origin, "'strict' and 'best_effort' contradict each other");
    }
    spec.strict = !best_effort;
  }
  if (root["seed"]) {
    MIXTERA_ASSIGN_OR_RETURN(spec.seed, ScalarSeed(root["seed"], "seed", origin));
  }
  if (YAML::Node sh = root["shuffle"]; sh && !sh.IsNull()) {
    if (sh.IsMap()) {
      MIXTERA_RETURN_IF_ERROR(CheckKeys(sh, {"block"}, "shuffle", origin));
      if (!sh["block"]) return Invalid(origin, "shuffle needs 'block'");
      MIXTERA_ASSIGN_OR_RETURN(spec.shuffle_block, ScalarInt(sh["block"], "shuffle.block", origin));
    } else if (sh.IsScalar() && (sh.Scalar() == "false" || sh.Scalar() == "False")) {
      spec.shuffle_block = 0;
    } else {
      MIXTERA_ASSIGN_OR_RETURN(spec.shuffle_block, ScalarInt(sh, "shuffle", origin));
    }
    MIXTERA_RETURN_IF_ERROR(
        InRange(model::limits::kShuffleBlock, spec.shuffle_block, "shuffle.block", origin));
  }
  if (YAML::Node g = root["group_by"]; g && !g.IsNull()) {
    if (g.IsScalar()) {
      spec.group_by.push_back(g.Scalar());
    } else if (g.IsSequence()) {
      for (size_t i = 0; i < g.size(); ++i) {
        if (!g[i].IsScalar() || g[i].Scalar().empty()) {
          return Invalid(origin,
                         StrCat("group_by[", i, "] must be a property name, got ", NodeText(g[i])));
        }
        spec.group_by.push_back(g[i].Scalar());
      }
    } else {
      return Invalid(origin, "group_by must be a property name or a list of them");
    }
  }
  if (root["lag_chunks"]) {
    if (spec.type != MixtureType::kDynamic) {
      return Invalid(origin, "'lag_chunks' applies to dynamic mixtures only");
    }
    MIXTERA_ASSIGN_OR_RETURN(spec.lag_chunks, ScalarInt(root["lag_chunks"], "lag_chunks", origin));
    MIXTERA_RETURN_IF_ERROR(
        InRange(model::limits::kLagChunks, spec.lag_chunks, "lag_chunks", origin));
  }
  const bool has_weights = static_cast<bool>(root["weights"]);
  const bool has_tree = static_cast<bool>(root["tree"]);
  const bool has_schedule = static_cast<bool>(root["schedule"]);
  auto forbid = [&](bool present, const char* key) -> Status {
    if (present) {
      return Invalid(origin, StrCat("the ", model::MixtureTypeName(spec.type),
                                    " mixture takes no '", key, "'"));
    }
    return Status::OK();
  };
  switch (spec.type) {
    case MixtureType::kStatic:
    case MixtureType::kDynamic: {
      MIXTERA_RETURN_IF_ERROR(forbid(has_tree, "tree"));
      MIXTERA_RETURN_IF_ERROR(forbid(has_schedule, "schedule"));
      if (!has_weights) {
        return Invalid(
            origin, StrCat("the ", model::MixtureTypeName(spec.type), " mixture needs 'weights'"));
      }
      MIXTERA_ASSIGN_OR_RETURN(spec.weights, ParseWeights(root["weights"], "weights", origin));
      break;
    }
    case MixtureType::kHierarchical: {
      MIXTERA_RETURN_IF_ERROR(forbid(has_weights, "weights"));
      MIXTERA_RETURN_IF_ERROR(forbid(has_schedule, "schedule"));
      if (!has_tree) return Invalid(origin, "the hierarchical mixture needs 'tree'");
      MIXTERA_RETURN_IF_ERROR(FlattenTree(root["tree"], "tree", {}, 1.0, origin, &spec.weights));
      MIXTERA_RETURN_IF_ERROR(CheckDuplicateKeys(spec.weights, "tree", true, origin));
      break;
    }
    case MixtureType::kInferring:
    case MixtureType::kArbitrary:
      MIXTERA_RETURN_IF_ERROR(forbid(has_weights, "weights"));
      MIXTERA_RETURN_IF_ERROR(forbid(has_tree, "tree"));
      MIXTERA_RETURN_IF_ERROR(forbid(has_schedule, "schedule"));
      break;
    case MixtureType::kSchedule: {
      MIXTERA_RETURN_IF_ERROR(forbid(has_weights, "weights"));
      MIXTERA_RETURN_IF_ERROR(forbid(has_tree, "tree"));
      const YAML::Node& sched = root["schedule"];
      if (!sched || !sched.IsSequence() || sched.size() == 0) {
        return Invalid(origin, "the schedule mixture needs a non-empty 'schedule' list");
      }
      for (size_t i = 0; i < sched.size(); ++i) {
        const std::string where = StrCat("schedule[", i, "]");
        if (!sched[i].IsMap()) return Invalid(origin, StrCat(where, " must be a mapping"));
        MIXTERA_RETURN_IF_ERROR(
            CheckKeys(sched[i], {"start_chunk", "weights", "tree"}, where, origin));
        model::ScheduleEntry entry;
        if (!sched[i]["start_chunk"]) return Invalid(origin, StrCat(where, " needs 'start_chunk'"));
        MIXTERA_ASSIGN_OR_RETURN(
            entry.start_chunk, ScalarInt(sched[i]["start_chunk"], where + ".start_chunk", origin));
        if (sched[i]["weights"] && sched[i]["tree"]) {
          return Invalid(origin, StrCat(where, " has both 'weights' and 'tree'"));
        }
        if (sched[i]["weights"]) {
          MIXTERA_ASSIGN_OR_RETURN(entry.weights,
                                   ParseWeights(sched[i]["weights"], where + ".weights", origin));
        } else if (sched[i]["tree"]) {
          MIXTERA_RETURN_IF_ERROR(
              FlattenTree(sched[i]["tree"], where + ".tree", {}, 1.0, origin, &entry.weights));
          MIXTERA_RETURN_IF_ERROR(CheckDuplicateKeys(entry.weights, where + ".tree", true, origin));
        } else {
          return Invalid(origin, StrCat(where, " needs 'weights' or 'tree'"));
        }
        if (i == 0 && entry.start_chunk != 0) {
          return Invalid(origin, "schedule[0].start_chunk must be 0");
        }
        if (i > 0 && entry.start_chunk <= spec.schedule.back().start_chunk) {
          return Invalid(origin,
                         StrCat(where, ".start_chunk must be greater than the previous entry's"));
        }
        spec.schedule.push_back(std::move(entry));
      }
      spec.weights = spec.schedule[0].weights;
      break;
    }
  }
  if (root["hierarchical"]) {
    // Written by MixtureSpecToJson for a flattened tree: accept it back as static.
    MIXTERA_ASSIGN_OR_RETURN(bool h, ScalarBool(root["hierarchical"], "hierarchical", origin));
    if (h && spec.type == MixtureType::kStatic) spec.type = MixtureType::kHierarchical;
  }
  return spec;
}

Result<MixtureSpec> ParseMixtureSpecFile(const std::string& path) {
  MIXTERA_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "mixture file"));
  return ParseMixtureSpec(text, path);
}

std::string MixtureKeyToJson(const MixtureKey& key) {
  std::string out = "{";
  for (size_t i = 0; i < key.properties.size(); ++i) {
    if (i > 0) out += ",";
    out += JsonQuote(key.properties[i].first) + ":[";
    for (size_t j = 0; j < key.properties[i].second.size(); ++j) {
      if (j > 0) out += ",";
      out += model::LiteralToJson(key.properties[i].second[j]);
    }
    out += "]";
  }
  return out + "}";
}

std::string MixtureKeyToString(const MixtureKey& key) {
  std::vector<std::string> parts;
  for (const auto& [name, values] : key.properties) {
    std::string part = name;
    for (const auto& v : values) {
      part += ":";
      part += v.kind == Literal::Kind::kString ? v.string_value : model::LiteralToJson(v);
    }
    parts.push_back(std::move(part));
  }
  return StrJoin(parts, ";");
}

namespace {
std::string WeightsToJson(const std::vector<MixtureWeight>& weights) {
  std::string out = "[";
  for (size_t i = 0; i < weights.size(); ++i) {
    if (i > 0) out += ",";
    out += StrCat("{\"key\":", MixtureKeyToJson(weights[i].key),
                  ",\"weight\":", model::LiteralToJson(Literal::Float(weights[i].weight)));
    if (weights[i].repeat != 1) out += StrCat(",\"repeat\":", weights[i].repeat);
    out += "}";
  }
  return out + "]";
}
}  // namespace

std::string MixtureSpecToJson(const MixtureSpec& spec) {
  const bool hierarchical = spec.type == MixtureType::kHierarchical;
  std::string out =
      StrCat("{\"type\":\"", hierarchical ? "static" : model::MixtureTypeName(spec.type), "\"");
  out +=
      StrCat(",\"chunk_size\":", spec.chunk_size, ",\"unit\":\"", model::ChunkUnitName(spec.unit),
             "\",\"strict\":", spec.strict ? "true" : "false", ",\"seed\":", spec.seed);
  if (spec.shuffle_block > 0) out += StrCat(",\"shuffle\":{\"block\":", spec.shuffle_block, "}");
  if (!spec.group_by.empty()) {
    std::vector<std::string> quoted;
    for (const auto& g : spec.group_by) quoted.push_back(JsonQuote(g));
    out += ",\"group_by\":[" + StrJoin(quoted, ",") + "]";
  }
  if (hierarchical) out += ",\"hierarchical\":true";
  if (spec.type == MixtureType::kDynamic && spec.lag_chunks > 0) {
    out += StrCat(",\"lag_chunks\":", spec.lag_chunks);
  }
  if (spec.type == MixtureType::kSchedule) {
    out += ",\"schedule\":[";
    for (size_t i = 0; i < spec.schedule.size(); ++i) {
      if (i > 0) out += ",";
      out += StrCat("{\"start_chunk\":", spec.schedule[i].start_chunk,
                    ",\"weights\":", WeightsToJson(spec.schedule[i].weights), "}");
    }
    out += "]";
  } else if (!spec.weights.empty()) {
    out += ",\"weights\":" + WeightsToJson(spec.weights);
  }
  return out + "}";
}

}  // namespace mixtera::mixture
