// Property declarations: the typed per-sample metadata a dataset spec extracts
// (DESIGN.md §3.1). Properties are global by name across datasets: one name, one type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mixtera/result.h"

namespace mixtera::model {

// Serialized into the store schema, hence the explicit underlying type.
enum class PropertyType : uint8_t {
  kString = 0,
  kEnum = 1,   // a string restricted to `enum_values`
  kInt = 2,    // int64
  kFloat = 3,  // double
  kBool = 4,
  kStringList = 5,  // a list of strings; a scalar string is wrapped into a one-element list
};

// "string", "enum", "int", "float", "bool", "string_list".
std::string_view PropertyTypeName(PropertyType type);

// Parses the names above. Errors: InvalidArgument naming the known types.
Result<PropertyType> ParsePropertyType(std::string_view name);

// One property as a dataset declares it.
struct PropertySchema {
  std::string name;
  PropertyType type = PropertyType::kString;
  // When false, a missing field or JSON null is an error for the record.
  bool nullable = false;
  // Allowed values for kEnum, in declaration order; empty otherwise.
  std::vector<std::string> enum_values;
  // Where the value comes from, in the dataset format's syntax:
  //   jsonl:      a JSON pointer ("/meta/lang"; "*" segments collect every array element);
  //   parquet:    a column name;
  //   webdataset: "EXT:POINTER" (JSON pointer into the sample's .EXT member) or "EXT"
  //               (the member's whole content as text).
  std::string field;
};

}  // namespace mixtera::model
