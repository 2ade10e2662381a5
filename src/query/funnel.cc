#include "query/funnel.h"

#include <algorithm>
#include <bit>
#include <memory>

#include "query/operators.h"
#include "query/sequences.h"

namespace quanyu::query {

// ---- FunnelWalker ---------------------------------------------------------------

FunnelWalker::FunnelWalker(int steps, int64_t window_us, FunnelMode mode)
    : steps_(steps), window_us_(window_us), mode_(mode) {}

const FunnelWalk& FunnelWalker::Walk(std::span<const FunnelEvent> events) {
  walk_.level = 0;  // convert_us beyond the level is left as it was
  walk_.start_us = 0;
  std::fill(start_.begin(), start_.begin() + steps_ + 1, kNone);
  live_ = 0;
  const bool chains = mode_ == FunnelMode::kDefault || mode_ == FunnelMode::kStrictIncrease;
  for (size_t i = 0; i < events.size() && walk_.level < steps_;) {
    size_t j = i + 1;
    while (j < events.size() && events[j].ts == events[i].ts) ++j;
    if (j == i + 1 && chains) {
      LoneEvent(events[i]);
    } else {
      Group(events.subspan(i, j - i));
    }
    i = j;
  }
  for (int k = 1; k <= walk_.level; ++k) walk_.convert_us[k - 1] = reach_us_[k] - first_start_us_[k];
  if (walk_.level > 0) walk_.start_us = first_start_us_[walk_.level];
  return walk_;
}

// The common case of the default and strict-increase modes: an event
// alone at its microsecond. Extending chains in descending step order reads
// each level before this event changes it, so the event fills at most one
// step of a chain and only extends chains of earlier events. Levels reached
// are then a prefix that never shrinks, and a level is first reached by a
// single event.
void FunnelWalker::LoneEvent(const FunnelEvent& e) {
  if (e.steps == 0) return;
  for (uint32_t m = e.steps; m != 0;) {
    const int k = 32 - std::countl_zero(m);  // highest step first
    m &= ~(uint32_t{1} << (k - 1));
    if (k == 1) {
      start_[1] = std::max(start_[1], e.ts);
    } else if (start_[k - 1] != kNone && e.ts - start_[k - 1] <= window_us_) {
      start_[k] = std::max(start_[k], start_[k - 1]);
    }
  }
  while (walk_.level < steps_ && start_[walk_.level + 1] != kNone) {
    const int k = ++walk_.level;
    reach_us_[k] = e.ts;
    first_start_us_[k] = start_[k];
  }
}

void FunnelWalker::Group(std::span<const FunnelEvent> group) {
  const int64_t t = group[0].ts;
  switch (mode_) {
    case FunnelMode::kDefault:
      DefaultGroup(group, t);
      return;
    case FunnelMode::kStrictIncrease:
      IncreaseGroup(group, t);
      return;
    case FunnelMode::kStrictOrder:
    case FunnelMode::kStrictDeduplication:
      break;
  }
  if (group.size() == 1) {
    SequentialEvent(group[0]);
    return;
  }
  // The canonical order of simultaneous events: by the earliest step they
  // match, then by their step set; events matching no step last.
  sorted_.assign(group.begin(), group.end());
  auto key = [](const FunnelEvent& e) {
    const uint64_t lowest = e.steps == 0 ? 32 : std::countr_zero(e.steps);
    return lowest << 32 | e.steps;
  };
  std::sort(sorted_.begin(), sorted_.end(),
            [&key](const FunnelEvent& a, const FunnelEvent& b) { return key(a) < key(b); });
  for (const FunnelEvent& e : sorted_) SequentialEvent(e);
}

// Default mode: each level keeps the latest start of a chain reaching it.
// Several simultaneous events are matched to consecutive steps (MatchRun),
// which is what "distinct events at non-decreasing times" allows.
void FunnelWalker::DefaultGroup(std::span<const FunnelEvent> group, int64_t t) {
  candidates_.clear();
  for (const FunnelEvent& e : group) {
    if (e.steps != 0) candidates_.push_back(e);
  }
  if (candidates_.empty()) return;
  if (candidates_.size() == 1) {
    LoneEvent(candidates_[0]);
    return;
  }
  // Interchangeable events: a step set needs at most steps_ copies.
  std::sort(candidates_.begin(), candidates_.end(),
            [](const FunnelEvent& a, const FunnelEvent& b) { return a.steps < b.steps; });
  size_t kept = 0, same = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    same = (kept > 0 && candidates_[kept - 1].steps == candidates_[i].steps) ? same + 1 : 0;
    if (same < static_cast<size_t>(steps_)) candidates_[kept++] = candidates_[i];
  }
  candidates_.resize(kept);
  next_ = start_;
  for (int s = 0; s < steps_; ++s) {
    const int64_t base = s == 0 ? t : start_[s];
    if (s > 0 && (base == kNone || t - base > window_us_)) continue;
    const int run = MatchRun(s);
    for (int i = 1; i <= run; ++i) next_[s + i] = std::max(next_[s + i], base);
  }
  start_ = next_;
  Reached(t);
}

int FunnelWalker::MatchRun(int first) {
  owner_.assign(candidates_.size(), -1);
  int run = 0;
  for (int k = first + 1; k <= steps_; ++k) {
    visited_.assign(candidates_.size(), 0);
    if (!Augment(k)) break;
    ++run;
  }
  return run;
}

// Kuhn's augmenting path: finds a candidate for `step`, moving the steps
// already placed to other candidates if needed.
bool FunnelWalker::Augment(int step) {
  for (size_t e = 0; e < candidates_.size(); ++e) {
    if ((candidates_[e].steps >> (step - 1) & 1) == 0 || visited_[e]) continue;
    visited_[e] = 1;
    if (owner_[e] < 0 || Augment(owner_[e])) {
      owner_[e] = step;
      return true;
    }
  }
  return false;
}

// Strict increase: simultaneous events only extend chains that existed
// before them.
void FunnelWalker::IncreaseGroup(std::span<const FunnelEvent> group, int64_t t) {
  next_ = start_;
  for (const FunnelEvent& e : group) {
    for (uint32_t m = e.steps; m != 0; m &= m - 1) {
      const int k = std::countr_zero(m) + 1;
      if (k == 1) {
        next_[1] = std::max(next_[1], t);
      } else if (start_[k - 1] != kNone && t - start_[k - 1] <= window_us_) {
        next_[k] = std::max(next_[k], start_[k - 1]);
      }
    }
  }
  start_ = next_;
  Reached(t);
}

// Strict order and strict deduplication: each attempt moves one step at a
// time; an event that does not extend it ends it (strict order) or ends it
// when it repeats the attempt's last step (deduplication). live_ has bit
// k - 1 set when start_[k] holds an attempt.
void FunnelWalker::SequentialEvent(const FunnelEvent& e) {
  const uint32_t m = e.steps;
  if (m == 0) {
    if (mode_ == FunnelMode::kStrictOrder) live_ = 0;
    return;
  }
  uint32_t moved = 0;
  auto put = [&](int k, int64_t s) {
    const uint32_t bit = uint32_t{1} << (k - 1);
    next_[k] = (moved & bit) ? std::max(next_[k], s) : s;
    moved |= bit;
  };
  for (uint32_t l = live_; l != 0; l &= l - 1) {
    const int k = std::countr_zero(l) + 1;
    const int64_t s = start_[k];
    if (k < steps_ && (m >> k & 1) && e.ts - s <= window_us_) {
      put(k + 1, s);
    } else if (mode_ == FunnelMode::kStrictDeduplication && (m >> (k - 1) & 1) == 0) {
      put(k, s);
    }
  }
  if (m & 1) put(1, e.ts);
  live_ = moved;
  for (uint32_t l = moved; l != 0; l &= l - 1) {
    const int k = std::countr_zero(l) + 1;
    start_[k] = next_[k];
    if (k > walk_.level) {
      walk_.level = k;
      reach_us_[k] = e.ts;
      first_start_us_[k] = start_[k];
    } else if (reach_us_[k] == e.ts && start_[k] > first_start_us_[k]) {
      first_start_us_[k] = start_[k];
    }
  }
}

void FunnelWalker::Reached(int64_t t) {
  for (int k = 1; k <= steps_; ++k) {
    const int64_t s = start_[k];
    if (s == kNone) continue;
    if (k > walk_.level) {
      walk_.level = k;
      reach_us_[k] = t;
      first_start_us_[k] = s;
    } else if (reach_us_[k] == t && s > first_start_us_[k]) {
      first_start_us_[k] = s;
    }
  }
}

// ---- The scan -------------------------------------------------------------------

namespace {

using store::Column;

constexpr std::string_view kNoValue = "(none)";

// Turns scan batches into FunnelEvents per person.
class FunnelScan {
 public:
  explicit FunnelScan(const FunnelSpec& spec) : spec_(spec) {
    for (const FunnelStep& step : spec.steps) filters_.emplace_back(step.where);
    values_.Intern(kNoValue);  // id 0
    keep_every_event_ = spec.mode == FunnelMode::kStrictOrder;
  }

  store::ColumnSet Columns() const {
    store::ColumnSet cols{Column::kTimestamp, Column::kName};
    for (const RowFilter& f : filters_) f.AddColumns(&cols);
    if (spec_.breakdown == FunnelBreakdown::kField) {
      FieldReader::AddColumns(spec_.breakdown_field, &cols);
    }
    if (spec_.breakdown == FunnelBreakdown::kFirstTouchChannel) cols.Add(Column::kChannel);
    return cols;
  }

  Status Add(const store::ColumnBatch& b) {
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    const uint32_t* names = b.Codes(Column::kName);
    TranslateNames(b.Dictionary(Column::kName));
    for (auto& f : filters_) {
      if (!f.empty()) f.Prepare(b);
    }
    const Field& field = spec_.breakdown_field;
    const bool first_touch = spec_.breakdown == FunnelBreakdown::kFirstTouchChannel;
    const bool by_dictionary =
        spec_.breakdown == FunnelBreakdown::kField && field.kind == FieldKind::kDictionary;
    const bool by_row = spec_.breakdown == FunnelBreakdown::kField && !by_dictionary;
    const uint32_t* value_codes = nullptr;
    if (first_touch || by_dictionary) {
      const Column c = first_touch ? Column::kChannel : field.column;
      value_codes = b.Codes(c);
      TranslateValues(b.Dictionary(c));
    }
    const bool every_row = keep_every_event_ || first_touch;
    // First the rows to keep, then their one_ids in one prefetched pass
    // (the identity array is the one random read per row), then the adds.
    kept_rows_.clear();
    kept_.clear();
    for (size_t r = 0; r < b.size(); ++r) {
      const uint32_t code = names[r];
      uint32_t steps = always_[code];
      if ((steps | conditional_[code]) == 0 && !every_row) continue;  // most events
      for (uint32_t maybe = conditional_[code]; maybe != 0; maybe &= maybe - 1) {
        const int i = std::countr_zero(maybe);
        if (filters_[i].Matches(b, r)) steps |= uint32_t{1} << i;
      }
      uint32_t value = 0;
      if (first_touch) {
        value = value_ids_[value_codes[r]];
        if (steps == 0 && value == 0 && !keep_every_event_) continue;
      } else {
        if (steps == 0 && !keep_every_event_) continue;
        if (steps & 1) {
          if (by_dictionary) value = value_ids_[value_codes[r]];
          if (by_row) value = values_.Intern(reader_.Read(field, b, r).Label());
        }
      }
      kept_rows_.push_back(static_cast<uint32_t>(r));
      kept_.push_back(FunnelEvent{ts[r], steps, value});
    }
    one_ids_.resize(kept_rows_.size());
    b.OneIds(kept_rows_.data(), kept_rows_.size(), one_ids_.data());
    for (size_t k = 0; k < kept_.size(); ++k) {
      if (one_ids_[k] != 0) sequences_.Add(one_ids_[k], kept_[k]);
    }
    return Status::OK();
  }

  PersonSequences<FunnelEvent>& sequences() { return sequences_; }
  const Interner& values() const { return values_; }

 private:
  // always_[code]: steps the event name satisfies by itself;
  // conditional_[code]: steps whose name matches but which have conditions.
  void TranslateNames(const std::vector<std::string>& dict) {
    always_.assign(dict.size(), 0);
    conditional_.assign(dict.size(), 0);
    for (size_t code = 0; code < dict.size(); ++code) {
      for (size_t i = 0; i < spec_.steps.size(); ++i) {
        if (spec_.steps[i].event != dict[code]) continue;
        (filters_[i].empty() ? always_ : conditional_)[code] |= uint32_t{1} << i;
      }
    }
  }
  void TranslateValues(const std::vector<std::string>& dict) {
    value_ids_.resize(dict.size());
    for (size_t k = 0; k < dict.size(); ++k) {
      value_ids_[k] = dict[k].empty() ? 0 : values_.Intern(dict[k]);
    }
  }

  const FunnelSpec& spec_;
  std::vector<RowFilter> filters_;  // per step
  bool keep_every_event_ = false;
  std::vector<uint32_t> always_, conditional_, value_ids_;
  std::vector<uint32_t> kept_rows_, one_ids_;  // per batch
  std::vector<FunnelEvent> kept_;              // per batch
  Interner values_;
  FieldReader reader_;
  PersonSequences<FunnelEvent> sequences_;
};

// Per-worker totals of one group of persons (all, or one breakdown value).
struct FunnelTally {
  std::vector<int64_t> persons;                 // per step
  std::vector<std::vector<int64_t>> convert_us;  // per step

  void Count(const FunnelWalk& w, int steps) {
    if (persons.empty()) {
      persons.assign(steps, 0);
      convert_us.resize(steps);
    }
    for (int k = 0; k < w.level; ++k) {
      ++persons[k];
      if (k > 0) convert_us[k].push_back(w.convert_us[k]);
    }
  }
  void Merge(FunnelTally&& o) {
    if (o.persons.empty()) return;
    if (persons.empty()) {
      *this = std::move(o);
      return;
    }
    for (size_t k = 0; k < persons.size(); ++k) {
      persons[k] += o.persons[k];
      convert_us[k].insert(convert_us[k].end(), o.convert_us[k].begin(), o.convert_us[k].end());
    }
  }
  std::vector<FunnelStepResult> Steps(const FunnelSpec& spec) {
    std::vector<FunnelStepResult> out(spec.steps.size());
    for (size_t k = 0; k < out.size(); ++k) {
      out[k].event = spec.steps[k].event;
      if (persons.empty()) continue;
      out[k].persons = persons[k];
      if (k == 0) continue;
      std::vector<double> seconds(convert_us[k].begin(), convert_us[k].end());
      for (double& s : seconds) s /= 1e6;
      out[k].median_seconds_to_convert = Quantile(&seconds, 0.5);
      out[k].p90_seconds_to_convert = Quantile(&seconds, 0.9);
    }
    return out;
  }
};

struct FunnelWorker {
  FunnelTally all;
  std::vector<FunnelTally> by_value;
  std::vector<FunnelPerson> persons;
};

// The breakdown value of a person whose counting chain started at start_us
// (docs/metrics.md): among simultaneous candidates, the value that sorts
// first (rank = position of the value in byte order).
uint32_t ValueOf(std::span<const FunnelEvent> rows, int64_t start_us, bool first_touch,
                 const std::vector<uint32_t>& rank) {
  uint32_t best = 0;
  bool found = false;
  auto consider = [&](uint32_t v) {
    if (!found || rank[v] < rank[best]) best = v;
    found = true;
  };
  if (!first_touch) {
    auto it = std::lower_bound(rows.begin(), rows.end(), start_us,
                               [](const FunnelEvent& e, int64_t t) { return e.ts < t; });
    for (; it != rows.end() && it->ts == start_us; ++it) {
      if (it->steps & 1) consider(it->value);
    }
    return best;
  }
  for (size_t i = 0; i < rows.size() && rows[i].ts <= start_us; ++i) {
    if (rows[i].value == 0) continue;
    for (size_t j = i; j < rows.size() && rows[j].ts == rows[i].ts; ++j) {
      if (rows[j].value != 0) consider(rows[j].value);
    }
    break;
  }
  return best;
}

}  // namespace

Result<FunnelResult> ComputeFunnel(const FunnelSpec& spec, const QueryContext& ctx) {
  const int steps = static_cast<int>(spec.steps.size());
  if (steps < 1 || steps > kMaxFunnelSteps) {
    return Status::InvalidArgument("steps: a funnel has 1 to 32 steps");
  }
  // One FunnelScan per scan thread; their rows are merged by Build, their
  // breakdown values renumbered into one Interner first.
  const int threads = QueryThreads(ctx);
  std::vector<std::unique_ptr<FunnelScan>> scans;
  for (int w = 0; w < threads; ++w) scans.push_back(std::make_unique<FunnelScan>(spec));
  RETURN_IF_ERROR(ScanRangeParallel(
      ctx, spec.range, scans[0]->Columns(),
      [&scans](int w, const store::ColumnBatch& b) { return scans[w]->Add(b); }));
  Interner values;
  values.Intern(kNoValue);  // id 0 everywhere
  std::vector<PersonSequences<FunnelEvent>*> parts;
  for (auto& scan : scans) {
    std::vector<uint32_t> global(scan->values().size());
    bool identity = true;
    for (uint32_t id = 0; id < global.size(); ++id) {
      global[id] = values.Intern(scan->values().Name(id));
      identity = identity && global[id] == id;
    }
    if (!identity) {
      scan->sequences().ForEachPending([&global](FunnelEvent& e) { e.value = global[e.value]; });
    }
    parts.push_back(&scan->sequences());
  }
  PersonSequences<FunnelEvent> seq;
  seq.BuildFrom(parts, threads);
  scans.clear();

  std::vector<uint32_t> rank(values.size());
  {
    std::vector<uint32_t> order(values.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&values](uint32_t a, uint32_t b) { return values.Name(a) < values.Name(b); });
    for (uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  }
  const bool by_value = spec.breakdown != FunnelBreakdown::kNone;
  const bool first_touch = spec.breakdown == FunnelBreakdown::kFirstTouchChannel;
  std::vector<FunnelWorker> workers(threads);
  std::vector<FunnelWalker> walkers(threads, FunnelWalker(steps, spec.window_us, spec.mode));
  for (auto& w : workers) {
    if (by_value) w.by_value.resize(values.size());
  }
  seq.ForEachPerson(threads, [&](int worker, size_t p, std::span<const FunnelEvent> rows) {
    const FunnelWalk& walk = walkers[worker].Walk(rows);
    if (walk.level == 0) return;
    FunnelWorker& out = workers[worker];
    out.all.Count(walk, steps);
    if (by_value) {
      out.by_value[ValueOf(rows, walk.start_us, first_touch, rank)].Count(walk, steps);
    }
    if (spec.collect_persons) out.persons.push_back({seq.one_id(p), walk.level});
  });

  FunnelResult result;
  FunnelTally all;
  std::vector<FunnelTally> by(by_value ? values.size() : 0);
  for (FunnelWorker& w : workers) {
    all.Merge(std::move(w.all));
    for (size_t v = 0; v < w.by_value.size(); ++v) by[v].Merge(std::move(w.by_value[v]));
    result.persons.insert(result.persons.end(), w.persons.begin(), w.persons.end());
  }
  result.steps = all.Steps(spec);
  result.has_breakdown = by_value;
  // The kMaxBreakdownValues largest groups by step-1 persons, then value;
  // the rest summed into "(other)", last.
  std::vector<uint32_t> order;
  for (uint32_t v = 0; v < by.size(); ++v) {
    if (!by[v].persons.empty()) order.push_back(v);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (by[a].persons[0] != by[b].persons[0]) return by[a].persons[0] > by[b].persons[0];
    return rank[a] < rank[b];
  });
  FunnelTally other;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i < kMaxBreakdownValues) {
      result.breakdown.push_back({values.Name(order[i]), by[order[i]].Steps(spec)});
    } else {
      other.Merge(std::move(by[order[i]]));
    }
  }
  if (!other.persons.empty()) result.breakdown.push_back({std::string(kOtherValues), other.Steps(spec)});
  return result;
}

// ---- The request and the answer ----------------------------------------------------

namespace {

Json StepsJson(const std::vector<FunnelStepResult>& steps) {
  Json out = Json::array();
  for (size_t k = 0; k < steps.size(); ++k) {
    const FunnelStepResult& s = steps[k];
    const int64_t previous = k == 0 ? s.persons : steps[k - 1].persons;
    auto seconds = [](const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); };
    out.push_back({{"event", s.event},
                   {"persons", s.persons},
                   {"conversion_from_start", Ratio(s.persons, steps[0].persons)},
                   {"conversion_from_previous", Ratio(s.persons, previous)},
                   {"drop_off", previous - s.persons},
                   {"median_seconds_to_convert", seconds(s.median_seconds_to_convert)},
                   {"p90_seconds_to_convert", seconds(s.p90_seconds_to_convert)}});
  }
  return out;
}

Result<FunnelMode> ParseMode(const Json& body) {
  ASSIGN_OR_RETURN(std::string mode, ParseChoice(body, "mode",
                                                 {"default", "strict_order",
                                                  "strict_deduplication", "strict_increase"}));
  if (mode == "strict_order") return FunnelMode::kStrictOrder;
  if (mode == "strict_deduplication") return FunnelMode::kStrictDeduplication;
  if (mode == "strict_increase") return FunnelMode::kStrictIncrease;
  return FunnelMode::kDefault;
}

Result<FunnelStep> ParseStep(const Json& j, size_t i, const QueryContext& ctx) {
  const std::string at = "steps[" + std::to_string(i) + "]";
  if (!j.is_object()) return Status::InvalidArgument(at + " must be an object {event, where}");
  FunnelStep step;
  if (!j.contains("event") || !j["event"].is_string() || j["event"].get<std::string>().empty()) {
    return Status::InvalidArgument(at + ".event must be a non-empty event name");
  }
  step.event = j["event"].get<std::string>();
  RETURN_IF_ERROR(CheckEventName(ctx, step.event, at + ".event"));
  ASSIGN_OR_RETURN(step.where, ParseWhere(j.contains("where") ? j["where"] : Json(), at + ".where"));
  for (size_t c = 0; c < step.where.size(); ++c) {
    RETURN_IF_ERROR(CheckProperty(ctx, step.event, step.where[c].field.name,
                                  at + ".where[" + std::to_string(c) + "].property"));
  }
  return step;
}

}  // namespace

Result<FunnelSpec> ParseFunnelSpec(const Json& body, const QueryContext& ctx) {
  FunnelSpec spec;
  ASSIGN_OR_RETURN(spec.timezone, ParseTimeZone(body, ctx.options.timezone));
  ASSIGN_OR_RETURN(spec.range, ParseRange(body, spec.timezone));
  if (body.contains("window")) {
    ASSIGN_OR_RETURN(spec.window_us, ParseDuration(body["window"], "window"));
  }
  ASSIGN_OR_RETURN(spec.mode, ParseMode(body));
  if (!body.contains("steps") || !body["steps"].is_array()) {
    return Status::InvalidArgument("steps is required: an array of {\"event\", \"where\"}");
  }
  const Json& steps = body["steps"];
  if (steps.empty()) return Status::InvalidArgument("steps: at least one step");
  if (steps.size() > kMaxFunnelSteps) {
    return Status::InvalidArgument("steps: at most 32 (got " + std::to_string(steps.size()) + ")");
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    ASSIGN_OR_RETURN(FunnelStep step, ParseStep(steps[i], i, ctx));
    spec.steps.push_back(std::move(step));
  }
  if (body.contains("breakdown")) {
    ASSIGN_OR_RETURN(std::string name, ParseString(body, "breakdown", /*required=*/true));
    if (name == "first_touch_channel") {
      spec.breakdown = FunnelBreakdown::kFirstTouchChannel;
    } else {
      RETURN_IF_ERROR(CheckProperty(ctx, "", name, "breakdown"));
      spec.breakdown = FunnelBreakdown::kField;
      spec.breakdown_field = FieldNamed(name);
    }
  }
  return spec;
}

Json ToJson(const FunnelResult& result) {
  Json out = {{"steps", StepsJson(result.steps)}};
  if (result.has_breakdown) {
    Json rows = Json::array();
    for (const FunnelBreakdownRow& row : result.breakdown) {
      rows.push_back({{"value", row.value}, {"steps", StepsJson(row.steps)}});
    }
    out["breakdown"] = std::move(rows);
  }
  return out;
}

Result<Json> RunFunnel(const Json& body, const QueryContext& ctx) {
  ASSIGN_OR_RETURN(FunnelSpec spec, ParseFunnelSpec(body, ctx));
  ASSIGN_OR_RETURN(FunnelResult result, ComputeFunnel(spec, ctx));
  return ToJson(result);
}

}  // namespace quanyu::query
