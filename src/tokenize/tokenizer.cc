#include "tokenize/tokenizer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/macros.h"
#include "base/strings.h"
#include "base/thread_pool.h"
#include "tokenize/hf_tokenizer_json.h"
#include "tokenize/sentencepiece_model.h"
#include "tokenize/test_tokenizers.h"
#include "tokenize/tiktoken.h"

namespace mixtera::tokenize {

namespace {

// The threads behind EncodeBatch, shared by every call and kept for the life of the process,
// so their per-thread piece caches (piece_cache.h) stay warm from one batch to the next.
// Fork-safe: a forked child (a DataLoader worker) inherits the pool object but not its
// threads, so each process makes its own pool (the parent's copy is left alone, never used).
ThreadPool& SharedEncodePool() {
  struct PoolOfProcess {
    ThreadPool* pool;
    pid_t pid;
  };
  static std::atomic<PoolOfProcess*> current{nullptr};
  PoolOfProcess* p = current.load();
  const pid_t pid = ::getpid();
  if (p == nullptr || p->pid != pid) {
    auto* fresh = new PoolOfProcess{new ThreadPool(ThreadPool::HardwareThreads()), pid};
    if (current.compare_exchange_strong(p, fresh)) {
      p = fresh;
    } else {
      delete fresh->pool;  // another thread installed one first
      delete fresh;
      p = current.load();
    }
  }
  return *p->pool;
}

}  // namespace

Result<std::vector<std::vector<int32_t>>> Tokenizer::EncodeBatch(
    const std::vector<std::string>& texts, int num_threads) const {
  std::vector<std::vector<int32_t>> ids(texts.size());
  std::vector<Status> errors(texts.size());
  size_t threads =
      num_threads > 0 ? static_cast<size_t>(num_threads) : ThreadPool::HardwareThreads();
  threads = std::min(threads, texts.size());
  // Each worker (the calling thread and threads - 1 pool threads) takes the next unencoded
  // text, so long and short texts balance out.
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < texts.size() && !failed.load(); i = next.fetch_add(1)) {
      Result<std::vector<int32_t>> r = Encode(texts[i]);
      if (r.ok()) {
        ids[i] = std::move(r).value();
      } else {
        errors[i] = r.status();
        failed.store(true);
      }
    }
  };
  std::mutex mu;
  std::condition_variable done_cv;
  size_t helpers_running = threads > 1 ? threads - 1 : 0;
  for (size_t t = 1; t < threads; ++t) {
    SharedEncodePool().Submit([&] {
      work();
      std::lock_guard<std::mutex> lock(mu);
      if (--helpers_running == 0) done_cv.notify_all();
    });
  }
  work();
  {
    std::unique_lock<std::mutex> lock(mu);
    done_cv.wait(lock, [&] { return helpers_running == 0; });
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!errors[i].ok()) return errors[i].WithContext(StrCat("text ", i));
  }
  return ids;
}

namespace {

// The first non-whitespace byte of `data`, or '\0'.
char FirstNonSpace(const std::string& data) {
  const size_t pos = data.find_first_not_of(" \t\r\n");
  return pos == std::string::npos ? '\0' : data[pos];
}

Result<std::unique_ptr<Tokenizer>> LoadTestTokenizer(const std::string& path,
                                                     const nlohmann::json& j) {
  const nlohmann::json& kind = j[kTestTokenizerKey];
  auto invalid = [&](std::string_view what) {
    return Status::InvalidArgument(StrCat(path, ": ", what));
  };
  for (const auto& [key, value] : j.items()) {
    if (key != kTestTokenizerKey && key != "vocab") {
      return invalid(StrCat("unknown key \"", key, "\" (known: ", kTestTokenizerKey, ", vocab)"));
    }
  }
  if (kind == "bytes") {
    if (j.contains("vocab")) return invalid("the bytes test tokenizer takes no \"vocab\"");
    return MakeBytesTokenizer();
  }
  if (kind == "whitespace") {
    if (!j.contains("vocab") || !j["vocab"].is_array()) {
      return invalid("the whitespace test tokenizer needs \"vocab\": a list of strings");
    }
    std::vector<std::string> vocab;
    for (const auto& entry : j["vocab"]) {
      if (!entry.is_string()) {
        return invalid(StrCat("vocab entry ", vocab.size(), " is not a string: ", entry.dump()));
      }
      vocab.push_back(entry.get<std::string>());
    }
    auto tok = MakeWhitespaceTokenizer(std::move(vocab));
    if (!tok.ok()) return tok.status().WithContext(path);
    return tok;
  }
  return invalid(
      StrCat("unknown test tokenizer ", kind.dump(), " (known: \"bytes\", \"whitespace\")"));
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path,
                                                 const std::string& encoding) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return Status::NotFound(StrCat(path, ": no such tokenizer file"));
    }
    return Status::IOError(StrCat(path, ": ", std::strerror(err)));
  }
  if (S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(
        StrCat(path,
               ": is a directory (give the tokenizer file itself: tokenizer.json, a .model "
               "or a tiktoken rank file)"));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in) return Status::IOError(StrCat(path, ": cannot read the tokenizer file"));
  const std::string data = buf.str();
  if (data.empty()) return Status::InvalidArgument(StrCat(path, ": empty tokenizer file"));

  const bool is_json = EndsWith(path, ".json") || FirstNonSpace(data) == '{';
  if (!encoding.empty() && (is_json || EndsWith(path, ".model"))) {
    return Status::InvalidArgument(
        StrCat(path, ": encoding=\"", encoding, "\" applies only to tiktoken rank files"));
  }
  if (is_json) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(data);
    } catch (const nlohmann::json::parse_error& e) {
      return Status::InvalidArgument(StrCat(path, ": malformed JSON: ", e.what()));
    }
    if (j.is_object() && j.contains(kTestTokenizerKey)) return LoadTestTokenizer(path, j);
    return LoadHfTokenizerJson(path, data);
  }
  if (EndsWith(path, ".model")) return LoadSentencePieceModel(path, data);
  return LoadTiktoken(path, data, encoding);
}

}  // namespace mixtera::tokenize
