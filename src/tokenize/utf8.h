// Small UTF-8 helpers shared by the tokenizer loaders and the pipeline.
// Thread safety: pure functions.
#pragma once

#include <cstddef>

namespace mixtera::tokenize {

// The length in bytes of the UTF-8 character whose first byte is `lead` (the text is valid
// UTF-8; the pipeline replaces ill-formed input first).
inline size_t Utf8CharLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

}  // namespace mixtera::tokenize
