// Elias-Fano coding of a sorted sequence of distinct sample ids, with random access to the
// i-th element (select) and sequential decoding from there. It stores n ids below a
// universe u in about n * (2 + log2(u / n)) bits: 1.5 bytes per sample when a component
// holds every 1000th sample of a file, less when it is denser. The index uses it for
// (component, file) pairs whose samples form short ranges (DESIGN.md §3.4).
//
// Layout of an encoded block (64-bit words, so it can be used in place from an mmap):
//   [lower bits: n * L bits, packed][upper bits: n + (u >> L) + 1 bits][select samples]
// where L = floor(log2(u / n)) (0 when u <= n), element i sets upper bit (x_i >> L) + i,
// and the select samples hold, for every 256th element, the position of its upper bit.
#pragma once

#include <cstdint>
#include <vector>

#include "base/big_array.h"

namespace mixtera::index {

struct EliasFanoParams {
  uint64_t n = 0;         // number of elements
  uint64_t universe = 0;  // every element < universe
  uint32_t low_bits = 0;  // L
  uint64_t lower_words = 0;
  uint64_t upper_words = 0;
  uint64_t select_words = 0;
  uint64_t total_words() const { return lower_words + upper_words + select_words; }
};

// The sizes of the block for `n` elements below `universe` (n >= 1).
EliasFanoParams EliasFanoLayout(uint64_t n, uint64_t universe);

// Appends the encoding of `values` (strictly increasing, all < universe) to *words.
// Aborts (MIXTERA_CHECK) when they are not.
void EliasFanoEncode(const std::vector<uint32_t>& values, uint64_t universe,
                     BigArray<uint64_t>* words);
// Writes the encoding of values[0, n) to out[0, EliasFanoLayout(n, universe).total_words())
// (whatever it held before). Same requirements as EliasFanoEncode. Distinct `out` ranges may
// be written from different threads.
void EliasFanoEncodeTo(const uint32_t* values, uint64_t n, uint64_t universe, uint64_t* out);

// A read-only view of one encoded block. Cheap to construct; does not own the words.
class EliasFanoView {
 public:
  EliasFanoView(const uint64_t* words, uint64_t n, uint64_t universe);

  uint64_t size() const { return p_.n; }

  // Decodes elements [first, first + count) (first + count <= size()) and calls
  // emit(value) for each, in order.
  template <typename Emit>
  void Decode(uint64_t first, uint64_t count, Emit&& emit) const {
    if (count == 0) return;
    uint64_t bit = SelectUpperBit(first);
    uint64_t word_index = bit >> 6;
    uint64_t word = upper_[word_index] & (~uint64_t{0} << (bit & 63));
    for (uint64_t i = first; i < first + count; ++i) {
      while (word == 0) word = upper_[++word_index];
      const uint64_t pos = (word_index << 6) + static_cast<uint64_t>(__builtin_ctzll(word));
      word &= word - 1;
      emit(((pos - i) << p_.low_bits) | Low(i));
    }
  }

 private:
  // The position in the upper bits of element i's set bit.
  uint64_t SelectUpperBit(uint64_t i) const;
  uint64_t Low(uint64_t i) const {
    if (p_.low_bits == 0) return 0;
    const uint64_t bit = i * p_.low_bits;
    const uint64_t w = bit >> 6, off = bit & 63;
    uint64_t v = lower_[w] >> off;
    if (off + p_.low_bits > 64) v |= lower_[w + 1] << (64 - off);
    return v & ((uint64_t{1} << p_.low_bits) - 1);
  }

  EliasFanoParams p_;
  const uint64_t* lower_;
  const uint64_t* upper_;
  const uint64_t* select_;
};

}  // namespace mixtera::index
