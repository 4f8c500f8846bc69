#include "duckdb/query_result.h"

#include <limits>
#include <utility>
#include <vector>

#include "base/macros.h"
#include "duckdb/internal.h"

namespace mixtera::duckdb {

std::string_view ColumnKindName(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kString:
      return "string";
    case ColumnKind::kInteger:
      return "integer";
    case ColumnKind::kFloat:
      return "float";
    case ColumnKind::kBoolean:
      return "boolean";
    case ColumnKind::kStringList:
      return "string_list";
    case ColumnKind::kOther:
      return "other";
  }
  return "other";
}

namespace internal {

namespace {

const char* BaseTypeName(duckdb_type id) {
  switch (id) {
    case DUCKDB_TYPE_BOOLEAN:
      return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT:
      return "TINYINT";
    case DUCKDB_TYPE_SMALLINT:
      return "SMALLINT";
    case DUCKDB_TYPE_INTEGER:
      return "INTEGER";
    case DUCKDB_TYPE_BIGINT:
      return "BIGINT";
    case DUCKDB_TYPE_UTINYINT:
      return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT:
      return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER:
      return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT:
      return "UBIGINT";
    case DUCKDB_TYPE_FLOAT:
      return "FLOAT";
    case DUCKDB_TYPE_DOUBLE:
      return "DOUBLE";
    case DUCKDB_TYPE_TIMESTAMP:
      return "TIMESTAMP";
    case DUCKDB_TYPE_DATE:
      return "DATE";
    case DUCKDB_TYPE_TIME:
      return "TIME";
    case DUCKDB_TYPE_INTERVAL:
      return "INTERVAL";
    case DUCKDB_TYPE_HUGEINT:
      return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT:
      return "UHUGEINT";
    case DUCKDB_TYPE_VARCHAR:
      return "VARCHAR";
    case DUCKDB_TYPE_BLOB:
      return "BLOB";
    case DUCKDB_TYPE_DECIMAL:
      return "DECIMAL";
    case DUCKDB_TYPE_TIMESTAMP_S:
      return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return "TIMESTAMP_NS";
    case DUCKDB_TYPE_ENUM:
      return "ENUM";
    case DUCKDB_TYPE_STRUCT:
      return "STRUCT";
    case DUCKDB_TYPE_MAP:
      return "MAP";
    case DUCKDB_TYPE_UUID:
      return "UUID";
    case DUCKDB_TYPE_UNION:
      return "UNION";
    case DUCKDB_TYPE_BIT:
      return "BIT";
    case DUCKDB_TYPE_TIME_TZ:
      return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_SQLNULL:
      return "NULL";
    default:
      return "OTHER";
  }
}

bool IsIntegerType(duckdb_type id) {
  switch (id) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
      return true;
    default:
      return false;
  }
}

struct LogicalTypeGuard {
  duckdb_logical_type type;
  ~LogicalTypeGuard() { duckdb_destroy_logical_type(&type); }
};

}  // namespace

ColumnKind KindOf(duckdb_logical_type type) {
  duckdb_type id = duckdb_get_type_id(type);
  if (id == DUCKDB_TYPE_VARCHAR) return ColumnKind::kString;
  if (IsIntegerType(id)) return ColumnKind::kInteger;
  if (id == DUCKDB_TYPE_FLOAT || id == DUCKDB_TYPE_DOUBLE) return ColumnKind::kFloat;
  if (id == DUCKDB_TYPE_BOOLEAN) return ColumnKind::kBoolean;
  if (id == DUCKDB_TYPE_LIST) {
    LogicalTypeGuard child{duckdb_list_type_child_type(type)};
    if (duckdb_get_type_id(child.type) == DUCKDB_TYPE_VARCHAR) return ColumnKind::kStringList;
  }
  return ColumnKind::kOther;
}

std::string TypeName(duckdb_logical_type type) {
  duckdb_type id = duckdb_get_type_id(type);
  if (id == DUCKDB_TYPE_LIST) {
    LogicalTypeGuard child{duckdb_list_type_child_type(type)};
    return TypeName(child.type) + "[]";
  }
  if (id == DUCKDB_TYPE_ARRAY) {
    LogicalTypeGuard child{duckdb_array_type_child_type(type)};
    return TypeName(child.type) + "[" + std::to_string(duckdb_array_type_array_size(type)) + "]";
  }
  return BaseTypeName(id);
}

// The state behind a QueryResult: the duckdb_result, the column descriptions and raw
// pointers into the current chunk.
struct ResultState {
  struct Column {
    std::string name;
    ColumnKind kind = ColumnKind::kOther;
    duckdb_type physical = DUCKDB_TYPE_INVALID;  // for kInteger / kFloat: the C type
    std::string type_name;
    QueryResult::RawType raw = QueryResult::RawType::kOther;
  };
  struct ChunkColumn {
    const void* data = nullptr;
    const uint64_t* validity = nullptr;
    // kStringList: the child vector's strings and validity.
    const duckdb_string_t* child_data = nullptr;
    const uint64_t* child_validity = nullptr;
    // INTEGER[]: the child vector's integers.
    const int32_t* child_int32 = nullptr;
  };

  duckdb_result result;
  std::shared_ptr<ConnectionHandle> conn;  // keeps streaming results valid
  std::vector<Column> columns;
  int64_t rows_changed = 0;
  duckdb_data_chunk chunk = nullptr;
  int64_t chunk_size = 0;
  std::vector<ChunkColumn> chunk_columns;

  ~ResultState() {
    if (chunk != nullptr) duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&result);
  }

  const ChunkColumn& At(int col, int64_t row, ColumnKind kind) const {
    MIXTERA_CHECK(col >= 0 && col < static_cast<int>(columns.size()));
    MIXTERA_CHECK(row >= 0 && row < chunk_size);
    MIXTERA_CHECK(columns[col].kind == kind);
    return chunk_columns[col];
  }
};

QueryResult MakeQueryResult(duckdb_result* result, std::shared_ptr<ConnectionHandle> conn) {
  auto state = std::make_unique<ResultState>();
  state->result = *result;
  state->conn = std::move(conn);
  state->rows_changed = static_cast<int64_t>(duckdb_rows_changed(&state->result));
  idx_t n = duckdb_column_count(&state->result);
  state->columns.resize(n);
  state->chunk_columns.resize(n);
  for (idx_t i = 0; i < n; ++i) {
    auto& c = state->columns[i];
    const char* name = duckdb_column_name(&state->result, i);
    c.name = name != nullptr ? name : "";
    LogicalTypeGuard type{duckdb_column_logical_type(&state->result, i)};
    c.kind = KindOf(type.type);
    c.physical = duckdb_get_type_id(type.type);
    c.type_name = TypeName(type.type);
    switch (c.physical) {
      case DUCKDB_TYPE_INTEGER:
        c.raw = QueryResult::RawType::kInt32;
        break;
      case DUCKDB_TYPE_BIGINT:
        c.raw = QueryResult::RawType::kInt64;
        break;
      case DUCKDB_TYPE_DOUBLE:
        c.raw = QueryResult::RawType::kDouble;
        break;
      case DUCKDB_TYPE_BOOLEAN:
        c.raw = QueryResult::RawType::kBool;
        break;
      case DUCKDB_TYPE_LIST: {
        LogicalTypeGuard child{duckdb_list_type_child_type(type.type)};
        if (duckdb_get_type_id(child.type) == DUCKDB_TYPE_INTEGER)
          c.raw = QueryResult::RawType::kInt32List;
        break;
      }
      default:
        break;
    }
  }
  return QueryResult(std::move(state));
}

}  // namespace internal

namespace {

inline bool BitIsSet(const uint64_t* validity, uint64_t row) {
  return validity == nullptr || ((validity[row >> 6] >> (row & 63)) & 1) != 0;
}

inline std::string_view View(const duckdb_string_t& s) {
  uint32_t len = s.value.inlined.length;
  if (len <= 12) return std::string_view(s.value.inlined.inlined, len);
  return std::string_view(s.value.pointer.ptr, len);
}

}  // namespace

QueryResult::QueryResult(std::unique_ptr<internal::ResultState> state) : state_(std::move(state)) {}
QueryResult::QueryResult(QueryResult&&) noexcept = default;
QueryResult& QueryResult::operator=(QueryResult&&) noexcept = default;
QueryResult::~QueryResult() = default;

int QueryResult::column_count() const { return static_cast<int>(state_->columns.size()); }
const std::string& QueryResult::column_name(int col) const { return state_->columns.at(col).name; }
ColumnKind QueryResult::column_kind(int col) const { return state_->columns.at(col).kind; }
const std::string& QueryResult::column_type_name(int col) const {
  return state_->columns.at(col).type_name;
}
int64_t QueryResult::rows_changed() const { return state_->rows_changed; }
int64_t QueryResult::chunk_size() const { return state_->chunk_size; }

Result<bool> QueryResult::NextChunk() {
  auto& s = *state_;
  while (true) {
    if (s.chunk != nullptr) duckdb_destroy_data_chunk(&s.chunk);
    s.chunk = nullptr;
    s.chunk_size = 0;
    s.chunk = duckdb_fetch_chunk(s.result);
    if (s.chunk == nullptr) {
      const char* error = duckdb_result_error(&s.result);
      if (error != nullptr) {
        return internal::ErrorStatus(duckdb_result_error_type(&s.result), error);
      }
      return false;
    }
    s.chunk_size = static_cast<int64_t>(duckdb_data_chunk_get_size(s.chunk));
    if (s.chunk_size > 0) break;
  }
  for (size_t i = 0; i < s.columns.size(); ++i) {
    duckdb_vector vec = duckdb_data_chunk_get_vector(s.chunk, i);
    auto& cc = s.chunk_columns[i];
    cc.data = duckdb_vector_get_data(vec);
    cc.validity = duckdb_vector_get_validity(vec);
    if (s.columns[i].kind == ColumnKind::kStringList) {
      duckdb_vector child = duckdb_list_vector_get_child(vec);
      cc.child_data = static_cast<const duckdb_string_t*>(duckdb_vector_get_data(child));
      cc.child_validity = duckdb_vector_get_validity(child);
    } else if (s.columns[i].raw == QueryResult::RawType::kInt32List) {
      duckdb_vector child = duckdb_list_vector_get_child(vec);
      cc.child_data = nullptr;
      cc.child_int32 = static_cast<const int32_t*>(duckdb_vector_get_data(child));
      cc.child_validity = duckdb_vector_get_validity(child);
    } else {
      cc.child_data = nullptr;
      cc.child_validity = nullptr;
    }
  }
  return true;
}

QueryResult::RawType QueryResult::raw_type(int col) const { return state_->columns.at(col).raw; }
const void* QueryResult::RawData(int col) const { return state_->chunk_columns.at(col).data; }
const uint64_t* QueryResult::RawValidity(int col) const {
  return state_->chunk_columns.at(col).validity;
}
const int32_t* QueryResult::RawListChildData(int col) const {
  MIXTERA_CHECK(state_->columns.at(col).raw == RawType::kInt32List);
  return state_->chunk_columns[col].child_int32;
}
const uint64_t* QueryResult::RawListChildValidity(int col) const {
  MIXTERA_CHECK(state_->columns.at(col).raw == RawType::kInt32List);
  return state_->chunk_columns[col].child_validity;
}

bool QueryResult::IsNull(int col, int64_t row) const {
  const auto& s = *state_;
  MIXTERA_CHECK(col >= 0 && col < static_cast<int>(s.columns.size()));
  MIXTERA_CHECK(row >= 0 && row < s.chunk_size);
  return !BitIsSet(s.chunk_columns[col].validity, static_cast<uint64_t>(row));
}

bool QueryResult::TryGetInt64(int col, int64_t row, int64_t* out) const {
  const auto& cc = state_->At(col, row, ColumnKind::kInteger);
  switch (state_->columns[col].physical) {
    case DUCKDB_TYPE_TINYINT:
      *out = static_cast<const int8_t*>(cc.data)[row];
      return true;
    case DUCKDB_TYPE_SMALLINT:
      *out = static_cast<const int16_t*>(cc.data)[row];
      return true;
    case DUCKDB_TYPE_INTEGER:
      *out = static_cast<const int32_t*>(cc.data)[row];
      return true;
    case DUCKDB_TYPE_BIGINT:
      *out = static_cast<const int64_t*>(cc.data)[row];
      return true;
    case DUCKDB_TYPE_UTINYINT:
      *out = static_cast<const uint8_t*>(cc.data)[row];
      return true;
    case DUCKDB_TYPE_USMALLINT:
      *out = static_cast<const uint16_t*>(cc.data)[row];
      return true;
    case DUCKDB_TYPE_UINTEGER:
      *out = static_cast<const uint32_t*>(cc.data)[row];
      return true;
    case DUCKDB_TYPE_UBIGINT: {
      uint64_t v = static_cast<const uint64_t*>(cc.data)[row];
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
      *out = static_cast<int64_t>(v);
      return true;
    }
    default:
      MIXTERA_CHECK(false);
  }
  return false;
}

int64_t QueryResult::GetInt64(int col, int64_t row) const {
  const auto& cc = state_->At(col, row, ColumnKind::kInteger);
  if (state_->columns[col].physical == DUCKDB_TYPE_UBIGINT) {
    return static_cast<int64_t>(static_cast<const uint64_t*>(cc.data)[row]);
  }
  int64_t v = 0;
  TryGetInt64(col, row, &v);
  return v;
}

double QueryResult::GetDouble(int col, int64_t row) const {
  MIXTERA_CHECK(col >= 0 && col < static_cast<int>(state_->columns.size()));
  const auto& column = state_->columns[col];
  if (column.kind == ColumnKind::kInteger) {
    if (column.physical == DUCKDB_TYPE_UBIGINT) {
      const auto& cc = state_->At(col, row, ColumnKind::kInteger);
      return static_cast<double>(static_cast<const uint64_t*>(cc.data)[row]);
    }
    return static_cast<double>(GetInt64(col, row));
  }
  const auto& cc = state_->At(col, row, ColumnKind::kFloat);
  if (column.physical == DUCKDB_TYPE_FLOAT) return static_cast<const float*>(cc.data)[row];
  return static_cast<const double*>(cc.data)[row];
}

bool QueryResult::GetBool(int col, int64_t row) const {
  const auto& cc = state_->At(col, row, ColumnKind::kBoolean);
  return static_cast<const bool*>(cc.data)[row];
}

std::string_view QueryResult::GetString(int col, int64_t row) const {
  const auto& cc = state_->At(col, row, ColumnKind::kString);
  return View(static_cast<const duckdb_string_t*>(cc.data)[row]);
}

int64_t QueryResult::ListSize(int col, int64_t row) const {
  const auto& cc = state_->At(col, row, ColumnKind::kStringList);
  return static_cast<int64_t>(static_cast<const duckdb_list_entry*>(cc.data)[row].length);
}

bool QueryResult::IsListItemNull(int col, int64_t row, int64_t i) const {
  const auto& cc = state_->At(col, row, ColumnKind::kStringList);
  const auto& entry = static_cast<const duckdb_list_entry*>(cc.data)[row];
  MIXTERA_CHECK(i >= 0 && static_cast<uint64_t>(i) < entry.length);
  return !BitIsSet(cc.child_validity, entry.offset + static_cast<uint64_t>(i));
}

std::string_view QueryResult::GetListString(int col, int64_t row, int64_t i) const {
  const auto& cc = state_->At(col, row, ColumnKind::kStringList);
  const auto& entry = static_cast<const duckdb_list_entry*>(cc.data)[row];
  MIXTERA_CHECK(i >= 0 && static_cast<uint64_t>(i) < entry.length);
  return View(cc.child_data[entry.offset + static_cast<uint64_t>(i)]);
}

}  // namespace mixtera::duckdb
