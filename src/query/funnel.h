// Funnels (POST /api/v1/query/funnel; docs/metrics.md, "Funnel"): how many
// persons go through ordered steps — an event name plus `where` conditions
// each — within a conversion window anchored at the first step, in one of
// the modes of ClickHouse's windowFunnel (default, strict order, strict
// deduplication, strict increase); conversion, drop-off and time to convert
// per step, optionally broken down by the channel, source or a property of
// the step-1 event, or by the person's first-touch channel.
//
// ComputeFunnel scans the request's range once (name, timestamp and only the
// columns the conditions and the breakdown need), keeps per person the rows
// that match a step as 16-byte FunnelEvents, and walks each person's
// sequence with a FunnelWalker on ctx.options.threads threads.
//
// Thread-safety: the functions are reentrant; a FunnelWalker belongs to one
// thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "query/filter.h"
#include "query/query.h"

namespace quanyu::query {

inline constexpr int kMaxFunnelSteps = 32;
// A breakdown answers at most this many values (the largest); the others
// are summed into one group named kOtherValues.
inline constexpr size_t kMaxBreakdownValues = 100;
inline constexpr std::string_view kOtherValues = "(other)";

enum class FunnelMode { kDefault, kStrictOrder, kStrictDeduplication, kStrictIncrease };

struct FunnelStep {
  std::string event;                // Event::name
  std::vector<Condition> where;     // all must hold
};

// What the breakdown groups by; kField uses FunnelSpec::breakdown_field.
enum class FunnelBreakdown { kNone, kField, kFirstTouchChannel };

struct FunnelSpec {
  TimeRange range;
  TimeZone timezone;
  int64_t window_us = 7LL * 86400 * 1000000;
  FunnelMode mode = FunnelMode::kDefault;
  std::vector<FunnelStep> steps;  // 1..kMaxFunnelSteps
  FunnelBreakdown breakdown = FunnelBreakdown::kNone;
  Field breakdown_field;  // kField: "channel", "source" or any field (fields.h)
  bool collect_persons = false;  // fill FunnelResult::persons
};

struct FunnelStepResult {
  std::string event;
  int64_t persons = 0;  // reached this step (and so every step before it)
  // Over the persons who reached this step (k >= 2): seconds from the
  // step-1 event to this step's event in the first chain that reached it.
  std::optional<double> median_seconds_to_convert, p90_seconds_to_convert;
};

struct FunnelBreakdownRow {
  std::string value;  // "(none)" for a missing or empty value
  std::vector<FunnelStepResult> steps;
};

struct FunnelPerson {
  uint32_t one_id = 0;
  int level = 0;  // deepest step reached, >= 1
};

struct FunnelResult {
  std::vector<FunnelStepResult> steps;
  bool has_breakdown = false;
  // By step-1 persons descending, then value (bytewise); at most
  // kMaxBreakdownValues, then kOtherValues for the rest if any.
  std::vector<FunnelBreakdownRow> breakdown;
  // Persons who reached step 1, by one_id (only if spec.collect_persons).
  std::vector<FunnelPerson> persons;
};

// Parses a request body (docs/openapi.yaml FunnelRequest) and checks the
// names against ctx.catalog. InvalidArgument naming the field on error.
Result<FunnelSpec> ParseFunnelSpec(const Json& body, const QueryContext& ctx);
// InvalidArgument for a spec ParseFunnelSpec would refuse (step count);
// IOError/Corruption from the store.
Result<FunnelResult> ComputeFunnel(const FunnelSpec& spec, const QueryContext& ctx);
Json ToJson(const FunnelResult& result);

// ---- The per-person walk (public so tests can compare it with a reference) --

// One event of a person as a funnel sees it: bit i of `steps` set when the
// event matches step i + 1 (name and conditions). `value` is free for the
// caller (ComputeFunnel keeps the breakdown value there).
struct FunnelEvent {
  int64_t ts = 0;
  uint32_t steps = 0;
  uint32_t value = 0;
};
static_assert(sizeof(FunnelEvent) == 16);

// What a person achieved.
struct FunnelWalk {
  int level = 0;  // deepest step reached (0: none)
  // For k = 1..level, convert_us[k - 1]: the step-k time minus the step-1
  // time of the first chain that reached step k (earliest step-k time, then
  // latest step-1 time), in µs; convert_us[0] (step 1) is 0. Entries past
  // the level are unspecified.
  std::array<int64_t, kMaxFunnelSteps> convert_us{};
  // The step-1 time of the first chain that reached step `level`.
  int64_t start_us = 0;
};

// Walks one person's events through the funnel's state machine (the exact
// rules are in docs/metrics.md, "Funnel"). Events at the same microsecond
// give the same walk whatever their order in `events`.
class FunnelWalker {
 public:
  // REQUIRES: 1 <= steps <= kMaxFunnelSteps, window_us >= 0.
  FunnelWalker(int steps, int64_t window_us, FunnelMode mode);
  // REQUIRES: `events` sorted by ts (ties in any order).
  const FunnelWalk& Walk(std::span<const FunnelEvent> events);

 private:
  // Applies one group of events sharing a timestamp.
  void Group(std::span<const FunnelEvent> group);
  void LoneEvent(const FunnelEvent& e);  // default, strict increase
  void DefaultGroup(std::span<const FunnelEvent> group, int64_t t);
  void IncreaseGroup(std::span<const FunnelEvent> group, int64_t t);
  void SequentialEvent(const FunnelEvent& e);  // strict order / deduplication
  // Longest run of steps first+1.. that distinct events of `group` can fill.
  int MatchRun(int first);
  bool Augment(int step);
  // Records levels newly reached at time t (start_ holds their chains).
  void Reached(int64_t t);

  const int steps_;
  const int64_t window_us_;
  const FunnelMode mode_;
  static constexpr int64_t kNone = INT64_MIN;
  // start_[k]: latest step-1 time of a live chain (or attempt) at level k
  // (index 1..steps_; 0 unused), kNone when there is none.
  std::array<int64_t, kMaxFunnelSteps + 1> start_{}, next_{};
  uint32_t live_ = 0;  // strict order / deduplication: levels holding an attempt
  FunnelWalk walk_;
  // Scratch.
  std::vector<FunnelEvent> sorted_;
  std::vector<FunnelEvent> candidates_;  // MatchRun: the group's events that match a step
  std::vector<int> owner_;                // MatchRun: candidate -> step it fills, or -1
  std::vector<char> visited_;
  std::array<int64_t, kMaxFunnelSteps + 1> reach_us_{}, first_start_us_{};
};

}  // namespace quanyu::query
