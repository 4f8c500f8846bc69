#include "tokenize/bpe_tokenizer.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>

#include "base/macros.h"
#include "base/strings.h"
#include "tokenize/byte_level.h"
#include "tokenize/piece_cache.h"
#include "tokenize/utf8.h"

namespace mixtera::tokenize {
namespace {

std::atomic<uint64_t> next_serial{1};

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// The code point of the UTF-8 character at s[i] (s is valid UTF-8).
uint32_t DecodeAt(std::string_view s, size_t i, size_t* length) {
  const auto c = static_cast<unsigned char>(s[i]);
  *length = Utf8CharLength(c);
  if (*length == 1) return c;
  uint32_t cp = c & (0x7F >> *length);
  for (size_t k = 1; k < *length; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

// Unicode White_Space (what Rust's char::is_whitespace tests).
bool IsUnicodeWhitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  if (from.empty()) return std::string(text);
  out.reserve(text.size() + text.size() / 8);
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.data() + pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.data() + pos, text.size() - pos);
  return out;
}

}  // namespace

// Leftmost-longest matching over a byte trie (what HF's aho-corasick automaton with
// MatchKind::LeftmostLongest finds).
struct BpeTokenizer::TokenMatcher {
  struct Node {
    std::map<unsigned char, int32_t> children;
    int32_t token = -1;  // index into `tokens`
  };
  std::vector<Node> nodes{Node{}};
  std::vector<const AddedToken*> tokens;
  bool first_byte[256] = {};

  void Add(const AddedToken* token) {
    if (token->content.empty()) return;
    int32_t node = 0;
    for (char ch : token->content) {
      const auto c = static_cast<unsigned char>(ch);
      auto it = nodes[node].children.find(c);
      if (it == nodes[node].children.end()) {
        nodes.push_back(Node{});
        it = nodes[node].children.emplace(c, static_cast<int32_t>(nodes.size() - 1)).first;
      }
      node = it->second;
    }
    if (nodes[node].token < 0) {
      nodes[node].token = static_cast<int32_t>(tokens.size());
      tokens.push_back(token);
    }
    first_byte[static_cast<unsigned char>(token->content[0])] = true;
  }
  bool empty() const { return tokens.empty(); }

  // The longest token starting at text[pos]: its length and token, or 0.
  size_t LongestAt(std::string_view text, size_t pos, const AddedToken** token) const {
    int32_t node = 0;
    size_t best = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      const auto it = nodes[node].children.find(static_cast<unsigned char>(text[i]));
      if (it == nodes[node].children.end()) break;
      node = it->second;
      if (nodes[node].token >= 0) {
        best = i + 1 - pos;
        *token = tokens[nodes[node].token];
      }
    }
    return best;
  }

  // Splits `text` into segments and tokens the way HF's AddedVocabulary::find_matches does:
  // calls on_text(begin, end) for the text between matches and on_token(id) for each match
  // (single_word, lstrip and rstrip applied).
  template <typename OnText, typename OnToken>
  void Split(std::string_view text, OnText&& on_text, OnToken&& on_token) const {
    size_t emitted = 0;  // everything before this offset has been handed out
    size_t pos = 0;
    while (pos < text.size()) {
      if (!first_byte[static_cast<unsigned char>(text[pos])]) {
        ++pos;
        continue;
      }
      const AddedToken* token = nullptr;
      const size_t length = LongestAt(text, pos, &token);
      if (length == 0) {
        ++pos;
        continue;
      }
      size_t start = pos, stop = pos + length;
      if (token->single_word &&
          !(IsWordBoundaryBefore(text, start) && IsWordBoundaryAfter(text, stop))) {
        pos = stop;  // HF skips this match and resumes after it
        continue;
      }
      if (token->lstrip) {
        while (start > emitted) {
          size_t back = start - 1;
          while (back > 0 && (static_cast<unsigned char>(text[back]) & 0xC0) == 0x80) --back;
          size_t len;
          if (!IsUnicodeWhitespace(DecodeAt(text, back, &len))) break;
          start = back;
        }
      }
      if (token->rstrip) {
        while (stop < text.size()) {
          size_t len;
          if (!IsUnicodeWhitespace(DecodeAt(text, stop, &len))) break;
          stop += len;
        }
      }
      if (start > emitted) on_text(emitted, start);
      on_token(token->id);
      emitted = stop;
      pos = stop;
    }
    if (emitted < text.size() || text.empty()) on_text(emitted, text.size());
  }

  // Word characters for single_word: letters, digits (and other alphanumerics) and '_'.
  static bool IsWordChar(uint32_t cp) {
    if (cp < 0x80)
      return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
             cp == '_';
    return !IsUnicodeWhitespace(cp) && !(cp >= 0x2000 && cp <= 0x206F) &&
           !(cp >= 0x3000 && cp <= 0x303F);
  }
  static bool IsWordBoundaryBefore(std::string_view text, size_t at) {
    if (at == 0) return true;
    size_t back = at - 1;
    while (back > 0 && (static_cast<unsigned char>(text[back]) & 0xC0) == 0x80) --back;
    size_t len;
    return !IsWordChar(DecodeAt(text, back, &len));
  }
  static bool IsWordBoundaryAfter(std::string_view text, size_t at) {
    if (at >= text.size()) return true;
    size_t len;
    return !IsWordChar(DecodeAt(text, at, &len));
  }
};

struct BpeTokenizer::Pieces {
  std::deque<std::string> storage;  // text made by pre-tokenizer steps (stable addresses)
  std::vector<std::string_view> list, next;
  std::vector<std::pair<size_t, bool>> parts;  // scratch: (end offset, is_match)
};

BpeTokenizer::BpeTokenizer(BpeTokenizerSpec spec)
    : spec_(std::move(spec)), serial_(next_serial.fetch_add(1)) {}

BpeTokenizer::~BpeTokenizer() = default;

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::Create(BpeTokenizerSpec spec) {
  std::unique_ptr<BpeTokenizer> tok(new BpeTokenizer(std::move(spec)));
  MIXTERA_RETURN_IF_ERROR(tok->Build());
  return tok;
}

Status BpeTokenizer::Build() {
  const int32_t n = static_cast<int32_t>(spec_.vocab.size());
  for (int32_t id = 0; id < n; ++id) {
    if (!spec_.vocab[id].empty()) token_ids_.Insert(spec_.vocab[id], id);
  }
  for (const AddedToken& t : spec_.added_tokens) {
    if (t.id < 0 || t.id >= n) {
      return Status::InvalidArgument(StrCat("added token ", JsonQuote(t.content), " has id ", t.id,
                                            " outside the vocabulary [0, ", n, ")"));
    }
    if (t.content.empty()) {
      return Status::InvalidArgument(StrCat("added token ", t.id, " has empty content"));
    }
    token_ids_.Insert(t.content, t.id);
  }
  std::fill(std::begin(ascii_ids_), std::end(ascii_ids_), -1);
  std::fill(std::begin(byte_fallback_ids_), std::end(byte_fallback_ids_), -1);
  if (spec_.symbols == BpeTokenizerSpec::Symbols::kBytes) {
    if (spec_.byte_ids.size() != 256)
      return Status::InvalidArgument("byte-level BPE needs 256 byte tokens");
    for (int b = 0; b < 256; ++b) {
      if (spec_.byte_ids[b] < 0 || spec_.byte_ids[b] >= n) {
        return Status::InvalidArgument(StrCat(
            "byte-level BPE: the vocabulary has no token for byte 0x", b < 16 ? "0" : "", [&] {
              char buf[8];
              std::snprintf(buf, sizeof(buf), "%x", b);
              return std::string(buf);
            }()));
      }
    }
    if (spec_.token_bytes.size() != spec_.vocab.size()) {
      return Status::InvalidArgument("byte-level BPE: token_bytes must cover the vocabulary");
    }
    for (int32_t id = 0; id < n; ++id) {
      if (!spec_.token_bytes[id].empty()) piece_ids_.Insert(spec_.token_bytes[id], id);
    }
  } else {
    std::vector<bool> encodes(n, true);
    for (int32_t id : spec_.non_encoding_ids) {
      if (id >= 0 && id < n) encodes[id] = false;
    }
    for (int32_t id = 0; id < n; ++id) {
      const std::string& t = spec_.vocab[id];
      if (t.empty()) continue;
      if (encodes[id]) piece_ids_.Insert(t, id);
      if (encodes[id] && t.size() == 1 && static_cast<unsigned char>(t[0]) < 0x80 &&
          ascii_ids_[static_cast<unsigned char>(t[0])] < 0) {
        ascii_ids_[static_cast<unsigned char>(t[0])] = id;
      }
      if (t.size() == 6 && t[0] == '<' && t[1] == '0' && t[2] == 'x' && t[5] == '>') {
        const int value = std::stoi(t.substr(3, 2), nullptr, 16);
        if (byte_fallback_ids_[value] < 0) byte_fallback_ids_[value] = id;
      }
    }
    if (spec_.byte_fallback) {
      for (int b = 0; b < 256; ++b) {
        if (byte_fallback_ids_[b] < 0 && !spec_.unk_id) {
          return Status::InvalidArgument(
              StrCat("byte_fallback is on but the vocabulary lacks byte token ", b,
                     " and there is no unk token"));
        }
      }
    }
    // Splitting at U+2581 that follows another character is exact when no token contains
    // U+2581 after some other character.
    bool boundary_safe = true;
    for (int32_t id = 0; id < n && boundary_safe; ++id) {
      const std::string& t = spec_.vocab[id];
      for (size_t pos = t.find(kSpaceSymbol, 1); pos != std::string::npos;
           pos = t.find(kSpaceSymbol, pos + 1)) {
        if (pos < kSpaceSymbol.size() ||
            t.compare(pos - kSpaceSymbol.size(), kSpaceSymbol.size(), kSpaceSymbol) != 0) {
          boundary_safe = false;
          break;
        }
      }
    }
    if (boundary_safe) word_boundary_char_ = std::string(kSpaceSymbol);
  }
  raw_matcher_ = std::make_unique<TokenMatcher>();
  normalized_matcher_ = std::make_unique<TokenMatcher>();
  for (const AddedToken& t : spec_.added_tokens) {
    (t.normalized && !spec_.normalizer.empty() ? normalized_matcher_ : raw_matcher_)->Add(&t);
  }
  return Status::OK();
}

std::optional<int32_t> BpeTokenizer::TokenToId(std::string_view token) const {
  const int32_t id = token_ids_.Find(token);
  if (id < 0) return std::nullopt;
  return id;
}

std::vector<std::pair<std::string, int32_t>> BpeTokenizer::special_tokens() const {
  std::vector<std::pair<std::string, int32_t>> out;
  for (const AddedToken& t : spec_.added_tokens) {
    if (t.special) out.emplace_back(t.content, t.id);
  }
  return out;
}

Result<std::vector<int32_t>> BpeTokenizer::Encode(std::string_view text, bool allow_special) const {
  std::string replaced;
  if (!IsValidUtf8(text)) {
    replaced = ReplaceInvalidUtf8(text);
    text = replaced;
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (raw_matcher_->empty() || !(spec_.split_added_tokens_always || allow_special)) {
    MIXTERA_RETURN_IF_ERROR(EncodeSegment(text, true, &out));
    return out;
  }
  Status status;
  raw_matcher_->Split(
      text,
      [&](size_t begin, size_t end) {
        if (status.ok()) status = EncodeSegment(text.substr(begin, end - begin), begin == 0, &out);
      },
      [&](int32_t id) { out.push_back(id); });
  MIXTERA_RETURN_IF_ERROR(status);
  return out;
}

Status BpeTokenizer::EncodeSegment(std::string_view segment, bool at_text_start,
                                   std::vector<int32_t>* out) const {
  if (spec_.normalizer.empty()) return EncodeNormalized(segment, at_text_start, out);
  std::string normalized(segment);
  for (const NormalizerStep& step : spec_.normalizer) {
    if (step.kind == NormalizerStep::Kind::kPrepend) {
      if (!normalized.empty()) normalized.insert(0, step.content);
    } else if (step.kind == NormalizerStep::Kind::kUnicode) {
      normalized = NormalizeUnicode(normalized, step.form);
    } else if (step.regex == nullptr) {
      normalized = ReplaceAll(normalized, step.literal, step.content);
    } else {
      std::string replaced;
      size_t last = 0;
      MIXTERA_RETURN_IF_ERROR(step.regex->ForEachMatch(normalized, [&](size_t b, size_t e) {
        replaced.append(normalized, last, b - last);
        replaced.append(step.content);
        last = e;
      }));
      replaced.append(normalized, last, std::string::npos);
      normalized = std::move(replaced);
    }
  }
  if (normalized_matcher_->empty()) return EncodeNormalized(normalized, at_text_start, out);
  Status status;
  std::string_view view = normalized;
  normalized_matcher_->Split(
      view,
      [&](size_t begin, size_t end) {
        if (status.ok()) {
          status =
              EncodeNormalized(view.substr(begin, end - begin), at_text_start && begin == 0, out);
        }
      },
      [&](int32_t id) { out->push_back(id); });
  return status;
}

Status BpeTokenizer::PreTokenize(std::string_view text, bool at_text_start, Pieces* p) const {
  p->list.assign(1, text);
  for (const PreTokenizerStep& step : spec_.pre_tokenizer) {
    p->next.clear();
    for (size_t index = 0; index < p->list.size(); ++index) {
      std::string_view piece = p->list[index];
      const bool first = at_text_start && index == 0;
      switch (step.kind) {
        case PreTokenizerStep::Kind::kByteLevel: {
          if (step.add_prefix_space && (piece.empty() || piece[0] != ' ')) {
            p->storage.push_back(StrCat(" ", piece));
            piece = p->storage.back();
          }
          if (step.regex == nullptr) {
            p->next.push_back(piece);
          } else {
            MIXTERA_RETURN_IF_ERROR(step.regex->ForEachMatch(
                piece, [&](size_t b, size_t e) { p->next.push_back(piece.substr(b, e - b)); }));
          }
          break;
        }
        case PreTokenizerStep::Kind::kMetaspace: {
          std::string replaced = ReplaceAll(piece, " ", step.replacement);
          const bool starts = StartsWith(replaced, step.replacement);
          if (!starts && (step.prepend == PreTokenizerStep::Prepend::kAlways ||
                          (step.prepend == PreTokenizerStep::Prepend::kFirst && first))) {
            replaced.insert(0, step.replacement);
          }
          p->storage.push_back(std::move(replaced));
          std::string_view r = p->storage.back();
          if (!step.split) {
            p->next.push_back(r);
            break;
          }
          // Split with MergedWithNext on the replacement character.
          size_t start = 0;
          for (size_t pos = r.find(step.replacement, 1); pos != std::string_view::npos;
               pos = r.find(step.replacement, pos + 1)) {
            if (pos > start) p->next.push_back(r.substr(start, pos - start));
            start = pos;
          }
          if (start < r.size()) p->next.push_back(r.substr(start));
          break;
        }
        case PreTokenizerStep::Kind::kDigits: {
          size_t start = 0;
          for (size_t i = 0; i < piece.size(); ++i) {
            const bool digit = piece[i] >= '0' && piece[i] <= '9';
            if (!digit) continue;
            if (i > start) p->next.push_back(piece.substr(start, i - start));
            size_t end = i + 1;
            if (!step.individual_digits) {
              while (end < piece.size() && piece[end] >= '0' && piece[end] <= '9') ++end;
            }
            p->next.push_back(piece.substr(i, end - i));
            start = end;
            i = end - 1;
          }
          if (start < piece.size()) p->next.push_back(piece.substr(start));
          break;
        }
        case PreTokenizerStep::Kind::kSplit: {
          if (step.regex != nullptr && step.behavior == SplitBehavior::kRemoved && step.invert) {
            // Keep the matches (tiktoken; HF's usual Split): no bookkeeping needed.
            MIXTERA_RETURN_IF_ERROR(step.regex->ForEachMatch(
                piece, [&](size_t b, size_t e) { p->next.push_back(piece.substr(b, e - b)); }));
            break;
          }
          if (step.regex != nullptr && step.behavior == SplitBehavior::kIsolated) {
            // Every gap and every match is a piece (Llama-3, Qwen).
            size_t last = 0;
            MIXTERA_RETURN_IF_ERROR(step.regex->ForEachMatch(piece, [&](size_t b, size_t e) {
              if (b > last) p->next.push_back(piece.substr(last, b - last));
              p->next.push_back(piece.substr(b, e - b));
              last = e;
            }));
            if (last < piece.size()) p->next.push_back(piece.substr(last));
            break;
          }
          // Parts: alternating gaps (false) and matches (true) covering the piece.
          auto& parts = p->parts;
          parts.clear();
          size_t prev = 0;
          auto on_match = [&](size_t b, size_t e) {
            if (b > prev) parts.emplace_back(b, false);
            parts.emplace_back(e, true);
            prev = e;
          };
          if (step.regex != nullptr) {
            MIXTERA_RETURN_IF_ERROR(step.regex->ForEachMatch(piece, on_match));
          } else if (!step.literal.empty()) {
            for (size_t hit = piece.find(step.literal); hit != std::string_view::npos;
                 hit = piece.find(step.literal, hit + step.literal.size())) {
              on_match(hit, hit + step.literal.size());
            }
          }
          if (prev < piece.size()) parts.emplace_back(piece.size(), false);
          if (step.invert) {
            for (auto& part : parts) part.second = !part.second;
          }
          // Apply the behavior: produce [begin, end) ranges.
          size_t begin = 0;
          bool previous_match = false;
          std::vector<std::pair<size_t, size_t>> ranges;
          for (const auto& [end, is_match] : parts) {
            switch (step.behavior) {
              case SplitBehavior::kRemoved:
                if (!is_match) ranges.emplace_back(begin, end);
                break;
              case SplitBehavior::kIsolated:
                ranges.emplace_back(begin, end);
                break;
              case SplitBehavior::kMergedWithPrevious:
                if (is_match && !previous_match && !ranges.empty()) {
                  ranges.back().second = end;
                } else {
                  ranges.emplace_back(begin, end);
                }
                break;
              case SplitBehavior::kContiguous:
                if (is_match == previous_match && !ranges.empty()) {
                  ranges.back().second = end;
                } else {
                  ranges.emplace_back(begin, end);
                }
                break;
              case SplitBehavior::kMergedWithNext:
                ranges.emplace_back(begin, end);  // merged below, walking backwards
                break;
            }
            previous_match = is_match;
            begin = end;
          }
          if (step.behavior == SplitBehavior::kMergedWithNext) {
            std::vector<std::pair<size_t, size_t>> merged;
            bool prev_match = false;
            for (size_t k = parts.size(); k-- > 0;) {
              const bool is_match = parts[k].second;
              if (is_match && !prev_match && !merged.empty()) {
                merged.back().first = ranges[k].first;
              } else {
                merged.push_back(ranges[k]);
              }
              prev_match = is_match;
            }
            std::reverse(merged.begin(), merged.end());
            ranges = std::move(merged);
          }
          for (const auto& [b, e] : ranges) {
            if (e > b) p->next.push_back(piece.substr(b, e - b));
          }
          break;
        }
      }
    }
    std::swap(p->list, p->next);
  }
  return Status::OK();
}

Status BpeTokenizer::EncodeNormalized(std::string_view normalized, bool at_text_start,
                                      std::vector<int32_t>* out) const {
  if (normalized.empty()) return Status::OK();
  if (spec_.pre_tokenizer.empty()) {
    EncodePiece(normalized, out);
    return Status::OK();
  }
  thread_local Pieces pieces;
  pieces.storage.clear();
  MIXTERA_RETURN_IF_ERROR(PreTokenize(normalized, at_text_start, &pieces));
  for (std::string_view piece : pieces.list) EncodePiece(piece, out);
  return Status::OK();
}

void BpeTokenizer::PieceSymbols(std::string_view piece, std::vector<int32_t>* symbols) const {
  symbols->clear();
  if (spec_.symbols == BpeTokenizerSpec::Symbols::kBytes) {
    for (char c : piece) symbols->push_back(spec_.byte_ids[static_cast<unsigned char>(c)]);
    return;
  }
  bool previous_unk = false;
  for (size_t i = 0; i < piece.size();) {
    const auto lead = static_cast<unsigned char>(piece[i]);
    const size_t len = Utf8CharLength(lead);
    int32_t id = lead < 0x80 ? ascii_ids_[lead] : piece_ids_.Find(piece.substr(i, len));
    if (id >= 0) {
      symbols->push_back(id);
      previous_unk = false;
    } else {
      bool bytes_ok = spec_.byte_fallback;
      for (size_t k = 0; bytes_ok && k < len; ++k) {
        bytes_ok = byte_fallback_ids_[static_cast<unsigned char>(piece[i + k])] >= 0;
      }
      if (bytes_ok) {
        for (size_t k = 0; k < len; ++k) {
          symbols->push_back(byte_fallback_ids_[static_cast<unsigned char>(piece[i + k])]);
        }
        previous_unk = false;
      } else if (spec_.unk_id) {
        if (!(spec_.fuse_unk && previous_unk)) symbols->push_back(*spec_.unk_id);
        previous_unk = true;
      }
      // Without an unk token HF drops the character.
    }
    i += len;
  }
}

void BpeTokenizer::EncodePiece(std::string_view piece, std::vector<int32_t>* out) const {
  // Long character-level pieces (a whole Metaspace document) are cut into words first.
  if (word_boundary_char_.empty() || piece.size() <= PieceCache::kMaxPieceBytes) {
    EncodeWord(piece, out);
    return;
  }
  const std::string_view mark = word_boundary_char_;
  size_t start = 0;
  for (size_t pos = piece.find(mark, 1); pos != std::string_view::npos;
       pos = piece.find(mark, pos + mark.size())) {
    const bool after_mark =
        pos >= mark.size() && piece.compare(pos - mark.size(), mark.size(), mark) == 0;
    if (after_mark) continue;
    EncodeWord(piece.substr(start, pos - start), out);
    start = pos;
  }
  EncodeWord(piece.substr(start), out);
}

void BpeTokenizer::EncodeWord(std::string_view piece, std::vector<int32_t>* out) const {
  if (spec_.symbols == BpeTokenizerSpec::Symbols::kBytes && piece.size() == 1) {
    out->push_back(spec_.byte_ids[static_cast<unsigned char>(piece[0])]);
    return;
  }
  PieceCache& cache = LocalPieceCache(serial_);
  const bool cacheable = piece.size() <= PieceCache::kMaxPieceBytes;
  const uint64_t hash = HashBytes(piece);
  if (cacheable && cache.Lookup(piece, hash, out)) return;
  if (spec_.whole_piece_lookup) {
    const int32_t id = piece_ids_.Find(piece, hash);
    if (id >= 0) {
      if (cacheable) cache.Store(piece, hash, &id, 1);
      out->push_back(id);
      return;
    }
  }
  thread_local std::vector<int32_t> symbols;
  thread_local MergeScratch scratch;
  PieceSymbols(piece, &symbols);
  ApplyMerges(spec_.merges, &symbols, &scratch);
  if (cacheable) cache.Store(piece, hash, symbols.data(), symbols.size());
  out->insert(out->end(), symbols.begin(), symbols.end());
}

Result<std::string> BpeTokenizer::Decode(const std::vector<int32_t>& ids) const {
  const int32_t n = static_cast<int32_t>(spec_.vocab.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= n || spec_.vocab[ids[i]].empty()) {
      return Status::InvalidArgument(StrCat("cannot decode id ", ids[i], " at position ", i,
                                            ": no such token (vocab_size ", n, ")"));
    }
  }
  if (spec_.decode_raw_bytes) {
    std::string out;
    for (int32_t id : ids)
      out += spec_.token_bytes[id].empty() ? spec_.vocab[id] : spec_.token_bytes[id];
    return out;
  }
  if (!spec_.decode_between_specials) return RunDecoder(ids.data(), ids.size());
  std::string out;
  size_t start = 0;
  for (size_t i = 0; i <= ids.size(); ++i) {
    const bool special =
        i < ids.size() && std::any_of(spec_.added_tokens.begin(), spec_.added_tokens.end(),
                                      [&](const AddedToken& t) { return t.id == ids[i]; });
    if (i < ids.size() && !special) continue;
    out += RunDecoder(ids.data() + start, i - start);
    if (i < ids.size()) out += spec_.vocab[ids[i]];
    start = i + 1;
  }
  return out;
}

std::string BpeTokenizer::RunDecoder(const int32_t* ids, size_t n) const {
  std::vector<std::string> tokens;
  tokens.reserve(n);
  for (size_t i = 0; i < n; ++i) tokens.push_back(spec_.vocab[ids[i]]);
  for (const DecoderStep& step : spec_.decoder) {
    switch (step.kind) {
      case DecoderStep::Kind::kByteLevel: {
        std::string bytes;
        for (const std::string& t : tokens) {
          std::string raw;
          if (ByteLevelDecode(t, &raw)) {
            bytes += raw;
          } else {
            bytes += t;  // a token outside the byte alphabet (an added token) stays as it is
          }
        }
        tokens.assign(1, ReplaceInvalidUtf8(bytes));
        break;
      }
      case DecoderStep::Kind::kReplace:
        for (std::string& t : tokens) t = ReplaceAll(t, step.pattern, step.content);
        break;
      case DecoderStep::Kind::kByteFallback: {
        std::vector<std::string> merged;
        std::string pending;
        size_t pending_count = 0;
        auto flush = [&] {
          if (pending_count == 0) return;
          if (IsValidUtf8(pending)) {
            merged.push_back(pending);
          } else {
            for (size_t k = 0; k < pending_count; ++k) merged.push_back("\xEF\xBF\xBD");
          }
          pending.clear();
          pending_count = 0;
        };
        for (const std::string& t : tokens) {
          if (t.size() == 6 && t[0] == '<' && t[1] == '0' && t[2] == 'x' && t[5] == '>' &&
              std::isxdigit(static_cast<unsigned char>(t[3])) &&
              std::isxdigit(static_cast<unsigned char>(t[4]))) {
            pending.push_back(static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
            ++pending_count;
          } else {
            flush();
            merged.push_back(t);
          }
        }
        flush();
        tokens = std::move(merged);
        break;
      }
      case DecoderStep::Kind::kFuse: {
        std::string joined;
        for (const std::string& t : tokens) joined += t;
        tokens.assign(1, std::move(joined));
        break;
      }
      case DecoderStep::Kind::kStrip: {
        for (std::string& t : tokens) {
          size_t begin = 0, end = t.size();
          for (int k = 0; k < step.start &&
                          StartsWith(std::string_view(t).substr(begin, end - begin), step.content);
               ++k) {
            begin += step.content.size();
          }
          for (int k = 0; k < step.stop &&
                          EndsWith(std::string_view(t).substr(begin, end - begin), step.content);
               ++k) {
            end -= step.content.size();
          }
          t = t.substr(begin, end - begin);
        }
        break;
      }
      case DecoderStep::Kind::kMetaspace: {
        for (size_t i = 0; i < tokens.size(); ++i) {
          std::string t = ReplaceAll(tokens[i], step.content, " ");
          if (i == 0 && step.prepend_first && StartsWith(t, " ")) t.erase(0, 1);
          tokens[i] = std::move(t);
        }
        break;
      }
    }
  }
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

}  // namespace mixtera::tokenize
