#include "tokenize/test_tokenizers.h"

#include <cstdio>
#include <functional>
#include <unordered_map>
#include <utility>

#include "base/strings.h"

namespace mixtera::tokenize {
namespace {

constexpr std::string_view kEos = "<eos>";
constexpr std::string_view kBos = "<bos>";

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Lets the vocabulary map be searched with string_views, without a copy per word.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// FNV-1a, 64 bits: a stable hash for fingerprints (not for security).
class Fnv1a64 {
 public:
  void Add(std::string_view bytes) {
    for (char c : bytes) {
      hash_ ^= static_cast<uint8_t>(c);
      hash_ *= 0x100000001b3ULL;
    }
  }
  std::string Hex() const {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(hash_));
    return buf;
  }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

class BytesTokenizer final : public Tokenizer {
 public:
  static constexpr int32_t kEosId = 256;
  static constexpr int32_t kBosId = 257;

  Result<std::vector<int32_t>> Encode(std::string_view text, bool allow_special) const override {
    std::vector<int32_t> ids;
    ids.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      if (allow_special && text[i] == '<') {
        const std::string_view rest = text.substr(i);
        if (StartsWith(rest, kEos) || StartsWith(rest, kBos)) {
          ids.push_back(StartsWith(rest, kEos) ? kEosId : kBosId);
          i += kEos.size() - 1;  // both specials have 5 bytes
          continue;
        }
      }
      ids.push_back(static_cast<uint8_t>(text[i]));
    }
    return ids;
  }

  Result<std::string> Decode(const std::vector<int32_t>& ids) const override {
    std::string out;
    out.reserve(ids.size());
    for (int32_t id : ids) {
      if (id >= 0 && id < 256) {
        out.push_back(static_cast<char>(id));
      } else if (id == kEosId || id == kBosId) {
        out.append(id == kEosId ? kEos : kBos);
      } else {
        return Status::InvalidArgument(
            StrCat("token id ", id, " is outside the vocabulary [0, ", vocab_size(), ")"));
      }
    }
    return out;
  }

  int64_t vocab_size() const override { return 258; }
  std::optional<int32_t> TokenToId(std::string_view token) const override {
    if (token == kEos) return kEosId;
    if (token == kBos) return kBosId;
    if (token.size() == 1) return static_cast<uint8_t>(token[0]);
    return std::nullopt;
  }
  std::optional<int32_t> bos_id() const override { return kBosId; }
  std::optional<int32_t> eos_id() const override { return kEosId; }
  std::string fingerprint() const override { return "mixtera-test-bytes-v1"; }
  std::vector<std::pair<std::string, int32_t>> special_tokens() const override {
    return {{"<eos>", kEosId}, {"<bos>", kBosId}};
  }
};

class WhitespaceTokenizer final : public Tokenizer {
 public:
  explicit WhitespaceTokenizer(std::vector<std::string> vocab) : vocab_(std::move(vocab)) {
    Fnv1a64 hash;
    for (size_t i = 0; i < vocab_.size(); ++i) {
      ids_.emplace(vocab_[i], static_cast<int32_t>(i));
      // Length-prefixed, so ["ab", "c"] and ["a", "bc"] differ.
      hash.Add(StrCat(vocab_[i].size(), ":"));
      hash.Add(vocab_[i]);
    }
    fingerprint_ = StrCat("mixtera-test-whitespace-v1:", hash.Hex());
    bos_ = TokenToId(kBos);
    eos_ = TokenToId(kEos);
  }

  Result<std::vector<int32_t>> Encode(std::string_view text, bool allow_special) const override {
    std::vector<int32_t> ids;
    size_t i = 0;
    while (true) {
      while (i < text.size() && IsSpace(text[i])) ++i;
      if (i == text.size()) break;
      size_t end = i;
      while (end < text.size() && !IsSpace(text[end])) ++end;
      const std::optional<int32_t> id = TokenToId(text.substr(i, end - i));
      const bool special = id.has_value() && (id == bos_ || id == eos_);
      ids.push_back(id.has_value() && (!special || allow_special) ? *id : 0);
      i = end;
    }
    return ids;
  }

  Result<std::string> Decode(const std::vector<int32_t>& ids) const override {
    std::string out;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] >= vocab_size()) {
        return Status::InvalidArgument(
            StrCat("token id ", ids[i], " is outside the vocabulary [0, ", vocab_size(), ")"));
      }
      if (i > 0) out.push_back(' ');
      out.append(vocab_[ids[i]]);
    }
    return out;
  }

  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.size()); }
  std::optional<int32_t> TokenToId(std::string_view token) const override {
    auto it = ids_.find(token);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<int32_t> bos_id() const override { return bos_; }
  std::optional<int32_t> eos_id() const override { return eos_; }
  std::string fingerprint() const override { return fingerprint_; }
  std::vector<std::pair<std::string, int32_t>> special_tokens() const override {
    std::vector<std::pair<std::string, int32_t>> out;
    if (bos_) out.emplace_back("<bos>", *bos_);
    if (eos_) out.emplace_back("<eos>", *eos_);
    return out;
  }

 private:
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> ids_;
  std::string fingerprint_;
  std::optional<int32_t> bos_;
  std::optional<int32_t> eos_;
};

}  // namespace

std::unique_ptr<Tokenizer> MakeBytesTokenizer() { return std::make_unique<BytesTokenizer>(); }

Result<std::unique_ptr<Tokenizer>> MakeWhitespaceTokenizer(std::vector<std::string> vocab) {
  if (vocab.empty()) {
    return Status::InvalidArgument("the whitespace test tokenizer needs a non-empty vocab");
  }
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < vocab.size(); ++i) {
    const std::string& entry = vocab[i];
    if (entry.empty()) return Status::InvalidArgument(StrCat("vocab entry ", i, " is empty"));
    for (char c : entry) {
      if (IsSpace(c)) {
        return Status::InvalidArgument(StrCat("vocab entry ", i, " ", JsonQuote(entry),
                                              " contains whitespace, so no text can match it"));
      }
    }
    auto [it, inserted] = seen.emplace(entry, i);
    if (!inserted) {
      return Status::InvalidArgument(
          StrCat("vocab entry ", i, " ", JsonQuote(entry), " repeats entry ", it->second));
    }
  }
  return std::unique_ptr<Tokenizer>(std::make_unique<WhitespaceTokenizer>(std::move(vocab)));
}

}  // namespace mixtera::tokenize
