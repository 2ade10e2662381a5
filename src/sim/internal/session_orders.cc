// SessionWriter: orders (online checkouts, Tmall and POS imports) and the
// after-purchase events (NPS answers, referral invites).
#include <fmt/format.h>

#include <cmath>

#include "common/time_util.h"
#include "sim/internal/catalog.h"
#include "sim/internal/json_writer.h"
#include "sim/internal/session_writer.h"

namespace quanyu::sim::internal {
namespace {

std::string_view PaymentMethod(SourceId source, Rng* rng) {
  if (source == SourceId::kTmallStore) return "alipay";
  if (source == SourceId::kDouyinMp) return "douyin_pay";
  const double u = rng->Uniform();
  if (u < 0.6) return "wechat_pay";
  if (u < 0.95) return "alipay";
  return "unionpay";
}

}  // namespace

double SessionWriter::DrawOrderValue() {
  // Gamma-Gamma: value ~ Gamma(shape p, rate nu), rounded to the fen.
  const double v = rng_->Gamma(kBehavior.gg_p, 1.0 / p_->spend_nu);
  return std::max(0.01, std::round(v * 100.0) / 100.0);
}

double SessionWriter::FillOrder(Event& e, SourceId source, bool first, double value) {
  const int product = PickProduct();
  const Product& pr = kProducts[static_cast<size_t>(product)];
  const int64_t number = PersonNumber(p_->index);
  e.revenue = value;
  e.currency = "CNY";
  e.product_id.assign(pr.id);
  e.quantity = static_cast<double>(1 + rng_->Poisson(0.4));
  switch (source) {
    case SourceId::kTmallStore:
      e.order_id = fmt::format("3{:09d}{:03d}", number, orders_);
      break;
    case SourceId::kPos:
      e.order_id = fmt::format("POS-{}-{:09d}{:03d}",
                               kCities[static_cast<size_t>(p_->city)].store_code, number, orders_);
      break;
    default:
      e.order_id = fmt::format("QY{:09d}{:03d}", number, orders_);
  }
  {
    JsonObjectWriter w(&e.properties_json);
    w.Str("category", kCategories[static_cast<size_t>(pr.category)])
        .Str("payment_method", PaymentMethod(source, rng_))
        .Bool("first_order", first);
    if (source == SourceId::kPos) {
      w.Str("store_id", fmt::format("{}00{}", kCities[static_cast<size_t>(p_->city)].store_code,
                                    1 + rng_->Below(3)));
      w.Str("store_city", kCities[static_cast<size_t>(p_->city)].name);
    }
    if (first && rng_->Chance(0.3)) w.Str("coupon", "NEW20");
  }
  ++orders_;
  ++stats_->orders;
  if (!first) ++stats_->repeat_orders;
  stats_->revenue_fen += std::llround(value * 100.0);
  ++stats_->orders_by_source[static_cast<size_t>(source)];
  return value;
}

void SessionWriter::Order(SourceId source, Device device, bool first, int64_t* t) {
  const double value = DrawOrderValue();
  Event& checkout = Track(*t, source, device, TrackName::kCheckoutStarted);
  checkout.value = value;
  checkout.currency = "CNY";
  Step(t);
  FillOrder(Track(*t, source, device, TrackName::kOrderCompleted), source, first, value);
  Step(t);
}

void SessionWriter::WriteStoreOrder(const Session& s) {
  int64_t t = s.ts;
  const bool tmall = s.source == SourceId::kTmallStore;
  // Tmall shares the buyer's phone only for brand members (会员通); the
  // till asks every POS customer to join.
  if (!member_ && (!tmall || rng_->Chance(kBehavior.tmall_membership_join))) {
    member_ = true;
    ++stats_->signups;
    Event& e = Track(t, s.source, Device::kNone, TrackName::kSignedUp);
    SetUserId(e);
    raw_phone_.clear();
    AppendRawPhone(p_->phone, s.source, rng_, &raw_phone_);
    if (tmall) AddId(e, "taobao_nick", "", p_->taobao_nick, IdSlot::kTaobaoNick);
    AddId(e, "phone", "", raw_phone_, IdSlot::kPhone);
    AddId(e, "member_id", "", p_->member_id, IdSlot::kMemberId);
    JsonObjectWriter(&e.properties_json).Str("method", tmall ? "tmall_membership" : "pos");
    Step(&t);
    CrmSync(t + kMicrosPerDay + static_cast<int64_t>(rng_->Below(kMicrosPerDay / 2)));
  }
  const double value = DrawOrderValue();
  Event& e = Track(t, s.source, Device::kNone, TrackName::kOrderCompleted);
  if (member_) SetUserId(e);
  if (tmall) AddId(e, "taobao_nick", "", p_->taobao_nick, IdSlot::kTaobaoNick);
  if (member_) {
    raw_phone_.clear();
    AppendRawPhone(p_->phone, s.source, rng_, &raw_phone_);
    AddId(e, "phone", "", raw_phone_, IdSlot::kPhone);
    if (!tmall) AddId(e, "member_id", "", p_->member_id, IdSlot::kMemberId);
  }
  FillOrder(e, s.source, s.first_purchase, value);
}

void SessionWriter::Nps(const Session& s) {
  const Device device = DeviceOf(s.source, 0);
  int64_t t = s.ts;
  OpenSession(s, device, &t);
  const auto& probs = kBehavior.nps_scores;
  double u = rng_->Uniform();
  int score = 10;
  for (int i = 0; i < 11; ++i) {
    if (u < probs[static_cast<size_t>(i)]) {
      score = i;
      break;
    }
    u -= probs[static_cast<size_t>(i)];
  }
  Event& e = Track(t, s.source, device, TrackName::kNpsSurveyAnswered);
  JsonObjectWriter(&e.properties_json).Int("score", score).Str("survey_id", "nps_post_purchase");
  ++stats_->nps_scores[static_cast<size_t>(score)];
}

void SessionWriter::Invite(const Session& s) {
  const Device device = DeviceOf(s.source, 0);
  int64_t t = s.ts;
  OpenSession(s, device, &t);
  if (!logged_in_[static_cast<size_t>(device)]) Login(s.source, device, &t);
  Event& e = Track(t, s.source, device, TrackName::kReferralInviteSent);
  JsonObjectWriter(&e.properties_json)
      .Str("referral_code", ReferralCodeOf(p_->index))
      .Str("share_channel", rng_->Chance(0.7) ? "wechat_friend" : "wechat_moments");
  ++stats_->invites;
}

}  // namespace quanyu::sim::internal
