// Paths (POST /api/v1/query/paths, docs/metrics.md "Paths"): the most common
// sequences of events (or channels) people follow within a session or across
// their whole journey, starting at an event, ending at one, or from the
// start; as ranked sequences and as a Sankey diagram (nodes and weighted
// links) ready for ECharts.
//
// Also home of what paths and the touchpoint map (touchpoints.h) share about
// journeys: which events are steps of a journey, the name each is shown by,
// and how events at the same instant are ordered.
//
// Stateless; thread-safe (ComputePaths runs ctx.options.threads workers of
// its own).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.h"
#include "common/result.h"
#include "query/filter.h"
#include "query/query.h"

namespace quanyu::query {

// ---- Journeys, shared with the touchpoint map ------------------------------

// Whether events of type `t` are steps of a person's journey: what the person
// did (track, page, screen, track_signup), not records about them (identify,
// alias, group, profile updates, id binding, admin corrections).
bool IsJourneyEventType(EventType t);
// The name a journey event is shown by: its name, or for a nameless event
// its type ("page").
std::string_view JourneyEventName(std::string_view name, EventType t);
// Whether `name` is an event type's name ("page", "screen", ...): the name of
// nameless events, accepted where an event name is asked without consulting
// the catalog.
bool IsEventTypeName(std::string_view name);
// For each id of `names`, the rank of its string in bytewise order: events at
// the same timestamp are ordered by these ranks, so an answer never depends
// on how the store happened to lay the events out.
std::vector<uint32_t> RanksOf(const Interner& names);

// The idle gap that ends a session: the body's "session_idle" (a duration,
// "30m"), else ctx.options.session_idle_us ([query] session_idle).
Result<int64_t> ParseSessionIdle(const Json& body, const QueryContext& ctx);
// Calls fn(session) for each session of a person's `rows` (time-ordered
// rows with a `ts`): the runs in which no gap between consecutive rows is
// longer than idle_us. Nothing for no rows.
template <class Row, class Fn>
void ForEachSession(std::span<const Row> rows, int64_t idle_us, Fn&& fn) {
  size_t begin = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].ts - rows[i - 1].ts > idle_us) {
      fn(rows.subspan(begin, i - begin));
      begin = i;
    }
  }
  if (!rows.empty()) fn(rows.subspan(begin));
}

// ---- Paths ------------------------------------------------------------------

enum class PathGranularity { kEvent, kChannel };
enum class PathScope { kSession, kJourney };

struct PathsSpec {
  TimeRange range;
  // At most one is set; neither = paths from the first event of each
  // session (or journey).
  std::string start_event;
  std::string end_event;
  PathGranularity granularity = PathGranularity::kEvent;
  PathScope scope = PathScope::kSession;
  // A gap longer than this between consecutive events starts a new session.
  int64_t session_idle_us = 30LL * 60 * 1000000;
  int steps = 5;  // nodes per path, markers included: 2..20
  int top = 20;   // ranked paths answered: 1..1000
  bool collapse_repeats = true;
  std::vector<std::string> exclude;  // event names dropped before paths are built
  std::vector<Condition> where;      // every event must pass
  int64_t min_persons = 1;           // Sankey links below this are dropped
};

inline constexpr std::string_view kPathStartMarker = "(start)";
inline constexpr std::string_view kPathEndMarker = "(end)";
inline constexpr int kMaxPathSteps = 20;

struct PathCount {
  std::vector<std::string> nodes;
  int64_t persons = 0;   // persons who followed the path at least once
  int64_t sessions = 0;  // sessions (journeys, by journey) that followed it
};

struct SankeyNode {
  std::string id;  // "<step>:<name>", unique per step so the graph is a DAG
  std::string name;
  int step = 0;  // 1-based column
};

struct SankeyLink {
  std::string source, target;  // node ids
  int64_t persons = 0;         // persons with a path through this link
  int64_t sessions = 0;        // sessions whose path runs through it
};

struct PathsResult {
  std::vector<PathCount> paths;  // the top paths, ranked
  std::vector<SankeyNode> nodes;
  std::vector<SankeyLink> links;
};

// Parses a request body (docs/openapi.yaml, PathsRequest): InvalidArgument
// naming the field for a bad value, both start_event and end_event, or an
// unknown event or property.
Result<PathsSpec> ParsePathsSpec(const Json& body, const QueryContext& ctx);
// Runs the query; errors are the store's.
Result<PathsResult> ComputePaths(const PathsSpec& spec, const QueryContext& ctx);
Json ToJson(const PathsResult& result);

}  // namespace quanyu::query
