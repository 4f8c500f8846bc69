#include "query/filter_compiler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "base/macros.h"
#include "base/strings.h"
#include "duckdb/connection.h"
#include "query/where_parser.h"

namespace mixtera::query {

namespace {

using model::CompareOp;
using model::Literal;
using model::Predicate;
using model::PropertyType;

// --- Known properties and validation --------------------------------------------------------

constexpr std::string_view kDatasetProperty = "dataset";
constexpr std::string_view kSplitProperty = "split";
constexpr std::string_view kTrain = "train";
constexpr std::string_view kHoldout = "holdout";

struct KnownProperty {
  std::string name;
  PropertyType type;
};

std::vector<KnownProperty> KnownProperties(const FilterContext& ctx) {
  std::vector<KnownProperty> known;
  known.push_back({std::string(kDatasetProperty), PropertyType::kString});
  known.push_back({std::string(kSplitProperty), PropertyType::kString});
  for (const auto& g : ctx.properties) known.push_back({g.name, g.type});
  std::sort(known.begin(), known.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return known;
}

std::string KnownList(const std::vector<KnownProperty>& known) {
  std::vector<std::string> parts;
  parts.reserve(known.size());
  for (const auto& k : known) {
    parts.push_back(StrCat(k.name, " (", model::PropertyTypeName(k.type), ")"));
  }
  return StrJoin(parts, ", ");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// How a literal reads in a message: "string 'x'", "integer 5", "float 1.5", "boolean true".
std::string DescribeLiteral(const Literal& l) {
  switch (l.kind) {
    case Literal::Kind::kString:
      return StrCat("string ", LiteralToString(l));
    case Literal::Kind::kInt:
      return StrCat("integer ", LiteralToString(l));
    case Literal::Kind::kFloat:
      return StrCat("float ", LiteralToString(l));
    case Literal::Kind::kBool:
      return StrCat("boolean ", LiteralToString(l));
  }
  return "?";
}

bool IsRangeOp(CompareOp op) { return op != CompareOp::kEq && op != CompareOp::kNe; }

class Validator {
 public:
  explicit Validator(const FilterContext& ctx) : known_(KnownProperties(ctx)) {}

  Status Check(const Predicate& p, int depth) {
    if (depth > 400) return Status::InvalidArgument("the predicate is nested too deeply");
    switch (p.kind) {
      case Predicate::Kind::kTrue:
        return Status::OK();
      case Predicate::Kind::kAnd:
      case Predicate::Kind::kOr:
        if (p.children.empty()) {
          return Status::InvalidArgument(StrCat("an '",
                                                p.kind == Predicate::Kind::kAnd ? "and" : "or",
                                                "' needs at least one operand"));
        }
        for (const auto& c : p.children) MIXTERA_RETURN_IF_ERROR(Check(c, depth + 1));
        return Status::OK();
      case Predicate::Kind::kNot:
        if (p.children.size() != 1) {
          return Status::InvalidArgument(
              StrCat("a 'not' needs exactly one operand, got ", p.children.size()));
        }
        return Check(p.children[0], depth + 1);
      default:
        return CheckLeaf(p);
    }
  }

 private:
  Status Invalid(const Predicate& leaf, const std::string& what) const {
    return Status::InvalidArgument(
        StrCat(PredicateToString(leaf), ": ", what, "; known properties: ", KnownList(known_)));
  }

  Status CheckLeaf(const Predicate& p) const {
    const KnownProperty* prop = nullptr;
    for (const auto& k : known_) {
      if (k.name == p.property) prop = &k;
    }
    if (prop == nullptr) {
      std::string hint;
      for (const auto& k : known_) {
        if (Lower(k.name) == Lower(p.property)) hint = StrCat(" (did you mean '", k.name, "'?)");
      }
      return Status::InvalidArgument(StrCat("unknown property '", p.property, "'", hint,
                                            "; known properties: ", KnownList(known_)));
    }
    const std::string name =
        StrCat("property '", p.property, "' (", model::PropertyTypeName(prop->type), ")");
    switch (p.kind) {
      case Predicate::Kind::kIsNull:
      case Predicate::Kind::kIsNotNull:
        return Status::OK();
      case Predicate::Kind::kContains:
        if (prop->type != PropertyType::kStringList) {
          return Invalid(p, StrCat("'contains' needs a string_list property; ", name,
                                   " is not one (use == or in)"));
        }
        if (p.values.size() != 1) return Invalid(p, "'contains' takes exactly one value");
        return CheckValue(p, *prop, name, CompareOp::kEq, p.values[0]);
      case Predicate::Kind::kCompare:
        if (p.values.size() != 1) return Invalid(p, "a comparison takes exactly one value");
        if (IsRangeOp(p.op) &&
            (prop->type == PropertyType::kBool || prop->type == PropertyType::kStringList)) {
          return Invalid(p, StrCat("operator '", CompareOpText(p.op), "' is not defined on ", name,
                                   prop->type == PropertyType::kBool
                                       ? "; use == or !="
                                       : "; use contains, in, == (contains) or != (does not "
                                         "contain)"));
        }
        return CheckValue(p, *prop, name, p.op, p.values[0]);
      case Predicate::Kind::kIn:
        if (p.values.empty()) return Invalid(p, "'in' needs at least one value");
        for (const auto& v : p.values) {
          MIXTERA_RETURN_IF_ERROR(CheckValue(p, *prop, name, CompareOp::kEq, v));
        }
        return Status::OK();
      default:
        return Status::Internal("unexpected predicate kind");
    }
  }

  // Checks literal `v` compared with `op` (kEq for in and contains) against `prop`.
  Status CheckValue(const Predicate& p, const KnownProperty& prop, const std::string& name,
                    CompareOp op, const Literal& v) const {
    if (v.kind == Literal::Kind::kFloat && !std::isfinite(v.float_value)) {
      return Invalid(p, "a float literal must be finite");
    }
    auto mismatch = [&]() {
      return Invalid(p, StrCat(name, " cannot be compared with ", DescribeLiteral(v)));
    };
    switch (prop.type) {
      case PropertyType::kString:
      case PropertyType::kEnum:
      case PropertyType::kStringList:
        if (v.kind != Literal::Kind::kString) return mismatch();
        if (prop.name == kSplitProperty && !IsRangeOp(op) && v.string_value != kTrain &&
            v.string_value != kHoldout) {
          return Invalid(p, StrCat("property 'split' has the values 'train' and 'holdout', not ",
                                   LiteralToString(v)));
        }
        return Status::OK();
      case PropertyType::kInt:
        if (v.kind == Literal::Kind::kInt) return Status::OK();
        if (v.kind == Literal::Kind::kFloat) {
          if (IsRangeOp(op)) return Status::OK();
          return Invalid(p, StrCat(name, " cannot equal ", DescribeLiteral(v),
                                   " (an int compares for equality with integers only)"));
        }
        return mismatch();
      case PropertyType::kFloat:
        if (v.kind == Literal::Kind::kInt || v.kind == Literal::Kind::kFloat) return Status::OK();
        return mismatch();
      case PropertyType::kBool:
        if (v.kind == Literal::Kind::kBool) return Status::OK();
        return mismatch();
    }
    return mismatch();
  }

  std::vector<KnownProperty> known_;
};

Status CheckFraction(double f) {
  if (!(f >= 0.0 && f <= 1.0)) {
    return Status::InvalidArgument(StrCat("the holdout fraction must be in [0, 1], got ", f));
  }
  return Status::OK();
}

// --- Compilation ----------------------------------------------------------------------------

// A compiled node: a constant, or an SQL boolean expression with its parameters (in the
// order of their `?` in `sql`).
//
// Constant NULLs are folded by polarity. Only rows whose whole filter is TRUE match, and
// Kleene's three-valued logic is monotone (FALSE < NULL < TRUE; AND is min, OR is max, NOT
// reverses the order) and regular (a result that is TRUE with an input NULL is TRUE for
// every value of that input). So a sub-expression that is constantly NULL may be replaced by
// FALSE where it sits under an even number of NOTs ("positive") and by TRUE under an odd
// number, without changing which rows match; SQL that can be NULL at run time (a comparison
// with a NULL column) is kept as is and evaluated by DuckDB with SQL's semantics.
struct Expr {
  enum class Kind : uint8_t { kTrue, kFalse, kSql };
  Kind kind = Kind::kTrue;
  std::string sql;
  std::vector<SqlParam> params;
  // kSql leaves may also give their negation with the same parameters ("x IS NULL" for
  // "x IS NOT NULL"); Not() then uses it instead of wrapping `sql` in NOT.
  std::string negated_sql;

  static Expr Const(Kind k) {
    Expr e;
    e.kind = k;
    return e;
  }
  static Expr Bool(bool b) { return Const(b ? Kind::kTrue : Kind::kFalse); }
  static Expr Sql(std::string sql, std::vector<SqlParam> params = {},
                  std::string negated_sql = "") {
    Expr e;
    e.kind = Kind::kSql;
    e.sql = std::move(sql);
    e.params = std::move(params);
    e.negated_sql = std::move(negated_sql);
    return e;
  }
};

Expr Not(Expr e) {
  switch (e.kind) {
    case Expr::Kind::kTrue:
      return Expr::Const(Expr::Kind::kFalse);
    case Expr::Kind::kFalse:
      return Expr::Const(Expr::Kind::kTrue);
    case Expr::Kind::kSql:
      if (e.negated_sql.empty()) {
        e.sql = StrCat("(NOT ", e.sql, ")");
      } else {
        std::swap(e.sql, e.negated_sql);
      }
      return e;
  }
  return e;
}

// AND (is_and) or OR of `parts`, folding constants.
Expr Combine(bool is_and, std::vector<Expr> parts) {
  const Expr::Kind absorbing = is_and ? Expr::Kind::kFalse : Expr::Kind::kTrue;
  const Expr::Kind neutral = is_and ? Expr::Kind::kTrue : Expr::Kind::kFalse;
  std::vector<Expr> sql;
  for (auto& e : parts) {
    if (e.kind == absorbing) return Expr::Const(absorbing);
    if (e.kind == Expr::Kind::kSql) sql.push_back(std::move(e));
  }
  if (sql.empty()) return Expr::Const(neutral);
  if (sql.size() == 1) return std::move(sql[0]);
  Expr out = Expr::Sql("(");
  for (size_t i = 0; i < sql.size(); ++i) {
    if (i > 0) out.sql += is_and ? " AND " : " OR ";
    out.sql += sql[i].sql;
    for (auto& p : sql[i].params) out.params.push_back(std::move(p));
  }
  out.sql += ")";
  return out;
}

// Sets of dictionary codes with at most this many members compile to an OR of equalities;
// larger ones to a bit set (one BIT parameter, O(1) per row).
constexpr size_t kMaxOrChain = 8;

// The split hash (docs/query.md): all arithmetic in BIGINT, modulo the Mersenne prime
// 2^31 - 1; every intermediate value stays below 2^62.
constexpr int64_t kSplitModulus = 2147483647;
struct SplitRound {
  int64_t key;         // < 2^31
  int64_t multiplier;  // < 2^31 - 1
};
// Rounds 0-1 mix the file, rounds 2-5 the sample.
constexpr SplitRound kSplitRounds[6] = {{625341585, 1103515245},  {1481765933, 1664525029},
                                        {461845907, 2078917053},  {1759714724, 1597334677},
                                        {1013904242, 1812433253}, {668265263, 1140671485}};

// 64-bit FNV-1a.
uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// r(z) = (xor(z, key) * multiplier) % (2^31 - 1), for 0 <= z < 2^31. `z` appears once, so
// chained rounds stay short.
std::string SplitRoundSql(const std::string& z, const SplitRound& round) {
  return StrCat("((xor(", z, ", ", round.key, ") * ", round.multiplier, ") % ", kSplitModulus, ")");
}

class Compiler {
 public:
  Compiler(const FilterContext& ctx, const model::DatasetInfo& dataset, store::MetadataStore* store)
      : ctx_(ctx), dataset_(dataset), store_(store) {}

  // Compiles `p`, which sits under an even (positive) or odd number of NOTs.
  Result<Expr> Compile(const Predicate& p, bool positive) {
    switch (p.kind) {
      case Predicate::Kind::kTrue:
        return Expr::Const(Expr::Kind::kTrue);
      case Predicate::Kind::kAnd:
      case Predicate::Kind::kOr: {
        std::vector<Expr> parts;
        for (const auto& c : p.children) {
          MIXTERA_ASSIGN_OR_RETURN(Expr e, Compile(c, positive));
          parts.push_back(std::move(e));
        }
        return Combine(p.kind == Predicate::Kind::kAnd, std::move(parts));
      }
      case Predicate::Kind::kNot: {
        MIXTERA_ASSIGN_OR_RETURN(Expr e, Compile(p.children[0], !positive));
        return Not(std::move(e));
      }
      default:
        positive_ = positive;  // read by NullConstant() and NullOr() while compiling the leaf
        return CompileLeaf(p);
    }
  }

 private:
  // The declaration of property `name` in this dataset, or nullptr when it lacks one.
  const model::PropertySchema* Column(const std::string& name) const {
    for (const auto& s : dataset_.properties) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }

  Result<Expr> CompileLeaf(const Predicate& p) {
    if (p.property == kDatasetProperty) return Expr::Bool(MatchesConstant(p, dataset_.name));
    if (p.property == kSplitProperty) return CompileSplit(p);
    const model::PropertySchema* column = Column(p.property);
    if (column == nullptr) {  // NULL throughout this dataset
      if (p.kind == Predicate::Kind::kIsNull) return Expr::Const(Expr::Kind::kTrue);
      if (p.kind == Predicate::Kind::kIsNotNull) return Expr::Const(Expr::Kind::kFalse);
      return NullConstant();
    }
    const std::string col = duckdb::QuoteIdentifier(column->name);
    if (p.kind == Predicate::Kind::kIsNull) {
      return column->nullable ? IsNullSql(col, true) : Expr::Bool(false);
    }
    if (p.kind == Predicate::Kind::kIsNotNull) {
      return column->nullable ? IsNullSql(col, false) : Expr::Bool(true);
    }
    switch (column->type) {
      case PropertyType::kInt:
        return CompileInt(p, *column, col);
      case PropertyType::kFloat:
        return CompileFloat(p, col);
      case PropertyType::kBool:
        return CompileBool(p, *column, col);
      case PropertyType::kString:
      case PropertyType::kEnum:
        return CompileString(p, *column, col);
      case PropertyType::kStringList:
        return CompileStringList(p, *column, col);
    }
    return Status::Internal("unexpected property type");
  }

  // A constant NULL, folded by the polarity of the current node (see Expr).
  Expr NullConstant() const { return Expr::Bool(!positive_); }

  // NULL where the column is NULL, else the constant `value`; folded by polarity.
  Expr NullOr(const model::PropertySchema& column, const std::string& col, bool value) const {
    if (!column.nullable || value != positive_) return Expr::Bool(value);
    // Here value == positive_. Positive: NULL counts as FALSE, so the node is TRUE exactly
    // where the column is not NULL. Negative: NULL counts as TRUE, so it is TRUE exactly
    // where the column is NULL.
    return IsNullSql(col, /*is_null=*/!positive_);
  }

  static Expr IsNullSql(const std::string& col, bool is_null) {
    return Expr::Sql(StrCat(col, is_null ? " IS NULL" : " IS NOT NULL"), {},
                     StrCat(col, is_null ? " IS NOT NULL" : " IS NULL"));
  }

  // `col op ?`, with its negation (comparisons are total orders in DuckDB, NaN included).
  static Expr CompareSql(const std::string& col, CompareOp op, SqlParam param) {
    return Expr::Sql(StrCat(col, " ", SqlOp(op), " ?"), {param},
                     StrCat(col, " ", SqlOp(Negate(op)), " ?"));
  }

  static CompareOp Negate(CompareOp op) {
    switch (op) {
      case CompareOp::kEq:
        return CompareOp::kNe;
      case CompareOp::kNe:
        return CompareOp::kEq;
      case CompareOp::kLt:
        return CompareOp::kGe;
      case CompareOp::kLe:
        return CompareOp::kGt;
      case CompareOp::kGt:
        return CompareOp::kLe;
      case CompareOp::kGe:
        return CompareOp::kLt;
    }
    return op;
  }

  static std::string SqlOp(CompareOp op) {
    switch (op) {
      case CompareOp::kEq:
        return "=";
      case CompareOp::kNe:
        return "<>";
      case CompareOp::kLt:
        return "<";
      case CompareOp::kLe:
        return "<=";
      case CompareOp::kGt:
        return ">";
      case CompareOp::kGe:
        return ">=";
    }
    return "=";
  }

  // Evaluates `p` (on a string pseudo-property) against the constant `value`.
  static bool MatchesConstant(const Predicate& p, std::string_view value) {
    switch (p.kind) {
      case Predicate::Kind::kIsNull:
        return false;
      case Predicate::Kind::kIsNotNull:
        return true;
      case Predicate::Kind::kCompare:
        return CompareStrings(value, p.op, p.values[0].string_value);
      case Predicate::Kind::kIn:
        return std::any_of(p.values.begin(), p.values.end(),
                           [&](const Literal& l) { return l.string_value == value; });
      default:
        return false;  // contains: rejected by validation
    }
  }

  // `a op b` on UTF-8 bytes (std::string_view compares as unsigned char).
  static bool CompareStrings(std::string_view a, CompareOp op, std::string_view b) {
    const int c = a.compare(b);
    switch (op) {
      case CompareOp::kEq:
        return c == 0;
      case CompareOp::kNe:
        return c != 0;
      case CompareOp::kLt:
        return c < 0;
      case CompareOp::kLe:
        return c <= 0;
      case CompareOp::kGt:
        return c > 0;
      case CompareOp::kGe:
        return c >= 0;
    }
    return false;
  }

  // --- split ---

  Result<Expr> CompileSplit(const Predicate& p) {
    const bool train = MatchesConstant(p, kTrain);
    const bool holdout = MatchesConstant(p, kHoldout);
    if (train == holdout) return Expr::Bool(train);
    MIXTERA_ASSIGN_OR_RETURN(Expr h, HoldoutExpr());
    return holdout ? h : Not(std::move(h));
  }

  // TRUE for the samples in the holdout (never NULL).
  Result<Expr> HoldoutExpr() {
    const auto threshold = static_cast<int64_t>(
        std::llround(ctx_.holdout_fraction * static_cast<double>(kSplitModulus)));
    if (threshold <= 0) return Expr::Bool(false);
    if (threshold >= kSplitModulus) return Expr::Bool(true);
    MIXTERA_ASSIGN_OR_RETURN(
        auto stmt, store_->connection().Prepare(
                       "SELECT coalesce(min(file_id), 0) FROM files WHERE dataset_id = ?"));
    MIXTERA_RETURN_IF_ERROR(stmt.BindInt64(1, dataset_.dataset_id));
    MIXTERA_ASSIGN_OR_RETURN(auto result, stmt.Execute());
    MIXTERA_ASSIGN_OR_RETURN(bool more, result.NextChunk());
    if (!more || result.chunk_size() != 1) return Status::Internal("min(file_id) returned no row");
    const int64_t first_file_id = result.GetInt64(0, 0);
    const auto name_hash =
        static_cast<int64_t>(Fnv1a64(dataset_.name) % static_cast<uint64_t>(kSplitModulus));
    const std::string m = std::to_string(kSplitModulus);
    // The file's position in its dataset, so the split does not depend on store ids.
    std::string h =
        StrCat("((", name_hash, " + ((file_id - ", first_file_id, ") % ", m, ")) % ", m, ")");
    h = SplitRoundSql(SplitRoundSql(h, kSplitRounds[0]), kSplitRounds[1]);
    h = StrCat("((", h, " + (sample_id % ", m, ")) % ", m, ")");
    for (int r = 2; r < 6; ++r) h = SplitRoundSql(h, kSplitRounds[r]);
    return Expr::Sql(StrCat("(", h, " < ", threshold, ")"));
  }

  // --- scalar types ---

  // Equality with any of `params` (deduplicated by the caller), as `col = ?` or an OR chain
  // (not IN: DuckDB rewrites longer IN lists into a join, which loses the scan order).
  static Expr AnyEqual(const std::string& col, std::vector<SqlParam> params) {
    std::string sql = params.size() > 1 ? "(" : "";
    for (size_t i = 0; i < params.size(); ++i) {
      if (i > 0) sql += " OR ";
      sql += StrCat(col, " = ?");
    }
    if (params.size() > 1) sql += ")";
    return Expr::Sql(std::move(sql), std::move(params));
  }

  Result<Expr> CompileInt(const Predicate& p, const model::PropertySchema& column,
                          const std::string& col) {
    if (p.kind == Predicate::Kind::kIn) {
      std::set<int64_t> values;
      for (const auto& v : p.values) values.insert(v.int_value);
      std::vector<SqlParam> params;
      for (int64_t v : values) params.push_back(SqlParam::Int64(v));
      return AnyEqual(col, std::move(params));
    }
    const Literal& v = p.values[0];
    if (v.kind == Literal::Kind::kInt) {
      return CompareSql(col, p.op, SqlParam::Int64(v.int_value));
    }
    // A float bound of a range comparison (validated): for an integer n,
    // n < x <=> n < ceil(x), n <= x <=> n <= floor(x), n > x <=> n > floor(x),
    // n >= x <=> n >= ceil(x).
    const bool up = p.op == CompareOp::kLt || p.op == CompareOp::kGe;
    const double bound = up ? std::ceil(v.float_value) : std::floor(v.float_value);
    const bool less = p.op == CompareOp::kLt || p.op == CompareOp::kLe;
    if (bound >= 9223372036854775808.0) return NullOr(column, col, less);  // above every int64
    if (bound < -9223372036854775808.0) return NullOr(column, col, !less);
    return CompareSql(col, p.op, SqlParam::Int64(static_cast<int64_t>(bound)));
  }

  static double AsDouble(const Literal& v) {
    return v.kind == Literal::Kind::kInt ? static_cast<double>(v.int_value) : v.float_value;
  }

  Result<Expr> CompileFloat(const Predicate& p, const std::string& col) {
    if (p.kind == Predicate::Kind::kIn) {
      std::vector<double> values;
      for (const auto& v : p.values) values.push_back(AsDouble(v));
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      std::vector<SqlParam> params;
      for (double v : values) params.push_back(SqlParam::Double(v));
      return AnyEqual(col, std::move(params));
    }
    return CompareSql(col, p.op, SqlParam::Double(AsDouble(p.values[0])));
  }

  Result<Expr> CompileBool(const Predicate& p, const model::PropertySchema& column,
                           const std::string& col) {
    if (p.kind == Predicate::Kind::kIn) {
      bool has_true = false, has_false = false;
      for (const auto& v : p.values) (v.bool_value ? has_true : has_false) = true;
      if (has_true && has_false) return NullOr(column, col, true);
      return Expr::Sql(StrCat(col, " = ?"), {SqlParam::Bool(has_true)});
    }
    return CompareSql(col, p.op, SqlParam::Bool(p.values[0].bool_value));
  }

  // --- dictionary-encoded types ---

  // The codes of `values` in the property's dictionary (values not in it are left out),
  // sorted and unique.
  Result<std::vector<int32_t>> LookupCodes(const std::string& property,
                                           const std::vector<Literal>& values) {
    std::set<std::string> unique;
    for (const auto& v : values) unique.insert(v.string_value);
    std::vector<std::string> wanted(unique.begin(), unique.end());
    std::set<int32_t> codes;
    constexpr size_t kBatch = 256;
    for (size_t begin = 0; begin < wanted.size(); begin += kBatch) {
      const size_t end = std::min(wanted.size(), begin + kBatch);
      std::string sql = "SELECT code FROM dictionary WHERE property = ? AND value IN (";
      for (size_t i = begin; i < end; ++i) sql += i > begin ? ", ?" : "?";
      sql += ")";
      MIXTERA_ASSIGN_OR_RETURN(auto stmt, store_->connection().Prepare(sql));
      MIXTERA_RETURN_IF_ERROR(stmt.BindString(1, property));
      for (size_t i = begin; i < end; ++i) {
        MIXTERA_RETURN_IF_ERROR(stmt.BindString(static_cast<int64_t>(i - begin + 2), wanted[i]));
      }
      MIXTERA_ASSIGN_OR_RETURN(auto result, stmt.Execute());
      while (true) {
        MIXTERA_ASSIGN_OR_RETURN(bool more, result.NextChunk());
        if (!more) break;
        for (int64_t r = 0; r < result.chunk_size(); ++r) {
          codes.insert(static_cast<int32_t>(result.GetInt64(0, r)));
        }
      }
    }
    return std::vector<int32_t>(codes.begin(), codes.end());
  }

  // The number of codes of the property's dictionary (max code + 1; 0 when empty).
  Result<int64_t> DictionarySize(const std::string& property) {
    MIXTERA_ASSIGN_OR_RETURN(
        auto stmt, store_->connection().Prepare(
                       "SELECT coalesce(max(code) + 1, 0) FROM dictionary WHERE property = ?"));
    MIXTERA_RETURN_IF_ERROR(stmt.BindString(1, property));
    MIXTERA_ASSIGN_OR_RETURN(auto result, stmt.Execute());
    MIXTERA_ASSIGN_OR_RETURN(bool more, result.NextChunk());
    if (!more || result.chunk_size() != 1) return Status::Internal("max(code) returned no row");
    return result.GetInt64(0, 0);
  }

  // The codes whose values satisfy `value op bound`, and the dictionary size.
  Result<std::pair<std::vector<int32_t>, int64_t>> RangeCodes(const std::string& property,
                                                              CompareOp op,
                                                              const std::string& bound) {
    MIXTERA_ASSIGN_OR_RETURN(
        auto stmt,
        store_->connection().Prepare("SELECT code, value FROM dictionary WHERE property = ?"));
    MIXTERA_RETURN_IF_ERROR(stmt.BindString(1, property));
    MIXTERA_ASSIGN_OR_RETURN(auto result, stmt.Execute());
    std::vector<int32_t> codes;
    int64_t size = 0;
    while (true) {
      MIXTERA_ASSIGN_OR_RETURN(bool more, result.NextChunk());
      if (!more) break;
      for (int64_t r = 0; r < result.chunk_size(); ++r) {
        const int64_t code = result.GetInt64(0, r);
        size = std::max(size, code + 1);
        if (CompareStrings(result.GetString(1, r), op, bound)) {
          codes.push_back(static_cast<int32_t>(code));
        }
      }
    }
    std::sort(codes.begin(), codes.end());
    return std::make_pair(std::move(codes), size);
  }

  // The bit set of `codes` over a dictionary of `size` codes.
  static SqlParam CodeBits(const std::vector<int32_t>& codes, int64_t size) {
    std::vector<bool> bits(static_cast<size_t>(size), false);
    for (int32_t c : codes) bits[static_cast<size_t>(c)] = true;
    return SqlParam::Bits(std::move(bits));
  }

  // A scalar code column is in `codes` (sorted, unique). `size` is the dictionary size, or
  // -1 when unknown (it is then read only when needed).
  Result<Expr> CodeIn(const model::PropertySchema& column, const std::string& col,
                      const std::vector<int32_t>& codes, int64_t size) {
    if (codes.empty()) return NullOr(column, col, false);
    if (static_cast<int64_t>(codes.size()) == size) return NullOr(column, col, true);
    if (codes.size() <= kMaxOrChain) {
      std::vector<SqlParam> params;
      for (int32_t c : codes) params.push_back(SqlParam::Int64(c));
      return AnyEqual(col, std::move(params));
    }
    if (size < 0) {
      MIXTERA_ASSIGN_OR_RETURN(size, DictionarySize(column.name));
    }
    return Expr::Sql(StrCat("(get_bit(?::BIT, ", col, ") = 1)"), {CodeBits(codes, size)});
  }

  Result<Expr> CompileString(const Predicate& p, const model::PropertySchema& column,
                             const std::string& col) {
    if (p.kind == Predicate::Kind::kIn) {
      MIXTERA_ASSIGN_OR_RETURN(auto codes, LookupCodes(column.name, p.values));
      return CodeIn(column, col, codes, -1);
    }
    if (IsRangeOp(p.op)) {
      MIXTERA_ASSIGN_OR_RETURN(auto range, RangeCodes(column.name, p.op, p.values[0].string_value));
      return CodeIn(column, col, range.first, range.second);
    }
    MIXTERA_ASSIGN_OR_RETURN(auto codes, LookupCodes(column.name, p.values));
    if (codes.empty()) return NullOr(column, col, p.op == CompareOp::kNe);
    return CompareSql(col, p.op, SqlParam::Int64(codes[0]));
  }

  // A string_list column contains any of `codes` (sorted, unique).
  Result<Expr> ListContainsAny(const model::PropertySchema& column, const std::string& col,
                               const std::vector<int32_t>& codes) {
    if (codes.empty()) return NullOr(column, col, false);
    if (codes.size() <= kMaxOrChain) {
      std::string sql = codes.size() > 1 ? "(" : "";
      std::vector<SqlParam> params;
      for (size_t i = 0; i < codes.size(); ++i) {
        if (i > 0) sql += " OR ";
        sql += StrCat("list_contains(", col, ", ?)");
        params.push_back(SqlParam::Int64(codes[i]));
      }
      if (codes.size() > 1) sql += ")";
      return Expr::Sql(std::move(sql), std::move(params));
    }
    MIXTERA_ASSIGN_OR_RETURN(int64_t size, DictionarySize(column.name));
    // list_contains of the per-item flags: FALSE for [], NULL for a NULL list.
    return Expr::Sql(
        StrCat("list_contains(list_transform(", col, ", lambda x: get_bit(?::BIT, x) = 1), true)"),
        {CodeBits(codes, size)});
  }

  Result<Expr> CompileStringList(const Predicate& p, const model::PropertySchema& column,
                                 const std::string& col) {
    MIXTERA_ASSIGN_OR_RETURN(auto codes, LookupCodes(column.name, p.values));
    // kCompare is == (contains) or != (does not contain); in and contains are "any".
    if (p.kind == Predicate::Kind::kCompare && p.op == CompareOp::kNe) {
      // "does not contain" is NOT "contains", which sits under one more NOT.
      positive_ = !positive_;
      Result<Expr> any = ListContainsAny(column, col, codes);
      positive_ = !positive_;
      if (!any.ok()) return any.status();
      return Not(std::move(any).value());
    }
    return ListContainsAny(column, col, codes);
  }

  const FilterContext& ctx_;
  const model::DatasetInfo& dataset_;
  store::MetadataStore* store_;
  bool positive_ = true;  // the polarity of the node being compiled
};

}  // namespace

Status ValidatePredicate(const Predicate& p, const FilterContext& ctx) {
  MIXTERA_RETURN_IF_ERROR(CheckFraction(ctx.holdout_fraction));
  return Validator(ctx).Check(p, 0);
}

Result<DatasetFilter> CompileFilter(const Predicate& p, const FilterContext& ctx,
                                    const model::DatasetInfo& dataset,
                                    store::MetadataStore* store) {
  MIXTERA_RETURN_IF_ERROR(ValidatePredicate(p, ctx));
  Compiler compiler(ctx, dataset, store);
  Result<Expr> compiled = compiler.Compile(p, /*positive=*/true);
  if (!compiled.ok()) {
    return compiled.status().WithContext(
        StrCat("compiling the query for dataset '", dataset.name, "'"));
  }
  Expr e = std::move(compiled).value();
  DatasetFilter out;
  switch (e.kind) {
    case Expr::Kind::kTrue:
      break;
    case Expr::Kind::kFalse:
      out.matches_nothing = true;
      break;
    case Expr::Kind::kSql:
      out.where_sql = std::move(e.sql);
      out.params = std::move(e.params);
      break;
  }
  return out;
}

Status BindFilterParams(const DatasetFilter& filter, duckdb::PreparedStatement* stmt,
                        int64_t first_index) {
  if (first_index < 1 ||
      stmt->parameter_count() < first_index - 1 + static_cast<int64_t>(filter.params.size())) {
    return Status::InvalidArgument(StrCat("the statement has ", stmt->parameter_count(),
                                          " placeholders, the filter needs ",
                                          filter.params.size()));
  }
  for (size_t i = 0; i < filter.params.size(); ++i) {
    const SqlParam& param = filter.params[i];
    const auto index = first_index + static_cast<int64_t>(i);
    switch (param.kind) {
      case SqlParam::Kind::kInt64:
        MIXTERA_RETURN_IF_ERROR(stmt->BindInt64(index, param.int_value));
        break;
      case SqlParam::Kind::kDouble:
        MIXTERA_RETURN_IF_ERROR(stmt->BindDouble(index, param.double_value));
        break;
      case SqlParam::Kind::kBool:
        MIXTERA_RETURN_IF_ERROR(stmt->BindBool(index, param.bool_value));
        break;
      case SqlParam::Kind::kBits:
        MIXTERA_RETURN_IF_ERROR(stmt->BindBits(index, param.bits));
        break;
    }
  }
  return Status::OK();
}

}  // namespace mixtera::query
