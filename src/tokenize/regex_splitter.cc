#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenize/regex_splitter.h"

#include <pcre2.h>

#include "base/strings.h"

namespace mixtera::tokenize {

RegexSplitter::~RegexSplitter() {
  if (code_ != nullptr) pcre2_code_free(static_cast<pcre2_code*>(code_));
}

namespace {

// PCRE2's `\s` under UCP also matches U+180E (it includes `\h`), which Unicode removed from
// White_Space in 6.3; Rust's regex (tiktoken) and Oniguruma (HF) follow White_Space. Spell
// `\s` / `\S` as the property, inside and outside character classes.
std::string TranslateWhitespaceEscapes(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 32);
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '\\' || i + 1 == pattern.size()) {
      out.push_back(pattern[i]);
      continue;
    }
    const char next = pattern[++i];
    if (next == 's') {
      out += "\\p{White_Space}";
    } else if (next == 'S') {
      out += "\\P{White_Space}";
    } else {
      out.push_back('\\');
      out.push_back(next);
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<RegexSplitter>> RegexSplitter::Compile(std::string_view original,
                                                              Dialect dialect) {
  const std::string translated = TranslateWhitespaceEscapes(original);
  const std::string_view pattern = translated;
  uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK;
  options |= dialect == Dialect::kOniguruma ? PCRE2_MULTILINE : PCRE2_DOLLAR_ENDONLY;
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    return Status::InvalidArgument(StrCat("cannot compile the regex ", JsonQuote(original),
                                          " at offset ", error_offset, ": ",
                                          reinterpret_cast<const char*>(message)));
  }
  // JIT is an optimisation: when it is unavailable the interpreter gives the same matches.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  std::unique_ptr<RegexSplitter> splitter(new RegexSplitter());
  splitter->pattern_ = std::string(original);
  splitter->code_ = code;
  return splitter;
}

void* RegexSplitter::NewMatchData() const {
  return pcre2_match_data_create_from_pattern(static_cast<pcre2_code*>(code_), nullptr);
}

void RegexSplitter::FreeMatchData(void* match_data) {
  pcre2_match_data_free(static_cast<pcre2_match_data*>(match_data));
}

Result<bool> RegexSplitter::NextMatch(std::string_view text, size_t start, void* match_data,
                                      size_t* begin, size_t* end) const {
  auto* md = static_cast<pcre2_match_data*>(match_data);
  int rc = pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(text.data()),
                       text.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    // The JIT's small machine stack ran out (very long runs); the interpreter keeps its
    // backtracking state on the heap and finds the same match.
    rc = pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(text.data()),
                     text.size(), start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, nullptr);
  }
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(rc, message, sizeof(message));
    return Status::Internal(StrCat("regex ", JsonQuote(pattern_), " failed at byte ", start, ": ",
                                   reinterpret_cast<const char*>(message)));
  }
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md);
  *begin = ovector[0];
  *end = ovector[1];
  return true;
}

}  // namespace mixtera::tokenize
