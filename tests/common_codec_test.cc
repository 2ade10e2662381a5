#include <gtest/gtest.h>

#include <cmath>

#include "common/config.h"
#include "common/event_codec.h"
#include "common/time_util.h"

namespace quanyu {
namespace {

Event FullEvent() {
  Event e;
  e.timestamp_us = 1'767'225'600'123'456;
  e.received_us = e.timestamp_us + 2'000'000;
  e.type = EventType::kProfileIncrement;
  e.name = "Order Completed 订单";
  e.message_id = "m-1";
  e.source = "tmall_store";
  e.channel = "tmall";
  e.user_id = "u1";
  e.anonymous_id = "a1";
  e.identifiers = {{"phone", "", "+8613800138000"}, {"wechat_openid", "wx1", "o-abc"}};
  e.campaign = {"douyin", "cpc", "双11", "term", "content"};
  e.referrer = "https://www.douyin.com/";
  e.url = "https://shop/?a=1";
  e.revenue = 12.5;
  e.quantity = 0;
  e.currency = "CNY";
  e.order_id = "o1";
  e.product_id = "p1";
  e.properties_json = R"({"k":"v"})";
  e.traits_json = R"({"city":"上海"})";
  e.context_json = R"({"ip":"1.2.3.4"})";
  return e;
}

TEST(EventCodecTest, RoundTripsEveryField) {
  std::vector<Event> events = {FullEvent(), Event{}};
  std::string buf;
  EncodeEventBatch(events, &buf);
  auto decoded = DecodeEventBatch(buf);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, events);
}

TEST(EventCodecTest, EveryTruncationIsCorruptionNotACrash) {
  std::string buf;
  EncodeEventBatch({FullEvent()}, &buf);
  for (size_t n = 0; n < buf.size(); ++n) {
    auto r = DecodeEventBatch(std::string_view(buf.data(), n));
    EXPECT_FALSE(r.ok()) << "prefix " << n;
  }
}

TEST(TimeUtilTest, ParsesTheFormsSdksSend) {
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2026-11-22T08:00:00Z")), "2026-11-22T08:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2026-11-22T08:00:00.123+08:00")),
            "2026-11-22T00:00:00.123Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2026-11-22 08:00:00")), "2026-11-22T08:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2026-11-22")), "2026-11-22T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("1969-12-31T23:59:59Z")), "1969-12-31T23:59:59.000Z");
  for (const char* bad : {"", "2026", "2026-13-01", "2026-11-22T25:00:00Z", "2026-11-22Tx",
                          "2026-11-22T08:00:00Zjunk"}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatDay(DayOf(*ParseTimestamp("2026-11-22T23:59:59Z"))), "2026-11-22");
}

TEST(ConfigTest, ParsesDocumentedKeysAndRefusesUnknownOnes) {
  auto c = ParseConfig(R"(
[server]
listen = "0.0.0.0:9000"
[limits]
max_event_bytes = 1000
[[sources]]
name = "web"
type = "web"
write_key = "abcdefgh12"
[[channels]]
channel = "xiaohongshu"
utm_source = "redbook"
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "0.0.0.0:9000");
  EXPECT_EQ(c->max_event_bytes, 1000u);
  ASSERT_EQ(c->sources.size(), 1u);
  EXPECT_EQ(c->channel_rules[0].utm_source, "redbook");
  auto bad = ParseConfig("[server]\nlisten_on = 1\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("server.listen_on"), std::string::npos);
  auto syntax = ParseConfig("[server\n");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("line 1"), std::string::npos);
}

TEST(ConfigTest, ReadsIdentityRules) {
  auto c = ParseConfig(R"(
[identity]
wechat_open_account = "open_1"
max_merges_per_person = 50
max_identifiers_per_person = 300
[[identity.rules]]
namespace = "phone"
limit = 2
priority = 3
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->wechat_open_account, "open_1");
  EXPECT_EQ(c->identity_max_merges, 50);
  EXPECT_EQ(c->identity_max_identifiers, 300);
  ASSERT_EQ(c->identity_rules.size(), 1u);
  EXPECT_EQ(c->identity_rules[0].ns, "phone");
  EXPECT_EQ(c->identity_rules[0].limit, 2);
  auto missing = ParseConfig("[[identity.rules]]\nnamespace = \"phone\"\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("limit >= 1"), std::string::npos);
  auto typo = ParseConfig("[[identity.rules]]\nnamespace = \"phone\"\nlimt = 2\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("identity.rules.limt"), std::string::npos);
}

}  // namespace
}  // namespace quanyu
