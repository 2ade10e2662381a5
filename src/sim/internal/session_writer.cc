#include "sim/internal/session_writer.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/time_util.h"
#include "sim/internal/catalog.h"
#include "sim/internal/json_writer.h"

namespace quanyu::sim::internal {
namespace {

constexpr int64_t kMicrosPerHour = 3'600'000'000;

bool IsApp(SourceId s) { return s == SourceId::kAppIos || s == SourceId::kAppAndroid; }
bool IsImport(SourceId s) {
  return s == SourceId::kTmallStore || s == SourceId::kPos || s == SourceId::kCrm;
}

}  // namespace

SessionWriter::SessionWriter(const World& world) : world_(world) {
  for (int i = 0; i < static_cast<int>(kProducts.size()); ++i) {
    products_by_category_[static_cast<size_t>(kProducts[static_cast<size_t>(i)].category)]
        .push_back(i);
  }
}

Device SessionWriter::DeviceOf(SourceId source, int web_device) const {
  switch (source) {
    case SourceId::kWebsite:
      return web_device == 0 ? Device::kWeb0 : Device::kWeb1;
    case SourceId::kAppIos:
    case SourceId::kAppAndroid:
      return Device::kApp;
    case SourceId::kWechatMp:
      return Device::kMiniProgram;
    case SourceId::kWechatOa:
      return Device::kOfficialAccount;
    case SourceId::kDouyinMp:
      return Device::kDouyinMp;
    default:
      return Device::kNone;
  }
}

void SessionWriter::Begin(const Person& person, Rng* rng, EventPool* out, SimStats* stats) {
  p_ = &person;
  rng_ = rng;
  out_ = out;
  stats_ = stats;
  member_ = person.member_at_start;
  oa_follower_ = person.oa_follower;
  marketing_ = person.consent_marketing;
  logged_in_.fill(false);
  consent_shown_.fill(false);
  orders_ = 0;
  used_ = 0;
  pending_ = false;
  ++stats->persons;
  if (person.shared_device >= 0)
    ++stats->shared_device_persons[static_cast<size_t>(person.shared_device)];
  if (member_) {
    ++stats->members_at_start;
    CrmSync(world_.options.start_us + static_cast<int64_t>(rng->Below(6 * kMicrosPerHour)));
  }
}

uint32_t SessionWriter::End() {
  Seal();
  if (member_) ++stats_->members_at_end;
  return used_;
}

Event& SessionWriter::Emit(int64_t ts, EventType type, SourceId source, Device device,
                           std::string_view name) {
  Seal();
  Event& e = out_->Next();
  e.timestamp_us = std::min(ts, world_.end_us - 1);
  // SDKs deliver within seconds; imports (Tmall, POS, CRM) arrive in hourly batches.
  e.received_us =
      e.timestamp_us + (IsImport(source) ? rng_->Between(600'000'000, 12 * kMicrosPerHour)
                                         : rng_->Between(50'000, 3'000'000));
  e.type = type;
  e.name.assign(name);
  e.source.assign(Spec(source).name);
  pending_ = true;
  pending_count_ = 0;
  ++stats_->events;
  ++stats_->by_type[static_cast<size_t>(type)];
  ++stats_->by_source[static_cast<size_t>(source)];
  AttachDevice(e, device);
  return e;
}

Event& SessionWriter::Track(int64_t ts, SourceId source, Device device, TrackName name) {
  ++stats_->by_name[static_cast<size_t>(name)];
  return Emit(ts, EventType::kTrack, source, device, kTrackNames[static_cast<size_t>(name)]);
}

void SessionWriter::AddId(Event& e, std::string_view ns, std::string_view scope,
                          const std::string& value, IdSlot slot) {
  // Recycled events keep their old identifiers: overwrite in place (no
  // allocation), and let Seal() drop whatever is left over.
  const auto n = static_cast<size_t>(pending_count_);
  if (n == e.identifiers.size()) e.identifiers.emplace_back();
  Identifier& id = e.identifiers[n];
  id.ns.assign(ns);
  id.scope.assign(scope);
  id.value.assign(value);
  if (n < pending_slots_.size()) pending_slots_[n] = static_cast<int8_t>(slot);
  ++pending_count_;
}

void SessionWriter::Seal() {
  if (!pending_) return;
  pending_ = false;
  Event& e = out_->Back();
  const auto n = static_cast<size_t>(pending_count_);
  if (e.identifiers.size() > n)
    e.identifiers.erase(e.identifiers.begin() + static_cast<ptrdiff_t>(n), e.identifiers.end());
  if (n == 0) return;
  ++stats_->events_with_identifiers;
  if (rng_->Chance(world_.options.junk_identifier_rate)) {
    const size_t j = rng_->Below(n);
    const size_t v = rng_->Below(kJunkValues.size());
    e.identifiers[j].value.assign(kJunkValues[v]);
    ++stats_->junk_injected;
    ++stats_->junk_by_value[v];
    if (j < pending_slots_.size()) pending_slots_[j] = -1;
  }
  for (size_t i = 0; i < n && i < pending_slots_.size(); ++i) {
    if (pending_slots_[i] >= 0) used_ |= 1u << pending_slots_[i];
  }
}

void SessionWriter::AttachDevice(Event& e, Device device) {
  const Person& p = *p_;
  const auto d = static_cast<size_t>(device);
  if (device != Device::kNone && device != Device::kOfficialAccount && logged_in_[d]) {
    e.user_id = p.member_id;
    used_ |= 1u << static_cast<int>(IdSlot::kUserId);
  }
  switch (device) {
    case Device::kWeb0:
    case Device::kWeb1:
      e.anonymous_id = p.web_anon[d];
      used_ |= 1u << (static_cast<int>(IdSlot::kWebAnon0) + static_cast<int>(d));
      return;
    case Device::kApp:
      e.anonymous_id = p.app_id;
      used_ |= 1u << static_cast<int>(IdSlot::kAppAnon);
      AddId(e, "device_id", "", p.app_id, IdSlot::kDeviceId);
      if (!p.oaid.empty()) AddId(e, "oaid", "", p.oaid, IdSlot::kOaid);
      return;
    case Device::kMiniProgram:
      e.anonymous_id = p.mp_openid;
      used_ |= 1u << static_cast<int>(IdSlot::kMpAnon);
      AddId(e, "wechat_openid", "wx_mp_1", p.mp_openid, IdSlot::kMpOpenid);
      if (p.unionid_authorized) AddId(e, "wechat_unionid", "open_1", p.unionid, IdSlot::kUnionid);
      return;
    case Device::kOfficialAccount:
      e.anonymous_id = p.oa_openid;
      used_ |= 1u << static_cast<int>(IdSlot::kOaAnon);
      AddId(e, "wechat_openid", "wx_oa_2", p.oa_openid, IdSlot::kOaOpenid);
      AddId(e, "wechat_unionid", "open_1", p.unionid, IdSlot::kUnionid);
      return;
    case Device::kDouyinMp:
      e.anonymous_id = p.dy_openid;
      used_ |= 1u << static_cast<int>(IdSlot::kDyAnon);
      AddId(e, "douyin_openid", "dy_mp_1", p.dy_openid, IdSlot::kDyOpenid);
      return;
    case Device::kNone:
      return;
  }
}

int SessionWriter::PickProduct() {
  const auto& fav = products_by_category_[static_cast<size_t>(p_->favorite_category)];
  if (rng_->Chance(0.6)) return fav[rng_->Below(fav.size())];
  return static_cast<int>(rng_->Below(kProducts.size()));
}

void SessionWriter::Write(const Session& s) {
  switch (s.kind) {
    case SessionKind::kNps:
      Nps(s);
      return;
    case SessionKind::kInvite:
      Invite(s);
      return;
    default:
      break;
  }
  if (s.source == SourceId::kTmallStore || s.source == SourceId::kPos) {
    WriteStoreOrder(s);
  } else {
    WriteOnline(s);
  }
}

void SessionWriter::ReadArticle(int64_t* t) {
  if (!oa_follower_) {
    if (!rng_->Chance(kBehavior.oa_follow_on_touch)) return;
    oa_follower_ = true;
    Track(*t, SourceId::kWechatOa, Device::kOfficialAccount, TrackName::kOfficialAccountFollowed);
    JsonObjectWriter(&out_->Back().properties_json).Str("scene", "article");
    Step(t);
  }
  const size_t article = rng_->Below(kArticleTitles.size());
  Track(*t, SourceId::kWechatOa, Device::kOfficialAccount, TrackName::kArticleRead);
  JsonObjectWriter(&out_->Back().properties_json)
      .Str("article_id", fmt::format("a_{:03d}", article + 1))
      .Str("title", kArticleTitles[article]);
  Step(t);
}

// The first events of a session: app open, landing page/screen, with the
// arrival's campaign and referrer.
void SessionWriter::OpenSession(const Session& s, Device device, int64_t* t) {
  DescribeArrival(s, *p_, rng_, &arrival_);
  const Arrival& a = arrival_;
  if (IsApp(s.source)) {
    Event& open = Track(*t, s.source, device, TrackName::kApplicationOpened);
    open.campaign = a.campaign;
    open.referrer = a.referrer;
    if (!a.query.empty()) {
      open.url.reserve(40 + a.query.size());
      open.url += kAppScheme;
      open.url += a.page_name == "Landing" ? "landing" : "home";
      open.url += '?';
      open.url += a.query;
    }
    JsonObjectWriter(&open.properties_json).Bool("from_background", rng_->Chance(0.4));
    Step(t);
    Emit(*t, EventType::kScreen, s.source, device, a.page_name);
  } else if (s.source == SourceId::kWebsite) {
    Event& page = Emit(*t, EventType::kPage, s.source, device, a.page_name);
    page.campaign = a.campaign;
    page.referrer = a.referrer;
    AppendWebUrl(a.web_path, a.query, &page.url);
  } else {
    Event& page = Emit(*t, EventType::kPage, s.source, device, a.page_name);
    page.campaign = a.campaign;
    page.url.reserve(a.mp_path.size() + a.query.size() + 1);
    page.url += a.mp_path;
    if (!a.query.empty()) {
      page.url += '?';
      page.url += a.query;
    }
    if (s.source == SourceId::kWechatMp) {
      JsonObjectWriter(&page.properties_json).Int("scene", a.wechat_scene);
    } else {
      JsonObjectWriter(&page.properties_json).Str("launch_from", a.douyin_launch_from);
    }
  }
  Step(t);
}

void SessionWriter::Consent(SourceId source, Device device, int64_t* t) {
  Event& e = Track(*t, source, device, TrackName::kConsentUpdated);
  JsonObjectWriter w(&e.context_json);
  w.Object("consent")
      .Object("categoryPreferences")
      .Bool("analytics", p_->consent_analytics)
      .Bool("marketing", marketing_)
      .EndObject()
      .EndObject();
  ++stats_->consent_updates;
  Step(t);
}

void SessionWriter::ViewProduct(SourceId source, Device device, int product, int64_t* t) {
  const Product& pr = kProducts[static_cast<size_t>(product)];
  if (source == SourceId::kWebsite) {
    Event& page = Emit(*t, EventType::kPage, source, device, "Product");
    page.url.reserve(kSiteOrigin.size() + 20);
    page.url += kSiteOrigin;
    page.url += "/products/";
    page.url += pr.id;
  } else if (IsApp(source)) {
    Emit(*t, EventType::kScreen, source, device, "Product");
  } else {
    Event& page = Emit(*t, EventType::kPage, source, device, "Product");
    page.url = "pages/product/detail?id=";
    page.url += pr.id;
  }
  Step(t);
  Event& e = Track(*t, source, device, TrackName::kProductViewed);
  e.product_id.assign(pr.id);
  JsonObjectWriter(&e.properties_json)
      .Str("name", pr.name)
      .Str("category", kCategories[static_cast<size_t>(pr.category)])
      .Money("price", pr.price);
  Step(t);
}

void SessionWriter::WriteOnline(const Session& s) {
  const Device device = DeviceOf(s.source, s.web_device);
  const auto d = static_cast<size_t>(device);
  int64_t t = s.ts;
  const bool touch = s.kind == SessionKind::kTouch;
  if (touch && s.channel == ChannelId::kWechat && !s.paid) ReadArticle(&t);
  OpenSession(s, device, &t);
  if ((s.source == SourceId::kWebsite || IsApp(s.source)) && !consent_shown_[d]) {
    consent_shown_[d] = true;
    Consent(s.source, device, &t);
  }
  if (s.withdraw_marketing && marketing_) {
    marketing_ = false;
    ++stats_->marketing_withdrawals;
    Consent(s.source, device, &t);
  }
  if (touch && s.channel == ChannelId::kReferral && !member_) Signup(s.source, device, true, &t);

  if (s.kind == SessionKind::kDirect && rng_->Chance(0.1)) {
    Event& e = Track(t, s.source, device, TrackName::kProductsSearched);
    JsonObjectWriter(&e.properties_json)
        .Str("query", kSearchKeywords[rng_->Below(kSearchKeywords.size())]);
    Step(&t);
  }
  const int64_t views =
      s.purchase ? 1 + rng_->Poisson(0.6) : (rng_->Chance(0.6) ? 1 + rng_->Poisson(0.3) : 0);
  int product = -1;
  for (int64_t i = 0; i < views; ++i) {
    product = PickProduct();
    ViewProduct(s.source, device, product, &t);
  }
  if (product >= 0 && (s.purchase || rng_->Chance(0.12))) {
    Event& e = Track(t, s.source, device, TrackName::kProductAdded);
    const Product& pr = kProducts[static_cast<size_t>(product)];
    e.product_id.assign(pr.id);
    e.quantity = 1;
    JsonObjectWriter(&e.properties_json).Str("name", pr.name).Money("price", pr.price);
    Step(&t);
  }
  if (!member_ && (s.purchase || (p_->signs_up_without_purchase && rng_->Chance(0.4)))) {
    Signup(s.source, device, false, &t);
  } else if (member_ && !logged_in_[d] && (s.purchase || rng_->Chance(kBehavior.browse_login))) {
    Login(s.source, device, &t);
  }
  if (s.purchase) Order(s.source, device, s.first_purchase, &t);
}

}  // namespace quanyu::sim::internal
