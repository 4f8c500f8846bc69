#include "query/filter_compiler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "base/macros.h"
#include "base/strings.h"
#include "duckdb/connection.h"
#include "query/index_builder.h"
#include "query/test_predicates.h"
#include "query/where_parser.h"
#include "store/metadata_store.h"
#include "testing/test_util.h"

namespace mixtera::query {
namespace {

using namespace ::mixtera::query::testing;  // NOLINT(build/namespaces)
using ::mixtera::testing::TempDir;
using model::PropertySchema;
using model::PropertyType;

// --- An independent model of the stored rows, evaluated with SQL's three-valued logic ------

using StringList = std::vector<std::string>;
// monostate is NULL (a missing property is NULL too).
using Value = std::variant<std::monostate, std::string, int64_t, double, bool, StringList>;

struct Row {
  std::string dataset;
  int64_t file_id = 0;
  int64_t file_index = 0;  // position of the file in its dataset
  int64_t sample_id = 0;
  std::map<std::string, Value> values;
};

using Key = std::tuple<std::string, int64_t, int64_t>;  // dataset, file_id, sample_id

enum TV { kF = 0, kN = 1, kT = 2 };  // Kleene: FALSE < NULL < TRUE
TV Tv(bool b) { return b ? kT : kF; }

// The split formula exactly as docs/query.md states it, written out independently.
bool InHoldout(const Row& r, double fraction) {
  const int64_t P = 2147483647;
  const int64_t k[6] = {0x2545F491, 0x5851F42D, 0x1B873593, 0x68E31DA4, 0x3C6EF372, 0x27D4EB2F};
  const int64_t c[6] = {1103515245, 1664525029, 2078917053, 1597334677, 1812433253, 1140671485};
  auto round = [&](int64_t z, int j) { return ((z ^ k[j]) * c[j]) % P; };
  uint64_t fnv = 14695981039346656037ull;
  for (unsigned char ch : r.dataset) {
    fnv ^= ch;
    fnv *= 1099511628211ull;
  }
  const auto n = static_cast<int64_t>(fnv % static_cast<uint64_t>(P));
  const int64_t a = round(round((n + r.file_index % P) % P, 0), 1);
  int64_t h = (a + r.sample_id % P) % P;
  for (int j = 2; j < 6; ++j) h = round(h, j);
  return h < std::llround(fraction * static_cast<double>(P));
}

bool Cmp3(int c, CompareOp op) {
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

template <typename T>
int Sign(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Compares a non-NULL scalar value with a literal, exactly (long double holds every int64
// and every double).
int CompareValue(const Value& v, const Literal& l) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    // Byte order (unsigned), independent of std::string's comparison.
    const std::string& t = l.string_value;
    for (size_t i = 0; i < std::min(s->size(), t.size()); ++i) {
      const auto x = static_cast<unsigned char>((*s)[i]), y = static_cast<unsigned char>(t[i]);
      if (x != y) return x < y ? -1 : 1;
    }
    return Sign(s->size(), t.size());
  }
  auto lit = [&]() -> long double {
    return l.kind == Literal::Kind::kInt ? static_cast<long double>(l.int_value)
                                         : static_cast<long double>(l.float_value);
  };
  if (const auto* i = std::get_if<int64_t>(&v)) return Sign(static_cast<long double>(*i), lit());
  if (const auto* d = std::get_if<double>(&v)) return Sign(static_cast<long double>(*d), lit());
  if (const auto* b = std::get_if<bool>(&v)) return Sign<int>(*b, l.bool_value);
  ADD_FAILURE() << "not a scalar";
  return 0;
}

bool ListHas(const StringList& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

TV Eval(const Predicate& p, const Row& r, double fraction) {
  switch (p.kind) {
    case Predicate::Kind::kTrue:
      return kT;
    case Predicate::Kind::kAnd: {
      TV out = kT;
      for (const auto& c : p.children) out = std::min(out, Eval(c, r, fraction));
      return out;
    }
    case Predicate::Kind::kOr: {
      TV out = kF;
      for (const auto& c : p.children) out = std::max(out, Eval(c, r, fraction));
      return out;
    }
    case Predicate::Kind::kNot:
      return static_cast<TV>(2 - Eval(p.children[0], r, fraction));
    default:
      break;
  }
  Value v;
  if (p.property == "dataset") {
    v = r.dataset;
  } else if (p.property == "split") {
    v = std::string(InHoldout(r, fraction) ? "holdout" : "train");
  } else if (auto it = r.values.find(p.property); it != r.values.end()) {
    v = it->second;
  }
  const bool is_null = std::holds_alternative<std::monostate>(v);
  if (p.kind == Predicate::Kind::kIsNull) return Tv(is_null);
  if (p.kind == Predicate::Kind::kIsNotNull) return Tv(!is_null);
  if (is_null) return kN;
  if (const auto* list = std::get_if<StringList>(&v)) {
    bool any = false;
    for (const auto& l : p.values) any = any || ListHas(*list, l.string_value);
    if (p.kind == Predicate::Kind::kCompare && p.op == CompareOp::kNe) return Tv(!any);
    return Tv(any);  // == , contains, in
  }
  if (p.kind == Predicate::Kind::kIn) {
    bool any = false;
    for (const auto& l : p.values) any = any || CompareValue(v, l) == 0;
    return Tv(any);
  }
  return Tv(Cmp3(CompareValue(v, p.values[0]), p.op));
}

// --- The store --------------------------------------------------------------------------

PropertySchema Prop(const std::string& name, PropertyType type, bool nullable,
                    std::vector<std::string> enum_values = {}) {
  PropertySchema p;
  p.name = name;
  p.type = type;
  p.nullable = nullable;
  p.enum_values = std::move(enum_values);
  p.field = "/" + name;
  return p;
}

model::DatasetSpec Spec(const std::string& name, std::vector<PropertySchema> props) {
  model::DatasetSpec spec;
  spec.name = name;
  spec.format = model::DataFormat::kJsonl;
  spec.path_patterns = {"/data/" + name + "/*.jsonl"};
  spec.properties = std::move(props);
  spec.normalized_json = "{}";
  return spec;
}

const std::vector<std::string> kLangs = {"en",  "de",   "",      "a;b",    "k:v",
                                         "x,y", "it's", "\"q\"", "日本語", "Grüße",
                                         "ü",   "zzz",  "A",     "a",      "en "};
const std::vector<std::string> kTags = {"x",  "y",   "it's", "",   "a,b", "日本", "α",
                                        "β",  "z;z", "k:v",  "t1", "t2",  "t3",   "t4",
                                        "t5", "t6",  "t7",   "t8", "t9",  "t10"};
const std::vector<std::string> kLicenses = {"MIT", "GPL-2.0", "BSD"};
const std::vector<std::string> kKinds = {"a", "b"};
const std::vector<int64_t> kStarsExtreme = {INT64_MAX, INT64_MIN, (int64_t{1} << 53) + 1, 0};
const std::vector<double> kScores = {-2.5, 0.0, 0.5, 1.5, 2.0, 3.25, 1e10, -0.0};

std::string Word(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "w%04d", i);
  return i % 97 == 0 ? std::string(buf) + "é" : std::string(buf);
}

// Writes `rows` (already holding file ids, sample ids and values) of one dataset.
void Register(store::MetadataStore* store, const model::DatasetSpec& spec,
              const std::vector<int64_t>& file_sizes, std::mt19937* rng,
              const std::function<Value(const PropertySchema&, std::mt19937*)>& gen,
              std::vector<Row>* rows) {
  auto writer = store->BeginDataset(spec);
  ASSERT_OK(writer);
  auto first = (*writer)->ReserveFileIds(static_cast<int64_t>(file_sizes.size()));
  ASSERT_OK(first);
  for (size_t f = 0; f < file_sizes.size(); ++f) {
    const int64_t file_id = *first + static_cast<int64_t>(f);
    model::SampleBatch batch(file_id, spec.properties);
    int64_t sample = 0;
    for (int64_t i = 0; i < file_sizes[f]; ++i) {
      sample += 1 + ((*rng)() % 13 == 0 ? 1 : 0);  // gaps, as skipped records leave
      Row row;
      row.dataset = spec.name;
      row.file_id = file_id;
      row.file_index = static_cast<int64_t>(f);
      row.sample_id = sample;
      batch.sample_ids.push_back(sample);
      for (size_t c = 0; c < spec.properties.size(); ++c) {
        const PropertySchema& p = spec.properties[c];
        Value v = gen(p, rng);
        auto& col = batch.columns[c];
        if (std::holds_alternative<std::monostate>(v)) {
          col.AppendNull();
        } else if (auto* s = std::get_if<std::string>(&v)) {
          col.AppendString(*s);
        } else if (auto* n = std::get_if<int64_t>(&v)) {
          col.AppendInt(*n);
        } else if (auto* d = std::get_if<double>(&v)) {
          col.AppendFloat(*d);
        } else if (auto* b = std::get_if<bool>(&v)) {
          col.AppendBool(*b);
        } else {
          col.BeginList();
          for (const auto& item : std::get<StringList>(v)) col.AppendListItem(item);
          col.EndList();
        }
        row.values[p.name] = std::move(v);
      }
      rows->push_back(std::move(row));
    }
    ASSERT_OK((*writer)->AppendSamples(batch));
    model::FileRecord file;
    file.file_id = file_id;
    file.path = "/data/" + spec.name + "/" + std::to_string(f) + ".jsonl";
    file.num_records = sample + 1;
    file.num_samples = file_sizes[f];
    ASSERT_OK((*writer)->AddFile(file));
  }
  ASSERT_OK((*writer)->Commit());
}

template <typename T>
const T& PickFrom(const std::vector<T>& v, std::mt19937* rng) {
  return v[(*rng)() % v.size()];
}

Value Generate(const PropertySchema& p, std::mt19937* rng) {
  auto chance = [&](double x) { return std::uniform_real_distribution<double>(0, 1)(*rng) < x; };
  if (p.nullable && chance(0.15)) return std::monostate{};
  if (p.name == "lang" || p.name == "note") return PickFrom(kLangs, rng);
  if (p.name == "tags") {
    StringList list;
    const int n = static_cast<int>((*rng)() % 4);
    for (int i = 0; i < n; ++i) list.push_back(PickFrom(kTags, rng));
    return list;
  }
  if (p.name == "license") return PickFrom(kLicenses, rng);
  if (p.name == "kind") return PickFrom(kKinds, rng);
  if (p.name == "stars") {
    if (chance(0.05)) return PickFrom(kStarsExtreme, rng);
    return static_cast<int64_t>((*rng)() % 106) - 5;
  }
  if (p.name == "score") {
    if (chance(0.5)) return PickFrom(kScores, rng);
    return std::uniform_real_distribution<double>(-10, 10)(*rng);
  }
  if (p.name == "flag") return chance(0.5);
  if (p.name == "word") return Word(static_cast<int>((*rng)() % 1500));
  ADD_FAILURE() << "no generator for " << p.name;
  return std::monostate{};
}

model::DatasetSpec AlphaSpec() {
  return Spec(
      "alpha",
      {Prop("lang", PropertyType::kString, true), Prop("tags", PropertyType::kStringList, true),
       Prop("license", PropertyType::kEnum, false, kLicenses),
       Prop("stars", PropertyType::kInt, true), Prop("score", PropertyType::kFloat, true),
       Prop("flag", PropertyType::kBool, true), Prop("word", PropertyType::kString, false)});
}

model::DatasetSpec BetaSpec() {
  return Spec(
      "beta",
      {Prop("lang", PropertyType::kString, false), Prop("tags", PropertyType::kStringList, false),
       Prop("stars", PropertyType::kInt, false), Prop("kind", PropertyType::kEnum, true, kKinds),
       Prop("note", PropertyType::kString, true)});
}

// Runs the compiled filter of every dataset of `store` and collects the matching samples;
// checks that each dataset's rows come in (file_id, sample_id) order.
std::set<Key> RunFilter(store::MetadataStore* store, const Predicate& p, const FilterContext& ctx) {
  std::set<Key> out;
  auto datasets = store->ListDatasets();
  EXPECT_TRUE(datasets.ok()) << datasets.status().ToString();
  if (!datasets.ok()) return out;
  for (const auto& ds : *datasets) {
    auto filter = CompileFilter(p, ctx, ds, store);
    EXPECT_TRUE(filter.ok()) << filter.status().ToString();
    if (!filter.ok() || filter->matches_nothing) continue;
    std::string sql = "SELECT file_id, sample_id FROM samples_" + std::to_string(ds.dataset_id);
    if (!filter->where_sql.empty()) sql += " WHERE " + filter->where_sql;
    auto stmt = store->connection().Prepare(sql);
    EXPECT_TRUE(stmt.ok()) << sql << ": " << stmt.status().ToString();
    if (!stmt.ok()) continue;
    EXPECT_OK(BindFilterParams(*filter, &*stmt));
    auto result = stmt->ExecuteStreaming();
    EXPECT_TRUE(result.ok()) << sql << ": " << result.status().ToString();
    if (!result.ok()) continue;
    std::pair<int64_t, int64_t> last{-1, -1};
    while (true) {
      auto more = result->NextChunk();
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more) break;
      for (int64_t r = 0; r < result->chunk_size(); ++r) {
        std::pair<int64_t, int64_t> key{result->GetInt64(0, r), result->GetInt64(1, r)};
        EXPECT_LT(last, key) << "rows out of order in " << ds.name << " for "
                             << PredicateToString(p);
        last = key;
        out.emplace(ds.name, key.first, key.second);
      }
    }
  }
  return out;
}

std::set<Key> ExpectedRows(const std::vector<Row>& rows, const Predicate& p, double fraction) {
  std::set<Key> out;
  for (const auto& r : rows) {
    if (Eval(p, r, fraction) == kT) out.emplace(r.dataset, r.file_id, r.sample_id);
  }
  return out;
}

class FilterCompilerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto store = store::MetadataStore::Open(dir_->Join("mixtera.duckdb"), {"512MB", 2});
    ASSERT_OK(store);
    store_ = std::move(store).value().release();
    rows_ = new std::vector<Row>();
    std::mt19937 rng(12345);
    Register(store_, AlphaSpec(), {700, 1, 900}, &rng, Generate, rows_);
    Register(store_, BetaSpec(), {600, 400}, &rng, Generate, rows_);
  }
  static void TearDownTestSuite() {
    delete store_;
    delete rows_;
    delete dir_;
    store_ = nullptr;
    rows_ = nullptr;
    dir_ = nullptr;
  }

  static FilterContext Context(double fraction = 0.05) {
    auto props = store_->ListProperties();
    EXPECT_TRUE(props.ok()) << props.status().ToString();
    FilterContext ctx;
    ctx.properties = *props;
    ctx.holdout_fraction = fraction;
    return ctx;
  }

  static Result<DatasetFilter> Compile(const Predicate& p, const std::string& dataset,
                                       double fraction = 0.05) {
    MIXTERA_ASSIGN_OR_RETURN(auto info, store_->GetDataset(dataset));
    return CompileFilter(p, Context(fraction), info, store_);
  }

  // Runs the compiled filters of every dataset and collects the matching samples; checks
  // that each dataset's rows come in (file_id, sample_id) order.
  static std::set<Key> Run(const Predicate& p, double fraction = 0.05) {
    return RunFilter(store_, p, Context(fraction));
  }

  static std::set<Key> Expected(const Predicate& p, double fraction = 0.05) {
    return ExpectedRows(*rows_, p, fraction);
  }

  // Compiles and runs `p` and compares with the model; returns the number of matches.
  static size_t Check(const Predicate& p, double fraction = 0.05) {
    const std::set<Key> got = Run(p, fraction);
    const std::set<Key> want = Expected(p, fraction);
    if (got != want) {
      std::vector<Key> extra, missing;
      std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                          std::back_inserter(extra));
      std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                          std::back_inserter(missing));
      std::string detail;
      for (auto* v : {&extra, &missing}) {
        detail += v == &extra ? " extra:" : " missing:";
        for (size_t i = 0; i < std::min<size_t>(3, v->size()); ++i) {
          detail += " " + std::get<0>((*v)[i]) + "/" + std::to_string(std::get<1>((*v)[i])) + "/" +
                    std::to_string(std::get<2>((*v)[i]));
        }
      }
      ADD_FAILURE() << PredicateToString(p) << ": got " << got.size() << " samples, want "
                    << want.size() << ";" << detail;
    }
    return want.size();
  }

  static TempDir* dir_;
  static store::MetadataStore* store_;
  static std::vector<Row>* rows_;
};

TempDir* FilterCompilerTest::dir_ = nullptr;
store::MetadataStore* FilterCompilerTest::store_ = nullptr;
std::vector<Row>* FilterCompilerTest::rows_ = nullptr;

Predicate P(const std::string& text) {
  auto p = ParseWhere(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().ToString();
  return p.ok() ? *p : Predicate{};
}

const char* const kKnown =
    "known properties: dataset (string), flag (bool), kind (enum), lang (string), license "
    "(enum), note (string), score (float), split (string), stars (int), tags (string_list), "
    "word (string)";

// --- Validation ---------------------------------------------------------------------------

TEST_F(FilterCompilerTest, ValidationErrorsListEveryKnownProperty) {
  const FilterContext ctx = Context();
  struct Case {
    std::string text;
    std::string message;  // without the known-properties suffix
  };
  const std::vector<Case> cases = {
      {"lng == 'en'", "unknown property 'lng'"},
      {"Lang == 'en'", "unknown property 'Lang' (did you mean 'lang'?)"},
      {"lang == 'en' and (stars > 1 or nope is null)", "unknown property 'nope'"},
      {"stars == 'x'", "stars == 'x': property 'stars' (int) cannot be compared with string 'x'"},
      {"stars == 1.5",
       "stars == 1.5: property 'stars' (int) cannot equal float 1.5 (an int compares for "
       "equality with integers only)"},
      {"stars in (1, 2.0)",
       "stars in (1, 2.0): property 'stars' (int) cannot equal float 2.0 (an int compares for "
       "equality with integers only)"},
      {"flag == 1", "flag == 1: property 'flag' (bool) cannot be compared with integer 1"},
      {"score == true",
       "score == true: property 'score' (float) cannot be compared with boolean true"},
      {"lang in ('a', 1)",
       "lang in ('a', 1): property 'lang' (string) cannot be compared with integer 1"},
      {"license == 3", "license == 3: property 'license' (enum) cannot be compared with integer 3"},
      {"tags contains 1",
       "tags contains 1: property 'tags' (string_list) cannot be compared with integer 1"},
      {"flag < true",
       "flag < true: operator '<' is not defined on property 'flag' (bool); use == or !="},
      {"tags >= 'x'",
       "tags >= 'x': operator '>=' is not defined on property 'tags' (string_list); use "
       "contains, in, == (contains) or != (does not contain)"},
      {"lang contains 'x'",
       "lang contains 'x': 'contains' needs a string_list property; property 'lang' (string) "
       "is not one (use == or in)"},
      {"dataset contains 'x'",
       "dataset contains 'x': 'contains' needs a string_list property; property 'dataset' "
       "(string) is not one (use == or in)"},
      {"split == 'test'",
       "split == 'test': property 'split' has the values 'train' and 'holdout', not 'test'"},
      {"split in ('train', 'Holdout')",
       "split in ('train', 'Holdout'): property 'split' has the values 'train' and 'holdout', "
       "not 'Holdout'"},
      {"dataset == 1",
       "dataset == 1: property 'dataset' (string) cannot be compared with integer 1"},
  };
  for (const auto& c : cases) {
    Status st = ValidatePredicate(P(c.text), ctx);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(st.message(), c.message + "; " + kKnown) << c.text;
    // CompileFilter validates too.
    EXPECT_EQ(Compile(P(c.text), "alpha").status().message(), st.message());
  }
}

TEST_F(FilterCompilerTest, ValidationAcceptsTheDocumentedCoercions) {
  const FilterContext ctx = Context();
  for (const std::string text :
       {"", "stars < 1.5", "stars >= -1e30", "score == 2", "score in (1, 2.5)", "tags == 'x'",
        "tags != 'x'", "tags in ('x', 'y')", "split < 'x'", "split != 'train'", "dataset >= 'b'",
        "dataset in ('alpha', 'nope')", "lang <= 'x'", "license < 'M'", "flag in (true, false)",
        "note is null", "kind is not null", "word > 'w1'"}) {
    EXPECT_OK(ValidatePredicate(P(text), ctx));
  }
}

TEST_F(FilterCompilerTest, ValidationRejectsMalformedTrees) {
  const FilterContext ctx = Context();
  EXPECT_STATUS(ValidatePredicate(And({}), ctx), StatusCode::kInvalidArgument,
                "an 'and' needs at least one operand");
  EXPECT_STATUS(ValidatePredicate(Or({}), ctx), StatusCode::kInvalidArgument,
                "an 'or' needs at least one operand");
  Predicate bad_not = Not(Eq("lang", S("x")));
  bad_not.children.push_back(Eq("lang", S("y")));
  EXPECT_STATUS(ValidatePredicate(bad_not, ctx), StatusCode::kInvalidArgument,
                "a 'not' needs exactly one operand, got 2");
  EXPECT_STATUS(ValidatePredicate(In("lang", {}), ctx), StatusCode::kInvalidArgument,
                "lang in (): 'in' needs at least one value; known properties: ");
  EXPECT_STATUS(ValidatePredicate(Cmp("score", CompareOp::kLt, F(INFINITY)), ctx),
                StatusCode::kInvalidArgument, "a float literal must be finite");
  FilterContext bad = ctx;
  bad.holdout_fraction = 1.5;
  EXPECT_STATUS(ValidatePredicate(True(), bad), StatusCode::kInvalidArgument,
                "the holdout fraction must be in [0, 1], got 1.5");
  bad.holdout_fraction = NAN;
  EXPECT_STATUS(ValidatePredicate(True(), bad), StatusCode::kInvalidArgument,
                "the holdout fraction must be in [0, 1]");
}

// --- Compiled shapes ----------------------------------------------------------------------

TEST_F(FilterCompilerTest, ConstantFiltersSkipTheScan) {
  auto expect = [](const std::string& text, const std::string& dataset, bool nothing,
                   const std::string& where_sql) {
    auto f = Compile(P(text), dataset);
    ASSERT_OK(f);
    EXPECT_EQ(f->matches_nothing, nothing) << text << " on " << dataset;
    EXPECT_EQ(f->where_sql, where_sql) << text << " on " << dataset;
  };
  expect("", "alpha", false, "");
  expect("license == 'MIT'", "beta", true, "");      // beta has no license: NULL
  expect("not license == 'MIT'", "beta", true, "");  // NOT NULL is NULL
  expect("license != 'MIT'", "beta", true, "");
  expect("license is null", "beta", false, "");  // everything
  expect("note is null", "alpha", false, "");
  expect("note is not null", "alpha", true, "");
  expect("license is null", "alpha", true, "");  // not nullable in alpha
  expect("license is not null", "alpha", false, "");
  expect("dataset == 'alpha'", "alpha", false, "");
  expect("dataset == 'alpha'", "beta", true, "");
  expect("dataset < 'b'", "beta", true, "");
  expect("dataset is null", "alpha", true, "");
  expect("lang == 'nope'", "alpha", true, "");  // not in the dictionary
  expect("lang == 'nope'", "beta", true, "");
  expect("lang != 'nope'", "beta", false, "");  // every value; none is NULL
  expect("lang != 'nope'", "alpha", false, "\"lang\" IS NOT NULL");
  expect("not lang == 'nope'", "alpha", false, "\"lang\" IS NOT NULL");
  expect("lang < ''", "alpha", true, "");  // nothing sorts before ''
  expect("lang >= ''", "beta", false, "");
  expect("tags contains 'nope'", "alpha", true, "");
  expect("tags != 'nope'", "beta", false, "");
  expect("stars > 1e30", "beta", true, "");
  expect("stars < 1e30", "beta", false, "");
  expect("stars < 1e30", "alpha", false, "\"stars\" IS NOT NULL");
  expect("flag in (true, false)", "alpha", false, "\"flag\" IS NOT NULL");
  expect("split == 'holdout' or dataset == 'alpha'", "alpha", false, "");
  expect("lang == 'nope' or kind == 'a'", "alpha", true, "");
}

TEST_F(FilterCompilerTest, ValuesAreBoundNeverSpliced) {
  auto f = Compile(P("lang == 'it''s' and stars > 5 and score < 1.5 and flag == true"), "alpha");
  ASSERT_OK(f);
  EXPECT_EQ(f->where_sql, "(\"lang\" = ? AND \"stars\" > ? AND \"score\" < ? AND \"flag\" = ?)");
  ASSERT_EQ(f->params.size(), 4u);
  EXPECT_EQ(f->params[0].kind, SqlParam::Kind::kInt64);  // the dictionary code of "it's"
  EXPECT_EQ(f->params[1], SqlParam::Int64(5));
  EXPECT_EQ(f->params[2], SqlParam::Double(1.5));
  EXPECT_EQ(f->params[3], SqlParam::Bool(true));
  // A float bound on an int property becomes the exact integer bound.
  f = Compile(P("stars < 2.5 and stars >= -2.5 and stars <= 7.9 and stars > -0.1"), "beta");
  ASSERT_OK(f);
  EXPECT_EQ(f->where_sql,
            "(\"stars\" < ? AND \"stars\" >= ? AND \"stars\" <= ? AND \"stars\" > ?)");
  EXPECT_EQ(f->params, (std::vector<SqlParam>{SqlParam::Int64(3), SqlParam::Int64(-2),
                                              SqlParam::Int64(7), SqlParam::Int64(-1)}));
  // Large code sets are one BIT parameter.
  f = Compile(P("word < 'w0700'"), "alpha");
  ASSERT_OK(f);
  EXPECT_EQ(f->where_sql, "(get_bit(?::BIT, \"word\") = 1)");
  ASSERT_EQ(f->params.size(), 1u);
  EXPECT_EQ(f->params[0].kind, SqlParam::Kind::kBits);
  f = Compile(P("tags in ('t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9')"), "alpha");
  ASSERT_OK(f);
  EXPECT_EQ(f->where_sql,
            "list_contains(list_transform(\"tags\", lambda x: get_bit(?::BIT, x) = 1), true)");
  // No string of the query reaches the SQL text.
  const std::string text =
      "lang in ('x''); DROP TABLE files; --', 'en') or note == 'a;b' or tags contains 'k:v' or "
      "lang < 'zz'";
  for (const char* ds : {"alpha", "beta"}) {
    f = Compile(P(text), ds);
    ASSERT_OK(f);
    EXPECT_EQ(f->where_sql.find("DROP"), std::string::npos) << f->where_sql;
    EXPECT_EQ(f->where_sql.find("'"), std::string::npos) << f->where_sql;
    EXPECT_EQ(f->where_sql.find("zz"), std::string::npos) << f->where_sql;
  }
}

TEST_F(FilterCompilerTest, BindFilterParamsChecksThePlaceholderCount) {
  auto f = Compile(P("stars > 5"), "beta");
  ASSERT_OK(f);
  auto stmt = store_->connection().Prepare("SELECT count(*) FROM samples_2");
  ASSERT_OK(stmt);
  EXPECT_STATUS(BindFilterParams(*f, &*stmt), StatusCode::kInvalidArgument,
                "the statement has 0 placeholders, the filter needs 1");
}

TEST(BindBitsTest, BitLayoutMatchesDuckDB) {
  auto db = duckdb::Database::Open(":memory:");
  ASSERT_OK(db);
  auto conn = db->Connect();
  ASSERT_OK(conn);
  for (const std::string bits : {"1", "0", "10110000", "101100001", "00000000000000001", "0101"}) {
    auto stmt = conn->Prepare("SELECT CAST(?::BIT AS VARCHAR)");
    ASSERT_OK(stmt);
    std::vector<bool> v;
    for (char c : bits) v.push_back(c == '1');
    ASSERT_OK(stmt->BindBits(1, v));
    auto r = stmt->Execute();
    ASSERT_OK(r);
    auto more = r->NextChunk();
    ASSERT_OK(more);
    EXPECT_EQ(r->GetString(0, 0), bits);
  }
}

// --- End to end against the store ---------------------------------------------------------

TEST_F(FilterCompilerTest, WhereExpressionsMatchTheModel) {
  const std::vector<std::string> texts = {
      "",
      "lang == 'en'",
      "lang != 'en'",
      "not lang == 'en'",
      "not lang != 'en'",
      "lang == 'it''s'",
      "lang == ''",
      "lang == 'a;b'",
      "lang == 'k:v'",
      "lang == 'x,y'",
      "lang == '\"q\"'",
      "lang == '日本語'",
      "lang == 'en '",
      "lang == 'nope'",
      "lang != 'nope'",
      "not lang != 'nope'",
      "lang < 'b'",
      "lang >= 'b'",
      "lang <= ''",
      "lang > 'zzz'",
      "lang < 'Ω'",
      "lang > 'Grüße'",
      "lang >= 'ü'",
      "lang < 'a'",
      "not lang < 'b'",
      "lang in ('en', 'de', 'nope')",
      "lang not in ('en', 'de')",
      "lang in ('nope')",
      "lang not in ('nope')",
      "lang in ('en', 'de', '', 'a;b', 'k:v', 'x,y', 'it''s', 'ü', 'zzz', 'A')",
      "lang not in ('en', 'de', '', 'a;b', 'k:v', 'x,y', 'it''s', 'ü', 'zzz', 'A')",
      "lang is null",
      "lang is not null",
      "not lang is null",
      "tags contains 'x'",
      "tags == 'x'",
      "tags != 'x'",
      "not tags contains 'x'",
      "tags contains 'nope'",
      "tags != 'nope'",
      "not tags == 'nope'",
      "tags contains ''",
      "tags contains 'it''s'",
      "tags in ('x', 'it''s')",
      "tags not in ('x', 'y')",
      "tags in ('t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9', 'α', 'nope')",
      "tags not in ('t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9', 'α')",
      "tags is null",
      "tags is not null",
      "license == 'MIT'",
      "license != 'MIT'",
      "license in ('MIT', 'BSD')",
      "license < 'C'",
      "not license == 'MIT'",
      "license is null",
      "license is not null",
      "stars == 5",
      "stars != 5",
      "stars < 10",
      "stars <= 10",
      "stars > 10",
      "stars >= 10",
      "stars < 10.5",
      "stars <= 10.5",
      "stars > 10.5",
      "stars >= 10.5",
      "stars < -4.5",
      "stars > -4.5",
      "stars > 1e30",
      "stars < 1e30",
      "stars >= -1e30",
      "not stars > 1e30",
      "stars > 9007199254740992.0",
      "stars in (1, 2, 3, 9223372036854775807)",
      "stars not in (1, 2)",
      "stars == 9223372036854775807",
      "stars == -9223372036854775808",
      "stars in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)",
      "score == 1.5",
      "score == 2",
      "score != 2",
      "score < 0",
      "score == 0",
      "score >= 1.5",
      "score in (0.5, 2, 1e10)",
      "score > 1e9",
      "score <= -2.5",
      "flag == true",
      "flag != true",
      "flag == false",
      "not flag == true",
      "flag in (true, false)",
      "flag in (false)",
      "flag is null",
      "word < 'w0500'",
      "word >= 'w0500'",
      "word > 'w1'",
      "word < 'w0100é'",
      "word in ('w0001', 'w0002', 'w0003', 'w0004', 'w0005', 'w0006', 'w0007', 'w0008', "
      "'w0009', 'w0010', 'w0097é')",
      "word == 'w0007'",
      "word != 'w0007'",
      "kind == 'a'",
      "kind != 'a'",
      "kind is null",
      "note == 'en'",
      "note is null",
      "note != 'en' or kind is null",
      "dataset == 'alpha'",
      "dataset != 'alpha'",
      "dataset in ('beta')",
      "dataset < 'b'",
      "dataset is null",
      "dataset is not null",
      "split == 'holdout'",
      "split == 'train'",
      "split != 'holdout'",
      "split in ('train', 'holdout')",
      "split < 'i'",
      "split is null",
      "not split == 'holdout'",
      "lang == 'en' and stars > 10",
      "lang == 'en' or license == 'MIT'",
      "not (lang == 'en' or note == 'en')",
      "not (license == 'MIT' and stars > 10)",
      "(lang == 'en' or lang == 'de') and not tags contains 'x'",
      "license != 'MIT' or kind == 'a'",
      "not (license == 'MIT' or kind == 'a')",
      "lang == 'en' and split == 'holdout'",
      "not (dataset == 'alpha' and flag == true)",
      "not not (score > 1 or note is null)",
      "not (lang != 'nope' and kind != 'nope')",
      "not (stars > 1e30 or flag == true)",
  };
  size_t total = 0;
  for (const auto& text : texts) {
    SCOPED_TRACE(text);
    total += Check(P(text));
  }
  EXPECT_GT(total, 1000u);  // the cases are not vacuous
  // Spot checks computed by hand from the definitions.
  EXPECT_EQ(Run(P("")).size(), rows_->size());
  EXPECT_EQ(Run(P("dataset == 'beta'")).size(), 1000u);
  EXPECT_EQ(Run(P("split == 'holdout' or split == 'train'")).size(), rows_->size());
  EXPECT_TRUE(Run(P("license == 'MIT' and dataset == 'beta'")).empty());
}

// Random typed predicates over the real properties, compared with the model.
TEST_F(FilterCompilerTest, RandomPredicatesMatchTheModel) {
  std::mt19937 rng(4242);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const FilterContext ctx = Context();
  std::vector<std::pair<std::string, PropertyType>> props;
  for (const auto& g : ctx.properties) props.emplace_back(g.name, g.type);
  props.emplace_back("dataset", PropertyType::kString);
  props.emplace_back("split", PropertyType::kString);
  auto literal = [&](const std::string& name, PropertyType type) -> Literal {
    switch (type) {
      case PropertyType::kInt:
        return pick(4) == 0 ? F(std::uniform_real_distribution<double>(-10, 110)(rng))
                            : I(static_cast<int64_t>(pick(120)) - 10);
      case PropertyType::kFloat:
        return pick(2) == 0 ? F(PickFrom(kScores, &rng)) : I(static_cast<int64_t>(pick(7)) - 3);
      case PropertyType::kBool:
        return B(pick(2) == 0);
      default:
        if (name == "split") return S(pick(2) == 0 ? "train" : "holdout");
        if (name == "dataset") return S(pick(2) == 0 ? "alpha" : "beta");
        if (name == "license") return S(PickFrom(kLicenses, &rng));
        if (name == "kind") return S(PickFrom(kKinds, &rng));
        if (name == "tags") return S(PickFrom(kTags, &rng));
        if (name == "word") return S(Word(static_cast<int>(pick(1600))));
        return S(PickFrom(kLangs, &rng));
    }
  };
  std::function<Predicate(int)> tree = [&](int depth) -> Predicate {
    if (depth > 0 && pick(3) != 0) {
      if (pick(4) == 0) return Not(tree(depth - 1));
      std::vector<Predicate> children;
      for (size_t i = 0, n = 2 + pick(2); i < n; ++i) children.push_back(tree(depth - 1));
      return pick(2) == 0 ? And(std::move(children)) : Or(std::move(children));
    }
    const auto& [name, type] = props[pick(props.size())];
    switch (pick(5)) {
      case 0:
        return IsNull(name);
      case 1:
        return IsNotNull(name);
      case 2: {
        std::vector<Literal> values;
        for (size_t i = 0, n = 1 + pick(type == PropertyType::kString ? 12 : 4); i < n; ++i) {
          Literal l = literal(name, type);
          if (type == PropertyType::kInt && l.kind == Literal::Kind::kFloat) l = I(3);
          values.push_back(l);
        }
        return In(name, std::move(values));
      }
      default: {
        CompareOp op = static_cast<CompareOp>(pick(6));
        Literal l = literal(name, type);
        if (type == PropertyType::kStringList) {
          return pick(2) == 0 ? Contains(name, l)
                              : Cmp(name, pick(2) ? CompareOp::kEq : CompareOp::kNe, l);
        }
        if (type == PropertyType::kBool) op = pick(2) ? CompareOp::kEq : CompareOp::kNe;
        if (type == PropertyType::kInt && l.kind == Literal::Kind::kFloat &&
            (op == CompareOp::kEq || op == CompareOp::kNe)) {
          op = CompareOp::kLt;
        }
        return Cmp(name, op, l);
      }
    }
  };
  for (int i = 0; i < 400; ++i) {
    Predicate p = tree(3);
    ASSERT_OK(ValidatePredicate(p, ctx));
    SCOPED_TRACE(PredicateToString(p));
    Check(p);
  }
}

TEST_F(FilterCompilerTest, SplitIsAStableFractionOfTheSamples) {
  const size_t n = rows_->size();
  const size_t holdout = Check(P("split == 'holdout'"), 0.25);
  const double share = static_cast<double>(holdout) / static_cast<double>(n);
  EXPECT_GT(share, 0.22) << holdout << " of " << n;
  EXPECT_LT(share, 0.28) << holdout << " of " << n;
  // Per dataset too (not one dataset in, one out).
  for (const char* ds : {"alpha", "beta"}) {
    const auto part = Run(P(StrCat("split == 'holdout' and dataset == '", ds, "'")), 0.25);
    const auto all = Run(P(StrCat("dataset == '", ds, "'")), 0.25);
    EXPECT_NEAR(static_cast<double>(part.size()) / all.size(), 0.25, 0.04) << ds;
  }
  // train is the exact complement.
  const auto h = Run(P("split == 'holdout'"), 0.25);
  const auto t = Run(P("split == 'train'"), 0.25);
  EXPECT_EQ(h.size() + t.size(), n);
  for (const auto& k : h) EXPECT_EQ(t.count(k), 0u);
  // Deterministic: the same SQL and parameters every time, and the same rows.
  auto f1 = Compile(P("split == 'holdout'"), "alpha", 0.25);
  auto f2 = Compile(P("split == 'holdout'"), "alpha", 0.25);
  ASSERT_OK(f1);
  ASSERT_OK(f2);
  EXPECT_EQ(f1->where_sql, f2->where_sql);
  EXPECT_EQ(f1->params, f2->params);
  EXPECT_EQ(Run(P("split == 'holdout'"), 0.25), h);
  // Monotone in the fraction.
  const auto small = Run(P("split == 'holdout'"), 0.1);
  EXPECT_LT(small.size(), h.size());
  for (const auto& k : small) EXPECT_EQ(h.count(k), 1u);
  // The edges need no hashing.
  for (const char* ds : {"alpha", "beta"}) {
    auto none = Compile(P("split == 'holdout'"), ds, 0.0);
    ASSERT_OK(none);
    EXPECT_TRUE(none->matches_nothing);
    auto all = Compile(P("split == 'holdout'"), ds, 1.0);
    ASSERT_OK(all);
    EXPECT_FALSE(all->matches_nothing);
    EXPECT_EQ(all->where_sql, "");
  }
  Check(P("split == 'train'"), 0.0);
  Check(P("split == 'train' and lang == 'en'"), 1.0);
  Check(P("split != 'train' or stars > 50"), 0.5);
}

// The split depends on (dataset name, file position, sample id), not on the store's file ids:
// the same dataset registered after another one (so with other file ids) splits the same.
TEST_F(FilterCompilerTest, SplitDoesNotDependOnFileIds) {
  TempDir dir;
  auto opened = store::MetadataStore::Open(dir.Join("mixtera.duckdb"), {"512MB", 2});
  ASSERT_OK(opened);
  std::unique_ptr<store::MetadataStore> other = std::move(opened).value();
  std::vector<Row> rows;
  std::mt19937 pad_rng(1);
  Register(other.get(), Spec("pad", {Prop("stars", PropertyType::kInt, false)}), {3, 4, 5},
           &pad_rng, Generate, &rows);
  std::mt19937 rng(12345);  // the seed of the suite's store: the same alpha
  std::vector<Row> alpha_rows;
  Register(other.get(), AlphaSpec(), {700, 1, 900}, &rng, Generate, &alpha_rows);
  auto info = other->GetDataset("alpha");
  ASSERT_OK(info);
  auto suite_info = store_->GetDataset("alpha");
  ASSERT_OK(suite_info);
  auto props = other->ListProperties();
  ASSERT_OK(props);
  FilterContext ctx{*props, 0.25};
  auto collect = [&](store::MetadataStore* s, const model::DatasetInfo& ds) {
    std::set<std::pair<int64_t, int64_t>> out;  // (file position, sample_id)
    auto f = CompileFilter(P("split == 'holdout'"), ctx, ds, s);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    auto first = s->connection().QueryInt64("SELECT min(file_id) FROM files WHERE dataset_id = " +
                                            std::to_string(ds.dataset_id));
    EXPECT_TRUE(first.ok());
    auto stmt = s->connection().Prepare("SELECT file_id, sample_id FROM samples_" +
                                        std::to_string(ds.dataset_id) + " WHERE " + f->where_sql);
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    EXPECT_OK(BindFilterParams(*f, &*stmt));
    auto r = stmt->Execute();
    EXPECT_TRUE(r.ok());
    while (*r->NextChunk()) {
      for (int64_t i = 0; i < r->chunk_size(); ++i) {
        out.emplace(r->GetInt64(0, i) - *first, r->GetInt64(1, i));
      }
    }
    return out;
  };
  EXPECT_NE(info->dataset_id, suite_info->dataset_id);
  const auto here = collect(other.get(), *info);
  const auto there = collect(store_, *suite_info);
  EXPECT_GT(here.size(), 300u);
  EXPECT_EQ(here, there);
}

// --- BuildIndex -----------------------------------------------------------------------------

// The model's value of a grouping property as the index's GroupValue.
model::GroupValue GroupValueOf(const Value& v) {
  model::GroupValue g;
  if (std::holds_alternative<std::monostate>(v)) return g;
  g.is_null = false;
  model::Literal l;
  if (auto* s = std::get_if<std::string>(&v)) {
    l.kind = model::Literal::Kind::kString;
    l.string_value = *s;
  } else if (auto* n = std::get_if<int64_t>(&v)) {
    l.kind = model::Literal::Kind::kInt;
    l.int_value = *n;
  } else if (auto* b = std::get_if<bool>(&v)) {
    l.kind = model::Literal::Kind::kBool;
    l.bool_value = *b;
  } else {
    ADD_FAILURE() << "not a grouping type in this test";
  }
  g.items.push_back(l);
  return g;
}

// Every component's samples, read back from the index, equal the model's matching rows with
// those values; with tiny scan groups (many groups, the scan of one overlapping the build of
// the previous on a second thread) the index is the same.
// DuckDB's memory limit as it prints it ("488.2 MiB").
std::string MemoryLimit(store::MetadataStore* store) {
  auto result =
      store->connection().Query("SELECT CAST(current_setting('memory_limit') AS VARCHAR)");
  EXPECT_OK(result);
  if (!result.ok()) return "";
  auto has_row = result->NextChunk();
  EXPECT_TRUE(has_row.ok() && *has_row);
  return std::string(result->GetString(0, 0));
}

TEST_F(FilterCompilerTest, BuildIndexMatchesTheModelForAnyScanGroupSize) {
  struct KeyLess {
    bool operator()(const std::vector<model::GroupValue>& a,
                    const std::vector<model::GroupValue>& b) const {
      for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        const int c = model::CompareGroupValues(a[i], b[i]);
        if (c != 0) return c < 0;
      }
      return a.size() < b.size();
    }
  };
  using Members = std::map<std::vector<model::GroupValue>, std::set<Key>, KeyLess>;
  const std::string store_limit = MemoryLimit(store_);
  for (const auto& [where, group_by] : std::vector<std::pair<std::string, StringList>>{
           {"true", {"flag", "lang"}},  // dense component table (string, bool)
           {"stars > 2", {"lang"}},     // dense, filtered
           {"true", {"stars"}},         // int: the hash-map path
           {"lang == 'de'", {"dataset", "kind"}}}) {
    SCOPED_TRACE(where);
    const Predicate p = where == "true" ? Predicate{} : P(where);  // Predicate{} matches all
    Members want;
    for (const Row& r : *rows_) {
      if (Eval(p, r, 0.05) != kT) continue;
      std::vector<model::GroupValue> key;
      for (const std::string& prop : group_by) {  // sorted by name, as the index sorts them
        if (prop == "dataset") {
          key.push_back(GroupValueOf(Value(r.dataset)));
        } else {
          auto it = r.values.find(prop);
          key.push_back(GroupValueOf(it == r.values.end() ? Value() : it->second));
        }
      }
      want[key].emplace(r.dataset, r.file_id, r.sample_id);
    }
    ASSERT_FALSE(want.empty());
    // Group sizes, and a buffer pool of 256 KiB that cannot hold one block per column: DuckDB
    // runs out of memory setting it (or scanning under it), and the build must rerun under
    // the store's limit.
    for (const ScanOptions& options :
         {ScanOptions{}, ScanOptions{1, 0}, ScanOptions{500, 0}, ScanOptions{500, 256 << 10}}) {
      SCOPED_TRACE(::testing::Message()
                   << options.group_rows << " rows per group, pool " << options.buffer_pool_bytes);
      auto built = BuildIndex(store_, p, group_by, Context(), options);
      ASSERT_OK(built);
      EXPECT_EQ(MemoryLimit(store_), store_limit);  // the store's own limit is back
      EXPECT_EQ(built->components.properties, group_by);
      Members got;
      for (int64_t c = 0; c < built->components.num_components(); ++c) {
        std::vector<index::SampleRange> ranges;
        built->index->Extract(c, 0, built->index->component_size(c), &ranges);
        std::set<Key>& members = got[built->components.values[c]];
        for (const index::SampleRange& r : ranges) {
          for (uint32_t s = r.begin; s < r.end; ++s) {
            members.emplace(built->file_datasets[r.file_index], built->files[r.file_index].file_id,
                            s);
          }
        }
        EXPECT_EQ(static_cast<int64_t>(members.size()), built->components.sizes[c]);
      }
      EXPECT_TRUE(got == want) << got.size() << " components, want " << want.size();
    }
  }
}

// A store whose tables disagree is named, not built into a wrong index: more sample rows for a
// file than the files table records, and one sample twice (both grouping paths: the dense
// table for strings, the hash map for ints).
TEST(BuildIndexCorruptStoreTest, RowCountsAndDuplicatesAreErrors) {
  for (const std::string damage : {"records", "duplicate"}) {
    for (const std::string group : {"lang", "stars"}) {
      SCOPED_TRACE(damage + ", grouped by " + group);
      TempDir dir;
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<store::MetadataStore> store,
                           store::MetadataStore::Open(dir.Join("mixtera.duckdb"), {"256MB", 2}));
      std::vector<Row> rows;
      std::mt19937 rng(5);
      Register(store.get(), AlphaSpec(), {300, 200}, &rng, Generate, &rows);
      auto info = store->GetDataset("alpha");
      ASSERT_OK(info);
      auto props = store->ListProperties();
      ASSERT_OK(props);
      const FilterContext ctx{*props, 0.05};
      ASSERT_OK(BuildIndex(store.get(), Predicate{}, {group}, ctx).status());
      const int64_t file_id = rows[0].file_id;
      const std::string table = "samples_" + std::to_string(info->dataset_id);
      if (damage == "records") {
        ASSERT_OK(store->connection().Execute(
            "UPDATE files SET num_records = 100 WHERE file_id = " + std::to_string(file_id)));
      } else {
        ASSERT_OK(store->connection().Execute(
            "INSERT INTO " + table + " SELECT * FROM " + table + " WHERE file_id = " +
            std::to_string(file_id) + " AND sample_id = " + std::to_string(rows[7].sample_id)));
      }
      auto built = BuildIndex(store.get(), Predicate{}, {group}, ctx);
      ASSERT_FALSE(built.ok());
      const std::string message = built.status().message();
      if (damage == "records") {
        EXPECT_EQ(built.status().code(), StatusCode::kCorruption);
        EXPECT_NE(message.find("more rows for file " + std::to_string(file_id)), std::string::npos)
            << message;
      } else {
        EXPECT_EQ(built.status().code(), StatusCode::kInternal);
        EXPECT_NE(message.find("sample " + std::to_string(rows[7].sample_id) + " of file " +
                               std::to_string(file_id) + " appears twice"),
                  std::string::npos)
            << message;
      }
    }
  }
}

// A table of several row groups (DuckDB scans them in parallel) with 100k distinct strings:
// range comparisons matching half of the dictionary are one BIT parameter, not 50k
// placeholders; every compiled form keeps the rows in (file_id, sample_id) order.
TEST(FilterCompilerLargeTest, LargeDictionaryAndParallelScanOrder) {
  TempDir dir;
  auto opened = store::MetadataStore::Open(dir.Join("mixtera.duckdb"), {"512MB", 4});
  ASSERT_OK(opened);
  std::unique_ptr<store::MetadataStore> store = std::move(opened).value();
  const int64_t distinct = 100000;
  int64_t next = 0;
  // Values in insertion order are not sorted, so codes and byte order disagree.
  auto url = [&](int64_t i) { return "u" + std::to_string((i * 7919) % distinct); };
  auto gen = [&](const PropertySchema& p, std::mt19937*) -> Value {
    if (p.name == "url") return url(next++);
    return StringList{url(next * 31 + 5), url(next * 17 + 3)};
  };
  std::vector<Row> rows;
  std::mt19937 rng(3);
  Register(store.get(),
           Spec("web", {Prop("url", PropertyType::kString, false),
                        Prop("parts", PropertyType::kStringList, false)}),
           {150000, 150000}, &rng, gen, &rows);
  auto props = store->ListProperties();
  ASSERT_OK(props);
  const FilterContext ctx{*props, 0.25};
  auto info = store->GetDataset("web");
  ASSERT_OK(info);
  for (const std::string text :
       {"url < 'u5'", "not url < 'u5'", "url >= 'u49999'",
        "url in ('u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9', 'u10', 'u11', 'u12')",
        "url in ('u1', 'u2', 'u3')", "parts contains 'u7'",
        "parts in ('u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9', 'u10', 'u11', 'u12')",
        "split == 'holdout'", "split == 'train' and url > 'u2'"}) {
    SCOPED_TRACE(text);
    const Predicate p = P(text);
    auto f = CompileFilter(p, ctx, *info, store.get());
    ASSERT_OK(f);
    EXPECT_LE(f->params.size(), 12u) << f->where_sql;
    const auto t0 = std::chrono::steady_clock::now();
    const std::set<Key> got = RunFilter(store.get(), p, ctx);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::set<Key> want = ExpectedRows(rows, p, 0.25);
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want);
    EXPECT_GT(want.size(), 0u);
    RecordProperty(text, std::to_string(seconds));  // informational, never asserted
  }
  auto f = CompileFilter(P("url < 'u5'"), ctx, *info, store.get());
  ASSERT_OK(f);
  ASSERT_EQ(f->params.size(), 1u);
  EXPECT_EQ(f->params[0].kind, SqlParam::Kind::kBits);
  EXPECT_EQ(f->params[0].bits.size(), static_cast<size_t>(distinct));
}

}  // namespace
}  // namespace mixtera::query
