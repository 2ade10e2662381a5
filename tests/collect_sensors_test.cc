// Sensors Data (神策) protocol: golden tests over real SDK request shapes
// (tests/golden/sensors/, see make_fixtures.py there), request-level errors,
// and the base64 / gzip decoders underneath.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "collect/internal/base64.h"
#include "collect/internal/gzip.h"
#include "collect/sensors_format.h"

namespace quanyu::collect {
namespace {

using internal::Base64Decode;
using internal::Base64Encode;
using internal::GunzipCapped;
using nlohmann::json;

constexpr int64_t kReceivedUs = 1'700'700'000'000'000;

std::string GoldenDir() { return std::string(QUANYU_SOURCE_DIR) + "/tests/golden/sensors/"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The fields of a parsed event, with empty ones left out so expected files
// stay readable; the JSON columns are embedded as parsed JSON.
json EventToJson(const Event& e) {
  json j;
  j["type"] = std::string(EventTypeName(e.type));
  if (!e.name.empty()) j["name"] = e.name;
  j["timestamp_us"] = e.timestamp_us;
  if (e.received_us != kReceivedUs) j["received_us"] = e.received_us;
  if (!e.message_id.empty()) j["message_id"] = e.message_id;
  if (!e.user_id.empty()) j["user_id"] = e.user_id;
  if (!e.anonymous_id.empty()) j["anonymous_id"] = e.anonymous_id;
  j["identifiers"] = json::array();
  for (const auto& id : e.identifiers) j["identifiers"].push_back(id.ToString());
  if (!e.campaign.empty()) {
    j["campaign"] = {{"source", e.campaign.source},
                     {"medium", e.campaign.medium},
                     {"name", e.campaign.name},
                     {"term", e.campaign.term},
                     {"content", e.campaign.content}};
  }
  if (!e.referrer.empty()) j["referrer"] = e.referrer;
  if (!e.url.empty()) j["url"] = e.url;
  if (e.revenue) j["revenue"] = *e.revenue;
  if (e.value) j["value"] = *e.value;
  if (e.quantity) j["quantity"] = *e.quantity;
  if (!e.currency.empty()) j["currency"] = e.currency;
  if (!e.order_id.empty()) j["order_id"] = e.order_id;
  if (!e.product_id.empty()) j["product_id"] = e.product_id;
  if (!e.properties_json.empty()) j["properties"] = json::parse(e.properties_json);
  if (!e.traits_json.empty()) j["traits"] = json::parse(e.traits_json);
  if (!e.context_json.empty()) j["context"] = json::parse(e.context_json);
  return j;
}

json RequestToJson(const ParsedRequest& r) {
  json j;
  j["events"] = json::array();
  for (const auto& e : r.events) j["events"].push_back(EventToJson(e));
  j["rejected"] = json::array();
  for (const auto& x : r.rejected) {
    j["rejected"].push_back({{"index", x.index}, {"reason", x.reason}, {"message", x.message}});
  }
  return j;
}

class SensorsGoldenTest : public ::testing::TestWithParam<std::string> {};

// <name>.form is a query string / form body, <name>.body a raw JSON body;
// <name>.expected.json is what the parser must produce.
TEST_P(SensorsGoldenTest, MatchesExpected) {
  const std::string name = GetParam();
  SensorsRequest request;
  std::ifstream form(GoldenDir() + name + ".form");
  if (form.good()) {
    ParseSensorsForm(ReadFile(GoldenDir() + name + ".form"), &request);
  } else {
    request.raw_body = ReadFile(GoldenDir() + name + ".body");
  }
  auto parsed = ParseSensorsRequest(request, kReceivedUs, Limits{});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  json actual = RequestToJson(*parsed);

  const std::string expected_path = GoldenDir() + name + ".expected.json";
  if (std::getenv("QUANYU_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expected_path) << actual.dump(2) << "\n";
    GTEST_SKIP() << "rewrote " << expected_path;
  }
  json expected = json::parse(ReadFile(expected_path));
  EXPECT_EQ(expected, actual) << "diff (expected → actual): "
                              << json::diff(expected, actual).dump(2);
}

INSTANTIATE_TEST_SUITE_P(Sdk, SensorsGoldenTest,
                         ::testing::Values("web_js_pageview", "web_js_batch", "android_batch_gzip",
                                           "java_server_mime", "miniprogram_profile",
                                           "track_signup", "id_bind_unbind", "raw_json_body",
                                           "rejections"));

// --- request-level errors -------------------------------------------------

Result<ParsedRequest> ParseForm(const std::string& form, const Limits& limits = Limits{}) {
  SensorsRequest request;
  ParseSensorsForm(form, &request);
  return ParseSensorsRequest(request, kReceivedUs, limits);
}

std::string Gzip(std::string_view data, int window_bits = 15 + 16) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

constexpr std::string_view kOneTrack =
    R"({"type":"track","event":"Buy","distinct_id":"u1","time":1700000000000,"_track_id":7})";

TEST(SensorsRequestTest, NoDataIsInvalidArgument) {
  auto r = ParseForm("project=default&crc=1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("no data"), std::string::npos);
}

TEST(SensorsRequestTest, BadBase64NamesTheCharacterAndOffset) {
  auto r = ParseForm("data=eyJh!IjoxfQ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "data: invalid base64 character '!' (0x21) at offset 4");
}

TEST(SensorsRequestTest, BadGzipIsInvalidArgument) {
  auto r = ParseForm("gzip=1&data_list=" + Base64Encode("this is not gzip at all"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("data_list (gzip=1)"), std::string::npos)
      << r.status().message();
}

TEST(SensorsRequestTest, TruncatedGzipIsInvalidArgument) {
  std::string gz = Gzip(std::string(kOneTrack));
  auto r = ParseForm("gzip=1&data=" + Base64Encode(gz.substr(0, gz.size() / 2), true));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated gzip stream"), std::string::npos)
      << r.status().message();
}

TEST(SensorsRequestTest, NonJsonIsInvalidArgument) {
  auto r = ParseForm("data=" + Base64Encode("hello, world"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("data is not valid JSON"), std::string::npos)
      << r.status().message();
}

TEST(SensorsRequestTest, ScalarJsonIsInvalidArgument) {
  auto r = ParseForm("data=" + Base64Encode("\"just a string\""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "data must hold a JSON object or array, not a string");
}

TEST(SensorsRequestTest, EncryptedPayloadIsRejectedClearly) {
  auto r = ParseForm("data=%7B%22pkv%22%3A1%7D&gzip=9");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gzip=9"), std::string::npos);
}

TEST(SensorsRequestTest, GzipBombIsPayloadTooLarge) {
  Limits limits;
  limits.max_batch_bytes = 1000;  // inflated cap: 4000 bytes
  std::string big = "[" + std::string(kOneTrack);
  while (big.size() < 10000) big += "," + std::string(kOneTrack);
  big += "]";
  std::string gz = Gzip(big);
  ASSERT_LT(gz.size(), 1000u);
  auto r = ParseForm("gzip=1&data_list=" + Base64Encode(gz), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge) << r.status().ToString();
}

TEST(SensorsRequestTest, DecodedBodyOverLimitIsPayloadTooLarge) {
  Limits limits;
  limits.max_batch_bytes = 64;
  auto r =
      ParseForm("data=" + Base64Encode(std::string(kOneTrack) + std::string(100, ' ')), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
}

TEST(SensorsRequestTest, TooManyRecordsIsPayloadTooLarge) {
  Limits limits;
  limits.max_batch_events = 2;
  std::string list = "[" + std::string(kOneTrack) + "," + std::string(kOneTrack) + "," +
                     std::string(kOneTrack) + "]";
  auto r = ParseForm("data_list=" + Base64Encode(list), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
}

TEST(SensorsRequestTest, OversizedRecordIsRejectedAlone) {
  Limits limits;
  limits.max_event_bytes = 200;
  std::string big = R"({"type":"track","event":"Big","distinct_id":"u1","properties":{"blob":")" +
                    std::string(300, 'x') + "\"}}";
  auto r = ParseForm("data_list=" + Base64Encode("[" + big + "," + std::string(kOneTrack) + "]"),
                     limits);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(r->rejected[0].index, 0);
  EXPECT_EQ(r->rejected[0].reason, "event_too_large");
}

TEST(SensorsRequestTest, UnencodedPlusThatBecameSpaceStillDecodes) {
  // base64 of "{}>>" ... contains '+'; a client that forgot to percent-encode
  // it sends '+', which form decoding turns into ' '.
  std::string json = R"({"type":"track","event":"E","distinct_id":"u~~~>>>"})";
  std::string b64 = Base64Encode(json);
  ASSERT_NE(b64.find('+'), std::string::npos);
  auto r = ParseForm("data=" + b64);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].anonymous_id, "u~~~>>>");
}

TEST(SensorsRequestTest, GzipIsDetectedWithoutTheFlag) {
  auto r = ParseForm("data=" + Base64Encode(Gzip(std::string(kOneTrack))));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].message_id, "7");
  EXPECT_EQ(r->events[0].timestamp_us, 1'700'000'000'000'000);
}

TEST(SensorsRequestTest, PlainJsonInDataParameterIsAccepted) {
  SensorsRequest request;
  request.data = std::string(kOneTrack);
  auto r = ParseSensorsRequest(request, kReceivedUs, Limits{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->events.size(), 1u);
}

TEST(SensorsRequestTest, MissingTimeMeansReceivedTime) {
  SensorsRequest request;
  request.raw_body =
      R"({"type":"profile_delete","distinct_id":"u1","properties":{"$is_login_id":true}})";
  auto r = ParseSensorsRequest(request, kReceivedUs, Limits{});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].timestamp_us, kReceivedUs);
  EXPECT_EQ(r->events[0].type, EventType::kProfileDelete);
  EXPECT_EQ(r->events[0].user_id, "u1");
  EXPECT_TRUE(r->events[0].traits_json.empty());
  EXPECT_TRUE(r->events[0].message_id.empty());
}

TEST(SensorsRequestTest, EngineOnlyTypesAreUnknownRecordTypes) {
  // identity_split is an admin correction (POST /api/v1/identity/split); a
  // client holding only a write key must not be able to send one.
  SensorsRequest request;
  request.raw_body =
      R"([{"type":"identity_split","distinct_id":"u1","properties":{"one_id":1,"message_id":"m"}},)"
      R"({"type":"track","event":"Ok","distinct_id":"u1"}])";
  auto r = ParseSensorsRequest(request, kReceivedUs, Limits{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u) << "the good record is kept";
  EXPECT_EQ(r->events[0].type, EventType::kTrack);
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(r->rejected[0].index, 0);
  EXPECT_EQ(r->rejected[0].reason, "unknown_type");
}

// --- form decoding --------------------------------------------------------

TEST(SensorsFormTest, PercentDecodesAndIgnoresOtherKeys) {
  SensorsRequest r;
  ParseSensorsForm("project=default&data_list=ab%2Bc%2F%3D%3D&gzip=1&ext=crc%3D5&token", &r);
  EXPECT_EQ(r.data_list, "ab+c/==");
  EXPECT_EQ(r.gzip, "1");
  EXPECT_TRUE(r.data.empty());
}

TEST(SensorsFormTest, PlusIsSpaceAndBadEscapesStayLiteral) {
  SensorsRequest r;
  ParseSensorsForm("data=a+b%zz%4&gzip", &r);
  EXPECT_EQ(r.data, "a b%zz%4");
  EXPECT_EQ(r.gzip, "");
}

// --- base64 ---------------------------------------------------------------

TEST(Base64Test, RoundTripsBothAlphabets) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (bool url_safe : {false, true}) {
    for (size_t n = 0; n <= all.size(); n += 37) {
      auto d = Base64Decode(Base64Encode(all.substr(0, n), url_safe));
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      EXPECT_EQ(*d, all.substr(0, n));
    }
  }
}

TEST(Base64Test, ToleratesMissingPaddingAndWhitespace) {
  EXPECT_EQ(Base64Decode("eyJhIjoxfQ").value(), R"({"a":1})");
  EXPECT_EQ(Base64Decode("eyJhIjoxfQ=").value(), R"({"a":1})");
  EXPECT_EQ(Base64Decode("eyJh\r\nIjox\nfQ==\n").value(), R"({"a":1})");
  EXPECT_EQ(Base64Decode("").value(), "");
}

TEST(Base64Test, MixedAlphabetsDecode) { EXPECT_EQ(Base64Decode("-_+/").value(), "\xfb\xff\xbf"); }

TEST(Base64Test, ErrorsArePrecise) {
  EXPECT_EQ(Base64Decode("ab*d").status().message(),
            "invalid base64 character '*' (0x2a) at offset 2");
  EXPECT_EQ(Base64Decode("ab\xff").status().message(), "invalid base64 character 0xff at offset 2");
  EXPECT_EQ(Base64Decode("abcde").status().message(),
            "invalid base64: truncated input (a final group of one character)");
  EXPECT_EQ(Base64Decode("ab==cd").status().message(),
            "invalid base64: data after padding at offset 4");
  EXPECT_FALSE(Base64Decode("ab===").ok());
  EXPECT_FALSE(Base64Decode("abcd=").ok());
}

// --- gzip -----------------------------------------------------------------

TEST(GunzipTest, DetectsGzipZlibAndRawDeflate) {
  const std::string text(5000, 'q');
  for (int bits : {15 + 16, 15, -15}) {
    auto r = GunzipCapped(Gzip(text, bits), 1 << 20);
    ASSERT_TRUE(r.ok()) << bits << ": " << r.status().ToString();
    EXPECT_EQ(*r, text);
  }
}

TEST(GunzipTest, InflatesConcatenatedMembers) {
  auto r = GunzipCapped(Gzip("hello ") + Gzip("world"), 100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "hello world");
}

TEST(GunzipTest, RejectsTrailingGarbageAndEmptyInput) {
  auto r = GunzipCapped(Gzip("hello") + "xyz", 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "3 bytes of trailing data after the gzip stream");
  EXPECT_EQ(GunzipCapped("", 100).status().code(), StatusCode::kInvalidArgument);
}

TEST(GunzipTest, CapIsExact) {
  const std::string text(4096, 'z');
  EXPECT_TRUE(GunzipCapped(Gzip(text), 4096).ok());
  auto r = GunzipCapped(Gzip(text), 4095);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
}

TEST(GunzipTest, CorruptStreamIsInvalidArgument) {
  std::string gz = Gzip(std::string(2000, 'a') + "tail");
  gz[gz.size() / 2] ^= 0x55;
  gz[gz.size() / 2 + 1] ^= 0x55;
  auto r = GunzipCapped(gz, 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quanyu::collect
