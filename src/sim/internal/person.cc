#include "sim/internal/person.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/internal/catalog.h"

namespace quanyu::sim::internal {
namespace {

// Mobile prefixes of the three carriers, most common first.
constexpr std::array<std::string_view, 20> kPhonePrefixes = {
    "138", "139", "137", "136", "135", "150", "151", "152", "158", "159",
    "188", "187", "182", "186", "185", "130", "131", "133", "189", "199"};

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kHexLower = "0123456789abcdef";
constexpr std::string_view kHexUpper = "0123456789ABCDEF";

// Bijections on [0, 10^k): distinct persons get distinct numbers.
int64_t Scramble(int64_t index, int64_t multiplier, int64_t offset, int64_t modulus) {
  return static_cast<int64_t>((static_cast<unsigned __int128>(index) * multiplier + offset) %
                              static_cast<unsigned __int128>(modulus));
}

void RandomChars(Rng* rng, std::string_view alphabet, int n, std::string* out) {
  uint64_t bits = rng->Next();
  int left = 10;
  for (int i = 0; i < n; ++i) {
    if (left == 0) {
      bits = rng->Next();
      left = 10;
    }
    *out += alphabet[(bits & 63) % alphabet.size()];
    bits >>= 6;
    --left;
  }
}

// xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx
void RandomUuid(Rng* rng, std::string_view hex, std::string* out) {
  out->clear();
  uint64_t hi = rng->Next(), lo = rng->Next();
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) *out += '-';
    int nibble;
    if (i == 12) {
      nibble = 4;
    } else if (i == 16) {
      nibble = 8 | static_cast<int>(lo & 3);
    } else {
      uint64_t& src = i < 16 ? hi : lo;
      nibble = static_cast<int>(src & 15);
      src >>= 4;
    }
    *out += hex[static_cast<size_t>(nibble)];
  }
}

SourceId DrawPreferredStore(const Person& p, Rng* rng) {
  const double u = rng->Uniform();
  if (u < 0.30) return SourceId::kTmallStore;
  if (u < 0.40) return SourceId::kPos;
  if (u < 0.65) return p.mini_program ? SourceId::kWechatMp : SourceId::kWebsite;
  if (u < 0.80) {
    if (!p.has_app) return SourceId::kWebsite;
    return p.ios ? SourceId::kAppIos : SourceId::kAppAndroid;
  }
  if (u < 0.85 && p.douyin_mp) return SourceId::kDouyinMp;
  return SourceId::kWebsite;
}

void DrawEmail(Rng* rng, std::string* email) {
  email->clear();
  const double u = rng->Uniform();
  if (u < 0.6) {
    fmt::format_to(std::back_inserter(*email), "{}@qq.com",
                   rng->Between(10'000'000, 3'999'999'999));
    return;
  }
  static constexpr std::array<std::string_view, 6> kNames = {"xiaoyu", "mengmeng", "lily",
                                                             "chen",   "wang",     "skincare"};
  static constexpr std::array<std::string_view, 4> kDomains = {"163.com", "126.com", "gmail.com",
                                                               "outlook.com"};
  fmt::format_to(std::back_inserter(*email), "{}{}@{}", kNames[rng->Below(kNames.size())],
                 rng->Between(1, 99999), kDomains[rng->Below(kDomains.size())]);
}

}  // namespace

std::string MemberIdOf(int64_t index) {
  return fmt::format("m_{:08d}", Scramble(index, 7'654'321, 1'234'567, 100'000'000));
}

int64_t PersonNumber(int64_t index) { return Scramble(index, 998'244'353, 777, 1'000'000'000); }

bool IsMemberAtStart(uint64_t seed, int64_t index) {
  return StableUniform(seed, static_cast<uint64_t>(index), 1) < kBehavior.member_at_start;
}

bool IsAdvocate(uint64_t seed, int64_t index) {
  return IsMemberAtStart(seed, index) &&
         StableUniform(seed, static_cast<uint64_t>(index), 2) < kBehavior.advocate_share;
}

std::string ReferralCodeOf(int64_t index) {
  return fmt::format("R{:08d}", Scramble(index, 7'654'321, 1'234'567, 100'000'000));
}

void DrawPerson(const World& world, int64_t index, Rng* rng, Person* p) {
  const uint64_t seed = world.options.seed;
  const BehaviorParams& b = kBehavior;
  p->index = index;

  p->engagement = rng->Gamma(b.engagement_shape, 1.0 / b.engagement_shape);
  for (int c = 0; c < kPlatformChannelCount; ++c) {
    p->on_platform[static_cast<size_t>(c)] =
        rng->Chance(kChannels[static_cast<size_t>(c)].platform_share);
  }

  p->web_devices = rng->Chance(b.second_web_device) ? 2 : 1;
  for (int i = 0; i < p->web_devices; ++i)
    RandomUuid(rng, kHexLower, &p->web_anon[static_cast<size_t>(i)]);
  p->has_app = rng->Chance(b.app_user);
  p->ios = rng->Chance(b.ios_share);
  p->shared_device = -1;
  p->app_id.clear();
  p->oaid.clear();
  if (p->has_app) {
    if (p->ios) {
      RandomUuid(rng, kHexUpper, &p->app_id);
    } else {
      RandomChars(rng, kHexLower, 16, &p->app_id);
      if (rng->Chance(0.7)) RandomUuid(rng, kHexLower, &p->oaid);
    }
    if (rng->Chance(b.shared_device)) {
      p->shared_device = (p->ios ? 0 : 2) + static_cast<int>(rng->Below(2));
      p->app_id = std::string(kSharedDevices[static_cast<size_t>(p->shared_device)]);
    }
  }

  p->wechat = p->on_platform[static_cast<size_t>(ChannelId::kWechat)];
  p->mini_program = p->wechat && rng->Chance(b.mini_program_user);
  p->oa_follower = p->wechat && rng->Chance(b.oa_follower_at_start);
  p->unionid_authorized = rng->Chance(b.unionid_authorized);
  p->mp_openid.assign("o");
  RandomChars(rng, kBase64Url, 27, &p->mp_openid);
  p->oa_openid.assign("o");
  RandomChars(rng, kBase64Url, 27, &p->oa_openid);
  p->unionid.assign("o");
  RandomChars(rng, kBase64Url, 27, &p->unionid);
  p->douyin_mp =
      p->on_platform[static_cast<size_t>(ChannelId::kDouyin)] && rng->Chance(b.douyin_mp_user);
  p->dy_openid.assign("_000");
  RandomChars(rng, kBase64Url.substr(0, 62), 32, &p->dy_openid);

  p->phone.assign(
      kPhonePrefixes[StableHash(seed, static_cast<uint64_t>(index), 4) % kPhonePrefixes.size()]);
  fmt::format_to(std::back_inserter(p->phone), "{:08d}",
                 Scramble(index, 3'141'593, 2'718'281, 100'000'000));
  if (rng->Chance(b.email_share)) {
    DrawEmail(rng, &p->email);
  } else {
    p->email.clear();
  }
  p->member_id = MemberIdOf(index);
  p->taobao_nick.assign("tb");
  fmt::format_to(std::back_inserter(p->taobao_nick), "{:09d}",
                 Scramble(index, 998'244'353, 12'345, 1'000'000'000));
  p->member_at_start = IsMemberAtStart(seed, index);

  double total_weight = 0;
  for (const auto& c : kCities) total_weight += c.weight;
  double u = rng->Uniform() * total_weight;
  p->city = 0;
  for (size_t i = 0; i < kCities.size(); ++i) {
    if (u < kCities[i].weight) {
      p->city = static_cast<int>(i);
      break;
    }
    u -= kCities[i].weight;
  }
  p->female = rng->Chance(0.78);
  p->birth_year = static_cast<int>(std::clamp(std::lround(1995 + 7 * rng->Normal()), 1960L, 2008L));
  p->favorite_category = static_cast<int>(rng->Below(kCategoryCount));

  p->preferred_store = DrawPreferredStore(*p, rng);
  p->purchase_rate = rng->Gamma(b.bg_r, 1.0 / b.bg_alpha);
  p->dropout = rng->Beta(b.bg_a, b.bg_b);
  p->spend_nu = rng->Gamma(b.gg_q, 1.0 / b.gg_gamma);
  p->consent_analytics = rng->Chance(b.consent_analytics);
  p->consent_marketing = rng->Chance(b.consent_marketing);
  p->withdraws_marketing = p->consent_marketing && rng->Chance(b.marketing_withdrawal);
  p->advocate = IsAdvocate(seed, index);
  p->signs_up_without_purchase = !p->member_at_start && rng->Chance(b.signup_without_purchase);

  p->inviter = -1;
  if (!p->member_at_start && rng->Chance(b.referred_share) && world.options.persons > 1) {
    const auto n = static_cast<uint64_t>(world.options.persons);
    for (uint64_t k = 0; k < 200; ++k) {
      const auto q =
          static_cast<int64_t>(StableHash(seed, static_cast<uint64_t>(index), 100 + k) % n);
      if (q != index && IsAdvocate(seed, q)) {
        p->inviter = q;
        break;
      }
    }
  }
}

void AppendRawPhone(const std::string& d, SourceId source, Rng* rng, std::string* out) {
  const double u = rng->Uniform();
  auto spaced = [&](char sep) {
    *out += d.substr(0, 3);
    *out += sep;
    *out += d.substr(3, 4);
    *out += sep;
    *out += d.substr(7);
  };
  switch (source) {
    case SourceId::kCrm:
      if (u < 0.5) {
        *out += "+86 ";
        spaced('-');
      } else if (u < 0.8) {
        *out += "86";
        *out += d;
      } else {
        *out += d;
      }
      return;
    case SourceId::kPos:
      if (u < 0.6) {
        *out += d;
      } else {
        spaced('-');
      }
      return;
    case SourceId::kWechatMp:
    case SourceId::kDouyinMp:
      if (u < 0.7) {
        *out += d;
      } else {
        *out += "+86";
        *out += d;
      }
      return;
    case SourceId::kTmallStore:
      *out += "86-";
      *out += d;
      return;
    default:
      if (u < 0.85) {
        *out += d;
      } else if (u < 0.95) {
        spaced(' ');
      } else {
        *out += "+86 ";
        spaced('-');
      }
      return;
  }
}

void AppendRawEmail(const std::string& email, Rng* rng, std::string* out) {
  const double u = rng->Uniform();
  if (u < 0.8) {
    *out += email;
  } else if (u < 0.92) {
    for (char c : email) *out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  } else {
    *out += ' ';
    *out += email;
    *out += "  ";
  }
}

}  // namespace quanyu::sim::internal
