// Validation of a query filter against the store's properties, and its compilation into one
// parameterized SQL condition per dataset (DESIGN.md §3.3; docs/query.md has the rules and
// the exact SQL forms).
//
//   MIXTERA_ASSIGN_OR_RETURN(auto props, store->ListProperties());
//   FilterContext ctx{props, /*holdout_fraction=*/0.05};
//   MIXTERA_RETURN_IF_ERROR(ValidatePredicate(where, ctx));
//   for (const auto& ds : datasets) {
//     MIXTERA_ASSIGN_OR_RETURN(DatasetFilter f, CompileFilter(where, ctx, ds, store));
//     if (f.matches_nothing) continue;
//     std::string sql = StrCat("SELECT file_id, sample_id FROM samples_", ds.dataset_id);
//     if (!f.where_sql.empty()) sql += " WHERE " + f.where_sql;
//     MIXTERA_ASSIGN_OR_RETURN(auto stmt, store->connection().Prepare(sql));
//     MIXTERA_RETURN_IF_ERROR(BindFilterParams(f, &stmt));
//     ...
//   }
//
// Every value of the query reaches DuckDB as a bound parameter (strings as dictionary codes);
// nothing the user wrote is spliced into SQL. The compiled condition is a plain scalar
// expression over the table's own columns (no subquery, no join, no IN list that DuckDB
// would rewrite into a join), so a scan keeps DuckDB's insertion order: (file_id, sample_id).
//
// Thread safety: the functions are reentrant; CompileFilter uses the store (see
// store::MetadataStore for its rules).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "duckdb/prepared_statement.h"
#include "mixtera/result.h"
#include "mixtera/status.h"
#include "model/dataset_info.h"
#include "model/predicate.h"
#include "store/metadata_store.h"

namespace mixtera::query {

// Everything the compiler needs to know about the store.
struct FilterContext {
  // Global properties (name -> type), from MetadataStore::ListProperties(). The
  // pseudo-properties `dataset` and `split` are implied and must not be listed.
  std::vector<store::GlobalProperty> properties;
  // The fraction of samples the `split` pseudo-property calls 'holdout', in [0, 1].
  // Default: 0.05. Changing it moves samples between 'train' and 'holdout' monotonically:
  // a sample in the holdout at fraction f stays there at every fraction above f.
  double holdout_fraction = 0.05;
};

// Checks `p` against the known properties (ctx.properties plus `dataset` (string) and
// `split` (string; 'train' or 'holdout')). The rules (docs/query.md):
//   - every property exists (names are case-sensitive);
//   - string, enum: string literals, every comparison, in;
//   - string_list: string literals; == and contains mean "contains", != "does not
//     contain", in "contains any"; < <= > >= are errors;
//   - int: integer literals; a float literal only with < <= > >= (compared exactly);
//   - float: integer or float literals;
//   - bool: true/false with ==, != and in;
//   - `contains` only on a string_list; `split` compared with == / != / in only to 'train'
//     or 'holdout';
//   - kAnd/kOr have children, kNot exactly one, kIn at least one value, floats are finite;
//   - ctx.holdout_fraction is in [0, 1].
// Errors: InvalidArgument naming the offending property (or node) and listing every known
// property with its type, e.g. "unknown property 'lang'; known properties: dataset (string),
// language (string), split (string), stars (int)".
Status ValidatePredicate(const model::Predicate& p, const FilterContext& ctx);

// One value bound to a `?` of DatasetFilter::where_sql.
struct SqlParam {
  enum class Kind : uint8_t {
    kInt64,   // BIGINT (also dictionary codes)
    kDouble,  // DOUBLE
    kBool,    // BOOLEAN
    kBits,    // BIT string: a set of dictionary codes (bit c set = code c is in the set)
  };
  Kind kind = Kind::kInt64;
  int64_t int_value = 0;
  double double_value = 0;
  bool bool_value = false;
  std::vector<bool> bits;

  static SqlParam Int64(int64_t v) {
    SqlParam p;
    p.kind = Kind::kInt64;
    p.int_value = v;
    return p;
  }
  static SqlParam Double(double v) {
    SqlParam p;
    p.kind = Kind::kDouble;
    p.double_value = v;
    return p;
  }
  static SqlParam Bool(bool v) {
    SqlParam p;
    p.kind = Kind::kBool;
    p.bool_value = v;
    return p;
  }
  static SqlParam Bits(std::vector<bool> v) {
    SqlParam p;
    p.kind = Kind::kBits;
    p.bits = std::move(v);
    return p;
  }
  bool operator==(const SqlParam& o) const = default;
};

// One dataset's compiled filter over its table samples_<dataset_id> (docs/store_schema.md).
struct DatasetFilter {
  // The predicate is constant FALSE or NULL for this dataset: skip the scan. where_sql is
  // then empty.
  bool matches_nothing = false;
  // "" means no WHERE (every sample matches); otherwise a boolean SQL expression over the
  // table's columns, referred to as quoted identifiers ("lang") plus file_id and sample_id,
  // without a table alias. It holds one `?` per entry of `params`, in order.
  std::string where_sql;
  // Values for the `?` placeholders of where_sql, in order; bind them with
  // BindFilterParams.
  std::vector<SqlParam> params;
};

// Compiles `p` for one dataset (`dataset.properties` are its declared properties). `p` is
// validated first (ValidatePredicate's errors). Semantics are SQL's, per sample:
//   - a global property the dataset does not declare is NULL there: comparisons with it are
//     NULL (so `p != 'x'` and `not p == 'x'` do not match), `p is null` is TRUE;
//   - string literals become dictionary codes (the `dictionary` table); a value that is not
//     in the dictionary makes ==, in and contains FALSE and != TRUE for non-NULL values;
//   - < <= > >= on strings compare the UTF-8 bytes (code point order) of the values; the
//     matching codes are resolved here from the dictionary;
//   - `dataset` is a constant per dataset (its name); `split` is 'holdout' for a
//     deterministic pseudo-random ctx.holdout_fraction of the samples and 'train' for the
//     rest, a function of (dataset name, file index in the dataset, sample_id) given in
//     docs/query.md, so the split does not depend on the store's ids or registration order.
// Errors: ValidatePredicate's; errors of the store's queries (IOError, Corruption).
Result<DatasetFilter> CompileFilter(const model::Predicate& p, const FilterContext& ctx,
                                    const model::DatasetInfo& dataset, store::MetadataStore* store);

// Binds filter.params to the statement's placeholders first_index .. first_index + n - 1
// (by default 1..n, so a SELECT list without placeholders, then the WHERE; a caller with
// placeholders of its own before the filter's passes the first free index).
// Errors: InvalidArgument when the statement has too few placeholders, or a value does not
// convert (DuckDB's text).
Status BindFilterParams(const DatasetFilter& filter, duckdb::PreparedStatement* stmt,
                        int64_t first_index = 1);

}  // namespace mixtera::query
