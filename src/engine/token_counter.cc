#include "engine/token_counter.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "base/logging.h"
#include "base/macros.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "formats/sample_reader.h"
#include "formats/token_counts_file.h"

namespace mixtera::engine {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Samples read and tokenized per batch: large enough to keep every thread busy, small
// enough that a batch's texts stay a few MB.
constexpr size_t kBatchSamples = 2048;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Result<TokenCountReport> ReadReport(const std::string& folder) {
  const std::string path = folder + "/counts.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(StrCat(path, " is missing"));
  TokenCountReport report;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    report.fingerprint = j.at("fingerprint").get<std::string>();
    report.num_files = static_cast<int64_t>(j.at("files").size());
    report.num_samples = j.at("num_samples").get<int64_t>();
    report.num_tokens = j.at("num_tokens").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(StrCat(path, ": ", e.what()));
  }
  report.folder = folder;
  return report;
}

// One batch of a file's samples, read ahead of tokenizing.
struct Batch {
  std::vector<uint32_t> ids;
  std::vector<std::string> texts;
};

}  // namespace

std::string TokenCountsDir(const std::string& offsets_dir, std::string_view fingerprint) {
  return StrCat(offsets_dir, "/tokens/", Sha256Hex(fingerprint).substr(0, 16));
}

bool HasTokenCounts(const std::string& offsets_dir, std::string_view fingerprint) {
  std::error_code ec;
  return fs::exists(TokenCountsDir(offsets_dir, fingerprint) + "/counts.json", ec);
}

Result<TokenCountReport> CountDatasetTokens(store::MetadataStore* store,
                                            const model::DatasetInfo& dataset,
                                            const std::string& offsets_dir,
                                            const tokenize::Tokenizer& tokenizer,
                                            const std::string& tokenizer_path,
                                            const TokenCountOptions& options) {
  const auto t0 = Clock::now();
  const std::string fingerprint = tokenizer.fingerprint();
  const std::string folder = TokenCountsDir(offsets_dir, fingerprint);
  if (HasTokenCounts(offsets_dir, fingerprint)) {
    MIXTERA_ASSIGN_OR_RETURN(TokenCountReport report, ReadReport(folder));
    if (report.fingerprint != fingerprint) {
      return Status::Corruption(StrCat(folder, "/counts.json: fingerprint ", report.fingerprint,
                                       " in the folder of ", fingerprint));
    }
    report.dataset = dataset.name;
    report.already_counted = true;
    report.seconds = Since(t0);
    return report;
  }
  MIXTERA_ASSIGN_OR_RETURN(std::vector<model::FileRecord> files, store->ListFiles(dataset.name));
  const std::string tmp =
      StrCat(offsets_dir, "/tokens/.tmp-", ::getpid(), "-", Sha256Hex(fingerprint).substr(0, 16));
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return Status::IOError(StrCat("cannot create ", tmp, ": ", ec.message()));
  struct Cleanup {
    std::string path;
    bool keep = false;
    ~Cleanup() {
      std::error_code ignored;
      if (!keep) fs::remove_all(path, ignored);
    }
  } cleanup{tmp};

  TokenCountReport report;
  report.dataset = dataset.name;
  report.fingerprint = fingerprint;
  report.folder = folder;
  report.num_files = static_cast<int64_t>(files.size());
  const bool progress = options.progress && StderrIsTerminal();
  auto last_print = Clock::now();
  auto print = [&](size_t files_done) {
    const double secs = Since(t0);
    std::fprintf(
        stderr, "\rcount-tokens %s: files %zu/%zu, %lld samples, %lld tokens, %.1f MB/s   ",
        dataset.name.c_str(), files_done, files.size(), static_cast<long long>(report.num_samples),
        static_cast<long long>(report.num_tokens),
        secs > 0 ? static_cast<double>(report.text_bytes) / 1e6 / secs : 0.0);
    std::fflush(stderr);
  };
  nlohmann::json file_list = nlohmann::json::array();
  for (size_t fi = 0; fi < files.size(); ++fi) {
    const model::FileRecord& f = files[fi];
    MIXTERA_ASSIGN_OR_RETURN(std::vector<uint32_t> ids,
                             store->ListSampleIds(dataset.name, f.file_id));
    const formats::SampleFile sample_file{
        .path = f.path,
        .format = std::string(model::DataFormatName(dataset.format)),
        .compression = std::string(model::CompressionName(f.compression)),
        .text_fields = dataset.text_fields,
        .offsets_path = StrCat(offsets_dir, "/", f.file_id),
        .size_bytes = f.size_bytes,
        .mtime_ns = f.mtime_ns};
    auto read_batch = [&sample_file, &ids](size_t begin) -> Result<Batch> {
      Batch batch;
      batch.ids.assign(
          ids.begin() + static_cast<std::ptrdiff_t>(begin),
          ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), begin + kBatchSamples)));
      MIXTERA_ASSIGN_OR_RETURN(batch.texts, formats::ReadSampleTexts(sample_file, batch.ids));
      return batch;
    };
    std::vector<uint32_t> counts(static_cast<size_t>(f.num_records), 0);
    int64_t file_tokens = 0;
    // The next batch is read on another thread while this one is tokenized.
    std::future<Result<Batch>> next;
    if (!ids.empty()) next = std::async(std::launch::async, read_batch, 0);
    for (size_t begin = 0; begin < ids.size(); begin += kBatchSamples) {
      Result<Batch> batch = next.get();
      if (!batch.ok()) return batch.status();
      if (begin + kBatchSamples < ids.size()) {
        next = std::async(std::launch::async, read_batch, begin + kBatchSamples);
      }
      Result<std::vector<std::vector<int32_t>>> encoded =
          tokenizer.EncodeBatch(batch->texts, options.threads);
      if (!encoded.ok()) {
        if (next.valid()) next.wait();
        return encoded.status().WithContext(f.path);
      }
      for (size_t i = 0; i < batch->ids.size(); ++i) {
        const uint32_t id = batch->ids[i];
        if (id >= counts.size()) {
          if (next.valid()) next.wait();
          return Status::Corruption(
              StrCat(f.path, ": sample ", id, " beyond the file's ", counts.size(), " records"));
        }
        counts[id] = static_cast<uint32_t>((*encoded)[i].size());
        file_tokens += static_cast<int64_t>((*encoded)[i].size());
        report.num_tokens += static_cast<int64_t>((*encoded)[i].size());
        report.text_bytes += static_cast<int64_t>(batch->texts[i].size());
      }
      report.num_samples += static_cast<int64_t>(batch->ids.size());
      if (progress && Since(last_print) > 0.5) {
        last_print = Clock::now();
        print(fi);
      }
    }
    MIXTERA_RETURN_IF_ERROR(
        formats::WriteTokenCounts(StrCat(tmp, "/", f.file_id, ".tokens"), counts));
    file_list.push_back({{"file_id", f.file_id}, {"num_tokens", file_tokens}});
  }
  if (progress) {
    print(files.size());
    std::fputc('\n', stderr);
  }
  nlohmann::json summary = {{"fingerprint", fingerprint},
                            {"tokenizer", tokenizer_path},
                            {"num_samples", report.num_samples},
                            {"num_tokens", report.num_tokens},
                            {"files", std::move(file_list)}};
  {
    std::ofstream out(tmp + "/counts.json", std::ios::binary);
    out << summary.dump(1);
    out.close();
    if (!out) return Status::IOError(StrCat("cannot write ", tmp, "/counts.json"));
  }
  fs::rename(tmp, folder, ec);
  if (ec) {
    // Another process finished the same counts first: theirs are identical.
    if (HasTokenCounts(offsets_dir, fingerprint)) {
      report.already_counted = true;
    } else {
      return Status::IOError(StrCat("cannot create ", folder, ": ", ec.message()));
    }
  } else {
    cleanup.keep = true;
  }
  report.seconds = Since(t0);
  return report;
}

std::string TokenCountReportJson(const TokenCountReport& r) {
  return nlohmann::json({{"dataset", r.dataset},
                         {"fingerprint", r.fingerprint},
                         {"folder", r.folder},
                         {"num_files", r.num_files},
                         {"num_samples", r.num_samples},
                         {"num_tokens", r.num_tokens},
                         {"text_bytes", r.text_bytes},
                         {"seconds", r.seconds},
                         {"already_counted", r.already_counted}})
      .dump();
}

}  // namespace mixtera::engine
