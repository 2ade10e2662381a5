// SessionWriter: membership and identity — sign-up, login, identify calls and
// the CRM sync — the events that link a person's identifiers.
#include "common/time_util.h"
#include "sim/internal/catalog.h"
#include "sim/internal/json_writer.h"
#include "sim/internal/session_writer.h"

namespace quanyu::sim::internal {
namespace {

constexpr int64_t kMicrosPerHour = 3'600'000'000;

std::string_view TierOf(int orders) {
  if (orders >= 3) return "金卡会员";
  if (orders >= 1) return "银卡会员";
  return "普通会员";
}

}  // namespace

void SessionWriter::SetUserId(Event& e) {
  e.user_id = p_->member_id;
  used_ |= 1u << static_cast<int>(IdSlot::kUserId);
}

void SessionWriter::AppendTraits(const std::string& raw_phone, const std::string& raw_email,
                                 bool crm, std::string* out) {
  const Person& p = *p_;
  JsonObjectWriter w(out);
  w.Str("phone", raw_phone);
  if (!raw_email.empty()) w.Str("email", raw_email);
  w.Str("member_id", p.member_id)
      .Str("city", kCities[static_cast<size_t>(p.city)].name)
      .Str("gender", p.female ? "female" : "male")
      .Int("birth_year", p.birth_year);
  if (crm) w.Str("tier", TierOf(orders_)).Bool("marketing_opt_in", marketing_);
}

void SessionWriter::Identify(int64_t ts, SourceId source, Device device, bool with_email) {
  raw_phone_.clear();
  raw_email_.clear();
  AppendRawPhone(p_->phone, source, rng_, &raw_phone_);
  if (with_email && !p_->email.empty()) AppendRawEmail(p_->email, rng_, &raw_email_);
  Event& e = Emit(ts, EventType::kIdentify, source, device, "");
  if (device == Device::kNone) SetUserId(e);
  AddId(e, "phone", "", raw_phone_, IdSlot::kPhone);
  AddId(e, "member_id", "", p_->member_id, IdSlot::kMemberId);
  if (!raw_email_.empty()) AddId(e, "email", "", raw_email_, IdSlot::kEmail);
  AppendTraits(raw_phone_, raw_email_, source == SourceId::kCrm, &e.traits_json);
}

void SessionWriter::CrmSync(int64_t ts) {
  if (ts >= world_.end_us) return;
  Identify(ts, SourceId::kCrm, Device::kNone, true);
}

void SessionWriter::Signup(SourceId source, Device device, bool referral, int64_t* t) {
  member_ = true;
  ++stats_->signups;
  logged_in_[static_cast<size_t>(device)] = true;
  Event& e = Track(*t, source, device, TrackName::kSignedUp);
  const bool mini_program = source == SourceId::kWechatMp || source == SourceId::kDouyinMp;
  JsonObjectWriter(&e.properties_json).Str("method", mini_program ? "mini_program_phone" : "phone");
  Step(t);
  Identify(*t, source, device, rng_->Chance(0.5));
  Step(t);
  if (referral) {
    Event& r = Track(*t, source, device, TrackName::kReferralSignup);
    JsonObjectWriter(&r.properties_json)
        .Str("referral_code", ReferralCodeOf(p_->inviter))
        .Str("referrer_member_id", MemberIdOf(p_->inviter));
    ++stats_->referral_signups;
    Step(t);
  }
  // The CRM picks new members up in its next daily export.
  CrmSync(*t + kMicrosPerDay + static_cast<int64_t>(rng_->Below(12 * kMicrosPerHour)));
}

void SessionWriter::Login(SourceId source, Device device, int64_t* t) {
  logged_in_[static_cast<size_t>(device)] = true;
  Identify(*t, source, device, rng_->Chance(0.3));
  Step(t);
}

}  // namespace quanyu::sim::internal
