#include "query/predicate_json.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/macros.h"
#include "base/strings.h"
#include "query/where_parser.h"

namespace mixtera::query {

namespace {

using Json = nlohmann::json;
using model::CompareOp;
using model::Literal;
using model::Predicate;

constexpr int kMaxDepth = 200;

// Builds the DOM like nlohmann's own parser, but reports syntax errors without exceptions and
// remembers integers too large for int64 (nlohmann silently turns them into doubles).
class SaxBuilder {
 public:
  explicit SaxBuilder(Json* root) : dom_(*root, /*allow_exceptions=*/false) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& text) {
    if (text.find_first_of(".eE") == std::string::npos && big_integer_.empty()) {
      big_integer_ = text;
    }
    return dom_.number_float(v, text);
  }
  bool string(Json::string_t& v) { return dom_.string(v); }
  bool binary(Json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return dom_.start_object(n); }
  bool key(Json::string_t& k) { return dom_.key(k); }
  bool end_object() { return dom_.end_object(); }
  bool start_array(std::size_t n) { return dom_.start_array(n); }
  bool end_array() { return dom_.end_array(); }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& e) {
    error_ = StrCat("malformed JSON at byte ", position, ": ", e.what());
    return false;
  }

  const std::string& error() const { return error_; }
  const std::string& big_integer() const { return big_integer_; }

 private:
  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  std::string error_;
  std::string big_integer_;
};

Status Error(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(StrCat("predicate JSON: ", path, ": ", what));
}

std::string Show(const Json& j) {
  std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// Fails on any key of `j` outside `allowed`.
Status CheckKeys(const Json& j, const std::string& path, const std::string& op,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : j.items()) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || key == a;
    if (!ok) {
      std::vector<std::string> names;
      for (std::string_view a : allowed) names.emplace_back(StrCat("'", a, "'"));
      return Error(path, StrCat("unknown key ", JsonQuote(key), " for op '", op, "' (it takes ",
                                StrJoin(names, ", "), ")"));
    }
  }
  return Status::OK();
}

// j[key], which must exist.
Result<const Json*> Member(const Json& j, const std::string& path, const std::string& op,
                           const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return Error(path, StrCat("op '", op, "' needs '", key, "'"));
  return &*it;
}

Result<std::string> PropertyOf(const Json& j, const std::string& path, const std::string& op) {
  MIXTERA_ASSIGN_OR_RETURN(const Json* prop, Member(j, path, op, "prop"));
  if (!prop->is_string()) {
    return Error(path + ".prop", StrCat("expected a property name (a string), got ", Show(*prop)));
  }
  std::string name = prop->get<std::string>();
  if (!IsPropertyName(name)) {
    return Error(path + ".prop",
                 StrCat(JsonQuote(name), " is not a property name ([A-Za-z_][A-Za-z0-9_]*)"));
  }
  return name;
}

Result<Literal> LiteralOf(const Json& v, const std::string& path) {
  switch (v.type()) {
    case Json::value_t::string:
      return Literal::String(v.get<std::string>());
    case Json::value_t::boolean:
      return Literal::Bool(v.get<bool>());
    case Json::value_t::number_integer:
      return Literal::Int(v.get<int64_t>());
    case Json::value_t::number_unsigned: {
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Error(path, StrCat("integer ", u, " does not fit in 64 bits"));
      }
      return Literal::Int(static_cast<int64_t>(u));
    }
    case Json::value_t::number_float: {
      const double d = v.get<double>();
      if (!std::isfinite(d)) return Error(path, "a float must be finite");
      return Literal::Float(d);
    }
    default:
      return Error(path, StrCat("expected a string, number or boolean, got ", Show(v)));
  }
}

Result<CompareOp> CompareOpOf(const Json& j, const std::string& path) {
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    for (CompareOp op : {CompareOp::kEq, CompareOp::kNe, CompareOp::kLt, CompareOp::kLe,
                         CompareOp::kGt, CompareOp::kGe}) {
      if (s == CompareOpText(op)) return op;
    }
  }
  return Error(
      path, StrCat("expected one of \"==\", \"!=\", \"<\", \"<=\", \">\", \">=\", got ", Show(j)));
}

Result<Predicate> Convert(const Json& j, const std::string& path, int depth) {
  if (depth > kMaxDepth) return Error(path, "the predicate is nested too deeply");
  if (!j.is_object()) return Error(path, StrCat("expected an object, got ", Show(j)));
  auto op_it = j.find("op");
  if (op_it == j.end()) return Error(path, "missing 'op'");
  if (!op_it->is_string())
    return Error(path + ".op", StrCat("expected a string, got ", Show(*op_it)));
  const std::string op = op_it->get<std::string>();
  Predicate out;
  if (op == "true") {
    MIXTERA_RETURN_IF_ERROR(CheckKeys(j, path, op, {"op"}));
    return out;
  }
  if (op == "and" || op == "or") {
    MIXTERA_RETURN_IF_ERROR(CheckKeys(j, path, op, {"op", "args"}));
    MIXTERA_ASSIGN_OR_RETURN(const Json* args, Member(j, path, op, "args"));
    if (!args->is_array() || args->empty()) {
      return Error(path + ".args", StrCat("expected a non-empty array, got ", Show(*args)));
    }
    out.kind = op == "and" ? Predicate::Kind::kAnd : Predicate::Kind::kOr;
    for (size_t i = 0; i < args->size(); ++i) {
      MIXTERA_ASSIGN_OR_RETURN(Predicate child,
                               Convert((*args)[i], StrCat(path, ".args[", i, "]"), depth + 1));
      out.children.push_back(std::move(child));
    }
    return out;
  }
  if (op == "not") {
    MIXTERA_RETURN_IF_ERROR(CheckKeys(j, path, op, {"op", "arg"}));
    MIXTERA_ASSIGN_OR_RETURN(const Json* arg, Member(j, path, op, "arg"));
    MIXTERA_ASSIGN_OR_RETURN(Predicate child, Convert(*arg, path + ".arg", depth + 1));
    out.kind = Predicate::Kind::kNot;
    out.children.push_back(std::move(child));
    return out;
  }
  if (op == "cmp") {
    MIXTERA_RETURN_IF_ERROR(CheckKeys(j, path, op, {"op", "prop", "cmp", "value"}));
    out.kind = Predicate::Kind::kCompare;
    MIXTERA_ASSIGN_OR_RETURN(out.property, PropertyOf(j, path, op));
    MIXTERA_ASSIGN_OR_RETURN(const Json* cmp, Member(j, path, op, "cmp"));
    MIXTERA_ASSIGN_OR_RETURN(out.op, CompareOpOf(*cmp, path + ".cmp"));
    MIXTERA_ASSIGN_OR_RETURN(const Json* value, Member(j, path, op, "value"));
    MIXTERA_ASSIGN_OR_RETURN(Literal v, LiteralOf(*value, path + ".value"));
    out.values.push_back(std::move(v));
    return out;
  }
  if (op == "in") {
    MIXTERA_RETURN_IF_ERROR(CheckKeys(j, path, op, {"op", "prop", "values"}));
    out.kind = Predicate::Kind::kIn;
    MIXTERA_ASSIGN_OR_RETURN(out.property, PropertyOf(j, path, op));
    MIXTERA_ASSIGN_OR_RETURN(const Json* values, Member(j, path, op, "values"));
    if (!values->is_array() || values->empty()) {
      return Error(path + ".values", StrCat("expected a non-empty array, got ", Show(*values)));
    }
    for (size_t i = 0; i < values->size(); ++i) {
      MIXTERA_ASSIGN_OR_RETURN(Literal v,
                               LiteralOf((*values)[i], StrCat(path, ".values[", i, "]")));
      out.values.push_back(std::move(v));
    }
    return out;
  }
  if (op == "contains") {
    MIXTERA_RETURN_IF_ERROR(CheckKeys(j, path, op, {"op", "prop", "value"}));
    out.kind = Predicate::Kind::kContains;
    MIXTERA_ASSIGN_OR_RETURN(out.property, PropertyOf(j, path, op));
    MIXTERA_ASSIGN_OR_RETURN(const Json* value, Member(j, path, op, "value"));
    MIXTERA_ASSIGN_OR_RETURN(Literal v, LiteralOf(*value, path + ".value"));
    out.values.push_back(std::move(v));
    return out;
  }
  if (op == "is_null" || op == "is_not_null") {
    MIXTERA_RETURN_IF_ERROR(CheckKeys(j, path, op, {"op", "prop"}));
    out.kind = op == "is_null" ? Predicate::Kind::kIsNull : Predicate::Kind::kIsNotNull;
    MIXTERA_ASSIGN_OR_RETURN(out.property, PropertyOf(j, path, op));
    return out;
  }
  return Error(path + ".op", StrCat("unknown op ", JsonQuote(op),
                                    " (known: true, and, or, not, cmp, in, contains, is_null, "
                                    "is_not_null)"));
}

nlohmann::ordered_json LiteralJson(const Literal& l) {
  switch (l.kind) {
    case Literal::Kind::kString:
      return l.string_value;
    case Literal::Kind::kInt:
      return l.int_value;
    case Literal::Kind::kFloat:
      return l.float_value;
    case Literal::Kind::kBool:
      return l.bool_value;
  }
  return nullptr;
}

nlohmann::ordered_json ToJson(const Predicate& p) {
  using OJson = nlohmann::ordered_json;
  OJson out = OJson::object();
  auto first_value = [&]() { return p.values.empty() ? OJson() : LiteralJson(p.values[0]); };
  switch (p.kind) {
    case Predicate::Kind::kTrue:
      out["op"] = "true";
      break;
    case Predicate::Kind::kAnd:
    case Predicate::Kind::kOr: {
      out["op"] = p.kind == Predicate::Kind::kAnd ? "and" : "or";
      OJson args = OJson::array();
      for (const auto& c : p.children) args.push_back(ToJson(c));
      out["args"] = std::move(args);
      break;
    }
    case Predicate::Kind::kNot: {
      out["op"] = "not";
      if (p.children.size() == 1) {
        out["arg"] = ToJson(p.children[0]);
      } else {  // malformed; not (a and b ...)
        Predicate all;
        all.kind = Predicate::Kind::kAnd;
        all.children = p.children;
        out["arg"] = ToJson(all);
      }
      break;
    }
    case Predicate::Kind::kCompare:
      out["op"] = "cmp";
      out["prop"] = p.property;
      out["cmp"] = std::string(CompareOpText(p.op));
      out["value"] = first_value();
      break;
    case Predicate::Kind::kIn: {
      out["op"] = "in";
      out["prop"] = p.property;
      OJson values = OJson::array();
      for (const auto& v : p.values) values.push_back(LiteralJson(v));
      out["values"] = std::move(values);
      break;
    }
    case Predicate::Kind::kContains:
      out["op"] = "contains";
      out["prop"] = p.property;
      out["value"] = first_value();
      break;
    case Predicate::Kind::kIsNull:
    case Predicate::Kind::kIsNotNull:
      out["op"] = p.kind == Predicate::Kind::kIsNull ? "is_null" : "is_not_null";
      out["prop"] = p.property;
      break;
  }
  return out;
}

}  // namespace

Result<Predicate> PredicateFromJson(std::string_view json) {
  Json root;
  SaxBuilder sax(&root);
  bool ok = false;
  try {
    ok = Json::sax_parse(json.begin(), json.end(), &sax, Json::input_format_t::json,
                         /*strict=*/true);
  } catch (const std::exception& e) {  // the SAX builder should not throw; be safe
    return Status::InvalidArgument(StrCat("predicate JSON: ", e.what()));
  }
  if (!ok) {
    return Status::InvalidArgument(
        StrCat("predicate JSON: ", sax.error().empty() ? "malformed JSON" : sax.error()));
  }
  if (!sax.big_integer().empty()) {
    return Status::InvalidArgument(
        StrCat("predicate JSON: integer ", sax.big_integer(), " does not fit in 64 bits"));
  }
  return Convert(root, "$", 0);
}

std::string PredicateToJson(const Predicate& p) {
  return ToJson(p).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace mixtera::query
