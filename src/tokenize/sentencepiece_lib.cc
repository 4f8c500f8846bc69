// The libsentencepiece-backed tokenizer. This is the only file that includes
// sentencepiece_processor.h (it declares its own `absl` names, which clash with Abseil's).
#include <sentencepiece_processor.h>

#include "base/macros.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "tokenize/sentencepiece_model.h"

namespace mixtera::tokenize {
namespace {

class LibSentencePieceTokenizer final : public Tokenizer {
 public:
  Status Init(const std::string& path, std::string_view data) {
    const auto status = processor_.LoadFromSerializedProto(data);
    if (!status.ok()) {
      return Status::InvalidArgument(
          StrCat(path, ": libsentencepiece rejects the model: ", status.ToString()));
    }
    fingerprint_ = StrCat("spm:", Sha256Hex(data).substr(0, 32));
    for (int id = 0; id < processor_.GetPieceSize(); ++id) {
      if (processor_.IsControl(id) || processor_.IsUnknown(id)) {
        specials_.emplace_back(processor_.IdToPiece(id), id);
      }
    }
    return Status::OK();
  }

  Result<std::vector<int32_t>> Encode(std::string_view text, bool allow_special) const override {
    std::string replaced;
    if (!IsValidUtf8(text)) {
      replaced = ReplaceInvalidUtf8(text);
      text = replaced;
    }
    std::vector<int32_t> out;
    if (!allow_special || specials_.empty()) {
      MIXTERA_RETURN_IF_ERROR(EncodeText(text, &out));
      return out;
    }
    // Leftmost, then longest special token; the text between is encoded on its own.
    size_t start = 0;
    for (size_t pos = 0; pos < text.size();) {
      size_t best_len = 0;
      int32_t best_id = -1;
      for (const auto& [piece, id] : specials_) {
        if (piece.size() > best_len && text.compare(pos, piece.size(), piece) == 0) {
          best_len = piece.size();
          best_id = id;
        }
      }
      if (best_len == 0) {
        ++pos;
        continue;
      }
      MIXTERA_RETURN_IF_ERROR(EncodeText(text.substr(start, pos - start), &out));
      out.push_back(best_id);
      pos += best_len;
      start = pos;
    }
    MIXTERA_RETURN_IF_ERROR(EncodeText(text.substr(start), &out));
    return out;
  }

  Result<std::string> Decode(const std::vector<int32_t>& ids) const override {
    std::string out;
    std::vector<int> run;
    auto flush = [&]() -> Status {
      if (run.empty()) return Status::OK();
      std::string text;
      const auto status = processor_.Decode(run, &text);
      if (!status.ok())
        return Status::InvalidArgument(StrCat("cannot decode: ", status.ToString()));
      out += text;
      run.clear();
      return Status::OK();
    };
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] >= processor_.GetPieceSize()) {
        return Status::InvalidArgument(StrCat("cannot decode id ", ids[i], " at position ", i,
                                              ": no such token (vocab_size ",
                                              processor_.GetPieceSize(), ")"));
      }
      // Special tokens appear as their text (libsentencepiece would drop them).
      if (processor_.IsControl(ids[i]) || processor_.IsUnknown(ids[i])) {
        MIXTERA_RETURN_IF_ERROR(flush());
        out += processor_.IdToPiece(ids[i]);
      } else {
        run.push_back(ids[i]);
      }
    }
    MIXTERA_RETURN_IF_ERROR(flush());
    return out;
  }

  int64_t vocab_size() const override { return processor_.GetPieceSize(); }
  std::optional<int32_t> TokenToId(std::string_view token) const override {
    const int id = processor_.PieceToId(token);
    // PieceToId answers unk for unknown pieces; only the unk piece itself maps to unk.
    if (processor_.IsUnknown(id) && processor_.IdToPiece(id) != token) return std::nullopt;
    return id;
  }
  std::optional<int32_t> bos_id() const override { return Valid(processor_.bos_id()); }
  std::optional<int32_t> eos_id() const override { return Valid(processor_.eos_id()); }
  std::string fingerprint() const override { return fingerprint_; }
  std::vector<std::pair<std::string, int32_t>> special_tokens() const override { return specials_; }

 private:
  std::optional<int32_t> Valid(int id) const {
    if (id >= 0 && id < processor_.GetPieceSize()) return id;
    return std::nullopt;
  }
  Status EncodeText(std::string_view text, std::vector<int32_t>* out) const {
    if (text.empty()) return Status::OK();
    std::vector<int> ids;
    const auto status = processor_.Encode(text, &ids);
    if (!status.ok())
      return Status::InvalidArgument(StrCat("libsentencepiece: ", status.ToString()));
    out->insert(out->end(), ids.begin(), ids.end());
    return Status::OK();
  }

  sentencepiece::SentencePieceProcessor processor_;
  std::string fingerprint_;
  std::vector<std::pair<std::string, int32_t>> specials_;
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> LoadSentencePieceWithLibrary(const std::string& path,
                                                                std::string_view data) {
  auto tok = std::make_unique<LibSentencePieceTokenizer>();
  MIXTERA_RETURN_IF_ERROR(tok->Init(path, data));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace mixtera::tokenize
