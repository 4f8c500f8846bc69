#include "store/metadata_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <utility>

#include "base/macros.h"
#include "base/strings.h"
#include "duckdb/connection.h"
#include "store/dataset_writer.h"
#include "store/schema.h"
#include "store/store_util.h"

namespace mixtera::store {

namespace {

using duckdb::Connection;
using duckdb::QueryResult;
using internal::ForEachRow;
using internal::ParseCompression;
using internal::ParseOnError;
using internal::ReadStringList;
using model::PropertyType;

// A property as already declared by a committed dataset.
struct DeclaredProperty {
  std::string name;
  PropertyType type;
  std::string first_dataset;
};

class MetadataStoreImpl final : public MetadataStore {
 public:
  MetadataStoreImpl(duckdb::Database db, Connection conn)
      : db_(std::move(db)), conn_(std::move(conn)) {}

  // Creates the schema in a new database file, or checks an existing one's. `file_existed`:
  // whether the file held data before DuckDB opened it (a fresh file needs no checks).
  Status Init(bool file_existed);

  Result<std::unique_ptr<DatasetWriter>> BeginDataset(const model::DatasetSpec& spec) override;
  Result<std::vector<model::DatasetInfo>> ListDatasets() override;
  Result<model::DatasetInfo> GetDataset(const std::string& name) override;
  Result<std::vector<model::FileRecord>> ListFiles(const std::string& dataset_name) override;
  Result<std::vector<uint32_t>> ListSampleIds(const std::string& dataset_name,
                                              int64_t file_id) override;
  Status RemoveDataset(const std::string& name) override;
  Result<std::vector<GlobalProperty>> ListProperties() override;
  Result<int64_t> Version() override { return conn_.QueryInt64(MetaSql("store_version")); }
  duckdb::Connection& connection() override { return conn_; }
  Result<int64_t> CountSamples() override {
    return conn_.QueryInt64("SELECT count(*) FROM samples");
  }

  void WriterDone() { writer_active_ = false; }
  bool created() const override { return created_; }

  static std::string MetaSql(std::string_view key) {
    return StrCat("SELECT value FROM meta WHERE key = '", key, "'");
  }

 private:
  Status CheckSpec(const model::DatasetSpec& spec);
  Status DropOrphanTables();
  // Datasets ordered by name, optionally only the one called `name`.
  Result<std::vector<model::DatasetInfo>> LoadDatasets(const std::string* name);
  Result<int64_t> DatasetId(const std::string& name);

  duckdb::Database db_;
  Connection conn_;  // reads and removals; the writer has its own connection
  bool writer_active_ = false;
  bool created_ = false;
};

Status MetadataStoreImpl::Init(bool file_existed) {
  if (file_existed) {
    // A Mixtera store answers this at once; only other files need the catalog queries below
    // (which cost DuckDB its default catalog entries, ~10 ms each).
    auto version = conn_.QueryInt64(MetaSql("schema_version"));
    if (version.ok()) {
      if (*version != internal::kSchemaVersion) {
        return Status::Corruption(StrCat("unsupported store schema version ", *version,
                                         " (this build reads version ", internal::kSchemaVersion,
                                         ")"));
      }
      return Status::OK();
    }
    MIXTERA_ASSIGN_OR_RETURN(
        int64_t has_meta,
        conn_.QueryInt64("SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                         "current_database() AND schema_name = 'main' AND table_name = 'meta'"));
    if (has_meta > 0) {
      return Status::Corruption(
          StrCat("not a Mixtera store: no schema version (", version.status().message(), ")"));
    }
    MIXTERA_ASSIGN_OR_RETURN(
        int64_t tables,
        conn_.QueryInt64("SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                         "current_database()"));
    if (tables > 0) {
      return Status::Corruption("not a Mixtera store: the database has tables but no 'meta'");
    }
  }
  MIXTERA_RETURN_IF_ERROR(conn_.Begin());
  // No PRIMARY KEY / UNIQUE constraints: the store enforces uniqueness itself (dataset
  // names in BeginDataset, ids from the meta counters), and DuckDB's indexes would make
  // every open and commit slower.
  Status st = conn_.Execute(internal::CreateSchemaSql());
  if (st.ok()) st = conn_.Commit();
  if (!st.ok()) {
    (void)conn_.Rollback();
    return st.WithContext("creating the store schema");
  }
  created_ = true;
  return Status::OK();
}

Status MetadataStoreImpl::DropOrphanTables() {
  // A registration that crashed before Commit() leaves its samples table behind (invisible
  // to readers, which only scan the tables of listed datasets). Called before a new
  // registration, not at every open.
  MIXTERA_ASSIGN_OR_RETURN(
      QueryResult r,
      conn_.Query("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                  "AND schema_name = 'main' AND table_name LIKE 'samples\\_%' ESCAPE '\\' AND "
                  "table_name NOT IN (SELECT 'samples_' || dataset_id FROM datasets)"));
  std::vector<std::string> orphans;
  MIXTERA_RETURN_IF_ERROR(ForEachRow(r, [&](const QueryResult& q, int64_t row) -> Status {
    orphans.emplace_back(q.GetString(0, row));
    return Status::OK();
  }));
  for (const auto& t : orphans) {
    MIXTERA_RETURN_IF_ERROR(
        conn_.Execute(StrCat("DROP TABLE IF EXISTS ", duckdb::QuoteIdentifier(t))));
  }
  return Status::OK();
}

Status MetadataStoreImpl::CheckSpec(const model::DatasetSpec& spec) {
  if (spec.name.empty()) return Status::InvalidArgument("dataset name is empty");
  std::map<std::string, std::string> seen;  // lower-case name -> name
  for (const auto& p : spec.properties) {
    MIXTERA_RETURN_IF_ERROR(internal::ValidatePropertyName(p.name));
    auto [it, inserted] = seen.emplace(internal::Lower(p.name), p.name);
    if (!inserted) {
      return Status::InvalidArgument(StrCat("dataset '", spec.name, "' declares property '", p.name,
                                            "' twice (names are case-insensitive: '", it->second,
                                            "')"));
    }
    if (p.type == PropertyType::kEnum && p.enum_values.empty()) {
      return Status::InvalidArgument(
          StrCat("enum property '", p.name, "' of dataset '", spec.name, "' lists no values"));
    }
  }
  return Status::OK();
}

Result<int64_t> MetadataStoreImpl::DatasetId(const std::string& name) {
  MIXTERA_ASSIGN_OR_RETURN(auto stmt,
                           conn_.Prepare("SELECT dataset_id FROM datasets WHERE name = ?"));
  MIXTERA_RETURN_IF_ERROR(stmt.BindString(1, name));
  MIXTERA_ASSIGN_OR_RETURN(QueryResult r, stmt.Execute());
  MIXTERA_ASSIGN_OR_RETURN(bool more, r.NextChunk());
  if (!more) return Status::NotFound(StrCat("dataset '", name, "' not found"));
  return r.GetInt64(0, 0);
}

Result<std::unique_ptr<DatasetWriter>> MetadataStoreImpl::BeginDataset(
    const model::DatasetSpec& spec) {
  if (writer_active_) {
    return Status::FailedPrecondition("another dataset registration is in progress");
  }
  MIXTERA_RETURN_IF_ERROR(model::ValidateDatasetName(spec.name));
  MIXTERA_RETURN_IF_ERROR(CheckSpec(spec));
  auto existing = DatasetId(spec.name);
  if (existing.ok()) {
    return Status::AlreadyExists(StrCat("dataset '", spec.name, "' already exists"));
  }
  if (!existing.status().IsNotFound()) return existing.status();

  // Properties are global by name: the first dataset (lowest id) that declared a name fixes
  // its type and spelling.
  MIXTERA_ASSIGN_OR_RETURN(
      QueryResult declared,
      conn_.Query("SELECT p.name, p.type, d.name FROM properties p JOIN datasets d "
                  "USING (dataset_id) ORDER BY p.dataset_id, p.position"));
  std::map<std::string, DeclaredProperty> global;  // by lower-case name
  MIXTERA_RETURN_IF_ERROR(ForEachRow(declared, [&](const QueryResult& r, int64_t row) -> Status {
    MIXTERA_ASSIGN_OR_RETURN(PropertyType type, model::ParsePropertyType(r.GetString(1, row)));
    std::string name(r.GetString(0, row));
    global.emplace(internal::Lower(name),
                   DeclaredProperty{name, type, std::string(r.GetString(2, row))});
    return Status::OK();
  }));
  for (const auto& p : spec.properties) {
    auto it = global.find(internal::Lower(p.name));
    if (it == global.end()) continue;
    const DeclaredProperty& d = it->second;
    if (d.name != p.name) {
      return Status::InvalidArgument(StrCat("property '", p.name, "' of dataset '", spec.name,
                                            "' differs only in case from '", d.name,
                                            "' declared by dataset '", d.first_dataset, "'"));
    }
    if (d.type != p.type) {
      return Status::InvalidArgument(
          StrCat("property '", p.name, "' has type ", model::PropertyTypeName(p.type),
                 " in dataset '", spec.name, "' but type ", model::PropertyTypeName(d.type),
                 " in dataset '", d.first_dataset, "' (properties are global by name)"));
    }
  }

  // The registration runs on its own connection, so reads through the store keep seeing
  // only committed state.
  if (!created_) MIXTERA_RETURN_IF_ERROR(DropOrphanTables());  // none in a store made here
  MIXTERA_ASSIGN_OR_RETURN(Connection conn, db_.Connect());
  // The samples table is created and filled outside Commit()'s transaction (ingest fills it
  // with one INSERT, during which DuckDB writes full row groups to the file). It stays
  // invisible until Commit() adds the dataset's rows and the view in one transaction;
  // Abort() (or, after a crash, the next BeginDataset) drops a table that never got there.
  MIXTERA_ASSIGN_OR_RETURN(int64_t dataset_id, conn.QueryInt64(MetaSql("next_dataset_id")));
  MIXTERA_ASSIGN_OR_RETURN(int64_t next_file_id, conn.QueryInt64(MetaSql("next_file_id")));
  const std::string table = internal::SamplesTableName(dataset_id);
  Status st = conn.Execute(StrCat("DROP TABLE IF EXISTS ", table));
  if (st.ok()) st = conn.Execute(internal::CreateSamplesTableSql(dataset_id, spec.properties));
  if (!st.ok()) return st.WithContext(StrCat("registering dataset '", spec.name, "'"));
  auto appender = conn.CreateAppender(table);
  if (!appender.ok()) {
    (void)conn.Execute(StrCat("DROP TABLE IF EXISTS ", table));
    return appender.status();
  }
  writer_active_ = true;
  return internal::MakeDatasetWriter(std::move(conn), std::move(appender).value(), spec, dataset_id,
                                     next_file_id, [this] { WriterDone(); });
}

Result<std::vector<model::DatasetInfo>> MetadataStoreImpl::LoadDatasets(const std::string* name) {
  std::string filter = name != nullptr ? " WHERE name = ?" : "";
  MIXTERA_ASSIGN_OR_RETURN(
      auto stmt,
      conn_.Prepare(StrCat("SELECT dataset_id, name, format, text_fields, on_error, spec_json, "
                           "num_files, num_samples, num_skipped, total_bytes FROM datasets",
                           filter, " ORDER BY name")));
  if (name != nullptr) MIXTERA_RETURN_IF_ERROR(stmt.BindString(1, *name));
  MIXTERA_ASSIGN_OR_RETURN(QueryResult r, stmt.Execute());
  std::vector<model::DatasetInfo> out;
  std::map<int64_t, size_t> index_of;
  MIXTERA_RETURN_IF_ERROR(ForEachRow(r, [&](const QueryResult& q, int64_t row) -> Status {
    model::DatasetInfo info;
    info.dataset_id = q.GetInt64(0, row);
    info.name = std::string(q.GetString(1, row));
    MIXTERA_ASSIGN_OR_RETURN(info.format, model::ParseDataFormat(q.GetString(2, row)));
    info.text_fields = ReadStringList(q, 3, row);
    MIXTERA_ASSIGN_OR_RETURN(info.on_error, ParseOnError(q.GetString(4, row)));
    info.spec_json = std::string(q.GetString(5, row));
    info.num_files = q.GetInt64(6, row);
    info.num_samples = q.GetInt64(7, row);
    info.num_skipped = q.GetInt64(8, row);
    info.total_bytes = q.GetInt64(9, row);
    index_of[info.dataset_id] = out.size();
    out.push_back(std::move(info));
    return Status::OK();
  }));
  if (out.empty()) return out;

  MIXTERA_ASSIGN_OR_RETURN(
      QueryResult props,
      conn_.Query("SELECT dataset_id, name, type, nullable, enum_values, field FROM properties "
                  "ORDER BY dataset_id, position"));
  MIXTERA_RETURN_IF_ERROR(ForEachRow(props, [&](const QueryResult& q, int64_t row) -> Status {
    auto it = index_of.find(q.GetInt64(0, row));
    if (it == index_of.end()) return Status::OK();
    model::PropertySchema p;
    p.name = std::string(q.GetString(1, row));
    MIXTERA_ASSIGN_OR_RETURN(p.type, model::ParsePropertyType(q.GetString(2, row)));
    p.nullable = q.GetBool(3, row);
    p.enum_values = ReadStringList(q, 4, row);
    p.field = std::string(q.GetString(5, row));
    out[it->second].properties.push_back(std::move(p));
    return Status::OK();
  }));
  return out;
}

Result<std::vector<model::DatasetInfo>> MetadataStoreImpl::ListDatasets() {
  return LoadDatasets(nullptr);
}

Result<model::DatasetInfo> MetadataStoreImpl::GetDataset(const std::string& name) {
  MIXTERA_RETURN_IF_ERROR(model::ValidateDatasetName(name));
  MIXTERA_ASSIGN_OR_RETURN(auto found, LoadDatasets(&name));
  if (found.empty()) return Status::NotFound(StrCat("dataset '", name, "' not found"));
  return std::move(found.front());
}

Result<std::vector<uint32_t>> MetadataStoreImpl::ListSampleIds(const std::string& dataset_name,
                                                               int64_t file_id) {
  MIXTERA_ASSIGN_OR_RETURN(int64_t dataset_id, DatasetId(dataset_name));
  MIXTERA_ASSIGN_OR_RETURN(
      auto stmt,
      conn_.Prepare(StrCat("SELECT sample_id FROM ", internal::SamplesTableName(dataset_id),
                           " WHERE file_id = ? ORDER BY sample_id")));
  MIXTERA_RETURN_IF_ERROR(stmt.BindInt64(1, file_id));
  MIXTERA_ASSIGN_OR_RETURN(QueryResult r, stmt.Execute());
  std::vector<uint32_t> out;
  MIXTERA_RETURN_IF_ERROR(ForEachRow(r, [&](const QueryResult& q, int64_t row) -> Status {
    out.push_back(static_cast<uint32_t>(q.GetInt64(0, row)));
    return Status::OK();
  }));
  return out;
}

Result<std::vector<model::FileRecord>> MetadataStoreImpl::ListFiles(
    const std::string& dataset_name) {
  MIXTERA_RETURN_IF_ERROR(model::ValidateDatasetName(dataset_name));
  MIXTERA_ASSIGN_OR_RETURN(int64_t dataset_id, DatasetId(dataset_name));
  MIXTERA_ASSIGN_OR_RETURN(
      auto stmt,
      conn_.Prepare("SELECT file_id, dataset_id, path, size_bytes, mtime_ns, compression, "
                    "num_records, num_samples, num_skipped, num_seek_points FROM files "
                    "WHERE dataset_id = ? ORDER BY file_id"));
  MIXTERA_RETURN_IF_ERROR(stmt.BindInt64(1, dataset_id));
  MIXTERA_ASSIGN_OR_RETURN(QueryResult r, stmt.Execute());
  std::vector<model::FileRecord> out;
  MIXTERA_RETURN_IF_ERROR(ForEachRow(r, [&](const QueryResult& q, int64_t row) -> Status {
    model::FileRecord f;
    f.file_id = q.GetInt64(0, row);
    f.dataset_id = q.GetInt64(1, row);
    f.path = std::string(q.GetString(2, row));
    f.size_bytes = q.GetInt64(3, row);
    f.mtime_ns = q.GetInt64(4, row);
    MIXTERA_ASSIGN_OR_RETURN(f.compression, ParseCompression(q.GetString(5, row)));
    f.num_records = q.GetInt64(6, row);
    f.num_samples = q.GetInt64(7, row);
    f.num_skipped = q.GetInt64(8, row);
    f.num_seek_points = q.GetInt64(9, row);
    out.push_back(std::move(f));
    return Status::OK();
  }));
  return out;
}

Status MetadataStoreImpl::RemoveDataset(const std::string& name) {
  MIXTERA_RETURN_IF_ERROR(model::ValidateDatasetName(name));
  if (writer_active_) {
    return Status::FailedPrecondition(
        StrCat("cannot remove dataset '", name, "' while a registration is in progress"));
  }
  MIXTERA_ASSIGN_OR_RETURN(int64_t id, DatasetId(name));
  MIXTERA_RETURN_IF_ERROR(conn_.Begin());
  Status st = internal::RecreateSamplesView(conn_, id);
  if (st.ok()) {
    st = conn_.Execute(StrCat("DELETE FROM files WHERE dataset_id = ", id,
                              "; DELETE FROM properties WHERE dataset_id = ", id,
                              "; DELETE FROM datasets WHERE dataset_id = ", id, "; DROP TABLE ",
                              internal::SamplesTableName(id),
                              "; UPDATE meta SET value = value + 1 WHERE key = 'store_version'"));
  }
  if (st.ok()) st = conn_.Commit();
  if (!st.ok()) {
    (void)conn_.Rollback();
    return st.WithContext(StrCat("removing dataset '", name, "'"));
  }
  return Status::OK();
}

Result<std::vector<GlobalProperty>> MetadataStoreImpl::ListProperties() {
  MIXTERA_ASSIGN_OR_RETURN(
      QueryResult r,
      conn_.Query("SELECT name, min(type) FROM properties GROUP BY name ORDER BY name"));
  std::vector<GlobalProperty> out;
  MIXTERA_RETURN_IF_ERROR(ForEachRow(r, [&](const QueryResult& q, int64_t row) -> Status {
    MIXTERA_ASSIGN_OR_RETURN(PropertyType type, model::ParsePropertyType(q.GetString(1, row)));
    out.push_back(GlobalProperty{std::string(q.GetString(0, row)), type});
    return Status::OK();
  }));
  return out;
}

}  // namespace

Result<std::unique_ptr<MetadataStore>> MetadataStore::Open(const std::string& db_path,
                                                           const StoreOptions& options) {
  struct stat file_stat;
  const bool file_existed =
      db_path != ":memory:" && ::stat(db_path.c_str(), &file_stat) == 0 && file_stat.st_size > 0;
  duckdb::DatabaseOptions db_options;
  db_options.memory_limit = options.memory_limit;
  db_options.threads = options.threads;
  MIXTERA_ASSIGN_OR_RETURN(duckdb::Database db, duckdb::Database::Open(db_path, db_options));
  MIXTERA_ASSIGN_OR_RETURN(Connection conn, db.Connect());
  auto store = std::make_unique<MetadataStoreImpl>(std::move(db), std::move(conn));
  Status st = store->Init(file_existed);
  if (!st.ok()) return st.WithContext(db_path);
  return std::unique_ptr<MetadataStore>(std::move(store));
}

}  // namespace mixtera::store
