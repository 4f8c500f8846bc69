#include "tokenize/hf_tokenizer_json.h"

#include <nlohmann/json.hpp>

#include "base/macros.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "tokenize/bpe_tokenizer.h"
#include "tokenize/byte_level.h"

namespace mixtera::tokenize {
namespace {

using Json = nlohmann::json;

// GPT-2's pre-tokenizer regex, which HF's ByteLevel pre-tokenizer applies with use_regex.
constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

Status Unsupported(std::string_view what, const Json& node) {
  std::string type = node.is_object() && node.contains("type") && node["type"].is_string()
                         ? node["type"].get<std::string>()
                         : node.dump().substr(0, 80);
  return Status::Unimplemented(StrCat("unsupported ", what, " \"", type,
                                      "\" (see docs/tokenizers.md for what Mixtera implements)"));
}

// Reads an optional field of `node` with a default; InvalidArgument on a wrong type.
template <typename T>
Result<T> Field(const Json& node, const char* name, T fallback, std::string_view where) {
  if (!node.contains(name) || node[name].is_null()) return fallback;
  try {
    return node[name].get<T>();
  } catch (const Json::exception&) {
    return Status::InvalidArgument(
        StrCat(where, ": field \"", name, "\" has the wrong type: ", node[name].dump()));
  }
}

// A {"String": s} or {"Regex": r} pattern.
Status ReadPattern(const Json& node, std::string_view where, std::string* literal,
                   std::shared_ptr<RegexSplitter>* regex) {
  if (!node.is_object()) {
    return Status::InvalidArgument(
        StrCat(where, ": pattern must be {\"String\": ...} or {\"Regex\": ...}"));
  }
  if (node.contains("String") && node["String"].is_string()) {
    *literal = node["String"].get<std::string>();
    return Status::OK();
  }
  if (node.contains("Regex") && node["Regex"].is_string()) {
    MIXTERA_ASSIGN_OR_RETURN(auto compiled,
                             RegexSplitter::Compile(node["Regex"].get<std::string>(),
                                                    RegexSplitter::Dialect::kOniguruma));
    *regex = std::move(compiled);
    return Status::OK();
  }
  return Status::InvalidArgument(
      StrCat(where, ": pattern must be {\"String\": ...} or {\"Regex\": ...}"));
}

// A one-character string field (Metaspace's replacement).
Result<std::string> CharField(const Json& node, const char* name, std::string_view where) {
  MIXTERA_ASSIGN_OR_RETURN(std::string value,
                           Field<std::string>(node, name, "\xE2\x96\x81", where));
  if (value.empty()) return Status::InvalidArgument(StrCat(where, ": empty \"", name, "\""));
  return value;
}

Status ReadNormalizer(const Json& node, BpeTokenizerSpec* spec) {
  if (node.is_null()) return Status::OK();
  const std::string type = node.value("type", "");
  if (type == "Sequence") {
    for (const Json& child : node.value("normalizers", Json::array())) {
      MIXTERA_RETURN_IF_ERROR(ReadNormalizer(child, spec));
    }
    return Status::OK();
  }
  NormalizerStep step;
  if (type == "Prepend") {
    step.kind = NormalizerStep::Kind::kPrepend;
    MIXTERA_ASSIGN_OR_RETURN(step.content,
                             Field<std::string>(node, "prepend", "", "Prepend normalizer"));
  } else if (type == "Replace") {
    step.kind = NormalizerStep::Kind::kReplace;
    MIXTERA_ASSIGN_OR_RETURN(step.content,
                             Field<std::string>(node, "content", "", "Replace normalizer"));
    MIXTERA_RETURN_IF_ERROR(ReadPattern(node.value("pattern", Json()), "Replace normalizer",
                                        &step.literal, &step.regex));
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    step.kind = NormalizerStep::Kind::kUnicode;
    step.form = type == "NFC"    ? UnicodeForm::kNfc
                : type == "NFD"  ? UnicodeForm::kNfd
                : type == "NFKC" ? UnicodeForm::kNfkc
                                 : UnicodeForm::kNfkd;
  } else {
    return Unsupported("normalizer", node);
  }
  spec->normalizer.push_back(std::move(step));
  return Status::OK();
}

Result<PreTokenizerStep::Prepend> PrependScheme(const Json& node, std::string_view where) {
  if (node.contains("prepend_scheme") && node["prepend_scheme"].is_string()) {
    const std::string scheme = node["prepend_scheme"].get<std::string>();
    if (scheme == "always") return PreTokenizerStep::Prepend::kAlways;
    if (scheme == "first") return PreTokenizerStep::Prepend::kFirst;
    if (scheme == "never") return PreTokenizerStep::Prepend::kNever;
    return Status::InvalidArgument(StrCat(where, ": unknown prepend_scheme \"", scheme, "\""));
  }
  // Older files: add_prefix_space (default true).
  MIXTERA_ASSIGN_OR_RETURN(bool add, Field<bool>(node, "add_prefix_space", true, where));
  return add ? PreTokenizerStep::Prepend::kAlways : PreTokenizerStep::Prepend::kNever;
}

Status ReadPreTokenizer(const Json& node, BpeTokenizerSpec* spec, bool* byte_level) {
  if (node.is_null()) return Status::OK();
  const std::string type = node.value("type", "");
  if (type == "Sequence") {
    for (const Json& child : node.value("pretokenizers", Json::array())) {
      MIXTERA_RETURN_IF_ERROR(ReadPreTokenizer(child, spec, byte_level));
    }
    return Status::OK();
  }
  PreTokenizerStep step;
  if (type == "ByteLevel") {
    step.kind = PreTokenizerStep::Kind::kByteLevel;
    MIXTERA_ASSIGN_OR_RETURN(step.add_prefix_space, Field<bool>(node, "add_prefix_space", false,
                                                                "ByteLevel pre-tokenizer"));
    MIXTERA_ASSIGN_OR_RETURN(bool use_regex,
                             Field<bool>(node, "use_regex", true, "ByteLevel pre-tokenizer"));
    if (use_regex) {
      MIXTERA_ASSIGN_OR_RETURN(
          auto regex, RegexSplitter::Compile(kGpt2Pattern, RegexSplitter::Dialect::kOniguruma));
      step.regex = std::move(regex);
    }
    *byte_level = true;
  } else if (type == "Split") {
    step.kind = PreTokenizerStep::Kind::kSplit;
    MIXTERA_RETURN_IF_ERROR(ReadPattern(node.value("pattern", Json()), "Split pre-tokenizer",
                                        &step.literal, &step.regex));
    MIXTERA_ASSIGN_OR_RETURN(step.invert,
                             Field<bool>(node, "invert", false, "Split pre-tokenizer"));
    MIXTERA_ASSIGN_OR_RETURN(std::string behavior, Field<std::string>(node, "behavior", "Removed",
                                                                      "Split pre-tokenizer"));
    if (behavior == "Removed") {
      step.behavior = SplitBehavior::kRemoved;
    } else if (behavior == "Isolated") {
      step.behavior = SplitBehavior::kIsolated;
    } else if (behavior == "MergedWithPrevious") {
      step.behavior = SplitBehavior::kMergedWithPrevious;
    } else if (behavior == "MergedWithNext") {
      step.behavior = SplitBehavior::kMergedWithNext;
    } else if (behavior == "Contiguous") {
      step.behavior = SplitBehavior::kContiguous;
    } else {
      return Status::InvalidArgument(
          StrCat("Split pre-tokenizer: unknown behavior \"", behavior, "\""));
    }
  } else if (type == "Metaspace") {
    step.kind = PreTokenizerStep::Kind::kMetaspace;
    MIXTERA_ASSIGN_OR_RETURN(step.replacement,
                             CharField(node, "replacement", "Metaspace pre-tokenizer"));
    MIXTERA_ASSIGN_OR_RETURN(step.prepend, PrependScheme(node, "Metaspace pre-tokenizer"));
    MIXTERA_ASSIGN_OR_RETURN(step.split,
                             Field<bool>(node, "split", true, "Metaspace pre-tokenizer"));
  } else if (type == "Digits") {
    step.kind = PreTokenizerStep::Kind::kDigits;
    MIXTERA_ASSIGN_OR_RETURN(step.individual_digits,
                             Field<bool>(node, "individual_digits", false, "Digits pre-tokenizer"));
  } else {
    return Unsupported("pre-tokenizer", node);
  }
  spec->pre_tokenizer.push_back(std::move(step));
  return Status::OK();
}

Status ReadDecoder(const Json& node, BpeTokenizerSpec* spec) {
  if (node.is_null()) return Status::OK();
  const std::string type = node.value("type", "");
  if (type == "Sequence") {
    for (const Json& child : node.value("decoders", Json::array())) {
      MIXTERA_RETURN_IF_ERROR(ReadDecoder(child, spec));
    }
    return Status::OK();
  }
  DecoderStep step;
  if (type == "ByteLevel") {
    step.kind = DecoderStep::Kind::kByteLevel;
  } else if (type == "Replace") {
    step.kind = DecoderStep::Kind::kReplace;
    std::shared_ptr<RegexSplitter> regex;
    MIXTERA_RETURN_IF_ERROR(
        ReadPattern(node.value("pattern", Json()), "Replace decoder", &step.pattern, &regex));
    if (regex != nullptr)
      return Status::Unimplemented("unsupported decoder \"Replace\" with a regex pattern");
    MIXTERA_ASSIGN_OR_RETURN(step.content,
                             Field<std::string>(node, "content", "", "Replace decoder"));
  } else if (type == "ByteFallback") {
    step.kind = DecoderStep::Kind::kByteFallback;
  } else if (type == "Fuse") {
    step.kind = DecoderStep::Kind::kFuse;
  } else if (type == "Strip") {
    step.kind = DecoderStep::Kind::kStrip;
    MIXTERA_ASSIGN_OR_RETURN(step.content,
                             Field<std::string>(node, "content", " ", "Strip decoder"));
    MIXTERA_ASSIGN_OR_RETURN(step.start, Field<int>(node, "start", 0, "Strip decoder"));
    MIXTERA_ASSIGN_OR_RETURN(step.stop, Field<int>(node, "stop", 0, "Strip decoder"));
  } else if (type == "Metaspace") {
    step.kind = DecoderStep::Kind::kMetaspace;
    MIXTERA_ASSIGN_OR_RETURN(step.content, CharField(node, "replacement", "Metaspace decoder"));
    MIXTERA_ASSIGN_OR_RETURN(PreTokenizerStep::Prepend prepend,
                             PrependScheme(node, "Metaspace decoder"));
    step.prepend_first = prepend != PreTokenizerStep::Prepend::kNever;
  } else {
    return Unsupported("decoder", node);
  }
  spec->decoder.push_back(std::move(step));
  return Status::OK();
}

// The leading/trailing special token of a TemplateProcessing `single` template.
Status ReadPostProcessor(const Json& node, std::optional<int32_t>* bos,
                         std::optional<int32_t>* eos) {
  if (node.is_null()) return Status::OK();
  const std::string type = node.value("type", "");
  if (type == "Sequence") {
    for (const Json& child : node.value("processors", Json::array())) {
      MIXTERA_RETURN_IF_ERROR(ReadPostProcessor(child, bos, eos));
    }
    return Status::OK();
  }
  if (type == "ByteLevel") return Status::OK();  // offsets only
  if (type == "TemplateProcessing") {
    const Json single = node.value("single", Json::array());
    const Json specials = node.value("special_tokens", Json::object());
    auto id_of = [&](const Json& item) -> std::optional<int32_t> {
      if (!item.is_object() || !item.contains("SpecialToken")) return std::nullopt;
      const std::string name = item["SpecialToken"].value("id", "");
      if (specials.contains(name) && specials[name].contains("ids") &&
          specials[name]["ids"].is_array() && specials[name]["ids"].size() == 1) {
        return specials[name]["ids"][0].get<int32_t>();
      }
      return std::nullopt;
    };
    if (single.is_array() && !single.empty()) {
      if (auto id = id_of(single.front())) *bos = id;
      if (single.size() > 1) {
        if (auto id = id_of(single.back())) *eos = id;
      }
    }
    return Status::OK();
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    if (node.contains("cls") && node["cls"].is_array() && node["cls"].size() == 2) {
      *bos = node["cls"][1].get<int32_t>();
    }
    if (node.contains("sep") && node["sep"].is_array() && node["sep"].size() == 2) {
      *eos = node["sep"][1].get<int32_t>();
    }
    return Status::OK();
  }
  return Unsupported("post-processor", node);
}

Status ReadModel(const Json& model, bool byte_level, BpeTokenizerSpec* spec) {
  if (!model.is_object()) return Status::InvalidArgument("\"model\" must be an object");
  const std::string type = model.value("type", model.contains("merges") ? "BPE" : "");
  if (type != "BPE") {
    return Status::Unimplemented(StrCat("unsupported model \"", type.empty() ? "?" : type,
                                        "\" (Mixtera implements BPE tokenizer.json models; "
                                        "see docs/tokenizers.md)"));
  }
  MIXTERA_ASSIGN_OR_RETURN(double dropout, Field<double>(model, "dropout", 0.0, "BPE model"));
  if (dropout != 0.0) return Status::Unimplemented("unsupported BPE dropout (not deterministic)");
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    MIXTERA_ASSIGN_OR_RETURN(std::string value, Field<std::string>(model, affix, "", "BPE model"));
    if (!value.empty()) {
      return Status::Unimplemented(StrCat("unsupported BPE ", affix, " \"", value, "\""));
    }
  }
  MIXTERA_ASSIGN_OR_RETURN(spec->byte_fallback,
                           Field<bool>(model, "byte_fallback", false, "BPE model"));
  MIXTERA_ASSIGN_OR_RETURN(spec->fuse_unk, Field<bool>(model, "fuse_unk", false, "BPE model"));
  MIXTERA_ASSIGN_OR_RETURN(spec->whole_piece_lookup,
                           Field<bool>(model, "ignore_merges", false, "BPE model"));
  if (!model.contains("vocab") || !model["vocab"].is_object()) {
    return Status::InvalidArgument("BPE model: \"vocab\" must be an object {token: id}");
  }
  StringIdMap ids;
  std::vector<bool> assigned;  // per id: a token has it
  int64_t max_id = -1;
  for (const auto& [token, id_json] : model["vocab"].items()) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0 ||
        id_json.get<int64_t>() > (1 << 30)) {
      return Status::InvalidArgument(
          StrCat("BPE model: token ", JsonQuote(token), " has a bad id ", id_json.dump()));
    }
    const int64_t id = id_json.get<int64_t>();
    max_id = std::max(max_id, id);
    if (static_cast<int64_t>(spec->vocab.size()) <= id) {
      spec->vocab.resize(id + 1);
      assigned.resize(id + 1, false);
    }
    if (assigned[id]) {
      // The later token would silently replace the earlier one (a byte token lost shows up
      // much later as "no token for byte ...").
      return Status::InvalidArgument(StrCat("BPE model: id ", id, " is given to two tokens, ",
                                            JsonQuote(spec->vocab[id]), " and ", JsonQuote(token)));
    }
    assigned[id] = true;
    spec->vocab[id] = token;
    ids.Insert(token, static_cast<int32_t>(id));
  }
  MIXTERA_ASSIGN_OR_RETURN(std::string unk,
                           Field<std::string>(model, "unk_token", "", "BPE model"));
  if (!unk.empty()) {
    const int32_t unk_id = ids.Find(unk);
    if (unk_id < 0)
      return Status::InvalidArgument(
          StrCat("BPE model: unk_token ", JsonQuote(unk), " is not in the vocab"));
    spec->unk_id = unk_id;
  }
  if (!model.contains("merges") || !model["merges"].is_array()) {
    return Status::InvalidArgument("BPE model: \"merges\" must be a list");
  }
  uint32_t rank = 0;
  for (const Json& merge : model["merges"]) {
    std::string left, right;
    if (merge.is_string()) {
      const std::string line = merge.get<std::string>();
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        return Status::InvalidArgument(StrCat("BPE model: merge ", rank, " ", JsonQuote(line),
                                              " is not two tokens separated by one space"));
      }
      left = line.substr(0, space);
      right = line.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      return Status::InvalidArgument(StrCat(
          "BPE model: merge ", rank, " is neither \"a b\" nor [\"a\", \"b\"]: ", merge.dump()));
    }
    const int32_t left_id = ids.Find(left), right_id = ids.Find(right),
                  merged_id = ids.Find(left + right);
    if (left_id < 0 || right_id < 0 || merged_id < 0) {
      return Status::InvalidArgument(StrCat("BPE model: merge ", rank, " (", JsonQuote(left), ", ",
                                            JsonQuote(right),
                                            ") uses a token that is not in the vocab"));
    }
    spec->merges.Add(left_id, right_id, rank, merged_id, MergeTable::OnDuplicate::kReplace);
    ++rank;
  }
  spec->symbols =
      byte_level ? BpeTokenizerSpec::Symbols::kBytes : BpeTokenizerSpec::Symbols::kChars;
  return Status::OK();
}

Result<std::unique_ptr<Tokenizer>> Build(const Json& root, const std::string& sha) {
  if (!root.is_object()) return Status::InvalidArgument("a tokenizer.json must be a JSON object");
  for (const auto& [key, value] : root.items()) {
    static const char* kKnown[] = {"version",        "truncation", "padding",
                                   "added_tokens",   "normalizer", "pre_tokenizer",
                                   "post_processor", "decoder",    "model"};
    if (std::find_if(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return key == k; }) == std::end(kKnown)) {
      return Status::InvalidArgument(StrCat("unknown top-level field \"", key, "\""));
    }
  }
  if (!root.contains("model")) return Status::InvalidArgument("no \"model\"");
  BpeTokenizerSpec spec;
  spec.fingerprint = StrCat("hf:", sha.substr(0, 32));
  bool byte_level = false;
  MIXTERA_RETURN_IF_ERROR(ReadNormalizer(root.value("normalizer", Json()), &spec));
  MIXTERA_RETURN_IF_ERROR(
      ReadPreTokenizer(root.value("pre_tokenizer", Json()), &spec, &byte_level));
  MIXTERA_RETURN_IF_ERROR(ReadModel(root["model"], byte_level, &spec));
  MIXTERA_RETURN_IF_ERROR(ReadDecoder(root.value("decoder", Json()), &spec));

  const Json added = root.value("added_tokens", Json::array());
  if (!added.is_array()) return Status::InvalidArgument("\"added_tokens\" must be a list");
  for (const Json& entry : added) {
    AddedToken t;
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_integer() ||
        !entry.contains("content") || !entry["content"].is_string()) {
      return Status::InvalidArgument(
          StrCat("added token without integer \"id\" and string \"content\": ", entry.dump()));
    }
    t.id = entry["id"].get<int32_t>();
    t.content = entry["content"].get<std::string>();
    MIXTERA_ASSIGN_OR_RETURN(t.special, Field<bool>(entry, "special", false, "added token"));
    MIXTERA_ASSIGN_OR_RETURN(t.single_word,
                             Field<bool>(entry, "single_word", false, "added token"));
    MIXTERA_ASSIGN_OR_RETURN(t.lstrip, Field<bool>(entry, "lstrip", false, "added token"));
    MIXTERA_ASSIGN_OR_RETURN(t.rstrip, Field<bool>(entry, "rstrip", false, "added token"));
    MIXTERA_ASSIGN_OR_RETURN(t.normalized,
                             Field<bool>(entry, "normalized", !t.special, "added token"));
    if (t.id < 0)
      return Status::InvalidArgument(
          StrCat("added token ", JsonQuote(t.content), " has a negative id"));
    if (static_cast<size_t>(t.id) >= spec.vocab.size()) spec.vocab.resize(t.id + 1);
    if (spec.vocab[t.id].empty()) spec.vocab[t.id] = t.content;
    spec.added_tokens.push_back(std::move(t));
  }
  if (byte_level) {
    spec.token_bytes.assign(spec.vocab.size(), "");
    std::vector<bool> is_added(spec.vocab.size(), false);
    for (const AddedToken& t : spec.added_tokens) is_added[t.id] = true;
    for (size_t id = 0; id < spec.vocab.size(); ++id) {
      std::string raw;
      if (!is_added[id] && !spec.vocab[id].empty() && ByteLevelDecode(spec.vocab[id], &raw)) {
        spec.token_bytes[id] = std::move(raw);
      }
    }
    spec.byte_ids.assign(256, -1);
    StringIdMap ids;
    for (size_t id = 0; id < spec.vocab.size(); ++id) {
      if (!spec.vocab[id].empty()) ids.Insert(spec.vocab[id], static_cast<int32_t>(id));
    }
    for (int b = 0; b < 256; ++b) {
      spec.byte_ids[b] = ids.Find(ByteLevelEncode(std::string(1, static_cast<char>(b))));
    }
  }
  std::optional<int32_t> bos, eos;
  MIXTERA_RETURN_IF_ERROR(ReadPostProcessor(root.value("post_processor", Json()), &bos, &eos));
  auto special_named = [&](std::initializer_list<const char*> names) -> std::optional<int32_t> {
    for (const char* name : names) {
      for (const AddedToken& t : spec.added_tokens) {
        if (t.content == name) return t.id;
      }
    }
    return std::nullopt;
  };
  spec.bos_id = bos ? bos : special_named({"<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>"});
  spec.eos_id = eos ? eos : special_named({"</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>"});
  spec.split_added_tokens_always = true;
  MIXTERA_ASSIGN_OR_RETURN(auto tok, BpeTokenizer::Create(std::move(spec)));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> LoadHfTokenizerJson(const std::string& path,
                                                       std::string_view data) {
  Json root;
  try {
    root = Json::parse(data);
  } catch (const Json::parse_error& e) {
    return Status::InvalidArgument(StrCat(path, ": malformed JSON: ", e.what()));
  }
  try {
    Result<std::unique_ptr<Tokenizer>> tok = Build(root, Sha256Hex(data));
    if (!tok.ok()) return tok.status().WithContext(path);
    return tok;
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(StrCat(path, ": unexpected tokenizer.json content: ", e.what()));
  }
}

}  // namespace mixtera::tokenize
