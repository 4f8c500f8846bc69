#include "tokenize/byte_level.h"

#include <array>
#include <cstdint>

namespace mixtera::tokenize {
namespace {

struct Alphabet {
  std::array<uint32_t, 256> char_of_byte;  // code point of each byte
  std::array<int16_t, 324> byte_of_char;   // inverse for code points < 324, or -1

  Alphabet() {
    byte_of_char.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      char_of_byte[b] = printable ? b : next++;
      byte_of_char[char_of_byte[b]] = static_cast<int16_t>(b);
    }
  }
};

const Alphabet& GetAlphabet() {
  static const Alphabet alphabet;
  return alphabet;
}

}  // namespace

std::string ByteLevelEncode(std::string_view bytes) {
  const Alphabet& a = GetAlphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const uint32_t cp = a.char_of_byte[static_cast<unsigned char>(c)];
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

bool ByteLevelDecode(std::string_view text, std::string* bytes) {
  const Alphabet& a = GetAlphabet();
  bytes->clear();
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    uint32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < text.size()) {
      cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3F);
      i += 2;
    } else {
      return false;  // every alphabet character is below U+0800
    }
    if (cp >= a.byte_of_char.size() || a.byte_of_char[cp] < 0) return false;
    bytes->push_back(static_cast<char>(a.byte_of_char[cp]));
  }
  return true;
}

}  // namespace mixtera::tokenize
