// The touchpoint map: one columnar scan keeps every journey event as a
// 16-byte row (time, channel id, event-name id and stage), PersonSequences
// groups them per person, and each worker cuts a person's events into
// sessions (the touches) and walks them once, counting into
// per-channel arrays (stamped per person, so "reached" needs no set) and
// small maps of hops and breakpoints that are merged at the end.
#include "query/touchpoints.h"

#include <algorithm>
#include <charconv>
#include <tuple>

#include "query/filter.h"
#include "query/operators.h"
#include "query/paths.h"
#include "query/sequences.h"

namespace quanyu::query {
namespace {

using store::Column;

Status Bad(std::string m) { return Status::InvalidArgument(std::move(m)); }

constexpr std::array<std::string_view, kStageCount> kStageNames = {
    "awareness", "consideration", "conversion", "repurchase", "advocacy"};

uint8_t StageBit(Stage s) { return static_cast<uint8_t>(1u << (static_cast<int>(s) - 1)); }

// A stage mapping from JSON ({event: stage}); `field` names it in errors.
Result<std::map<std::string, Stage, std::less<>>> StagesOf(const Json& j, const std::string& field,
                                                           const QueryContext* check_names) {
  if (!j.is_object()) return Bad(field + " must be an object {event name: stage}");
  std::map<std::string, Stage, std::less<>> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string at = field + "[\"" + it.key() + "\"]";
    const auto stage =
        it.value().is_string() ? StageNamed(it.value().get<std::string>()) : std::nullopt;
    if (it.key().empty()) return Bad(field + " has an empty event name");
    if (!stage) {
      return Bad(at +
                 " must be \"awareness\", \"consideration\", \"conversion\", \"repurchase\" "
                 "or \"advocacy\"");
    }
    if (check_names != nullptr && !IsEventTypeName(it.key())) {
      RETURN_IF_ERROR(CheckEventName(*check_names, it.key(), at));
    }
    out[it.key()] = *stage;
  }
  return out;
}

struct TouchRow {
  int64_t ts = 0;
  uint32_t channel = 0;
  uint32_t name_stage = 0;  // event-name id << 4 | Stage

  uint32_t name() const { return name_stage >> 4; }
  Stage stage() const { return static_cast<Stage>(name_stage & 15); }
};
static_assert(sizeof(TouchRow) == 16);

// Hops and breakpoints are few per person and few in all: ordered maps.
using HopKey = std::pair<uint32_t, uint32_t>;                    // channels from, to
using BreakpointKey = std::tuple<uint32_t, uint32_t, uint32_t>;  // from (or kNoChannel), to, name
constexpr uint32_t kNoChannel = UINT32_MAX;

struct HopCounts {
  int64_t persons = 0, count = 0;
};

// What one worker counts, and its scratch space.
struct TouchWorker {
  explicit TouchWorker(size_t channel_count)
      : channels(channel_count), seen(channel_count, UINT32_MAX), mask(channel_count, 0) {}

  std::vector<ChannelTouchpoints> channels;  // by channel id; names filled at the end
  std::map<HopKey, HopCounts> hops;
  std::map<BreakpointKey, int64_t> breakpoints;
  int64_t journeys = 0, converted = 0, stopped = 0;
  std::array<int64_t, kStageCount> stage_journeys{};
  std::vector<double> touches_to_convert;

  uint32_t person = 0;            // stamp of the person being walked
  std::vector<uint32_t> seen;     // per channel: stamp of the last person it reached
  std::vector<uint8_t> mask;      // per channel: stages seen there (this person)
  std::vector<uint32_t> reached;  // channels of this person
  std::vector<HopKey> person_hops;
  std::vector<TouchRow> ordered;
};

class JourneyWalker {
 public:
  JourneyWalker(const TouchpointsSpec& spec, uint32_t no_channel, uint32_t direct,
                const std::vector<uint32_t>& name_rank, const std::vector<uint32_t>& channel_rank)
      : spec_(spec),
        no_channel_(no_channel),
        direct_(direct),
        name_rank_(name_rank),
        channel_rank_(channel_rank) {}

  void AddPerson(TouchWorker& w, std::span<const TouchRow> rows) const {
    if (rows.empty()) return;
    rows = InOrder(w, rows);
    ++w.person;
    w.reached.clear();
    w.person_hops.clear();
    uint8_t stages = 0;
    int64_t touches = 0, first_purchase = -1, last_purchase_ts = INT64_MIN;
    uint32_t first_channel = kNoChannel, last_channel = kNoChannel, before_last = kNoChannel;
    const TouchRow* last = nullptr;
    ForEachSession(rows, spec_.session_idle_us, [&](std::span<const TouchRow> session) {
      const uint32_t c = ChannelOf(session);
      if (c == kNoChannel) return;
      if (w.seen[c] != w.person) {
        w.seen[c] = w.person;
        w.mask[c] = 0;
        w.reached.push_back(c);
      }
      ++touches;
      ++w.channels[c].touches;
      for (const TouchRow& r : session) {
        Stage stage = r.stage();
        if (stage == Stage::kConversion && first_purchase >= 0) stage = Stage::kRepurchase;
        if (stage == Stage::kConversion) first_purchase = touches;
        if (stage == Stage::kConversion || stage == Stage::kRepurchase) last_purchase_ts = r.ts;
        if (stage != Stage::kNone) {
          w.mask[c] |= StageBit(stage);
          stages |= StageBit(stage);
        }
      }
      if (first_channel == kNoChannel) first_channel = c;
      if (last_channel != kNoChannel && last_channel != c) {
        w.person_hops.emplace_back(last_channel, c);
        before_last = last_channel;
      }
      last_channel = c;
      last = &session.back();
    });
    if (touches == 0) return;
    ++w.journeys;
    for (uint32_t c : w.reached) {
      ++w.channels[c].persons;
      for (int s = 0; s < kStageCount; ++s) w.channels[c].stage_persons[s] += w.mask[c] >> s & 1;
    }
    for (int s = 0; s < kStageCount; ++s) w.stage_journeys[s] += stages >> s & 1;
    ++w.channels[first_channel].first_touch_persons;
    ++w.channels[last_channel].last_touch_persons;
    if (first_purchase >= 0) {
      ++w.converted;
      w.touches_to_convert.push_back(static_cast<double>(first_purchase));
    }
    std::sort(w.person_hops.begin(), w.person_hops.end());
    for (size_t i = 0; i < w.person_hops.size();) {
      size_t j = i;
      while (j < w.person_hops.size() && w.person_hops[j] == w.person_hops[i]) ++j;
      HopCounts& h = w.hops[w.person_hops[i]];
      ++h.persons;
      h.count += static_cast<int64_t>(j - i);
      i = j;
    }
    if (last_purchase_ts < last->ts && spec_.range.to_us - last->ts >= spec_.breakpoint_window_us) {
      ++w.breakpoints[{before_last, last_channel, last->name()}];
      ++w.stopped;
    }
  }

 private:
  // The channel a session came from: its first channel other than direct,
  // else direct if it has that, else kNoChannel (not a touch).
  uint32_t ChannelOf(std::span<const TouchRow> session) const {
    bool direct = false;
    for (const TouchRow& r : session) {
      if (r.channel == direct_) {
        direct = true;
      } else if (r.channel != no_channel_) {
        return r.channel;
      }
    }
    return direct ? direct_ : kNoChannel;
  }

  // Same-timestamp events ordered by event name, then channel (see paths.h).
  std::span<const TouchRow> InOrder(TouchWorker& w, std::span<const TouchRow> rows) const {
    bool ties = false;
    for (size_t i = 1; i < rows.size() && !ties; ++i) ties = rows[i].ts == rows[i - 1].ts;
    if (!ties) return rows;
    w.ordered.assign(rows.begin(), rows.end());
    std::sort(w.ordered.begin(), w.ordered.end(), [&](const TouchRow& a, const TouchRow& b) {
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.name() != b.name()) return name_rank_[a.name()] < name_rank_[b.name()];
      return channel_rank_[a.channel] < channel_rank_[b.channel];
    });
    return w.ordered;
  }

  const TouchpointsSpec& spec_;
  uint32_t no_channel_, direct_;
  const std::vector<uint32_t>& name_rank_;
  const std::vector<uint32_t>& channel_rank_;
};

// Whether the NPS answer in row `i` comes from a promoter.
bool IsPromoter(FieldReader& reader, const Field& score, const store::ColumnBatch& b, size_t i) {
  const Value v = reader.Read(score, b, i);
  double n = v.number;
  if (v.kind == Value::kString) {  // "9"
    auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), n);
    if (ec != std::errc() || end != v.text.data() + v.text.size()) return false;
  } else if (v.kind != Value::kNumber) {
    return false;
  }
  return n >= kPromoterScore;
}

}  // namespace

std::string_view StageName(Stage s) {
  return s == Stage::kNone ? std::string_view() : kStageNames[static_cast<size_t>(s) - 1];
}

std::optional<Stage> StageNamed(std::string_view name) {
  for (size_t i = 0; i < kStageNames.size(); ++i) {
    if (kStageNames[i] == name) return static_cast<Stage>(i + 1);
  }
  return std::nullopt;
}

Result<TouchpointsSpec> ParseTouchpointsSpec(const Json& body, const QueryContext& ctx) {
  TouchpointsSpec s;
  ASSIGN_OR_RETURN(const TimeZone tz, ParseTimeZone(body, ctx.options.timezone));
  ASSIGN_OR_RETURN(s.range, ParseRange(body, tz));
  if (body.contains("stages") && !body["stages"].is_null()) {
    ASSIGN_OR_RETURN(s.stages, StagesOf(body["stages"], "stages", &ctx));
  } else if (!ctx.options.stages.empty()) {
    ASSIGN_OR_RETURN(s.stages, StagesOf(Json(ctx.options.stages), "[query] stages", nullptr));
  } else {
    for (const auto& d : kDefaultStages) s.stages.emplace(std::string(d.event), d.stage);
  }
  ASSIGN_OR_RETURN(s.session_idle_us, ParseSessionIdle(body, ctx));
  if (body.contains("breakpoint_window")) {
    ASSIGN_OR_RETURN(s.breakpoint_window_us,
                     ParseDuration(body["breakpoint_window"], "breakpoint_window"));
  }
  ASSIGN_OR_RETURN(const int64_t top, ParseInt(body, "top", 20, 1, 1000));
  s.top = static_cast<int>(top);
  return s;
}

Result<TouchpointsResult> ComputeTouchpoints(const TouchpointsSpec& spec, const QueryContext& ctx) {
  Interner names, channels;
  const uint32_t no_name = names.Intern("");
  const uint32_t no_channel = channels.Intern("");
  const uint32_t direct = channels.Intern(kDirectChannel);
  std::array<uint32_t, kEventTypeCount> type_names{};
  for (int t = 0; t < kEventTypeCount; ++t) {
    type_names[t] = names.Intern(EventTypeName(static_cast<EventType>(t)));
  }
  const uint32_t nps = names.Intern(kNpsEvent);
  auto nps_stage = spec.stages.find(kNpsEvent);
  const bool promoters_only =
      nps_stage != spec.stages.end() && nps_stage->second == Stage::kAdvocacy;
  const Field score = FieldNamed("score");
  FieldReader reader;

  store::ColumnSet columns{Column::kTimestamp, Column::kName, Column::kType, Column::kChannel};
  if (promoters_only) columns.Add(Column::kProperties);
  PersonSequences<TouchRow> sequences;
  std::vector<uint32_t> name_of, channel_of;
  std::vector<Stage> stage_of_name;  // by name id, grown as names are interned
  RETURN_IF_ERROR(ScanRange(ctx, spec.range, columns, [&](const store::ColumnBatch& b) {
    names.Translate(b.Dictionary(Column::kName), &name_of);
    channels.Translate(b.Dictionary(Column::kChannel), &channel_of);
    for (size_t id = stage_of_name.size(); id < names.size(); ++id) {
      auto it = spec.stages.find(names.Name(static_cast<uint32_t>(id)));
      stage_of_name.push_back(it == spec.stages.end() ? Stage::kNone : it->second);
    }
    const uint32_t* one_ids = b.one_ids();
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    const uint8_t* types = b.Types();
    const uint32_t* name_codes = b.Codes(Column::kName);
    const uint32_t* channel_codes = b.Codes(Column::kChannel);
    for (size_t i = 0; i < b.size(); ++i) {
      const uint32_t channel = channel_of[channel_codes[i]];
      if (one_ids[i] == 0 || !IsJourneyEventType(static_cast<EventType>(types[i]))) continue;
      uint32_t name = name_of[name_codes[i]];
      if (name == no_name) name = type_names[types[i]];
      Stage stage = stage_of_name[name];
      if (name == nps && promoters_only && !IsPromoter(reader, score, b, i)) stage = Stage::kNone;
      sequences.Add(one_ids[i], TouchRow{ts[i], channel, name << 4 | static_cast<uint32_t>(stage)});
    }
    return Status::OK();
  }));
  sequences.Build(QueryThreads(ctx));

  const std::vector<uint32_t> name_rank = RanksOf(names), channel_rank = RanksOf(channels);
  const JourneyWalker walker(spec, no_channel, direct, name_rank, channel_rank);
  const int threads = std::max(1, ctx.options.threads);
  std::vector<TouchWorker> workers(static_cast<size_t>(threads), TouchWorker(channels.size()));
  sequences.ForEachPerson(threads, [&](int w, size_t, std::span<const TouchRow> rows) {
    walker.AddPerson(workers[static_cast<size_t>(w)], rows);
  });

  TouchWorker& all = workers[0];
  for (size_t w = 1; w < workers.size(); ++w) {
    const TouchWorker& o = workers[w];
    for (size_t c = 0; c < o.channels.size(); ++c) {
      ChannelTouchpoints& a = all.channels[c];
      a.persons += o.channels[c].persons;
      a.touches += o.channels[c].touches;
      a.first_touch_persons += o.channels[c].first_touch_persons;
      a.last_touch_persons += o.channels[c].last_touch_persons;
      for (int s = 0; s < kStageCount; ++s) a.stage_persons[s] += o.channels[c].stage_persons[s];
    }
    for (const auto& [k, h] : o.hops) {
      all.hops[k].persons += h.persons;
      all.hops[k].count += h.count;
    }
    for (const auto& [k, n] : o.breakpoints) all.breakpoints[k] += n;
    all.journeys += o.journeys;
    all.converted += o.converted;
    all.stopped += o.stopped;
    for (int s = 0; s < kStageCount; ++s) all.stage_journeys[s] += o.stage_journeys[s];
    all.touches_to_convert.insert(all.touches_to_convert.end(), o.touches_to_convert.begin(),
                                  o.touches_to_convert.end());
  }

  TouchpointsResult r;
  r.journeys = all.journeys;
  r.converted = all.converted;
  r.stopped = all.stopped;
  r.stage_journeys = all.stage_journeys;
  r.median_touches_to_convert = Quantile(&all.touches_to_convert, 0.5);
  for (uint32_t c = 0; c < all.channels.size(); ++c) {
    if (all.channels[c].persons == 0) continue;
    r.channels.push_back(all.channels[c]);
    r.channels.back().channel = channels.Name(c);
  }
  std::sort(r.channels.begin(), r.channels.end(), [](const auto& a, const auto& b) {
    return a.persons != b.persons ? a.persons > b.persons : a.channel < b.channel;
  });
  for (const auto& [k, h] : all.hops) {
    r.transitions.push_back({channels.Name(k.first), channels.Name(k.second), h.persons, h.count});
  }
  std::sort(r.transitions.begin(), r.transitions.end(), [](const auto& a, const auto& b) {
    if (a.persons != b.persons) return a.persons > b.persons;
    if (a.count != b.count) return a.count > b.count;
    return std::tie(a.from, a.to) < std::tie(b.from, b.to);
  });
  if (r.transitions.size() > static_cast<size_t>(spec.top)) r.transitions.resize(spec.top);
  for (const auto& [k, n] : all.breakpoints) {
    const auto& [from, to, name] = k;
    r.breakpoints.push_back(
        {from == kNoChannel ? std::string(kJourneyStartMarker) : channels.Name(from),
         channels.Name(to), names.Name(name), n, all.channels[to].persons});
  }
  std::sort(r.breakpoints.begin(), r.breakpoints.end(), [](const auto& a, const auto& b) {
    if (a.persons_lost != b.persons_lost) return a.persons_lost > b.persons_lost;
    return std::tie(a.from, a.to, a.last_event) < std::tie(b.from, b.to, b.last_event);
  });
  if (r.breakpoints.size() > static_cast<size_t>(spec.top)) r.breakpoints.resize(spec.top);
  return r;
}

Json ToJson(const TouchpointsResult& r) {
  auto by_stage = [](auto&& value) {
    Json j = Json::object();
    for (int s = 0; s < kStageCount; ++s) j[std::string(kStageNames[s])] = value(s);
    return j;
  };
  Json channels = Json::array();
  for (const auto& c : r.channels) {
    channels.push_back({{"channel", c.channel},
                        {"persons", c.persons},
                        {"touches", c.touches},
                        {"share_of_journeys", Ratio(c.persons, r.journeys)},
                        {"stages", by_stage([&](int s) {
                           return Ratio(c.stage_persons[s], r.stage_journeys[s]);
                         })},
                        {"first_touch_persons", c.first_touch_persons},
                        {"last_touch_persons", c.last_touch_persons}});
  }
  Json transitions = Json::array();
  for (const auto& t : r.transitions) {
    transitions.push_back(
        {{"from", t.from}, {"to", t.to}, {"persons", t.persons}, {"count", t.count}});
  }
  Json breakpoints = Json::array();
  for (const auto& b : r.breakpoints) {
    breakpoints.push_back({{"from", b.from},
                           {"to", b.to},
                           {"last_event", b.last_event},
                           {"persons_lost", b.persons_lost},
                           {"share_of_reached", Ratio(b.persons_lost, b.reached)}});
  }
  // A median by nearest rank is one person's touch count: an integer.
  Json median = r.median_touches_to_convert
                    ? Json(static_cast<int64_t>(*r.median_touches_to_convert))
                    : Json(nullptr);
  return {{"channels", std::move(channels)},
          {"transitions", std::move(transitions)},
          {"breakpoints", std::move(breakpoints)},
          {"journeys",
           {{"persons", r.journeys},
            {"converted", r.converted},
            {"stopped", r.stopped},
            {"median_touches_to_convert", median},
            {"stages", by_stage([&](int s) { return Json(r.stage_journeys[s]); })}}}};
}

Result<Json> RunTouchpoints(const Json& body, const QueryContext& ctx) {
  ASSIGN_OR_RETURN(const TouchpointsSpec spec, ParseTouchpointsSpec(body, ctx));
  ASSIGN_OR_RETURN(const TouchpointsResult result, ComputeTouchpoints(spec, ctx));
  return ToJson(result);
}

}  // namespace quanyu::query
