#include "ingest/spec_parser.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "base/macros.h"
#include "base/small_file.h"
#include "base/strings.h"

namespace mixtera::ingest {
namespace {

using model::DataFormat;
using model::PropertySchema;
using model::PropertyType;

constexpr const char* kPileSubsets[] = {"Pile-CC",
                                        "PubMed Central",
                                        "Books3",
                                        "OpenWebText2",
                                        "ArXiv",
                                        "Github",
                                        "FreeLaw",
                                        "StackExchange",
                                        "USPTO Backgrounds",
                                        "PubMed Abstracts",
                                        "Gutenberg (PG-19)",
                                        "OpenSubtitles",
                                        "Wikipedia (en)",
                                        "DM Mathematics",
                                        "Ubuntu IRC",
                                        "BookCorpus2",
                                        "EuroParl",
                                        "HackerNews",
                                        "YoutubeSubtitles",
                                        "PhilPapers",
                                        "NIH ExPorter",
                                        "Enron Emails"};

constexpr const char* kRedPajamaSets[] = {
    "RedPajamaCommonCrawl", "RedPajamaC4",        "RedPajamaGithub",       "RedPajamaBook",
    "RedPajamaArXiv",       "RedPajamaWikipedia", "RedPajamaStackExchange"};

// A preset property with its location as a JSON pointer (for jsonl and webdataset's json
// member) and as a column (for parquet).
struct PresetProperty {
  PropertySchema schema;
  std::string pointer;
  std::string column;
};

std::vector<PresetProperty> PresetTable(std::string_view name) {
  std::vector<PresetProperty> out;
  auto add = [&out](std::string prop, PropertyType type, bool nullable,
                    std::vector<std::string> values, std::string pointer, std::string column) {
    PresetProperty p;
    p.schema.name = std::move(prop);
    p.schema.type = type;
    p.schema.nullable = nullable;
    p.schema.enum_values = std::move(values);
    p.pointer = std::move(pointer);
    p.column = std::move(column);
    out.push_back(std::move(p));
  };
  if (name == "PILE") {
    add("pile_set_name", PropertyType::kEnum, false,
        std::vector<std::string>(std::begin(kPileSubsets), std::end(kPileSubsets)),
        "/meta/pile_set_name", "pile_set_name");
  } else if (name == "SLIM_PAJAMA") {
    add("redpajama_set_name", PropertyType::kEnum, false,
        std::vector<std::string>(std::begin(kRedPajamaSets), std::end(kRedPajamaSets)),
        "/meta/redpajama_set_name", "redpajama_set_name");
  } else if (name == "RED_PAJAMA") {
    add("language", PropertyType::kStringList, true, {}, "/meta/language/*/name", "language");
    add("publication_date", PropertyType::kString, true, {}, "/meta/publication_date",
        "publication_date");
  } else if (name == "FINEWEB") {
    add("dump", PropertyType::kString, false, {}, "/dump", "dump");
    add("language", PropertyType::kEnum, false, {"en"}, "/language", "language");
  }
  return out;
}

const std::regex& PropertyNamePattern() {
  static const std::regex re("[A-Za-z_][A-Za-z0-9_]*");
  return re;
}

Status Invalid(const std::string& msg) { return Status::InvalidArgument(msg); }

// Refuses a mapping, anywhere in the spec, that names a key twice: YAML parsers disagree on
// which value wins, so neither may be taken silently.
Status CheckNoDuplicateKeys(const YAML::Node& node, const std::string& where) {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      MIXTERA_RETURN_IF_ERROR(CheckNoDuplicateKeys(node[i], StrCat(where, "[", i, "]")));
    }
  } else if (node.IsMap()) {
    std::set<std::string> seen;
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (!seen.insert(key).second) {
        return Invalid(StrCat(where, ": key '", key, "' appears twice"));
      }
      MIXTERA_RETURN_IF_ERROR(CheckNoDuplicateKeys(kv.second, StrCat(where, ".", key)));
    }
  }
  return Status::OK();
}

std::string NodeText(const YAML::Node& node) {
  std::ostringstream out;
  out << node;
  return out.str();
}

Result<std::string> ScalarString(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) return Invalid(StrCat(what, " must be a string, got: ", NodeText(node)));
  return node.Scalar();
}

// A string or a list of strings.
Result<std::vector<std::string>> StringOrList(const YAML::Node& node, const std::string& what) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      MIXTERA_ASSIGN_OR_RETURN(std::string s, ScalarString(item, what + " entry"));
      out.push_back(std::move(s));
    }
  } else {
    return Invalid(StrCat(what, " must be a string or a list of strings"));
  }
  if (out.empty()) return Invalid(StrCat(what, " must not be empty"));
  return out;
}

Result<bool> ScalarBool(const YAML::Node& node, const std::string& what) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True") return true;
    if (s == "false" || s == "False") return false;
  }
  return Invalid(StrCat(what, " must be true or false, got: ", NodeText(node)));
}

std::string DefaultField(const std::string& property, DataFormat format) {
  switch (format) {
    case DataFormat::kJsonl:
      return "/" + property;
    case DataFormat::kParquet:
      return property;
    case DataFormat::kWebDataset:
      return "json:/" + property;
  }
  return property;
}

// Normalizes and checks a field for `format`. JSONL fields are JSON pointers; a bare name
// means the top-level key of that name.
Result<std::string> NormalizeField(const std::string& field, DataFormat format,
                                   const PropertySchema& p) {
  if (field.empty()) return Invalid(StrCat("property '", p.name, "': field must not be empty"));
  std::string out = field;
  std::string pointer;
  if (format == DataFormat::kJsonl) {
    if (out[0] != '/') out = "/" + out;
    pointer = out;
  } else if (format == DataFormat::kWebDataset) {
    size_t colon = out.find(':');
    std::string ext = out.substr(0, colon);
    if (ext.empty() || ext.find('/') != std::string::npos) {
      return Invalid(StrCat("property '", p.name, "': field '", field,
                            "' must be EXT or EXT:POINTER (e.g. json:/category)"));
    }
    if (colon != std::string::npos) {
      pointer = out.substr(colon + 1);
      if (pointer.empty() || pointer[0] != '/') pointer = "/" + pointer;
      out = ext + ":" + pointer;
    }
  } else {
    if (out[0] == '/') out = out.substr(1);
  }
  if (pointer.find("/*") != std::string::npos && p.type != PropertyType::kStringList) {
    return Invalid(StrCat("property '", p.name, "': field '", field,
                          "' uses '*', which only a string_list property may use"));
  }
  return out;
}

// Sets *explicit_field when the declaration names its field.
Result<PropertySchema> ParseProperty(const std::string& name, const YAML::Node& node,
                                     DataFormat format, bool* explicit_field) {
  PropertySchema p;
  p.name = name;
  std::string where = StrCat("property '", name, "'");
  if (!std::regex_match(name, PropertyNamePattern())) {
    return Invalid(StrCat(where, ": a property name must match [A-Za-z_][A-Za-z0-9_]*"));
  }
  if (name == "file_id" || name == "sample_id" || name == "dataset" || name == "split") {
    return Invalid(StrCat(where, ": the name is reserved"));
  }
  bool has_field = false;
  if (node.IsScalar()) {
    MIXTERA_ASSIGN_OR_RETURN(p.type, model::ParsePropertyType(node.Scalar()));
  } else if (node.IsMap()) {
    if (!node["type"]) return Invalid(StrCat(where, ": missing 'type'"));
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      if (key == "type") {
        MIXTERA_ASSIGN_OR_RETURN(std::string t, ScalarString(kv.second, where + ": type"));
        auto type = model::ParsePropertyType(t);
        if (!type.ok()) return type.status().WithContext(where);
        p.type = *type;
      } else if (key == "field") {
        MIXTERA_ASSIGN_OR_RETURN(p.field, ScalarString(kv.second, where + ": field"));
        has_field = true;
      } else if (key == "nullable") {
        MIXTERA_ASSIGN_OR_RETURN(p.nullable, ScalarBool(kv.second, where + ": nullable"));
      } else if (key == "values") {
        MIXTERA_ASSIGN_OR_RETURN(p.enum_values, StringOrList(kv.second, where + ": values"));
      } else if (key == "name") {
        // Allowed in the list form; checked by the caller.
      } else {
        return Invalid(
            StrCat(where, ": unknown key '", key, "' (known keys: type, field, nullable, values)"));
      }
    }
  } else {
    return Invalid(StrCat(where, ": expected a type name or a mapping with 'type'"));
  }
  if (p.type == PropertyType::kEnum) {
    if (p.enum_values.empty()) return Invalid(StrCat(where, ": an enum needs 'values'"));
    std::set<std::string> seen;
    for (const auto& v : p.enum_values) {
      if (!seen.insert(v).second) return Invalid(StrCat(where, ": duplicate enum value '", v, "'"));
    }
  } else if (!p.enum_values.empty()) {
    return Invalid(StrCat(where, ": 'values' is only allowed for type enum"));
  }
  *explicit_field = has_field;
  if (!has_field) p.field = DefaultField(name, format);
  MIXTERA_ASSIGN_OR_RETURN(p.field, NormalizeField(p.field, format, p));
  return p;
}

nlohmann::json SpecToJson(const model::DatasetSpec& spec) {
  nlohmann::json j;
  j["name"] = spec.name;
  j["format"] = std::string(model::DataFormatName(spec.format));
  j["path"] = spec.path_patterns;
  j["text"] = spec.text_fields;
  j["on_error"] = spec.on_error == model::OnError::kSkip ? "skip" : "fail";
  if (!spec.preset.empty()) j["preset"] = spec.preset;
  nlohmann::json props = nlohmann::json::array();
  for (const auto& p : spec.properties) {
    nlohmann::json jp;
    jp["name"] = p.name;
    jp["type"] = std::string(model::PropertyTypeName(p.type));
    jp["field"] = p.field;
    jp["nullable"] = p.nullable;
    if (!p.enum_values.empty()) jp["values"] = p.enum_values;
    props.push_back(std::move(jp));
  }
  j["properties"] = std::move(props);
  return j;
}

}  // namespace

std::vector<std::string> PresetNames() { return {"FINEWEB", "PILE", "RED_PAJAMA", "SLIM_PAJAMA"}; }

Result<std::vector<PropertySchema>> PresetProperties(std::string_view name, DataFormat format) {
  std::vector<PresetProperty> table = PresetTable(name);
  if (table.empty()) {
    return Invalid(
        StrCat("unknown preset '", name, "' (known presets: ", StrJoin(PresetNames(), ", "), ")"));
  }
  std::vector<PropertySchema> out;
  for (auto& entry : table) {
    PropertySchema p = entry.schema;
    switch (format) {
      case DataFormat::kJsonl:
        p.field = entry.pointer;
        break;
      case DataFormat::kParquet:
        p.field = entry.column;
        break;
      case DataFormat::kWebDataset:
        p.field = "json:" + entry.pointer;
        break;
    }
    out.push_back(std::move(p));
  }
  return out;
}

Result<model::DatasetSpec> ParseDatasetSpec(std::string_view text, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Invalid(StrCat("spec is not valid YAML/JSON: ", e.what()));
  }
  if (!root.IsMap()) return Invalid("spec must be a mapping (YAML or JSON object)");
  MIXTERA_RETURN_IF_ERROR(CheckNoDuplicateKeys(root, "spec"));

  static const std::set<std::string> kKnownKeys = {"name",       "format",   "path",  "text",
                                                   "properties", "on_error", "preset"};
  for (const auto& kv : root) {
    std::string key = kv.first.Scalar();
    if (!kKnownKeys.count(key)) {
      return Invalid(
          StrCat("unknown spec key '", key,
                 "' (known keys: name, format, path, text, properties, on_error, preset)"));
    }
  }
  model::DatasetSpec spec;
  if (!root["name"]) return Invalid("spec: missing 'name'");
  MIXTERA_ASSIGN_OR_RETURN(spec.name, ScalarString(root["name"], "name"));
  if (spec.name.empty()) return Invalid("spec: 'name' must not be empty");
  if (Status st = model::ValidateDatasetName(spec.name); !st.ok()) {
    return Invalid(StrCat("spec: 'name': ", st.message()));
  }
  if (!root["format"]) return Invalid("spec: missing 'format' (jsonl, parquet or webdataset)");
  MIXTERA_ASSIGN_OR_RETURN(std::string format, ScalarString(root["format"], "format"));
  MIXTERA_ASSIGN_OR_RETURN(spec.format, model::ParseDataFormat(format));
  if (!root["path"]) return Invalid("spec: missing 'path'");
  MIXTERA_ASSIGN_OR_RETURN(std::vector<std::string> paths, StringOrList(root["path"], "path"));
  for (const auto& p : paths) {
    if (p.empty()) return Invalid("spec: 'path' entries must not be empty");
    std::filesystem::path fp(p);
    spec.path_patterns.push_back(
        (fp.is_absolute() ? fp : std::filesystem::path(base_dir) / fp).lexically_normal().string());
  }
  if (root["text"] && !root["text"].IsNull()) {
    MIXTERA_ASSIGN_OR_RETURN(spec.text_fields, StringOrList(root["text"], "text"));
    for (auto& t : spec.text_fields) {
      if (t.empty()) return Invalid("spec: 'text' entries must not be empty");
      if (spec.format == DataFormat::kJsonl && t[0] != '/') t = "/" + t;
      if (spec.format == DataFormat::kParquet && t[0] == '/') t = t.substr(1);
    }
  }
  if (root["on_error"]) {
    MIXTERA_ASSIGN_OR_RETURN(std::string on_error, ScalarString(root["on_error"], "on_error"));
    if (on_error == "fail") {
      spec.on_error = model::OnError::kFail;
    } else if (on_error == "skip") {
      spec.on_error = model::OnError::kSkip;
    } else {
      return Invalid(StrCat("spec: on_error must be 'fail' or 'skip', got '", on_error, "'"));
    }
  }
  if (root["preset"] && !root["preset"].IsNull()) {
    MIXTERA_ASSIGN_OR_RETURN(spec.preset, ScalarString(root["preset"], "preset"));
    MIXTERA_ASSIGN_OR_RETURN(spec.properties, PresetProperties(spec.preset, spec.format));
  }
  if (YAML::Node props = root["properties"]; props && !props.IsNull()) {
    std::vector<PropertySchema> declared;
    std::vector<bool> explicit_fields;
    if (props.IsMap()) {
      for (const auto& kv : props) {
        bool explicit_field = false;
        MIXTERA_ASSIGN_OR_RETURN(PropertySchema p, ParseProperty(kv.first.Scalar(), kv.second,
                                                                 spec.format, &explicit_field));
        declared.push_back(std::move(p));
        explicit_fields.push_back(explicit_field);
      }
    } else if (props.IsSequence()) {
      for (const auto& item : props) {
        if (!item.IsMap() || !item["name"]) {
          return Invalid("spec: each entry of a 'properties' list needs 'name' and 'type'");
        }
        MIXTERA_ASSIGN_OR_RETURN(std::string name, ScalarString(item["name"], "property name"));
        bool explicit_field = false;
        MIXTERA_ASSIGN_OR_RETURN(PropertySchema p,
                                 ParseProperty(name, item, spec.format, &explicit_field));
        declared.push_back(std::move(p));
        explicit_fields.push_back(explicit_field);
      }
    } else {
      return Invalid("spec: 'properties' must be a mapping (name: {type, field, ...}) or a list");
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < declared.size(); ++i) {
      PropertySchema& p = declared[i];
      if (!seen.insert(p.name).second)
        return Invalid(StrCat("spec: property '", p.name, "' declared twice"));
      bool replaced = false;
      for (auto& existing : spec.properties) {
        if (existing.name == p.name) {  // overrides the preset's declaration
          if (!explicit_fields[i]) p.field = existing.field;
          existing = p;
          replaced = true;
        }
      }
      if (!replaced) spec.properties.push_back(std::move(p));
    }
  }
  spec.normalized_json =
      SpecToJson(spec).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return spec;
}

Result<model::DatasetSpec> ParseDatasetSpecFile(const std::string& path) {
  MIXTERA_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "spec file"));
  std::string dir = std::filesystem::absolute(std::filesystem::path(path)).parent_path().string();
  auto spec = ParseDatasetSpec(text, dir);
  if (!spec.ok()) return spec.status().WithContext(path);
  return spec;
}

}  // namespace mixtera::ingest
