// tiktoken rank files (r50k_base, p50k_base, cl100k_base, o200k_base): one "BASE64 RANK" line
// per token; the rank is the id and the merge priority. The file does not say which
// encoding it is, so the encoding (its pre-tokenizer regex and special tokens) comes from the
// file's sha256 — the hashes tiktoken publishes — or from an explicit name.
//
// Encoding is tiktoken's: the regex splits the text into pieces; a piece that is a token is
// that token; otherwise its bytes merge pairwise, lowest rank of the merged bytes first. With
// allow_special the encoding's special tokens (e.g. "<|endoftext|>") in the text become their
// ids; without it they are ordinary text (tiktoken's encode_ordinary).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mixtera/result.h"
#include "tokenize/tokenizer.h"

namespace mixtera::tokenize {

// The encoding a rank file with this sha256 (lowercase hex) is, or "" when unknown.
std::string TiktokenEncodingForSha256(std::string_view sha256_hex);

// Builds a tokenizer from the rank file `data` (read from `path`, named in errors).
// `encoding` (may be empty) names the encoding; when the file's hash identifies a different
// known encoding, that is an error. Errors: InvalidArgument (malformed line, naming its
// number; unknown file without `encoding`; unknown encoding name; conflicting names).
Result<std::unique_ptr<Tokenizer>> LoadTiktoken(const std::string& path, std::string_view data,
                                                const std::string& encoding);

}  // namespace mixtera::tokenize
