#include "tokenize/sentencepiece_model.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/macros.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "tokenize/bpe_tokenizer.h"
#include "tokenize/utf8.h"

namespace mixtera::tokenize {
namespace {

// The parts of sentencepiece_model.proto the native engine needs (field numbers from it).
struct ModelPiece {
  std::string piece;
  float score = 0;
  int type = 1;  // 1 NORMAL, 2 UNKNOWN, 3 CONTROL, 4 USER_DEFINED, 5 UNUSED, 6 BYTE
};
struct ParsedModel {
  std::vector<ModelPiece> pieces;
  int model_type = 1;  // 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  int unk_id = 0, bos_id = 1, eos_id = 2;
  std::string normalizer_name;
  bool has_charsmap = false;
  bool add_dummy_prefix = true, remove_extra_whitespaces = true, escape_whitespaces = true;
};

enum : int { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// A minimal protobuf wire-format reader.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }

  // Reads a field header; false on malformed input.
  bool Next(uint32_t* field, int* wire_type) {
    uint64_t key;
    if (!Varint(&key)) return false;
    *field = static_cast<uint32_t>(key >> 3);
    *wire_type = static_cast<int>(key & 7);
    return *field != 0;
  }
  bool Varint(uint64_t* value) {
    *value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      const auto b = static_cast<unsigned char>(data_[pos_++]);
      *value |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Bytes(std::string_view* out) {
    uint64_t n;
    if (!Varint(&n) || n > data_.size() - pos_) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Fixed32(uint32_t* out) {
    if (data_.size() - pos_ < 4) return false;
    std::memcpy(out, data_.data() + pos_, 4);
    pos_ += 4;
    return true;
  }
  bool Skip(int wire_type) {
    uint64_t v;
    std::string_view s;
    uint32_t f;
    switch (wire_type) {
      case 0:
        return Varint(&v);
      case 1:
        if (data_.size() - pos_ < 8) return false;
        pos_ += 8;
        return true;
      case 2:
        return Bytes(&s);
      case 5:
        return Fixed32(&f);
      default:
        return false;
    }
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

bool ParsePiece(std::string_view data, ModelPiece* piece) {
  WireReader r(data);
  while (!r.done()) {
    uint32_t field;
    int wt;
    if (!r.Next(&field, &wt)) return false;
    if (field == 1 && wt == 2) {
      std::string_view s;
      if (!r.Bytes(&s)) return false;
      piece->piece = std::string(s);
    } else if (field == 2 && wt == 5) {
      uint32_t bits;
      if (!r.Fixed32(&bits)) return false;
      std::memcpy(&piece->score, &bits, 4);
    } else if (field == 3 && wt == 0) {
      uint64_t v;
      if (!r.Varint(&v)) return false;
      piece->type = static_cast<int>(v);
    } else if (!r.Skip(wt)) {
      return false;
    }
  }
  return true;
}

bool ParseTrainerSpec(std::string_view data, ParsedModel* m) {
  WireReader r(data);
  while (!r.done()) {
    uint32_t field;
    int wt;
    if (!r.Next(&field, &wt)) return false;
    if (wt == 0 && (field == 3 || field == 35 || field == 24 || (field >= 40 && field <= 42))) {
      uint64_t v;
      if (!r.Varint(&v)) return false;
      const auto as_int = static_cast<int>(static_cast<int32_t>(v));
      if (field == 3) m->model_type = as_int;
      if (field == 35) m->byte_fallback = v != 0;
      if (field == 24) m->treat_whitespace_as_suffix = v != 0;
      if (field == 40) m->unk_id = as_int;
      if (field == 41) m->bos_id = as_int;
      if (field == 42) m->eos_id = as_int;
    } else if (!r.Skip(wt)) {
      return false;
    }
  }
  return true;
}

bool ParseNormalizerSpec(std::string_view data, ParsedModel* m) {
  WireReader r(data);
  while (!r.done()) {
    uint32_t field;
    int wt;
    if (!r.Next(&field, &wt)) return false;
    if (field == 1 && wt == 2) {
      std::string_view s;
      if (!r.Bytes(&s)) return false;
      m->normalizer_name = std::string(s);
    } else if (field == 2 && wt == 2) {
      std::string_view s;
      if (!r.Bytes(&s)) return false;
      m->has_charsmap = !s.empty();
    } else if (wt == 0 && field >= 3 && field <= 5) {
      uint64_t v;
      if (!r.Varint(&v)) return false;
      if (field == 3) m->add_dummy_prefix = v != 0;
      if (field == 4) m->remove_extra_whitespaces = v != 0;
      if (field == 5) m->escape_whitespaces = v != 0;
    } else if (!r.Skip(wt)) {
      return false;
    }
  }
  return true;
}

bool ParseModel(std::string_view data, ParsedModel* m) {
  WireReader r(data);
  while (!r.done()) {
    uint32_t field;
    int wt;
    if (!r.Next(&field, &wt)) return false;
    if (wt == 2 && (field == 1 || field == 2 || field == 3)) {
      std::string_view s;
      if (!r.Bytes(&s)) return false;
      if (field == 1) {
        m->pieces.emplace_back();
        if (!ParsePiece(s, &m->pieces.back())) return false;
      } else if (field == 2) {
        if (!ParseTrainerSpec(s, m)) return false;
      } else if (!ParseNormalizerSpec(s, m)) {
        return false;
      }
    } else if (!r.Skip(wt)) {
      return false;
    }
  }
  return true;
}

// Why the native engine cannot run this model, or "" when it can.
std::string NativeObstacle(const ParsedModel& m) {
  if (m.model_type != 2) return "not a BPE model";
  if (m.has_charsmap) return StrCat("normalization rules (", m.normalizer_name, ")");
  if (m.remove_extra_whitespaces) return "remove_extra_whitespaces";
  if (!m.escape_whitespaces) return "escape_whitespaces off";
  if (m.treat_whitespace_as_suffix) return "treat_whitespace_as_suffix";
  for (const ModelPiece& p : m.pieces) {
    if (p.type == kUserDefined) return "user-defined pieces";
    if (p.type == kUnused) return "unused pieces";
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> LoadSentencePieceModel(const std::string& path,
                                                          std::string_view data) {
  ParsedModel m;
  if (!ParseModel(data, &m) || m.pieces.empty()) {
    return Status::InvalidArgument(
        StrCat(path, ": not a SentencePiece model (malformed or truncated ModelProto)"));
  }
  if (!NativeObstacle(m).empty()) return LoadSentencePieceWithLibrary(path, data);

  const std::string sha = Sha256Hex(data);
  BpeTokenizerSpec spec;
  spec.fingerprint = StrCat("spm:", sha.substr(0, 32));
  spec.symbols = BpeTokenizerSpec::Symbols::kChars;
  spec.byte_fallback = m.byte_fallback;
  spec.split_added_tokens_always = false;
  spec.decode_between_specials = true;
  const int32_t n = static_cast<int32_t>(m.pieces.size());
  spec.vocab.resize(n);
  // Only normal pieces take part in encoding; the others keep their text for decoding.
  StringIdMap normal_ids;
  for (int32_t id = 0; id < n; ++id) {
    const ModelPiece& p = m.pieces[id];
    spec.vocab[id] = p.piece;
    if (p.type == kNormal) normal_ids.Insert(p.piece, id);
    if (p.type == kUnknown && !spec.unk_id) spec.unk_id = id;
    if (p.type == kControl || p.type == kUnknown) {
      AddedToken t;
      t.content = p.piece;
      t.id = id;
      t.special = true;
      spec.added_tokens.push_back(t);
    }
  }
  // Merge priority: higher score first; equal scores are equal ranks (leftmost wins).
  std::vector<float> scores;
  for (const ModelPiece& p : m.pieces) {
    if (p.type == kNormal) scores.push_back(p.score);
  }
  std::sort(scores.begin(), scores.end(), std::greater<float>());
  scores.erase(std::unique(scores.begin(), scores.end()), scores.end());
  for (int32_t id = 0; id < n; ++id) {
    const ModelPiece& p = m.pieces[id];
    if (p.type != kNormal) continue;
    const uint32_t rank = static_cast<uint32_t>(
        std::lower_bound(scores.begin(), scores.end(), p.score, std::greater<float>()) -
        scores.begin());
    const std::string_view text = p.piece;
    for (size_t k = Utf8CharLength(static_cast<unsigned char>(text[0])); k < text.size();
         k += Utf8CharLength(static_cast<unsigned char>(text[k]))) {
      const int32_t left = normal_ids.Find(text.substr(0, k));
      if (left < 0) continue;
      const int32_t right = normal_ids.Find(text.substr(k));
      if (right < 0) continue;
      spec.merges.Add(left, right, rank, id);
    }
  }
  constexpr char kSpace[] = "\xE2\x96\x81";
  NormalizerStep escape;
  escape.kind = NormalizerStep::Kind::kReplace;
  escape.literal = " ";
  escape.content = kSpace;
  spec.normalizer.push_back(escape);
  if (m.add_dummy_prefix) {
    NormalizerStep prefix;
    prefix.kind = NormalizerStep::Kind::kPrepend;
    prefix.content = kSpace;
    spec.normalizer.push_back(prefix);
  }
  DecoderStep replace;
  replace.kind = DecoderStep::Kind::kReplace;
  replace.pattern = kSpace;
  replace.content = " ";
  spec.decoder.push_back(replace);
  spec.decoder.push_back(DecoderStep{DecoderStep::Kind::kByteFallback});
  spec.decoder.push_back(DecoderStep{DecoderStep::Kind::kFuse});
  if (m.add_dummy_prefix) {
    DecoderStep strip;
    strip.kind = DecoderStep::Kind::kStrip;
    strip.content = " ";
    strip.start = 1;
    spec.decoder.push_back(strip);
  }
  auto valid = [&](int id) -> std::optional<int32_t> {
    if (id >= 0 && id < n) return id;
    return std::nullopt;
  };
  spec.bos_id = valid(m.bos_id);
  spec.eos_id = valid(m.eos_id);
  for (int32_t id = 0; id < n; ++id) {
    if (m.pieces[id].type != kNormal) spec.non_encoding_ids.push_back(id);
  }
  auto tok = BpeTokenizer::Create(std::move(spec));
  if (!tok.ok()) return tok.status().WithContext(path);
  return std::unique_ptr<Tokenizer>(std::move(tok).value());
}

}  // namespace mixtera::tokenize
