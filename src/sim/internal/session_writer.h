// SessionWriter: turns a person's planned sessions into events, the way the
// brand's SDKs and imports would deliver them. Keeps the person's state as
// sessions unfold — membership, which devices are logged in, consent shown,
// Official Account follow — so identifiers appear exactly when a real SDK
// would send them: anonymous ids always, user_id only after login on that
// device, phone/member_id on identify, openids/unionid on WeChat events.
// Injects junk identifier values at options.junk_identifier_rate.
//
// Events are appended in session order; the caller sorts a person's events
// by time (sessions can overlap, and CRM syncs land a day later).
//
// Thread-safety: one SessionWriter per thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/event.h"
#include "sim/internal/arrival.h"
#include "sim/internal/event_pool.h"
#include "sim/internal/journey.h"
#include "sim/internal/person.h"
#include "sim/internal/random.h"
#include "sim/internal/stats.h"
#include "sim/internal/world.h"

namespace quanyu::sim::internal {

// Where on the person's side an event comes from.
enum class Device : uint8_t {
  kWeb0,
  kWeb1,
  kApp,
  kMiniProgram,
  kOfficialAccount,
  kDouyinMp,
  kNone
};
inline constexpr int kDeviceCount = 6;

class SessionWriter {
 public:
  explicit SessionWriter(const World& world);

  // Starts `person`: resets state and emits what precedes the window (the CRM
  // record of members who joined before it). Events go to *out.
  void Begin(const Person& person, Rng* rng, EventPool* out, SimStats* stats);
  void Write(const Session& s);
  // Finishes the person. Returns the IdSlot bitmask of identifiers that
  // appeared un-junked in at least one event.
  uint32_t End();

 private:
  Event& Emit(int64_t ts, EventType type, SourceId source, Device device, std::string_view name);
  Event& Track(int64_t ts, SourceId source, Device device, TrackName name);
  void Seal();  // junk injection and identifier bookkeeping for the last event
  void AttachDevice(Event& e, Device device);
  void AddId(Event& e, std::string_view ns, std::string_view scope, const std::string& value,
             IdSlot slot);
  void Step(int64_t* t) { *t += rng_->Between(5'000'000, 90'000'000); }

  void WriteOnline(const Session& s);
  void WriteStoreOrder(const Session& s);
  void OpenSession(const Session& s, Device device, int64_t* t);
  void ReadArticle(int64_t* t);
  void ViewProduct(SourceId source, Device device, int product, int64_t* t);
  void Signup(SourceId source, Device device, bool referral, int64_t* t);
  void Login(SourceId source, Device device, int64_t* t);
  void Identify(int64_t ts, SourceId source, Device device, bool with_email);
  void CrmSync(int64_t ts);
  void Consent(SourceId source, Device device, int64_t* t);
  void Order(SourceId source, Device device, bool first, int64_t* t);
  // Draws the order value and fills the commerce columns of an
  // "Order Completed" event; returns the value.
  double FillOrder(Event& e, SourceId source, bool first, double value);
  double DrawOrderValue();
  void SetUserId(Event& e);  // for imports, which carry the member id directly
  void Nps(const Session& s);
  void Invite(const Session& s);
  void AppendTraits(const std::string& raw_phone, const std::string& raw_email, bool crm,
                    std::string* out);
  int PickProduct();
  Device DeviceOf(SourceId source, int web_device) const;

  const World& world_;
  std::array<std::vector<int>, 6> products_by_category_;

  // Per person.
  const Person* p_ = nullptr;
  Rng* rng_ = nullptr;
  EventPool* out_ = nullptr;
  SimStats* stats_ = nullptr;
  bool member_ = false;
  bool oa_follower_ = false;
  bool marketing_ = false;
  std::array<bool, kDeviceCount> logged_in_{};
  std::array<bool, kDeviceCount> consent_shown_{};
  int orders_ = 0;
  uint32_t used_ = 0;

  // The event being built (sealed when the next one starts).
  bool pending_ = false;
  std::array<int8_t, 8> pending_slots_{};
  int pending_count_ = 0;

  Arrival arrival_;
  std::string raw_phone_;
  std::string raw_email_;
};

}  // namespace quanyu::sim::internal
