// Extraction of typed property values from records, with the coercion rules of
// DESIGN.md §3.1: no silent coercion (a JSON string for an int, an integral float for an
// int, 0/1 for a bool are errors); a scalar string for a string_list becomes a one-element
// list; JSON null or a missing field is "missing", an error unless the property is nullable;
// an enum value must be one of the declared values.
//
// Thread safety: an extractor is immutable after Make(); Extract*() may be called from many
// threads concurrently (each with its own parser and batch).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>
#include <vector>

#include "mixtera/result.h"
#include "model/property.h"
#include "model/sample_batch.h"

namespace mixtera::ingest {

// A parsed JSON pointer. "*" segments stand for every element of an array.
struct JsonPath {
  std::vector<std::string> segments;
  bool has_wildcard = false;
  // Parses "/a/b/*/c" (RFC 6901 escapes ~0 and ~1). "" is the whole document.
  static Result<JsonPath> Parse(std::string_view pointer);
};

// A property value produced outside JSON (e.g. by a Python parser callable).
using LooseValue = std::variant<std::monostate,  // missing / null
                                int64_t, double, bool, std::string, std::vector<std::string>>;

// Checks and appends property values to a column.
class PropertyChecker {
 public:
  explicit PropertyChecker(model::PropertySchema schema);

  const model::PropertySchema& schema() const { return schema_; }

  // Appends the JSON value `value` (nullptr when the field is missing). On error nothing is
  // appended and the status (InvalidArgument) describes the problem without location.
  Status AppendJson(const simdjson::dom::element* value, model::PropertyColumn* column) const;
  // Appends the values collected through a wildcard path (string_list only).
  Status AppendJsonList(const std::vector<simdjson::dom::element>& values, bool found,
                        model::PropertyColumn* column) const;
  // Appends a value from a loose source (same rules; a Python int is an int, not a float).
  Status AppendLoose(const LooseValue& value, model::PropertyColumn* column) const;
  // Appends a raw text value (a WebDataset member's content): parsed strictly per type
  // (int: optional sign and digits; float: a number; bool: true/false; strings as-is,
  // with surrounding whitespace trimmed).
  Status AppendText(std::string_view text, model::PropertyColumn* column) const;

 private:
  Status Missing(model::PropertyColumn* column) const;
  // Appends `items` (JSON values) as one list; every item must be a string (JSON nulls are
  // left out when `skip_nulls`). On error the column is unchanged.
  template <typename Items>
  Status AppendStringItems(const Items& items, bool skip_nulls,
                           model::PropertyColumn* column) const;
  Status CheckEnum(std::string_view v) const;

  model::PropertySchema schema_;
  std::unordered_set<std::string> enum_values_;
};

// Extracts all declared properties of a dataset from JSON documents.
class JsonPropertyExtractor {
 public:
  // `pointers[i]` is the JSON pointer of properties[i]. Errors: InvalidArgument.
  static Result<JsonPropertyExtractor> Make(const std::vector<model::PropertySchema>& properties,
                                            const std::vector<std::string>& pointers,
                                            const std::vector<std::string>& text_pointers);

  // Appends one value per property to `batch->columns` (not the sample id). On error the
  // columns are unchanged (partial rows are rolled back) and the status names the property.
  Status Extract(const simdjson::dom::element& doc, model::SampleBatch* batch) const;

  // Checks that every text pointer resolves to a string. Errors: InvalidArgument.
  Status CheckText(const simdjson::dom::element& doc) const;

  size_t num_properties() const { return checkers_.size(); }

 private:
  std::vector<PropertyChecker> checkers_;
  std::vector<JsonPath> paths_;
  std::vector<JsonPath> text_paths_;
  std::vector<std::string> text_pointers_;
};

// Resolves `path` in `doc`. Returns nullopt when some segment is missing.
std::optional<simdjson::dom::element> ResolveJsonPath(const simdjson::dom::element& doc,
                                                      const JsonPath& path);

// Collects the values `path` reaches in `doc`, expanding "*" segments over arrays. Sets
// *found when the path exists (an empty array counts as found).
void CollectJsonPath(const simdjson::dom::element& doc, const JsonPath& path,
                     std::vector<simdjson::dom::element>* out, bool* found);

// Short description of a JSON value for messages: `string "abc"`, `float 3.0`, ...
std::string DescribeJson(const simdjson::dom::element& value);

}  // namespace mixtera::ingest
