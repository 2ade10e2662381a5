#include "collect/internal/base64.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

namespace quanyu::collect::internal {
namespace {

constexpr int8_t kInvalid = -1;
constexpr int8_t kSpace = -2;
constexpr int8_t kPad = -3;

// One table for both alphabets: '+' and '-' are 62, '/' and '_' are 63.
constexpr std::array<int8_t, 256> MakeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<int8_t>(i);
    t['a' + i] = static_cast<int8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(52 + i);
  t['+'] = t['-'] = 62;
  t['/'] = t['_'] = 63;
  t[' '] = t['\t'] = t['\r'] = t['\n'] = t['\f'] = t['\v'] = kSpace;
  t['='] = kPad;
  return t;
}
constexpr std::array<int8_t, 256> kTable = MakeTable();

std::string Describe(unsigned char c) {
  if (c >= 0x20 && c < 0x7f) return fmt::format("'{}' (0x{:02x})", static_cast<char>(c), c);
  return fmt::format("0x{:02x}", c);
}

}  // namespace

Result<std::string> Base64Decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;        // bits held in acc
  size_t sextets = 0;  // data characters seen
  size_t pads = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    int8_t v = kTable[c];
    if (v == kSpace) continue;
    if (v == kPad) {
      if (++pads > 2)
        return Status::InvalidArgument(
            fmt::format("invalid base64: too much padding at offset {}", i));
      continue;
    }
    if (v == kInvalid) {
      return Status::InvalidArgument(
          fmt::format("invalid base64 character {} at offset {}", Describe(c), i));
    }
    if (pads > 0) {
      return Status::InvalidArgument(
          fmt::format("invalid base64: data after padding at offset {}", i));
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++sextets;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (sextets % 4 == 1) {
    return Status::InvalidArgument(
        "invalid base64: truncated input (a final group of one character)");
  }
  // Short padding is tolerated like missing padding; excess padding is not.
  if ((sextets % 4 == 0 && pads > 0) || (sextets % 4 == 3 && pads > 1)) {
    return Status::InvalidArgument("invalid base64: padding longer than the final group needs");
  }
  return out;
}

std::string Base64Encode(std::string_view in, bool url_safe) {
  static constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* alphabet = url_safe ? kUrl : kStd;
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    out.push_back(alphabet[n & 63]);
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t{static_cast<unsigned char>(in[i])} << 16;
    if (rest == 2) n |= uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace quanyu::collect::internal
