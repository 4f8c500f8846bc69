// SentencePiece .model files. BPE models that need no normalization rules (Llama / Llama-2:
// the "identity" normalizer with a dummy prefix and escaped spaces, no user-defined or unused
// pieces) run natively on the shared BPE engine: characters merge pairwise, the pair whose
// merged piece has the highest score first (leftmost among equal scores), and characters
// without a piece become <0xXX> byte pieces (byte_fallback) or unk. Every other model
// (unigram, BPE with normalization rules, ...) runs through libsentencepiece.
//
// Special tokens (the control pieces such as <s>, </s>) are ordinary text unless
// allow_special is set; then each one in the text becomes its id and the text between is
// encoded as a text of its own (with its own dummy prefix).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mixtera/result.h"
#include "tokenize/tokenizer.h"

namespace mixtera::tokenize {

// Builds a tokenizer from the serialized ModelProto `data` (read from `path`, named in
// errors). Errors: InvalidArgument for a malformed or truncated protobuf or a model
// libsentencepiece rejects.
Result<std::unique_ptr<Tokenizer>> LoadSentencePieceModel(const std::string& path,
                                                          std::string_view data);

// Forces libsentencepiece even for a model the native engine supports (for tests and the
// benchmark). Same errors.
Result<std::unique_ptr<Tokenizer>> LoadSentencePieceWithLibrary(const std::string& path,
                                                                std::string_view data);

}  // namespace mixtera::tokenize
