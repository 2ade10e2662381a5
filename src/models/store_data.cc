#include "models/store_data.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include "common/time_util.h"
#include "query/fields.h"
#include "query/filter.h"

namespace quanyu::models {
namespace {

using store::Column;

// Indexes into NameList of the events the scans look at.
enum EventIndex { kOrder = 0, kView, kCart, kCheckout };

query::NameList EventNames(const StoreDataOptions& o) {
  return query::NameList({o.order_event, o.view_event, o.cart_event, o.checkout_event});
}

int64_t LocalDay(int64_t ts_us, const query::TimeZone& tz) {
  return query::BucketOf(ts_us, query::Granularity::kDay, tz);
}

constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

}  // namespace

Status ValidateStoreDataOptions(const StoreDataOptions& o) {
  const std::pair<const char*, const std::string*> names[] = {
      {"order_event", &o.order_event},
      {"view_event", &o.view_event},
      {"cart_event", &o.cart_event},
      {"checkout_event", &o.checkout_event},
      {"monetary_property", &o.monetary_property},
      {"product_property", &o.product_property}};
  for (const auto& [field, value] : names) {
    if (value->empty()) return Status::InvalidArgument(std::string(field) + ": must not be empty");
  }
  const query::Field money = query::FieldNamed(o.monetary_property);
  if (money.kind != query::FieldKind::kNumber && money.kind != query::FieldKind::kProperty) {
    return Status::InvalidArgument(
        "monetary_property: \"" + o.monetary_property +
        "\" is not a number (use revenue, value, quantity or a property)");
  }
  return Status::OK();
}

Result<std::vector<PersonSummary>> OrderSummaries(const query::QueryContext& ctx,
                                                  const StoreDataOptions& options, int64_t end_us) {
  RETURN_IF_ERROR(ValidateStoreDataOptions(options));
  const query::Field money = query::FieldNamed(options.monetary_property);
  store::ColumnSet columns{Column::kTimestamp, Column::kName};
  query::FieldReader::AddColumns(money, &columns);
  struct Order {
    uint32_t one_id;
    int64_t day;
    double value;
  };
  std::vector<Order> orders;
  query::FieldReader reader;
  const query::NameList names({options.order_event});
  std::vector<int32_t> code_index;
  RETURN_IF_ERROR(
      query::ScanRange(ctx, {kNoTime, end_us}, columns, [&](const store::ColumnBatch& b) {
        names.Translate(b.Dictionary(Column::kName), &code_index);
        const uint32_t* codes = b.Codes(Column::kName);
        const int64_t* ts = b.Int64s(Column::kTimestamp);
        for (size_t i = 0; i < b.size(); ++i) {
          if (code_index[codes[i]] != 0) continue;
          const uint32_t person = b.OneId(i);
          if (person == 0) continue;
          orders.push_back({person, LocalDay(ts[i], options.timezone), reader.Number(money, b, i)});
        }
        return Status::OK();
      }));
  std::sort(orders.begin(), orders.end(), [](const Order& a, const Order& b) {
    return a.one_id != b.one_id ? a.one_id < b.one_id : a.day < b.day;
  });
  const int64_t end_day = LocalDay(end_us - 1, options.timezone);
  std::vector<PersonSummary> out;
  std::vector<DayValue> days;
  for (size_t i = 0; i < orders.size();) {
    days.clear();
    size_t j = i;
    for (; j < orders.size() && orders[j].one_id == orders[i].one_id; ++j) {
      days.push_back({orders[j].day, orders[j].value});
    }
    if (days.front().day < end_day)
      out.push_back({orders[i].one_id, SummarizeDays(days, end_day, 1)});
    i = j;
  }
  return out;
}

const std::vector<std::string>& FeatureSet::Names() {
  static const std::vector<std::string> names = {
      "recency_days",       // since the last order (the lookback when none)
      "has_ordered",        // 0 / 1
      "log_orders",         // log(1 + orders in the lookback)
      "log_monetary",       // log(1 + their value)
      "tenure_days",        // since the first event in the lookback
      "days_since_event",   // since the last event
      "log_events_7d",      // log(1 + events in the last 7 days)
      "log_events_30d",     // ... 30 days
      "active_days_30d",    // days with an event among the last 30
      "log_views_30d",      // log(1 + view events in the last 30 days)
      "log_cart_adds_30d",  // ... cart events
      "log_checkouts_30d",  // ... checkout events
      "sources",            // distinct sources in the lookback
  };
  return names;
}

Result<FeatureSet> BehaviourFeatures(const query::QueryContext& ctx,
                                     const StoreDataOptions& options, int64_t cutoff_us,
                                     int64_t lookback_us, int64_t horizon_us) {
  RETURN_IF_ERROR(ValidateStoreDataOptions(options));
  if (lookback_us <= 0) return Status::InvalidArgument("lookback: must be > 0");
  if (horizon_us < 0) return Status::InvalidArgument("horizon: must be >= 0");
  struct Acc {
    int64_t first_event = std::numeric_limits<int64_t>::max(), last_event = kNoTime;
    int64_t last_order = kNoTime;
    double orders = 0, monetary = 0, events_7d = 0, events_30d = 0;
    double views = 0, carts = 0, checkouts = 0;
    uint32_t active_days = 0;  // bit d: an event d days before the cutoff's day
    uint64_t sources = 0;      // bit per source (hash mod 64)
    bool seen = false;         // an event in the lookback
    bool label = false;
  };
  const query::Field money = query::FieldNamed(options.monetary_property);
  store::ColumnSet columns{Column::kTimestamp, Column::kName, Column::kSource};
  query::FieldReader::AddColumns(money, &columns);
  const query::NameList names = EventNames(options);
  const int64_t from = cutoff_us - lookback_us, to = cutoff_us + horizon_us;
  const int64_t cutoff_day = LocalDay(cutoff_us - 1, options.timezone);
  std::unordered_map<uint32_t, Acc> people;
  query::FieldReader reader;
  std::vector<int32_t> code_index;
  std::vector<uint64_t> source_bits;
  RETURN_IF_ERROR(query::ScanRange(ctx, {from, to}, columns, [&](const store::ColumnBatch& b) {
    names.Translate(b.Dictionary(Column::kName), &code_index);
    const auto& source_dict = b.Dictionary(Column::kSource);
    source_bits.resize(source_dict.size());
    for (size_t s = 0; s < source_dict.size(); ++s) {
      source_bits[s] = uint64_t{1} << (std::hash<std::string>{}(source_dict[s]) % 64);
    }
    const uint32_t* codes = b.Codes(Column::kName);
    const uint32_t* sources = b.Codes(Column::kSource);
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    for (size_t i = 0; i < b.size(); ++i) {
      const uint32_t person = b.OneId(i);
      if (person == 0) continue;
      const int32_t kind = code_index[codes[i]];
      if (ts[i] >= cutoff_us) {  // the label window
        if (kind == kOrder) people[person].label = true;
        continue;
      }
      Acc& a = people[person];
      a.seen = true;
      a.first_event = std::min(a.first_event, ts[i]);
      a.last_event = std::max(a.last_event, ts[i]);
      a.sources |= source_bits[sources[i]];
      const int64_t before = cutoff_us - ts[i];
      const bool in_30d = before <= 30 * kMicrosPerDay;
      if (before <= 7 * kMicrosPerDay) a.events_7d += 1;
      if (in_30d) {
        a.events_30d += 1;
        const int64_t d = cutoff_day - LocalDay(ts[i], options.timezone);
        if (d >= 0 && d < 30) a.active_days |= uint32_t{1} << d;
      }
      switch (kind) {
        case kOrder:
          a.orders += 1;
          a.monetary += reader.Number(money, b, i);
          a.last_order = std::max(a.last_order, ts[i]);
          break;
        case kView:
          a.views += in_30d;
          break;
        case kCart:
          a.carts += in_30d;
          break;
        case kCheckout:
          a.checkouts += in_30d;
          break;
        default:
          break;
      }
    }
    return Status::OK();
  }));

  FeatureSet out;
  out.one_ids.reserve(people.size());
  for (const auto& [id, a] : people) {
    if (a.seen) out.one_ids.push_back(id);
  }
  std::sort(out.one_ids.begin(), out.one_ids.end());
  const size_t width = FeatureSet::Names().size();
  out.values.reserve(out.one_ids.size() * width);
  const double day = static_cast<double>(kMicrosPerDay);
  const double lookback_days = static_cast<double>(lookback_us) / day;
  for (uint32_t id : out.one_ids) {
    const Acc& a = people[id];
    const double recency =
        a.orders > 0 ? static_cast<double>(cutoff_us - a.last_order) / day : lookback_days;
    const double row[] = {recency,
                          a.orders > 0 ? 1.0 : 0.0,
                          std::log1p(a.orders),
                          std::log1p(std::max(0.0, a.monetary)),
                          static_cast<double>(cutoff_us - a.first_event) / day,
                          static_cast<double>(cutoff_us - a.last_event) / day,
                          std::log1p(a.events_7d),
                          std::log1p(a.events_30d),
                          static_cast<double>(__builtin_popcount(a.active_days)),
                          std::log1p(a.views),
                          std::log1p(a.carts),
                          std::log1p(a.checkouts),
                          static_cast<double>(__builtin_popcountll(a.sources))};
    static_assert(std::size(row) == 13);
    out.values.insert(out.values.end(), std::begin(row), std::end(row));
    out.labels.push_back(a.label ? 1 : 0);
    out.recency_days.push_back(recency);
  }
  if (width != 13) return Status::Internal("feature names and values disagree");
  return out;
}

Result<Interactions> ProductInteractions(const query::QueryContext& ctx,
                                         const StoreDataOptions& options, int64_t from_us,
                                         int64_t to_us) {
  RETURN_IF_ERROR(ValidateStoreDataOptions(options));
  const query::Field product = query::FieldNamed(options.product_property);
  store::ColumnSet columns{Column::kName};
  query::FieldReader::AddColumns(product, &columns);
  const query::NameList names({options.order_event, options.view_event});
  std::map<std::string, uint32_t, std::less<>> ids;
  Interactions out;
  query::FieldReader reader;
  std::vector<int32_t> code_index;
  RETURN_IF_ERROR(
      query::ScanRange(ctx, {from_us, to_us}, columns, [&](const store::ColumnBatch& b) {
        names.Translate(b.Dictionary(Column::kName), &code_index);
        const uint32_t* codes = b.Codes(Column::kName);
        for (size_t i = 0; i < b.size(); ++i) {
          const int32_t kind = code_index[codes[i]];
          if (kind < 0) continue;
          const uint32_t person = b.OneId(i);
          if (person == 0) continue;
          const query::Value v = reader.Read(product, b, i);
          if (v.kind != query::Value::kString && v.kind != query::Value::kNumber) continue;
          if (v.text.empty()) continue;
          auto it = ids.find(v.text);
          if (it == ids.end()) {
            it = ids.emplace(v.text, static_cast<uint32_t>(out.products.size())).first;
            out.products.push_back(v.text);
          }
          out.rows.push_back({person, it->second, kind == 0});
        }
        return Status::OK();
      }));
  // One row per (person, product), bought if any of its rows was.
  std::sort(out.rows.begin(), out.rows.end(),
            [](const Interactions::Row& a, const Interactions::Row& b) {
              return a.one_id != b.one_id     ? a.one_id < b.one_id
                     : a.product != b.product ? a.product < b.product
                                              : a.bought > b.bought;
            });
  out.rows.erase(std::unique(out.rows.begin(), out.rows.end(),
                             [](const Interactions::Row& a, const Interactions::Row& b) {
                               return a.one_id == b.one_id && a.product == b.product;
                             }),
                 out.rows.end());
  return out;
}

}  // namespace quanyu::models
