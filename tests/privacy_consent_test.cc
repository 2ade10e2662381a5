// The consent ledger and the privacy gate's rules (src/privacy): golden
// cases for each rule of docs/privacy.md, "Enforcement".
#include <gtest/gtest.h>

#include <map>

#include "privacy/consent.h"
#include "privacy/gate.h"
#include "map_kv.h"

namespace quanyu::privacy {
namespace {

Event WithContext(std::string context, int64_t t = 1000, std::string id = "m1") {
  Event e;
  e.type = EventType::kTrack;
  e.name = "Consent Updated";
  e.timestamp_us = t;
  e.source = "web";
  e.message_id = std::move(id);
  e.context_json = std::move(context);
  return e;
}

ConsentDecision D(Topic t, ConsentStatus s, int64_t time, std::string id = "m") {
  ConsentDecision d;
  d.topic = t;
  d.status = s;
  d.time_us = time;
  d.source = "web";
  d.message_id = std::move(id);
  return d;
}

TEST(ConsentDecisions, SegmentCategoryPreferencesMapCategoryNames) {
  size_t unknown = 0;
  auto d = DecisionsOf(WithContext(R"({"consent":{"categoryPreferences":{"Advertising":true,)"
                                   R"("Analytics":false,"Functional":true,"Mystery":true}}})"),
                       &unknown);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(unknown, 1u);
  std::map<Topic, ConsentStatus> got;
  for (const auto& x : d) got[x.topic] = x.status;
  EXPECT_EQ(got[Topic::kMarketing], ConsentStatus::kGranted);
  EXPECT_EQ(got[Topic::kAnalytics], ConsentStatus::kDenied);
  EXPECT_EQ(got[Topic::kPersonalization], ConsentStatus::kGranted);
  EXPECT_EQ(d[0].message_id, "m1");
  EXPECT_EQ(d[0].time_us, 1000);
  EXPECT_EQ(d[0].source, "web");
}

TEST(ConsentDecisions, PurposesChannelsPolicyVersionAndSource) {
  auto d = DecisionsOf(WithContext(
      R"({"consent":{"purposes":{"sensitive":"granted","cross_border_transfer":"withdrawn"},)"
      R"("channels":{"sms":false,"marketing":true},"policy_version":"v3","source":"crm"}})"));
  // "marketing" is not a channel: skipped.
  ASSERT_EQ(d.size(), 3u);
  for (const auto& x : d) {
    EXPECT_EQ(x.policy_version, "v3");
    EXPECT_EQ(x.source, "crm");
  }
  std::map<Topic, ConsentStatus> got;
  for (const auto& x : d) got[x.topic] = x.status;
  EXPECT_EQ(got, (std::map<Topic, ConsentStatus>{{Topic::kSensitive, ConsentStatus::kGranted},
                                                 {Topic::kCrossBorder, ConsentStatus::kWithdrawn},
                                                 {Topic::kSms, ConsentStatus::kDenied}}));
}

TEST(ConsentDecisions, SensorsDollarConsentProperty) {
  Event e;
  e.type = EventType::kProfileSet;
  e.traits_json = R"({"$consent":{"purposes":{"marketing":"denied"}},"name":"x"})";
  auto d = DecisionsOf(e);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].topic, Topic::kMarketing);
  EXPECT_EQ(d[0].status, ConsentStatus::kDenied);
}

TEST(ConsentDecisions, MalformedOrAbsentConsentYieldsNothing) {
  EXPECT_TRUE(DecisionsOf(WithContext("")).empty());
  EXPECT_TRUE(DecisionsOf(WithContext(R"({"library":{"name":"consent"}})")).empty());
  EXPECT_TRUE(DecisionsOf(WithContext(R"({"consent":"yes"})")).empty());
  EXPECT_TRUE(
      DecisionsOf(WithContext(R"({"consent":{"purposes":{"marketing":"maybe"}}})")).empty());
  EXPECT_TRUE(DecisionsOf(WithContext(R"({"consent":{"purposes":[1,2]}})")).empty());
  EXPECT_TRUE(DecisionsOf(WithContext(R"({"consent": {broken)")).empty());
}

TEST(ConsentFold, LatestWinsAndADenialAfterAGrantIsAWithdrawal) {
  ConsentState s = FoldDecisions({D(Topic::kMarketing, ConsentStatus::kDenied, 300, "c"),
                                  D(Topic::kMarketing, ConsentStatus::kGranted, 100, "a"),
                                  D(Topic::kAnalytics, ConsentStatus::kDenied, 50, "z")});
  EXPECT_EQ(s.of(Topic::kMarketing), ConsentStatus::kWithdrawn);
  EXPECT_EQ(s.of(Topic::kAnalytics), ConsentStatus::kDenied);  // never granted: denied
  EXPECT_EQ(s.of(Topic::kSms), ConsentStatus::kUnknown);
  ASSERT_EQ(s.history.size(), 3u);
  EXPECT_EQ(s.history.front().message_id, "z");  // time order
  EXPECT_EQ(s.history[s.latest[static_cast<int>(Topic::kMarketing)]].message_id, "c");
  // Granted again after the withdrawal.
  s = FoldDecisions({D(Topic::kMarketing, ConsentStatus::kGranted, 100),
                     D(Topic::kMarketing, ConsentStatus::kDenied, 200),
                     D(Topic::kMarketing, ConsentStatus::kGranted, 300)});
  EXPECT_EQ(s.of(Topic::kMarketing), ConsentStatus::kGranted);
}

TEST(ConsentFold, AtEqualTimesTheRefusalWinsWhateverTheOrder) {
  auto a = D(Topic::kMarketing, ConsentStatus::kGranted, 100, "b");
  auto b = D(Topic::kMarketing, ConsentStatus::kDenied, 100, "a");
  EXPECT_TRUE(FoldDecisions({a, b}).refused(Topic::kMarketing));
  EXPECT_TRUE(FoldDecisions({b, a}).refused(Topic::kMarketing));
}

using ::quanyu::testing::MapKv;

TEST(ConsentLedger, FoldsOverKeysIgnoresReplaysAndPersists) {
  ConsentLedger ledger;
  EXPECT_TRUE(ledger.empty());
  Event a = WithContext(R"({"consent":{"purposes":{"marketing":"granted"}}})", 100, "a");
  a.identity_key = 7;
  Event b = WithContext(R"({"consent":{"categoryPreferences":{"marketing":false}}})", 200, "b");
  b.identity_key = 9;
  Event none;
  none.identity_key = 7;
  ledger.Apply({a, b, none});
  ledger.Apply({a});  // a log replay re-applies: recorded once
  EXPECT_EQ(ledger.records(), 2u);
  EXPECT_EQ(ledger.Fold({7}).of(Topic::kMarketing), ConsentStatus::kGranted);
  EXPECT_EQ(ledger.Fold({7, 9}).of(Topic::kMarketing), ConsentStatus::kWithdrawn);
  EXPECT_EQ(ledger.Fold({8}).of(Topic::kMarketing), ConsentStatus::kUnknown);

  MapKv kv;
  KvWriteBatch batch;
  ledger.WriteDirty(&batch);
  EXPECT_EQ(batch.size(), 2u);
  kv.Write(batch);
  auto loaded = ConsentLedger::Load(kv);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->records(), 2u);
  EXPECT_EQ((*loaded)->Fold({7, 9}).history, ledger.Fold({7, 9}).history);

  ledger.Erase({9});
  KvWriteBatch erase;
  ledger.WriteDirty(&erase);
  kv.Write(erase);
  auto after = ConsentLedger::Load(kv);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)->records(), 1u);
  EXPECT_EQ((*after)->Fold({7, 9}).of(Topic::kMarketing), ConsentStatus::kGranted);
}

TEST(ConsentLedger, CorruptRecordsAreReported) {
  MapKv kv;
  kv.data[IdKey(ConsentLedger::kKeyPrefix, 1)] = "\x01\x05";  // 5 decisions, none there
  EXPECT_EQ(ConsentLedger::Load(kv).status().code(), StatusCode::kCorruption);
  std::string good = EncodeDecisions({D(Topic::kSms, ConsentStatus::kGranted, 5)});
  good[3] = 9;  // status byte out of range
  kv.data[IdKey(ConsentLedger::kKeyPrefix, 1)] = good;
  EXPECT_EQ(ConsentLedger::Load(kv).status().code(), StatusCode::kCorruption);
}

// ---- the gate at collect ----------------------------------------------------------

Event Track(std::string props = "", std::string source = "web") {
  Event e;
  e.type = EventType::kTrack;
  e.name = "Product Viewed";
  e.message_id = "t1";
  e.source = std::move(source);
  e.properties_json = std::move(props);
  return e;
}

ConsentState State(std::vector<ConsentDecision> d) { return FoldDecisions(std::move(d)); }

TEST(GateAtCollect, DefaultPolicyDropsOnlyWhenAnalyticsIsRefused) {
  CollectPolicy p;  // drop_refused
  Event e = Track();
  EXPECT_FALSE(GateAtCollect(p, State({}), false, &e).drop);
  auto granted = State({D(Topic::kAnalytics, ConsentStatus::kGranted, 1)});
  EXPECT_FALSE(GateAtCollect(p, granted, false, &e).drop);
  auto withdrawn = State({D(Topic::kAnalytics, ConsentStatus::kGranted, 1),
                          D(Topic::kAnalytics, ConsentStatus::kDenied, 2)});
  auto v = GateAtCollect(p, withdrawn, false, &e);
  EXPECT_TRUE(v.drop);
  EXPECT_EQ(v.rule, "analytics_consent");
  EXPECT_NE(v.message.find("withdrawn"), std::string::npos) << v.message;
  // Identify and profile records are not behavioural: kept.
  Event id = Track();
  id.type = EventType::kIdentify;
  EXPECT_FALSE(GateAtCollect(p, withdrawn, false, &id).drop);
  // The event that carries the decision is the proof: kept.
  EXPECT_FALSE(GateAtCollect(p, withdrawn, true, &e).drop);
}

TEST(GateAtCollect, RequireGrantedAndAcceptPoliciesPerSource) {
  CollectPolicy p;
  p.analytics = AnalyticsPolicy::kRequireGranted;
  p.analytics_by_source["pos"] = AnalyticsPolicy::kAccept;
  Event web = Track();
  EXPECT_TRUE(GateAtCollect(p, State({}), false, &web).drop);
  EXPECT_FALSE(
      GateAtCollect(p, State({D(Topic::kAnalytics, ConsentStatus::kGranted, 1)}), false, &web)
          .drop);
  Event pos = Track("", "pos");
  EXPECT_FALSE(
      GateAtCollect(p, State({D(Topic::kAnalytics, ConsentStatus::kDenied, 1)}), false, &pos).drop);
  EXPECT_EQ(AnalyticsPolicyNamed("bogus").status().code(), StatusCode::kInvalidArgument);
}

TEST(GateAtCollect, SensitivePropertiesAreStrippedWithoutSensitiveConsent) {
  CollectPolicy p;
  Event e = Track(R"({"sku":"A1","$latitude":31.2,"bank_card_number":"6222","note":"latitude"})");
  e.context_json =
      R"({"location":{"latitude":31.2,"longitude":121.5,"city":"上海"},"ip":"1.2.3.4"})";
  auto v = GateAtCollect(p, State({}), false, &e);
  EXPECT_FALSE(v.drop);
  EXPECT_EQ(v.stripped, 4u);
  // A value that happens to equal a key name is not a key: kept.
  EXPECT_EQ(e.properties_json, R"({"sku":"A1","note":"latitude"})");
  EXPECT_EQ(e.context_json, R"({"location":{"city":"上海"},"ip":"1.2.3.4"})");

  Event kept = Track(R"({"sku":"A1","$latitude":31.2})");
  auto sensitive = State({D(Topic::kSensitive, ConsentStatus::kGranted, 1)});
  EXPECT_EQ(GateAtCollect(p, sensitive, false, &kept).stripped, 0u);
  EXPECT_EQ(kept.properties_json, R"({"sku":"A1","$latitude":31.2})");
}

TEST(GateAtCollect, EscapedKeyNamesDoNotSlipThrough) {
  CollectPolicy p;
  Event e = Track(R"({"\u006catitude":31.2,"sku":"A"})");
  EXPECT_EQ(GateAtCollect(p, State({}), false, &e).stripped, 1u);
  EXPECT_EQ(e.properties_json, R"({"sku":"A"})");
}

TEST(GateAtCollect, ConfiguredSensitivePropertiesReplaceTheDefaults) {
  CollectPolicy p;
  p.sensitive_properties = {"salary", "traits.blood_type"};
  Event e = Track(R"({"salary":100,"$latitude":1})");
  e.traits_json = R"({"traits":{"blood_type":"O","name":"x"}})";
  EXPECT_EQ(GateAtCollect(p, State({}), false, &e).stripped, 2u);
  EXPECT_EQ(e.properties_json, R"({"$latitude":1})");
  EXPECT_EQ(e.traits_json, R"({"traits":{"name":"x"}})");
}

TEST(GateAtCollect, ChildrenUnder14NeedSensitiveConsent) {
  CollectPolicy p;
  Event child = Track();
  child.type = EventType::kIdentify;
  child.traits_json = R"({"age":12,"name":"小明"})";
  auto v = GateAtCollect(p, State({}), false, &child);
  EXPECT_TRUE(v.drop);
  EXPECT_EQ(v.rule, "child_data");
  Event text_age = Track(R"({"age":"9"})");
  EXPECT_TRUE(GateAtCollect(p, State({}), false, &text_age).drop);
  Event adult = Track(R"({"age":14})");
  EXPECT_FALSE(GateAtCollect(p, State({}), false, &adult).drop);
  auto guardian = State({D(Topic::kSensitive, ConsentStatus::kGranted, 1)});
  EXPECT_FALSE(GateAtCollect(p, guardian, false, &child).drop);
  p.child_age_property.clear();
  EXPECT_FALSE(GateAtCollect(p, State({}), false, &text_age).drop);
}

// ---- the use decision ------------------------------------------------------------

TEST(MayUse, TheTableOfDocsPrivacyMd) {
  Use in_house{Topic::kMarketing, std::nullopt, false, false, "csv"};
  Use ad{Topic::kMarketing, std::nullopt, true, false, "tencent_ads"};
  Use abroad{Topic::kMarketing, std::nullopt, true, true, "meta"};
  Use sms{Topic::kMarketing, Topic::kSms, false, false, "sms"};

  auto silent = State({});
  EXPECT_TRUE(MayUse(silent, in_house).allowed);
  EXPECT_EQ(MayUse(silent, ad).rule, "purpose_not_granted");
  EXPECT_TRUE(MayUse(silent, sms).allowed);

  auto marketing = State({D(Topic::kMarketing, ConsentStatus::kGranted, 1)});
  EXPECT_TRUE(MayUse(marketing, ad).allowed);
  EXPECT_EQ(MayUse(marketing, abroad).rule, "cross_border_not_granted");
  auto both = State({D(Topic::kMarketing, ConsentStatus::kGranted, 1),
                     D(Topic::kCrossBorder, ConsentStatus::kGranted, 1)});
  EXPECT_TRUE(MayUse(both, abroad).allowed);

  auto no_sale = State({D(Topic::kMarketing, ConsentStatus::kGranted, 1),
                        D(Topic::kThirdPartySharing, ConsentStatus::kDenied, 2)});
  EXPECT_EQ(MayUse(no_sale, ad).rule, "sharing_refused");
  EXPECT_TRUE(MayUse(no_sale, in_house).allowed);

  auto withdrawn = State({D(Topic::kMarketing, ConsentStatus::kGranted, 1),
                          D(Topic::kMarketing, ConsentStatus::kDenied, 2)});
  for (const Use& u : {in_house, ad, abroad, sms}) {
    auto d = MayUse(withdrawn, u);
    EXPECT_FALSE(d.allowed) << u.destination;
    EXPECT_EQ(d.rule, "purpose_refused");
    EXPECT_NE(d.reason.find("withdrawn"), std::string::npos);
  }

  auto no_sms = State({D(Topic::kSms, ConsentStatus::kDenied, 1)});
  EXPECT_EQ(MayUse(no_sms, sms).rule, "channel_refused");
  Use email{Topic::kMarketing, Topic::kEmail, false, false, "email"};
  EXPECT_TRUE(MayUse(no_sms, email).allowed);
}

}  // namespace
}  // namespace quanyu::privacy
