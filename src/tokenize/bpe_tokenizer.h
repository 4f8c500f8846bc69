// BpeTokenizer: the one encoding pipeline behind every BPE tokenizer Mixtera loads (HF
// tokenizer.json, tiktoken rank files, SentencePiece BPE models). A loader describes the file
// as a BpeTokenizerSpec; the pipeline then runs, per text:
//
//   invalid UTF-8 -> U+FFFD
//   split out added/special tokens          (HF: always; tiktoken/SentencePiece: allow_special)
//   normalize each remaining segment        (Prepend, Replace, NFC/NFD/NFKC/NFKD)
//   split out `normalized` added tokens     (HF)
//   pre-tokenize into pieces                (Split regex/string, ByteLevel, Metaspace, Digits)
//   each piece -> base symbols -> merges    (bytes, or characters with byte fallback / unk)
//
// and Decode runs the decoder steps (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace).
//
// Thread safety: immutable after construction; every method may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mixtera/result.h"
#include "tokenize/bpe_merge.h"
#include "tokenize/regex_splitter.h"
#include "tokenize/string_id_map.h"
#include "tokenize/tokenizer.h"
#include "tokenize/unicode_normalizer.h"

namespace mixtera::tokenize {

// An added token of a tokenizer.json (or a special token of tiktoken / SentencePiece), with
// HF's matching flags.
struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool single_word = false;  // match only where no word character touches either end
  bool lstrip = false;       // the match also takes the whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool normalized = false;   // matched in the normalized text rather than the raw text
};

struct NormalizerStep {
  enum class Kind { kPrepend, kReplace, kUnicode };
  Kind kind = Kind::kPrepend;
  UnicodeForm form = UnicodeForm::kNfc;  // kUnicode
  std::string content;                   // what is prepended / what replaces a match
  std::string literal;                   // kReplace with a string pattern
  std::shared_ptr<RegexSplitter> regex;  // kReplace with a regex pattern
};

// HF's SplitDelimiterBehavior.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct PreTokenizerStep {
  enum class Kind { kSplit, kByteLevel, kMetaspace, kDigits };
  Kind kind = Kind::kSplit;
  // kSplit: a regex or a literal string; kByteLevel with use_regex: the GPT-2 regex.
  std::shared_ptr<RegexSplitter> regex;
  std::string literal;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  // kByteLevel.
  bool add_prefix_space = false;
  // kMetaspace.
  std::string replacement;
  enum class Prepend { kAlways, kFirst, kNever };
  Prepend prepend = Prepend::kAlways;
  bool split = true;
  // kDigits.
  bool individual_digits = false;
};

struct DecoderStep {
  enum class Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip, kMetaspace };
  Kind kind = Kind::kFuse;
  std::string pattern, content;  // kReplace (string pattern); kStrip / kMetaspace: the char
  int start = 0, stop = 0;       // kStrip
  bool prepend_first = true;     // kMetaspace: strip the first token's leading space
};

struct BpeTokenizerSpec {
  // Tokenizer::fingerprint(): the format and the file's sha256 prefix.
  std::string fingerprint;

  // id -> the token as written in the file (TokenToId and decoding use this form; byte-level
  // HF vocabularies write bytes as GPT-2's printable characters). Ids without a token are "".
  std::vector<std::string> vocab;
  // Base symbols: kBytes = each byte of a piece (byte-level BPE), kChars = each UTF-8
  // character looked up in the vocabulary, falling back to <0xXX> byte tokens or unk.
  enum class Symbols { kBytes, kChars };
  Symbols symbols = Symbols::kBytes;
  // kBytes: the id of each byte value (all 256 must exist).
  std::vector<int32_t> byte_ids;
  // kBytes: the raw bytes of every token (vocab decoded from GPT-2's byte characters for
  // byte-level tokenizer.json; the rank file's bytes for tiktoken).
  std::vector<std::string> token_bytes;
  // kChars.
  bool byte_fallback = false;
  std::optional<int32_t> unk_id;
  bool fuse_unk = false;
  // kChars: ids that a character never maps to (SentencePiece's control, unknown and byte
  // pieces); <0xXX> byte pieces among them still serve byte_fallback.
  std::vector<int32_t> non_encoding_ids;
  // A piece that is itself a token encodes as that token without merging (tiktoken; HF
  // `ignore_merges`).
  bool whole_piece_lookup = false;

  MergeTable merges;

  std::vector<AddedToken> added_tokens;
  // HF splits on added tokens whatever allow_special says; tiktoken and SentencePiece only
  // with allow_special.
  bool split_added_tokens_always = true;

  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  std::vector<DecoderStep> decoder;
  // Decoding joins the raw token_bytes (tiktoken) instead of running `decoder`.
  bool decode_raw_bytes = false;
  // Decoding runs `decoder` separately on the ids between special tokens and writes the
  // special tokens as their text (SentencePiece with allow_special: each segment was encoded
  // with its own dummy prefix, which decoding then removes again).
  bool decode_between_specials = false;

  std::optional<int32_t> bos_id, eos_id;
};

class BpeTokenizer final : public Tokenizer {
 public:
  // Validates `spec` and builds the lookup tables. Errors: InvalidArgument naming what is
  // inconsistent (a missing byte token, an added token without an id, ...).
  static Result<std::unique_ptr<BpeTokenizer>> Create(BpeTokenizerSpec spec);
  ~BpeTokenizer() override;

  Result<std::vector<int32_t>> Encode(std::string_view text,
                                      bool allow_special = false) const override;
  Result<std::string> Decode(const std::vector<int32_t>& ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(spec_.vocab.size()); }
  std::optional<int32_t> TokenToId(std::string_view token) const override;
  std::optional<int32_t> bos_id() const override { return spec_.bos_id; }
  std::optional<int32_t> eos_id() const override { return spec_.eos_id; }
  std::string fingerprint() const override { return spec_.fingerprint; }
  std::vector<std::pair<std::string, int32_t>> special_tokens() const override;

 private:
  struct TokenMatcher;  // leftmost-longest matching of added tokens
  struct Pieces;

  explicit BpeTokenizer(BpeTokenizerSpec spec);
  Status Build();

  // Encodes text between added tokens. `at_text_start`: the segment begins the input text.
  Status EncodeSegment(std::string_view segment, bool at_text_start,
                       std::vector<int32_t>* out) const;
  Status EncodeNormalized(std::string_view normalized, bool at_text_start,
                          std::vector<int32_t>* out) const;
  Status PreTokenize(std::string_view text, bool at_text_start, Pieces* pieces) const;
  void EncodePiece(std::string_view piece, std::vector<int32_t>* out) const;
  // Encodes one piece without cutting it further (cache, then merges).
  void EncodeWord(std::string_view piece, std::vector<int32_t>* out) const;
  void PieceSymbols(std::string_view piece, std::vector<int32_t>* symbols) const;
  // Runs the decoder steps over the tokens of `ids` (all valid).
  std::string RunDecoder(const int32_t* ids, size_t n) const;

  BpeTokenizerSpec spec_;
  uint64_t serial_;
  StringIdMap token_ids_;   // vocab form -> id (TokenToId)
  StringIdMap piece_ids_;   // kBytes: raw bytes -> id; kChars: token text -> id
  int32_t ascii_ids_[128];  // kChars: the id of each ASCII character, or -1
  int32_t byte_fallback_ids_[256];
  std::unique_ptr<TokenMatcher> raw_matcher_;         // added tokens matched in raw text
  std::unique_ptr<TokenMatcher> normalized_matcher_;  // ... in normalized text
  // kChars, no pre-tokenizer: splitting before each replacement character that follows
  // another character cannot change the result (no token spans such a boundary), so long
  // texts become cacheable words. Empty when that does not hold.
  std::string word_boundary_char_;
};

}  // namespace mixtera::tokenize
