// Identifier normalization (ARCHITECTURE.md §3): table-driven cases per
// namespace, junk values, the configured block list and de-duplication.
#include <gtest/gtest.h>

#include "collect/identifiers.h"

namespace quanyu::collect {
namespace {

struct Case {
  std::string region;
  std::string ns;
  std::string value;
  std::string want;  // "" = dropped
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.region << " " << c.ns << ":" << c.value << " -> "
            << (c.want.empty() ? "(dropped)" : c.want);
}

class NormalizeTest : public ::testing::TestWithParam<Case> {};

TEST_P(NormalizeTest, Normalizes) {
  const Case& c = GetParam();
  IdentifierNormalizer normalizer(c.region, {});
  Identifier id{c.ns, "", c.value};
  bool kept = normalizer.Normalize(&id);
  if (c.want.empty()) {
    EXPECT_FALSE(kept) << "kept as " << id.value;
  } else {
    ASSERT_TRUE(kept);
    EXPECT_EQ(id.value, c.want);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Phone, NormalizeTest,
    ::testing::Values(
        // China (the default region): mobiles, country code forms, landlines.
        Case{"CN", "phone", "13800138000", "+8613800138000"},
        Case{"CN", "phone", "138 0013 8000", "+8613800138000"},
        Case{"CN", "phone", "138-0013-8000", "+8613800138000"},
        Case{"CN", "phone", "(138) 0013 8000", "+8613800138000"},
        Case{"CN", "phone", "8613800138000", "+8613800138000"},
        Case{"CN", "phone", "+86 138 0013 8000", "+8613800138000"},
        Case{"CN", "phone", "0086 13800138000", "+8613800138000"},
        Case{"CN", "phone", "  13800138000\n", "+8613800138000"},
        Case{"CN", "phone", "010-12345678", "+861012345678"},
        Case{"CN", "phone", "021 6888 8888", "+862168888888"},
        Case{"cn", "phone", "13800138000", "+8613800138000"},
        // International numbers keep their own country code whatever the region.
        Case{"CN", "phone", "+1 (415) 555-2671", "+14155552671"},
        Case{"CN", "phone", "+44 (0)20 7946 0958", "+442079460958"},
        Case{"CN", "phone", "+852 9123 4567", "+85291234567"},
        Case{"CN", "phone", "00852 9123 4567", "+85291234567"},
        // Other default regions.
        Case{"US", "phone", "(415) 555-2671", "+14155552671"},
        Case{"US", "phone", "1-415-555-2671", "+14155552671"},
        Case{"GB", "phone", "07911 123456", "+447911123456"},
        Case{"GB", "phone", "447911123456", "+447911123456"},
        Case{"HK", "phone", "9123 4567", "+85291234567"},
        Case{"TW", "phone", "0912-345-678", "+886912345678"},
        Case{"SG", "phone", "9123 4567", "+6591234567"},
        Case{"JP", "phone", "090-1234-5678", "+819012345678"},
        Case{"JP", "phone", "03-1234-5678", "+81312345678"},
        // Invalid: too short, too long, letters, wrong national shape.
        Case{"CN", "phone", "12345", ""}, Case{"CN", "phone", "23800138000", ""},
        Case{"CN", "phone", "138001380001", ""},
        Case{"CN", "phone", "+86 138 0013 8000 0000 0", ""}, Case{"CN", "phone", "1380013800a", ""},
        Case{"CN", "phone", "tel:13800138000", ""}, Case{"CN", "phone", "+", ""},
        Case{"CN", "phone", "1+3800138000", ""}, Case{"US", "phone", "123-456-7890", ""},
        Case{"ZZ", "phone", "13800138000", ""},
        Case{"ZZ", "phone", "+8613800138000", "+8613800138000"}));

INSTANTIATE_TEST_SUITE_P(
    Email, NormalizeTest,
    ::testing::Values(Case{"CN", "email", " Zhang.San@Example.COM ", "zhang.san@example.com"},
                      Case{"CN", "email", "a@b", "a@b"},
                      Case{"CN", "email", "no-at-sign.example.com", ""},
                      Case{"CN", "email", "@example.com", ""}, Case{"CN", "email", "user@", ""},
                      Case{"CN", "email", "a@b@c.com", ""},
                      Case{"CN", "email", "zhang san@example.com", ""}));

INSTANTIATE_TEST_SUITE_P(
    Hashed, NormalizeTest,
    ::testing::Values(Case{"CN", "phone_sha256",
                           "8D969EEF6ECAD3C29A3A629280E686CF0C3F5D5A86AFF3CA12020C923ADC6C92",
                           "8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92"},
                      Case{"CN", "email_md5", "0BC83CB571CD1C50BA6F3E8A78EF1346",
                           "0bc83cb571cd1c50ba6f3e8a78ef1346"},
                      Case{"CN", "email_sha256", "0bc83cb571cd1c50ba6f3e8a78ef1346",
                           ""},  // md5 length
                      Case{"CN", "phone_md5", "0bc83cb571cd1c50ba6f3e8a78ef134g", ""},  // not hex
                      Case{"CN", "phone_sha256", "13800138000", ""}));

INSTANTIATE_TEST_SUITE_P(
    Other, NormalizeTest,
    ::testing::Values(Case{"CN", "user_id", "  member_42 ", "member_42"},
                      Case{"CN", "USER_ID", "Member_42", "Member_42"},  // ids keep their case
                      Case{"CN", "idfa", "6d92078a-8246-4ba4-ae5b-76104861e7dc",
                           "6D92078A-8246-4BA4-AE5B-76104861E7DC"},
                      Case{"CN", "oaid", "f6e1b2c3-5d8e-4f10-9a7b-3c2d1e0f9a8b",
                           "f6e1b2c3-5d8e-4f10-9a7b-3c2d1e0f9a8b"},
                      Case{"CN", "wechat_openid", "oAbCd5Ef6GhIj7KlMn8OpQr9StUv",
                           "oAbCd5Ef6GhIj7KlMn8OpQr9StUv"},
                      Case{"CN", "user_id", std::string(513, 'x'), ""}));

// Junk is dropped from every namespace.
INSTANTIATE_TEST_SUITE_P(
    Junk, NormalizeTest,
    ::testing::Values(
        Case{"CN", "user_id", "null", ""}, Case{"CN", "user_id", "NULL", ""},
        Case{"CN", "user_id", "undefined", ""}, Case{"CN", "anonymous_id", "Anonymous", ""},
        Case{"CN", "user_id", "None", ""}, Case{"CN", "user_id", "nil", ""},
        Case{"CN", "user_id", "unknown", ""}, Case{"CN", "user_id", "0", ""},
        Case{"CN", "user_id", "-1", ""}, Case{"CN", "user_id", "", ""},
        Case{"CN", "user_id", "   ", ""}, Case{"CN", "user_id", " null ", ""},
        Case{"CN", "device_id", "00000000-0000-0000-0000-000000000000", ""},
        Case{"CN", "idfa", "00000000-0000-0000-0000-000000000000", ""},
        Case{"CN", "oaid", "0000000000000000", ""}, Case{"CN", "device_id", "----", ""},
        Case{"CN", "device_id", "00:00:00:00:00:00", ""}, Case{"CN", "phone", "0", ""},
        Case{"CN", "email", "NULL", ""}, Case{"CN", "user_id", "[object Object]", ""}));

TEST(IdentifierNormalizerTest, ConfiguredJunkIsCaseInsensitive) {
  IdentifierNormalizer normalizer("CN", {"test_user", " GUEST "});
  EXPECT_TRUE(normalizer.IsJunk("test_user"));
  EXPECT_TRUE(normalizer.IsJunk("TEST_USER"));
  EXPECT_TRUE(normalizer.IsJunk("guest"));
  EXPECT_FALSE(normalizer.IsJunk("guest2"));
  Identifier id{"user_id", "", "Guest"};
  EXPECT_FALSE(normalizer.Normalize(&id));
}

TEST(IdentifierNormalizerTest, ScopeIsKept) {
  IdentifierNormalizer normalizer("CN", {});
  Identifier id{"wechat_openid", " wx1a2b3c4d5e6f7a8b ", "oAbCd5Ef6GhIj7KlMn8OpQr9StUv"};
  ASSERT_TRUE(normalizer.Normalize(&id));
  EXPECT_EQ(id.ToString(), "wechat_openid:wx1a2b3c4d5e6f7a8b:oAbCd5Ef6GhIj7KlMn8OpQr9StUv");
}

TEST(IdentifierNormalizerTest, NormalizeAllDropsJunkAndDuplicates) {
  IdentifierNormalizer normalizer("CN", {});
  std::vector<Identifier> ids = {
      {"user_id", "", "member_42"},
      {"phone", "", "138 0013 8000"},
      {"phone", "", "+86 13800138000"},   // same number once normalized
      {"anonymous_id", "", "undefined"},  // junk
      {"email", "", "A@B.com"},
      {"email", "", "a@b.com "},  // duplicate after normalization
      {"wechat_openid", "wxA", "o1"},
      {"wechat_openid", "wxB", "o1"},  // other scope: kept
      {"user_id", "", "member_42"},    // exact duplicate
  };
  normalizer.NormalizeAll(&ids);
  std::vector<std::string> got;
  for (const auto& id : ids) got.push_back(id.ToString());
  EXPECT_EQ(got,
            (std::vector<std::string>{"user_id:member_42", "phone:+8613800138000", "email:a@b.com",
                                      "wechat_openid:wxA:o1", "wechat_openid:wxB:o1"}));
}

TEST(IdentifierNormalizerTest, KnownNamespaces) {
  for (const char* ns : {"user_id",       "anonymous_id",   "member_id",
                         "phone",         "email",          "device_id",
                         "idfa",          "idfv",           "oaid",
                         "android_id",    "wechat_openid",  "wechat_unionid",
                         "douyin_openid", "douyin_unionid", "wecom_external_userid",
                         "alipay_uid",    "taobao_nick",    "jd_pin",
                         "pdd_uid",       "xiaohongshu_id", "weibo_uid",
                         "bilibili_mid",  "kuaishou_id",    "phone_sha256",
                         "email_sha256",  "phone_md5",      "email_md5"}) {
    EXPECT_TRUE(IsKnownNamespace(ns)) << ns;
  }
  EXPECT_FALSE(IsKnownNamespace("previous_id"));
  EXPECT_FALSE(IsKnownNamespace("Phone"));
  EXPECT_FALSE(IsKnownNamespace(""));
}

TEST(IdentifierNormalizerTest, UnscopedUnionidTakesTheConfiguredOpenAccount) {
  IdentifierNormalizer with("CN", {}, " open_1 ");
  Identifier sensors{"wechat_unionid", "", "oU-1"};  // Sensors' $identity_mp_unionid
  ASSERT_TRUE(with.Normalize(&sensors));
  EXPECT_EQ(sensors.ToString(), "wechat_unionid:open_1:oU-1");
  Identifier scoped{"wechat_unionid", "open_2", "oU-1"};  // an explicit scope is kept
  ASSERT_TRUE(with.Normalize(&scoped));
  EXPECT_EQ(scoped.ToString(), "wechat_unionid:open_2:oU-1");
  Identifier openid{"wechat_openid", "", "o1"};  // only unionids get the open account
  ASSERT_TRUE(with.Normalize(&openid));
  EXPECT_EQ(openid.ToString(), "wechat_openid:o1");

  IdentifierNormalizer without("CN", {});
  Identifier plain{"wechat_unionid", "", "oU-1"};
  ASSERT_TRUE(without.Normalize(&plain));
  EXPECT_EQ(plain.ToString(), "wechat_unionid:oU-1");
}

}  // namespace
}  // namespace quanyu::collect
