// Token mode (DESIGN.md §3.6): the documents of each key of a chunk, tokenized, become
// training windows of sequence_length + 1 tokens. Per key, documents are concatenated (with
// BOS before and/or EOS after each one) and cut into windows: back to back
// (non-overlapping, stride sequence_length + 1), or sharing one token with the next window
// (overlapping, stride sequence_length, so every token is a target once). A key's last
// partial window is dropped and its tokens counted as waste; windows never cross chunks.
// The windows of all keys are then interleaved by SmoothRoundRobin over each key's window
// count.
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace mixtera::client {

struct PackOptions {
  int64_t sequence_length = 0;  // > 0; windows hold sequence_length + 1 tokens
  bool overlapping = false;
  std::optional<int32_t> bos;    // prepended to every document when set
  std::optional<int32_t> eos;    // appended to every document when set
  bool document_starts = false;  // fill PackedWindows::doc_starts
};

struct PackedWindows {
  int64_t window_length = 0;     // sequence_length + 1
  std::vector<int32_t> tokens;   // num_windows() * window_length, window after window
  std::vector<int32_t> key_ids;  // the key of each window
  // With PackOptions::document_starts: the offsets within window w where a document (its
  // BOS, or its first token) starts are doc_starts[doc_start_begin[w] .. doc_start_begin[w+1]).
  std::vector<int32_t> doc_starts;
  std::vector<int64_t> doc_start_begin;
  // Per key (indexed like the input): tokens of the dropped last partial window.
  std::vector<int64_t> wasted_tokens;

  int64_t num_windows() const { return static_cast<int64_t>(key_ids.size()); }
};

// `docs[k]` are the token ids of key k's documents, in reading order. `key_ids[k]` is the key
// id written for key k's windows. `continued` (optional, shaped like `docs`): nonzero for a
// document whose start was in an earlier chunk (exact token counts cut it): it gets no BOS
// and is not a document start.
PackedWindows PackWindows(const std::vector<std::vector<std::vector<int32_t>>>& docs,
                          const std::vector<int32_t>& key_ids, const PackOptions& options,
                          const std::vector<std::vector<uint8_t>>* continued = nullptr);

}  // namespace mixtera::client
