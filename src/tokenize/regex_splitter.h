// RegexSplitter: the pre-tokenizer regexes (GPT-2, cl100k, o200k, the `Split` patterns of HF
// tokenizer.json files) compiled once with PCRE2 in UTF + Unicode-property mode and JIT, and
// matched over text to find its pieces.
//
// Unicode tables are PCRE2's (Unicode 14 in Debian 12's PCRE2 10.42); docs/tokenizers.md lists
// where that can differ from the reference implementations. `\s` and `\S` mean Unicode
// White_Space, as in Rust's regex and Oniguruma (PCRE2's own `\s` adds U+180E).
//
// Thread safety: immutable after Compile; ForEachMatch may run concurrently (each call uses
// its own match data).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "mixtera/result.h"

namespace mixtera::tokenize {

class RegexSplitter {
 public:
  // Which dialect the pattern comes from; it decides how `^` and `$` behave.
  enum class Dialect {
    // tiktoken (Rust `fancy-regex`) and JavaScript: `$` matches only at the very end.
    kEndAnchored,
    // HF tokenizers' `Split` regexes (Oniguruma, Ruby syntax): `^`/`$` match at line breaks.
    kOniguruma,
  };

  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // Compiles `pattern`. Errors: InvalidArgument with PCRE2's message and offset.
  static Result<std::unique_ptr<RegexSplitter>> Compile(std::string_view pattern, Dialect dialect);

  // Calls on_match(begin, end) for each successive non-overlapping, non-empty match in
  // `text` (byte offsets), left to right. `text` must be valid UTF-8 (not re-checked).
  // Errors: Internal when PCRE2 fails to match (e.g. resource limits), naming the offset.
  template <typename OnMatch>
  Status ForEachMatch(std::string_view text, OnMatch&& on_match) const;

  const std::string& pattern() const { return pattern_; }

 private:
  RegexSplitter() = default;

  // Finds the first match at or after `start`: true with *begin/*end set, false when none.
  Result<bool> NextMatch(std::string_view text, size_t start, void* match_data, size_t* begin,
                         size_t* end) const;
  void* NewMatchData() const;
  static void FreeMatchData(void* match_data);

  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
};

template <typename OnMatch>
Status RegexSplitter::ForEachMatch(std::string_view text, OnMatch&& on_match) const {
  void* match_data = NewMatchData();
  struct Free {
    void* p;
    ~Free() { FreeMatchData(p); }
  } free_match_data{match_data};
  size_t pos = 0;
  while (pos < text.size()) {
    size_t begin, end;
    Result<bool> found = NextMatch(text, pos, match_data, &begin, &end);
    if (!found.ok()) return found.status();
    if (!*found) break;
    if (end == begin) {
      // An empty match: step over one character and look again.
      pos = begin + 1;
      while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
      continue;
    }
    on_match(begin, end);
    pos = end;
  }
  return Status::OK();
}

}  // namespace mixtera::tokenize
