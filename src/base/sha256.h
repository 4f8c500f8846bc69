// SHA-256 (FIPS 180-4) of byte strings, for identifying files by content: tiktoken rank files
// are recognised by the hashes tiktoken publishes, and tokenizer fingerprints hash the file.
//
//   Sha256 h;
//   h.Update(part1);
//   h.Update(part2);
//   std::string hex = h.HexDigest();  // 64 lowercase hex digits
//
// Thread safety: a Sha256 object is not thread-safe; the free function is.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mixtera {

class Sha256 {
 public:
  Sha256();

  // Appends `data` to the message. Must not be called after a digest was taken.
  void Update(std::string_view data);

  // Finishes the message and returns the 32-byte digest. Call at most once.
  std::array<uint8_t, 32> Digest();
  // Digest() as 64 lowercase hex digits.
  std::string HexDigest();

 private:
  void Compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_;
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// The SHA-256 of `data` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);

}  // namespace mixtera
