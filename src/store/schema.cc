#include "store/schema.h"

#include <cstring>

#include "base/strings.h"
#include "duckdb/connection.h"

namespace mixtera::store::internal {

std::string CreateSchemaSql() {
  return StrCat(
      "CREATE TABLE meta (key VARCHAR NOT NULL, value BIGINT NOT NULL);\n"
      "INSERT INTO meta VALUES ('schema_version', ",
      kSchemaVersion,
      "), ('store_version', 0), "
      "('next_dataset_id', 1), ('next_file_id', 0);\n"
      "CREATE TABLE datasets (\n"
      "  dataset_id BIGINT NOT NULL,\n"
      "  name VARCHAR NOT NULL,\n"
      "  format VARCHAR NOT NULL,\n"
      "  text_fields VARCHAR[] NOT NULL,\n"
      "  on_error VARCHAR NOT NULL,\n"
      "  spec_json VARCHAR NOT NULL,\n"
      "  num_files BIGINT NOT NULL,\n"
      "  num_samples BIGINT NOT NULL,\n"
      "  num_skipped BIGINT NOT NULL,\n"
      "  total_bytes BIGINT NOT NULL);\n"
      "CREATE TABLE files (\n"
      "  file_id BIGINT NOT NULL,\n"
      "  dataset_id BIGINT NOT NULL,\n"
      "  path VARCHAR NOT NULL,\n"
      "  size_bytes BIGINT NOT NULL,\n"
      "  mtime_ns BIGINT NOT NULL,\n"
      "  compression VARCHAR NOT NULL,\n"
      "  num_records BIGINT NOT NULL,\n"
      "  num_samples BIGINT NOT NULL,\n"
      "  num_skipped BIGINT NOT NULL,\n"
      "  num_seek_points BIGINT NOT NULL);\n"
      "CREATE TABLE properties (\n"
      "  dataset_id BIGINT NOT NULL,\n"
      "  position INTEGER NOT NULL,\n"
      "  name VARCHAR NOT NULL,\n"
      "  type VARCHAR NOT NULL,\n"
      "  nullable BOOLEAN NOT NULL,\n"
      "  enum_values VARCHAR[] NOT NULL,\n"
      "  field VARCHAR NOT NULL);\n"
      "CREATE TABLE dictionary (\n"
      "  property VARCHAR NOT NULL,\n"
      "  code INTEGER NOT NULL,\n"
      "  value VARCHAR NOT NULL);\n",
      CreateSamplesViewSql({}), ";\n");
}

std::string SamplesTableName(int64_t dataset_id) { return StrCat("samples_", dataset_id); }

std::string_view ColumnTypeSql(model::PropertyType type) {
  switch (type) {
    case model::PropertyType::kString:
    case model::PropertyType::kEnum:
      return "INTEGER";
    case model::PropertyType::kInt:
      return "BIGINT";
    case model::PropertyType::kFloat:
      return "DOUBLE";
    case model::PropertyType::kBool:
      return "BOOLEAN";
    case model::PropertyType::kStringList:
      return "INTEGER[]";
  }
  return "INTEGER";
}

std::string CreateSamplesTableSql(int64_t dataset_id,
                                  const std::vector<model::PropertySchema>& properties) {
  std::string sql = StrCat("CREATE TABLE ", SamplesTableName(dataset_id),
                           " (file_id BIGINT NOT NULL, sample_id BIGINT NOT NULL");
  for (const auto& p : properties) {
    sql += StrCat(", ", duckdb::QuoteIdentifier(p.name), " ", ColumnTypeSql(p.type));
  }
  sql += ")";
  return sql;
}

bool IsDictionaryEncoded(model::PropertyType type) {
  return type == model::PropertyType::kString || type == model::PropertyType::kEnum ||
         type == model::PropertyType::kStringList;
}

std::string CreateSamplesViewSql(const std::vector<ViewDataset>& datasets) {
  if (datasets.empty()) {
    return "CREATE OR REPLACE VIEW samples AS SELECT NULL::BIGINT AS file_id, "
           "NULL::BIGINT AS sample_id, NULL::VARCHAR AS dataset WHERE false";
  }
  std::string sql = "CREATE OR REPLACE VIEW samples AS ";
  for (size_t i = 0; i < datasets.size(); ++i) {
    const ViewDataset& d = datasets[i];
    if (i > 0) sql += " UNION ALL BY NAME ";
    // Each dictionary-encoded property joins the (one-row) list of its dictionary's values,
    // indexed by code + 1.
    std::string select = StrCat("SELECT s.file_id, s.sample_id, ", duckdb::QuoteLiteral(d.name),
                                "::VARCHAR AS dataset");
    std::string from = StrCat(" FROM ", SamplesTableName(d.dataset_id), " s");
    for (size_t k = 0; k < d.properties.size(); ++k) {
      const auto& [name, type] = d.properties[k];
      std::string col = StrCat("s.", duckdb::QuoteIdentifier(name));
      if (!IsDictionaryEncoded(type)) {
        select += StrCat(", ", col);
        continue;
      }
      std::string alias = StrCat("d", k);
      from += StrCat(
          " CROSS JOIN (SELECT coalesce(list(value ORDER BY code), []::VARCHAR[]) AS v "
          "FROM dictionary WHERE property = ",
          duckdb::QuoteLiteral(name), ") ", alias);
      if (type == model::PropertyType::kStringList) {
        select += StrCat(", list_transform(", col, ", x -> ", alias, ".v[x + 1]) AS ",
                         duckdb::QuoteIdentifier(name));
      } else {
        select += StrCat(", ", alias, ".v[", col, " + 1] AS ", duckdb::QuoteIdentifier(name));
      }
    }
    sql += select + from;
  }
  return sql;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status ValidatePropertyName(std::string_view name) {
  auto is_start = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  };
  bool ok = !name.empty() && is_start(name[0]);
  for (size_t i = 1; ok && i < name.size(); ++i)
    ok = is_start(name[i]) || (name[i] >= '0' && name[i] <= '9');
  if (!ok) {
    return Status::InvalidArgument(StrCat("invalid property name ", JsonQuote(name),
                                          ": names must match [A-Za-z_][A-Za-z0-9_]*"));
  }
  std::string lower = Lower(name);
  for (const char* reserved : {"file_id", "sample_id", "dataset", "split"}) {
    if (lower == reserved) {
      return Status::InvalidArgument(StrCat("property name '", name,
                                            "' is reserved (file_id, sample_id, dataset and "
                                            "split are built-in columns)"));
    }
  }
  return Status::OK();
}

}  // namespace mixtera::store::internal
