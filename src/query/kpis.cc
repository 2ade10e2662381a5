// KPIs: the history scan (before `from`) counts each person's earlier
// conversions and finds their first channel; the range scan fills the groups
// and finishes the per-person state; spend rows are added per group; new
// customers, repurchase and LTV are read off the per-person state at the end.
#include "query/kpis.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <tuple>
#include <unordered_map>

#include "common/time_util.h"
#include "query/filter.h"
#include "query/operators.h"
#include "query/paths.h"
#include "query/trends.h"

namespace quanyu::query {

std::string_view KpiDimensionName(KpiDimension d) {
  switch (d) {
    case KpiDimension::kChannel:
      return "channel";
    case KpiDimension::kCampaign:
      return "campaign";
    case KpiDimension::kDay:
      return "day";
  }
  return "channel";
}

std::optional<double> NpsCounts::Score() const {
  if (responses() == 0) return std::nullopt;
  return 100.0 * static_cast<double>(promoters - detractors) / static_cast<double>(responses());
}

namespace {

using store::Column;

constexpr int64_t kNever = INT64_MAX;
constexpr uint16_t kNoDay = UINT16_MAX;
constexpr std::string_view kNone = "(none)";
// Channel and campaign label ids are packed into 22 bits of a group key.
constexpr size_t kMaxLabels = size_t{1} << 22;

// What the query knows about a buyer. Every person's
// first channel is kept apart (KpisScan::NoteChannel): it is checked on every
// row, so it lives in small dense arrays of its own.
struct PersonState {
  int64_t first_conversion_us = kNever;   // over all history before `to`
  uint32_t first_conversion_channel = 0;  // label ids; only for a first conversion in range
  uint32_t first_conversion_campaign = 0;
  uint32_t conversions = 0;  // before `to`
  double revenue = 0;        // of those conversions
};

struct Group {
  uint32_t channel = 0, campaign = 0;  // label ids (0 = not grouped by it)
  int64_t day = 0;                     // local day number (if grouped by day)
  KpiMetrics metrics;
  PersonSet reached, converting;
};

class KpisScan {
 public:
  explicit KpisScan(const KpisSpec& spec) : spec_(spec) {
    labels_.Intern("");  // id 0: the dimension is not grouped by
    none_ = labels_.Intern(kNone);
    for (KpiDimension d : spec.group_by) {
      by_channel_ |= d == KpiDimension::kChannel;
      by_campaign_ |= d == KpiDimension::kCampaign;
      by_day_ |= d == KpiDimension::kDay;
    }
  }

  store::ColumnSet HistoryColumns() const {
    return {Column::kTimestamp, Column::kType, Column::kName, Column::kChannel, Column::kRevenue};
  }
  store::ColumnSet RangeColumns() const {
    store::ColumnSet cols{Column::kTimestamp, Column::kType,         Column::kName,
                          Column::kChannel,   Column::kCampaignName, Column::kRevenue};
    FieldReader::AddColumns(spec_.nps_property, &cols);
    return cols;
  }

  // A batch of events before the range.
  Status OnHistory(const store::ColumnBatch& b) {
    Translate(b, /*with_campaigns=*/false);
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    const uint32_t* names = b.Codes(Column::kName);
    const uint32_t* channels = b.Codes(Column::kChannel);
    const std::optional<double>* revenue = b.Doubles(Column::kRevenue);
    const uint32_t* one_ids = b.one_ids();
    const uint8_t* types = b.Types();
    for (size_t r = 0; r < b.size(); ++r) {
      if (one_ids[r] == 0) continue;
      if (IsJourneyEventType(static_cast<EventType>(types[r]))) {
        NoteChannel(one_ids[r], ts[r], channel_ids_[channels[r]]);
      }
      if (name_kinds_[names[r]] != kConversion) continue;
      PersonState& p = Person(one_ids[r]);
      ++p.conversions;
      p.revenue += revenue[r].value_or(0);
      p.first_conversion_us = std::min(p.first_conversion_us, ts[r]);
    }
    return Status::OK();
  }

  // A batch of events in the range.
  Status OnRange(const store::ColumnBatch& b) {
    Translate(b, /*with_campaigns=*/true);
    if (labels_.size() >= kMaxLabels) {
      return Status::InvalidArgument("too many distinct channels and campaigns (over " +
                                     std::to_string(kMaxLabels) + ") to group by");
    }
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    const uint32_t* names = b.Codes(Column::kName);
    const uint32_t* channels = b.Codes(Column::kChannel);
    const uint32_t* campaigns = b.Codes(Column::kCampaignName);
    const std::optional<double>* revenue = b.Doubles(Column::kRevenue);
    const uint32_t* one_ids = b.one_ids();
    const uint8_t* types = b.Types();
    for (size_t r = 0; r < b.size(); ++r) {
      const NameKind kind = static_cast<NameKind>(name_kinds_[names[r]]);
      const bool journey = IsJourneyEventType(static_cast<EventType>(types[r]));
      if (!journey && kind == kOther) continue;
      const uint32_t channel = channel_ids_[channels[r]], campaign = campaign_ids_[campaigns[r]];
      Group& g = GroupOf(channel, campaign, ts[r]);
      const uint32_t one_id = one_ids[r];
      if (one_id != 0 && journey) {
        NoteChannel(one_id, ts[r], channel);
        g.reached.Add(one_id);
      }
      if (kind == kConversion) {
        const double rev = revenue[r].value_or(0);
        ++g.metrics.conversions;
        g.metrics.revenue += rev;
        if (one_id != 0) {
          PersonState* p = &Person(one_id);
          g.converting.Add(one_id);
          ++p->conversions;
          p->revenue += rev;
          NoteFirstConversion(p, ts[r], channel, campaign);
        }
      } else if (kind == kNps) {
        CountNps(reader_.Read(spec_.nps_property, b, r), &g.metrics.nps);
      }
    }
    return Status::OK();
  }

  // Adds the spend rows of the range's local days.
  Status AddSpend(const store::SpendStore& spend) {
    const TimeZone& tz = spec_.timezone;
    const std::string first =
        BucketLabel(BucketOf(spec_.range.from_us, Granularity::kDay, tz), Granularity::kDay);
    const std::string last =
        BucketLabel(BucketOf(spec_.range.to_us - 1, Granularity::kDay, tz), Granularity::kDay);
    ASSIGN_OR_RETURN(std::vector<store::SpendRow> rows, spend.List(first, last));
    for (const auto& row : rows) {
      ASSIGN_OR_RETURN(int64_t day_start, ParseTimestamp(row.date));
      const uint32_t channel = labels_.Intern(row.channel.empty() ? kNone : row.channel);
      const uint32_t campaign = labels_.Intern(row.campaign.empty() ? kNone : row.campaign);
      Group& g = GroupOfDay(channel, campaign, DayOf(day_start));
      AddSpendRow(row, &g.metrics);
      AddSpendRow(row, &total_);
    }
    for (Group& g : groups_) InitSpend(&g.metrics);
    InitSpend(&total_);
    return Status::OK();
  }

  KpisResult Finish() {
    KpisResult result;
    result.spec = spec_;
    std::map<std::pair<uint32_t, int64_t>, LtvRow> ltv;  // (acquisition channel, cohort bucket)
    for (size_t b = 0; b < buyers_.size(); ++b) {
      const PersonState& p = buyers_[b];
      const uint32_t id = buyer_ids_[b];
      if (p.first_conversion_us < spec_.range.from_us || p.first_conversion_us == kNever) continue;
      ++GroupOf(p.first_conversion_channel, p.first_conversion_campaign, p.first_conversion_us)
            .metrics.new_customers;
      ++total_.new_customers;
      const int64_t cohort = BucketOf(p.first_conversion_us, spec_.cohort_period, spec_.timezone);
      const uint32_t first_channel = id < first_channel_.size() ? first_channel_[id] : 0;
      LtvRow& row = ltv[{first_channel, cohort}];
      if (row.customers == 0) {
        row.acquisition_channel =
            first_channel == 0 ? std::string(kNone) : labels_.Name(first_channel);
        row.cohort = BucketLabel(cohort, spec_.cohort_period);
      }
      ++row.customers;
      row.revenue += p.revenue;
    }
    for (auto& [key, row] : ltv) result.ltv.push_back(std::move(row));
    std::sort(result.ltv.begin(), result.ltv.end(), [](const LtvRow& a, const LtvRow& b) {
      return std::tie(a.acquisition_channel, a.cohort) < std::tie(b.acquisition_channel, b.cohort);
    });

    PersonSet reached, converting;  // over all groups
    for (Group& g : groups_) {
      reached.AddAll(g.reached);
      converting.AddAll(g.converting);
      FinishPersons(g.reached, g.converting, &g.metrics);
      total_.conversions += g.metrics.conversions;
      total_.revenue += g.metrics.revenue;
      AddNps(g.metrics.nps, &total_.nps);
      KpiRow row;
      if (by_channel_) row.channel = labels_.Name(g.channel);
      if (by_campaign_) row.campaign = labels_.Name(g.campaign);
      if (by_day_) row.day = BucketLabel(g.day, Granularity::kDay);
      row.metrics = g.metrics;
      result.rows.push_back(std::move(row));
    }
    FinishPersons(reached, converting, &total_);
    result.total = total_;
    auto key = [&](const KpiRow& r) {
      std::vector<const std::string*> k;
      for (KpiDimension d : spec_.group_by) {
        k.push_back(d == KpiDimension::kChannel    ? &r.channel
                    : d == KpiDimension::kCampaign ? &r.campaign
                                                   : &r.day);
      }
      return k;
    };
    std::sort(result.rows.begin(), result.rows.end(), [&](const KpiRow& a, const KpiRow& b) {
      const auto ka = key(a), kb = key(b);
      return std::lexicographical_compare(
          ka.begin(), ka.end(), kb.begin(), kb.end(),
          [](const std::string* x, const std::string* y) { return *x < *y; });
    });
    return result;
  }

 private:
  enum NameKind : uint8_t { kOther, kConversion, kNps };

  void Translate(const store::ColumnBatch& b, bool with_campaigns) {
    const auto& names = b.Dictionary(Column::kName);
    name_kinds_.assign(names.size(), kOther);
    for (size_t k = 0; k < names.size(); ++k) {
      if (names[k] == spec_.conversion_event) {
        name_kinds_[k] = kConversion;
      } else if (names[k] == spec_.nps_event) {
        name_kinds_[k] = kNps;
      }
    }
    const auto& channels = b.Dictionary(Column::kChannel);
    channel_ids_.resize(channels.size());
    for (size_t k = 0; k < channels.size(); ++k) {
      channel_ids_[k] = channels[k].empty() ? 0 : labels_.Intern(channels[k]);
    }
    if (!with_campaigns) return;
    const auto& campaigns = b.Dictionary(Column::kCampaignName);
    campaign_ids_.resize(campaigns.size());
    for (size_t k = 0; k < campaigns.size(); ++k) {
      campaign_ids_[k] = labels_.Intern(campaigns[k].empty() ? kNone : campaigns[k]);
    }
  }

  // The state of a buyer; buyers are a small share of persons, so their
  // state is dense by first conversion and reached through buyer_of_.
  PersonState& Person(uint32_t one_id) {
    if (one_id >= buyer_of_.size())
      buyer_of_.resize(std::max<size_t>(one_id + 1, buyer_of_.size() * 3 / 2));
    uint32_t& index = buyer_of_[one_id];
    if (index == 0) {
      buyers_.emplace_back();
      buyer_ids_.push_back(one_id);
      index = static_cast<uint32_t>(buyers_.size());
    }
    return buyers_[index - 1];
  }

  // Label id 0 is both "no channel" and "not grouped": the group and the
  // acquisition channel show it as "(none)".
  //
  // Called for every journey row, so the common case — a touch on a later
  // day than the person's first — is decided from first_day_ (2 bytes per
  // person, cache-resident) without touching the larger arrays.
  void NoteChannel(uint32_t one_id, int64_t ts, uint32_t channel) {
    if (channel == 0) return;
    if (one_id >= first_day_.size()) {
      const size_t n = std::max<size_t>(one_id + 1, first_day_.size() * 3 / 2);
      first_day_.resize(n, kNoDay);
      first_channel_us_.resize(n, kNever);
      first_channel_.resize(n, 0);
    }
    // UTC days since 1970, clamped below kNoDay (so a person without a first
    // touch never takes the shortcut; equal days take the exact path).
    const auto day = static_cast<uint16_t>(std::clamp<int64_t>(DayOf(ts), 0, kNoDay - 1));
    if (day > first_day_[one_id]) return;
    int64_t& first_us = first_channel_us_[one_id];
    if (ts > first_us) return;  // the common case: a later touch
    if (ts < first_us || labels_.Name(channel) < labels_.Name(first_channel_[one_id])) {
      first_us = ts;
      first_channel_[one_id] = channel;
      first_day_[one_id] = day;
    }
  }

  // Ties (two conversions at the same microsecond) go to the smaller
  // (channel, campaign), so the answer does not depend on scan order.
  void NoteFirstConversion(PersonState* p, int64_t ts, uint32_t channel, uint32_t campaign) {
    if (ts > p->first_conversion_us) return;
    if (ts == p->first_conversion_us &&
        std::tie(labels_.Name(p->first_conversion_channel),
                 labels_.Name(p->first_conversion_campaign)) <=
            std::tie(labels_.Name(channel), labels_.Name(campaign))) {
      return;
    }
    p->first_conversion_us = ts;
    p->first_conversion_channel = channel;
    p->first_conversion_campaign = campaign;
  }

  Group& GroupOf(uint32_t channel, uint32_t campaign, int64_t ts) {
    return GroupOfDay(channel, campaign, by_day_ ? DayOf(ts + spec_.timezone.offset_us) : 0);
  }

  Group& GroupOfDay(uint32_t channel, uint32_t campaign, int64_t day) {
    if (!by_channel_) channel = 0;
    if (!by_campaign_) campaign = 0;
    if (!by_day_) day = 0;
    if (by_channel_ && channel == 0) channel = none_;
    // Label ids are below kMaxLabels (OnRange checks); a day is unique in
    // its low 20 bits over any range shorter than 2,800 years.
    const uint64_t key =
        uint64_t{channel} << 42 | uint64_t{campaign} << 20 | (static_cast<uint64_t>(day) & 0xFFFFF);
    Cached& c = cache_[(key * 0x9E3779B97F4A7C15ULL) >> 56];
    if (c.group != UINT32_MAX && c.key == key) return groups_[c.group];
    auto [it, added] = group_index_.try_emplace(key, static_cast<uint32_t>(groups_.size()));
    if (added) {
      Group g;
      g.channel = channel;
      g.campaign = campaign;
      g.day = day;
      groups_.push_back(std::move(g));
    }
    c = {key, it->second};
    return groups_[it->second];
  }

  static void CountNps(const Value& v, NpsCounts* nps) {
    if (v.kind != Value::kNumber || v.number < 0 || v.number > 10 ||
        v.number != std::floor(v.number)) {
      ++nps->invalid;
    } else if (v.number >= 9) {
      ++nps->promoters;
    } else if (v.number >= 7) {
      ++nps->passives;
    } else {
      ++nps->detractors;
    }
  }
  static void AddNps(const NpsCounts& a, NpsCounts* to) {
    to->promoters += a.promoters;
    to->passives += a.passives;
    to->detractors += a.detractors;
    to->invalid += a.invalid;
  }

  static void AddSpendRow(const store::SpendRow& row, KpiMetrics* m) {
    m->impressions = m->impressions.value_or(0) + row.impressions;
    m->clicks = m->clicks.value_or(0) + row.clicks;
    m->spend = m->spend.value_or(0) + row.spend;
  }
  // A group without spend rows has spent 0 (the context has a spend table).
  static void InitSpend(KpiMetrics* m) {
    m->impressions = m->impressions.value_or(0);
    m->clicks = m->clicks.value_or(0);
    m->spend = m->spend.value_or(0);
  }

  void FinishPersons(const PersonSet& reached, const PersonSet& converting, KpiMetrics* m) {
    // Every converting person is a buyer: Person() only looks them up here.
    m->persons_reached = static_cast<int64_t>(reached.Count());
    m->converting_persons = static_cast<int64_t>(converting.Count());
    converting.ForEach(
        [&](uint32_t one_id) { m->repeat_customers += Person(one_id).conversions >= 2; });
  }

  struct Cached {
    uint64_t key = 0;
    uint32_t group = UINT32_MAX;
  };

  const KpisSpec& spec_;
  bool by_channel_ = false, by_campaign_ = false, by_day_ = false;
  Interner labels_;                                   // channel and campaign names
  uint32_t none_ = 0;                                 // the label id of "(none)"
  std::vector<uint8_t> name_kinds_;                   // per batch: name code -> NameKind
  std::vector<uint32_t> channel_ids_, campaign_ids_;  // per batch: code -> label id
  std::vector<uint32_t> buyer_of_;  // one_id -> 1 + index in buyers_, 0 = not a buyer
  std::vector<PersonState> buyers_;
  std::vector<uint32_t> buyer_ids_;  // one_id of each of buyers_
  // Per person, the first journey event with a channel: time and label id.
  std::vector<int64_t> first_channel_us_;
  std::vector<uint32_t> first_channel_;
  std::vector<uint16_t> first_day_;  // the UTC day of first_channel_us_, or kNoDay
  std::vector<Group> groups_;
  std::unordered_map<uint64_t, uint32_t> group_index_;
  std::array<Cached, 256> cache_{};
  KpiMetrics total_;
  FieldReader reader_;
};

Status Bad(std::string message) { return Status::InvalidArgument(std::move(message)); }

}  // namespace

Result<KpisSpec> ParseKpisSpec(const Json& body, const QueryContext& ctx) {
  KpisSpec spec;
  ASSIGN_OR_RETURN(spec.timezone, ParseTimeZone(body, ctx.options.timezone));
  ASSIGN_OR_RETURN(spec.range, ParseRange(body, spec.timezone));
  if (body.contains("group_by")) {
    const Json& g = body["group_by"];
    if (!g.is_array() || g.empty()) {
      return Bad("group_by must be a non-empty array of \"channel\", \"campaign\" and \"day\"");
    }
    spec.group_by.clear();
    for (size_t i = 0; i < g.size(); ++i) {
      const std::string s = g[i].is_string() ? g[i].get<std::string>() : "";
      const KpiDimension d = s == "channel"    ? KpiDimension::kChannel
                             : s == "campaign" ? KpiDimension::kCampaign
                                               : KpiDimension::kDay;
      if (s != "channel" && s != "campaign" && s != "day") {
        return Bad("group_by[" + std::to_string(i) +
                   "] must be \"channel\", \"campaign\" or \"day\"");
      }
      if (std::find(spec.group_by.begin(), spec.group_by.end(), d) != spec.group_by.end()) {
        return Bad("group_by[" + std::to_string(i) + "]: \"" + s + "\" is named twice");
      }
      spec.group_by.push_back(d);
    }
  }
  // Defaults are not checked against the catalog: a store without survey
  // answers (or orders yet) still gets its KPIs.
  if (body.contains("conversion_event")) {
    ASSIGN_OR_RETURN(spec.conversion_event, ParseString(body, "conversion_event", true));
    RETURN_IF_ERROR(CheckEventName(ctx, spec.conversion_event, "conversion_event"));
  }
  if (body.contains("nps_event")) {
    ASSIGN_OR_RETURN(spec.nps_event, ParseString(body, "nps_event", true));
    RETURN_IF_ERROR(CheckEventName(ctx, spec.nps_event, "nps_event"));
  }
  if (body.contains("nps_property")) {
    ASSIGN_OR_RETURN(const std::string name, ParseString(body, "nps_property", true));
    RETURN_IF_ERROR(CheckProperty(ctx, spec.nps_event, name, "nps_property"));
    spec.nps_property = FieldNamed(name);
  }
  if (spec.conversion_event == spec.nps_event) {
    return Bad("conversion_event and nps_event must differ (both are \"" + spec.nps_event + "\")");
  }
  ASSIGN_OR_RETURN(spec.cohort_period,
                   ParseGranularity(body, "cohort_period", Granularity::kMonth));
  return spec;
}

Result<KpisResult> ComputeKpis(const KpisSpec& spec, const QueryContext& ctx) {
  KpisScan scan(spec);
  RETURN_IF_ERROR(ScanRange(ctx, {INT64_MIN, spec.range.from_us}, scan.HistoryColumns(),
                            [&](const store::ColumnBatch& b) { return scan.OnHistory(b); }));
  RETURN_IF_ERROR(ScanRange(ctx, spec.range, scan.RangeColumns(),
                            [&](const store::ColumnBatch& b) { return scan.OnRange(b); }));
  if (ctx.spend != nullptr) RETURN_IF_ERROR(scan.AddSpend(*ctx.spend));
  return scan.Finish();
}

namespace {

// A money amount per unit, or null when undefined (no spend table, or a
// zero denominator).
Json PerUnit(const std::optional<double>& amount, double units) {
  if (!amount || units == 0) return nullptr;
  return Amount(*amount / units);
}

Json Optional(const std::optional<int64_t>& v) { return v ? Json(*v) : Json(nullptr); }

Json Score(const NpsCounts& nps) {
  const auto s = nps.Score();
  return s ? Amount(*s) : Json(nullptr);
}

void AddMetrics(const KpiMetrics& m, Json* out) {
  Json& j = *out;
  j["impressions"] = Optional(m.impressions);
  j["clicks"] = Optional(m.clicks);
  j["ctr"] = m.impressions
                 ? Ratio(static_cast<double>(*m.clicks), static_cast<double>(*m.impressions))
                 : Json(nullptr);
  j["spend"] = Amount(m.spend);
  j["cpc"] = PerUnit(m.spend, m.clicks ? static_cast<double>(*m.clicks) : 0);
  j["conversions"] = m.conversions;
  j["converting_persons"] = m.converting_persons;
  j["persons_reached"] = m.persons_reached;
  j["conversion_rate"] =
      Ratio(static_cast<double>(m.converting_persons), static_cast<double>(m.persons_reached));
  j["cpa"] = PerUnit(m.spend, static_cast<double>(m.conversions));
  j["revenue"] = Amount(m.revenue);
  j["roas"] = m.spend ? Ratio(m.revenue, *m.spend) : Json(nullptr);
  j["new_customers"] = m.new_customers;
  j["cac"] = PerUnit(m.spend, static_cast<double>(m.new_customers));
  j["aov"] = PerUnit(m.revenue, static_cast<double>(m.conversions));
  j["repeat_customers"] = m.repeat_customers;
  j["repurchase_rate"] =
      Ratio(static_cast<double>(m.repeat_customers), static_cast<double>(m.converting_persons));
  j["nps"] = Score(m.nps);
}

}  // namespace

Json ToJson(const KpisResult& result) {
  Json group_by = Json::array();
  for (KpiDimension d : result.spec.group_by) group_by.push_back(KpiDimensionName(d));
  Json rows = Json::array();
  for (const KpiRow& r : result.rows) {
    Json j = Json::object();
    for (KpiDimension d : result.spec.group_by) {
      j[std::string(KpiDimensionName(d))] = d == KpiDimension::kChannel    ? r.channel
                                            : d == KpiDimension::kCampaign ? r.campaign
                                                                           : r.day;
    }
    AddMetrics(r.metrics, &j);
    rows.push_back(std::move(j));
  }
  Json total = Json::object();
  AddMetrics(result.total, &total);
  Json ltv = Json::array();
  for (const LtvRow& r : result.ltv) {
    ltv.push_back({{"acquisition_channel", r.acquisition_channel},
                   {"cohort", r.cohort},
                   {"customers", r.customers},
                   {"revenue", Amount(r.revenue)},
                   {"ltv", PerUnit(r.revenue, static_cast<double>(r.customers))}});
  }
  const NpsCounts& n = result.total.nps;
  Json nps = {{"responses", n.responses()}, {"promoters", n.promoters}, {"passives", n.passives},
              {"detractors", n.detractors}, {"invalid", n.invalid},     {"nps", Score(n)}};
  return {{"group_by", std::move(group_by)},
          {"rows", std::move(rows)},
          {"total", std::move(total)},
          {"ltv", std::move(ltv)},
          {"nps", std::move(nps)}};
}

Result<Json> RunKpis(const Json& body, const QueryContext& ctx) {
  ASSIGN_OR_RETURN(KpisSpec spec, ParseKpisSpec(body, ctx));
  ASSIGN_OR_RETURN(KpisResult result, ComputeKpis(spec, ctx));
  return ToJson(result);
}

}  // namespace quanyu::query
