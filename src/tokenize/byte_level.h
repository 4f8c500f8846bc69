// GPT-2's byte-level alphabet: byte-level BPE vocabularies (GPT-2, GPT-NeoX, Llama-3, Qwen,
// cl100k in tokenizer.json form) write every byte as a printable character: the printable
// Latin-1 bytes ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) as themselves and the other 68
// bytes as U+0100 + n in byte order. Mixtera encodes on raw bytes and converts vocabularies
// with these functions at load time.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace mixtera::tokenize {

// The byte-level characters (UTF-8) of `bytes`.
std::string ByteLevelEncode(std::string_view bytes);

// The bytes that the byte-level characters of `text` stand for. Returns false (and leaves
// *bytes unspecified) when `text` contains a character outside the alphabet.
bool ByteLevelDecode(std::string_view text, std::string* bytes);

}  // namespace mixtera::tokenize
