#include "model/limits.h"

#include <cerrno>
#include <cstdlib>

#include "base/strings.h"

namespace mixtera::model {

Status CheckLimit(const Limit& limit, int64_t value, std::string_view field) {
  if (value >= limit.min && value <= limit.max) return Status::OK();
  return Status::InvalidArgument(StrCat(field.empty() ? limit.name : field, " must be in [",
                                        limit.min, ", ", limit.max, "], got ", value));
}

const Limit* FindLimit(std::string_view name) {
  for (const Limit& limit : limits::kAll) {
    if (limit.name == name) return &limit;
  }
  return nullptr;
}

Result<uint64_t> ParseSeed(std::string_view text, std::string_view name) {
  const std::string s(text);
  bool digits = !s.empty() && s.size() <= 20;
  for (char c : s) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (errno == 0 && *end == '\0') return static_cast<uint64_t>(v);
  }
  return Status::InvalidArgument(StrCat(name, " must be an integer in [0, 2^64), got '", s, "'"));
}

}  // namespace mixtera::model
