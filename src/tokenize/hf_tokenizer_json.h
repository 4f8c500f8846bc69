// Hugging Face tokenizer.json files with a BPE model: byte-level ones (GPT-2, GPT-NeoX,
// Llama-3, Qwen, cl100k converted to HF form) and Metaspace/byte-fallback ones (Mistral,
// Llama-2 in HF form), with HF's semantics for added tokens, normalizers, pre-tokenizers and
// decoders (docs/tokenizers.md lists what is supported). Post-processors are read only for
// the BOS/EOS tokens of their template: Encode adds no special tokens.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mixtera/result.h"
#include "tokenize/tokenizer.h"

namespace mixtera::tokenize {

// Builds a tokenizer from the tokenizer.json text `data` (read from `path`, named in errors).
// Errors: InvalidArgument for malformed JSON or inconsistent content (a merge of unknown
// tokens, an added token without id, ...), Unimplemented naming a component Mixtera does not
// implement (a WordPiece/Unigram model, an NFKC normalizer, a BPE dropout, ...).
Result<std::unique_ptr<Tokenizer>> LoadHfTokenizerJson(const std::string& path,
                                                       std::string_view data);

}  // namespace mixtera::tokenize
