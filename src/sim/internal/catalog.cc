#include "sim/internal/catalog.h"

#include <vector>

namespace quanyu::sim::internal {
namespace {

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

const std::string& EncodedKeyword(size_t i) {
  static const std::vector<std::string> kEncoded = [] {
    std::vector<std::string> v;
    v.reserve(kSearchKeywords.size());
    for (auto k : kSearchKeywords) v.push_back(PercentEncode(k));
    return v;
  }();
  return kEncoded[i % kEncoded.size()];
}

}  // namespace quanyu::sim::internal
