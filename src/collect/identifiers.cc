#include "collect/identifiers.h"

#include <algorithm>
#include <optional>

namespace quanyu::collect {
namespace {

// Longest identifier value linked; anything longer is not an id but a blob.
constexpr size_t kMaxValueBytes = 512;

// Junk of every namespace, compared after trimming and lower-casing.
constexpr std::string_view kBuiltinJunk[] = {"",     "null", "undefined", "anonymous",
                                             "none", "nil",  "unknown",   "0",
                                             "-1",   "nan",  "(null)",    "[object object]"};

constexpr std::string_view kKnownNamespaces[] = {
    "user_id",       "anonymous_id",   "member_id",     "phone",          "email",
    "device_id",     "idfa",           "idfv",          "oaid",           "android_id",
    "wechat_openid", "wechat_unionid", "douyin_openid", "douyin_unionid", "wecom_external_userid",
    "alipay_uid",    "taobao_nick",    "jd_pin",        "pdd_uid",        "xiaohongshu_id",
    "weibo_uid",     "bilibili_mid",   "kuaishou_id",   "phone_sha256",   "email_sha256",
    "phone_md5",     "email_md5"};

// How a region writes national phone numbers, enough to reach E.164.
struct PhonePlan {
  std::string_view region;        // ISO 3166 alpha-2
  std::string_view country_code;  // E.164 country calling code
  std::string_view leading;       // allowed first digits of a national number
  size_t min_len, max_len;        // national significant number length
  bool trunk_zero;                // nationally dialled with a leading 0 that E.164 drops
  size_t trunk_min, trunk_max;    // length after the trunk 0
};

// CN: mobiles are 11 digits starting with 1; landlines are dialled 0 + area
// code + number (9..11 digits after the 0).
// clang-format off
constexpr PhonePlan kPhonePlans[] = {
    // region  cc     leading       national  trunk 0  after trunk
    {"CN",     "86",  "1",          11, 11,   true,    9, 11},
    {"US",     "1",   "23456789",   10, 10,   false,   0, 0},
    {"GB",     "44",  "123456789",  10, 10,   true,    9, 10},
    {"HK",     "852", "2345679",    8,  8,    false,   0, 0},
    {"TW",     "886", "23456789",   8,  9,    true,    8, 9},
    {"SG",     "65",  "3689",       8,  8,    false,   0, 0},
    {"JP",     "81",  "123456789",  9,  10,   true,    9, 10},
};
// clang-format on

std::string_view Trim(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

const PhonePlan* PlanForRegion(std::string_view region) {
  std::string upper = Upper(region);
  for (const auto& p : kPhonePlans) {
    if (p.region == upper) return &p;
  }
  return nullptr;
}

// The plan whose country code starts `digits` (international form).
const PhonePlan* PlanForCountryCode(std::string_view digits) {
  const PhonePlan* best = nullptr;
  for (const auto& p : kPhonePlans) {
    if (StartsWith(digits, p.country_code) &&
        (!best || p.country_code.size() > best->country_code.size())) {
      best = &p;
    }
  }
  return best;
}

// E.164: a country code and subscriber number of at most 15 digits; shorter
// than 8 is not a reachable number in any region we serve.
std::optional<std::string> International(std::string digits) {
  if (const PhonePlan* plan = PlanForCountryCode(digits); plan && plan->trunk_zero) {
    // "+44 (0)20 ..." writes the trunk 0 the international form drops.
    if (digits.size() > plan->country_code.size() && digits[plan->country_code.size()] == '0') {
      digits.erase(plan->country_code.size(), 1);
    }
  }
  if (digits.size() < 8 || digits.size() > 15 || digits[0] == '0') return std::nullopt;
  return "+" + digits;
}

bool FitsNational(const PhonePlan& p, std::string_view n) {
  return n.size() >= p.min_len && n.size() <= p.max_len &&
         (p.leading.empty() || p.leading.find(n[0]) != std::string_view::npos);
}

std::optional<std::string> NationalToE164(const PhonePlan& p, std::string_view d) {
  if (p.trunk_zero && d.size() > 1 && d[0] == '0' && d[1] != '0' && d.size() - 1 >= p.trunk_min &&
      d.size() - 1 <= p.trunk_max) {
    return "+" + std::string(p.country_code) + std::string(d.substr(1));
  }
  if (FitsNational(p, d)) return "+" + std::string(p.country_code) + std::string(d);
  if (StartsWith(d, p.country_code)) {  // country code without '+' ("8613812345678")
    std::string_view rest = d.substr(p.country_code.size());
    if (FitsNational(p, rest)) return "+" + std::string(p.country_code) + std::string(rest);
  }
  return std::nullopt;
}

std::optional<std::string> NormalizePhone(std::string_view value, std::string_view region) {
  std::string digits;
  bool plus = false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      return std::nullopt;  // letters, extensions, other punctuation
    }
  }
  if (digits.empty()) return std::nullopt;
  if (plus) return International(std::move(digits));
  if (StartsWith(digits, "00")) return International(digits.substr(2));
  const PhonePlan* plan = PlanForRegion(region);
  if (plan == nullptr) return std::nullopt;  // no region: only +CC numbers are safe
  return NationalToE164(*plan, digits);
}

std::optional<std::string> NormalizeEmail(std::string_view value) {
  std::string email = Lower(value);
  auto at = email.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string::npos) {
    return std::nullopt;
  }
  if (std::any_of(email.begin(), email.end(), [](char c) { return c == ' ' || c == '\t'; })) {
    return std::nullopt;
  }
  return email;
}

std::optional<std::string> NormalizeHex(std::string_view value, size_t length) {
  if (value.size() != length) return std::nullopt;
  std::string hex = Lower(value);
  bool ok = std::all_of(hex.begin(), hex.end(),
                        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (!ok) return std::nullopt;
  return hex;
}

// "0", "00000000-0000-0000-0000-000000000000", "00:00:00:00:00:00", "-".
bool OnlyZerosAndSeparators(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return c == '0' || c == '-' || c == ':'; });
}

}  // namespace

IdentifierNormalizer::IdentifierNormalizer(std::string default_region,
                                           const std::vector<std::string>& junk_values,
                                           std::string wechat_open_account)
    : default_region_(std::move(default_region)),
      wechat_open_account_(std::string(Trim(wechat_open_account))) {
  for (const auto& v : junk_values) junk_.insert(Lower(Trim(v)));
}

std::vector<std::string> IdentifierNormalizer::BuiltinJunk() {
  return {std::begin(kBuiltinJunk), std::end(kBuiltinJunk)};
}

bool IdentifierNormalizer::IsJunk(std::string_view value) const {
  std::string v = Lower(Trim(value));
  if (OnlyZerosAndSeparators(v)) return true;
  if (std::find(std::begin(kBuiltinJunk), std::end(kBuiltinJunk), v) != std::end(kBuiltinJunk))
    return true;
  return junk_.count(v) > 0;
}

bool IdentifierNormalizer::Normalize(Identifier* id) const {
  id->ns = Lower(Trim(id->ns));
  id->scope = std::string(Trim(id->scope));
  if (id->scope.empty() && id->ns == "wechat_unionid") id->scope = wechat_open_account_;
  std::string_view value = Trim(id->value);
  if (id->ns.empty() || value.size() > kMaxValueBytes || IsJunk(value)) return false;

  std::optional<std::string> normalized;
  const std::string& ns = id->ns;
  if (ns == "phone") {
    normalized = NormalizePhone(value, default_region_);
  } else if (ns == "email") {
    normalized = NormalizeEmail(value);
  } else if (EndsWith(ns, "_sha256")) {
    normalized = NormalizeHex(value, 64);
  } else if (EndsWith(ns, "_md5")) {
    normalized = NormalizeHex(value, 32);
  } else if (ns == "idfa" || ns == "idfv") {
    normalized = Upper(value);  // Apple's canonical UUID form
  } else {
    normalized = std::string(value);
  }
  if (!normalized || IsJunk(*normalized)) return false;
  id->value = std::move(*normalized);
  return true;
}

void IdentifierNormalizer::NormalizeAll(std::vector<Identifier>* ids) const {
  std::vector<Identifier> kept;
  kept.reserve(ids->size());
  for (auto& id : *ids) {
    if (!Normalize(&id)) continue;
    if (std::find(kept.begin(), kept.end(), id) != kept.end()) continue;
    kept.push_back(std::move(id));
  }
  *ids = std::move(kept);
}

bool IsKnownNamespace(std::string_view ns) {
  return std::find(std::begin(kKnownNamespaces), std::end(kKnownNamespaces), ns) !=
         std::end(kKnownNamespaces);
}

bool IsScopedNamespace(std::string_view ns) {
  return ns == "wechat_openid" || ns == "douyin_openid" || ns == "wechat_unionid" ||
         ns == "douyin_unionid" || ns == "wecom_external_userid";
}

}  // namespace quanyu::collect
