// Unicode normalization forms for tokenizer.json normalizers (NFC: GPT-NeoX, Qwen; NFD, NFKC,
// NFKD), through utf8proc (its Unicode version may differ from the reference
// implementation's by a release; docs/tokenizers.md).
//
// Thread safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace mixtera::tokenize {

enum class UnicodeForm { kNfc, kNfd, kNfkc, kNfkd };

// `text` (valid UTF-8) in normalization form `form`. ASCII text comes back unchanged without
// work.
std::string NormalizeUnicode(std::string_view text, UnicodeForm form);

// The Unicode version of the normalization tables, e.g. "15.0.0".
std::string UnicodeNormalizerVersion();

}  // namespace mixtera::tokenize
