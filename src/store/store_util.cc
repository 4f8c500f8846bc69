#include "store/store_util.h"

#include "base/strings.h"
#include "store/schema.h"

namespace mixtera::store::internal {

using duckdb::Appender;
using duckdb::QueryResult;
using model::PropertyType;

std::string_view OnErrorName(model::OnError on_error) {
  return on_error == model::OnError::kSkip ? "skip" : "fail";
}

Result<model::OnError> ParseOnError(std::string_view name) {
  if (name == "fail") return model::OnError::kFail;
  if (name == "skip") return model::OnError::kSkip;
  return Status::Corruption(StrCat("store: unknown on_error '", name, "'"));
}

Result<model::Compression> ParseCompression(std::string_view name) {
  for (auto c : {model::Compression::kNone, model::Compression::kGzip, model::Compression::kZstd,
                 model::Compression::kXz, model::Compression::kBzip2}) {
    if (model::CompressionName(c) == name) return c;
  }
  return Status::Corruption(StrCat("store: unknown compression '", name, "'"));
}

std::vector<std::string> ReadStringList(const QueryResult& r, int col, int64_t row) {
  std::vector<std::string> out;
  if (r.IsNull(col, row)) return out;
  int64_t n = r.ListSize(col, row);
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) out.emplace_back(r.GetListString(col, row, i));
  return out;
}

void SetStringList(Appender& app, int col, int64_t row, const std::vector<std::string>& items) {
  app.BeginList(col, row);
  for (const auto& item : items) app.AppendListItem(col, item);
}

Status RecreateSamplesView(duckdb::Connection& conn, int64_t without_dataset_id) {
  MIXTERA_ASSIGN_OR_RETURN(QueryResult r,
                           conn.Query("SELECT d.dataset_id, d.name, p.name, p.type FROM datasets d "
                                      "LEFT JOIN properties p USING (dataset_id) "
                                      "ORDER BY d.dataset_id, p.position"));
  std::vector<ViewDataset> datasets;
  MIXTERA_RETURN_IF_ERROR(ForEachRow(r, [&](const QueryResult& q, int64_t row) -> Status {
    int64_t id = q.GetInt64(0, row);
    if (id == without_dataset_id) return Status::OK();
    if (datasets.empty() || datasets.back().dataset_id != id) {
      datasets.push_back({id, std::string(q.GetString(1, row)), {}});
    }
    if (!q.IsNull(2, row)) {
      MIXTERA_ASSIGN_OR_RETURN(PropertyType type, model::ParsePropertyType(q.GetString(3, row)));
      datasets.back().properties.emplace_back(std::string(q.GetString(2, row)), type);
    }
    return Status::OK();
  }));
  return conn.Execute(CreateSamplesViewSql(datasets));
}

}  // namespace mixtera::store::internal
