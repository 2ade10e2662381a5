// Big-endian integers in state-DB keys, so keys sort in number order
// (docs/audiences.md, "Storage").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace quanyu::audience::internal {

// The last membership change SEQ handed out, kept once the newest changes
// may have been erased (u64 BE).
inline constexpr std::string_view kLastSeqKey = "au/seq";

inline void PutBigEndian64(std::string* dst, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(v >> shift & 0xff));
}
inline void PutBigEndian32(std::string* dst, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(v >> shift & 0xff));
}
inline uint64_t DecodeBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint32_t DecodeBigEndian32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace quanyu::audience::internal
