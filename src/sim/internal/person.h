// One simulated person: the devices and platform accounts they own, their
// traits, and the latent quantities that drive their behaviour (engagement,
// purchase rate, dropout, spend level, consent choices). Drawn from the
// person's own random stream, so a person is the same whatever thread
// simulates them.
//
// Thread-safety: plain value; each thread reuses its own Person.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "sim/internal/random.h"
#include "sim/internal/world.h"

namespace quanyu::sim::internal {

// Every identifier a person may show, for the ground-truth identity map.
enum class IdSlot : uint8_t {
  kUserId,
  kMemberId,
  kWebAnon0,
  kWebAnon1,
  kAppAnon,
  kDeviceId,
  kOaid,
  kMpAnon,
  kMpOpenid,
  kOaAnon,
  kOaOpenid,
  kUnionid,
  kDyAnon,
  kDyOpenid,
  kPhone,
  kEmail,
  kTaobaoNick,
};
inline constexpr int kIdSlotCount = 17;

struct Person {
  int64_t index = 0;

  // Devices and accounts.
  int web_devices = 1;
  std::array<std::string, 2> web_anon;  // analytics.js anonymousId per browser
  bool has_app = false;
  bool ios = false;
  int shared_device = -1;  // index into kSharedDevices, or -1
  std::string app_id;      // IDFV (iOS) or Android ID
  std::string oaid;        // Android only; empty if none
  bool wechat = false, mini_program = false, oa_follower = false, unionid_authorized = false;
  std::string mp_openid, oa_openid, unionid;
  bool douyin_mp = false;
  std::string dy_openid;
  std::string phone;      // 11 digits, 1[3-9]x...
  std::string email;      // canonical (lower case); empty if none
  std::string member_id;  // m_XXXXXXXX (valid once a member)
  std::string taobao_nick;
  bool member_at_start = false;

  // Traits.
  int city = 0;
  bool female = true;
  int birth_year = 1995;
  int favorite_category = 0;

  // Behaviour.
  double engagement = 1.0;
  std::array<bool, kPlatformChannelCount> on_platform{};
  SourceId preferred_store = SourceId::kWebsite;
  double purchase_rate = 0;  // BG/NBD lambda, per day
  double dropout = 0;        // BG/NBD p
  double spend_nu = 0;       // Gamma-Gamma nu
  bool consent_analytics = true, consent_marketing = false, withdraws_marketing = false;
  bool advocate = false;
  bool signs_up_without_purchase = false;
  int64_t inviter = -1;  // person who invited this one, or -1
};

// Fills `person` for `index`, drawing from `rng` (the person's own stream).
void DrawPerson(const World& world, int64_t index, Rng* rng, Person* person);

// Stable facts other persons can recompute.
std::string MemberIdOf(int64_t index);
bool IsMemberAtStart(uint64_t seed, int64_t index);
bool IsAdvocate(uint64_t seed, int64_t index);
// A 9-digit number unique to the person (bijective in [0, 1e9)), for order ids.
int64_t PersonNumber(int64_t index);
// The referral code advocates share: "R" + member number.
std::string ReferralCodeOf(int64_t index);

// Appends the phone as a source of type `source` would send it (formats vary:
// "13812345678", "+86 138-1234-5678", "8613812345678", "138 1234 5678" ...).
void AppendRawPhone(const std::string& digits, SourceId source, Rng* rng, std::string* out);
// Appends the email as typed (sometimes upper-cased or padded with spaces).
void AppendRawEmail(const std::string& email, Rng* rng, std::string* out);

}  // namespace quanyu::sim::internal
