#include "store/metadata_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "base/macros.h"
#include "base/strings.h"
#include "duckdb/connection.h"
#include "store/schema.h"

namespace mixtera::store {

namespace {

using duckdb::Appender;
using duckdb::Connection;
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

// Reads every chunk of `result`, calling `row_fn(result, row)` per row.
template <typename Fn>
Status ForEachRow(QueryResult& result, Fn&& row_fn) {
  while (true) {
    MIXTERA_ASSIGN_OR_RETURN(bool more, result.NextChunk());
    if (!more) return Status::OK();
    for (int64_t row = 0; row < result.chunk_size(); ++row) {
      MIXTERA_RETURN_IF_ERROR(row_fn(result, row));
    }
  }
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

// A property as already declared by a committed dataset.
struct DeclaredProperty {
  std::string name;
  PropertyType type;
  std::string first_dataset;
};

class MetadataStoreImpl;

class DatasetWriterImpl final : public DatasetWriter {
 public:
  DatasetWriterImpl(MetadataStoreImpl* store, Connection conn, Appender appender,
                    const model::DatasetSpec& spec, int64_t dataset_id, int64_t next_file_id)
      : store_(store),
        conn_(std::move(conn)),
        appender_(std::move(appender)),
        spec_(spec),
        dataset_id_(dataset_id),
        first_file_id_(next_file_id),
        next_file_id_(next_file_id) {}
  ~DatasetWriterImpl() override;

  int64_t dataset_id() const override { return dataset_id_; }
  Result<int64_t> ReserveFileIds(int64_t count) override;
  Status AppendSamples(const model::SampleBatch& batch) override;
  Status AddFile(const model::FileRecord& file) override;
  Status Commit() override;

  // Reads the global dictionaries of the spec's string properties. Called once, right
  // after construction.
  Status LoadDictionaries();

 private:
  Status CheckActive() const {
    if (spent_) return Status::FailedPrecondition("dataset writer already committed or failed");
    return Status::OK();
  }
  Status CheckBatch(const model::SampleBatch& batch) const;
  Status CommitImpl();
  // Rolls the transaction back (once); the writer is spent afterwards.
  void Abort();

  MetadataStoreImpl* store_;
  Connection conn_;
  std::optional<Appender> appender_;
  model::DatasetSpec spec_;
  int64_t dataset_id_;
  int64_t first_file_id_;  // reserved ids are [first_file_id_, next_file_id_)
  int64_t next_file_id_;
  int64_t rows_appended_ = 0;
  // Per property (in spec order; empty for types stored as is): value -> code of the
  // property's global dictionary, and the values this registration added.
  struct Dictionary {
    std::unordered_map<std::string, int32_t> codes;
    std::vector<std::string> added;
    int32_t next_code = 0;
  };
  std::vector<Dictionary> dictionaries_;
  // Returns the code of `value` in property c's dictionary, adding it when new.
  int32_t Encode(size_t c, std::string_view value);
  bool in_transaction_ = false;  // true inside Commit()'s final transaction
  std::vector<model::FileRecord> files_;
  std::set<int64_t> added_file_ids_;
  bool spent_ = false;
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
  // Recreates the view over the datasets visible to `conn` (optionally without one).
  static Status RecreateView(Connection& conn, int64_t without_dataset_id);

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

// --- MetadataStoreImpl ----------------------------------------------------------------

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
  // The samples table is created and filled outside a transaction, so DuckDB commits the
  // appended row groups while ingest is still scanning (a single transaction would defer
  // all of that work to the end). It stays invisible until Commit() adds the dataset's rows
  // and the view in one transaction; Abort() (or, after a crash, the next
  // BeginDataset) drops a table that never got there.
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
  auto writer = std::make_unique<DatasetWriterImpl>(
      this, std::move(conn), std::move(appender).value(), spec, dataset_id, next_file_id);
  MIXTERA_RETURN_IF_ERROR(writer->LoadDictionaries());  // on error the writer drops its table
  return std::unique_ptr<DatasetWriter>(std::move(writer));
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

Status MetadataStoreImpl::RecreateView(Connection& conn, int64_t without_dataset_id) {
  MIXTERA_ASSIGN_OR_RETURN(QueryResult r,
                           conn.Query("SELECT d.dataset_id, d.name, p.name, p.type FROM datasets d "
                                      "LEFT JOIN properties p USING (dataset_id) "
                                      "ORDER BY d.dataset_id, p.position"));
  std::vector<internal::ViewDataset> datasets;
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
  return conn.Execute(internal::CreateSamplesViewSql(datasets));
}

Status MetadataStoreImpl::RemoveDataset(const std::string& name) {
  if (writer_active_) {
    return Status::FailedPrecondition(
        StrCat("cannot remove dataset '", name, "' while a registration is in progress"));
  }
  MIXTERA_ASSIGN_OR_RETURN(int64_t id, DatasetId(name));
  MIXTERA_RETURN_IF_ERROR(conn_.Begin());
  Status st = RecreateView(conn_, id);
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

// --- DatasetWriterImpl ----------------------------------------------------------------

DatasetWriterImpl::~DatasetWriterImpl() {
  if (!spent_) Abort();
  store_->WriterDone();
}

void DatasetWriterImpl::Abort() {
  spent_ = true;
  // Closing the appender flushes its buffer into the transaction we are about to discard;
  // the C API has no way to drop it unflushed.
  if (appender_.has_value()) {
    (void)appender_->Close();
    appender_.reset();
  }
  if (in_transaction_) (void)conn_.Rollback();
  (void)conn_.Execute(StrCat("DROP TABLE IF EXISTS ", internal::SamplesTableName(dataset_id_)));
}

Result<int64_t> DatasetWriterImpl::ReserveFileIds(int64_t count) {
  MIXTERA_RETURN_IF_ERROR(CheckActive());
  if (count < 0) return Status::InvalidArgument(StrCat("cannot reserve ", count, " file ids"));
  int64_t first = next_file_id_;
  next_file_id_ += count;
  return first;
}

Status DatasetWriterImpl::CheckBatch(const model::SampleBatch& batch) const {
  if (batch.file_id < first_file_id_ || batch.file_id >= next_file_id_) {
    return Status::InvalidArgument(StrCat("dataset '", spec_.name, "': batch for file id ",
                                          batch.file_id,
                                          ", which was not reserved by this registration"));
  }
  if (batch.columns.size() != spec_.properties.size()) {
    return Status::InvalidArgument(StrCat("dataset '", spec_.name, "': batch has ",
                                          batch.columns.size(), " columns, the spec declares ",
                                          spec_.properties.size(), " properties"));
  }
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    const auto& p = spec_.properties[c];
    if (batch.columns[c].type() != p.type) {
      return Status::InvalidArgument(
          StrCat("dataset '", spec_.name, "': batch column ", c, " has type ",
                 model::PropertyTypeName(batch.columns[c].type()), ", property '", p.name, "' is ",
                 model::PropertyTypeName(p.type)));
    }
    if (batch.columns[c].size() != batch.num_rows()) {
      return Status::InvalidArgument(StrCat("dataset '", spec_.name, "': batch column '", p.name,
                                            "' has ", batch.columns[c].size(),
                                            " rows, the batch has ", batch.num_rows()));
    }
  }
  return Status::OK();
}

Status DatasetWriterImpl::LoadDictionaries() {
  dictionaries_.resize(spec_.properties.size());
  for (size_t c = 0; c < spec_.properties.size(); ++c) {
    if (!internal::IsDictionaryEncoded(spec_.properties[c].type)) continue;
    MIXTERA_ASSIGN_OR_RETURN(
        auto stmt, conn_.Prepare("SELECT code, value FROM dictionary WHERE property = ?"));
    MIXTERA_RETURN_IF_ERROR(stmt.BindString(1, spec_.properties[c].name));
    MIXTERA_ASSIGN_OR_RETURN(QueryResult r, stmt.Execute());
    Dictionary& dict = dictionaries_[c];
    MIXTERA_RETURN_IF_ERROR(ForEachRow(r, [&](const QueryResult& q, int64_t row) -> Status {
      auto code = static_cast<int32_t>(q.GetInt64(0, row));
      dict.codes.emplace(std::string(q.GetString(1, row)), code);
      dict.next_code = std::max(dict.next_code, code + 1);
      return Status::OK();
    }));
  }
  return Status::OK();
}

int32_t DatasetWriterImpl::Encode(size_t c, std::string_view value) {
  Dictionary& dict = dictionaries_[c];
  // Heterogeneous lookup needs C++20 transparent hashing; a key copy per lookup is cheap
  // next to what DuckDB would spend on the string.
  auto it = dict.codes.find(std::string(value));
  if (it != dict.codes.end()) return it->second;
  int32_t code = dict.next_code++;
  dict.codes.emplace(std::string(value), code);
  dict.added.emplace_back(value);
  return code;
}

Status DatasetWriterImpl::AppendSamples(const model::SampleBatch& batch) {
  MIXTERA_RETURN_IF_ERROR(CheckActive());
  MIXTERA_RETURN_IF_ERROR(CheckBatch(batch));
  Appender& app = *appender_;
  const size_t n = batch.num_rows();
  const size_t capacity = static_cast<size_t>(app.chunk_capacity());
  auto bad_utf8 = [&](size_t c, size_t i) {
    return Status::InvalidArgument(StrCat("dataset '", spec_.name, "': file id ", batch.file_id,
                                          ", sample ", batch.sample_ids[i], ": property '",
                                          spec_.properties[c].name, "' is not valid UTF-8"));
  };
  for (size_t begin = 0; begin < n; begin += capacity) {
    const size_t rows = std::min(capacity, n - begin);
    for (size_t r = 0; r < rows; ++r) {
      app.SetInt64(0, static_cast<int64_t>(r), batch.file_id);
      app.SetInt64(1, static_cast<int64_t>(r), batch.sample_ids[begin + r]);
    }
    for (size_t c = 0; c < batch.columns.size(); ++c) {
      const model::PropertyColumn& column = batch.columns[c];
      const int col = static_cast<int>(c) + 2;
      for (size_t r = 0; r < rows; ++r) {
        const size_t i = begin + r;
        const auto row = static_cast<int64_t>(r);
        if (!column.is_valid(i)) {
          app.SetNull(col, row);
          continue;
        }
        switch (column.type()) {
          case PropertyType::kInt:
            app.SetInt64(col, row, column.int_at(i));
            break;
          case PropertyType::kFloat:
            app.SetDouble(col, row, column.float_at(i));
            break;
          case PropertyType::kBool:
            app.SetBool(col, row, column.bool_at(i));
            break;
          case PropertyType::kString:
          case PropertyType::kEnum: {
            std::string_view v = column.string_at(i);
            if (!IsValidUtf8(v)) return bad_utf8(c, i);
            app.SetInt32(col, row, Encode(c, v));
            break;
          }
          case PropertyType::kStringList: {
            app.BeginList(col, row);
            const size_t items = column.list_size(i);
            for (size_t k = 0; k < items; ++k) {
              std::string_view v = column.list_item(i, k);
              if (!IsValidUtf8(v)) return bad_utf8(c, i);
              app.AppendListInt32(col, Encode(c, v));
            }
            break;
          }
        }
      }
    }
    MIXTERA_RETURN_IF_ERROR(app.AppendChunk(static_cast<int64_t>(rows)));
  }
  rows_appended_ += static_cast<int64_t>(n);
  return Status::OK();
}

Status DatasetWriterImpl::AddFile(const model::FileRecord& file) {
  MIXTERA_RETURN_IF_ERROR(CheckActive());
  if (file.file_id < first_file_id_ || file.file_id >= next_file_id_) {
    return Status::InvalidArgument(StrCat("dataset '", spec_.name, "': file id ", file.file_id,
                                          " (", file.path, ") was not reserved"));
  }
  if (file.dataset_id != 0 && file.dataset_id != dataset_id_) {
    return Status::InvalidArgument(StrCat("dataset '", spec_.name, "': file ", file.path,
                                          " belongs to dataset id ", file.dataset_id, ", not ",
                                          dataset_id_));
  }
  if (!added_file_ids_.insert(file.file_id).second) {
    return Status::InvalidArgument(StrCat("dataset '", spec_.name, "': file id ", file.file_id,
                                          " (", file.path, ") added twice"));
  }
  files_.push_back(file);
  files_.back().dataset_id = dataset_id_;
  return Status::OK();
}

Status DatasetWriterImpl::Commit() {
  MIXTERA_RETURN_IF_ERROR(CheckActive());
  Status st = CommitImpl();
  if (!st.ok()) {
    Abort();
    return st.WithContext(StrCat("registering dataset '", spec_.name, "'"));
  }
  spent_ = true;
  return Status::OK();
}

Status DatasetWriterImpl::CommitImpl() {
  MIXTERA_RETURN_IF_ERROR(appender_->Close());
  appender_.reset();

  model::DatasetInfo totals;
  for (const auto& f : files_) {
    totals.num_samples += f.num_samples;
    totals.num_skipped += f.num_skipped;
    totals.total_bytes += f.size_bytes;
  }
  if (totals.num_samples != rows_appended_) {
    return Status::InvalidArgument(StrCat("the files report ", totals.num_samples, " samples but ",
                                          rows_appended_, " were appended"));
  }
  std::sort(files_.begin(), files_.end(),
            [](const auto& a, const auto& b) { return a.file_id < b.file_id; });
  MIXTERA_RETURN_IF_ERROR(conn_.Begin());
  in_transaction_ = true;

  {
    MIXTERA_ASSIGN_OR_RETURN(Appender app, conn_.CreateAppender("files"));
    int64_t row = 0;
    for (const auto& f : files_) {
      app.SetInt64(0, row, f.file_id);
      app.SetInt64(1, row, f.dataset_id);
      app.SetString(2, row, f.path);
      app.SetInt64(3, row, f.size_bytes);
      app.SetInt64(4, row, f.mtime_ns);
      app.SetString(5, row, model::CompressionName(f.compression));
      app.SetInt64(6, row, f.num_records);
      app.SetInt64(7, row, f.num_samples);
      app.SetInt64(8, row, f.num_skipped);
      app.SetInt64(9, row, f.num_seek_points);
      if (++row == app.chunk_capacity()) {
        MIXTERA_RETURN_IF_ERROR(app.AppendChunk(row));
        row = 0;
      }
    }
    MIXTERA_RETURN_IF_ERROR(app.AppendChunk(row));
    MIXTERA_RETURN_IF_ERROR(app.Close());
  }
  {
    MIXTERA_ASSIGN_OR_RETURN(Appender app, conn_.CreateAppender("properties"));
    int64_t row = 0;
    for (const auto& p : spec_.properties) {
      app.SetInt64(0, row, dataset_id_);
      app.SetInt32(1, row, static_cast<int32_t>(row));
      app.SetString(2, row, p.name);
      app.SetString(3, row, model::PropertyTypeName(p.type));
      app.SetBool(4, row, p.nullable);
      SetStringList(app, 5, row, p.enum_values);
      app.SetString(6, row, p.field);
      ++row;
    }
    MIXTERA_RETURN_IF_ERROR(app.AppendChunk(row));
    MIXTERA_RETURN_IF_ERROR(app.Close());
  }
  {
    MIXTERA_ASSIGN_OR_RETURN(Appender app, conn_.CreateAppender("datasets"));
    app.SetInt64(0, 0, dataset_id_);
    app.SetString(1, 0, spec_.name);
    app.SetString(2, 0, model::DataFormatName(spec_.format));
    SetStringList(app, 3, 0, spec_.text_fields);
    app.SetString(4, 0, OnErrorName(spec_.on_error));
    app.SetString(5, 0, spec_.normalized_json);
    app.SetInt64(6, 0, static_cast<int64_t>(files_.size()));
    app.SetInt64(7, 0, totals.num_samples);
    app.SetInt64(8, 0, totals.num_skipped);
    app.SetInt64(9, 0, totals.total_bytes);
    MIXTERA_RETURN_IF_ERROR(app.AppendChunk(1));
    MIXTERA_RETURN_IF_ERROR(app.Close());
  }
  {
    MIXTERA_ASSIGN_OR_RETURN(Appender app, conn_.CreateAppender("dictionary"));
    int64_t row = 0;
    for (size_t c = 0; c < dictionaries_.size(); ++c) {
      const Dictionary& dict = dictionaries_[c];
      int32_t first = dict.next_code - static_cast<int32_t>(dict.added.size());
      for (size_t k = 0; k < dict.added.size(); ++k) {
        app.SetString(0, row, spec_.properties[c].name);
        app.SetInt32(1, row, first + static_cast<int32_t>(k));
        app.SetString(2, row, dict.added[k]);
        if (++row == app.chunk_capacity()) {
          MIXTERA_RETURN_IF_ERROR(app.AppendChunk(row));
          row = 0;
        }
      }
    }
    MIXTERA_RETURN_IF_ERROR(app.AppendChunk(row));
    MIXTERA_RETURN_IF_ERROR(app.Close());
  }
  MIXTERA_RETURN_IF_ERROR(MetadataStoreImpl::RecreateView(conn_, -1));
  MIXTERA_RETURN_IF_ERROR(conn_.Execute(
      StrCat("UPDATE meta SET value = ", dataset_id_ + 1, " WHERE key = 'next_dataset_id'; ",
             "UPDATE meta SET value = ", next_file_id_, " WHERE key = 'next_file_id'; ",
             "UPDATE meta SET value = value + 1 WHERE key = 'store_version'")));
  return conn_.Commit();
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
