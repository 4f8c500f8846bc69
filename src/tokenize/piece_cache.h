// PieceCache: remembers the ids of recently encoded pre-tokenized pieces, so the merge loop
// runs once per distinct word rather than once per occurrence. One cache per thread and
// tokenizer (LocalPieceCache); bounded: when full it is emptied and refilled.
//
// Thread safety: a PieceCache belongs to one thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tokenize/string_id_map.h"

namespace mixtera::tokenize {

class PieceCache {
 public:
  // Pieces longer than this are not cached (long pieces are rare and rarely repeat).
  static constexpr size_t kMaxPieceBytes = 96;

  PieceCache() { Clear(); }

  // Appends the cached ids of `piece` to *out and returns true, or returns false.
  bool Lookup(std::string_view piece, uint64_t hash, std::vector<int32_t>* out) const {
    size_t i = hash & kMask;
    while (true) {
      const Slot& s = slots_[i];
      if (s.key_length == kEmptySlot) return false;
      if (s.hash == hash && s.key_length == piece.size() &&
          std::memcmp(keys_.data() + s.key_offset, piece.data(), piece.size()) == 0) {
        out->insert(out->end(), ids_.begin() + s.ids_offset,
                    ids_.begin() + s.ids_offset + s.num_ids);
        return true;
      }
      i = (i + 1) & kMask;
    }
  }

  // Remembers ids[0, n) for `piece` (which must not be cached yet).
  void Store(std::string_view piece, uint64_t hash, const int32_t* ids, size_t n) {
    if (piece.size() > kMaxPieceBytes || n > 0xFFFF) return;
    if (size_ * 2 >= kSlots || keys_.size() > kMaxArenaBytes) Clear();
    size_t i = hash & kMask;
    while (slots_[i].key_length != kEmptySlot) i = (i + 1) & kMask;
    slots_[i] = Slot{hash, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(ids_.size()),
                     static_cast<uint16_t>(piece.size()), static_cast<uint16_t>(n)};
    keys_.append(piece);
    ids_.insert(ids_.end(), ids, ids + n);
    ++size_;
  }

  void Clear() {
    slots_.assign(kSlots, Slot{});
    keys_.clear();
    ids_.clear();
    size_ = 0;
  }

 private:
  static constexpr size_t kSlots = size_t{1} << 17;
  static constexpr size_t kMask = kSlots - 1;
  static constexpr size_t kMaxArenaBytes = size_t{8} << 20;
  static constexpr uint16_t kEmptySlot = 0xFFFF;
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_offset = 0;
    uint32_t ids_offset = 0;
    uint16_t key_length = kEmptySlot;
    uint16_t num_ids = 0;
  };

  std::vector<Slot> slots_;
  std::string keys_;
  std::vector<int32_t> ids_;
  size_t size_ = 0;
};

// The calling thread's cache for the tokenizer with serial number `owner` (a process-unique
// number per tokenizer object); switching tokenizers on a thread empties it.
inline PieceCache& LocalPieceCache(uint64_t owner) {
  thread_local uint64_t current_owner = 0;
  thread_local PieceCache cache;
  if (current_owner != owner) {
    cache.Clear();
    current_owner = owner;
  }
  return cache;
}

}  // namespace mixtera::tokenize
