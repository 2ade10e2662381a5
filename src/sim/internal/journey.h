// Journey planning: turns a Person into the sessions of their 90 days (or
// however many), before any event exists. This is where the causal story
// lives:
//   - touches per channel arrive as a Poisson process whose daily rate is the
//     channel's organic rate plus its paid rate (a Hill curve of that day's
//     spend), scaled by the person's engagement;
//   - each touch independently triggers the first purchase with the
//     channel's effect probability, and a baseline trigger fires with
//     kBehavior.baseline_purchase; the earliest trigger wins (noisy-OR);
//   - after the first purchase, repeat purchases follow BG/NBD (exponential
//     gaps at the person's rate, dropout with probability p after each);
//   - NPS answers, referral invites and consent withdrawals are sprinkled on
//     top at their documented rates.
// The session writer (session_writer.h) turns the plan into events.
//
// Thread-safety: a JourneyPlanner is used by one thread.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/internal/person.h"
#include "sim/internal/random.h"
#include "sim/internal/stats.h"
#include "sim/internal/world.h"

namespace quanyu::sim::internal {

enum class SessionKind : uint8_t {
  kTouch,     // arrives from a marketing channel
  kDirect,    // typed URL, app icon, mini-program from the recent list
  kPurchase,  // comes back to buy (lagged first purchase or a repeat)
  kNps,       // answers the post-purchase survey
  kInvite,    // shares a referral invite
};

struct Session {
  int64_t ts = 0;
  SessionKind kind = SessionKind::kDirect;
  SourceId source = SourceId::kWebsite;
  uint8_t web_device = 0;
  ChannelId channel = ChannelId::kDouyin;  // kTouch only
  bool paid = false;
  int16_t campaign = -1;  // index into kCampaigns when paid
  uint8_t variant = 0;    // touch flavour (e.g. note read vs search)
  bool reminder = false;  // opened from an owned SMS / push / template reminder
  bool purchase = false;  // ends with an order
  bool first_purchase = false;
  bool withdraw_marketing = false;
};

class JourneyPlanner {
 public:
  explicit JourneyPlanner(const World& world);

  // Plans `person`'s sessions into *sessions (cleared first), sorted by time,
  // all starting in [start, end - 2h). Counts touches and purchases in *stats.
  void Plan(const Person& person, Rng* rng, std::vector<Session>* sessions, SimStats* stats);

 private:
  int64_t DayStart(int day) const;
  // A start time on `day`, drawn from the Beijing-time daily rhythm.
  int64_t TimeOnDay(int day, Rng* rng) const;
  int64_t Clamp(int64_t ts) const;
  void AddTouches(const Person& p, Rng* rng, std::vector<Session>* out, SimStats* stats);
  void AddDirectVisits(const Person& p, Rng* rng, std::vector<Session>* out);
  // Returns the time of the first purchase (or -1) after marking or adding its session.
  int64_t AddFirstPurchase(const Person& p, Rng* rng, std::vector<Session>* out, SimStats* stats);
  void AddRepeatPurchases(const Person& p, int64_t first, Rng* rng, std::vector<Session>* out,
                          SimStats* stats);
  void AddExtras(const Person& p, Rng* rng, std::vector<Session>* out);
  SourceId LandingSource(const Person& p, ChannelId c, Rng* rng) const;
  SourceId DirectSource(const Person& p, Rng* rng) const;
  SourceId OnlineSource(const Person& p, Rng* rng) const;

  const World& world_;
  int64_t last_start_ = 0;  // latest allowed session start
  std::vector<double> hour_cdf_;
};

}  // namespace quanyu::sim::internal
