// tokenize_bench: Mixtera's tokenizer throughput on a corpus (bench/tokenize/README.md).
//
//   tokenize_bench --tokenizer PATH --corpus FILE.jsonl [--threads N] [--repeat R]
//                  [--library-sentencepiece] [--encoding ENC] [--warmup-mb M]
//                  [--dump-ids FILE]
//
// Reads the "text" field of every JSONL line, loads the tokenizer (LoadTokenizer, or with
// --library-sentencepiece a .model file through libsentencepiece: the peer, run in the same
// process so that both sides pay the same C++ call overhead), encodes the first M MB
// (default 4) once as a warm-up, then times Tokenizer::EncodeBatch(texts, N) over all texts R
// times (default 3). Only encoding is timed: reading the corpus and loading the tokenizer are
// not. Prints JSON lines on stdout:
//   {"event": "load", "impl", "tokenizer", "load_s", "texts", "bytes", "fingerprint"}
//   {"event": "rep", "impl", "rep", "threads", "seconds", "bytes", "mb", "texts", "tokens",
//    "mb_per_s", "tokens_per_s", "ids_hash"}                       (one per repetition)
// MB are 10^6 bytes of UTF-8 text. ids_hash is a 32-bit FNV-1a over every id and every
// document's length, in corpus order (bench/tokenize/peers.js computes the same), so that
// run.py can check that the peers produce the same ids. --dump-ids writes the ids of the last
// repetition (after its timing) as, per document in corpus order, a little-endian uint32 count
// and that many int32 ids, for run.py to locate differences.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tokenize/sentencepiece_model.h"
#include "tokenize/tokenizer.h"

namespace {

using mixtera::Status;
using mixtera::tokenize::Tokenizer;

constexpr const char* kUsage =
    "usage: tokenize_bench --tokenizer PATH --corpus FILE.jsonl [--threads N] [--repeat R]\n"
    "                      [--library-sentencepiece] [--encoding ENC] [--warmup-mb M]\n"
    "                      [--dump-ids FILE]\n";

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "tokenize_bench: %s\n", msg.c_str());
  std::exit(1);
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = std::move(ss).str();
  return static_cast<bool>(in) || in.eof();
}

// The "text" of every non-empty line of a JSONL file.
std::vector<std::string> ReadCorpus(const std::string& path) {
  std::string data;
  if (!ReadFile(path, &data)) Die("cannot read " + path);
  std::vector<std::string> texts;
  size_t start = 0;
  size_t line = 0;
  while (start < data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    ++line;
    if (end > start) {
      nlohmann::json doc;
      try {
        doc = nlohmann::json::parse(data.begin() + static_cast<std::ptrdiff_t>(start),
                                    data.begin() + static_cast<std::ptrdiff_t>(end));
      } catch (const nlohmann::json::exception& e) {
        Die(path + ":" + std::to_string(line) + ": " + e.what());
      }
      auto it = doc.find("text");
      if (it == doc.end() || !it->is_string()) {
        Die(path + ":" + std::to_string(line) + ": no \"text\" string");
      }
      texts.push_back(it->get<std::string>());
    }
    start = end + 1;
  }
  return texts;
}

// 32-bit FNV-1a over each document's id count and ids (the same as peers.js).
uint32_t IdsHash(const std::vector<std::vector<int32_t>>& ids) {
  uint32_t h = 2166136261u;
  auto mix = [&h](uint32_t v) {
    h ^= v;
    h *= 16777619u;
  };
  for (const auto& doc : ids) {
    mix(static_cast<uint32_t>(doc.size()));
    for (int32_t id : doc) mix(static_cast<uint32_t>(id));
  }
  return h;
}

// Little-endian hosts only (x86-64, arm64), as the rest of the benchmark.
void DumpIds(const std::string& path, const std::vector<std::vector<int32_t>>& ids) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const auto& doc : ids) {
    const uint32_t n = static_cast<uint32_t>(doc.size());
    out.write(reinterpret_cast<const char*>(&n), sizeof(n));
    out.write(reinterpret_cast<const char*>(doc.data()),
              static_cast<std::streamsize>(doc.size() * sizeof(int32_t)));
  }
  if (!out.flush()) Die("cannot write " + path);
}

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string tokenizer_path, corpus_path, encoding, dump_path;
  int threads = 1;
  int repeat = 3;
  double warmup_mb = 4.0;
  bool library_sp = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tokenize_bench: %s needs a value\n%s", a.c_str(), kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--tokenizer") {
      tokenizer_path = next();
    } else if (a == "--corpus") {
      corpus_path = next();
    } else if (a == "--threads") {
      threads = std::atoi(next().c_str());
    } else if (a == "--repeat") {
      repeat = std::atoi(next().c_str());
    } else if (a == "--warmup-mb") {
      warmup_mb = std::atof(next().c_str());
    } else if (a == "--encoding") {
      encoding = next();
    } else if (a == "--dump-ids") {
      dump_path = next();
    } else if (a == "--library-sentencepiece") {
      library_sp = true;
    } else {
      std::fprintf(stderr, "tokenize_bench: unexpected argument %s\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (tokenizer_path.empty() || corpus_path.empty() || threads < 1 || repeat < 1) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }

  const std::vector<std::string> texts = ReadCorpus(corpus_path);
  uint64_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();

  const auto t_load = std::chrono::steady_clock::now();
  std::unique_ptr<Tokenizer> tok;
  if (library_sp) {
    std::string model;
    if (!ReadFile(tokenizer_path, &model)) Die("cannot read " + tokenizer_path);
    auto r = mixtera::tokenize::LoadSentencePieceWithLibrary(tokenizer_path, model);
    if (!r.ok()) Die(r.status().ToString());
    tok = std::move(r).value();
  } else {
    auto r = mixtera::tokenize::LoadTokenizer(tokenizer_path, encoding);
    if (!r.ok()) Die(r.status().ToString());
    tok = std::move(r).value();
  }
  const double load_s = Seconds(t_load, std::chrono::steady_clock::now());
  const std::string impl = library_sp ? "libsentencepiece" : "mixtera";
  nlohmann::json load = {{"event", "load"},
                         {"impl", impl},
                         {"tokenizer", tokenizer_path},
                         {"load_s", load_s},
                         {"texts", texts.size()},
                         {"bytes", bytes},
                         {"fingerprint", tok->fingerprint()}};
  std::printf("%s\n", load.dump().c_str());
  std::fflush(stdout);

  // Warm-up: the first warmup_mb MB of texts, on the same number of threads.
  {
    std::vector<std::string> warm;
    uint64_t warm_bytes = 0;
    for (const auto& t : texts) {
      if (static_cast<double>(warm_bytes) >= warmup_mb * 1e6) break;
      warm.push_back(t);
      warm_bytes += t.size();
    }
    auto r = tok->EncodeBatch(warm, threads);
    if (!r.ok()) Die(r.status().ToString());
  }

  for (int rep = 0; rep < repeat; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = tok->EncodeBatch(texts, threads);
    const auto t1 = std::chrono::steady_clock::now();
    if (!r.ok()) Die(r.status().ToString());
    const double s = Seconds(t0, t1);
    uint64_t tokens = 0;
    for (const auto& ids : *r) tokens += ids.size();
    const double mb = static_cast<double>(bytes) / 1e6;
    char hash[16];
    std::snprintf(hash, sizeof(hash), "%08x", IdsHash(*r));
    nlohmann::json line = {{"event", "rep"},
                           {"impl", impl},
                           {"rep", rep},
                           {"threads", threads},
                           {"seconds", s},
                           {"bytes", bytes},
                           {"mb", mb},
                           {"texts", texts.size()},
                           {"tokens", tokens},
                           {"mb_per_s", s > 0 ? mb / s : 0.0},
                           {"tokens_per_s", s > 0 ? static_cast<double>(tokens) / s : 0.0},
                           {"ids_hash", hash}};
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
    if (rep + 1 == repeat && !dump_path.empty()) DumpIds(dump_path, *r);
  }
  return 0;
}
