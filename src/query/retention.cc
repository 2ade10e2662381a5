#include "query/retention.h"

#include <algorithm>
#include <memory>
#include <new>
#include <thread>

#include "common/time_util.h"
#include "query/funnel.h"  // kMaxBreakdownValues, kOtherValues
#include "query/operators.h"

namespace quanyu::query {
namespace {

using store::Column;

constexpr std::string_view kNoValue = "(none)";

// Cache-line aligned storage, so person records of a power-of-two size
// never straddle two lines (the scan reads one record per event, at random).
template <class T>
struct LineAligned {
  using value_type = T;
  LineAligned() = default;
  template <class U>
  LineAligned(const LineAligned<U>&) {}
  T* allocate(size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64)));
  }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  bool operator==(const LineAligned&) const { return true; }
};

// Words per person record: 2 + the bitmap words, rounded up to 4 or 8 (one
// aligned half or whole cache line) when that is all it takes.
size_t RecordWords(int bitmap_words) {
  const size_t w = 2 + static_cast<size_t>(bitmap_words);
  if (w <= 4) return 4;
  if (w <= 8) return 8;
  return w;
}
constexpr uint32_t kStart = 1, kReturn = 2;
constexpr int64_t kNoStart = INT64_MAX;
// Ranges of more buckets than this are scanned twice (see RetentionState).
constexpr int64_t kOnePassBuckets = 512;
// Cohorts x periods of the largest table answered (memory and answer size).
constexpr int64_t kMaxRetentionCells = 50'000;

// The calendar buckets of [from, to) as indexes 0, 1, ... by local day.
class BucketIndex {
 public:
  BucketIndex(const TimeRange& range, Granularity g, const TimeZone& tz)
      : g_(g), tz_(tz), first_bucket_(BucketOf(range.from_us, g, tz)),
        first_day_(DayOf(range.from_us + tz.offset_us)) {
    const int64_t last_day = DayOf(range.to_us - 1 + tz.offset_us);
    for (int64_t d = first_day_; d <= last_day; ++d) {
      by_day_.push_back(static_cast<int32_t>(
          BucketOf(d * kMicrosPerDay - tz.offset_us, g, tz) - first_bucket_));
    }
  }
  // REQUIRES: ts inside the range.
  int32_t Of(int64_t ts) const { return by_day_[DayOf(ts + tz_.offset_us) - first_day_]; }
  int32_t size() const { return by_day_.back() + 1; }
  int64_t bucket(int32_t index) const { return first_bucket_ + index; }
  Granularity granularity() const { return g_; }
  const TimeZone& timezone() const { return tz_; }

 private:
  Granularity g_;
  TimeZone tz_;
  int64_t first_bucket_, first_day_;
  std::vector<int32_t> by_day_;  // bucket index of each local day of the range
};

// What retention needs of each person, by one_id, filled as the scan goes
// (no per-person event lists): the first start event (time and breakdown
// value), the last return bucket (unbounded mode) and a bitmap of return
// buckets (classic mode). The bitmap covers the range's buckets when there
// are at most kOnePassBuckets of them (one scan); otherwise a first scan
// finds the cohorts and a second one records returns relative to them,
// `periods` bits per person.
class RetentionState {
 public:
  RetentionState(const RetentionSpec& spec, const BucketIndex& buckets)
      : spec_(spec), buckets_(buckets), one_pass_(buckets.size() <= kOnePassBuckets),
        words_(((one_pass_ ? buckets.size() : spec.periods) + 63) / 64), stride_(RecordWords(words_)),
        filters_{RowFilter(spec.start_event.where), RowFilter(spec.return_event.where)} {
    values_.Intern(kNoValue);  // id 0
  }

  bool one_pass() const { return one_pass_; }
  int words() const { return words_; }
  // Passes: 0 = starts (and, in one pass, returns); 1 = returns.
  void set_pass(int pass) {
    pass_ = pass;
    if (pass == 1) {
      cohort_.assign(size(), -1);
      for (size_t id = 0; id < size(); ++id) {
        if (first(id) != kNoStart) cohort_[id] = buckets_.Of(first(id));
      }
    }
  }
  // Pass 1 on another scan thread: `merged`'s cohorts (after pass 0 was
  // merged into it), and no record of this thread's own yet.
  void StartReturnsFrom(const RetentionState& merged) {
    pass_ = 1;
    people_.clear();
    cohort_ = merged.cohort_;
  }

  // Folds another scan thread's records into this one: the earlier first
  // start (simultaneous ones: the value that sorts first), the later last
  // return, the union of the return bits. Its breakdown values are
  // renumbered into this state's.
  void MergeFrom(const RetentionState& other) {
    std::vector<uint32_t> value_of(other.values_.size());
    for (uint32_t v = 0; v < value_of.size(); ++v) value_of[v] = values_.Intern(other.values_.Name(v));
    for (size_t id = 0; id < other.size(); ++id) {
      const uint64_t* o = other.people_.data() + id * stride_;
      if (static_cast<int64_t>(o[0]) == kNoStart && static_cast<uint32_t>(o[1]) == 0) continue;
      uint64_t* p = Person(static_cast<uint32_t>(id));
      if (static_cast<int64_t>(o[0]) != kNoStart) {
        const uint32_t value = value_of[static_cast<uint32_t>(o[1] >> 32)];
        if (o[0] < p[0] || (o[0] == p[0] && values_.Name(value) <
                                                values_.Name(static_cast<uint32_t>(p[1] >> 32)))) {
          p[0] = o[0];
          p[1] = uint64_t{value} << 32 | (p[1] & 0xffffffff);
        }
      }
      const uint32_t last = std::max(static_cast<uint32_t>(p[1]), static_cast<uint32_t>(o[1]));
      p[1] = (p[1] & ~uint64_t{0xffffffff}) | last;
      for (int w = 0; w < words_; ++w) p[2 + w] |= o[2 + w];
    }
  }

  store::ColumnSet Columns() const {
    store::ColumnSet cols{Column::kTimestamp, Column::kName};
    for (const RowFilter& f : filters_) f.AddColumns(&cols);
    if (spec_.has_breakdown) FieldReader::AddColumns(spec_.breakdown_field, &cols);
    return cols;
  }

  Status Add(const store::ColumnBatch& b) {
    const uint32_t* one_ids = b.one_ids();
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    const uint32_t* names = b.Codes(Column::kName);
    TranslateNames(b.Dictionary(Column::kName));
    for (auto& f : filters_) {
      if (!f.empty()) f.Prepare(b);
    }
    const Field& field = spec_.breakdown_field;
    const bool by_dictionary = spec_.has_breakdown && field.kind == FieldKind::kDictionary;
    const uint32_t* value_codes = nullptr;
    if (by_dictionary && pass_ == 0) {
      value_codes = b.Codes(field.column);
      const auto& dict = b.Dictionary(field.column);
      value_ids_.resize(dict.size());
      for (size_t k = 0; k < dict.size(); ++k) {
        value_ids_[k] = dict[k].empty() ? 0 : values_.Intern(dict[k]);
      }
    }
    constexpr size_t kAhead = 16;  // person records are read at random: fetch ahead
    for (size_t r = 0; r < b.size(); ++r) {
      if (r + kAhead < b.size()) {
        const size_t ahead = static_cast<size_t>(one_ids[r + kAhead]) * stride_;
        if (ahead < people_.size()) __builtin_prefetch(people_.data() + ahead, 1);
      }
      const uint32_t code = names[r];
      uint32_t flags = always_[code];
      if ((flags | conditional_[code]) == 0) continue;  // most events, unless "$any"
      const uint32_t id = one_ids[r];
      if (id == 0) continue;
      for (uint32_t maybe = conditional_[code]; maybe != 0; maybe &= maybe - 1) {
        const int i = std::countr_zero(maybe);
        if (filters_[i].Matches(b, r)) flags |= uint32_t{1} << i;
      }
      if (flags == 0) continue;
      const int64_t t = ts[r];
      uint64_t* person = Person(id);
      if ((flags & kStart) && pass_ == 0 && t <= static_cast<int64_t>(person[0])) {
        uint32_t value = 0;
        if (spec_.has_breakdown) {
          value = by_dictionary ? value_ids_[value_codes[r]]
                                : values_.Intern(reader_.Read(field, b, r).Label());
        }
        // Simultaneous first starts: the value that sorts first.
        if (t < static_cast<int64_t>(person[0]) ||
            values_.Name(value) < values_.Name(static_cast<uint32_t>(person[1] >> 32))) {
          person[0] = static_cast<uint64_t>(t);
          person[1] = uint64_t{value} << 32 | (person[1] & 0xffffffff);
        }
      }
      if ((flags & kReturn) && (one_pass_ || pass_ == 1)) AddReturn(id, person, buckets_.Of(t));
    }
    return Status::OK();
  }

  size_t size() const { return people_.size() / stride_; }
  int64_t first(size_t id) const { return static_cast<int64_t>(people_[id * stride_]); }
  uint32_t value(size_t id) const { return static_cast<uint32_t>(people_[id * stride_ + 1] >> 32); }
  int32_t last_return(size_t id) const {
    return static_cast<int32_t>(static_cast<uint32_t>(people_[id * stride_ + 1])) - 1;
  }
  const uint64_t* bits(size_t id) const { return people_.data() + id * stride_ + 2; }
  const Interner& values() const { return values_; }

 private:
  // The record of person `id`, grown on demand: [0] first start time
  // (kNoStart if none), [1] breakdown value id << 32 | last return bucket
  // index + 1 (0 if none), then words_ bitmap words. One record per person
  // keeps a row's updates in one cache line.
  uint64_t* Person(uint32_t id) {
    if (static_cast<size_t>(id) * stride_ >= people_.size()) {
      const size_t n = std::max<size_t>(id + 1, size() * 2);
      const size_t old = size();
      people_.resize(n * stride_, 0);
      for (size_t i = old; i < n; ++i) people_[i * stride_] = static_cast<uint64_t>(kNoStart);
      if (!cohort_.empty() && cohort_.size() < n) cohort_.resize(n, -1);  // never shrink: pass 1 copies it
    }
    return people_.data() + static_cast<size_t>(id) * stride_;
  }
  // One pass: bit = the bucket's index in the range. Two passes: bit =
  // the period after the person's cohort (only periods 1 .. periods-1).
  void AddReturn(uint32_t id, uint64_t* person, int32_t bucket) {
    const uint32_t last = static_cast<uint32_t>(person[1]);
    if (static_cast<uint32_t>(bucket) + 1 > last) {
      person[1] = (person[1] & ~uint64_t{0xffffffff}) | (static_cast<uint32_t>(bucket) + 1);
    }
    int32_t bit = bucket;
    if (!one_pass_) {
      if (id >= cohort_.size() || cohort_[id] < 0) return;
      bit = bucket - cohort_[id];
      if (bit < 1 || bit >= spec_.periods) return;
    }
    person[2 + bit / 64] |= uint64_t{1} << (bit % 64);
  }
  void TranslateNames(const std::vector<std::string>& dict) {
    always_.assign(dict.size(), 0);
    conditional_.assign(dict.size(), 0);
    const RetentionEvent* events[2] = {&spec_.start_event, &spec_.return_event};
    for (size_t code = 0; code < dict.size(); ++code) {
      for (int i = 0; i < 2; ++i) {
        if (pass_ == 0 && i == 1 && !one_pass_) continue;  // returns come in pass 1
        if (pass_ == 1 && i == 0) continue;
        if (events[i]->event != kAnyEvent && events[i]->event != dict[code]) continue;
        (filters_[i].empty() ? always_ : conditional_)[code] |= uint32_t{1} << i;
      }
    }
  }

  const RetentionSpec& spec_;
  const BucketIndex& buckets_;
  const bool one_pass_;
  const int words_;
  const size_t stride_;
  int pass_ = 0;
  RowFilter filters_[2];  // start, return
  std::vector<uint32_t> always_, conditional_, value_ids_;
  Interner values_;
  FieldReader reader_;
  std::vector<uint64_t, LineAligned<uint64_t>> people_;  // stride_ words per one_id (Person)
  std::vector<int32_t> cohort_;   // two passes: cohort bucket index by one_id, -1 if none
};

// Counts of one group of persons: per cohort, its persons and its retained
// persons per period (unbounded: first as the number of persons whose last
// return is exactly that many periods on, summed into "or later" at the end).
struct RetentionTally {
  std::vector<int64_t> persons;   // [cohort]
  std::vector<int64_t> retained;  // [cohort * periods + n]

  void Ensure(size_t cohorts, size_t periods) {
    if (persons.empty()) {
      persons.assign(cohorts, 0);
      retained.assign(cohorts * periods, 0);
    }
  }
  void Merge(const RetentionTally& o) {
    if (o.persons.empty()) return;
    Ensure(o.persons.size(), o.retained.size() / o.persons.size());
    for (size_t i = 0; i < persons.size(); ++i) persons[i] += o.persons[i];
    for (size_t i = 0; i < retained.size(); ++i) retained[i] += o.retained[i];
  }
};

struct RetentionWorker {
  RetentionTally all;
  std::vector<RetentionTally> by_value;
};

// Counts person `id` (who has a start event) into `tallies`.
void CountPerson(const RetentionState& state, const BucketIndex& buckets, const RetentionSpec& spec,
                 size_t id, RetentionTally* const* tallies, int n_tallies) {
  const int32_t c = buckets.Of(state.first(id));
  const size_t periods = static_cast<size_t>(spec.periods);
  for (int i = 0; i < n_tallies; ++i) {
    ++tallies[i]->persons[c];
    ++tallies[i]->retained[c * periods];  // period 0 is the whole cohort
  }
  if (spec.mode == RetentionMode::kUnbounded) {
    const int64_t last = state.last_return(id) - c;
    if (last < 1) return;
    const size_t n = static_cast<size_t>(std::min<int64_t>(last, spec.periods - 1));
    if (n < 1) return;
    for (int i = 0; i < n_tallies; ++i) ++tallies[i]->retained[c * periods + n];
    return;
  }
  // Classic: the set bits for periods 1 .. periods-1.
  const uint64_t* bits = state.bits(id);
  const int32_t origin = state.one_pass() ? c : 0;  // bit of period 0
  const int32_t lo = origin + 1, hi = origin + spec.periods;
  const int32_t limit = std::min<int32_t>(hi, state.words() * 64);
  for (int32_t w = lo / 64; w * 64 < limit; ++w) {
    uint64_t word = bits[w];
    if (w * 64 < lo) word &= ~uint64_t{0} << (lo - w * 64);
    while (word != 0) {
      const int32_t bit = w * 64 + std::countr_zero(word);
      word &= word - 1;
      if (bit >= hi) break;
      for (int i = 0; i < n_tallies; ++i) ++tallies[i]->retained[c * periods + (bit - origin)];
    }
  }
}

}  // namespace

Result<RetentionResult> ComputeRetention(const RetentionSpec& spec, const QueryContext& ctx) {
  if (spec.periods < 1 || spec.periods > 366) {
    return Status::InvalidArgument("periods must be between 1 and 366");
  }
  const Granularity g = spec.period;
  const TimeZone& tz = spec.timezone;
  const int64_t cells =
      (BucketOf(spec.range.to_us - 1, g, tz) - BucketOf(spec.range.from_us, g, tz) + 1) * spec.periods;
  if (cells > kMaxRetentionCells) {
    return Status::InvalidArgument(
        "period: " + std::to_string(cells / spec.periods) + " cohorts of " +
        std::to_string(spec.periods) + " periods is too large a table (at most " +
        std::to_string(kMaxRetentionCells) +
        " cells): use a longer period, fewer periods or a shorter range");
  }
  const BucketIndex buckets(spec.range, g, tz);
  // One state per scan thread, merged into the first after each pass.
  std::vector<std::unique_ptr<RetentionState>> states;
  for (int w = 0; w < QueryThreads(ctx); ++w) {
    states.push_back(std::make_unique<RetentionState>(spec, buckets));
  }
  RetentionState& state = *states[0];
  for (int pass = 0; pass < (state.one_pass() ? 1 : 2); ++pass) {
    for (auto& s : states) {
      if (pass == 0 || s.get() == &state) {
        s->set_pass(pass);
      } else {
        s->StartReturnsFrom(state);
      }
    }
    RETURN_IF_ERROR(ScanRangeParallel(
        ctx, spec.range, state.Columns(),
        [&states](int w, const store::ColumnBatch& b) { return states[w]->Add(b); }));
    for (size_t w = 1; w < states.size(); ++w) state.MergeFrom(*states[w]);
  }
  states.resize(1);
  const Interner& values = state.values();
  const size_t cohorts = static_cast<size_t>(buckets.size());
  const size_t periods = static_cast<size_t>(spec.periods);

  // Breakdown groups: the kMaxBreakdownValues values with the most
  // persons (then by value), and kOtherValues for the rest.
  std::vector<std::string> group_names;
  std::vector<uint32_t> group_of(values.size(), 0);
  if (spec.has_breakdown) {
    std::vector<int64_t> persons(values.size(), 0);
    for (size_t id = 0; id < state.size(); ++id) {
      if (state.first(id) != kNoStart) ++persons[state.value(id)];
    }
    std::vector<uint32_t> order;
    for (uint32_t v = 0; v < values.size(); ++v) {
      if (persons[v] > 0) order.push_back(v);
    }
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      if (persons[a] != persons[b]) return persons[a] > persons[b];
      return values.Name(a) < values.Name(b);
    });
    for (size_t i = 0; i < order.size(); ++i) {
      group_of[order[i]] = static_cast<uint32_t>(std::min(i, kMaxBreakdownValues));
      if (i <= kMaxBreakdownValues) {
        group_names.push_back(i < kMaxBreakdownValues ? values.Name(order[i]) : std::string(kOtherValues));
      }
    }
  }

  const int threads = std::max(1, std::min<int>(ctx.options.threads,
                                                static_cast<int>(state.size() / 65536 + 1)));
  std::vector<RetentionWorker> workers(threads);
  auto run = [&](int w) {
    RetentionWorker& out = workers[w];
    out.all.Ensure(cohorts, periods);
    out.by_value.resize(group_names.size());
    const size_t b = state.size() * w / threads, e = state.size() * (w + 1) / threads;
    for (size_t id = b; id < e; ++id) {
      if (state.first(id) == kNoStart) continue;
      RetentionTally* tallies[2] = {&out.all, nullptr};
      if (spec.has_breakdown) {
        tallies[1] = &out.by_value[group_of[state.value(id)]];
        tallies[1]->Ensure(cohorts, periods);
      }
      CountPerson(state, buckets, spec, id, tallies, spec.has_breakdown ? 2 : 1);
    }
  };
  {
    std::vector<std::thread> pool;
    for (int w = 1; w < threads; ++w) pool.emplace_back(run, w);
    run(0);
    for (auto& t : pool) t.join();
  }
  RetentionTally all;
  std::vector<RetentionTally> by(group_names.size());
  for (const RetentionWorker& w : workers) {
    all.Merge(w.all);
    for (size_t v = 0; v < w.by_value.size(); ++v) by[v].Merge(w.by_value[v]);
  }
  // Unbounded: persons whose last return is n or more periods on.
  auto or_later = [&](RetentionTally* t) {
    if (spec.mode != RetentionMode::kUnbounded || t->persons.empty()) return;
    for (size_t c = 0; c < cohorts; ++c) {
      for (size_t n = periods - 1; n > 1; --n) t->retained[c * periods + n - 1] += t->retained[c * periods + n];
    }
  };
  or_later(&all);
  for (RetentionTally& t : by) or_later(&t);

  // The rows of a table from its tally.
  auto table_of = [&](const RetentionTally& tally) {
    RetentionTable table;
    table.total.retained.assign(periods, std::nullopt);
    table.total.observed_persons.assign(periods, 0);
    for (size_t c = 0; c < cohorts; ++c) {
      const int64_t bucket = buckets.bucket(static_cast<int32_t>(c));
      RetentionRow row;
      row.cohort = BucketLabel(bucket, g);
      row.persons = tally.persons.empty() ? 0 : tally.persons[c];
      table.total.persons += row.persons;
      for (size_t n = 0; n < periods; ++n) {
        const bool observable =
            n == 0 || BucketStartUs(bucket + static_cast<int64_t>(n), g, tz) < spec.range.to_us;
        if (!observable) {
          row.retained.push_back(std::nullopt);
          row.observed_persons.push_back(0);
          continue;
        }
        const int64_t kept = tally.persons.empty() ? 0 : tally.retained[c * periods + n];
        row.retained.push_back(kept);
        row.observed_persons.push_back(row.persons);
        table.total.retained[n] = table.total.retained[n].value_or(0) + kept;
        table.total.observed_persons[n] += row.persons;
      }
      table.cohorts.push_back(std::move(row));
    }
    return table;
  };

  RetentionResult result;
  result.period = g;
  result.table = table_of(all);
  result.has_breakdown = spec.has_breakdown;
  for (size_t i = 0; i < by.size(); ++i) result.breakdown.push_back({group_names[i], table_of(by[i])});
  return result;
}

namespace {

Json RowJson(const RetentionRow& row, bool total) {
  Json retained = Json::array(), rates = Json::array();
  for (size_t n = 0; n < row.retained.size(); ++n) {
    if (!row.retained[n]) {
      retained.push_back(nullptr);
      rates.push_back(nullptr);
      continue;
    }
    retained.push_back(*row.retained[n]);
    rates.push_back(Ratio(static_cast<double>(*row.retained[n]),
                          static_cast<double>(row.observed_persons[n])));
  }
  Json out = Json::object();
  if (!total) out["cohort"] = row.cohort;
  out["persons"] = row.persons;
  out["retained"] = std::move(retained);
  out["rates"] = std::move(rates);
  return out;
}

void TableJson(const RetentionTable& table, Json* out) {
  Json cohorts = Json::array();
  for (const RetentionRow& row : table.cohorts) cohorts.push_back(RowJson(row, false));
  (*out)["cohorts"] = std::move(cohorts);
  (*out)["total"] = RowJson(table.total, true);
}

Result<RetentionEvent> ParseEvent(const Json& body, const std::string& name,
                                  const QueryContext& ctx) {
  if (!body.contains(name) || !body[name].is_object()) {
    return Status::InvalidArgument(name + " is required: {\"event\": NAME, \"where\": [...]}");
  }
  const Json& j = body[name];
  if (!j.contains("event") || !j["event"].is_string() || j["event"].get<std::string>().empty()) {
    return Status::InvalidArgument(name + ".event must be a non-empty event name (or \"$any\")");
  }
  RetentionEvent e;
  e.event = j["event"].get<std::string>();
  if (e.event != kAnyEvent) RETURN_IF_ERROR(CheckEventName(ctx, e.event, name + ".event"));
  ASSIGN_OR_RETURN(e.where, ParseWhere(j.contains("where") ? j["where"] : Json(), name + ".where"));
  const std::string_view on = e.event == kAnyEvent ? std::string_view() : std::string_view(e.event);
  for (size_t c = 0; c < e.where.size(); ++c) {
    RETURN_IF_ERROR(CheckProperty(ctx, on, e.where[c].field.name,
                                  name + ".where[" + std::to_string(c) + "].property"));
  }
  return e;
}

}  // namespace

Result<RetentionSpec> ParseRetentionSpec(const Json& body, const QueryContext& ctx) {
  RetentionSpec spec;
  ASSIGN_OR_RETURN(spec.timezone, ParseTimeZone(body, ctx.options.timezone));
  ASSIGN_OR_RETURN(spec.range, ParseRange(body, spec.timezone));
  ASSIGN_OR_RETURN(spec.start_event, ParseEvent(body, "start_event", ctx));
  ASSIGN_OR_RETURN(spec.return_event, ParseEvent(body, "return_event", ctx));
  ASSIGN_OR_RETURN(spec.period, ParseGranularity(body, "period", Granularity::kWeek));
  ASSIGN_OR_RETURN(int64_t periods, ParseInt(body, "periods", 8, 1, 366));
  spec.periods = static_cast<int>(periods);
  ASSIGN_OR_RETURN(std::string mode, ParseChoice(body, "mode", {"classic", "unbounded"}));
  spec.mode = mode == "unbounded" ? RetentionMode::kUnbounded : RetentionMode::kClassic;
  if (body.contains("breakdown")) {
    ASSIGN_OR_RETURN(std::string name, ParseString(body, "breakdown", /*required=*/true));
    if (name == "first_touch_channel") {
      return Status::InvalidArgument(
          "breakdown \"first_touch_channel\" is a funnel breakdown: retention breaks down by a "
          "field of the start event, such as \"channel\"");
    }
    RETURN_IF_ERROR(CheckProperty(ctx, "", name, "breakdown"));
    spec.has_breakdown = true;
    spec.breakdown_field = FieldNamed(name);
  }
  return spec;
}

Json ToJson(const RetentionResult& result) {
  Json out = {{"period", std::string(GranularityName(result.period))}};
  TableJson(result.table, &out);
  if (result.has_breakdown) {
    Json rows = Json::array();
    for (const RetentionBreakdownRow& row : result.breakdown) {
      Json r = {{"value", row.value}};
      TableJson(row.table, &r);
      rows.push_back(std::move(r));
    }
    out["breakdown"] = std::move(rows);
  }
  return out;
}

Result<Json> RunRetention(const Json& body, const QueryContext& ctx) {
  ASSIGN_OR_RETURN(RetentionSpec spec, ParseRetentionSpec(body, ctx));
  ASSIGN_OR_RETURN(RetentionResult result, ComputeRetention(spec, ctx));
  return ToJson(result);
}

}  // namespace quanyu::query
