// PII tokenization and the vault (privacy/pii.h): which values are direct
// identifiers, that tokens are deterministic (the lookup index) yet scoped
// in payloads, that reveal, mask, erase and reseal do what they say, and
// that a failed commit marks nothing stored.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "map_kv.h"
#include "privacy/pii.h"

namespace quanyu::privacy {
namespace {

// MapKv as a KvStore whose writes can be made to fail.
class MapStore : public KvStore {
 public:
  testing::MapKv kv;
  bool fail_writes = false;
  Status Write(const KvWriteBatch& b) override {
    if (fail_writes) return Status::IOError("disk full");
    kv.Write(b);
    return Status::OK();
  }
  Result<std::string> Get(std::string_view key) const override { return kv.Get(key); }
  Status ScanPrefix(std::string_view prefix, const KvScanFn& fn) const override {
    return kv.ScanPrefix(prefix, fn);
  }
};

class PiiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ring_ = *KeyRing::Generate();
    auto opened = PiiVault::Open(&store_, *ring_);
    ASSERT_TRUE(opened.ok());
    vault_ = std::move(*opened);
  }
  Event Tokenized(Event e) {
    PiiVault::Pending pending;
    TokenizeIdentifiers(*vault_, &pending, &e);
    TokenizePayload(*vault_, &pending, &e);
    EXPECT_TRUE(vault_->Commit(&pending).ok());
    return e;
  }
  std::string Reveal(std::string_view text) { return vault_->RevealText(text, {}); }

  std::optional<KeyRing> ring_;
  MapStore store_;
  std::unique_ptr<PiiVault> vault_;
};

TEST(PiiRulesTest, EmailsAndPhones) {
  EXPECT_TRUE(LooksLikeEmail("zhang.wei@example.com"));
  EXPECT_TRUE(LooksLikeEmail("a+tag@mail.example.cn"));
  EXPECT_FALSE(LooksLikeEmail("@weibo_handle"));
  EXPECT_FALSE(LooksLikeEmail("user@localhost"));
  EXPECT_FALSE(LooksLikeEmail("write to a@b.com"));  // free text: not the whole value
  EXPECT_TRUE(LooksLikePhone("13800138000"));
  EXPECT_TRUE(LooksLikePhone("8613800138000"));
  EXPECT_TRUE(LooksLikePhone("+86 138-0013-8000"));
  EXPECT_TRUE(LooksLikePhone("+14155550123"));
  EXPECT_FALSE(LooksLikePhone("12800138000"));    // no mainland mobile starts 12
  EXPECT_FALSE(LooksLikePhone("1380013800"));     // 10 digits
  EXPECT_FALSE(LooksLikePhone("138 0013 8000"));  // separators only after '+'
  EXPECT_FALSE(LooksLikePhone("+123"));
  EXPECT_TRUE(IsDirectNamespace("phone"));
  EXPECT_FALSE(IsDirectNamespace("wechat_openid"));
  EXPECT_TRUE(IsPersonalKey("name"));
  EXPECT_FALSE(IsContactKey("name"));
  EXPECT_TRUE(IsContactKey("mobile"));
}

TEST_F(PiiTest, IdentifiersGetDeterministicTokensThatRevealAfterCommit) {
  Event e;
  e.user_id = "zhang.wei@example.com";
  e.identifiers = {{"phone", "", "+8613800138000"},
                   {"email", "", "zhang.wei@example.com"},
                   {"user_id", "", "zhang.wei@example.com"},
                   {"user_id", "", "u-1001"},
                   {"wechat_openid", "wx1", "oAbc123"}};
  PiiVault::Pending pending;
  TokenizeIdentifiers(*vault_, &pending, &e);
  EXPECT_TRUE(IsPiiToken(e.identifiers[0].value));
  EXPECT_TRUE(IsPiiToken(e.identifiers[1].value));
  EXPECT_TRUE(IsPiiToken(e.identifiers[2].value)) << "an email-shaped user id";
  EXPECT_EQ(e.identifiers[3].value, "u-1001");
  EXPECT_EQ(e.identifiers[4].value, "oAbc123");
  EXPECT_TRUE(IsPiiToken(e.user_id));
  // The same plaintext, the same token: the lookup index.
  EXPECT_EQ(e.identifiers[1].value, e.identifiers[2].value);
  EXPECT_EQ(vault_->Token("+8613800138000"), e.identifiers[0].value);
  EXPECT_EQ(pending.size(), 2u);  // two distinct plaintexts
  // Not revealable before the commit, revealable after.
  EXPECT_EQ(vault_->Reveal(e.identifiers[0].value).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(vault_->Commit(&pending).ok());
  EXPECT_TRUE(pending.empty());
  EXPECT_EQ(*vault_->Reveal(e.identifiers[0].value), "+8613800138000");
  EXPECT_EQ(vault_->size(), 2u);
  // Tokenizing a token leaves it as it is.
  Event again = e;
  TokenizeIdentifiers(*vault_, &pending, &again);
  EXPECT_EQ(again.identifiers, e.identifiers);
  EXPECT_TRUE(pending.empty());
}

TEST_F(PiiTest, PayloadRulesTokenizeWhatNamesAPersonAndNothingElse) {
  Event e;
  e.identifiers = {{"user_id", "", "u-1"}};
  e.traits_json = R"({"name":"张伟","email":"Zhang.Wei@Example.com","city":"上海","age":30})";
  e.properties_json =
      R"({"order_id":"ORD13812345678","note":"call 13700137000 or li.na@example.org.","mobile":13900139000,"handle":"@weibo_x","name":"Lipstick"})";
  e.context_json = R"({"traits":{"name":"张伟"},"ip":"10.0.0.1"})";
  e.url = "https://shop.example.com/p?phone=13800138000&email=a%40b.com&sku=9#top";
  Event t = Tokenized(e);

  auto j = [](const std::string& s) { return nlohmann::json::parse(s); };
  auto traits = j(t.traits_json), props = j(t.properties_json), ctx = j(t.context_json);
  EXPECT_TRUE(IsPiiToken(traits["name"].get<std::string>()));
  EXPECT_TRUE(IsPiiToken(traits["email"].get<std::string>()));
  EXPECT_EQ(traits["city"], "上海");
  EXPECT_EQ(traits["age"], 30);
  EXPECT_EQ(props["order_id"], "ORD13812345678") << "digits inside a word are not a phone";
  EXPECT_EQ(props["handle"], "@weibo_x");
  EXPECT_EQ(props["name"], "Lipstick") << "a product name, not a person's: name counts in traits";
  EXPECT_TRUE(IsPiiToken(props["mobile"].get<std::string>())) << "a number under a contact key";
  const std::string note = props["note"];
  EXPECT_EQ(note.find("13700137000"), std::string::npos) << note;
  EXPECT_EQ(note.find("li.na@"), std::string::npos) << note;
  EXPECT_TRUE(note.starts_with("call ~pii~") && note.ends_with(".")) << note;
  EXPECT_TRUE(IsPiiToken(ctx["traits"]["name"].get<std::string>()));
  EXPECT_EQ(ctx["ip"], "10.0.0.1");
  EXPECT_EQ(t.url.find("13800138000"), std::string::npos) << t.url;
  EXPECT_EQ(t.url.find("a%40b.com"), std::string::npos) << t.url;
  EXPECT_NE(t.url.find("&sku=9#top"), std::string::npos) << t.url;

  // Everything reveals back to what was sent.
  EXPECT_EQ(j(Reveal(t.traits_json)), j(e.traits_json));
  EXPECT_EQ(Reveal(props["note"].get<std::string>()), "call 13700137000 or li.na@example.org.");
  EXPECT_EQ(Reveal(t.url), e.url);

  // A payload without personal data is left byte for byte.
  Event plain;
  plain.identifiers = {{"user_id", "", "u-2"}};
  plain.properties_json = R"({"revenue":  12.5, "sku":"A-1"})";
  EXPECT_EQ(Tokenized(plain).properties_json, plain.properties_json);
}

// Regression: consent for the email and phone channels, given as strings
// ({"channels": {"email": "granted"}}), was tokenized as if it were an
// address, and the ledger lost the decision.
TEST_F(PiiTest, ConsentChannelsNamedEmailOrPhoneAreDecisionsNotContactPoints) {
  Event e;
  e.identifiers = {{"user_id", "", "u-1"}};
  e.context_json =
      R"({"consent":{"channels":{"email":"granted","phone":"denied"},"source":"13800138000"}})";
  e.properties_json = R"({"$consent":{"channels":{"email":"withdrawn"}},"email":"a@b.com"})";
  Event t = Tokenized(e);
  auto ctx = nlohmann::json::parse(t.context_json);
  auto props = nlohmann::json::parse(t.properties_json);
  EXPECT_EQ(ctx["consent"]["channels"]["email"], "granted") << t.context_json;
  EXPECT_EQ(ctx["consent"]["channels"]["phone"], "denied") << t.context_json;
  EXPECT_EQ(props["$consent"]["channels"]["email"], "withdrawn") << t.properties_json;
  // A phone number is still one, inside a consent object too; an email
  // outside it still is one.
  EXPECT_TRUE(IsPiiToken(ctx["consent"]["source"].get<std::string>())) << t.context_json;
  EXPECT_TRUE(IsPiiToken(props["email"].get<std::string>())) << t.properties_json;
}

TEST_F(PiiTest, PayloadTokensAreScopedByTheEventsFirstIdentifier) {
  Event a, b;
  a.identifiers = {{"user_id", "", "u-a"}};
  b.identifiers = {{"user_id", "", "u-b"}};
  a.traits_json = b.traits_json = R"({"name":"王芳"})";
  const std::string ta = nlohmann::json::parse(Tokenized(a).traits_json)["name"];
  const std::string tb = nlohmann::json::parse(Tokenized(b).traits_json)["name"];
  const std::string ta2 = nlohmann::json::parse(Tokenized(a).traits_json)["name"];
  EXPECT_NE(ta, tb) << "two persons who share a name do not share its record";
  EXPECT_EQ(ta, ta2);
  // Erasing one person's leaves the other's.
  ASSERT_TRUE(vault_->Erase({ta}).ok());
  EXPECT_EQ(Reveal(ta), kErasedPii);
  EXPECT_EQ(Reveal(tb), "王芳");
}

TEST_F(PiiTest, RevealEscapesForJsonAndMasks) {
  PiiVault::Pending pending;
  const std::string quoted = vault_->Tokenize("a\"b@example.com", &pending);
  const std::string phone = vault_->Tokenize("+8613800138000", &pending);
  const std::string email = vault_->Tokenize("zhang.wei@example.com", &pending);
  ASSERT_TRUE(vault_->Commit(&pending).ok());
  const std::string doc = "{\"x\":\"" + quoted + "\",\"p\":\"phone:" + phone + "\"}";
  size_t n = 0;
  const std::string shown = vault_->RevealText(doc, {.json_escape = true}, &n);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(nlohmann::json::parse(shown)["x"], "a\"b@example.com");
  EXPECT_EQ(nlohmann::json::parse(shown)["p"], "phone:+8613800138000");
  EXPECT_EQ(vault_->RevealText(phone + " " + email, {.mask = true}),
            "+86138****8000 z***@example.com");
  EXPECT_EQ(vault_->RevealText("no tokens here", {}), "no tokens here");
}

TEST_F(PiiTest, AFailedCommitStoresNothingAndCanBeRetried) {
  PiiVault::Pending pending;
  const std::string t = vault_->Tokenize("+8613800138000", &pending);
  store_.fail_writes = true;
  EXPECT_EQ(vault_->Commit(&pending).code(), StatusCode::kIOError);
  EXPECT_EQ(vault_->size(), 0u);
  EXPECT_EQ(vault_->Reveal(t).status().code(), StatusCode::kNotFound);
  store_.fail_writes = false;
  ASSERT_TRUE(vault_->Commit(&pending).ok());
  EXPECT_EQ(*vault_->Reveal(t), "+8613800138000");
  // Records hold no plaintext.
  for (const auto& [k, v] : store_.kv.data) {
    EXPECT_EQ(v.find("13800138000"), std::string::npos);
  }
}

TEST_F(PiiTest, ResealMovesEveryRecordToTheNewKeyAndKeepsTokens) {
  PiiVault::Pending pending;
  std::vector<std::string> tokens;
  for (int i = 0; i < 5000; ++i) {  // more than one reseal batch
    tokens.push_back(vault_->Tokenize("user" + std::to_string(i) + "@example.com", &pending));
  }
  ASSERT_TRUE(vault_->Commit(&pending).ok());
  KeyRing next = *ring_;
  ASSERT_TRUE(next.Rotate().ok());
  // A ring without the key in use is refused: nothing changes.
  auto stranger = vault_->Reseal(*KeyRing::Generate());
  EXPECT_EQ(stranger.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*vault_->Reveal(tokens[0]), "user0@example.com");
  EXPECT_EQ(*vault_->CountByKey(), (std::vector<std::pair<uint8_t, size_t>>{{1, 5000}}));

  auto stats = vault_->Reseal(next);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->values, 5000u);
  EXPECT_EQ(stats->key_id, 2);
  EXPECT_EQ(*vault_->CountByKey(), (std::vector<std::pair<uint8_t, size_t>>{{2, 5000}}));
  EXPECT_EQ(*vault_->Reveal(tokens[4321]), "user4321@example.com");
  // The tokens (the HMAC index) did not change, and new values seal under 2.
  EXPECT_EQ(vault_->Token("user7@example.com"), tokens[7]);
  vault_->Tokenize("new@example.com", &pending);
  ASSERT_TRUE(vault_->Commit(&pending).ok());
  EXPECT_EQ(*vault_->CountByKey(), (std::vector<std::pair<uint8_t, size_t>>{{2, 5001}}));
  // A vault reopened on the store with the new ring opens everything.
  auto reopened = PiiVault::Open(&store_, next);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->size(), 5001u);
  EXPECT_EQ(*(*reopened)->Reveal(tokens[0]), "user0@example.com");
}

}  // namespace
}  // namespace quanyu::privacy
