// Trends: one columnar scan of the range; each row is matched to the series
// that want it by its name code (a bitmask per dictionary entry), then
// counted, summed or added to a PersonSet per (series, bucket).
#include "query/trends.h"

#include <algorithm>
#include <bit>
#include <map>
#include <memory>

#include "query/operators.h"

namespace quanyu::query {

// ---- PersonSet ----------------------------------------------------------------

void PersonSet::Densify(Chunk* chunk) {
  chunk->bits = std::make_unique<uint64_t[]>(kWords);  // zeroed
  for (uint16_t low : chunk->list) chunk->bits[low >> 6] |= uint64_t{1} << (low & 63);
  std::vector<uint16_t>().swap(chunk->list);
}

void PersonSet::AddAll(const PersonSet& other) {
  if (chunks_.size() < other.chunks_.size()) chunks_.resize(other.chunks_.size());
  for (size_t c = 0; c < other.chunks_.size(); ++c) {
    const Chunk& from = other.chunks_[c];
    Chunk& to = chunks_[c];
    if (from.bits) {
      if (!to.bits) Densify(&to);
      for (size_t w = 0; w < kWords; ++w) to.bits[w] |= from.bits[w];
    } else if (to.bits) {
      for (uint16_t low : from.list) to.bits[low >> 6] |= uint64_t{1} << (low & 63);
    } else {
      to.list.insert(to.list.end(), from.list.begin(), from.list.end());
      if (to.list.size() >= kListMax) Densify(&to);
    }
  }
}

uint64_t PersonSet::Count() const {
  // Lists are de-duplicated through a scratch bitset that is cleared again
  // bit by bit, so counting costs O(list), not O(chunk).
  thread_local std::vector<uint64_t> scratch(kWords, 0);
  uint64_t n = 0;
  for (const Chunk& chunk : chunks_) {
    if (chunk.bits) {
      for (size_t w = 0; w < kWords; ++w) n += static_cast<uint64_t>(std::popcount(chunk.bits[w]));
      continue;
    }
    for (uint16_t low : chunk.list) {
      const uint64_t bit = uint64_t{1} << (low & 63);
      n += (scratch[low >> 6] & bit) == 0;
      scratch[low >> 6] |= bit;
    }
    for (uint16_t low : chunk.list) scratch[low >> 6] = 0;
  }
  return n;
}

std::string_view TrendsMeasureName(TrendsMeasure m) {
  switch (m) {
    case TrendsMeasure::kCount:
      return "count";
    case TrendsMeasure::kPersons:
      return "persons";
    case TrendsMeasure::kSum:
      return "sum";
    case TrendsMeasure::kAvg:
      return "avg";
  }
  return "count";
}

namespace {

using store::Column;

// What one series accumulates for one bucket, or for the whole range.
struct Cell {
  int64_t events = 0;  // rows counted (count), or rows with a numeric value (sum, avg)
  double sum = 0;
  PersonSet persons;

  void Add(TrendsMeasure m, uint32_t one_id, double x) {
    if (m == TrendsMeasure::kPersons) {
      persons.Add(one_id);
      return;
    }
    ++events;
    sum += x;
  }
  void Merge(const Cell& o) {
    events += o.events;
    sum += o.sum;
    persons.AddAll(o.persons);
  }
  std::optional<double> Value(TrendsMeasure m) {
    switch (m) {
      case TrendsMeasure::kCount:
        return static_cast<double>(events);
      case TrendsMeasure::kPersons:
        return static_cast<double>(persons.Count());
      case TrendsMeasure::kSum:
        return sum;
      case TrendsMeasure::kAvg:
        if (events == 0) return std::nullopt;
        return sum / static_cast<double>(events);
    }
    return std::nullopt;
  }
  // What breakdown values are ranked by.
  double Weight(TrendsMeasure m) {
    if (m == TrendsMeasure::kAvg) return static_cast<double>(events);
    return Value(m).value_or(0);
  }
};

// The cells of a series, or of one breakdown value of it. For persons only
// the buckets collect sets during the scan; the total's set is their union,
// made once at the end (FinishTotal) instead of a second Add per row.
struct Cells {
  explicit Cells(size_t buckets) : buckets(buckets) {}
  void Add(TrendsMeasure m, size_t bucket, uint32_t one_id, double x) {
    buckets[bucket].Add(m, one_id, x);
    if (m != TrendsMeasure::kPersons) total.Add(m, one_id, x);
  }
  // (A finished total's persons are already the union of its buckets;
  // merging it again changes nothing.)
  void Merge(const Cells& o) {
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i].Merge(o.buckets[i]);
    total.Merge(o.total);
  }
  void FinishTotal(TrendsMeasure m) {
    if (m != TrendsMeasure::kPersons || finished_) return;
    for (const Cell& c : buckets) total.persons.AddAll(c.persons);
    finished_ = true;
  }
  TrendsValues Values(TrendsMeasure m) {
    FinishTotal(m);
    TrendsValues v;
    for (Cell& c : buckets) v.values.push_back(c.Value(m));
    v.total = total.Value(m);
    return v;
  }

  std::vector<Cell> buckets;
  Cell total;

 private:
  bool finished_ = false;
};

// Maps an event time to its bucket's index, remembering the last bucket's
// bounds (rows of a batch come in time order, so this rarely recomputes).
class BucketCursor {
 public:
  explicit BucketCursor(const TrendsSpec& spec)
      : spec_(spec), first_(BucketOf(spec.range.from_us, spec.interval, spec.timezone)) {}
  size_t Index(int64_t ts) {
    if (ts < start_ || ts >= end_) {
      const int64_t b = BucketOf(ts, spec_.interval, spec_.timezone);
      start_ = BucketStartUs(b, spec_.interval, spec_.timezone);
      end_ = BucketStartUs(b + 1, spec_.interval, spec_.timezone);
      index_ = static_cast<size_t>(b - first_);
    }
    return index_;
  }

 private:
  const TrendsSpec& spec_;
  int64_t first_;
  int64_t start_ = 0, end_ = 0;
  size_t index_ = 0;
};

class TrendsScan {
 public:
  TrendsScan(const TrendsSpec& spec, size_t buckets) : spec_(spec), buckets_(buckets) {
    for (size_t i = 0; i < spec.series.size(); ++i) {
      const auto& s = spec.series[i];
      series_.push_back({s.measure, s.property, RowFilter(s.where), Cells(buckets), {}});
      if (s.measure == TrendsMeasure::kCount && s.where.empty() && !spec.breakdown) {
        plain_mask_ |= uint32_t{1} << i;
      }
    }
  }

  store::ColumnSet Columns() const {
    store::ColumnSet cols{Column::kTimestamp, Column::kName};
    for (const auto& s : series_) {
      s.filter.AddColumns(&cols);
      if (s.property) FieldReader::AddColumns(*s.property, &cols);
    }
    if (spec_.breakdown) FieldReader::AddColumns(*spec_.breakdown, &cols);
    return cols;
  }

  Status OnBatch(const store::ColumnBatch& b) {
    TranslateNames(b);
    if (!any_series_) return Status::OK();
    for (auto& s : series_) s.filter.Prepare(b);
    if (spec_.breakdown && spec_.breakdown->kind == FieldKind::kDictionary) {
      const auto& dict = b.Dictionary(spec_.breakdown->column);
      value_ids_.resize(dict.size());
      for (size_t k = 0; k < dict.size(); ++k) {
        value_ids_[k] = ValueId(dict[k].empty() ? "(none)" : dict[k]);
      }
    }
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    const uint32_t* names = b.Codes(Column::kName);
    const uint32_t* one_ids = b.one_ids();  // nullptr when no series counts persons
    BucketCursor cursor(spec_);
    size_t run_bucket = 0;  // the bucket run_counts_ are for
    for (size_t r = 0; r < b.size(); ++r) {
      const uint32_t code = names[r];
      uint32_t mask = masks_[code];
      if (mask == 0 && plain_masks_[code] == 0) continue;
      const size_t bucket = cursor.Index(ts[r]);
      if (plain_masks_[code] != 0) {
        if (bucket != run_bucket) {
          FlushPlainCounts(run_bucket);
          run_bucket = bucket;
        }
        ++run_counts_[code];
      }
      if (mask == 0) continue;
      const uint32_t one_id = one_ids != nullptr ? one_ids[r] : 0;
      int64_t value = -1;  // breakdown value id, read when first needed
      for (; mask != 0; mask &= mask - 1) {
        Series& s = series_[static_cast<size_t>(std::countr_zero(mask))];
        if (s.measure == TrendsMeasure::kPersons && one_id == 0) continue;
        if (!s.filter.empty() && !s.filter.Matches(b, r)) continue;
        double x = 0;
        if (s.property) {
          std::optional<double> v = NumberOf(*s.property, b, r);
          if (!v) continue;
          x = *v;
        }
        s.all.Add(s.measure, bucket, one_id, x);
        if (!spec_.breakdown) continue;
        if (value < 0) value = BreakdownValueOf(b, r);
        s.ValueCells(static_cast<size_t>(value), buckets_).Add(s.measure, bucket, one_id, x);
      }
    }
    FlushPlainCounts(run_bucket);
    return Status::OK();
  }

  // Folds in what another scan thread counted (same spec and buckets):
  // cells add up and person sets unite; its breakdown values are renumbered
  // into this scan's.
  void MergeFrom(const TrendsScan& other) {
    std::vector<uint32_t> value_of(other.value_names_.size());
    for (size_t v = 0; v < value_of.size(); ++v) value_of[v] = ValueId(other.value_names_[v]);
    for (size_t i = 0; i < series_.size(); ++i) {
      Series& mine = series_[i];
      const Series& theirs = other.series_[i];
      mine.all.Merge(theirs.all);
      for (size_t v = 0; v < theirs.by_value.size(); ++v) {
        if (!theirs.by_value[v]) continue;
        const size_t to = v < value_of.size() ? value_of[v] : kMaxTrendsBreakdownValues;
        mine.ValueCells(to, buckets_).Merge(*theirs.by_value[v]);
      }
    }
  }

  // Whether some series counts persons (the scan then resolves one_ids).
  bool NeedsPersons() const {
    for (const auto& s : spec_.series) {
      if (s.measure == TrendsMeasure::kPersons) return true;
    }
    return false;
  }

  std::vector<TrendsSeriesResult> Finish() {
    std::vector<TrendsSeriesResult> out;
    for (Series& s : series_) {
      TrendsSeriesResult r;
      r.values = s.all.Values(s.measure);
      if (spec_.breakdown) r.breakdown = Breakdown(s);
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  struct Series {
    TrendsMeasure measure;
    std::optional<Field> property;
    RowFilter filter;
    Cells all;
    std::vector<std::unique_ptr<Cells>> by_value;  // by breakdown value id

    Cells& ValueCells(size_t value, size_t buckets) {
      if (value >= by_value.size()) by_value.resize(value + 1);
      if (!by_value[value]) by_value[value] = std::make_unique<Cells>(buckets);
      return *by_value[value];
    }
  };

  // masks_[code] (plain_masks_[code]): bit s set when series s wants events
  // with that name code.
  void TranslateNames(const store::ColumnBatch& b) {
    const auto& dict = b.Dictionary(Column::kName);
    masks_.assign(dict.size(), 0);
    plain_masks_.assign(dict.size(), 0);
    run_counts_.assign(dict.size(), 0);
    any_series_ = false;
    for (size_t s = 0; s < spec_.series.size(); ++s) {
      const std::string& event = spec_.series[s].event;
      const uint32_t bit = uint32_t{1} << s;
      for (size_t k = 0; k < dict.size(); ++k) {
        if (event != kAnyEvent && dict[k] != event) continue;
        (plain_mask_ & bit ? plain_masks_ : masks_)[k] |= bit;
        any_series_ = true;
      }
    }
  }

  // Adds the rows counted in run_counts_ (all in `bucket`) to the plain
  // count series and resets the counters.
  void FlushPlainCounts(size_t bucket) {
    for (size_t k = 0; k < run_counts_.size(); ++k) {
      const int64_t n = run_counts_[k];
      if (n == 0) continue;
      for (uint32_t mask = plain_masks_[k]; mask != 0; mask &= mask - 1) {
        Cells& cells = series_[static_cast<size_t>(std::countr_zero(mask))].all;
        cells.buckets[bucket].events += n;
        cells.total.events += n;
      }
      run_counts_[k] = 0;
    }
  }

  std::optional<double> NumberOf(const Field& f, const store::ColumnBatch& b, size_t row) {
    if (f.kind == FieldKind::kNumber) return b.Doubles(f.column)[row];
    const Value v = reader_.Read(f, b, row);
    if (v.kind != Value::kNumber) return std::nullopt;
    return v.number;
  }

  uint32_t BreakdownValueOf(const store::ColumnBatch& b, size_t row) {
    const Field& f = *spec_.breakdown;
    if (f.kind == FieldKind::kDictionary) return value_ids_[b.Codes(f.column)[row]];
    return ValueId(reader_.Read(f, b, row).Label());
  }

  // The id of a breakdown label; kMaxTrendsBreakdownValues (the overflow)
  // for labels first met after that many others.
  uint32_t ValueId(std::string_view label) {
    auto it = value_index_.find(label);
    if (it != value_index_.end()) return it->second;
    if (value_names_.size() >= kMaxTrendsBreakdownValues) return kMaxTrendsBreakdownValues;
    const auto id = static_cast<uint32_t>(value_names_.size());
    value_names_.emplace_back(label);
    value_index_.emplace(std::string(label), id);
    return id;
  }

  // The top breakdown_limit values by weight, then "(other)" for the rest
  // (and for the overflow).
  std::vector<TrendsBreakdownValue> Breakdown(Series& s) {
    struct Ranked {
      double weight;
      size_t value;
    };
    std::vector<Ranked> ranked;
    Cells other(buckets_);
    bool any_other = false;
    for (size_t v = 0; v < s.by_value.size(); ++v) {
      if (!s.by_value[v]) continue;
      if (v == kMaxTrendsBreakdownValues) {
        other.Merge(*s.by_value[v]);
        any_other = true;
        continue;
      }
      Cells& cells = *s.by_value[v];
      cells.FinishTotal(s.measure);
      ranked.push_back({cells.total.Weight(s.measure), v});
    }
    std::sort(ranked.begin(), ranked.end(), [&](const Ranked& a, const Ranked& b) {
      if (a.weight != b.weight) return a.weight > b.weight;
      return value_names_[a.value] < value_names_[b.value];
    });
    std::vector<TrendsBreakdownValue> out;
    for (size_t i = 0; i < ranked.size(); ++i) {
      Cells& cells = *s.by_value[ranked[i].value];
      if (static_cast<int64_t>(i) < spec_.breakdown_limit) {
        out.push_back({value_names_[ranked[i].value], cells.Values(s.measure)});
      } else {
        other.Merge(cells);
        any_other = true;
      }
    }
    if (any_other) out.push_back({"(other)", other.Values(s.measure)});
    return out;
  }

  const TrendsSpec& spec_;
  const size_t buckets_;
  std::vector<Series> series_;
  std::vector<uint32_t> masks_;
  // Plain counts (measure count of a named event, no where, no breakdown)
  // need no per-row work beyond a counter per name code: plain_masks_[code]
  // names those series, run_counts_[code] counts rows of the current bucket.
  uint32_t plain_mask_ = 0;
  std::vector<uint32_t> plain_masks_;
  std::vector<int64_t> run_counts_;
  bool any_series_ = false;  // some series can match a row of this batch
  // Breakdown labels by id, at most kMaxTrendsBreakdownValues of them.
  std::map<std::string, uint32_t, std::less<>> value_index_;
  std::vector<std::string> value_names_;
  std::vector<uint32_t> value_ids_;  // dictionary code -> breakdown value id, per batch
  FieldReader reader_;
};

Status Bad(std::string message) { return Status::InvalidArgument(std::move(message)); }

// The error of `s`, its message prefixed with `at`.
Status Prefixed(const Status& s, const std::string& at) {
  return Status::InvalidArgument(at + "." + s.message());
}

Result<TrendsSeriesSpec> ParseSeries(const Json& j, size_t i, const QueryContext& ctx) {
  const std::string at = "series[" + std::to_string(i) + "]";
  if (!j.is_object()) return Bad(at + " must be an object {event, measure, property, where}");
  TrendsSeriesSpec s;
  auto event = ParseString(j, "event", /*required=*/true);
  if (!event.ok()) return Prefixed(event.status(), at);
  s.event = *event;
  if (s.event != kAnyEvent) RETURN_IF_ERROR(CheckEventName(ctx, s.event, at + ".event"));
  const std::string event_for_checks = s.event == kAnyEvent ? "" : s.event;
  auto measure = ParseChoice(j, "measure", {"count", "persons", "sum", "avg"});
  if (!measure.ok()) return Prefixed(measure.status(), at);
  s.measure = *measure == "persons" ? TrendsMeasure::kPersons
              : *measure == "sum"   ? TrendsMeasure::kSum
              : *measure == "avg"   ? TrendsMeasure::kAvg
                                    : TrendsMeasure::kCount;
  if (s.measure == TrendsMeasure::kSum || s.measure == TrendsMeasure::kAvg) {
    if (!j.contains("property")) {
      return Bad(at + ".property is required for measure \"" + *measure +
                 "\" (a numeric field such as \"revenue\" or a property name)");
    }
    auto property = ParseString(j, "property", /*required=*/true);
    if (!property.ok()) return Prefixed(property.status(), at);
    Field f = FieldNamed(*property);
    if (f.kind != FieldKind::kNumber && f.kind != FieldKind::kProperty) {
      return Bad(at + ".property \"" + *property +
                 "\" is not numeric: use revenue, value, quantity or a numeric property");
    }
    RETURN_IF_ERROR(CheckProperty(ctx, event_for_checks, *property, at + ".property"));
    s.property = std::move(f);
  }
  ASSIGN_OR_RETURN(s.where, ParseWhere(j.contains("where") ? j["where"] : Json(), at + ".where"));
  for (size_t k = 0; k < s.where.size(); ++k) {
    RETURN_IF_ERROR(CheckProperty(ctx, event_for_checks, s.where[k].field.name,
                                  at + ".where[" + std::to_string(k) + "].property"));
  }
  return s;
}

int64_t BucketCount(const TrendsSpec& spec) {
  return BucketOf(spec.range.to_us - 1, spec.interval, spec.timezone) -
         BucketOf(spec.range.from_us, spec.interval, spec.timezone) + 1;
}

}  // namespace

Result<TrendsSpec> ParseTrendsSpec(const Json& body, const QueryContext& ctx) {
  TrendsSpec spec;
  ASSIGN_OR_RETURN(spec.timezone, ParseTimeZone(body, ctx.options.timezone));
  ASSIGN_OR_RETURN(spec.range, ParseRange(body, spec.timezone));
  ASSIGN_OR_RETURN(spec.interval, ParseGranularity(body, "interval", Granularity::kDay));
  if (BucketCount(spec) > kMaxTrendsBuckets) {
    return Bad("the range has " + std::to_string(BucketCount(spec)) + " " +
               std::string(GranularityName(spec.interval)) + " buckets; at most " +
               std::to_string(kMaxTrendsBuckets) + " are allowed: use a coarser interval");
  }
  if (!body.contains("series") || !body["series"].is_array() || body["series"].empty() ||
      body["series"].size() > kMaxTrendsSeries) {
    return Bad("series must be an array of 1 to " + std::to_string(kMaxTrendsSeries) +
               " series such as {\"event\": \"Order Completed\", \"measure\": \"count\"}");
  }
  for (size_t i = 0; i < body["series"].size(); ++i) {
    ASSIGN_OR_RETURN(auto s, ParseSeries(body["series"][i], i, ctx));
    spec.series.push_back(std::move(s));
  }
  if (body.contains("breakdown")) {
    ASSIGN_OR_RETURN(std::string name, ParseString(body, "breakdown", /*required=*/true));
    RETURN_IF_ERROR(CheckProperty(ctx, "", name, "breakdown"));
    spec.breakdown = FieldNamed(name);
  }
  ASSIGN_OR_RETURN(spec.breakdown_limit, ParseInt(body, "breakdown_limit", 25, 1, 1000));
  return spec;
}

Result<TrendsResult> ComputeTrends(const TrendsSpec& spec, const QueryContext& ctx) {
  TrendsResult result;
  result.spec = spec;
  const int64_t first = BucketOf(spec.range.from_us, spec.interval, spec.timezone);
  const auto buckets = static_cast<size_t>(BucketCount(spec));
  for (size_t i = 0; i < buckets; ++i) {
    result.buckets.push_back(BucketLabel(first + static_cast<int64_t>(i), spec.interval));
  }
  // One TrendsScan per scan thread, merged into the first.
  std::vector<std::unique_ptr<TrendsScan>> scans;
  for (int w = 0; w < QueryThreads(ctx); ++w) {
    scans.push_back(std::make_unique<TrendsScan>(result.spec, buckets));
  }
  TrendsScan& scan = *scans[0];
  // Without a persons measure nothing needs one_ids: skip resolving them.
  store::ScanRequest request;
  request.from_us = spec.range.from_us;
  request.to_us = spec.range.to_us;
  request.columns = scan.Columns();
  request.one_ids = scan.NeedsPersons() ? ctx.one_ids : nullptr;
  RETURN_IF_ERROR(ctx.store->ScanColumnsParallel(
      request, QueryThreads(ctx),
      [&scans](int w, const store::ColumnBatch& b) { return scans[w]->OnBatch(b); }));
  for (size_t w = 1; w < scans.size(); ++w) scan.MergeFrom(*scans[w]);
  result.series = scan.Finish();
  return result;
}

namespace {

Json NumberJson(TrendsMeasure m, const std::optional<double>& v) {
  if (m == TrendsMeasure::kCount || m == TrendsMeasure::kPersons) {
    return static_cast<int64_t>(v.value_or(0));
  }
  return Amount(v);
}

void ValuesJson(TrendsMeasure m, const TrendsValues& v, Json* out) {
  Json values = Json::array();
  for (const auto& x : v.values) values.push_back(NumberJson(m, x));
  (*out)["values"] = std::move(values);
  (*out)["total"] = NumberJson(m, v.total);
}

}  // namespace

Json ToJson(const TrendsResult& result) {
  const TrendsSpec& spec = result.spec;
  Json series = Json::array();
  for (size_t i = 0; i < result.series.size(); ++i) {
    const TrendsSeriesSpec& s = spec.series[i];
    const TrendsSeriesResult& r = result.series[i];
    Json j = {{"event", s.event}, {"measure", TrendsMeasureName(s.measure)}};
    if (s.property) j["property"] = s.property->name;
    ValuesJson(s.measure, r.values, &j);
    if (spec.breakdown) {
      Json breakdown = Json::array();
      for (const auto& v : r.breakdown) {
        Json b = {{"value", v.value}};
        ValuesJson(s.measure, v.values, &b);
        breakdown.push_back(std::move(b));
      }
      j["breakdown"] = std::move(breakdown);
    }
    series.push_back(std::move(j));
  }
  Json out = {{"interval", GranularityName(spec.interval)},
              {"buckets", result.buckets},
              {"series", std::move(series)}};
  if (spec.breakdown) out["breakdown"] = spec.breakdown->name;
  return out;
}

Result<Json> RunTrends(const Json& body, const QueryContext& ctx) {
  ASSIGN_OR_RETURN(TrendsSpec spec, ParseTrendsSpec(body, ctx));
  ASSIGN_OR_RETURN(TrendsResult result, ComputeTrends(spec, ctx));
  return ToJson(result);
}

}  // namespace quanyu::query
