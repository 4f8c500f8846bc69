#include "tokenize/tiktoken.h"

#include <utility>
#include <vector>

#include "base/macros.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "tokenize/bpe_tokenizer.h"

namespace mixtera::tokenize {
namespace {

// tiktoken's pre-tokenizer regexes (the `pat_str` of each encoding).
constexpr char kR50kPattern[] =
    R"('(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s)";
constexpr char kCl100kPattern[] =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s)";
constexpr char kO200kPattern[] =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct KnownEncoding {
  const char* name;
  const char* sha256;
  const char* pattern;
  std::vector<std::pair<const char*, int32_t>> specials;
};

const std::vector<KnownEncoding>& KnownEncodings() {
  static const std::vector<KnownEncoding> known = {
      {"r50k_base",
       "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
       kR50kPattern,
       {{"<|endoftext|>", 50256}}},
      {"p50k_base",
       "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069",
       kR50kPattern,
       {{"<|endoftext|>", 50256}}},
      {"cl100k_base",
       "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
       kCl100kPattern,
       {{"<|endoftext|>", 100257},
        {"<|fim_prefix|>", 100258},
        {"<|fim_middle|>", 100259},
        {"<|fim_suffix|>", 100260},
        {"<|endofprompt|>", 100276}}},
      {"o200k_base",
       "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
       kO200kPattern,
       {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}}},
  };
  return known;
}

const KnownEncoding* FindEncoding(std::string_view name) {
  for (const KnownEncoding& e : KnownEncodings()) {
    if (name == e.name) return &e;
  }
  return nullptr;
}

// Decodes standard base64 (with optional '=' padding). Returns false on a bad character.
bool DecodeBase64(std::string_view in, std::string* out) {
  out->clear();
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return false;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return true;
}

}  // namespace

std::string TiktokenEncodingForSha256(std::string_view sha256_hex) {
  for (const KnownEncoding& e : KnownEncodings()) {
    if (sha256_hex == e.sha256) return e.name;
  }
  return "";
}

Result<std::unique_ptr<Tokenizer>> LoadTiktoken(const std::string& path, std::string_view data,
                                                const std::string& encoding) {
  const std::string sha = Sha256Hex(data);
  const std::string by_hash = TiktokenEncodingForSha256(sha);
  std::string known_names;
  for (const KnownEncoding& e : KnownEncodings()) {
    known_names += StrCat(known_names.empty() ? "" : ", ", e.name);
  }
  if (!encoding.empty() && FindEncoding(encoding) == nullptr) {
    return Status::InvalidArgument(
        StrCat(path, ": unknown tiktoken encoding \"", encoding, "\" (known: ", known_names, ")"));
  }
  if (!by_hash.empty() && !encoding.empty() && by_hash != encoding) {
    return Status::InvalidArgument(StrCat(path, ": encoding=\"", encoding,
                                          "\" was given but the file is ", by_hash,
                                          " by its sha256 ", sha));
  }
  const std::string name = by_hash.empty() ? encoding : by_hash;
  if (name.empty()) {
    return Status::InvalidArgument(
        StrCat(path, ": not a known tokenizer file (sha256 ", sha,
               " is none of tiktoken's rank files; name it with encoding= one of ", known_names,
               ", or use a .json tokenizer.json or a .model SentencePiece file)"));
  }
  const KnownEncoding& enc = *FindEncoding(name);

  BpeTokenizerSpec spec;
  spec.fingerprint = StrCat("tiktoken:", name, ":", sha.substr(0, 32));
  spec.symbols = BpeTokenizerSpec::Symbols::kBytes;
  spec.whole_piece_lookup = true;
  spec.decode_raw_bytes = true;
  spec.split_added_tokens_always = false;

  std::vector<std::string> by_rank;
  size_t line_number = 0;
  std::string token;
  for (size_t pos = 0; pos < data.size();) {
    size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) end = data.size();
    std::string_view line = data.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    auto bad = [&](std::string_view why) {
      return Status::InvalidArgument(StrCat(path, ": line ", line_number, ": ", why,
                                            " (a tiktoken rank file has lines \"BASE64 RANK\")"));
    };
    if (space == std::string_view::npos || space == 0) return bad("no space");
    if (!DecodeBase64(line.substr(0, space), &token) || token.empty()) return bad("bad base64");
    std::string_view rank_text = line.substr(space + 1);
    if (rank_text.empty() || rank_text.size() > 9) return bad("bad rank");
    int64_t rank = 0;
    for (char c : rank_text) {
      if (c < '0' || c > '9') return bad("bad rank");
      rank = rank * 10 + (c - '0');
    }
    if (static_cast<size_t>(rank) >= by_rank.size()) by_rank.resize(rank + 1);
    if (!by_rank[rank].empty()) return bad(StrCat("rank ", rank, " appears twice"));
    by_rank[rank] = token;
  }
  int64_t size = static_cast<int64_t>(by_rank.size());
  for (const auto& [text, id] : enc.specials) size = std::max<int64_t>(size, id + 1);
  spec.vocab.assign(size, "");
  spec.token_bytes.assign(size, "");
  for (size_t id = 0; id < by_rank.size(); ++id) {
    spec.vocab[id] = by_rank[id];
    spec.token_bytes[id] = by_rank[id];
  }
  StringIdMap ids;
  ids.Reserve(by_rank.size());
  spec.merges.Reserve(by_rank.size());
  for (size_t id = 0; id < by_rank.size(); ++id) {
    if (!by_rank[id].empty()) ids.Insert(by_rank[id], static_cast<int32_t>(id));
  }
  spec.byte_ids.assign(256, -1);
  for (int b = 0; b < 256; ++b) spec.byte_ids[b] = ids.Find(std::string(1, static_cast<char>(b)));
  // Every split of a token into two tokens is a merge ranked by the token.
  for (size_t id = 0; id < by_rank.size(); ++id) {
    const std::string& t = by_rank[id];
    for (size_t k = 1; k < t.size(); ++k) {
      const int32_t left = ids.Find(std::string_view(t).substr(0, k));
      if (left < 0) continue;
      const int32_t right = ids.Find(std::string_view(t).substr(k));
      if (right < 0) continue;
      spec.merges.Add(left, right, static_cast<uint32_t>(id), static_cast<int32_t>(id));
    }
  }
  for (const auto& [text, id] : enc.specials) {
    AddedToken t;
    t.content = text;
    t.id = id;
    t.special = true;
    spec.added_tokens.push_back(t);
    spec.vocab[id] = text;
    spec.token_bytes[id] = "";  // never produced from ordinary text
    if (std::string_view(text) == "<|endoftext|>") spec.eos_id = id;
  }
  MIXTERA_ASSIGN_OR_RETURN(
      auto regex, RegexSplitter::Compile(enc.pattern, RegexSplitter::Dialect::kEndAnchored));
  PreTokenizerStep split;
  split.kind = PreTokenizerStep::Kind::kSplit;
  split.regex = std::move(regex);
  split.behavior = SplitBehavior::kRemoved;
  split.invert = true;  // keep the matches
  spec.pre_tokenizer.push_back(std::move(split));
  auto tok = BpeTokenizer::Create(std::move(spec));
  if (!tok.ok()) return tok.status().WithContext(path);
  return std::unique_ptr<Tokenizer>(std::move(tok).value());
}

}  // namespace mixtera::tokenize
