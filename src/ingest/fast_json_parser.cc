// Compiled for the build machine's CPU (-march=native, see CMakeLists.txt) so that simdjson's
// On-Demand code, which is inlined, uses its SIMD kernels.
#include "ingest/fast_json_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) || defined(__AVX512BW__)
#include <immintrin.h>
#endif

namespace mixtera::ingest {
namespace {

namespace od = simdjson::ondemand;

// Checks the escape that starts at `p` (just after a backslash), before `end`; returns the
// position after it, or nullptr when it is not one of \" \\ \/ \b \f \n \r \t \uXXXX.
const char* CheckEscape(const char* p, const char* end) {
  if (p >= end) return nullptr;
  switch (*p) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      return p + 1;
    case 'u': {
      auto code_unit = [end](const char* u) -> int {  // u points at 'u'
        if (end - u < 5) return -1;
        int value = 0;
        for (int k = 1; k <= 4; ++k) {
          const char c = u[k];
          int digit = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
          if (digit < 0) return -1;
          value = value * 16 + digit;
        }
        return value;
      };
      int unit = code_unit(p);
      if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return nullptr;  // lone low surrogate
      if (unit >= 0xD800 && unit <= 0xDBFF) {  // a high surrogate needs a low one next
        if (end - p < 7 || p[5] != '\\' || p[6] != 'u') return nullptr;
        int low = code_unit(p + 6);
        if (low < 0xDC00 || low > 0xDFFF) return nullptr;
        return p + 11;
      }
      return p + 5;
    }
    default:
      return nullptr;
  }
}

#if defined(__AVX512BW__) || defined(__AVX2__)
// The SIMD block of the escape scan: bit i of a mask stands for block[i].
#if defined(__AVX512BW__)
constexpr size_t kEscapeBlock = 64;
using EscapeBlock = __m512i;
EscapeBlock LoadEscapeBlock(const char* p) { return _mm512_loadu_si512(p); }
uint64_t BytesEqual(EscapeBlock bytes, char c) {
  return _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(c));
}
// The bytes that may follow a backslash on their own: " \ / b f n r t.
uint64_t SimpleEscapeBytes(EscapeBlock bytes) {
  return BytesEqual(bytes, '"') | BytesEqual(bytes, '\\') | BytesEqual(bytes, '/') |
         BytesEqual(bytes, 'b') | BytesEqual(bytes, 'f') | BytesEqual(bytes, 'n') |
         BytesEqual(bytes, 'r') | BytesEqual(bytes, 't');
}
#else
constexpr size_t kEscapeBlock = 32;
using EscapeBlock = __m256i;
EscapeBlock LoadEscapeBlock(const char* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
__m256i VectorEqual(EscapeBlock bytes, char c) {
  return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8(c));
}
uint64_t BytesEqual(EscapeBlock bytes, char c) {
  return static_cast<uint32_t>(_mm256_movemask_epi8(VectorEqual(bytes, c)));
}
// The bytes that may follow a backslash on their own: " \ / b f n r t.
uint64_t SimpleEscapeBytes(EscapeBlock bytes) {
  const __m256i simple = _mm256_or_si256(
      _mm256_or_si256(_mm256_or_si256(VectorEqual(bytes, '"'), VectorEqual(bytes, '\\')),
                      _mm256_or_si256(VectorEqual(bytes, '/'), VectorEqual(bytes, 'b'))),
      _mm256_or_si256(_mm256_or_si256(VectorEqual(bytes, 'f'), VectorEqual(bytes, 'n')),
                      _mm256_or_si256(VectorEqual(bytes, 'r'), VectorEqual(bytes, 't'))));
  return static_cast<uint32_t>(_mm256_movemask_epi8(simple));
}
#endif
#endif

// Checks the escapes of a raw string token (with its quotes). UTF-8 and control characters
// are checked by simdjson's stage 1. REQUIRES: 64 readable bytes after the token (the line
// padding guarantees them).
bool ValidEscapes(std::string_view token) {
  if (token.size() < 2 || token.front() != '"') return false;
  const char* begin = token.data() + 1;
  const char* end = token.data() + token.size() - 1;  // the closing quote
#if defined(__AVX512BW__) || defined(__AVX2__)
  // Backslash positions a block at a time; escapes are dense in code and text.
  const char* resume = begin;  // the first byte not consumed by an escape
  for (const char* block = begin; block < end; block += kEscapeBlock) {
    const EscapeBlock bytes = LoadEscapeBlock(block);
    uint64_t mask = BytesEqual(bytes, '\\');
    const auto remaining = static_cast<size_t>(end - block);
    if (remaining < kEscapeBlock) mask &= (uint64_t{1} << remaining) - 1;
    if (resume > block) {
      const auto consumed = static_cast<size_t>(resume - block);
      mask &= consumed >= kEscapeBlock ? 0 : ~((uint64_t{1} << consumed) - 1);
    }
    if (mask == 0) continue;
    // The common case without branches per escape: isolated backslashes whose escaped byte
    // lies in this block and is one of " \ / b f n r t. Anything else (\u, runs of
    // backslashes, an escape across the block end) takes the loop below.
    const uint64_t escaped = mask << 1;
    if ((mask >> (kEscapeBlock - 1)) == 0 && (mask & escaped) == 0 &&
        (escaped & ~SimpleEscapeBytes(bytes)) == 0) {
      resume = block + kEscapeBlock;
      continue;
    }
    while (mask != 0) {
      const char* at = block + __builtin_ctzll(mask);
      mask &= mask - 1;
      if (at >= end) return true;
      if (at < resume) continue;  // inside the previous escape (the 2nd byte of a double backslash)
      resume = CheckEscape(at + 1, end);
      if (resume == nullptr) return false;
    }
  }
  return true;
#else
  const char* p = begin;
  while (p < end) {
    const void* bs = std::memchr(p, '\\', static_cast<size_t>(end - p));
    if (bs == nullptr) return true;
    p = CheckEscape(static_cast<const char*>(bs) + 1, end);
    if (p == nullptr) return false;
  }
  return true;
#endif
}

// Validates the escapes of string value `v` and consumes it. raw_json_token() only peeks:
// the value must also be consumed, or simdjson's non-validating skip would step over it
// (and could swallow broken structure after it).
bool ConsumeString(od::value v) {
  std::string_view token = v.raw_json_token();
  // raw_json_token() may include trailing whitespace before the next structural char.
  while (!token.empty() && token.back() != '"') token.remove_suffix(1);
  if (!ValidEscapes(token)) return false;
  od::raw_json_string raw;
  return !v.get_raw_json_string().get(raw);
}

// Visits every value below `v`, validating numbers and string escapes.
bool Walk(od::value v, int depth) {
  if (depth >= 1024) return false;  // the DOM parser's default maximum depth
  od::json_type type;
  if (v.type().get(type)) return false;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (v.get_object().get(object)) return false;
      for (auto field : object) {
        // Keys are short: unescaping them validates their escapes.
        std::string_view key;
        if (field.unescaped_key().get(key)) return false;
        od::value child;
        if (field.value().get(child) || !Walk(child, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::array: {
      od::array array;
      if (v.get_array().get(array)) return false;
      for (auto item : array) {
        od::value child;
        if (item.get(child) || !Walk(child, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::string:
      return ConsumeString(v);
    case od::json_type::number: {
      od::number number;
      return !v.get_number().get(number);
    }
    case od::json_type::boolean: {
      bool b;
      return !v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      return !v.is_null().get(is_null) && is_null;
    }
  }
  return false;
}

// Converts `v` for a property of `type`. Returns false for anything the DOM path should judge.
bool ConvertValue(od::value v, model::PropertyType type, LooseValue* out) {
  od::json_type json_type;
  if (v.type().get(json_type)) return false;
  switch (json_type) {
    case od::json_type::null: {
      bool is_null = false;
      if (v.is_null().get(is_null) || !is_null) return false;
      *out = std::monostate{};
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      *out = std::string(s);
      return true;
    }
    case od::json_type::number: {
      // As the DOM parser: an integer literal is an int64 (or uint64) and becomes a double
      // by conversion (so -0 is +0.0); a literal beyond uint64 is an error; anything else
      // is a double.
      std::string_view token = v.raw_json_token();
      const bool integer_literal = token.find_first_of(".eE") == std::string_view::npos;
      if (integer_literal) {
        int64_t i;
        if (!v.get_int64().get(i)) {
          if (type == model::PropertyType::kFloat) {
            *out = static_cast<double>(i);
          } else {
            *out = i;
          }
          return true;
        }
        uint64_t u;
        if (type == model::PropertyType::kFloat && !v.get_uint64().get(u)) {
          *out = static_cast<double>(u);
          return true;
        }
        return false;  // beyond int64 for an int, or beyond uint64: the DOM path decides
      }
      if (type != model::PropertyType::kFloat) return false;  // a float for a non-float property
      double d;
      if (v.get_double().get(d)) return false;
      *out = d;
      return true;
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return false;
      *out = b;
      return true;
    }
    case od::json_type::array: {
      if (type != model::PropertyType::kStringList) return false;
      od::array array;
      if (v.get_array().get(array)) return false;
      std::vector<std::string> items;
      for (auto item : array) {
        std::string_view s;
        if (item.get_string().get(s)) return false;
        items.emplace_back(s);
      }
      *out = std::move(items);
      return true;
    }
    case od::json_type::object:
      return false;
  }
  return false;
}

enum class Lookup { kFound, kMissing, kError };

// Resolves `segments` (unescaped JSON pointer tokens) from the document's root as the DOM
// path does: object keys compared unescaped, the first occurrence wins, array indices as
// decimal numbers; a segment that does not apply is a miss.
Lookup Resolve(od::document& doc, const std::vector<std::string>& segments, od::value* out) {
  doc.rewind();
  od::value current;
  if (doc.get_value().get(current)) return Lookup::kError;
  for (const std::string& segment : segments) {
    od::json_type type;
    if (current.type().get(type)) return Lookup::kError;
    if (type == od::json_type::object) {
      od::object object;
      if (current.get_object().get(object)) return Lookup::kError;
      bool found = false;
      for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key)) return Lookup::kError;
        if (key != segment) continue;
        if (field.value().get(current)) return Lookup::kError;
        found = true;
        break;
      }
      if (!found) return Lookup::kMissing;
    } else if (type == od::json_type::array) {
      size_t index = 0;
      auto [ptr, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
      if (ec != std::errc() || ptr != segment.data() + segment.size()) return Lookup::kMissing;
      od::array array;
      if (current.get_array().get(array)) return Lookup::kError;
      size_t position = 0;
      bool found = false;
      for (auto item : array) {
        if (position++ != index) continue;
        if (item.get(current)) return Lookup::kError;
        found = true;
        break;
      }
      if (!found) return Lookup::kMissing;
    } else {
      return Lookup::kMissing;
    }
  }
  *out = current;
  return Lookup::kFound;
}

// Converts the value at `segments` (missing -> monostate).
bool ConvertAt(od::document& doc, const std::vector<std::string>& segments,
               model::PropertyType type, LooseValue* out) {
  od::value v;
  switch (Resolve(doc, segments, &v)) {
    case Lookup::kMissing:
      *out = std::monostate{};
      return true;
    case Lookup::kError:
      return false;
    case Lookup::kFound:
      return ConvertValue(v, type, out);
  }
  return false;
}

// True when `v` is a string whose escapes are valid (the text check).
bool IsValidString(od::value v) {
  od::json_type type;
  if (v.type().get(type) || type != od::json_type::string) return false;
  return ConsumeString(v);
}

}  // namespace

class FastJsonRecordParser::Impl {
 public:
  Impl(const std::vector<model::PropertySchema>& properties,
       const std::vector<std::string>& pointers, const std::vector<std::string>& text_pointers) {
    for (const auto& p : properties) {
      checkers_.emplace_back(p);
      types_.push_back(p.type);
    }
    values_.resize(properties.size());
    // A top-level key with one consumer is read during the walk; everything else is looked
    // up with at_pointer afterwards.
    std::vector<std::pair<std::string, int>> candidates;  // key, consumer (-1: text)
    auto top_key = [](const std::string& pointer, std::string* key) {
      auto path = JsonPath::Parse(pointer);
      if (!path.ok() || path->segments.size() != 1) return false;
      *key = path->segments[0];
      return true;
    };
    std::string key;
    for (size_t i = 0; i < pointers.size(); ++i) {
      if (top_key(pointers[i], &key)) candidates.emplace_back(key, static_cast<int>(i));
    }
    for (const auto& t : text_pointers) {
      if (top_key(t, &key)) candidates.emplace_back(key, -1);
    }
    std::vector<bool> served(pointers.size(), false);
    std::vector<bool> text_served(text_pointers.size(), false);
    for (const auto& [k, consumer] : candidates) {
      int uses = 0;
      for (const auto& other : candidates) uses += other.first == k;
      if (uses != 1) continue;
      top_.push_back({k, consumer});
      if (consumer >= 0) served[static_cast<size_t>(consumer)] = true;
    }
    auto segments_of = [](const std::string& pointer) {
      auto path = JsonPath::Parse(pointer);
      return path.ok() ? path->segments : std::vector<std::string>{};
    };
    for (size_t i = 0; i < pointers.size(); ++i) {
      if (!served[i]) nested_.push_back({segments_of(pointers[i]), static_cast<int>(i)});
    }
    for (const auto& t : text_pointers) {
      std::string text_key;
      bool on_top = false;
      if (top_key(t, &text_key)) {
        for (const auto& entry : top_) on_top |= entry.consumer < 0 && entry.key == text_key;
      }
      if (!on_top) nested_text_.push_back(segments_of(t));
    }
    seen_.resize(top_.size());
  }

  bool Parse(std::string_view line, model::SampleBatch* batch) {
    od::document doc;
    if (parser_.iterate(line.data(), line.size(), line.size() + simdjson::SIMDJSON_PADDING)
            .get(doc)) {
      return false;
    }
    od::value root;
    od::json_type type;
    if (doc.get_value().get(root) || root.type().get(type) || type != od::json_type::object) {
      return false;
    }
    for (auto& v : values_) v = std::monostate{};
    std::fill(seen_.begin(), seen_.end(), false);
    od::object object;
    if (root.get_object().get(object)) return false;
    for (auto field : object) {
      std::string_view key;  // unescaping keys validates their escapes
      if (field.unescaped_key().get(key)) return false;
      od::value value;
      if (field.value().get(value)) return false;
      size_t t = 0;
      while (t < top_.size() && (seen_[t] || top_[t].key != key)) ++t;
      if (t == top_.size()) {
        if (!Walk(value, 1)) return false;
        continue;
      }
      seen_[t] = true;  // the first occurrence of a key counts, as in the DOM path
      const int consumer = top_[t].consumer;
      if (consumer < 0 ? !IsValidString(value)
                       : !ConvertValue(value, types_[static_cast<size_t>(consumer)],
                                       &values_[static_cast<size_t>(consumer)])) {
        return false;
      }
    }
    // Nothing may follow the root value: at the end, current_location() has no location.
    const char* trailing = nullptr;
    if (doc.current_location().get(trailing) == simdjson::SUCCESS) return false;
    for (size_t t = 0; t < top_.size(); ++t) {
      if (top_[t].consumer < 0 && !seen_[t]) return false;  // missing text
    }
    for (const auto& segments : nested_text_) {
      od::value v;
      if (Resolve(doc, segments, &v) != Lookup::kFound || !IsValidString(v)) return false;
    }
    for (const auto& [segments, index] : nested_) {
      if (!ConvertAt(doc, segments, types_[static_cast<size_t>(index)],
                     &values_[static_cast<size_t>(index)])) {
        return false;
      }
    }
    const size_t row = batch->num_rows();
    for (size_t i = 0; i < checkers_.size(); ++i) {
      if (!checkers_[i].AppendLoose(values_[i], &batch->columns[i]).ok()) {
        for (auto& column : batch->columns) column.TruncateTo(row);
        return false;
      }
    }
    return true;
  }

 private:
  struct TopLevel {
    std::string key;  // unescaped
    int consumer;     // property index, or -1 for a text field
  };
  struct Nested {
    std::vector<std::string> segments;  // unescaped pointer tokens
    int index;
  };

  od::parser parser_;
  std::vector<TopLevel> top_;
  std::vector<bool> seen_;
  std::vector<Nested> nested_;
  std::vector<std::vector<std::string>> nested_text_;
  std::vector<PropertyChecker> checkers_;
  std::vector<model::PropertyType> types_;
  std::vector<LooseValue> values_;
};

std::unique_ptr<FastJsonRecordParser> FastJsonRecordParser::Make(
    const std::vector<model::PropertySchema>& properties, const std::vector<std::string>& pointers,
    const std::vector<std::string>& text_pointers) {
  for (const auto& p : pointers) {
    auto path = JsonPath::Parse(p);
    if (!path.ok() || path->has_wildcard) return nullptr;
  }
  return std::unique_ptr<FastJsonRecordParser>(
      new FastJsonRecordParser(std::make_unique<Impl>(properties, pointers, text_pointers)));
}

FastJsonRecordParser::FastJsonRecordParser(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FastJsonRecordParser::~FastJsonRecordParser() = default;

bool FastJsonRecordParser::Parse(std::string_view line, model::SampleBatch* batch) {
  return impl_->Parse(line, batch);
}

}  // namespace mixtera::ingest
