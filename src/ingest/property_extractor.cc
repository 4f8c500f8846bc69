#include "ingest/property_extractor.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "base/macros.h"
#include "base/strings.h"

namespace mixtera::ingest {
namespace {

using model::PropertyColumn;
using model::PropertyType;
using simdjson::dom::element;
using simdjson::dom::element_type;

std::string Truncated(std::string_view s) {
  if (s.size() <= 40) return std::string(s);
  size_t cut = 37;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;  // not mid-character
  return std::string(s.substr(0, cut)) + "...";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::strchr(" \t\r\n", s.front())) s.remove_prefix(1);
  while (!s.empty() && std::strchr(" \t\r\n", s.back())) s.remove_suffix(1);
  return s;
}

// Collects the values reached by a path with wildcards, starting at segment `i`.
void CollectWildcard(const element& node, const JsonPath& path, size_t i, std::vector<element>* out,
                     bool* found) {
  if (i == path.segments.size()) {
    *found = true;
    out->push_back(node);
    return;
  }
  const std::string& seg = path.segments[i];
  if (seg == "*") {
    simdjson::dom::array arr;
    if (node.get_array().get(arr) != simdjson::SUCCESS) return;
    *found = true;  // an empty array is a found, empty list
    for (element child : arr) CollectWildcard(child, path, i + 1, out, found);
    return;
  }
  simdjson::dom::object obj;
  if (node.get_object().get(obj) == simdjson::SUCCESS) {
    element child;
    if (obj.at_key(seg).get(child) == simdjson::SUCCESS)
      CollectWildcard(child, path, i + 1, out, found);
    return;
  }
  simdjson::dom::array arr;
  if (node.get_array().get(arr) == simdjson::SUCCESS) {
    size_t index = 0;
    auto [ptr, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), index);
    if (ec != std::errc() || ptr != seg.data() + seg.size()) return;
    element child;
    if (arr.at(index).get(child) == simdjson::SUCCESS)
      CollectWildcard(child, path, i + 1, out, found);
  }
}

}  // namespace

void CollectJsonPath(const element& doc, const JsonPath& path, std::vector<element>* out,
                     bool* found) {
  CollectWildcard(doc, path, 0, out, found);
}

Result<JsonPath> JsonPath::Parse(std::string_view pointer) {
  JsonPath path;
  if (pointer.empty()) return path;
  if (pointer[0] != '/') {
    return Status::InvalidArgument(StrCat("JSON pointer '", pointer, "' must start with '/'"));
  }
  size_t pos = 1;
  for (;;) {
    size_t slash = pointer.find('/', pos);
    std::string_view raw =
        pointer.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    std::string seg;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~') {
        if (i + 1 < raw.size() && raw[i + 1] == '0') {
          seg += '~';
        } else if (i + 1 < raw.size() && raw[i + 1] == '1') {
          seg += '/';
        } else {
          return Status::InvalidArgument(StrCat("JSON pointer '", pointer, "': bad '~' escape"));
        }
        ++i;
      } else {
        seg += raw[i];
      }
    }
    if (seg == "*") path.has_wildcard = true;
    path.segments.push_back(std::move(seg));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return path;
}

std::optional<element> ResolveJsonPath(const element& doc, const JsonPath& path) {
  element node = doc;
  for (const std::string& seg : path.segments) {
    simdjson::dom::object obj;
    if (node.get_object().get(obj) == simdjson::SUCCESS) {
      if (obj.at_key(seg).get(node) != simdjson::SUCCESS) return std::nullopt;
      continue;
    }
    simdjson::dom::array arr;
    if (node.get_array().get(arr) == simdjson::SUCCESS) {
      size_t index = 0;
      auto [ptr, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), index);
      if (ec != std::errc() || ptr != seg.data() + seg.size()) return std::nullopt;
      if (arr.at(index).get(node) != simdjson::SUCCESS) return std::nullopt;
      continue;
    }
    return std::nullopt;
  }
  return node;
}

std::string DescribeJson(const element& value) {
  switch (value.type()) {
    case element_type::STRING: {
      std::string_view s;
      if (value.get_string().get(s) != simdjson::SUCCESS) return "string";
      return StrCat("string ", JsonQuote(Truncated(s)));
    }
    case element_type::INT64:
      return StrCat("integer ", int64_t(value));
    case element_type::UINT64:
      return StrCat("integer ", uint64_t(value));
    case element_type::DOUBLE: {
      double d = double(value);
      std::string text = simdjson::minify(value);
      return StrCat("float ", text.empty() ? std::to_string(d) : text);
    }
    case element_type::BOOL:
      return StrCat("boolean ", bool(value) ? "true" : "false");
    case element_type::NULL_VALUE:
      return "null";
    case element_type::ARRAY:
      return "array";
    case element_type::OBJECT:
      return "object";
  }
  return "value";
}

PropertyChecker::PropertyChecker(model::PropertySchema schema) : schema_(std::move(schema)) {
  for (const auto& v : schema_.enum_values) enum_values_.insert(v);
}

Status PropertyChecker::Missing(PropertyColumn* column) const {
  if (!schema_.nullable) {
    return Status::InvalidArgument(
        StrCat("property '", schema_.name, "' is missing or null and not nullable"));
  }
  column->AppendNull();
  return Status::OK();
}

Status PropertyChecker::CheckEnum(std::string_view v) const {
  if (schema_.type == PropertyType::kEnum && !enum_values_.count(std::string(v))) {
    return Status::InvalidArgument(
        StrCat("property '", schema_.name, "': value ", JsonQuote(Truncated(v)),
               " is not one of the enum values [", StrJoin(schema_.enum_values, ", "), "]"));
  }
  return Status::OK();
}

Status PropertyChecker::AppendJson(const element* value, PropertyColumn* column) const {
  if (value == nullptr || value->is_null()) return Missing(column);
  auto wrong = [&](std::string_view expected) {
    return Status::InvalidArgument(StrCat("property '", schema_.name, "' (",
                                          model::PropertyTypeName(schema_.type), "): expected ",
                                          expected, ", got ", DescribeJson(*value)));
  };
  switch (schema_.type) {
    case PropertyType::kString:
    case PropertyType::kEnum: {
      std::string_view s;
      if (value->get_string().get(s) != simdjson::SUCCESS) return wrong("a string");
      MIXTERA_RETURN_IF_ERROR(CheckEnum(s));
      column->AppendString(s);
      return Status::OK();
    }
    case PropertyType::kInt: {
      if (value->type() == element_type::INT64) {
        column->AppendInt(int64_t(*value));
        return Status::OK();
      }
      if (value->type() == element_type::UINT64) return wrong("an integer within int64");
      return wrong("an integer");
    }
    case PropertyType::kFloat: {
      switch (value->type()) {
        case element_type::DOUBLE:
          column->AppendFloat(double(*value));
          return Status::OK();
        case element_type::INT64:
          column->AppendFloat(static_cast<double>(int64_t(*value)));
          return Status::OK();
        case element_type::UINT64:
          column->AppendFloat(static_cast<double>(uint64_t(*value)));
          return Status::OK();
        default:
          return wrong("a number");
      }
    }
    case PropertyType::kBool: {
      if (value->type() != element_type::BOOL) return wrong("true or false");
      column->AppendBool(bool(*value));
      return Status::OK();
    }
    case PropertyType::kStringList: {
      std::string_view s;
      if (value->get_string().get(s) == simdjson::SUCCESS) {
        column->BeginList();
        column->AppendListItem(s);
        column->EndList();
        return Status::OK();
      }
      simdjson::dom::array arr;
      if (value->get_array().get(arr) != simdjson::SUCCESS)
        return wrong("a string or a list of strings");
      return AppendStringItems(arr, /*skip_nulls=*/false, column);
    }
  }
  return Status::Internal("unknown property type");
}

Status PropertyChecker::AppendJsonList(const std::vector<element>& values, bool found,
                                       PropertyColumn* column) const {
  if (!found) return Missing(column);
  return AppendStringItems(values, /*skip_nulls=*/true, column);
}

template <typename Items>
Status PropertyChecker::AppendStringItems(const Items& items, bool skip_nulls,
                                          PropertyColumn* column) const {
  const size_t rollback = column->size();
  column->BeginList();
  for (element item : items) {
    if (skip_nulls && item.is_null()) continue;
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) {
      column->TruncateTo(rollback);
      return Status::InvalidArgument(StrCat("property '", schema_.name,
                                            "' (string_list): list items must be strings, got ",
                                            DescribeJson(item)));
    }
    column->AppendListItem(s);
  }
  column->EndList();
  return Status::OK();
}

Status PropertyChecker::AppendLoose(const LooseValue& value, PropertyColumn* column) const {
  if (std::holds_alternative<std::monostate>(value)) return Missing(column);
  auto wrong = [&](std::string_view expected, std::string_view got) {
    return Status::InvalidArgument(StrCat("property '", schema_.name, "' (",
                                          model::PropertyTypeName(schema_.type), "): expected ",
                                          expected, ", got ", got));
  };
  const char* got = std::holds_alternative<int64_t>(value)       ? "an integer"
                    : std::holds_alternative<double>(value)      ? "a float"
                    : std::holds_alternative<bool>(value)        ? "a boolean"
                    : std::holds_alternative<std::string>(value) ? "a string"
                                                                 : "a list";
  switch (schema_.type) {
    case PropertyType::kString:
    case PropertyType::kEnum: {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr) return wrong("a string", got);
      MIXTERA_RETURN_IF_ERROR(CheckEnum(*s));
      column->AppendString(*s);
      return Status::OK();
    }
    case PropertyType::kInt: {
      const auto* v = std::get_if<int64_t>(&value);
      if (v == nullptr) return wrong("an integer", got);
      column->AppendInt(*v);
      return Status::OK();
    }
    case PropertyType::kFloat: {
      if (const auto* d = std::get_if<double>(&value)) {
        column->AppendFloat(*d);
      } else if (const auto* i = std::get_if<int64_t>(&value)) {
        column->AppendFloat(static_cast<double>(*i));
      } else {
        return wrong("a number", got);
      }
      return Status::OK();
    }
    case PropertyType::kBool: {
      const auto* b = std::get_if<bool>(&value);
      if (b == nullptr) return wrong("True or False", got);
      column->AppendBool(*b);
      return Status::OK();
    }
    case PropertyType::kStringList: {
      column->BeginList();
      if (const auto* s = std::get_if<std::string>(&value)) {
        column->AppendListItem(*s);
      } else if (const auto* l = std::get_if<std::vector<std::string>>(&value)) {
        for (const auto& item : *l) column->AppendListItem(item);
      } else {
        column->TruncateTo(column->size());
        return wrong("a string or a list of strings", got);
      }
      column->EndList();
      return Status::OK();
    }
  }
  return Status::Internal("unknown property type");
}

Status PropertyChecker::AppendText(std::string_view raw, PropertyColumn* column) const {
  std::string_view text = Trim(raw);
  if (!IsValidUtf8(text)) {
    return Status::InvalidArgument(
        StrCat("property '", schema_.name, "': the member's text is not valid UTF-8"));
  }
  auto wrong = [&](std::string_view expected) {
    return Status::InvalidArgument(StrCat("property '", schema_.name, "' (",
                                          model::PropertyTypeName(schema_.type), "): expected ",
                                          expected, ", got text ", JsonQuote(Truncated(text))));
  };
  switch (schema_.type) {
    case PropertyType::kString:
    case PropertyType::kEnum:
      MIXTERA_RETURN_IF_ERROR(CheckEnum(text));
      column->AppendString(text);
      return Status::OK();
    case PropertyType::kStringList:
      column->BeginList();
      column->AppendListItem(text);
      column->EndList();
      return Status::OK();
    case PropertyType::kInt: {
      int64_t v = 0;
      const char* begin = text.data() + (!text.empty() && text[0] == '+' ? 1 : 0);
      auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), v);
      if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
        return wrong("an integer");
      column->AppendInt(v);
      return Status::OK();
    }
    case PropertyType::kFloat: {
      std::string copy(text);
      char* end = nullptr;
      double v = std::strtod(copy.c_str(), &end);
      if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(v))
        return wrong("a number");
      column->AppendFloat(v);
      return Status::OK();
    }
    case PropertyType::kBool:
      if (text == "true") {
        column->AppendBool(true);
      } else if (text == "false") {
        column->AppendBool(false);
      } else {
        return wrong("true or false");
      }
      return Status::OK();
  }
  return Status::Internal("unknown property type");
}

Result<JsonPropertyExtractor> JsonPropertyExtractor::Make(
    const std::vector<model::PropertySchema>& properties, const std::vector<std::string>& pointers,
    const std::vector<std::string>& text_pointers) {
  JsonPropertyExtractor out;
  for (size_t i = 0; i < properties.size(); ++i) {
    out.checkers_.emplace_back(properties[i]);
    auto path = JsonPath::Parse(pointers[i]);
    if (!path.ok()) return path.status().WithContext(StrCat("property '", properties[i].name, "'"));
    out.paths_.push_back(std::move(*path));
  }
  for (const auto& t : text_pointers) {
    MIXTERA_ASSIGN_OR_RETURN(JsonPath path, JsonPath::Parse(t));
    out.text_paths_.push_back(std::move(path));
    out.text_pointers_.push_back(t);
  }
  return out;
}

Status JsonPropertyExtractor::Extract(const element& doc, model::SampleBatch* batch) const {
  for (size_t i = 0; i < checkers_.size(); ++i) {
    model::PropertyColumn* column = &batch->columns[i];
    Status st;
    if (paths_[i].has_wildcard) {
      std::vector<element> values;
      bool found = false;
      CollectWildcard(doc, paths_[i], 0, &values, &found);
      st = checkers_[i].AppendJsonList(values, found, column);
    } else {
      std::optional<element> value = ResolveJsonPath(doc, paths_[i]);
      st = checkers_[i].AppendJson(value ? &*value : nullptr, column);
    }
    if (!st.ok()) {
      size_t row = batch->num_rows();
      for (size_t j = 0; j <= i; ++j) batch->columns[j].TruncateTo(row);
      return st;
    }
  }
  return Status::OK();
}

Status JsonPropertyExtractor::CheckText(const element& doc) const {
  for (size_t i = 0; i < text_paths_.size(); ++i) {
    std::optional<element> value = ResolveJsonPath(doc, text_paths_[i]);
    if (!value) {
      return Status::InvalidArgument(StrCat("text field '", text_pointers_[i], "' is missing"));
    }
    if (!value->is_string()) {
      return Status::InvalidArgument(StrCat("text field '", text_pointers_[i],
                                            "' must be a string, got ", DescribeJson(*value)));
    }
  }
  return Status::OK();
}

}  // namespace mixtera::ingest
