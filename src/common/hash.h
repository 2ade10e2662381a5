// Hashing helpers over xxHash (XXH3). Stateless; thread-safe.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace quanyu {

inline uint64_t Hash64(std::string_view s, uint64_t seed = 0) {
  return XXH3_64bits_withSeed(s.data(), s.size(), seed);
}

struct Hash128 {
  uint64_t lo = 0, hi = 0;
  bool operator==(const Hash128&) const = default;
};

inline Hash128 Hash128Of(std::string_view s) {
  XXH128_hash_t h = XXH3_128bits(s.data(), s.size());
  return {h.low64, h.high64};
}

// Checksum used by persisted records: the low 32 bits of XXH3-64.
inline uint32_t Checksum32(std::string_view s) { return static_cast<uint32_t>(Hash64(s)); }

struct Hash128Hasher {
  size_t operator()(const Hash128& h) const { return h.lo ^ (h.hi * 0x9E3779B97F4A7C15ull); }
};

}  // namespace quanyu
