#include "query/index_builder.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>

#include "base/big_array.h"
#include "base/macros.h"
#include "base/strings.h"
#include "duckdb/connection.h"
#include "duckdb/prepared_statement.h"
#include "duckdb/query_result.h"
#include "duckdb/scoped_setting.h"

namespace mixtera::query {
namespace {

using duckdb::QueryResult;
using model::PropertyType;
using RawType = QueryResult::RawType;

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline bool Valid(const uint64_t* validity, uint64_t row) {
  return validity == nullptr || ((validity[row >> 6] >> (row & 63)) & 1) != 0;
}

// Interns the values of one grouping property: raw keys (codes, bools, numbers, code lists)
// -> dense value ids. Value id -1 is NULL.
class ValueInterner {
 public:
  explicit ValueInterner(PropertyType type) : type_(type) {}
  PropertyType type() const { return type_; }

  int32_t Code(int32_t code) {  // string / enum: a dictionary code
    if (code < 0) return Scalar(static_cast<uint64_t>(static_cast<uint32_t>(code)) | (1ull << 40));
    if (static_cast<size_t>(code) >= by_code_.size()) by_code_.resize(code + 1, -1);
    int32_t& vid = by_code_[code];
    if (vid < 0) {
      vid = static_cast<int32_t>(raw_.size());
      raw_.push_back({static_cast<uint64_t>(code)});
    }
    return vid;
  }
  int32_t Scalar(uint64_t bits) {  // bool, int, float (bit pattern)
    auto [it, inserted] = by_scalar_.try_emplace(bits, static_cast<int32_t>(raw_.size()));
    if (inserted) raw_.push_back({bits});
    return it->second;
  }
  int32_t List(const int32_t* items, uint64_t n) {  // string_list: dictionary codes
    std::vector<uint64_t> key(items, items + n);
    auto [it, inserted] = by_list_.try_emplace(key, static_cast<int32_t>(raw_.size()));
    if (inserted) raw_.push_back(std::move(key));
    return it->second;
  }
  int32_t Constant(const std::string& s) {  // a per-dataset constant (the dataset name)
    auto [it, inserted] = by_string_.try_emplace(s, static_cast<int32_t>(raw_.size()));
    if (inserted) {
      raw_.push_back({});
      strings_.resize(raw_.size());
      strings_.back() = s;
    }
    return it->second;
  }

  size_t size() const { return raw_.size(); }
  const std::vector<uint64_t>& raw(int32_t vid) const { return raw_[vid]; }
  const std::string& constant(int32_t vid) const { return strings_[vid]; }

 private:
  PropertyType type_;
  std::vector<int32_t> by_code_;
  std::unordered_map<uint64_t, int32_t> by_scalar_;
  std::map<std::vector<uint64_t>, int32_t> by_list_;
  std::unordered_map<std::string, int32_t> by_string_;
  std::vector<std::vector<uint64_t>> raw_;
  std::vector<std::string> strings_;
};

// How one grouping property is read in one dataset's scan.
struct GroupColumn {
  enum class Source { kColumn, kNull, kConstant } source = Source::kNull;
  int result_col = -1;
  int32_t constant_vid = -1;  // kConstant (the dataset name)
};

// Largest dense component table (entries of 4 bytes); its index fits 22 bits.
constexpr uint64_t kMaxDenseTable = 1 << 22;
// Files per scan group (their slot fits 9 bits of the packed dense rows).
constexpr int64_t kMaxGroupFiles = 512;

// One scan group's rows, (sample id << 32 | payload) in arrival order: file i of the group
// owns data[begin[i], begin[i] + num_records) (its row count can be no larger) and has
// filled it up to end[i]. One array per group, so that it is allocated once and reused.
struct GroupRows {
  BigArray<uint64_t> data;
  std::vector<size_t> begin, end;

  // Appends `row` to file i's rows; false when they already fill its space.
  bool Push(size_t i, uint64_t row) {
    if (end[i] == begin[i + 1]) return false;
    data[end[i]++] = row;
    return true;
  }
};

struct TupleHash {
  size_t operator()(const std::vector<int32_t>& v) const {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int32_t x : v) h = (h ^ static_cast<uint32_t>(x)) * 0x100000001b3ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

// DuckDB's memory limit for scanning `datasets`: options.buffer_pool_bytes, or room for every
// DuckDB thread to pin a block (256 KiB) of each column it reads and one more, plus 2 MiB for
// the catalog and the filter's own needs.
Result<int64_t> ScanPoolBytes(duckdb::Connection& conn,
                              const std::vector<model::DatasetInfo>& datasets,
                              const ScanOptions& options) {
  if (options.buffer_pool_bytes > 0) return options.buffer_pool_bytes;
  MIXTERA_ASSIGN_OR_RETURN(int64_t threads,
                           conn.QueryInt64("SELECT CAST(current_setting('threads') AS BIGINT)"));
  size_t columns = 0;
  for (const auto& ds : datasets) columns = std::max(columns, ds.properties.size() + 2);
  return (int64_t{2} << 20) +
         std::max<int64_t>(threads, 1) * static_cast<int64_t>(columns + 1) * (int64_t{256} << 10);
}

// BuildIndex, with DuckDB's memory limit at ScanPoolBytes while it scans when `limit_pool`
// (the store's own otherwise).
Result<BuiltIndex> BuildIndexOnce(store::MetadataStore* store, const model::Predicate& where,
                                  const std::vector<std::string>& group_by,
                                  const FilterContext& ctx, const ScanOptions& options,
                                  bool limit_pool) {
  const int64_t scan_group_rows = options.group_rows;
  const auto t0 = std::chrono::steady_clock::now();
  MIXTERA_RETURN_IF_ERROR(ValidatePredicate(where, ctx));
  // Grouping properties: sorted by name, each with its global type.
  std::vector<std::string> props = group_by;
  std::sort(props.begin(), props.end());
  props.erase(std::unique(props.begin(), props.end()), props.end());
  std::vector<PropertyType> types;
  for (const auto& p : props) {
    if (p == "split") {
      return Status::InvalidArgument("the pseudo-property 'split' cannot be a grouping property");
    }
    if (p == "dataset") {
      types.push_back(PropertyType::kString);
      continue;
    }
    auto it = std::find_if(ctx.properties.begin(), ctx.properties.end(),
                           [&](const store::GlobalProperty& g) { return g.name == p; });
    if (it == ctx.properties.end()) {
      std::vector<std::string> known = {"dataset (string)"};
      for (const auto& g : ctx.properties) {
        known.push_back(StrCat(g.name, " (", model::PropertyTypeName(g.type), ")"));
      }
      return Status::InvalidArgument(
          StrCat("unknown grouping property '", p, "'; known properties: ", StrJoin(known, ", ")));
    }
    types.push_back(it->type);
  }
  const size_t P = props.size();
  std::vector<ValueInterner> interners;
  for (auto t : types) interners.emplace_back(t);

  BuiltIndex out;
  index::ChunkerIndexBuilder builder;
  // Component lookup: tuple of value ids -> builder component.
  std::unordered_map<std::vector<int32_t>, int64_t, TupleHash> component_of;
  std::vector<std::vector<int32_t>> component_tuple;
  std::vector<int32_t> tuple(P), last_tuple;
  int64_t last_component = -1;
  auto lookup = [&]() -> int64_t {
    if (last_component >= 0 && tuple == last_tuple) return last_component;
    auto [it, inserted] = component_of.try_emplace(tuple, builder.num_components());
    if (inserted) {
      builder.AddComponent();
      component_tuple.push_back(tuple);
    }
    last_tuple = tuple;
    last_component = it->second;
    return it->second;
  };

  // DuckDB returns freed buffers to the OS above this threshold (madvise), and every scan
  // then faults fresh pages in again; a larger threshold keeps them for the next group.
  MIXTERA_ASSIGN_OR_RETURN(
      duckdb::ScopedSetting flush_threshold,
      duckdb::ScopedSetting::Set(&store->connection(), "allocator_flush_threshold", "1GB"));
  MIXTERA_ASSIGN_OR_RETURN(auto datasets, store->ListDatasets());
  std::optional<duckdb::ScopedSetting> pool_limit;
  if (limit_pool) {
    MIXTERA_ASSIGN_OR_RETURN(int64_t pool_bytes,
                             ScanPoolBytes(store->connection(), datasets, options));
    MIXTERA_ASSIGN_OR_RETURN(duckdb::ScopedSetting limit,
                             duckdb::ScopedSetting::Set(&store->connection(), "memory_limit",
                                                        StrCat((pool_bytes + 1023) >> 10, "KiB")));
    pool_limit.emplace(std::move(limit));
  }
  std::sort(datasets.begin(), datasets.end(),
            [](const auto& a, const auto& b) { return a.dataset_id < b.dataset_id; });
  uint32_t next_file_index = 0;
  for (const auto& ds : datasets) {
    MIXTERA_ASSIGN_OR_RETURN(DatasetFilter filter, CompileFilter(where, ctx, ds, store));
    if (filter.matches_nothing) continue;
    out.datasets.push_back(ds);
    MIXTERA_ASSIGN_OR_RETURN(auto files, store->ListFiles(ds.name));
    std::unordered_map<int64_t, size_t> file_pos;
    for (size_t i = 0; i < files.size(); ++i) file_pos[files[i].file_id] = i;

    std::vector<std::string> select = {"file_id", "sample_id"};
    std::vector<GroupColumn> cols(P);
    for (size_t p = 0; p < P; ++p) {
      if (props[p] == "dataset") {
        cols[p].source = GroupColumn::Source::kConstant;
        cols[p].constant_vid = interners[p].Constant(ds.name);
        continue;
      }
      const bool declared = std::any_of(ds.properties.begin(), ds.properties.end(),
                                        [&](const auto& s) { return s.name == props[p]; });
      if (!declared) continue;  // NULL in this dataset
      cols[p].source = GroupColumn::Source::kColumn;
      cols[p].result_col = static_cast<int>(select.size());
      select.push_back(duckdb::QuoteIdentifier(props[p]));
    }
    // Dense lookup: when every grouping column of this dataset is a dictionary code or a
    // bool, a row's component is found by indexing a table with the mixed-radix number of
    // its codes (NULL = 0, code c = c + 1), without hashing; new combinations go through
    // the interners once.
    std::vector<int64_t> dense_radix(P, 1), dense_stride(P, 0);
    bool dense = true;
    uint64_t dense_size = 1;
    for (size_t p = 0; p < P && dense; ++p) {
      if (cols[p].source != GroupColumn::Source::kColumn) continue;
      const PropertyType t = types[p];
      if (t == PropertyType::kString || t == PropertyType::kEnum) {
        MIXTERA_ASSIGN_OR_RETURN(
            auto count_stmt,
            store->connection().Prepare("SELECT count(*) FROM dictionary WHERE property = ?"));
        MIXTERA_RETURN_IF_ERROR(count_stmt.BindString(1, props[p]));
        MIXTERA_ASSIGN_OR_RETURN(auto count_result, count_stmt.Execute());
        MIXTERA_ASSIGN_OR_RETURN(bool has_row, count_result.NextChunk());
        dense_radix[p] = (has_row ? count_result.GetInt64(0, 0) : 0) + 1;
      } else if (t == PropertyType::kBool) {
        dense_radix[p] = 3;
      } else {
        dense = false;
        break;
      }
      dense_stride[p] = static_cast<int64_t>(dense_size);
      dense_size *= static_cast<uint64_t>(dense_radix[p]);
      if (dense_size > kMaxDenseTable) dense = false;
    }
    std::vector<int32_t> dense_table;
    std::vector<size_t> dense_cols;
    if (dense) {
      dense_table.assign(dense_size, -1);
      for (size_t p = 0; p < P; ++p) {
        if (cols[p].source == GroupColumn::Source::kColumn) dense_cols.push_back(p);
      }
    }

    // Ingest appends batches of several files as they are scanned in parallel, so rows of
    // different files interleave in the table (each file's own rows stay in order). Scan
    // groups of consecutive files (zone maps on file_id skip the other row groups), buffer
    // each file's (sample, component) pairs, then feed the files to the builder in order:
    // memory stays bounded by the group size, not the dataset.
    if (dense) {
      // DuckDB computes the dense index itself (vectorized, in parallel), so one integer
      // per row crosses over instead of one per grouping column.
      std::vector<std::string> terms;
      for (size_t p : dense_cols) {
        const std::string col = duckdb::QuoteIdentifier(props[p]);
        terms.push_back(StrCat("coalesce(CAST(", col, " AS BIGINT) + 1, 0) * ", dense_stride[p]));
      }
      const std::string index_expr =
          terms.empty() ? std::string("CAST(0 AS BIGINT)") : StrJoin(terms, " + ");
      // One BIGINT per row: file slot in the group (9 bits) | sample id (32) | dense index
      // (22), with the slot relative to the group's first file id (bound per group).
      select = {StrCat("(file_id - ?) * ", int64_t{1} << 54, " + sample_id * ", int64_t{1} << 22,
                       " + ", index_expr)};
    }
    // The slow path of the dense index: decode the codes of a combination seen for the first
    // time, intern them, and look the tuple up.
    auto component_of_dense_index = [&](uint64_t idx) -> int64_t {
      for (size_t p = 0; p < P; ++p) {
        if (cols[p].source == GroupColumn::Source::kNull) {
          tuple[p] = -1;
        } else if (cols[p].source == GroupColumn::Source::kConstant) {
          tuple[p] = cols[p].constant_vid;
        } else {
          const int64_t v = static_cast<int64_t>((idx / static_cast<uint64_t>(dense_stride[p])) %
                                                 static_cast<uint64_t>(dense_radix[p])) -
                            1;
          if (v < 0) {
            tuple[p] = -1;
          } else if (types[p] == PropertyType::kBool) {
            tuple[p] = interners[p].Scalar(static_cast<uint64_t>(v));
          } else {
            tuple[p] = interners[p].Code(static_cast<int32_t>(v));
          }
        }
      }
      return lookup();
    };
    const std::string base_sql =
        StrCat("SELECT ", StrJoin(select, ", "), " FROM samples_", ds.dataset_id, " WHERE ");
    // Scan groups: consecutive files, about scan_group_rows records each. The first group is
    // a quarter of that and the last one is split in two, so that the build starts sooner and
    // the last build (which nothing overlaps) is short.
    std::vector<std::pair<size_t, size_t>> groups;
    for (size_t group_begin = 0; group_begin < files.size();) {
      const int64_t target =
          groups.empty() ? std::max<int64_t>(1, scan_group_rows / 4) : scan_group_rows;
      size_t group_end = group_begin;
      int64_t group_records = 0;
      while (group_end < files.size() &&
             (group_end == group_begin ||
              (group_records + files[group_end].num_records <= target &&
               files[group_end].file_id - files[group_begin].file_id < kMaxGroupFiles))) {
        group_records += files[group_end].num_records;
        ++group_end;
      }
      groups.emplace_back(group_begin, group_end);
      group_begin = group_end;
    }
    if (groups.size() >= 2 && groups.back().second - groups.back().first >= 2) {
      const auto [last_begin, last_end] = groups.back();
      const size_t middle = last_begin + (last_end - last_begin) / 2;
      groups.back().second = middle;
      groups.emplace_back(middle, last_end);
    }
    // Fills rows with (sample id << 32 | payload) for the files of the group, in arrival
    // order. Uses the store's connection; with `dense` it touches no shared state, so it
    // may run on another thread than BuildGroup.
    auto scan_group = [&](size_t group_begin, size_t group_end, GroupRows& rows) -> Status {
      rows.begin.clear();
      rows.end.clear();
      size_t capacity = 0;
      for (size_t i = group_begin; i < group_end; ++i) {
        rows.begin.push_back(capacity);
        rows.end.push_back(capacity);
        capacity += static_cast<size_t>(std::max<int64_t>(files[i].num_records, 0));
      }
      rows.begin.push_back(capacity);  // the end of the last file's space
      if (rows.data.size() < capacity) rows.data.resize(capacity);
      // The error for a file with more rows than the files table says it has.
      auto too_many_rows = [&](size_t i) {
        return Status::Corruption(StrCat("samples_", ds.dataset_id, " has more rows for file ",
                                         files[group_begin + i].file_id, " than its ",
                                         files[group_begin + i].num_records, " records"));
      };
      const int64_t lo = files[group_begin].file_id, hi = files[group_end - 1].file_id;
      if (dense) {
        // The packed form: the slot's parameter comes first, then the filter's.
        std::string packed_sql = StrCat("SELECT ", select[0], " FROM samples_", ds.dataset_id,
                                        " WHERE file_id BETWEEN ", lo, " AND ", hi);
        if (!filter.where_sql.empty()) packed_sql += " AND (" + filter.where_sql + ")";
        MIXTERA_ASSIGN_OR_RETURN(auto stmt, store->connection().Prepare(packed_sql));
        MIXTERA_RETURN_IF_ERROR(stmt.BindInt64(1, lo));
        MIXTERA_RETURN_IF_ERROR(BindFilterParams(filter, &stmt, /*first_index=*/2));
        // Materialized, not streamed: DuckDB scans the group's row groups on its own threads
        // and hands over whole chunks without a lock per chunk; a group's result is bounded
        // by scan_group_rows (8 bytes a row).
        MIXTERA_ASSIGN_OR_RETURN(QueryResult result, stmt.Execute());
        // slot -> row buffer (file ids of a dataset are consecutive, but look them up anyway).
        constexpr size_t kNoFile = SIZE_MAX;
        std::vector<size_t> slot_file(static_cast<size_t>(hi - lo + 1), kNoFile);
        for (size_t i = group_begin; i < group_end; ++i) {
          slot_file[static_cast<size_t>(files[i].file_id - lo)] = i - group_begin;
        }
        constexpr uint64_t kIndexMask = (uint64_t{1} << 22) - 1;
        const uint64_t table_size = dense_table.size();
        while (true) {
          MIXTERA_ASSIGN_OR_RETURN(bool more, result.NextChunk());
          if (!more) break;
          const int64_t n = result.chunk_size();
          const auto* packed = static_cast<const uint64_t*>(result.RawData(0));
          for (int64_t r = 0; r < n; ++r) {
            const uint64_t v = packed[r];
            const uint64_t slot = v >> 54;
            const uint64_t index = v & kIndexMask;
            if (slot >= slot_file.size() || slot_file[slot] == kNoFile || index >= table_size) {
              return Status::Corruption(StrCat("samples_", ds.dataset_id, ": a row of file ",
                                               lo + static_cast<int64_t>(slot),
                                               " has a file id or dictionary code out of range"));
            }
            const size_t i = slot_file[slot];
            // The slot bits shift out.
            if (!rows.Push(i, ((v >> 22) << 32) | index)) return too_many_rows(i);
          }
        }
        return Status::OK();
      }
      std::string sql = base_sql + StrCat("file_id BETWEEN ", lo, " AND ", hi);
      if (!filter.where_sql.empty()) sql += " AND (" + filter.where_sql + ")";
      MIXTERA_ASSIGN_OR_RETURN(auto stmt, store->connection().Prepare(sql));
      MIXTERA_RETURN_IF_ERROR(BindFilterParams(filter, &stmt));
      MIXTERA_ASSIGN_OR_RETURN(QueryResult result, stmt.Execute());  // as above
      int64_t cached_file = -1;
      size_t cached_i = 0;
      while (true) {
        MIXTERA_ASSIGN_OR_RETURN(bool more, result.NextChunk());
        if (!more) break;
        const int64_t n = result.chunk_size();
        const auto* file_ids = static_cast<const int64_t*>(result.RawData(0));
        const auto* sample_ids = static_cast<const int64_t*>(result.RawData(1));
        // Per grouping column of this chunk: its raw arrays.
        struct Raw {
          RawType type;
          const void* data;
          const uint64_t* validity;
          const int32_t* child;
        };
        std::vector<Raw> raw(P);
        for (size_t p = 0; p < P; ++p) {
          if (cols[p].source != GroupColumn::Source::kColumn) continue;
          const int c = cols[p].result_col;
          raw[p] = {result.raw_type(c), result.RawData(c), result.RawValidity(c), nullptr};
          if (raw[p].type == RawType::kInt32List) {
            raw[p].child = result.RawListChildData(c);
          } else if (raw[p].type == RawType::kOther) {
            return Status::Internal(StrCat("column ", props[p], " of samples_", ds.dataset_id,
                                           " has an unexpected type ", result.column_type_name(c)));
          }
        }
        for (int64_t r = 0; r < n; ++r) {
          const int64_t file_id = file_ids[r];
          const int64_t sample = sample_ids[r];
          if (file_id != cached_file) {
            auto it = file_pos.find(file_id);
            if (it == file_pos.end() || it->second < group_begin || it->second >= group_end) {
              return Status::Corruption(StrCat("samples_", ds.dataset_id, " refers to file ",
                                               file_id, ", which the files table does not list"));
            }
            cached_file = file_id;
            cached_i = it->second - group_begin;
          }
          if (sample < 0 || sample >= static_cast<int64_t>(UINT32_MAX) - 1) {
            return Status::Internal(StrCat("samples_", ds.dataset_id, ": sample id ", sample,
                                           " of file ", file_id, " is out of range"));
          }
          // The slow path: intern every value, then look the tuple up.
          auto component_of_row = [&]() -> int64_t {
            for (size_t p = 0; p < P; ++p) {
              const GroupColumn& gc = cols[p];
              if (gc.source == GroupColumn::Source::kNull) {
                tuple[p] = -1;
                continue;
              }
              if (gc.source == GroupColumn::Source::kConstant) {
                tuple[p] = gc.constant_vid;
                continue;
              }
              const Raw& rc = raw[p];
              if (!Valid(rc.validity, static_cast<uint64_t>(r))) {
                tuple[p] = -1;
                continue;
              }
              switch (rc.type) {
                case RawType::kInt32:
                  tuple[p] = interners[p].Code(static_cast<const int32_t*>(rc.data)[r]);
                  break;
                case RawType::kInt64:
                  tuple[p] = interners[p].Scalar(
                      static_cast<uint64_t>(static_cast<const int64_t*>(rc.data)[r]));
                  break;
                case RawType::kDouble: {
                  double d = static_cast<const double*>(rc.data)[r];
                  if (d == 0) d = 0;  // -0.0 and 0.0 group together
                  uint64_t bits;
                  std::memcpy(&bits, &d, sizeof(bits));
                  tuple[p] = interners[p].Scalar(bits);
                  break;
                }
                case RawType::kBool:
                  tuple[p] = interners[p].Scalar(static_cast<const bool*>(rc.data)[r] ? 1 : 0);
                  break;
                case RawType::kInt32List: {
                  const auto& e = static_cast<const QueryResult::ListEntry*>(rc.data)[r];
                  tuple[p] = interners[p].List(rc.child + e.offset, e.length);
                  break;
                }
                case RawType::kOther:
                  break;
              }
            }
            return lookup();
          };
          // Not dense: the payload is the component itself (this scan then runs on the
          // building thread).
          const uint64_t component = static_cast<uint64_t>(component_of_row());
          if (!rows.Push(cached_i, (static_cast<uint64_t>(sample) << 32) | component)) {
            return too_many_rows(cached_i);
          }
        }
      }
      return Status::OK();
    };
    // Feeds one scanned group's files to the builder, in file order.
    auto build_group = [&](size_t group_begin, size_t group_end, GroupRows& rows) -> Status {
      for (size_t i = 0; i < group_end - group_begin; ++i) {
        std::span<uint64_t> file_rows(rows.data.data() + rows.begin[i],
                                      rows.end[i] - rows.begin[i]);
        if (file_rows.empty()) continue;
        // The payload becomes the builder component (dense: via the table); rows must be in
        // strictly increasing sample order, which they usually arrive in.
        bool increasing = true;
        uint64_t previous_sample = 0;
        for (size_t r = 0; r < file_rows.size(); ++r) {
          uint64_t& packed = file_rows[r];
          if (dense) {
            const uint64_t index = packed & 0xffffffffu;
            int32_t& slot = dense_table[static_cast<size_t>(index)];
            if (slot < 0) slot = static_cast<int32_t>(component_of_dense_index(index));
            packed = (packed & ~uint64_t{0xffffffffu}) | static_cast<uint32_t>(slot);
          }
          increasing &= r == 0 || (packed >> 32) > previous_sample;
          previous_sample = packed >> 32;
        }
        if (!increasing) {
          std::sort(file_rows.begin(), file_rows.end());
          for (size_t r = 1; r < file_rows.size(); ++r) {
            if ((file_rows[r] >> 32) == (file_rows[r - 1] >> 32)) {
              return Status::Internal(StrCat("samples_", ds.dataset_id, ": sample ",
                                             file_rows[r] >> 32, " of file ",
                                             files[group_begin + i].file_id, " appears twice"));
            }
          }
        }
        out.files.push_back(files[group_begin + i]);
        out.file_datasets.push_back(ds.name);
        builder.AddFile(next_file_index++, file_rows);
        out.num_samples += static_cast<int64_t>(file_rows.size());
      }
      return Status::OK();
    };
    if (!dense || groups.size() < 2) {
      GroupRows rows;
      for (const auto& [gb, ge] : groups) {
        MIXTERA_RETURN_IF_ERROR(scan_group(gb, ge, rows));
        MIXTERA_RETURN_IF_ERROR(build_group(gb, ge, rows));
      }
    } else {
      // Two threads: the scan of group g + 1 (DuckDB and the dense index) overlaps with
      // building group g. Two row buffers alternate between them.
      GroupRows buffers[2];
      Status scan_status;
      std::mutex mu;
      std::condition_variable cv;
      size_t scanned = 0;  // groups fully scanned
      size_t built = 0;    // groups fully built (their buffer is free again)
      bool stop = false;
      std::thread scanner([&] {
        for (size_t g = 0; g < groups.size(); ++g) {
          {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return stop || g < built + 2; });
            if (stop) return;
          }
          Status st = scan_group(groups[g].first, groups[g].second, buffers[g % 2]);
          std::lock_guard<std::mutex> lock(mu);
          if (!st.ok()) {
            scan_status = st;
            stop = true;
            cv.notify_all();
            return;
          }
          scanned = g + 1;
          cv.notify_all();
        }
      });
      Status build_status;
      for (size_t g = 0; g < groups.size(); ++g) {
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return stop || scanned > g; });
          if (stop) break;
        }
        build_status = build_group(groups[g].first, groups[g].second, buffers[g % 2]);
        std::lock_guard<std::mutex> lock(mu);
        if (!build_status.ok()) {
          stop = true;
          cv.notify_all();
          break;
        }
        built = g + 1;
        cv.notify_all();
      }
      scanner.join();
      MIXTERA_RETURN_IF_ERROR(scan_status);
      MIXTERA_RETURN_IF_ERROR(build_status);
    }
  }
  if (pool_limit) MIXTERA_RETURN_IF_ERROR(pool_limit->Restore());
  MIXTERA_RETURN_IF_ERROR(flush_threshold.Restore());
  out.scan_seconds = Since(t0);
  const auto t1 = std::chrono::steady_clock::now();

  // Decode the values seen: dictionary codes -> strings, one dictionary query per property.
  std::vector<std::vector<model::GroupValue>> decoded(P);
  for (size_t p = 0; p < P; ++p) {
    ValueInterner& in = interners[p];
    std::vector<model::GroupValue>& values = decoded[p];
    values.resize(in.size());
    const PropertyType type = in.type();
    const bool coded = type == PropertyType::kString || type == PropertyType::kEnum ||
                       type == PropertyType::kStringList;
    std::unordered_map<int64_t, std::string> dict;
    if (coded && props[p] != "dataset" && in.size() > 0) {
      MIXTERA_ASSIGN_OR_RETURN(
          auto stmt,
          store->connection().Prepare("SELECT code, value FROM dictionary WHERE property = ?"));
      MIXTERA_RETURN_IF_ERROR(stmt.BindString(1, props[p]));
      MIXTERA_ASSIGN_OR_RETURN(auto r, stmt.ExecuteStreaming());
      while (true) {
        MIXTERA_ASSIGN_OR_RETURN(bool more, r.NextChunk());
        if (!more) break;
        for (int64_t row = 0; row < r.chunk_size(); ++row) {
          dict.emplace(r.GetInt64(0, row), std::string(r.GetString(1, row)));
        }
      }
    }
    auto code_value = [&](uint64_t code) -> Result<model::Literal> {
      auto it = dict.find(static_cast<int64_t>(code));
      if (it == dict.end()) {
        return Status::Corruption(
            StrCat("property '", props[p], "': code ", code, " is missing from the dictionary"));
      }
      return model::Literal::String(it->second);
    };
    for (int32_t vid = 0; vid < static_cast<int32_t>(in.size()); ++vid) {
      model::GroupValue& v = values[vid];
      v.is_null = false;
      const auto& raw = in.raw(vid);
      if (props[p] == "dataset") {
        v.items.push_back(model::Literal::String(in.constant(vid)));
      } else if (type == PropertyType::kString || type == PropertyType::kEnum) {
        MIXTERA_ASSIGN_OR_RETURN(auto l, code_value(raw[0]));
        v.items.push_back(std::move(l));
      } else if (type == PropertyType::kStringList) {
        for (uint64_t code : raw) {
          MIXTERA_ASSIGN_OR_RETURN(auto l, code_value(code));
          v.items.push_back(std::move(l));
        }
      } else if (type == PropertyType::kBool) {
        v.items.push_back(model::Literal::Bool(raw[0] != 0));
      } else if (type == PropertyType::kInt) {
        v.items.push_back(model::Literal::Int(static_cast<int64_t>(raw[0])));
      } else {
        double d;
        std::memcpy(&d, &raw[0], sizeof(d));
        v.items.push_back(model::Literal::Float(d));
      }
    }
  }
  // Sort components by their values so component numbering depends only on the data: each
  // property's values get ranks (equal values share one; NULL, vid -1, ranks first), then
  // components compare as tuples of ranks.
  std::vector<std::vector<int32_t>> rank(P);
  for (size_t p = 0; p < P; ++p) {
    std::vector<int32_t> vids(decoded[p].size());
    std::iota(vids.begin(), vids.end(), 0);
    std::sort(vids.begin(), vids.end(), [&](int32_t a, int32_t b) {
      return model::CompareGroupValues(decoded[p][a], decoded[p][b]) < 0;
    });
    rank[p].resize(vids.size());
    int32_t r = 0;
    for (size_t i = 0; i < vids.size(); ++i) {
      if (i > 0 && model::CompareGroupValues(decoded[p][vids[i - 1]], decoded[p][vids[i]]) != 0) {
        ++r;
      }
      rank[p][vids[i]] = r;
    }
  }
  const int64_t C = builder.num_components();
  auto rank_of = [&](int64_t c, size_t p) -> int32_t {
    const int32_t vid = component_tuple[c][p];
    return vid < 0 ? -1 : rank[p][vid];
  };
  std::vector<int64_t> order(C);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    for (size_t p = 0; p < P; ++p) {
      const int32_t ra = rank_of(a, p), rb = rank_of(b, p);
      if (ra != rb) return ra < rb;
    }
    return a < b;
  });
  auto value_of = [&](int64_t c, size_t p) -> model::GroupValue {
    const int32_t vid = component_tuple[c][p];
    return vid < 0 ? model::GroupValue{} : decoded[p][vid];
  };
  out.components.properties = props;
  out.components.types = types;
  out.components.values.reserve(C);
  out.components.sizes.reserve(C);
  for (int64_t c : order) {
    std::vector<model::GroupValue> row(P);
    for (size_t p = 0; p < P; ++p) row[p] = value_of(c, p);
    out.components.values.push_back(std::move(row));
    out.components.sizes.push_back(builder.component_size(c));
  }
  out.index = builder.Finish(order);
  out.finish_seconds = Since(t1);
  return out;
}

}  // namespace

Result<BuiltIndex> BuildIndex(store::MetadataStore* store, const model::Predicate& where,
                              const std::vector<std::string>& group_by, const FilterContext& ctx,
                              const ScanOptions& options) {
  auto built = BuildIndexOnce(store, where, group_by, ctx, options, /*limit_pool=*/true);
  if (!built.ok() && built.status().code() == StatusCode::kIOError &&
      built.status().message().find("Out of Memory") != std::string::npos) {
    // The small buffer pool did not fit this scan (e.g. a filter over many columns): again
    // under the store's own limit.
    return BuildIndexOnce(store, where, group_by, ctx, options, /*limit_pool=*/false);
  }
  return built;
}

}  // namespace mixtera::query
