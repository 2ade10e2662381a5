// Unit tests of the query module's core: request pieces (params.h), field
// names and `where` filters (fields.h, filter.h) on real columnar rows, and
// PersonSequences (sequences.h).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>

#include "common/dense_array.h"
#include "common/time_util.h"
#include "query/fields.h"
#include "query/filter.h"
#include "query/params.h"
#include "query/query.h"
#include "query/sequences.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::query {
namespace {

using ::quanyu::testing::TempDir;

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kHour = 3600 * kSecond;
constexpr int64_t kDay = 24 * kHour;

int64_t At(const char* rfc3339) {
  auto t = ParseTimestamp(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : 0;
}

TimeZone Zone(const char* name) {
  auto tz = TimeZoneNamed(name);
  EXPECT_TRUE(tz.ok()) << name;
  return tz.ok() ? *tz : TimeZone{};
}

void ExpectError(const Status& s, const std::string& fragment) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(fragment), std::string::npos)
      << "message \"" << s.message() << "\" lacks \"" << fragment << "\"";
}

// ---- params.h ---------------------------------------------------------------------

TEST(ParseRange, TimestampsAndLocalDates) {
  auto r = ParseRange(Json::parse(R"({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T08:00:00+08:00"})"),
                      TimeZone{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->from_us, At("2026-01-01T00:00:00Z"));
  EXPECT_EQ(r->to_us, At("2026-01-02T00:00:00Z"));
  // A bare date is midnight in the time zone.
  auto local = ParseRange(Json::parse(R"({"from": "2026-01-05", "to": "2026-01-06"})"),
                          Zone("Asia/Shanghai"));
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->from_us, At("2026-01-04T16:00:00Z"));
  EXPECT_EQ(local->to_us, At("2026-01-05T16:00:00Z"));
}

TEST(ParseRange, Errors) {
  auto parse = [](const char* body) { return ParseRange(Json::parse(body), TimeZone{}).status(); };
  ExpectError(parse(R"({"to": "2026-01-01"})"), "from is required");
  ExpectError(parse(R"({"from": "2026-01-01"})"), "to is required");
  ExpectError(parse(R"({"from": 5, "to": "2026-01-01"})"), "from must be an RFC 3339 time string");
  ExpectError(parse(R"({"from": "2026-13-01", "to": "2026-01-01"})"), "from: invalid timestamp");
  ExpectError(parse(R"({"from": "yesterday", "to": "2026-01-01"})"), "from: invalid timestamp");
  ExpectError(parse(R"({"from": "2026-01-02", "to": "2026-01-01"})"), "empty or inverted time range");
  ExpectError(parse(R"({"from": "2026-01-01", "to": "2026-01-01T00:00:00Z"})"),
              "empty or inverted time range");
}

TEST(ParseDuration, Units) {
  struct Case {
    Json value;
    int64_t us;
  };
  const Case cases[] = {
      {"45s", 45 * kSecond}, {"30m", 1800 * kSecond}, {"12h", 12 * kHour},
      {"7d", 7 * kDay},      {"2w", 14 * kDay},       {"1.5h", 90 * 60 * kSecond},
      {3600, kHour},         {0.5, kSecond / 2},      {"3650d", 3650 * kDay},
  };
  for (const auto& c : cases) {
    auto d = ParseDuration(c.value, "window");
    ASSERT_TRUE(d.ok()) << c.value.dump() << ": " << d.status().ToString();
    EXPECT_EQ(*d, c.us) << c.value.dump();
  }
}

TEST(ParseDuration, Errors) {
  ExpectError(ParseDuration("7x", "window").status(), "window \"7x\": unit must be s, m, h, d or w");
  ExpectError(ParseDuration("d", "window").status(), "window \"d\" is not a duration");
  ExpectError(ParseDuration("7 d", "window").status(), "is not a duration");
  ExpectError(ParseDuration("7dd", "window").status(), "is not a duration");
  ExpectError(ParseDuration("0s", "window").status(), "window must be positive");
  ExpectError(ParseDuration(-5, "window").status(), "window must be positive");
  ExpectError(ParseDuration("3651d", "window").status(), "at most 3650 days");
  ExpectError(ParseDuration(true, "gap").status(), "gap must be a duration");
  ExpectError(ParseDuration(Json(), "gap").status(), "gap must be a duration");
}

TEST(ParseTimeZone, NamesOffsetsAndFallback) {
  EXPECT_EQ(Zone("Asia/Shanghai").offset_us, 8 * kHour);
  EXPECT_EQ(Zone("Asia/Kolkata").offset_us, 5 * kHour + 30 * 60 * kSecond);
  EXPECT_EQ(Zone("+08:00").offset_us, 8 * kHour);
  EXPECT_EQ(Zone("-0530").offset_us, -(5 * kHour + 30 * 60 * kSecond));
  EXPECT_EQ(Zone("UTC").offset_us, 0);
  TimeZone fallback = Zone("+09:00");
  auto none = ParseTimeZone(Json::object(), fallback);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->offset_us, 9 * kHour);
  auto named = ParseTimeZone(Json::parse(R"({"timezone": "Asia/Tokyo"})"), TimeZone{});
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->name, "Asia/Tokyo");
  ExpectError(TimeZoneNamed("Europe/Paris").status(), "timezone \"Europe/Paris\" is not supported");
  ExpectError(TimeZoneNamed("+15:00").status(), "is not supported");
  ExpectError(TimeZoneNamed("+08:60").status(), "is not supported");
  ExpectError(TimeZoneNamed("+8").status(), "is not supported");
  ExpectError(ParseTimeZone(Json::parse(R"({"timezone": 8})"), TimeZone{}).status(),
              "timezone must be a string");
}

TEST(ParseChoices, GranularityIntChoiceString) {
  const Json body = Json::parse(
      R"({"period": "month", "periods": 12, "mode": "b", "name": "x", "bad": 1.5, "empty": ""})");
  EXPECT_EQ(*ParseGranularity(body, "period", Granularity::kDay), Granularity::kMonth);
  EXPECT_EQ(*ParseGranularity(body, "absent", Granularity::kWeek), Granularity::kWeek);
  ExpectError(ParseGranularity(body, "mode", Granularity::kDay).status(),
              "mode must be \"day\", \"week\" or \"month\"");
  EXPECT_EQ(*ParseInt(body, "periods", 8, 1, 366), 12);
  EXPECT_EQ(*ParseInt(body, "absent", 8, 1, 366), 8);
  ExpectError(ParseInt(body, "periods", 8, 1, 10).status(), "periods must be between 1 and 10 (got 12)");
  ExpectError(ParseInt(body, "bad", 8, 1, 10).status(), "bad must be an integer");
  EXPECT_EQ(*ParseChoice(body, "mode", {"a", "b"}), "b");
  EXPECT_EQ(*ParseChoice(body, "absent", {"a", "b"}), "a");
  ExpectError(ParseChoice(body, "name", {"a", "b"}).status(), "name must be one of \"a\", \"b\"");
  EXPECT_EQ(*ParseString(body, "name", true), "x");
  EXPECT_EQ(*ParseString(body, "absent", false), "");
  ExpectError(ParseString(body, "absent", true).status(), "absent is required");
  ExpectError(ParseString(body, "empty", false).status(), "empty must be a non-empty string");
  ExpectError(ParseString(body, "periods", false).status(), "periods must be a non-empty string");
}

// ---- Calendar buckets -------------------------------------------------------------

TEST(Buckets, DaysFollowTheTimeZone) {
  const TimeZone utc, shanghai = Zone("Asia/Shanghai"), india = Zone("Asia/Kolkata");
  const int64_t t = At("2026-01-04T23:30:00Z");
  EXPECT_EQ(BucketLabel(BucketOf(t, Granularity::kDay, utc), Granularity::kDay), "2026-01-04");
  EXPECT_EQ(BucketLabel(BucketOf(t, Granularity::kDay, shanghai), Granularity::kDay), "2026-01-05");
  // Local midnight is the first microsecond of the day; one before is the day before.
  const int64_t midnight = At("2026-01-04T16:00:00Z");  // 2026-01-05 00:00 in Shanghai
  EXPECT_EQ(BucketLabel(BucketOf(midnight, Granularity::kDay, shanghai), Granularity::kDay), "2026-01-05");
  EXPECT_EQ(BucketLabel(BucketOf(midnight - 1, Granularity::kDay, shanghai), Granularity::kDay), "2026-01-04");
  // Half-hour offsets.
  EXPECT_EQ(BucketLabel(BucketOf(At("2026-01-04T18:29:59Z"), Granularity::kDay, india), Granularity::kDay),
            "2026-01-04");
  EXPECT_EQ(BucketLabel(BucketOf(At("2026-01-04T18:30:00Z"), Granularity::kDay, india), Granularity::kDay),
            "2026-01-05");
  // West of UTC.
  EXPECT_EQ(BucketLabel(BucketOf(At("2026-01-05T03:00:00Z"), Granularity::kDay, Zone("-05:00")),
                        Granularity::kDay),
            "2026-01-04");
}

TEST(Buckets, WeeksStartOnMonday) {
  const TimeZone utc;
  auto week = [&](const char* t) { return BucketLabel(BucketOf(At(t), Granularity::kWeek, utc), Granularity::kWeek); };
  EXPECT_EQ(week("2026-01-01T12:00:00Z"), "2025-12-29");  // Thursday
  EXPECT_EQ(week("2026-01-04T23:59:59.999999Z"), "2025-12-29");  // Sunday
  EXPECT_EQ(week("2026-01-05T00:00:00Z"), "2026-01-05");  // Monday
  EXPECT_EQ(week("2026-01-11T23:59:59Z"), "2026-01-05");  // the next Sunday
  EXPECT_EQ(week("1970-01-01T00:00:00Z"), "1969-12-29");
  EXPECT_EQ(week("1969-12-28T23:59:59Z"), "1969-12-22");  // before the epoch
  EXPECT_EQ(week("2024-12-31T00:00:00Z"), "2024-12-30");  // across a year end
  // In Shanghai, Sunday 23:30 UTC is already Monday.
  EXPECT_EQ(BucketLabel(BucketOf(At("2026-01-04T23:30:00Z"), Granularity::kWeek, Zone("Asia/Shanghai")),
                        Granularity::kWeek),
            "2026-01-05");
}

TEST(Buckets, Months) {
  const TimeZone utc, shanghai = Zone("Asia/Shanghai");
  auto month = [](int64_t t, const TimeZone& tz) {
    return BucketLabel(BucketOf(t, Granularity::kMonth, tz), Granularity::kMonth);
  };
  EXPECT_EQ(month(At("2026-01-31T23:59:59Z"), utc), "2026-01-01");
  EXPECT_EQ(month(At("2026-01-31T23:59:59Z"), shanghai), "2026-02-01");
  EXPECT_EQ(month(At("2026-02-01T00:00:00Z"), utc), "2026-02-01");
  EXPECT_EQ(month(At("2028-02-29T12:00:00Z"), utc), "2028-02-01");  // leap day
  EXPECT_EQ(month(At("2025-12-31T20:00:00Z"), shanghai), "2026-01-01");  // across a year
  EXPECT_EQ(month(At("1969-12-31T23:00:00Z"), utc), "1969-12-01");
  EXPECT_EQ(BucketOf(At("1970-01-01T00:00:00Z"), Granularity::kMonth, utc), 0);
  EXPECT_EQ(BucketOf(At("2026-03-15T00:00:00Z"), Granularity::kMonth, utc) -
                BucketOf(At("2025-12-15T00:00:00Z"), Granularity::kMonth, utc),
            3);
}

// Every bucket starts where BucketStartUs says, in every zone and
// granularity: its first microsecond is in it, the one before is not.
TEST(Buckets, StartsAreExactBoundaries) {
  for (const char* name : {"UTC", "Asia/Shanghai", "-05:30", "+14:00", "Asia/Kolkata"}) {
    const TimeZone tz = Zone(name);
    for (Granularity g : {Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
      const int64_t first = BucketOf(At("1968-06-01T00:00:00Z"), g, tz);
      for (int64_t b = first; b < first + 800; ++b) {
        const int64_t start = BucketStartUs(b, g, tz);
        ASSERT_EQ(BucketOf(start, g, tz), b) << name << " " << GranularityName(g) << " " << b;
        ASSERT_EQ(BucketOf(start - 1, g, tz), b - 1) << name << " " << GranularityName(g) << " " << b;
      }
    }
  }
  EXPECT_EQ(BucketStartUs(BucketOf(At("2026-01-07T00:00:00Z"), Granularity::kWeek, TimeZone{}),
                          Granularity::kWeek, Zone("Asia/Shanghai")),
            At("2026-01-04T16:00:00Z"));
}

// ---- fields.h ---------------------------------------------------------------------

TEST(Fields, BuiltinsAndProperties) {
  EXPECT_EQ(FieldNamed("channel").kind, FieldKind::kDictionary);
  EXPECT_EQ(FieldNamed("campaign").column, store::Column::kCampaignName);
  EXPECT_EQ(FieldNamed("utm_campaign").column, store::Column::kCampaignName);
  EXPECT_EQ(FieldNamed("revenue").kind, FieldKind::kNumber);
  EXPECT_EQ(FieldNamed("type").kind, FieldKind::kType);
  EXPECT_EQ(FieldNamed("url").kind, FieldKind::kString);
  const Field plan = FieldNamed("plan");
  EXPECT_EQ(plan.kind, FieldKind::kProperty);
  EXPECT_EQ(plan.path, "plan");
  EXPECT_EQ(FieldNamed("properties.address.city").path, "address.city");
  EXPECT_EQ(FieldNamed("properties.channel").kind, FieldKind::kProperty);  // the property, not the column
  EXPECT_TRUE(IsBuiltinField("quantity"));
  EXPECT_FALSE(IsBuiltinField("price"));
}

// ---- filter.h: Satisfies ----------------------------------------------------------

Value Num(double d) {
  Value v;
  v.kind = Value::kNumber;
  v.number = d;
  v.text = std::to_string(static_cast<int64_t>(d));
  return v;
}
Value Str(std::string s) {
  Value v;
  v.kind = Value::kString;
  v.text = std::move(s);
  return v;
}
Value Bool(bool b) {
  Value v;
  v.kind = Value::kBool;
  v.number = b;
  v.text = b ? "true" : "false";
  return v;
}
Value Null() {
  Value v;
  v.kind = Value::kNull;
  v.text = "null";
  return v;
}
const Value kMissing{};

Condition Cond(const std::string& json) {
  auto c = ParseWhere(Json::array({Json::parse(json)}), "where");
  EXPECT_TRUE(c.ok()) << json << ": " << c.status().ToString();
  return c.ok() ? (*c)[0] : Condition{};
}

TEST(Satisfies, Comparisons) {
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": ">", "value": 100})"), Num(100.5)));
  EXPECT_FALSE(Satisfies(Cond(R"({"property": "p", "op": ">", "value": 100})"), Num(100)));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": ">=", "value": 100})"), Num(100)));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "<", "value": 100})"), Num(-1)));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "<=", "value": 100})"), Num(100)));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "value": "serum"})"), Str("serum")));  // "=" by default
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "==", "value": 3})"), Num(3)));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "!=", "value": 3})"), Num(4)));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": ">", "value": "b"})"), Str("c")));  // bytewise
  EXPECT_FALSE(Satisfies(Cond(R"({"property": "p", "op": ">", "value": "b"})"), Str("B")));
  // A number stored as text equals the number; it does not order with it.
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "value": 120})"), Str("120")));
  EXPECT_FALSE(Satisfies(Cond(R"({"property": "p", "op": ">", "value": 100})"), Str("120")));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "value": true})"), Bool(true)));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "!=", "value": true})"), Bool(false)));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "value": null})"), Null()));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "contains", "value": "精华"})"), Str("精华推荐")));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "not_contains", "value": "x"})"), Str("abc")));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "in", "value": ["a", 2]})"), Num(2)));
  EXPECT_FALSE(Satisfies(Cond(R"({"property": "p", "op": "in", "value": ["a", 2]})"), Str("b")));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "not_in", "value": ["a"]})"), Str("b")));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "is_set"})"), Str("")));
  EXPECT_FALSE(Satisfies(Cond(R"({"property": "p", "op": "is_set"})"), Null()));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "is_not_set"})"), Null()));
}

// Booleans compare with = and != only (filter.h): neither false > true nor
// true > false holds.
TEST(Satisfies, BooleansDoNotOrder) {
  EXPECT_FALSE(Satisfies(Cond(R"({"property": "p", "op": ">", "value": true})"), Bool(false)));
  EXPECT_FALSE(Satisfies(Cond(R"({"property": "p", "op": ">", "value": false})"), Bool(true)));
  EXPECT_FALSE(Satisfies(Cond(R"({"property": "p", "op": "<", "value": true})"), Bool(false)));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": ">=", "value": true})"), Bool(true)));
  EXPECT_TRUE(Satisfies(Cond(R"({"property": "p", "op": "!=", "value": true})"), Bool(false)));
}

// A field the event lacks satisfies only !=, not_in, not_contains and is_not_set.
TEST(Satisfies, MissingFields) {
  const std::pair<const char*, bool> cases[] = {
      {R"({"property": "p", "op": "=", "value": 1})", false},
      {R"({"property": "p", "op": "!=", "value": 1})", true},
      {R"({"property": "p", "op": ">", "value": 1})", false},
      {R"({"property": "p", "op": ">=", "value": 1})", false},
      {R"({"property": "p", "op": "<", "value": 1})", false},
      {R"({"property": "p", "op": "<=", "value": 1})", false},
      {R"({"property": "p", "op": "contains", "value": "a"})", false},
      {R"({"property": "p", "op": "not_contains", "value": "a"})", true},
      {R"({"property": "p", "op": "in", "value": [1]})", false},
      {R"({"property": "p", "op": "not_in", "value": [1]})", true},
      {R"({"property": "p", "op": "is_set"})", false},
      {R"({"property": "p", "op": "is_not_set"})", true},
  };
  for (const auto& [json, want] : cases) EXPECT_EQ(Satisfies(Cond(json), kMissing), want) << json;
}

TEST(ParseWhere, Errors) {
  auto err = [](const char* json) { return ParseWhere(Json::parse(json), "steps[2].where").status(); };
  EXPECT_TRUE(ParseWhere(Json(), "w").ok());
  ExpectError(err(R"({"property": "p"})"), "steps[2].where must be an array");
  ExpectError(err(R"([3])"), "steps[2].where[0] must be an object");
  ExpectError(err(R"([{"op": "="}])"), "steps[2].where[0].property must be a non-empty string");
  ExpectError(err(R"([{"property": "p", "value": 1}, {"property": ""}])"), "steps[2].where[1].property");
  ExpectError(err(R"([{"property": "p", "op": "like", "value": 1}])"), "steps[2].where[0].op \"like\" is unknown");
  ExpectError(err(R"([{"property": "p", "op": ">"}])"), "steps[2].where[0].value is required for op >");
  ExpectError(err(R"([{"property": "p", "op": "in", "value": 1}])"), "must be a non-empty array for in");
  ExpectError(err(R"([{"property": "p", "op": "in", "value": []}])"), "must be a non-empty array for in");
  ExpectError(err(R"([{"property": "p", "op": "contains", "value": 1}])"), "must be a string for contains");
  ExpectError(err(R"([{"property": "p", "value": {"a": 1}}])"), "value must be a number, string, boolean or null");
  ExpectError(err(R"([{"property": "p", "op": "in", "value": [[1]]}])"), "value must be a number");
}

// ---- filter.h on columnar rows ----------------------------------------------------

// Events in a store (half in segments, half buffered) read back as
// ColumnBatches.
class FilterOnRows : public ::testing::Test {
 protected:
  void SetUp() override {
    auto add = [&](std::string name, std::string channel, std::optional<double> revenue,
                   std::string props, EventType type = EventType::kTrack) {
      Event e;
      e.timestamp_us = At("2026-01-05T10:00:00Z") + static_cast<int64_t>(events_.size()) * kSecond;
      e.received_us = e.timestamp_us;
      e.name = std::move(name);
      e.channel = std::move(channel);
      e.revenue = revenue;
      e.properties_json = std::move(props);
      e.type = type;
      e.source = "web";
      e.identity_key = static_cast<uint32_t>(events_.size() + 1);
      events_.push_back(std::move(e));
    };
    add("Order Completed", "douyin", 150, R"({"address": {"city": "上海", "zip": 200000}, "coupon": "NEW10"})");
    add("Order Completed", "wechat", 99.5, R"({"address": {"city": "北京"}, "first_order": true})");
    add("Order Completed", "", std::nullopt, R"({"address": "n/a", "tags": ["a", "b"], "utm.source": "x"})");
    add("Landing", "xiaohongshu", std::nullopt, "", EventType::kPage);
    add("Order Completed", "douyin", 300, R"({"address": {"city": null}, "first_order": false})");
    store::StoreOptions opt;
    opt.dir = dir_ / "events";
    opt.max_segment_rows = 2;
    auto st = store::EventStore::Open(opt);
    ASSERT_TRUE(st.ok());
    store_ = std::move(*st);
    store_->Add({events_.begin(), events_.begin() + 3}, 1);
    ASSERT_TRUE(store_->Flush().ok());
    store_->Add({events_.begin() + 3, events_.end()}, 2);
  }

  // The 1-based identity keys (= event positions) of the rows matching `where`.
  std::vector<uint32_t> Matching(const std::string& where) {
    auto conds = ParseWhere(Json::parse(where), "where");
    EXPECT_TRUE(conds.ok()) << conds.status().ToString();
    RowFilter filter(*conds);
    store::ScanRequest req;
    req.columns = {store::Column::kIdentityKey};
    filter.AddColumns(&req.columns);
    std::vector<uint32_t> keys;
    Status s = store_->ScanColumns(req, [&](const store::ColumnBatch& b) {
      filter.Prepare(b);
      const uint32_t* k = b.UInt32s(store::Column::kIdentityKey);
      for (size_t r = 0; r < b.size(); ++r) {
        if (filter.Matches(b, r)) keys.push_back(k[r]);
      }
      return Status::OK();
    });
    EXPECT_TRUE(s.ok());
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  // Labels of `field` per row, in key order.
  std::vector<std::string> Labels(const std::string& name) {
    const Field f = FieldNamed(name);
    store::ScanRequest req;
    req.columns = {store::Column::kIdentityKey};
    FieldReader::AddColumns(f, &req.columns);
    FieldReader reader;
    std::vector<std::string> labels(events_.size());
    Status s = store_->ScanColumns(req, [&](const store::ColumnBatch& b) {
      const uint32_t* k = b.UInt32s(store::Column::kIdentityKey);
      for (size_t r = 0; r < b.size(); ++r) labels[k[r] - 1] = reader.Read(f, b, r).Label();
      return Status::OK();
    });
    EXPECT_TRUE(s.ok());
    return labels;
  }

  TempDir dir_;
  std::vector<Event> events_;
  std::unique_ptr<store::EventStore> store_;
};

using Keys = std::vector<uint32_t>;

TEST_F(FilterOnRows, DictionaryAndNumberColumns) {
  EXPECT_EQ(Matching(R"([{"property": "channel", "value": "douyin"}])"), (Keys{1, 5}));
  EXPECT_EQ(Matching(R"([{"property": "channel", "op": "!=", "value": "douyin"}])"), (Keys{2, 3, 4}));
  EXPECT_EQ(Matching(R"([{"property": "channel", "op": "is_not_set"}])"), (Keys{3}));
  EXPECT_EQ(Matching(R"([{"property": "channel", "op": "in", "value": ["wechat", "xiaohongshu"]}])"), (Keys{2, 4}));
  EXPECT_EQ(Matching(R"([{"property": "revenue", "op": ">", "value": 100}])"), (Keys{1, 5}));
  EXPECT_EQ(Matching(R"([{"property": "revenue", "op": "<=", "value": 99.5}])"), (Keys{2}));
  EXPECT_EQ(Matching(R"([{"property": "revenue", "op": "is_not_set"}])"), (Keys{3, 4}));
  EXPECT_EQ(Matching(R"([{"property": "type", "value": "page"}])"), (Keys{4}));
  // Conditions are ANDed.
  EXPECT_EQ(Matching(R"([{"property": "channel", "value": "douyin"}, {"property": "revenue", "op": "<", "value": 200}])"),
            (Keys{1}));
}

TEST_F(FilterOnRows, NestedPropertyPaths) {
  EXPECT_EQ(Matching(R"([{"property": "address.city", "value": "上海"}])"), (Keys{1}));
  EXPECT_EQ(Matching(R"([{"property": "properties.address.city", "op": "is_set"}])"), (Keys{1, 2}));
  // "address" is a string on event 3 and the city is null on event 5: not set.
  EXPECT_EQ(Matching(R"([{"property": "address.city", "op": "is_not_set"}])"), (Keys{3, 4, 5}));
  EXPECT_EQ(Matching(R"([{"property": "address.zip", "op": ">=", "value": 200000}])"), (Keys{1}));
  EXPECT_EQ(Matching(R"([{"property": "first_order", "value": true}])"), (Keys{2}));
  EXPECT_EQ(Matching(R"([{"property": "first_order", "op": "!=", "value": true}])"), (Keys{1, 3, 4, 5}));
  EXPECT_EQ(Matching(R"([{"property": "coupon", "op": "contains", "value": "NEW"}])"), (Keys{1}));
  EXPECT_EQ(Matching(R"([{"property": "address.city.district", "op": "is_set"}])"), (Keys{}));
}

// A key containing dots ("utm.source") is tried whole when the dotted walk
// finds nothing (filter.cc, the path walk).
TEST_F(FilterOnRows, DottedKeyFallsBackToTheWholeKey) {
  EXPECT_EQ(Matching(R"([{"property": "utm.source", "value": "x"}])"), (Keys{3}));
}

TEST_F(FilterOnRows, BreakdownLabels) {
  EXPECT_EQ(Labels("channel"), (std::vector<std::string>{"douyin", "wechat", "(none)", "xiaohongshu", "douyin"}));
  EXPECT_EQ(Labels("revenue"), (std::vector<std::string>{"150", "99.5", "(none)", "(none)", "300"}));
  EXPECT_EQ(Labels("address.city"), (std::vector<std::string>{"上海", "北京", "(none)", "(none)", "(none)"}));
  EXPECT_EQ(Labels("first_order"), (std::vector<std::string>{"(none)", "true", "(none)", "(none)", "false"}));
  EXPECT_EQ(Labels("tags"), (std::vector<std::string>{"(none)", "(none)", "[\"a\", \"b\"]", "(none)", "(none)"}));
  EXPECT_EQ(Labels("type"), (std::vector<std::string>{"track", "track", "track", "page", "track"}));
}

// ---- sequences.h ------------------------------------------------------------------

struct Row {
  int64_t ts;
  int tag;
};

TEST(PersonSequences, GroupsByPersonAndOrdersByTimeStably) {
  PersonSequences<Row> seq;
  seq.Add(7, {30, 0});
  seq.Add(3, {20, 1});
  seq.Add(7, {10, 2});
  seq.Add(3, {20, 3});  // same time as tag 1: stays after it
  seq.Add(3, {5, 4});
  seq.Add(12, {1, 5});
  seq.Add(7, {30, 6});
  seq.Build();
  ASSERT_EQ(seq.persons(), 3u);
  EXPECT_EQ(seq.rows(), 7u);
  EXPECT_EQ(seq.one_id(0), 3u);
  EXPECT_EQ(seq.one_id(1), 7u);
  EXPECT_EQ(seq.one_id(2), 12u);
  auto tags = [&](size_t p) {
    std::vector<int> t;
    for (const Row& r : seq.rows(p)) t.push_back(r.tag);
    return t;
  };
  EXPECT_EQ(tags(0), (std::vector<int>{4, 1, 3}));
  EXPECT_EQ(tags(1), (std::vector<int>{2, 0, 6}));
  EXPECT_EQ(tags(2), (std::vector<int>{5}));
}

TEST(PersonSequences, EmptyAndReused) {
  PersonSequences<Row> seq;
  seq.Build();
  EXPECT_EQ(seq.persons(), 0u);
  int calls = 0;
  seq.ForEachPerson(4, [&](int, size_t, std::span<const Row>) { ++calls; });
  EXPECT_EQ(calls, 0);
  seq.Add(1, {1, 0});
  seq.Build();
  EXPECT_EQ(seq.persons(), 1u);
}

// Several parts (one per scan thread) built on 1-3 threads give the same
// sequences as one part built alone: rows grouped by one_id, time order,
// ties in part order then add order. 300,000 rows: enough for the threads
// to split the one_id range.
TEST(PersonSequences, BuildFromPartsOnThreadsMatchesOnePart) {
  std::mt19937 rng(5);
  std::map<uint32_t, std::vector<Row>> want;
  std::vector<std::vector<std::pair<uint32_t, Row>>> adds(3);
  int tag = 0;
  for (int part = 0; part < 3; ++part) {
    for (int i = 0; i < 100000; ++i) {
      const uint32_t id = 1 + rng() % 50000;
      const Row row{static_cast<int64_t>(rng() % 40), tag++};  // many equal times
      adds[part].push_back({id, row});
      want[id].push_back(row);
    }
  }
  for (auto& [id, rows] : want) {
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.ts < b.ts; });
  }
  for (int threads : {1, 2, 3}) {
    std::vector<PersonSequences<Row>> parts(3);
    for (int part = 0; part < 3; ++part) {
      for (const auto& [id, row] : adds[part]) parts[part].Add(id, row);
    }
    std::vector<PersonSequences<Row>*> ptrs = {&parts[0], &parts[1], &parts[2]};
    PersonSequences<Row> seq;
    seq.BuildFrom(ptrs, threads);
    ASSERT_EQ(seq.persons(), want.size()) << threads;
    EXPECT_EQ(seq.rows(), 300000u);
    size_t p = 0;
    for (const auto& [id, rows] : want) {
      ASSERT_EQ(seq.one_id(p), id) << threads;
      std::vector<int> got, expected;
      for (const Row& r : seq.rows(p)) got.push_back(r.tag);
      for (const Row& r : rows) expected.push_back(r.tag);
      ASSERT_EQ(got, expected) << "one_id " << id << " threads " << threads;
      ++p;
    }
    EXPECT_EQ(parts[1].pending(), 0u);  // the parts' rows were taken
  }
}

TEST(PersonSequences, ForEachPersonVisitsEveryPersonOnceInParallel) {
  PersonSequences<Row> seq;
  std::mt19937 rng(3);
  const uint32_t persons = 20000;
  std::vector<int> count(persons + 1, 0);
  for (int i = 0; i < 100000; ++i) {
    const uint32_t id = 1 + rng() % persons;
    ++count[id];
    seq.Add(id, {static_cast<int64_t>(rng() % 1000), i});
  }
  seq.Build();
  std::vector<std::atomic<int>> seen(persons + 1);
  std::atomic<int> bad_worker{0}, unsorted{0}, wrong_size{0};
  seq.ForEachPerson(3, [&](int worker, size_t p, std::span<const Row> rows) {
    if (worker < 0 || worker >= 3) ++bad_worker;
    const uint32_t id = seq.one_id(p);
    ++seen[id];
    if (static_cast<int>(rows.size()) != count[id]) ++wrong_size;
    for (size_t i = 1; i < rows.size(); ++i) {
      if (rows[i - 1].ts > rows[i].ts) ++unsorted;
    }
  });
  EXPECT_EQ(bad_worker, 0);
  EXPECT_EQ(unsorted, 0);
  EXPECT_EQ(wrong_size, 0);
  for (uint32_t id = 1; id <= persons; ++id) ASSERT_EQ(seen[id], count[id] > 0 ? 1 : 0) << id;
}

// ---- query.h helpers --------------------------------------------------------------

TEST(Helpers, RatioAmountQuantile) {
  EXPECT_TRUE(Ratio(1, 0).is_null());
  EXPECT_EQ(Ratio(2, 3), 0.666667);
  EXPECT_EQ(Ratio(0, 5), 0.0);
  EXPECT_EQ(Amount(12.345), 12.35);
  EXPECT_TRUE(Amount(std::nullopt).is_null());
  std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_EQ(*Quantile(&v, 0.5), 3);
  EXPECT_EQ(*Quantile(&v, 0.9), 5);
  EXPECT_EQ(*Quantile(&v, 0.0), 1);
  std::vector<double> empty;
  EXPECT_FALSE(Quantile(&empty, 0.5).has_value());
  std::vector<double> four = {10, 20, 30, 40};
  EXPECT_EQ(*Quantile(&four, 0.5), 20);  // nearest rank: ceil(0.5 * 4) = 2
}

TEST(Helpers, NameListAndInterner) {
  NameList names({"Order Completed", "Product Viewed"});
  std::vector<int32_t> codes;
  names.Translate({"Landing", "Product Viewed", "Order Completed"}, &codes);
  EXPECT_EQ(codes, (std::vector<int32_t>{-1, 1, 0}));
  Interner in;
  EXPECT_EQ(in.Intern("b"), 0u);
  std::vector<uint32_t> ids;
  in.Translate({"a", "b", "a"}, &ids);
  EXPECT_EQ(ids, (std::vector<uint32_t>{1, 0, 1}));
  EXPECT_EQ(in.Name(1), "a");
  EXPECT_EQ(in.size(), 2u);
}

}  // namespace
}  // namespace quanyu::query
