// Unit tests for privacy/tracking_plan: each violation kind, each mode and
// its overrides, the typed commerce columns, plan parse errors by JSON path,
// and the ToJson round trip.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "privacy/tracking_plan.h"

namespace quanyu::privacy {
namespace {

using Verdict = Validation::Verdict;

// Order Completed blocks; Product Viewed uses the default (flag) and is closed
// to other properties; Home is a page definition.
constexpr std::string_view kPlan = R"({
  "mode": "flag",
  "unplanned": "allow",
  "events": [
    {"name": "Order Completed", "mode": "block",
     "properties": {
       "order_id": {"type": "string", "required": true},
       "revenue": {"type": "number", "required": true},
       "payment": {"type": "string", "enum": ["alipay", "wechat_pay", "card"]}},
     "allow_other_properties": true},
    {"name": "Product Viewed",
     "properties": {
       "sku": {"type": "string", "required": true},
       "rating": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
       "discount": {"type": "number", "enum": [0.5, 1]},
       "price": {"type": "number"},
       "in_stock": {"type": "boolean"},
       "tags": {"type": "array"},
       "seller": {"type": "object"}},
     "allow_other_properties": false},
    {"name": "Home", "types": ["page", "screen"]}
  ]})";

TrackingPlan MustParse(std::string_view text) {
  Result<TrackingPlan> plan = TrackingPlan::Parse(text);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : TrackingPlan();
}

Event MakeEvent(std::string name, std::string properties_json = "",
                EventType type = EventType::kTrack) {
  Event e;
  e.type = type;
  e.name = std::move(name);
  e.properties_json = std::move(properties_json);
  return e;
}

// A valid Order Completed: the collector lifted order_id and revenue.
Event Order(std::string properties_json = "") {
  Event e = MakeEvent("Order Completed", std::move(properties_json));
  e.order_id = "o-1";
  e.revenue = 99.5;
  return e;
}

std::vector<std::string> Kinds(const Validation& v) {
  std::vector<std::string> kinds;
  for (const Violation& x : v.violations) kinds.push_back(x.kind);
  return kinds;
}

using KindList = std::vector<std::string>;

TEST(TrackingPlanCheck, ValidEventsAreAccepted) {
  TrackingPlan plan = MustParse(kPlan);
  Validation order = plan.Check(Order(R"({"payment":"alipay","note":"gift"})"));
  EXPECT_EQ(order.verdict, Verdict::kAccept);
  EXPECT_TRUE(order.violations.empty());
  Validation viewed = plan.Check(MakeEvent(
      "Product Viewed",
      R"({"sku":"A1","rating":4,"discount":0.5,"price":3.5,"in_stock":true,"tags":["x"],"seller":{}})"));
  EXPECT_EQ(viewed.verdict, Verdict::kAccept) << testing::PrintToString(Kinds(viewed));
}

TEST(TrackingPlanCheck, MissingRequired) {
  Validation v = MustParse(kPlan).Check(MakeEvent("Product Viewed", R"({"price":1})"));
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].kind, "missing_required");
  EXPECT_EQ(v.violations[0].property, "sku");
  EXPECT_EQ(v.violations[0].message, R"(required property "sku" is missing)");
}

TEST(TrackingPlanCheck, EmptyPropertiesJsonMeansNoProperties) {
  Validation v = MustParse(kPlan).Check(MakeEvent("Product Viewed", ""));
  EXPECT_EQ(Kinds(v), KindList{"missing_required"});
  EXPECT_EQ(v.verdict, Verdict::kFlag);
}

TEST(TrackingPlanCheck, WrongType) {
  // A revenue the collector could not lift stays in properties_json.
  Event e = Order(R"({"revenue":"12"})");
  e.revenue.reset();
  Validation v = MustParse(kPlan).Check(e);
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].kind, "wrong_type");
  EXPECT_EQ(v.violations[0].property, "revenue");
  EXPECT_EQ(v.violations[0].message, R"(property "revenue" must be a number, got string "12")");
}

TEST(TrackingPlanCheck, WrongTypeOfEachKind) {
  TrackingPlan plan = MustParse(kPlan);
  for (std::string props :
       {R"({"sku":1})", R"({"sku":"a","price":"1"})", R"({"sku":"a","in_stock":1})",
        R"({"sku":"a","tags":{}})", R"({"sku":"a","seller":[]})", R"({"sku":null})"}) {
    Validation v = plan.Check(MakeEvent("Product Viewed", props));
    EXPECT_EQ(Kinds(v), KindList{"wrong_type"}) << props;
  }
}

TEST(TrackingPlanCheck, NotInEnumWithStrings) {
  Validation v = MustParse(kPlan).Check(Order(R"({"payment":"paypal"})"));
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].kind, "not_in_enum");
  EXPECT_EQ(v.violations[0].property, "payment");
  EXPECT_EQ(
      v.violations[0].message,
      R"(property "payment" must be one of "alipay", "wechat_pay", "card", got string "paypal")");
}

TEST(TrackingPlanCheck, EnumWithNumbers) {
  TrackingPlan plan = MustParse(kPlan);
  auto check = [&](const std::string& props) {
    return Kinds(plan.Check(MakeEvent("Product Viewed", R"({"sku":"a",)" + props + "}")));
  };
  EXPECT_EQ(check(R"("rating":3)"), KindList{});
  EXPECT_EQ(check(R"("rating":3.0)"), KindList{});
  EXPECT_EQ(check(R"("rating":6)"), KindList{"not_in_enum"});
  EXPECT_EQ(check(R"("rating":"3")"), KindList{"wrong_type"});
  EXPECT_EQ(check(R"("discount":0.5)"), KindList{});
  EXPECT_EQ(check(R"("discount":1)"), KindList{});
  EXPECT_EQ(check(R"("discount":0.25)"), KindList{"not_in_enum"});
  Validation v = plan.Check(MakeEvent("Product Viewed", R"({"sku":"a","rating":6})"));
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].message,
            R"(property "rating" must be one of 1, 2, 3, 4, 5, got number 6)");
}

TEST(TrackingPlanCheck, IntegerVersusNumber) {
  TrackingPlan plan = MustParse(R"({"events":[{"name":"E","properties":{
      "n":{"type":"number"},"i":{"type":"integer"}}}]})");
  auto kinds = [&](const std::string& props) { return Kinds(plan.Check(MakeEvent("E", props))); };
  EXPECT_EQ(kinds(R"({"i":3,"n":3})"), KindList{});
  EXPECT_EQ(kinds(R"({"i":-3.0,"n":3.5})"), KindList{});
  EXPECT_EQ(kinds(R"({"i":3.5})"), KindList{"wrong_type"});
  EXPECT_EQ(kinds(R"({"i":true})"), KindList{"wrong_type"});
  Validation v = plan.Check(MakeEvent("E", R"({"i":3.5})"));
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].message, R"(property "i" must be an integer, got number 3.5)");
}

TEST(TrackingPlanCheck, UnexpectedPropertyIncludesTypedColumns) {
  Event e = MakeEvent("Product Viewed", R"({"sku":"a","coupon":"X","aaa":1})");
  e.currency = "CNY";  // the client sent a currency the definition does not list
  Validation v = MustParse(kPlan).Check(e);
  EXPECT_EQ(Kinds(v),
            (KindList{"unexpected_property", "unexpected_property", "unexpected_property"}));
  ASSERT_EQ(v.violations.size(), 3u);
  EXPECT_EQ(v.violations[0].property, "aaa");
  EXPECT_EQ(v.violations[1].property, "coupon");
  EXPECT_EQ(v.violations[2].property, "currency");
  EXPECT_EQ(v.violations[1].message,
            R"(property "coupon" is not in the plan for event "Product Viewed")");
}

TEST(TrackingPlanCheck, OtherPropertiesAllowedByDefault) {
  Validation v = MustParse(kPlan).Check(Order(R"({"coupon":"X"})"));
  EXPECT_EQ(v.verdict, Verdict::kAccept);
}

TEST(TrackingPlanCheck, InvalidPropertiesJsonIsReportedNotFatal) {
  TrackingPlan plan = MustParse(kPlan);
  for (std::string bad : {"{not json", "[1,2]", "null", R"({"sku":)"}) {
    Validation v = plan.Check(MakeEvent("Product Viewed", bad));
    EXPECT_EQ(Kinds(v), KindList{"invalid_properties_json"}) << bad;
    EXPECT_EQ(v.verdict, Verdict::kFlag) << bad;
  }
  // Typed columns are still checked; the unreadable JSON blocks in block mode.
  Event e = Order("{oops");
  e.order_id.clear();
  Validation v = plan.Check(e);
  EXPECT_EQ(Kinds(v), (KindList{"invalid_properties_json", "missing_required"}));
  EXPECT_EQ(v.violations[1].property, "order_id");
  EXPECT_EQ(v.verdict, Verdict::kBlock);
}

TEST(TrackingPlanCheck, TypedColumnsSatisfyRequiredProperties) {
  TrackingPlan plan = MustParse(kPlan);
  Event e = Order("");  // revenue and order_id live only in the typed columns
  ASSERT_EQ(e.properties_json.find("revenue"), std::string::npos);
  EXPECT_EQ(plan.Check(e).verdict, Verdict::kAccept);

  Event no_order_id = Order();
  no_order_id.order_id.clear();
  Validation v = plan.Check(no_order_id);
  EXPECT_EQ(Kinds(v), KindList{"missing_required"});
  EXPECT_EQ(v.violations[0].property, "order_id");

  Event no_revenue = Order();
  no_revenue.revenue.reset();
  EXPECT_EQ(Kinds(plan.Check(no_revenue)), KindList{"missing_required"});
}

TEST(TrackingPlanCheck, TypedColumnsAreTypeChecked) {
  TrackingPlan plan = MustParse(R"({"events":[{"name":"Buy","properties":{
      "quantity":{"type":"integer","required":true},
      "currency":{"type":"string","enum":["CNY","USD"]}}}]})");
  Event e = MakeEvent("Buy");
  e.quantity = 2;
  e.currency = "CNY";
  EXPECT_EQ(plan.Check(e).verdict, Verdict::kAccept);
  e.quantity = 2.5;
  e.currency = "EUR";
  Validation v = plan.Check(e);
  EXPECT_EQ(Kinds(v), (KindList{"wrong_type", "not_in_enum"}));
  EXPECT_EQ(v.violations[0].message, R"(property "quantity" must be an integer, got number 2.5)");
}

TEST(TrackingPlanModes, AllowAcceptsAndReportsNothing) {
  TrackingPlan plan = MustParse(R"({"mode":"allow","events":[{"name":"E",
      "properties":{"a":{"type":"string","required":true}}}]})");
  Validation v = plan.Check(MakeEvent("E", R"({"a":1})"));
  EXPECT_EQ(v.verdict, Verdict::kAccept);
  EXPECT_TRUE(v.violations.empty());
}

TEST(TrackingPlanModes, FlagAcceptsWithViolations) {
  TrackingPlan plan = MustParse(R"({"mode":"flag","events":[{"name":"E",
      "properties":{"a":{"type":"string","required":true}}}]})");
  Validation v = plan.Check(MakeEvent("E", R"({"a":1})"));
  EXPECT_EQ(v.verdict, Verdict::kFlag);
  EXPECT_TRUE(v.accepted());
  EXPECT_EQ(Kinds(v), KindList{"wrong_type"});
}

TEST(TrackingPlanModes, BlockRefuses) {
  TrackingPlan plan = MustParse(R"({"mode":"block","events":[{"name":"E",
      "properties":{"a":{"type":"string","required":true}}}]})");
  Validation v = plan.Check(MakeEvent("E", R"({"a":1})"));
  EXPECT_EQ(v.verdict, Verdict::kBlock);
  EXPECT_FALSE(v.accepted());
  EXPECT_EQ(Kinds(v), KindList{"wrong_type"});
  EXPECT_EQ(plan.Check(MakeEvent("E", R"({"a":"x"})")).verdict, Verdict::kAccept);
}

TEST(TrackingPlanModes, ModeDefaultsToFlag) {
  TrackingPlan plan = MustParse(R"({"events":[{"name":"E",
      "properties":{"a":{"type":"string","required":true}}}]})");
  EXPECT_EQ(plan.mode(), PlanMode::kFlag);
  EXPECT_EQ(plan.Check(MakeEvent("E")).verdict, Verdict::kFlag);
}

TEST(TrackingPlanModes, PerEventOverrideBeatsDefault) {
  TrackingPlan plan = MustParse(R"({"mode":"block","events":[
      {"name":"Loose","mode":"allow","properties":{"a":{"type":"string","required":true}}},
      {"name":"Watched","mode":"flag","properties":{"a":{"type":"string","required":true}}},
      {"name":"Strict","properties":{"a":{"type":"string","required":true}}}]})");
  EXPECT_EQ(plan.Check(MakeEvent("Loose")).verdict, Verdict::kAccept);
  EXPECT_EQ(plan.Check(MakeEvent("Watched")).verdict, Verdict::kFlag);
  EXPECT_EQ(plan.Check(MakeEvent("Strict")).verdict, Verdict::kBlock);

  TrackingPlan lenient = MustParse(R"({"mode":"allow","events":[
      {"name":"Strict","mode":"block","properties":{"a":{"type":"string","required":true}}}]})");
  EXPECT_EQ(lenient.Check(MakeEvent("Strict")).verdict, Verdict::kBlock);
}

TEST(TrackingPlanUnplanned, EachMode) {
  const std::string events = R"("events":[{"name":"Known"}])";
  Event e = MakeEvent("Mystery", R"({"x":1})");
  EXPECT_EQ(MustParse("{" + events + "}").Check(e).verdict, Verdict::kAccept);  // default allow
  EXPECT_EQ(MustParse(R"({"unplanned":"allow",)" + events + "}").Check(e).verdict,
            Verdict::kAccept);
  Validation flagged = MustParse(R"({"unplanned":"flag",)" + events + "}").Check(e);
  EXPECT_EQ(flagged.verdict, Verdict::kFlag);
  ASSERT_EQ(Kinds(flagged), KindList{"unplanned_event"});
  EXPECT_EQ(flagged.violations[0].property, "");
  EXPECT_EQ(flagged.violations[0].message,
            R"(event "Mystery" (track) is not in the tracking plan)");
  Validation blocked = MustParse(R"({"unplanned":"block",)" + events + "}").Check(e);
  EXPECT_EQ(blocked.verdict, Verdict::kBlock);
  EXPECT_EQ(Kinds(blocked), KindList{"unplanned_event"});
}

TEST(TrackingPlanUnplanned, IndependentOfDefaultMode) {
  TrackingPlan plan = MustParse(R"({"mode":"allow","unplanned":"block","events":[]})");
  EXPECT_EQ(plan.Check(MakeEvent("Anything")).verdict, Verdict::kBlock);
}

TEST(TrackingPlanUnplanned, OnlyNamedEventsOfGovernedTypes) {
  TrackingPlan strict = MustParse(R"({"unplanned":"block","events":[{"name":"Known"}]})");
  // Nameless records (identify, profile_set) and types no definition lists pass.
  EXPECT_EQ(strict.Check(MakeEvent("", "", EventType::kIdentify)).verdict, Verdict::kAccept);
  EXPECT_EQ(strict.Check(MakeEvent("Home", "", EventType::kPage)).verdict, Verdict::kAccept);
  EXPECT_EQ(strict.Check(MakeEvent("Other")).verdict, Verdict::kBlock);
  // Once a definition lists page, unknown page names are unplanned.
  TrackingPlan pages =
      MustParse(R"({"unplanned":"flag","events":[{"name":"Home","types":["page"]}]})");
  EXPECT_EQ(pages.Check(MakeEvent("Home", "", EventType::kPage)).verdict, Verdict::kAccept);
  EXPECT_EQ(Kinds(pages.Check(MakeEvent("Cart", "", EventType::kPage))),
            KindList{"unplanned_event"});
  // A definition applies only to its types: a track "Home" is not the page.
  EXPECT_EQ(Kinds(pages.Check(MakeEvent("Home"))), KindList{"unplanned_event"});
}

TEST(TrackingPlanCheck, EmptyPlanAcceptsEverything) {
  TrackingPlan plan;
  EXPECT_EQ(plan.Check(MakeEvent("Anything", "{bad")).verdict, Verdict::kAccept);
}

struct ParseErrorCase {
  std::string plan;
  std::string message;  // expected exactly, unless `prefix_only`
  bool prefix_only = false;
};

TEST(TrackingPlanParse, ErrorsNameTheirPath) {
  const std::vector<ParseErrorCase> cases = {
      {R"({"events":[{"name":"A"},{"name":"B"},{"name":"C","properties":{"revenue":{"type":"float"}}}]})",
       R"(events[2].properties.revenue.type: unknown type "float"; use one of string, number, )"
       "integer, boolean, object, array"},
      {R"({"events":[{"name":"A"},{"name":"B"},{"name":"A"}]})",
       R"(events[2].name: duplicate event "A" (also events[0]))"},
      {R"({"events":[{"name":"A","propertes":{}}]})",
       "events[0].propertes: unknown key; use one of name, types, mode, properties, "
       "allow_other_properties"},
      {R"({"events":[{"name":"A","properties":{"x":{"type":"string","requred":true}}}]})",
       "events[0].properties.x.requred: unknown key; use one of type, required, enum"},
      {R"({"mode":"flag","evnts":[]})", "evnts: unknown key; use one of mode, unplanned, events"},
      {R"({"events":[{"name":"A","properties":{"p":{"type":"string","enum":["a",3]}}}]})",
       "events[0].properties.p.enum[1]: must be a string, got number 3"},
      {R"({"events":[{"name":"A","properties":{"p":{"type":"integer","enum":[1,2.5]}}}]})",
       "events[0].properties.p.enum[1]: must be an integer, got number 2.5"},
      {R"({"mode":"warn","events":[]})",
       R"(mode: unknown mode "warn"; use one of allow, flag, block)"},
      {R"({"unplanned":true,"events":[]})",
       "unplanned: unknown mode boolean true; use one of allow, flag, block"},
      {R"({"events":[{"name":"A","mode":"strict"}]})",
       R"(events[0].mode: unknown mode "strict"; use one of allow, flag, block)"},
      {R"({"events":[{"name":"A","types":["track","pgae"]}]})",
       R"(events[0].types[1]: unknown event type "pgae"; use one of track, identify,)", true},
      {R"({"events":[{"name":"A","types":["page","page"]}]})",
       R"(events[0].types[1]: duplicate type "page")"},
      {R"({"events":[{"name":"A","properties":{"revenue":{"type":"string"}}}]})",
       R"(events[0].properties.revenue.type: "revenue" is a typed number column; use number or integer)"},
      {R"({"events":[{"name":"A","properties":{"order_id":{"type":"integer"}}}]})",
       R"(events[0].properties.order_id.type: "order_id" is a typed string column; use string)"},
      {R"({"events":[{"name":"A","properties":{"x":{"required":true}}}]})",
       "events[0].properties.x.type: missing type; use one of string, number, integer, boolean, "
       "object, array"},
      {R"({"events":[{"name":"A","properties":{"x":{"type":"string","required":"yes"}}}]})",
       R"(events[0].properties.x.required: must be a boolean, got string "yes")"},
      {R"({"events":[{"name":"A","allow_other_properties":0}]})",
       "events[0].allow_other_properties: must be a boolean, got number 0"},
      {R"({"events":[{"name":"A","properties":{"x":{"type":"object","enum":[{}]}}}]})",
       "events[0].properties.x.enum: enum applies only to string, number, integer and boolean"},
      {R"({"events":[{"name":"A","properties":{"x":{"type":"string","enum":[]}}}]})",
       "events[0].properties.x.enum: must be a non-empty array, got array"},
      {R"({"events":[{"name":""}]})", "events[0].name: must be a non-empty string"},
      {R"({"events":[{"types":["track"]}]})", "events[0].name: must be a non-empty string"},
      {R"({"events":[{"name":"A","properties":{"revenue":{"type":"number"},"revenue":{"type":"number","required":true}}}]})",
       "events[0].properties.revenue: duplicate key"},
      {R"({"mode":"flag"})", "events: must be an array of event definitions"},
      {R"([])", "plan: must be a JSON object, got array"},
      {R"({"events":[)", "plan: invalid JSON: ", true},
      {R"({"events":[42]})", "events[0]: must be an object, got number 42"},
  };
  for (const ParseErrorCase& c : cases) {
    Result<TrackingPlan> plan = TrackingPlan::Parse(c.plan);
    ASSERT_FALSE(plan.ok()) << c.plan;
    EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument) << c.plan;
    if (c.prefix_only) {
      EXPECT_EQ(plan.status().message().substr(0, c.message.size()), c.message) << c.plan;
    } else {
      EXPECT_EQ(plan.status().message(), c.message) << c.plan;
    }
  }
}

TEST(TrackingPlanParse, DefaultsAreFilledIn) {
  TrackingPlan plan =
      MustParse(R"({"events":[{"name":"E","properties":{"a":{"type":"string"}}}]})");
  EXPECT_EQ(plan.mode(), PlanMode::kFlag);
  EXPECT_EQ(plan.unplanned(), PlanMode::kAllow);
  ASSERT_EQ(plan.events().size(), 1u);
  const EventDefinition& def = plan.events()[0];
  EXPECT_EQ(def.types, std::vector<EventType>{EventType::kTrack});
  EXPECT_FALSE(def.mode.has_value());
  EXPECT_TRUE(def.allow_other_properties);
  ASSERT_EQ(def.properties.size(), 1u);
  EXPECT_FALSE(def.properties[0].required);
  EXPECT_TRUE(def.properties[0].allowed.empty());
}

TEST(TrackingPlanToJson, RendersNormalizedDocument) {
  TrackingPlan plan = MustParse(R"({"unplanned":"block","events":[
      {"name":"Order Completed","mode":"block","properties":{
        "order_id":{"type":"string","required":true},
        "rating":{"type":"integer","enum":[1,2]},
        "discount":{"type":"number","enum":[0.5]},
        "gift":{"type":"boolean","enum":[true]}}},
      {"name":"Home","types":["page"],"allow_other_properties":false}]})");
  nlohmann::json expected = nlohmann::json::parse(R"({
      "mode":"flag","unplanned":"block","events":[
      {"name":"Order Completed","types":["track"],"mode":"block","properties":{
        "order_id":{"type":"string","required":true},
        "rating":{"type":"integer","required":false,"enum":[1,2]},
        "discount":{"type":"number","required":false,"enum":[0.5]},
        "gift":{"type":"boolean","required":false,"enum":[true]}},
       "allow_other_properties":true},
      {"name":"Home","types":["page"],"properties":{},"allow_other_properties":false}]})");
  EXPECT_EQ(nlohmann::json::parse(plan.ToJson()), expected);
}

TEST(TrackingPlanToJson, RoundTripsThroughParse) {
  TrackingPlan plan = MustParse(kPlan);
  Result<TrackingPlan> again = TrackingPlan::Parse(plan.ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << plan.ToJson();
  EXPECT_EQ(again->mode(), plan.mode());
  EXPECT_EQ(again->unplanned(), plan.unplanned());
  EXPECT_EQ(again->events(), plan.events());
  EXPECT_EQ(again->ToJson(), plan.ToJson());
  // The reparsed plan behaves the same.
  EXPECT_EQ(Kinds(again->Check(Order(R"({"payment":"paypal"})"))), KindList{"not_in_enum"});
  EXPECT_EQ(again->Check(Order(R"({"payment":"paypal"})")).verdict, Verdict::kBlock);
}

TEST(TrackingPlanToJson, EmptyPlanRoundTrips) {
  TrackingPlan empty;
  Result<TrackingPlan> again = TrackingPlan::Parse(empty.ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), R"({"mode":"flag","unplanned":"allow","events":[]})");
}

}  // namespace
}  // namespace quanyu::privacy
