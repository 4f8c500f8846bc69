// Small string helpers (g++ 12 has no <format>).
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace mixtera {

// Concatenates the stream representations of all arguments.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

// Joins `parts` with `sep`.
std::string StrJoin(const std::vector<std::string>& parts, std::string_view sep);

// Returns `s` as a double-quoted JSON string literal (for messages and --json output);
// bytes that are not valid UTF-8 become U+FFFD, so the result is always valid JSON.
std::string JsonQuote(std::string_view s);

// True when `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// Returns `s` with every ill-formed UTF-8 sequence replaced by U+FFFD: one replacement per
// maximal subpart of an ill-formed sequence (Unicode §3.9, the rule Python's
// `bytes.decode("utf-8", "replace")` and WHATWG decoders follow). Well-formed input comes back
// unchanged.
std::string ReplaceInvalidUtf8(std::string_view s);

// Returns a human-readable byte count ("12.3 MB", decimal units).
std::string HumanBytes(int64_t bytes);

// True when `s` starts/ends with `prefix`/`suffix`.
inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace mixtera
