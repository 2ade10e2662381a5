#include "audience/rfm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "common/time_util.h"
#include "query/fields.h"
#include "query/filter.h"
#include "query/params.h"

namespace quanyu::audience {
namespace {

using store::Column;

// Indexes into RfmSegmentNames().
enum class Segment : uint8_t {
  kChampions,
  kLoyal,
  kPotentialLoyalist,
  kNewCustomers,
  kPromising,
  kNeedAttention,
  kAboutToSleep,
  kAtRisk,
  kCantLoseThem,
  kHibernating,
  kLost,
};

using enum Segment;

// kGrid[r - 1][f - 1]: the grid of docs/rfm.md, lowest R first.
constexpr Segment kGrid[5][5] = {
    {kLost, kHibernating, kAtRisk, kAtRisk, kCantLoseThem},                           // R=1
    {kHibernating, kHibernating, kAtRisk, kAtRisk, kCantLoseThem},                    // R=2
    {kAboutToSleep, kAboutToSleep, kNeedAttention, kLoyal, kLoyal},                   // R=3
    {kPromising, kPotentialLoyalist, kPotentialLoyalist, kLoyal, kLoyal},             // R=4
    {kNewCustomers, kPotentialLoyalist, kPotentialLoyalist, kChampions, kChampions},  // R=5
};

// Quintile score of each key: 1 + floor(5 * #(strictly smaller keys) / n).
// Sorting once and walking runs of equal keys gives every member of a run
// the count of keys before the run, so ties always score alike.
template <typename Key>
std::vector<int> QuintileScores(const std::vector<Key>& keys) {
  const size_t n = keys.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  std::vector<int> scores(n);
  size_t run_start = 0;  // sorted position where the current run of equal keys begins
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && keys[order[i - 1]] < keys[order[i]]) run_start = i;
    scores[order[i]] = 1 + static_cast<int>(5 * run_start / n);
  }
  return scores;
}

// A monetary value as a sort key: NaN ranks below every number, so the
// sort's ordering stays strict and weak.
double MonetaryKey(double v) {
  return std::isnan(v) ? -std::numeric_limits<double>::infinity() : v;
}

// The dictionary code of `name` in a batch's dictionary, or -1.
int64_t CodeOf(const std::vector<std::string>& dict, std::string_view name) {
  auto it = std::find(dict.begin(), dict.end(), name);
  return it == dict.end() ? -1 : it - dict.begin();
}

Json WindowJson(int64_t window_us) {
  if (window_us % kMicrosPerDay == 0) return std::to_string(window_us / kMicrosPerDay) + "d";
  return std::to_string(window_us / kMicrosPerSecond) + "s";
}

Status ReadString(const Json& j, const char* key, std::string* out) {
  if (!j.contains(key)) return Status::OK();
  if (!j[key].is_string()) return Status::InvalidArgument(std::string(key) + ": expected a string");
  *out = j[key].get<std::string>();
  return Status::OK();
}

}  // namespace

const std::vector<std::string>& RfmSegmentNames() {
  static const std::vector<std::string> kNames = {
      "Champions",      "Loyal",     "Potential Loyalist",
      "New Customers",  "Promising", "Need Attention",
      "About to Sleep", "At Risk",   "Can't Lose Them",
      "Hibernating",    "Lost",
  };
  return kNames;
}

std::string_view RfmSegmentOf(int r, int f) {
  if (r < 1 || r > 5 || f < 1 || f > 5) return {};
  return RfmSegmentNames()[static_cast<size_t>(kGrid[r - 1][f - 1])];
}

std::vector<RfmScore> ScoreRfm(const std::vector<RfmCustomer>& customers,
                               int64_t analysis_time_us) {
  const size_t n = customers.size();
  std::vector<int64_t> last_order(n), orders(n);
  std::vector<double> monetary(n);
  for (size_t i = 0; i < n; ++i) {
    last_order[i] = customers[i].last_order_us;
    orders[i] = customers[i].orders;
    monetary[i] = MonetaryKey(customers[i].monetary);
  }
  // An older last order is a larger recency: counting strictly older orders
  // is counting strictly larger recencies, so the latest buyers get R = 5.
  const std::vector<int> r = QuintileScores(last_order);
  const std::vector<int> f = QuintileScores(orders);
  const std::vector<int> m = QuintileScores(monetary);

  std::vector<RfmScore> scores(n);
  for (size_t i = 0; i < n; ++i) {
    const RfmCustomer& c = customers[i];
    RfmScore& s = scores[i];
    s.one_id = c.one_id;
    s.recency_days = static_cast<double>(analysis_time_us - c.last_order_us) / kMicrosPerDay;
    s.frequency = c.orders;
    s.monetary = c.monetary;
    s.r = r[i];
    s.f = f[i];
    s.m = m[i];
    s.segment = RfmSegmentOf(s.r, s.f);
  }
  std::stable_sort(scores.begin(), scores.end(),
                   [](const RfmScore& a, const RfmScore& b) { return a.one_id < b.one_id; });
  return scores;
}

Status ValidateRfmOptions(const RfmOptions& options) {
  if (options.analysis_time_us <= 0 ||
      options.analysis_time_us == std::numeric_limits<int64_t>::max()) {
    return Status::InvalidArgument("analysis_time: required, after 1970-01-01");
  }
  if (options.window_us <= 0) return Status::InvalidArgument("window: must be positive");
  if (options.order_event.empty()) return Status::InvalidArgument("order_event: required");
  if (options.monetary_property.empty()) {
    return Status::InvalidArgument("monetary_property: required");
  }
  const query::FieldKind kind = query::FieldNamed(options.monetary_property).kind;
  if (kind != query::FieldKind::kNumber && kind != query::FieldKind::kProperty) {
    return Status::InvalidArgument("monetary_property: \"" + options.monetary_property +
                                   "\" is a text field, not a number");
  }
  return Status::OK();
}

Result<std::vector<RfmCustomer>> GatherRfmCustomers(const query::QueryContext& ctx,
                                                    const RfmOptions& options) {
  RETURN_IF_ERROR(ValidateRfmOptions(options));
  // (analysis - window, analysis] as a half-open scan range; cannot
  // overflow since 0 < analysis < INT64_MAX and 0 < window.
  const query::TimeRange range{options.analysis_time_us - options.window_us + 1,
                               options.analysis_time_us + 1};
  const query::Field money = query::FieldNamed(options.monetary_property);
  store::ColumnSet columns{Column::kTimestamp, Column::kName};
  query::FieldReader::AddColumns(money, &columns);

  query::FieldReader reader;
  std::unordered_map<uint32_t, RfmCustomer> by_person;
  RETURN_IF_ERROR(query::ScanRange(ctx, range, columns, [&](const store::ColumnBatch& b) {
    const int64_t code = CodeOf(b.Dictionary(Column::kName), options.order_event);
    if (code < 0) return Status::OK();
    const uint32_t* names = b.Codes(Column::kName);
    const uint32_t* one_ids = b.one_ids();
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    for (size_t i = 0; i < b.size(); ++i) {
      if (names[i] != code || one_ids[i] == 0) continue;
      RfmCustomer& c = by_person[one_ids[i]];
      if (c.orders == 0 || ts[i] > c.last_order_us) c.last_order_us = ts[i];
      c.one_id = one_ids[i];
      ++c.orders;
      c.monetary += reader.Number(money, b, i);
    }
    return Status::OK();
  }));

  std::vector<RfmCustomer> out;
  out.reserve(by_person.size());
  for (const auto& [id, c] : by_person) out.push_back(c);
  std::sort(out.begin(), out.end(),
            [](const RfmCustomer& a, const RfmCustomer& b) { return a.one_id < b.one_id; });
  return out;
}

Json ToJson(const RfmOptions& options) {
  Json j = {{"analysis_time", FormatTimestamp(options.analysis_time_us)},
            {"order_event", options.order_event},
            {"monetary_property", options.monetary_property}};
  if (options.window_us % kMicrosPerSecond == 0) {
    j["window"] = WindowJson(options.window_us);
  } else {
    j["window_us"] = options.window_us;
  }
  return j;
}

Result<RfmOptions> ParseRfmOptions(const Json& j, int64_t now_us) {
  if (!j.is_object()) return Status::InvalidArgument("rfm options: expected a JSON object");
  RfmOptions options;
  options.analysis_time_us = now_us;
  std::string analysis_time;
  RETURN_IF_ERROR(ReadString(j, "analysis_time", &analysis_time));
  if (!analysis_time.empty()) {
    Result<int64_t> t = ParseTimestamp(analysis_time);
    if (!t.ok()) return t.status().WithContext("analysis_time");
    options.analysis_time_us = *t;
  }
  if (j.contains("window_us")) {
    if (!j["window_us"].is_number_integer()) {
      return Status::InvalidArgument("window_us: expected an integer");
    }
    options.window_us = j["window_us"].get<int64_t>();
  } else if (j.contains("window")) {
    ASSIGN_OR_RETURN(options.window_us, query::ParseDuration(j["window"], "window"));
  }
  RETURN_IF_ERROR(ReadString(j, "order_event", &options.order_event));
  RETURN_IF_ERROR(ReadString(j, "monetary_property", &options.monetary_property));
  RETURN_IF_ERROR(ValidateRfmOptions(options));
  return options;
}

Json ToJson(const RfmScore& score) {
  const std::string digits =
      std::to_string(score.r) + std::to_string(score.f) + std::to_string(score.m);
  return {{"one_id", score.one_id},
          {"recency_days", query::Amount(score.recency_days)},
          {"frequency", score.frequency},
          {"monetary", query::Amount(score.monetary)},
          {"r", score.r},
          {"f", score.f},
          {"m", score.m},
          {"score", digits},
          {"segment", std::string(score.segment)}};
}

}  // namespace quanyu::audience
