// The touchpoint map (POST /api/v1/query/touchpoints, docs/metrics.md
// "Touchpoint map"), the user's omni-channel map: for each channel, the
// persons it reached and at which stage of their journey (awareness,
// consideration, conversion, repurchase, advocacy); the hops between
// channels; and the breakpoints — the hops after which journeys stop without
// a purchase, ranked by persons lost.
//
// A touch is a session: a person's journey events (paths.h: track, page,
// screen, track_signup) in [from, to), cut at gaps longer than the session
// idle time, on the channel the session came from (its first channel other
// than `direct`, else `direct`). A person's journey is their touches in time
// order. Sessions without any channel are not part of the map.
//
// Stateless; thread-safe (ComputeTouchpoints runs ctx.options.threads
// workers of its own).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "query/query.h"

namespace quanyu::query {

enum class Stage : uint8_t {
  kNone = 0,
  kAwareness,
  kConsideration,
  kConversion,  // a purchase: the person's first in the range; later ones are kRepurchase
  kRepurchase,
  kAdvocacy,
};
inline constexpr int kStageCount = 5;  // the stages after kNone

// "awareness", ..., "advocacy"; "" for kNone.
std::string_view StageName(Stage s);
// Inverse of StageName for the five stages; nullopt otherwise.
std::optional<Stage> StageNamed(std::string_view name);

// The mapping used when neither the request nor quanyu.toml's
// [query] stages give one. "Landing" is the landing page/screen.
struct StageOfEvent {
  std::string_view event;
  Stage stage;
};
inline constexpr StageOfEvent kDefaultStages[] = {
    {"Landing", Stage::kAwareness},
    {"Application Opened", Stage::kAwareness},
    {"Article Read", Stage::kAwareness},
    {"Official Account Followed", Stage::kAwareness},
    {"Product Viewed", Stage::kConsideration},
    {"Products Searched", Stage::kConsideration},
    {"Product Added", Stage::kConsideration},
    {"Checkout Started", Stage::kConsideration},
    {"Signed Up", Stage::kConsideration},
    {"Order Completed", Stage::kConversion},
    {"Referral Invite Sent", Stage::kAdvocacy},
    {"NPS Survey Answered", Stage::kAdvocacy},
    {"Referral Signup", Stage::kAdvocacy},
};
// An NPS answer mapped to advocacy is advocacy only from a promoter: its
// `score` property (0-10) is at least kPromoterScore. Other answers have no
// stage.
inline constexpr std::string_view kNpsEvent = "NPS Survey Answered";
inline constexpr double kPromoterScore = 9;

struct TouchpointsSpec {
  TimeRange range;
  // A gap longer than this between consecutive journey events starts a new
  // session (ParseSessionIdle).
  int64_t session_idle_us = 30LL * 60 * 1000000;
  std::map<std::string, Stage, std::less<>> stages;  // event name -> stage (never kNone)
  // A journey is called stopped only when its last touch is at least this
  // long before `to`.
  int64_t breakpoint_window_us = 7LL * 86400 * 1000000;
  int top = 20;  // transitions and breakpoints answered: 1..1000
};

struct ChannelTouchpoints {
  std::string channel;
  int64_t persons = 0;  // reached: at least one touch
  int64_t touches = 0;  // sessions on the channel
  int64_t first_touch_persons = 0;                   // journeys that start on the channel
  int64_t last_touch_persons = 0;                    // journeys that end on it
  std::array<int64_t, kStageCount> stage_persons{};  // persons with a touch at each stage here
};

struct ChannelTransition {
  std::string from, to;
  int64_t persons = 0;  // persons who made the hop at least once
  int64_t count = 0;    // hops
};

struct Breakpoint {
  std::string from;        // the channel before the last run of touches, or "(start)"
  std::string to;          // the channel of the last touch
  std::string last_event;  // the last event of the last touch (session)
  int64_t persons_lost = 0;
  int64_t reached = 0;  // persons the `to` channel reached
};

struct TouchpointsResult {
  std::vector<ChannelTouchpoints> channels;    // by persons, most first, then name
  std::vector<ChannelTransition> transitions;  // top: by persons, then count, then names
  std::vector<Breakpoint> breakpoints;         // top: by persons_lost, then names
  int64_t journeys = 0;                        // persons with a touch
  int64_t converted = 0;                       // ... with a conversion
  int64_t stopped = 0;  // ... counted in some breakpoint (all, not just the top)
  std::array<int64_t, kStageCount> stage_journeys{};  // journeys with each stage
  std::optional<double> median_touches_to_convert;
};

inline constexpr std::string_view kJourneyStartMarker = "(start)";
// The channel of visits with no other signal (docs/channels.md): a session
// is on it only when none of its events has another channel.
inline constexpr std::string_view kDirectChannel = "direct";

// The stage mapping a request gets: body "stages" if present, else
// ctx.options.stages if non-empty, else kDefaultStages. InvalidArgument for
// a stage name that is not one of the five (or an unknown event in the
// body's mapping).
Result<TouchpointsSpec> ParseTouchpointsSpec(const Json& body, const QueryContext& ctx);
Result<TouchpointsResult> ComputeTouchpoints(const TouchpointsSpec& spec, const QueryContext& ctx);
Json ToJson(const TouchpointsResult& result);

}  // namespace quanyu::query
