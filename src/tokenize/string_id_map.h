// StringIdMap: an immutable-after-build hash map from byte strings to token ids, for the hot
// lookups of the tokenizers (a whole pre-tokenized piece, a character, a special token). Open
// addressing with the full 64-bit hash stored per slot, keys in one arena.
//
// Thread safety: Insert is not thread-safe; Find may run concurrently once building is done.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace mixtera::tokenize {

// A fast 64-bit hash of short byte strings (not cryptographic; stable within a process).
inline uint64_t HashBytes(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = 0x243F6A8885A308D3ULL ^ (s.size() * kMul);
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  h *= 0xBF58476D1CE4E5B9ULL;
  return h ^ (h >> 31);
}

class StringIdMap {
 public:
  StringIdMap() { Rehash(16); }

  // Maps `key` to `id`; an existing key keeps its first id. Returns false when it existed.
  bool Insert(std::string_view key, int32_t id) {
    if ((size_ + 1) * 2 > slots_.size()) Rehash(slots_.size() * 2);
    const uint64_t h = HashBytes(key);
    size_t i = h & mask_;
    while (slots_[i].id >= 0) {
      if (slots_[i].hash == h && KeyAt(slots_[i]) == key) return false;
      i = (i + 1) & mask_;
    }
    slots_[i] =
        Slot{h, static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size()), id};
    arena_.append(key);
    ++size_;
    return true;
  }

  // Makes room for `n` keys without rehashing.
  void Reserve(size_t n) {
    size_t capacity = slots_.size();
    while (capacity < 2 * n + 2) capacity *= 2;
    if (capacity != slots_.size()) Rehash(capacity);
  }

  // The id of `key`, or -1.
  int32_t Find(std::string_view key) const { return Find(key, HashBytes(key)); }

  // Find with the key's HashBytes already computed.
  int32_t Find(std::string_view key, uint64_t h) const {
    size_t i = h & mask_;
    while (slots_[i].id >= 0) {
      if (slots_[i].hash == h && slots_[i].length == key.size() &&
          std::memcmp(arena_.data() + slots_[i].offset, key.data(), key.size()) == 0) {
        return slots_[i].id;
      }
      i = (i + 1) & mask_;
    }
    return -1;
  }

  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
    int32_t id = -1;
  };
  std::string_view KeyAt(const Slot& s) const {
    return std::string_view(arena_.data() + s.offset, s.length);
  }
  void Rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  std::string arena_;
};

}  // namespace mixtera::tokenize
