// Exact per-sample token counts of a dataset under one tokenizer (`mixtera count-tokens`,
// DESIGN.md §3.4). With them, `unit: tokens` jobs plan in exact tokens: each chunk holds an
// exact number of training windows and wastes nothing (docs/mixtures.md, "Units").
//
// The counts of dataset D under a tokenizer with fingerprint F live in
//   <offsets dir of D>/tokens/<first 16 hex digits of sha256(F)>/
//     <file_id>.tokens   per data file, formats::TokenCountsReader's layout
//     counts.json        written last: {fingerprint, tokenizer, num_samples, num_tokens,
//                        files: [{file_id, num_tokens}]}; its presence marks the set complete
// The folder is written under a temporary name and renamed, so it is either complete or
// absent; removing the dataset removes it. Counts are those of Tokenizer::Encode with
// allow_special = false on the text the client streams (the spec's text field(s)), without
// BOS/EOS.
//
// Thread safety: CountDatasetTokens uses the store from the calling thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mixtera/result.h"
#include "model/dataset_info.h"
#include "store/metadata_store.h"
#include "tokenize/tokenizer.h"

namespace mixtera::engine {

struct TokenCountOptions {
  // Threads for tokenizing (0 = all cores).
  int threads = 0;
  // Print a progress line on stderr (files, samples, tokens, MB/s) when stderr is a terminal.
  bool progress = true;
};

struct TokenCountReport {
  std::string dataset;
  std::string fingerprint;
  std::string folder;  // where the counts are
  int64_t num_files = 0;
  int64_t num_samples = 0;
  int64_t num_tokens = 0;
  int64_t text_bytes = 0;        // bytes of text tokenized (0 when already counted)
  double seconds = 0;            // wall time of this call
  bool already_counted = false;  // the counts existed; nothing was tokenized
};

// "<offsets_dir>/tokens/<16 hex digits of sha256(fingerprint)>".
std::string TokenCountsDir(const std::string& offsets_dir, std::string_view fingerprint);
// True when TokenCountsDir(offsets_dir, fingerprint) holds a complete set (counts.json).
bool HasTokenCounts(const std::string& offsets_dir, std::string_view fingerprint);

// Counts the tokens of every sample of `dataset` (whose offsets live in `offsets_dir`) with
// `tokenizer` and stores them; returns at once (already_counted) when they exist.
// Errors: those of reading the samples (a data file missing or changed since registration,
// naming it; corrupt offsets), the store's, and IOError writing the counts; on error no
// counts remain.
Result<TokenCountReport> CountDatasetTokens(store::MetadataStore* store,
                                            const model::DatasetInfo& dataset,
                                            const std::string& offsets_dir,
                                            const tokenize::Tokenizer& tokenizer,
                                            const std::string& tokenizer_path,
                                            const TokenCountOptions& options);

// The JSON object of a report (the CLI's `count-tokens --json`, Python count_tokens).
std::string TokenCountReportJson(const TokenCountReport& report);

}  // namespace mixtera::engine
