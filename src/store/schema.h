// The SQL of the metadata schema (docs/store_schema.md) and the helpers that build the
// per-dataset parts of it. Private to the store module.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mixtera/status.h"
#include "model/property.h"

namespace mixtera::store::internal {

// The schema version this code reads and writes (meta.schema_version).
inline constexpr int64_t kSchemaVersion = 2;

// Creates the fixed tables, the meta rows and the empty `samples` view of a new store.
std::string CreateSchemaSql();

// "samples_<id>".
std::string SamplesTableName(int64_t dataset_id);

// The DuckDB column type of a property type in a samples table: strings are stored as codes
// of the property's dictionary (INTEGER, INTEGER[] for string_list); BIGINT, DOUBLE, BOOLEAN.
std::string_view ColumnTypeSql(model::PropertyType type);

// CREATE TABLE samples_<id> (file_id, sample_id, one quoted column per property).
std::string CreateSamplesTableSql(int64_t dataset_id,
                                  const std::vector<model::PropertySchema>& properties);

// A registered dataset as the view needs it.
struct ViewDataset {
  int64_t dataset_id;
  std::string name;
  std::vector<std::pair<std::string, model::PropertyType>> properties;
};

// CREATE OR REPLACE VIEW samples over the given datasets, in the given order: dataset,
// file_id, sample_id and every property, with dictionary codes decoded back to strings; an
// empty view with file_id, sample_id and dataset when there are none.
std::string CreateSamplesViewSql(const std::vector<ViewDataset>& datasets);

// True for the property types stored as dictionary codes.
bool IsDictionaryEncoded(model::PropertyType type);

// Checks a property name: [A-Za-z_][A-Za-z0-9_]*, not a reserved column name (file_id,
// sample_id, dataset, split; compared case-insensitively as DuckDB does).
// Errors: InvalidArgument naming the property.
Status ValidatePropertyName(std::string_view name);

// ASCII lower case (DuckDB compares identifiers case-insensitively).
std::string Lower(std::string_view s);

}  // namespace mixtera::store::internal
