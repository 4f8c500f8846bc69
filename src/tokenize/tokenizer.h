// Tokenizer: text -> token ids and back (DESIGN.md §3.7). The client's token mode encodes the
// samples it reads and packs the ids into training windows; the ids a tokenizer produces, and
// its fingerprint(), key the token counts a job stores.
//
//   MIXTERA_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, LoadTokenizer(path));
//   MIXTERA_ASSIGN_OR_RETURN(std::vector<std::vector<int32_t>> ids, tok->EncodeBatch(texts));
//
// Loaders (LoadTokenizer picks one by the file): HF tokenizer.json with a BPE model
// (hf_tokenizer_json.h), tiktoken rank files (tiktoken.h), SentencePiece .model files
// (sentencepiece_model.h), and the two test tokenizers of tokenize/test_tokenizers.h.
//
// Thread safety: a Tokenizer is immutable once loaded; every method may be called from many
// threads concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mixtera/result.h"

namespace mixtera::tokenize {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Returns the ids of `text`. With `allow_special`, special tokens written in the text (such
  // as "<|endoftext|>") become their ids; without it they are ordinary text. Errors:
  // InvalidArgument when the text cannot be encoded (implementation-specific).
  virtual Result<std::vector<int32_t>> Encode(std::string_view text,
                                              bool allow_special = false) const = 0;

  // Encodes every text (allow_special = false) on up to `num_threads` threads (0 = one per
  // hardware thread; never more threads than texts; 1 = the calling thread only). Returns one
  // id vector per text, in input order. Errors: the error of the first failing text (in
  // input order), prefixed with "text <i>". The default runs Encode on the calling thread
  // plus threads of a process-wide pool that lives as long as the process, so per-thread
  // caches stay warm across batches.
  virtual Result<std::vector<std::vector<int32_t>>> EncodeBatch(
      const std::vector<std::string>& texts, int num_threads = 0) const;

  // Returns the text of `ids`; special tokens appear as their text. Errors: InvalidArgument
  // for an id outside [0, vocab_size()).
  virtual Result<std::string> Decode(const std::vector<int32_t>& ids) const = 0;

  // The largest id + 1.
  virtual int64_t vocab_size() const = 0;
  // The id of `token` (its text in the vocabulary), or nullopt when there is none.
  virtual std::optional<int32_t> TokenToId(std::string_view token) const = 0;
  // The tokenizer's own beginning/end-of-sequence tokens, or nullopt when it defines none
  // (the packer then falls back to explicit arguments and known names, DESIGN.md §3.6).
  virtual std::optional<int32_t> bos_id() const = 0;
  virtual std::optional<int32_t> eos_id() const = 0;

  // A stable identity of the vocabulary and the encoding rules: equal fingerprints mean equal
  // ids for every text. Used to key stored token counts. Printable ASCII.
  virtual std::string fingerprint() const = 0;

  // The special tokens (text, id) that allow_special recognises, in the file's order.
  virtual std::vector<std::pair<std::string, int32_t>> special_tokens() const = 0;
};

// Loads the tokenizer file at `path`, choosing the format (DESIGN.md §3.7):
//   *.json   HF tokenizer.json (BPE models), or a Mixtera test tokenizer (test_tokenizers.h)
//   *.model  SentencePiece model (BPE natively, others through libsentencepiece)
//   other    tiktoken rank file, identified by its sha256 (the hashes tiktoken publishes) or,
//            failing that, by `encoding` (r50k_base, p50k_base, cl100k_base, o200k_base)
// `encoding` may be given only for rank files. Errors: NotFound (no such file), IOError
// (unreadable), InvalidArgument naming the path and what is wrong (malformed file, unknown
// rank file without `encoding`, unknown encoding), Unimplemented naming the unsupported
// component (e.g. a WordPiece model or an NFKC normalizer) — never a silently different
// tokenization.
Result<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path,
                                                 const std::string& encoding = "");

}  // namespace mixtera::tokenize
