// Two trivial tokenizers for tests, until the real ones arrive (DESIGN.md §3.7). Both are
// loadable from tiny JSON files by LoadTokenizer (tokenizer.h) and can be made directly.
//
// bytes       {"mixtera_test_tokenizer": "bytes"}
//             One token per byte: ids 0-255 are the bytes (any bytes: invalid UTF-8 is encoded
//             as it is, unlike the real tokenizers, which replace it with U+FFFD first); 256 is
//             "<eos>", 257 "<bos>"; vocab_size 258. With allow_special, "<eos>" and "<bos>" in
//             the text become 256 and 257. TokenToId knows "<eos>", "<bos>" and every
//             one-byte string.
// whitespace  {"mixtera_test_tokenizer": "whitespace", "vocab": ["<unk>", "a", ...]}
//             A token is a maximal run of non-whitespace bytes (whitespace: space, \t, \n, \v,
//             \f, \r); its id is its position in `vocab`, unknown words are 0. Entries "<bos>"
//             and "<eos>", when present, are the special tokens: they match text only with
//             allow_special (else they encode as 0, like unknown words). Decode joins the
//             tokens with single spaces. The vocab must be non-empty, entries non-empty,
//             without whitespace and distinct.
//
// Thread safety: immutable; safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mixtera/result.h"
#include "tokenize/tokenizer.h"

namespace mixtera::tokenize {

// The key that marks a test tokenizer file.
inline constexpr char kTestTokenizerKey[] = "mixtera_test_tokenizer";

std::unique_ptr<Tokenizer> MakeBytesTokenizer();

// Errors: InvalidArgument for an empty vocab or a bad entry (empty, with whitespace, repeated),
// naming the entry.
Result<std::unique_ptr<Tokenizer>> MakeWhitespaceTokenizer(std::vector<std::string> vocab);

}  // namespace mixtera::tokenize
