#include "duckdb/appender.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <utility>
#include <vector>

#include "base/macros.h"
#include "base/strings.h"
#include "duckdb/connection.h"
#include "duckdb/internal.h"

namespace mixtera::duckdb {

namespace internal {

inline bool IsList(AppendType t) {
  return t == AppendType::kVarcharList || t == AppendType::kIntegerList;
}

struct AppenderState {
  struct Column {
    AppendType type = AppendType::kBigInt;
    duckdb_vector vector = nullptr;
    void* data = nullptr;
    uint64_t* validity = nullptr;  // fetched on the first SetNull of a chunk
    // kVarcharList: the child vector, items written so far in this chunk, reserved capacity.
    duckdb_vector child = nullptr;
    uint64_t child_size = 0;
    uint64_t child_capacity = 0;
    int64_t list_row = -1;  // the row whose list AppendListItem extends
  };

  std::shared_ptr<ConnectionHandle> conn;
  duckdb_appender appender = nullptr;
  duckdb_data_chunk chunk = nullptr;
  std::vector<Column> columns;
  std::vector<duckdb_logical_type> types;             // the table's column types (owned)
  const uint64_t vector_size = duckdb_vector_size();  // rows per chunk
  std::string table;
  bool closed = false;

  ~AppenderState() {
    if (chunk != nullptr) duckdb_destroy_data_chunk(&chunk);
    if (appender != nullptr) duckdb_appender_destroy(&appender);
    for (auto& t : types) duckdb_destroy_logical_type(&t);
  }

  // (Re)reads the vectors of the current chunk; called after creating or resetting it.
  void BindVectors() {
    for (size_t i = 0; i < columns.size(); ++i) {
      auto& c = columns[i];
      c.vector = duckdb_data_chunk_get_vector(chunk, i);
      c.data = duckdb_vector_get_data(c.vector);
      c.validity = nullptr;
      c.list_row = -1;
      if (internal::IsList(c.type)) {
        duckdb_list_vector_set_size(c.vector, 0);
        c.child = duckdb_list_vector_get_child(c.vector);
        c.child_size = 0;
        c.child_capacity = 0;
      }
    }
  }

  // Makes rows [0, num_rows) of `chunk` its content: sets the list sizes and the row count.
  void SealChunk(int64_t num_rows) {
    MIXTERA_CHECK(num_rows >= 0 && static_cast<uint64_t>(num_rows) <= vector_size);
    for (auto& c : columns) {
      if (internal::IsList(c.type)) {
        MIXTERA_CHECK(duckdb_list_vector_set_size(c.vector, c.child_size) == DuckDBSuccess);
      }
    }
    duckdb_data_chunk_set_size(chunk, static_cast<idx_t>(num_rows));
  }

  Column& At(int col, int64_t row, AppendType type) {
    MIXTERA_CHECK(row >= 0 && static_cast<uint64_t>(row) < vector_size);
    return Of(col, type);
  }
  Column& Of(int col, AppendType type) {
    MIXTERA_CHECK(col >= 0 && col < static_cast<int>(columns.size()));
    MIXTERA_CHECK(columns[col].type == type);
    return columns[col];
  }

  Status Error(std::string_view what) {
    duckdb_error_data error = duckdb_appender_error_data(appender);
    Status status =
        ErrorStatus(duckdb_error_data_error_type(error), duckdb_error_data_message(error));
    duckdb_destroy_error_data(&error);
    return status.WithContext(StrCat(what, " '", table, "'"));
  }
};

namespace {

struct LogicalTypeGuard {
  duckdb_logical_type type;
  ~LogicalTypeGuard() { duckdb_destroy_logical_type(&type); }
};

// Our AppendType for a table column type; false when unsupported.
bool ToAppendType(duckdb_logical_type type, AppendType* out) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BIGINT:
      *out = AppendType::kBigInt;
      return true;
    case DUCKDB_TYPE_INTEGER:
      *out = AppendType::kInteger;
      return true;
    case DUCKDB_TYPE_DOUBLE:
      *out = AppendType::kDouble;
      return true;
    case DUCKDB_TYPE_BOOLEAN:
      *out = AppendType::kBoolean;
      return true;
    case DUCKDB_TYPE_VARCHAR:
      *out = AppendType::kVarchar;
      return true;
    case DUCKDB_TYPE_LIST: {
      LogicalTypeGuard child{duckdb_list_type_child_type(type)};
      switch (duckdb_get_type_id(child.type)) {
        case DUCKDB_TYPE_VARCHAR:
          *out = AppendType::kVarcharList;
          return true;
        case DUCKDB_TYPE_INTEGER:
          *out = AppendType::kIntegerList;
          return true;
        default:
          return false;
      }
    }
    default:
      return false;
  }
}

}  // namespace

}  // namespace internal

Result<Appender> Connection::CreateAppender(const std::string& table, const std::string& schema) {
  auto state = std::make_unique<internal::AppenderState>();
  state->conn = handle_;
  state->table = table;
  if (duckdb_appender_create(handle_->conn, schema.empty() ? nullptr : schema.c_str(),
                             table.c_str(), &state->appender) != DuckDBSuccess) {
    return state->Error("cannot create an appender on");
  }
  idx_t n = duckdb_appender_column_count(state->appender);
  state->columns.resize(n);
  for (idx_t i = 0; i < n; ++i) {
    state->types.push_back(duckdb_appender_column_type(state->appender, i));
    if (!internal::ToAppendType(state->types[i], &state->columns[i].type)) {
      return Status::InvalidArgument(StrCat("cannot append to '", table, "': column ", i,
                                            " has unsupported type ",
                                            internal::TypeName(state->types[i])));
    }
  }
  state->chunk = duckdb_create_data_chunk(state->types.data(), n);
  if (state->chunk == nullptr) return Status::Internal("duckdb_create_data_chunk failed");
  state->BindVectors();
  return Appender(std::move(state));
}

namespace {

// What the table function of InsertFromChunks reaches while its INSERT runs.
struct ChunkSource {
  internal::AppenderState* state;  // its chunk is swapped for DuckDB's output chunk per call
  Appender* writer;
  const std::function<Result<int64_t>(Appender&)>* fill;
  Status error;
};

// The function's extra info, owned by DuckDB's catalog entry (which outlives the INSERT):
// `source` is null outside InsertFromChunks, so a later call of the function by name fails
// instead of reaching freed memory.
struct ChunkSourceSlot {
  ChunkSource* source = nullptr;
};

constexpr const char* kNotInsertingError =
    "this table function only serves the INSERT of Connection::InsertFromChunks";

void ChunkSourceBind(duckdb_bind_info info) {
  auto* slot = static_cast<ChunkSourceSlot*>(duckdb_bind_get_extra_info(info));
  if (slot->source == nullptr) {
    duckdb_bind_set_error(info, kNotInsertingError);
    return;
  }
  const std::vector<duckdb_logical_type>& types = slot->source->state->types;
  for (size_t i = 0; i < types.size(); ++i) {
    duckdb_bind_add_result_column(info, StrCat("c", i).c_str(), types[i]);
  }
}

void ChunkSourceInit(duckdb_init_info info) { duckdb_init_set_max_threads(info, 1); }

void ChunkSourceScan(duckdb_function_info info, duckdb_data_chunk output) {
  ChunkSource* source = static_cast<ChunkSourceSlot*>(duckdb_function_get_extra_info(info))->source;
  if (source == nullptr) {
    duckdb_function_set_error(info, kNotInsertingError);
    return;
  }
  internal::AppenderState& s = *source->state;
  duckdb_data_chunk own = s.chunk;
  s.chunk = output;
  s.BindVectors();
  Result<int64_t> rows =
      source->error.ok() ? (*source->fill)(*source->writer) : Result<int64_t>(source->error);
  if (!rows.ok()) {
    source->error = rows.status();
    duckdb_function_set_error(info, source->error.message().c_str());
  }
  s.SealChunk(rows.ok() ? *rows : 0);
  s.chunk = own;
  s.BindVectors();
}

}  // namespace

Status Connection::InsertFromChunks(const std::string& table,
                                    const std::function<Result<int64_t>(Appender&)>& fill) {
  // An appender that never appends knows the table's column types and fills chunks.
  MIXTERA_ASSIGN_OR_RETURN(Appender writer, CreateAppender(table));
  ChunkSource source{writer.state_.get(), &writer, &fill, Status::OK()};

  // Table functions live in the database's catalog, so each insert registers its own name.
  static std::atomic<int64_t> next_function_id{0};
  const std::string name = StrCat("mixtera_chunk_source_", next_function_id++);
  auto* slot = new ChunkSourceSlot{&source};
  duckdb_table_function function = duckdb_create_table_function();
  duckdb_table_function_set_name(function, name.c_str());
  duckdb_table_function_set_extra_info(function, slot,
                                       [](void* p) { delete static_cast<ChunkSourceSlot*>(p); });
  duckdb_table_function_set_bind(function, ChunkSourceBind);
  duckdb_table_function_set_init(function, ChunkSourceInit);
  duckdb_table_function_set_function(function, ChunkSourceScan);
  const duckdb_state registered = duckdb_register_table_function(handle_->conn, function);
  duckdb_destroy_table_function(&function);  // the catalog keeps its own copy (and the slot)
  if (registered != DuckDBSuccess) {
    return Status::Internal(
        StrCat("cannot register table function ", name, " to insert into '", table, "'"));
  }
  Status st =
      Execute(StrCat("INSERT INTO ", QuoteIdentifier(table), " SELECT * FROM ", name, "()"));
  slot->source = nullptr;
  if (!source.error.ok()) return source.error;
  return st;
}

Appender::Appender(std::unique_ptr<internal::AppenderState> state) : state_(std::move(state)) {}
Appender::Appender(Appender&&) noexcept = default;
Appender& Appender::operator=(Appender&&) noexcept = default;

Appender::~Appender() {
  if (state_ != nullptr && !state_->closed) (void)Close();
}

int Appender::column_count() const { return static_cast<int>(state_->columns.size()); }
AppendType Appender::column_type(int col) const { return state_->columns.at(col).type; }
int64_t Appender::chunk_capacity() const { return static_cast<int64_t>(state_->vector_size); }

int64_t* Appender::MutableInt64(int col) {
  return static_cast<int64_t*>(state_->Of(col, AppendType::kBigInt).data);
}

int32_t* Appender::MutableInt32(int col) {
  return static_cast<int32_t*>(state_->Of(col, AppendType::kInteger).data);
}

void Appender::SetInt64(int col, int64_t row, int64_t value) {
  static_cast<int64_t*>(state_->At(col, row, AppendType::kBigInt).data)[row] = value;
}

void Appender::SetInt32(int col, int64_t row, int32_t value) {
  static_cast<int32_t*>(state_->At(col, row, AppendType::kInteger).data)[row] = value;
}

void Appender::SetDouble(int col, int64_t row, double value) {
  static_cast<double*>(state_->At(col, row, AppendType::kDouble).data)[row] = value;
}

void Appender::SetBool(int col, int64_t row, bool value) {
  static_cast<bool*>(state_->At(col, row, AppendType::kBoolean).data)[row] = value;
}

void Appender::SetString(int col, int64_t row, std::string_view value) {
  auto& c = state_->At(col, row, AppendType::kVarchar);
  duckdb_vector_assign_string_element_len(c.vector, static_cast<idx_t>(row), value.data(),
                                          value.size());
}

void Appender::SetNull(int col, int64_t row) {
  MIXTERA_CHECK(col >= 0 && col < static_cast<int>(state_->columns.size()));
  auto& c = state_->columns[col];
  MIXTERA_CHECK(row >= 0 && static_cast<uint64_t>(row) < state_->vector_size);
  if (c.validity == nullptr) {
    duckdb_vector_ensure_validity_writable(c.vector);
    c.validity = duckdb_vector_get_validity(c.vector);
  }
  duckdb_validity_set_row_invalid(c.validity, static_cast<idx_t>(row));
  if (internal::IsList(c.type)) {
    // Keep the entry well-formed: an empty list at the current end of the child vector.
    auto* entries = static_cast<duckdb_list_entry*>(c.data);
    entries[row].offset = c.child_size;
    entries[row].length = 0;
  }
}

void Appender::BeginList(int col, int64_t row) {
  MIXTERA_CHECK(col >= 0 && col < static_cast<int>(state_->columns.size()));
  auto& c = state_->At(col, row, state_->columns[col].type);
  MIXTERA_CHECK(internal::IsList(c.type));
  MIXTERA_CHECK(row > c.list_row);
  auto* entries = static_cast<duckdb_list_entry*>(c.data);
  entries[row].offset = c.child_size;
  entries[row].length = 0;
  c.list_row = row;
}

namespace {
// Makes room for one more item in list column `c`.
void ReserveListItem(internal::AppenderState::Column& c) {
  if (c.child_size + 1 > c.child_capacity) {
    uint64_t capacity = std::max<uint64_t>(c.child_capacity * 2, duckdb_vector_size());
    duckdb_state reserved = duckdb_list_vector_reserve(c.vector, capacity);
    MIXTERA_CHECK(reserved == DuckDBSuccess);
    c.child_capacity = capacity;
    // Reserving may reallocate the child's buffers; the handle stays valid.
    c.child = duckdb_list_vector_get_child(c.vector);
  }
}
}  // namespace

void Appender::AppendListItem(int col, std::string_view item) {
  MIXTERA_CHECK(col >= 0 && col < static_cast<int>(state_->columns.size()));
  auto& c = state_->columns[col];
  MIXTERA_CHECK(c.type == AppendType::kVarcharList && c.list_row >= 0);
  ReserveListItem(c);
  duckdb_vector_assign_string_element_len(c.child, c.child_size, item.data(), item.size());
  ++c.child_size;
  static_cast<duckdb_list_entry*>(c.data)[c.list_row].length++;
}

void Appender::AppendListInt32(int col, int32_t item) {
  MIXTERA_CHECK(col >= 0 && col < static_cast<int>(state_->columns.size()));
  auto& c = state_->columns[col];
  MIXTERA_CHECK(c.type == AppendType::kIntegerList && c.list_row >= 0);
  ReserveListItem(c);
  static_cast<int32_t*>(duckdb_vector_get_data(c.child))[c.child_size] = item;
  ++c.child_size;
  static_cast<duckdb_list_entry*>(c.data)[c.list_row].length++;
}

Status Appender::AppendChunk(int64_t num_rows) {
  auto& s = *state_;
  MIXTERA_CHECK(!s.closed);
  MIXTERA_CHECK(num_rows >= 0 && static_cast<uint64_t>(num_rows) <= s.vector_size);
  if (num_rows == 0) return Status::OK();
  s.SealChunk(num_rows);
  duckdb_state state = duckdb_append_data_chunk(s.appender, s.chunk);
  duckdb_data_chunk_reset(s.chunk);
  s.BindVectors();
  if (state != DuckDBSuccess) return s.Error("cannot append to");
  return Status::OK();
}

Status Appender::Flush() {
  MIXTERA_CHECK(!state_->closed);
  if (duckdb_appender_flush(state_->appender) != DuckDBSuccess) {
    return state_->Error("cannot flush the appender of");
  }
  return Status::OK();
}

Status Appender::Close() {
  auto& s = *state_;
  if (s.closed) return Status::OK();
  s.closed = true;
  if (duckdb_appender_close(s.appender) != DuckDBSuccess) {
    return s.Error("cannot close the appender of");
  }
  return Status::OK();
}

}  // namespace mixtera::duckdb
