// Hashed identifier export (audience/export_hash.h). Every expected hash
// below was computed by hand outside the code, e.g.
//   printf '%s' 13800138000 | md5sum
//   printf '%s' '+8613800138000' | sha256sum
// and pasted as a literal, so a wrong normalization or digest shows up as a
// byte difference in the files.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "audience/export_hash.h"

namespace quanyu::audience {
namespace {

// md5 of the 11-digit mobiles.
constexpr char kMd5Mobile138[] = "7945bd83237335e5376ff44d62e4f0ae";  // 13800138000
constexpr char kMd5Mobile139[] = "ffd07e1a0527aaeadd164d4a149a6506";  // 13900139000
constexpr char kMd5Mobile137[] = "17d35429d964901ff7130b694c4d3879";  // 13700137000
// sha256 of the 11-digit mobiles.
constexpr char kShaMobile138[] = "a6942f9771d67f34034d2f1926988ed3fad3bf1b4e7cedb9a31f31398dea43bc";
constexpr char kShaMobile139[] = "f1d8142cbb59c0a2f93f91fbe934f83f9afbdab0b8fafaabad0f842b32aab322";
constexpr char kShaMobile137[] = "77455f2b4288d76b7fd8377e881b291c57cd5fae8e41524058b600ea3ce5802d";
// Device ids; the first two are also the examples of Tencent's own docs.
constexpr char kMd5Idfa[] =
    "2c010ed96aef2fc34983e1e7e9176b7e";  // FF1999CD-7177-4937-A474-74937A102630
constexpr char kMd5Imei[] = "f2d5a650733ca8c27d502b1c08da14e5";  // a000002c9060f7
constexpr char kMd5Oaid[] =
    "83e9158a4fb54c0e1ef0b238639a23ae";  // 1fe9a970-efbb-29e0-0bdd-f5dbbf751ab5
// Emails.
constexpr char kShaAliceDots[] =  // alice.smith@gmail.com
    "d4e561b8ed6eadd056ac000dcb0ed6d5a1af7549110820c20fc42e02f4e370c6";
constexpr char kShaAliceNoDots[] =  // alicesmith@gmail.com
    "49da89ea7f43bdcea1b59f6cdc646f247e55a389912115a91283b36617667838";
constexpr char kShaBob[] = "5ff860bf1190596c7188ab851db691f0f3169c453936e9e1eba2f9a47f7a0018";
constexpr char kShaCarol[] = "e0d47ca1bc1eb62e650fc1fd660a9bfbf7cba8dc6337d81df7ea9aa9071a24a5";
constexpr char kMd5Carol[] = "d4766e3f21c67b7c786f012d910fa54f";
// Phones, Meta form (digits with country code) and Google form (E.164).
constexpr char kShaMeta138[] = "bf08aacce7f9b2452863cf99373043c3333f0e3127f1f787c4abb46ab6cf2b83";
constexpr char kShaMeta137[] = "1a199e7f001773c56ccbc7cc3f984b917e24e5cd4ac2ca8b2fae8604c507a8b0";
constexpr char kShaMetaUs[] = "758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0";
constexpr char kShaGoogle138[] = "ec61f3c620a98bdead8c1f1f0ae747abd1b62a0c2dba4fd4bc22cf0d1d8653e5";
constexpr char kShaGoogle137[] = "f05b6b33894e71f2a4680384d5e388d6d12c7121fdb9aaa0dffd98f45013f940";
constexpr char kShaGoogleUs[] = "cb6880e416769253645cb9c6b8989154bf66a56a77fc14c81fb1019663cbb928";

Identifier Id(std::string ns, std::string value) {
  return Identifier{std::move(ns), "", std::move(value)};
}

// A: every raw id type, in awkward case. B: a US phone and pre-hashed ids.
// C: nothing any ad platform takes. D: A's phone again, a duplicate of it as
// phone_md5, and a second mobile.
std::vector<std::vector<Identifier>> Persons() {
  return {
      {Id("user_id", "u1"), Id("phone", "+8613800138000"), Id("email", "Alice.Smith@Gmail.com"),
       Id("idfa", "ff1999cd-7177-4937-a474-74937a102630"), Id("imei", "A000002C9060F7"),
       Id("oaid", "1fe9a970-efbb-29e0-0bdd-f5dbbf751ab5")},
      {Id("phone", "+14155552671"), Id("email", "bob@example.com"), Id("phone_md5", kMd5Mobile139),
       Id("phone_sha256", kShaMobile139), Id("email_sha256", kShaCarol),
       Id("email_md5", kMd5Carol)},
      {Id("user_id", "u3"), Id("anonymous_id", "a3"), Id("device_id", "d3")},
      {Id("phone", "+8613800138000"), Id("phone_md5", kMd5Mobile138),
       Id("phone", "+8613700137000")},
  };
}

std::string Lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

TEST(ExportHashTest, DigestTestVectors) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ExportHashTest, DestinationNamesRoundTrip) {
  for (AdDestination d : {AdDestination::kTencentAds, AdDestination::kOceanEngine,
                          AdDestination::kMeta, AdDestination::kGoogle}) {
    Result<AdDestination> parsed = AdDestinationNamed(AdDestinationName(d));
    ASSERT_TRUE(parsed.ok()) << AdDestinationName(d);
    EXPECT_EQ(*parsed, d);
  }
  EXPECT_EQ(AdDestinationName(AdDestination::kOceanEngine), "ocean_engine");
  Result<AdDestination> bad = AdDestinationNamed("facebook");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("tencent_ads, ocean_engine, meta, google"),
            std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(AdDestinationNamed("Meta").ok());
}

TEST(ExportHashTest, TencentAdsFiles) {
  std::map<std::string, std::string> want = {
      {"mobile_md5.txt", Lines({kMd5Mobile138, kMd5Mobile139, kMd5Mobile138, kMd5Mobile137})},
      {"idfa_md5.txt", Lines({kMd5Idfa})},
      {"imei_md5.txt", Lines({kMd5Imei})},
      {"oaid_md5.txt", Lines({kMd5Oaid})},
  };
  EXPECT_EQ(BuildExportFiles(AdDestination::kTencentAds, Persons()), want);
}

TEST(ExportHashTest, OceanEngineFiles) {
  std::map<std::string, std::string> want = {
      {"mobile_md5.txt", Lines({kMd5Mobile138, kMd5Mobile139, kMd5Mobile138, kMd5Mobile137})},
      {"mobile_sha256.txt", Lines({kShaMobile138, kShaMobile139, kShaMobile138, kShaMobile137})},
      {"idfa_md5.txt", Lines({kMd5Idfa})},
      {"imei_md5.txt", Lines({kMd5Imei})},
      {"oaid_md5.txt", Lines({kMd5Oaid})},
  };
  EXPECT_EQ(BuildExportFiles(AdDestination::kOceanEngine, Persons()), want);
}

TEST(ExportHashTest, MetaCsv) {
  std::string want = std::string("email,phone\n") +              //
                     kShaAliceDots + "," + kShaMeta138 + "\n" +  // A: dots kept for Meta
                     kShaBob + "," + kShaMetaUs + "\n" +         // B: first email, US phone
                     kShaCarol + ",\n" +                         // B: pre-hashed email
                     "," + kShaMeta138 + "\n" +                  // D: no email
                     "," + kShaMeta137 + "\n";
  std::map<std::string, std::string> files = BuildExportFiles(AdDestination::kMeta, Persons());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files["meta_customer_list.csv"], want);
}

TEST(ExportHashTest, GoogleCsv) {
  std::string want = std::string("Email,Phone\n") +                  //
                     kShaAliceNoDots + "," + kShaGoogle138 + "\n" +  // A: gmail dots removed
                     kShaBob + "," + kShaGoogleUs + "\n" +           //
                     kShaCarol + ",\n" +                             //
                     "," + kShaGoogle138 + "\n" +                    //
                     "," + kShaGoogle137 + "\n";
  std::map<std::string, std::string> files = BuildExportFiles(AdDestination::kGoogle, Persons());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files["google_customer_match.csv"], want);
}

TEST(ExportHashTest, TencentRowsAreInTypeOrderWithCaseNormalized) {
  // IDFA given lower-case is upper-cased, IMEI given upper-case is
  // lower-cased, before MD5; the order is the destination's type order, not
  // the input order.
  std::vector<Identifier> ids = {
      Id("oaid", "1fe9a970-efbb-29e0-0bdd-f5dbbf751ab5"), Id("imei", "A000002C9060F7"),
      Id("idfa", " ff1999cd-7177-4937-a474-74937a102630 "), Id("phone", "+8613800138000")};
  std::vector<HashedId> want = {{"mobile_md5", kMd5Mobile138},
                                {"idfa_md5", kMd5Idfa},
                                {"imei_md5", kMd5Imei},
                                {"oaid_md5", kMd5Oaid}};
  EXPECT_EQ(HashForDestination(AdDestination::kTencentAds, ids), want);
}

TEST(ExportHashTest, ChinesePlatformsSkipNonMainlandPhones) {
  std::vector<Identifier> ids = {Id("phone", "+14155552671"), Id("phone", "+85291234567"),
                                 Id("phone", "+862161234567"),  // Shanghai landline
                                 Id("phone", "13800138000")};   // not E.164
  EXPECT_TRUE(HashForDestination(AdDestination::kTencentAds, ids).empty());
  EXPECT_TRUE(HashForDestination(AdDestination::kOceanEngine, ids).empty());
  // The non-mainland numbers still reach Meta and Google; the malformed one
  // reaches no one.
  EXPECT_EQ(HashForDestination(AdDestination::kMeta, ids).size(), 3u);
  EXPECT_EQ(HashForDestination(AdDestination::kGoogle, ids).size(), 3u);
}

TEST(ExportHashTest, UpperCaseEmailIsLowerCasedForMetaAndGoogle) {
  std::vector<Identifier> ids = {Id("email", "  BOB@Example.COM ")};
  EXPECT_EQ(HashForDestination(AdDestination::kMeta, ids),
            (std::vector<HashedId>{{"email", kShaBob}}));
  EXPECT_EQ(HashForDestination(AdDestination::kGoogle, ids),
            (std::vector<HashedId>{{"Email", kShaBob}}));
}

TEST(ExportHashTest, GoogleRemovesDotsOnlyForGmailDomains) {
  std::vector<Identifier> ids = {Id("email", "Dave.X@googlemail.com"),
                                 Id("email", "j.doe@example.com")};
  std::vector<HashedId> want = {
      {"Email", "527516c60684538202d186959ffc208f88aee9ff12f0fc3e67b5c53e4d65d630"},  // davex@
      {"Email", "94deda8cbfffb401b5e169240db9a96a21bd69d9e1ff264e4393fa24f9b4043c"},  // j.doe@
  };
  EXPECT_EQ(HashForDestination(AdDestination::kGoogle, ids), want);
  // Meta keeps the dots.
  EXPECT_EQ(HashForDestination(AdDestination::kMeta, {Id("email", "dave.x@googlemail.com")}),
            (std::vector<HashedId>{
                {"email", "62a5b7bb27c0c82afe4f6181b30ae21b3ea174a4a4c61988543151bd87dd8731"}}));
}

TEST(ExportHashTest, PreHashedIdsPassOnlyWhereTheirTypeMatches) {
  std::vector<Identifier> ids = {Id("phone_md5", kMd5Mobile139), Id("phone_sha256", kShaMobile139),
                                 Id("email_sha256", kShaCarol), Id("email_md5", kMd5Carol)};
  EXPECT_EQ(HashForDestination(AdDestination::kTencentAds, ids),
            (std::vector<HashedId>{{"mobile_md5", kMd5Mobile139}}));
  EXPECT_EQ(
      HashForDestination(AdDestination::kOceanEngine, ids),
      (std::vector<HashedId>{{"mobile_md5", kMd5Mobile139}, {"mobile_sha256", kShaMobile139}}));
  EXPECT_EQ(HashForDestination(AdDestination::kMeta, ids),
            (std::vector<HashedId>{{"email", kShaCarol}}));
  EXPECT_EQ(HashForDestination(AdDestination::kGoogle, ids),
            (std::vector<HashedId>{{"Email", kShaCarol}}));
  // A value that is not a digest of the right length is not passed on.
  EXPECT_TRUE(
      HashForDestination(AdDestination::kTencentAds, {Id("phone_md5", kShaMobile139)}).empty());
  EXPECT_TRUE(HashForDestination(AdDestination::kMeta, {Id("email_sha256", "xyz")}).empty());
}

TEST(ExportHashTest, DuplicatesWithinAPersonCollapse) {
  // The raw phone and its pre-hashed MD5 give the same row once; the same
  // email twice gives one row.
  std::vector<Identifier> ids = {Id("phone", "+8613800138000"), Id("phone_md5", kMd5Mobile138),
                                 Id("phone", "+8613800138000")};
  EXPECT_EQ(HashForDestination(AdDestination::kTencentAds, ids),
            (std::vector<HashedId>{{"mobile_md5", kMd5Mobile138}}));
  std::vector<Identifier> emails = {Id("email", "bob@example.com"), Id("email", "BOB@example.com")};
  EXPECT_EQ(BuildExportFiles(AdDestination::kMeta, {emails})["meta_customer_list.csv"],
            std::string("email,phone\n") + kShaBob + ",\n");
}

TEST(ExportHashTest, NoUsablePersonMeansNoFiles) {
  std::vector<std::vector<Identifier>> persons = {
      {Id("user_id", "u1")}, {}, {Id("email_md5", kMd5Carol)}};
  for (AdDestination d : {AdDestination::kTencentAds, AdDestination::kOceanEngine,
                          AdDestination::kMeta, AdDestination::kGoogle}) {
    EXPECT_TRUE(BuildExportFiles(d, persons).empty()) << AdDestinationName(d);
    EXPECT_TRUE(BuildExportFiles(d, {}).empty()) << AdDestinationName(d);
  }
}

}  // namespace
}  // namespace quanyu::audience
