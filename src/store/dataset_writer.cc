#include "store/dataset_writer.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/macros.h"
#include "base/strings.h"
#include "store/schema.h"
#include "store/store_util.h"

namespace mixtera::store::internal {
namespace {

using duckdb::Appender;
using duckdb::Connection;
using duckdb::QueryResult;
using model::PropertyType;

class DatasetWriterImpl final : public DatasetWriter {
 public:
  DatasetWriterImpl(Connection conn, Appender appender, const model::DatasetSpec& spec,
                    int64_t dataset_id, int64_t next_file_id, std::function<void()> on_done)
      : on_done_(std::move(on_done)),
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
  Status AppendSampleStream(const SampleBatchSource& next) override;
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
  // Sets rows [first_row, first_row + rows) of app's chunk from rows [begin, begin + rows)
  // of `batch`. Errors: InvalidArgument for a string that is not valid UTF-8.
  Status FillRows(Appender& app, size_t first_row, const model::SampleBatch& batch, size_t begin,
                  size_t rows);
  Status CommitImpl();
  // Rolls the transaction back (once); the writer is spent afterwards.
  void Abort();

  std::function<void()> on_done_;
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
    // Looked up by string_view, without building a key.
    struct Hash {
      using is_transparent = void;
      size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> codes;
    std::vector<std::string> added;
    int32_t next_code = 0;
    // The value looked up last and its code: consecutive records of a file often share
    // values (the same source, the same language), which then need no hashing.
    std::string last_value;
    int32_t last_code = -1;
  };
  std::vector<Dictionary> dictionaries_;
  // Returns the code of `value` in property c's dictionary, adding it when new, or -1 when
  // a new value is not valid UTF-8 (values are checked once, when they enter the dictionary;
  // the store's own values were checked when they did).
  int32_t Encode(size_t c, std::string_view value);
  bool in_transaction_ = false;  // true inside Commit()'s final transaction
  std::vector<model::FileRecord> files_;
  std::set<int64_t> added_file_ids_;
  bool spent_ = false;
};

DatasetWriterImpl::~DatasetWriterImpl() {
  if (!spent_) Abort();
  on_done_();
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
  (void)conn_.Execute(StrCat("DROP TABLE IF EXISTS ", SamplesTableName(dataset_id_)));
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
    if (!IsDictionaryEncoded(spec_.properties[c].type)) continue;
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
  if (dict.last_code >= 0 && value == dict.last_value) return dict.last_code;
  int32_t code;
  auto it = dict.codes.find(value);
  if (it != dict.codes.end()) {
    code = it->second;
  } else {
    if (!IsValidUtf8(value)) return -1;
    code = dict.next_code++;
    dict.codes.emplace(std::string(value), code);
    dict.added.emplace_back(value);
  }
  dict.last_value.assign(value);
  dict.last_code = code;
  return code;
}

Status DatasetWriterImpl::FillRows(Appender& app, size_t first_row, const model::SampleBatch& batch,
                                   size_t begin, size_t rows) {
  auto bad_utf8 = [&](size_t c, size_t i) {
    return Status::InvalidArgument(StrCat("dataset '", spec_.name, "': file id ", batch.file_id,
                                          ", sample ", batch.sample_ids[i], ": property '",
                                          spec_.properties[c].name, "' is not valid UTF-8"));
  };
  std::fill_n(app.MutableInt64(0) + first_row, rows, batch.file_id);
  std::copy_n(batch.sample_ids.begin() + static_cast<std::ptrdiff_t>(begin), rows,
              app.MutableInt64(1) + first_row);
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    const model::PropertyColumn& column = batch.columns[c];
    const int col = static_cast<int>(c) + 2;
    const PropertyType type = column.type();
    int64_t* ints = type == PropertyType::kInt ? app.MutableInt64(col) + first_row : nullptr;
    int32_t* codes = type == PropertyType::kString || type == PropertyType::kEnum
                         ? app.MutableInt32(col) + first_row
                         : nullptr;
    for (size_t r = 0; r < rows; ++r) {
      const size_t i = begin + r;
      const auto row = static_cast<int64_t>(first_row + r);
      if (!column.is_valid(i)) {
        app.SetNull(col, row);
        continue;
      }
      switch (type) {
        case PropertyType::kInt:
          ints[r] = column.int_at(i);
          break;
        case PropertyType::kFloat:
          app.SetDouble(col, row, column.float_at(i));
          break;
        case PropertyType::kBool:
          app.SetBool(col, row, column.bool_at(i));
          break;
        case PropertyType::kString:
        case PropertyType::kEnum: {
          const int32_t code = Encode(c, column.string_at(i));
          if (code < 0) return bad_utf8(c, i);
          codes[r] = code;
          break;
        }
        case PropertyType::kStringList: {
          app.BeginList(col, row);
          const size_t items = column.list_size(i);
          for (size_t k = 0; k < items; ++k) {
            const int32_t code = Encode(c, column.list_item(i, k));
            if (code < 0) return bad_utf8(c, i);
            app.AppendListInt32(col, code);
          }
          break;
        }
      }
    }
  }
  return Status::OK();
}

Status DatasetWriterImpl::AppendSamples(const model::SampleBatch& batch) {
  MIXTERA_RETURN_IF_ERROR(CheckActive());
  MIXTERA_RETURN_IF_ERROR(CheckBatch(batch));
  Appender& app = *appender_;
  const size_t n = batch.num_rows();
  const size_t capacity = static_cast<size_t>(app.chunk_capacity());
  for (size_t begin = 0; begin < n; begin += capacity) {
    const size_t rows = std::min(capacity, n - begin);
    MIXTERA_RETURN_IF_ERROR(FillRows(app, 0, batch, begin, rows));
    MIXTERA_RETURN_IF_ERROR(app.AppendChunk(static_cast<int64_t>(rows)));
  }
  rows_appended_ += static_cast<int64_t>(n);
  return Status::OK();
}

Status DatasetWriterImpl::AppendSampleStream(const SampleBatchSource& next) {
  MIXTERA_RETURN_IF_ERROR(CheckActive());
  const model::SampleBatch* batch = nullptr;
  size_t begin = 0;
  bool done = false;
  // Chunks are filled across batches: DuckDB keeps per-row version information (16 bytes a
  // row, until the INSERT commits) for every vector an append does not fill whole, so
  // only the last chunk may be partial.
  return conn_.InsertFromChunks(
      SamplesTableName(dataset_id_), [&](Appender& app) -> Result<int64_t> {
        const auto capacity = static_cast<size_t>(app.chunk_capacity());
        size_t filled = 0;
        while (filled < capacity) {
          while (!done && (batch == nullptr || begin == batch->num_rows())) {
            MIXTERA_ASSIGN_OR_RETURN(batch, next());
            begin = 0;
            if (batch == nullptr) {
              done = true;
            } else {
              MIXTERA_RETURN_IF_ERROR(CheckBatch(*batch));
            }
          }
          if (done) break;
          const size_t rows = std::min(capacity - filled, batch->num_rows() - begin);
          MIXTERA_RETURN_IF_ERROR(FillRows(app, filled, *batch, begin, rows));
          begin += rows;
          filled += rows;
        }
        rows_appended_ += static_cast<int64_t>(filled);
        return static_cast<int64_t>(filled);
      });
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
  MIXTERA_RETURN_IF_ERROR(RecreateSamplesView(conn_, -1));
  MIXTERA_RETURN_IF_ERROR(conn_.Execute(
      StrCat("UPDATE meta SET value = ", dataset_id_ + 1, " WHERE key = 'next_dataset_id'; ",
             "UPDATE meta SET value = ", next_file_id_, " WHERE key = 'next_file_id'; ",
             "UPDATE meta SET value = value + 1 WHERE key = 'store_version'")));
  return conn_.Commit();
}

}  // namespace

Result<std::unique_ptr<DatasetWriter>> MakeDatasetWriter(Connection conn, Appender appender,
                                                         const model::DatasetSpec& spec,
                                                         int64_t dataset_id, int64_t next_file_id,
                                                         std::function<void()> on_done) {
  auto writer = std::make_unique<DatasetWriterImpl>(std::move(conn), std::move(appender), spec,
                                                    dataset_id, next_file_id, std::move(on_done));
  MIXTERA_RETURN_IF_ERROR(writer->LoadDictionaries());  // on error the writer drops its table
  return std::unique_ptr<DatasetWriter>(std::move(writer));
}

}  // namespace mixtera::store::internal
