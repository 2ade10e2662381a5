// Counters a simulation thread keeps while it generates events; merged into
// the ground truth at the end. Integer counts only (revenue in fen), so the
// merged totals do not depend on how persons were split across threads.
//
// Thread-safety: one SimStats per thread; Merge after the threads joined.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/event.h"
#include "sim/internal/world.h"

namespace quanyu::sim::internal {

enum class TrackName : uint8_t {
  kApplicationOpened,
  kProductsSearched,
  kProductViewed,
  kProductAdded,
  kCheckoutStarted,
  kOrderCompleted,
  kSignedUp,
  kReferralSignup,
  kReferralInviteSent,
  kNpsSurveyAnswered,
  kConsentUpdated,
  kOfficialAccountFollowed,
  kArticleRead,
};
inline constexpr std::array<std::string_view, 13> kTrackNames = {
    "Application Opened",   "Products Searched",   "Product Viewed",  "Product Added",
    "Checkout Started",     "Order Completed",     "Signed Up",       "Referral Signup",
    "Referral Invite Sent", "NPS Survey Answered", "Consent Updated", "Official Account Followed",
    "Article Read"};
inline constexpr int kTrackNameCount = static_cast<int>(kTrackNames.size());

template <size_t N>
void AddArray(std::array<int64_t, N>* into, const std::array<int64_t, N>& from) {
  for (size_t i = 0; i < N; ++i) (*into)[i] += from[i];
}

struct SimStats {
  int64_t persons = 0;
  int64_t persons_with_events = 0;
  int64_t events = 0;
  std::array<int64_t, kEventTypeCount> by_type{};
  std::array<int64_t, kTrackNameCount> by_name{};
  std::array<int64_t, kSourceCount> by_source{};

  std::array<int64_t, kChannelCount> organic_touches{};
  std::array<int64_t, kChannelCount> paid_touches{};
  std::array<int64_t, kCampaignCount> campaign_touches{};
  std::array<int64_t, kChannelCount> first_purchase_cause{};
  // First purchases (in the window) that would not have happened at all
  // without the channel: its trigger won and no other trigger, of another
  // channel or the baseline, would have fired in the window.
  std::array<int64_t, kChannelCount> first_purchase_incremental{};
  int64_t baseline_first_purchases = 0;
  int64_t search_returns = 0;  // first purchases made in a search landing's session
  int64_t reminders = 0;

  int64_t buyers = 0;
  int64_t orders = 0;
  int64_t repeat_orders = 0;
  int64_t revenue_fen = 0;
  std::array<int64_t, kSourceCount> orders_by_source{};

  std::array<int64_t, 11> nps_scores{};
  int64_t invites = 0;
  int64_t referral_signups = 0;
  int64_t signups = 0;
  int64_t members_at_start = 0;
  int64_t members_at_end = 0;
  int64_t consent_updates = 0;
  int64_t marketing_withdrawals = 0;

  int64_t events_with_identifiers = 0;
  int64_t junk_injected = 0;
  std::array<int64_t, kJunkValues.size()> junk_by_value{};
  std::array<int64_t, kSharedDevices.size()> shared_device_persons{};

  void Merge(const SimStats& o) {
    persons += o.persons;
    persons_with_events += o.persons_with_events;
    events += o.events;
    AddArray(&by_type, o.by_type);
    AddArray(&by_name, o.by_name);
    AddArray(&by_source, o.by_source);
    AddArray(&organic_touches, o.organic_touches);
    AddArray(&paid_touches, o.paid_touches);
    AddArray(&campaign_touches, o.campaign_touches);
    AddArray(&first_purchase_cause, o.first_purchase_cause);
    AddArray(&first_purchase_incremental, o.first_purchase_incremental);
    baseline_first_purchases += o.baseline_first_purchases;
    search_returns += o.search_returns;
    reminders += o.reminders;
    buyers += o.buyers;
    orders += o.orders;
    repeat_orders += o.repeat_orders;
    revenue_fen += o.revenue_fen;
    AddArray(&orders_by_source, o.orders_by_source);
    AddArray(&nps_scores, o.nps_scores);
    invites += o.invites;
    referral_signups += o.referral_signups;
    signups += o.signups;
    members_at_start += o.members_at_start;
    members_at_end += o.members_at_end;
    consent_updates += o.consent_updates;
    marketing_withdrawals += o.marketing_withdrawals;
    events_with_identifiers += o.events_with_identifiers;
    junk_injected += o.junk_injected;
    AddArray(&junk_by_value, o.junk_by_value);
    AddArray(&shared_device_persons, o.shared_device_persons);
  }
};

}  // namespace quanyu::sim::internal
