#include "index/elias_fano.h"

#include <bit>
#include <cstring>
#if defined(__BMI2__)
#include <immintrin.h>
#endif

#include "base/macros.h"

namespace mixtera::index {
namespace {
constexpr uint64_t kSelectStride = 256;

// The index of the need-th (1-based) set bit of `word`, which has at least `need` set bits.
inline uint64_t SelectInWord(uint64_t word, uint64_t need) {
#if defined(__BMI2__) && !defined(__znver1__) && !defined(__znver2__)
  // PDEP deposits a single 1 at the need-th set bit (microcoded and slow before Zen 3 only).
  return static_cast<uint64_t>(__builtin_ctzll(_pdep_u64(uint64_t{1} << (need - 1), word)));
#else
  for (uint64_t k = 1; k < need; ++k) word &= word - 1;
  return static_cast<uint64_t>(__builtin_ctzll(word));
#endif
}
}  // namespace

EliasFanoParams EliasFanoLayout(uint64_t n, uint64_t universe) {
  EliasFanoParams p;
  p.n = n;
  p.universe = universe;
  p.low_bits =
      (universe > n && n > 0) ? static_cast<uint32_t>(std::bit_width(universe / n) - 1) : 0;
  p.lower_words = (n * p.low_bits + 63) / 64;
  const uint64_t upper_bits = n + (universe >> p.low_bits) + 1;
  p.upper_words = (upper_bits + 63) / 64;
  p.select_words = (n + kSelectStride - 1) / kSelectStride;
  return p;
}

void EliasFanoEncodeTo(const uint32_t* values, uint64_t n, uint64_t universe, uint64_t* out) {
  const EliasFanoParams p = EliasFanoLayout(n, universe);
  uint64_t* lower = out;
  uint64_t* upper = lower + p.lower_words;
  uint64_t* select = upper + p.upper_words;
  std::memset(out, 0, p.total_words() * sizeof(uint64_t));
  const uint64_t low_mask = p.low_bits == 0 ? 0 : (uint64_t{1} << p.low_bits) - 1;
  // Order and range are checked once at the end: `bad` collects any violation.
  uint64_t previous = 0;
  bool bad = n > 0 && values[n - 1] >= universe;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t x = values[i];
    bad |= i > 0 && x <= previous;
    previous = x;
    if (p.low_bits > 0) {
      const uint64_t bit = i * p.low_bits;
      const uint64_t w = bit >> 6, off = bit & 63;
      lower[w] |= (x & low_mask) << off;
      if (off + p.low_bits > 64) lower[w + 1] |= (x & low_mask) >> (64 - off);
    }
    const uint64_t pos = (x >> p.low_bits) + i;
    upper[pos >> 6] |= uint64_t{1} << (pos & 63);
    if (i % kSelectStride == 0) select[i / kSelectStride] = pos;
  }
  MIXTERA_CHECK(!bad);
}

void EliasFanoEncode(const std::vector<uint32_t>& values, uint64_t universe,
                     BigArray<uint64_t>* words) {
  const size_t base = words->size();
  words->resize(base + EliasFanoLayout(values.size(), universe).total_words());
  EliasFanoEncodeTo(values.data(), values.size(), universe, words->data() + base);
}

EliasFanoView::EliasFanoView(const uint64_t* words, uint64_t n, uint64_t universe)
    : p_(EliasFanoLayout(n, universe)),
      lower_(words),
      upper_(words + p_.lower_words),
      select_(upper_ + p_.upper_words) {}

uint64_t EliasFanoView::SelectUpperBit(uint64_t i) const {
  // select_[s] is the upper-bit position of element s * stride; walk forward from there.
  const uint64_t s = i / kSelectStride;
  uint64_t need, w, word;
  if (s == 0) {
    // Within the first stride, scan from the start: no extra cache line for the sample.
    need = i + 1;
    w = 0;
    word = upper_[0];
  } else {
    const uint64_t pos = select_[s];
    need = i - s * kSelectStride;
    if (need == 0) return pos;
    w = pos >> 6;
    const uint64_t off = pos & 63;
    word = off == 63 ? 0 : upper_[w] & (~uint64_t{0} << (off + 1));
  }
  while (true) {
    const uint64_t ones = static_cast<uint64_t>(std::popcount(word));
    if (ones >= need) return (w << 6) + SelectInWord(word, need);
    need -= ones;
    word = upper_[++w];
  }
}

}  // namespace mixtera::index
