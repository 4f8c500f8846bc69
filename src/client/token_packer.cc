#include "client/token_packer.h"

#include <algorithm>
#include <cstring>

#include "client/chunk_order.h"

namespace mixtera::client {

PackedWindows PackWindows(const std::vector<std::vector<std::vector<int32_t>>>& docs,
                          const std::vector<int32_t>& key_ids, const PackOptions& options,
                          const std::vector<std::vector<uint8_t>>* continued) {
  PackedWindows out;
  const int64_t length = options.sequence_length + 1;
  const int64_t stride = options.overlapping ? options.sequence_length : length;
  out.window_length = length;
  out.wasted_tokens.assign(docs.size(), 0);

  // Per key: the concatenated stream, its document start positions, and its windows.
  struct KeyWindows {
    std::vector<int32_t> stream;
    std::vector<int64_t> starts;
    int64_t num_windows = 0;
  };
  std::vector<KeyWindows> per_key(docs.size());
  std::vector<int64_t> counts(docs.size(), 0);
  for (size_t k = 0; k < docs.size(); ++k) {
    KeyWindows& kw = per_key[k];
    size_t total = 0;
    for (const std::vector<int32_t>& doc : docs[k]) total += doc.size() + 2;
    kw.stream.reserve(total);
    kw.starts.reserve(docs[k].size());
    for (size_t d = 0; d < docs[k].size(); ++d) {
      const std::vector<int32_t>& doc = docs[k][d];
      const bool cont = continued != nullptr && (*continued)[k][d] != 0;
      if (!cont) kw.starts.push_back(static_cast<int64_t>(kw.stream.size()));
      if (options.bos && !cont) kw.stream.push_back(*options.bos);
      kw.stream.insert(kw.stream.end(), doc.begin(), doc.end());
      if (options.eos) kw.stream.push_back(*options.eos);
    }
    const auto n = static_cast<int64_t>(kw.stream.size());
    kw.num_windows = n < length ? 0 : (n - length) / stride + 1;
    const int64_t used = kw.num_windows == 0 ? 0 : (kw.num_windows - 1) * stride + length;
    out.wasted_tokens[k] = n - used;
    counts[k] = kw.num_windows;
  }

  const std::vector<int32_t> order = SmoothRoundRobin(counts);
  out.tokens.resize(order.size() * static_cast<size_t>(length));
  out.key_ids.reserve(order.size());
  if (options.document_starts) out.doc_start_begin.push_back(0);
  std::vector<int64_t> next_window(docs.size(), 0);
  int32_t* dst = out.tokens.data();
  for (int32_t k : order) {
    const KeyWindows& kw = per_key[k];
    const int64_t begin = next_window[k]++ * stride;
    std::memcpy(dst, kw.stream.data() + begin, static_cast<size_t>(length) * sizeof(int32_t));
    dst += length;
    out.key_ids.push_back(key_ids[k]);
    if (options.document_starts) {
      auto it = std::lower_bound(kw.starts.begin(), kw.starts.end(), begin);
      for (; it != kw.starts.end() && *it < begin + length; ++it) {
        out.doc_starts.push_back(static_cast<int32_t>(*it - begin));
      }
      out.doc_start_begin.push_back(static_cast<int64_t>(out.doc_starts.size()));
    }
  }
  return out;
}

}  // namespace mixtera::client
