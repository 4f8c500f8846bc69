#include "model/property.h"

#include "base/strings.h"

namespace mixtera::model {

std::string_view PropertyTypeName(PropertyType type) {
  switch (type) {
    case PropertyType::kString:
      return "string";
    case PropertyType::kEnum:
      return "enum";
    case PropertyType::kInt:
      return "int";
    case PropertyType::kFloat:
      return "float";
    case PropertyType::kBool:
      return "bool";
    case PropertyType::kStringList:
      return "string_list";
  }
  return "unknown";
}

Result<PropertyType> ParsePropertyType(std::string_view name) {
  for (auto t : {PropertyType::kString, PropertyType::kEnum, PropertyType::kInt,
                 PropertyType::kFloat, PropertyType::kBool, PropertyType::kStringList}) {
    if (name == PropertyTypeName(t)) return t;
  }
  return Status::InvalidArgument(
      StrCat("unknown property type '", name,
             "' (known types: string, enum, int, float, bool, string_list)"));
}

}  // namespace mixtera::model
