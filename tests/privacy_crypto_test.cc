// Key ring, sealed values and keyed hashes (privacy/crypto.h).
//
// The known answers were computed outside this code: the HMAC and HKDF
// vectors are RFC 4231 test case 2 and RFC 5869 test case 3; the keyed hash
// and the sealed value below come from Python's hmac/hashlib and the
// `cryptography` package's AESGCM, following the derivations the header
// documents, e.g.
//   idx = HMAC(HMAC(b"\0"*32, key), b"quanyu index v1\x01")
//   HMAC(idx, struct.pack(">Q", len(domain)) + domain + value)
// so a change to a derivation or to the sealed layout fails here.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "privacy/crypto.h"
#include "test_util.h"

namespace quanyu::privacy {
namespace {

// Key bytes 00 01 02 ... 1f.
constexpr char kCountingKeyHex[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr char kOtherKeyHex[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

KeyRing MustParse(std::string_view text) {
  Result<KeyRing> ring = KeyRing::Parse(text);
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  if (!ring.ok()) return std::move(KeyRing::Generate()).value();
  return std::move(ring).value();
}

KeyRing MustGenerate() {
  Result<KeyRing> ring = KeyRing::Generate();
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return std::move(ring).value();
}

std::string Seal(const KeyRing& ring, std::string_view plaintext, std::string_view ad) {
  Result<std::string> sealed = Encrypt(ring, plaintext, ad);
  EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
  return sealed.ok() ? *sealed : std::string();
}

std::string HexOf(std::string_view s) {
  return Hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(PrivacyCryptoTest, HmacSha256MatchesRfc4231TestCase2) {
  EXPECT_EQ(Hex(internal::HmacSha256(Bytes("Jefe"), Bytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(PrivacyCryptoTest, HkdfSha256MatchesRfc5869TestCase3) {
  std::string ikm(22, '\x0b');
  Result<std::array<uint8_t, 32>> okm = internal::HkdfSha256(Bytes(ikm), "");
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  // The first 32 of the RFC's 42 output bytes.
  EXPECT_EQ(Hex(*okm), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d");
}

TEST(PrivacyCryptoTest, KeyedHashMatchesTheDocumentedDerivation) {
  KeyRing ring = MustParse(std::string("1 ") + kCountingKeyHex);
  EXPECT_EQ(Hex(KeyedHash(ring, "suppression", "alice@example.com")),
            "6fb56d93b6518d0e2d9c37c5e053dd08754720ed288f3fecf23ca1f3c25e5623");
}

// The prepared hasher gives KeyedHash's hashes, for any value, from many
// threads at once.
TEST(PrivacyCryptoTest, KeyedHasherMatchesKeyedHashAcrossThreads) {
  KeyRing ring = MustParse(std::string("1 ") + kCountingKeyHex);
  KeyedHasher hasher(ring, "suppression");
  EXPECT_EQ(Hex(hasher.Hash("alice@example.com")),
            "6fb56d93b6518d0e2d9c37c5e053dd08754720ed288f3fecf23ca1f3c25e5623");
  KeyedHasher other_domain(ring, "dsr");
  EXPECT_NE(other_domain.Hash("alice@example.com"), hasher.Hash("alice@example.com"));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string v = "phone:+86139" + std::to_string(t * 100000 + i);
        if (hasher.Hash(v) != KeyedHash(ring, "suppression", v)) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(hasher.Hash(""), KeyedHash(ring, "suppression", ""));
}

TEST(PrivacyCryptoTest, DecryptsAValueSealedByAnIndependentImplementation) {
  KeyRing ring = MustParse(std::string("1 ") + kCountingKeyHex);
  std::string sealed =
      Unhex("0101a0a1a2a3a4a5a6a7a8a9aaabaf718b8e353f87de850109f3b4995202c10aa972c2e9dbdc56e118");
  Result<std::string> plain = Decrypt(ring, sealed, "profile:42/phone");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, "13800138000");
}

TEST(PrivacyCryptoTest, RoundTripsEmptyOneByteAndOneMebibyte) {
  KeyRing ring = MustGenerate();
  std::string mebibyte(1 << 20, '\0');
  for (size_t i = 0; i < mebibyte.size(); ++i) mebibyte[i] = static_cast<char>(i * 131 + 7);
  for (const std::string& plaintext : {std::string(), std::string("x"), mebibyte}) {
    std::string sealed = Seal(ring, plaintext, "users.email");
    EXPECT_EQ(sealed.size(), plaintext.size() + kSealedOverhead);
    Result<std::string> opened = Decrypt(ring, sealed, "users.email");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(opened->size(), plaintext.size());
    EXPECT_TRUE(*opened == plaintext);  // not EXPECT_EQ: no 1 MiB diff on failure
  }
}

TEST(PrivacyCryptoTest, SealedValueStartsWithVersionAndKeyId) {
  KeyRing ring = MustParse(std::string("7 ") + kCountingKeyHex);
  std::string sealed = Seal(ring, "hello", "");
  ASSERT_EQ(sealed.size(), 5 + kSealedOverhead);
  EXPECT_EQ(static_cast<uint8_t>(sealed[0]), kSealedFormatVersion);
  EXPECT_EQ(static_cast<uint8_t>(sealed[1]), 7);
}

TEST(PrivacyCryptoTest, SamePlaintextTwiceSealsDifferently) {
  KeyRing ring = MustGenerate();
  std::string a = Seal(ring, "13800138000", "phone");
  std::string b = Seal(ring, "13800138000", "phone");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(2, 12), b.substr(2, 12));  // the nonces differ
}

TEST(PrivacyCryptoTest, FlippingAnyByteFailsAuthentication) {
  KeyRing ring = MustGenerate();
  const std::string sealed = Seal(ring, "hello", "ad");
  ASSERT_TRUE(Decrypt(ring, sealed, "ad").ok());
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::string bad = sealed;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      Result<std::string> opened = Decrypt(ring, bad, "ad");
      EXPECT_FALSE(opened.ok()) << "byte " << i << " mask " << int{mask};
      EXPECT_EQ(opened.status().code(), StatusCode::kCorruption) << "byte " << i;
    }
  }
}

TEST(PrivacyCryptoTest, TruncatedOrExtendedValueFails) {
  KeyRing ring = MustGenerate();
  const std::string sealed = Seal(ring, "hello", "");
  for (size_t n = 0; n < sealed.size(); ++n) {
    Result<std::string> opened = Decrypt(ring, sealed.substr(0, n), "");
    EXPECT_EQ(opened.status().code(), StatusCode::kCorruption) << "length " << n;
  }
  EXPECT_EQ(Decrypt(ring, sealed + "x", "").status().code(), StatusCode::kCorruption);
}

TEST(PrivacyCryptoTest, WrongAssociatedDataOrKeyFails) {
  KeyRing ring = MustParse(std::string("1 ") + kCountingKeyHex);
  KeyRing other = MustParse(std::string("1 ") + kOtherKeyHex);
  std::string sealed = Seal(ring, "hello", "users/1/email");
  Result<std::string> wrong_ad = Decrypt(ring, sealed, "users/2/email");
  EXPECT_EQ(wrong_ad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(wrong_ad.status().message().find("authentication"), std::string::npos);
  EXPECT_EQ(Decrypt(other, sealed, "users/1/email").status().code(), StatusCode::kCorruption);
}

TEST(PrivacyCryptoTest, UnknownKeyIdAndVersionAreNamed) {
  KeyRing ring = MustGenerate();
  std::string sealed = Seal(ring, "hello", "");
  std::string unknown_id = sealed;
  unknown_id[1] = 9;
  Result<std::string> a = Decrypt(ring, unknown_id, "");
  EXPECT_EQ(a.status().code(), StatusCode::kCorruption);
  EXPECT_NE(a.status().message().find("key id 9"), std::string::npos) << a.status().message();
  std::string version_2 = sealed;
  version_2[0] = 2;
  Result<std::string> b = Decrypt(ring, version_2, "");
  EXPECT_NE(b.status().message().find("format version 2"), std::string::npos)
      << b.status().message();
}

TEST(PrivacyCryptoTest, RotationKeepsOldValuesReadableAndSealsWithTheNewKey) {
  KeyRing ring = MustGenerate();
  const KeyRing before = ring;
  std::string old_sealed = Seal(ring, "old", "ad");
  Result<Key> added = ring.Rotate();
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->id, 2);
  EXPECT_EQ(ring.current().id, 2);
  EXPECT_EQ(ring.keys().size(), 2u);
  EXPECT_NE(added->bytes, before.current().bytes);

  Result<std::string> old_opened = Decrypt(ring, old_sealed, "ad");
  ASSERT_TRUE(old_opened.ok()) << old_opened.status().ToString();
  EXPECT_EQ(*old_opened, "old");

  std::string new_sealed = Seal(ring, "new", "ad");
  EXPECT_EQ(static_cast<uint8_t>(new_sealed[1]), 2);
  EXPECT_EQ(*Decrypt(ring, new_sealed, "ad"), "new");
  // The ring from before the rotation does not have key 2.
  EXPECT_EQ(Decrypt(before, new_sealed, "ad").status().code(), StatusCode::kCorruption);
}

TEST(PrivacyCryptoTest, RotateStopsAtKeyId255) {
  KeyRing ring = MustParse(std::string("255 ") + kCountingKeyHex);
  Result<Key> added = ring.Rotate();
  EXPECT_EQ(added.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ring.keys().size(), 1u);
  EXPECT_EQ(ring.current().id, 255);
}

TEST(PrivacyCryptoTest, KeyedHashSurvivesRotationAndSeparatesDomainsAndRings) {
  KeyRing ring = MustGenerate();
  auto before = KeyedHash(ring, "suppression", "alice@example.com");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ring.Rotate().ok());
  EXPECT_EQ(KeyedHash(ring, "suppression", "alice@example.com"), before);
  // Reloaded from its file text, too.
  EXPECT_EQ(KeyedHash(MustParse(ring.Serialize()), "suppression", "alice@example.com"), before);

  EXPECT_NE(KeyedHash(ring, "identifier", "alice@example.com"), before);
  EXPECT_NE(KeyedHash(ring, "suppression", "bob@example.com"), before);
  EXPECT_NE(KeyedHash(MustGenerate(), "suppression", "alice@example.com"), before);
  // The length prefix keeps the domain/value boundary: ("ab","c") != ("a","bc").
  EXPECT_NE(KeyedHash(ring, "ab", "c"), KeyedHash(ring, "a", "bc"));
}

TEST(PrivacyCryptoTest, IndexKeyComesFromTheLowestIdWhateverTheLineOrder) {
  std::string one = std::string("1 ") + kCountingKeyHex + "\n";
  std::string two = std::string("2 ") + kOtherKeyHex + "\n";
  KeyRing ascending = MustParse(one + two);
  KeyRing descending = MustParse(two + one);
  EXPECT_EQ(ascending.current().id, 2);
  EXPECT_EQ(descending.current().id, 1);  // the last line is current
  EXPECT_EQ(KeyedHash(ascending, "d", "v"), KeyedHash(descending, "d", "v"));
  EXPECT_EQ(KeyedHash(ascending, "d", "v"), KeyedHash(MustParse(one), "d", "v"));
}

TEST(PrivacyCryptoTest, ParseAcceptsCommentsBlankLinesAndCrLf) {
  KeyRing ring = MustParse(std::string("# keys for staging\r\n\r\n   \n") + "1 " + kOtherKeyHex +
                           "  # the first\r\n" + "\t2\t" + kCountingKeyHex + "\r\n# end\n");
  ASSERT_EQ(ring.keys().size(), 2u);
  EXPECT_EQ(ring.current().id, 2);
  EXPECT_EQ(Hex(ring.current().bytes), kCountingKeyHex);
  EXPECT_EQ(Hex(ring.keys()[0].bytes), kOtherKeyHex);
}

TEST(PrivacyCryptoTest, ParseErrorsNameTheLineAndNeverTheKey) {
  const std::string key = kCountingKeyHex;
  struct Case {
    std::string text;
    std::string expected;  // substring of the message
  };
  const std::vector<Case> cases = {
      {"# a\n1 " + key.substr(0, 62) + "\n", "line 2: key must be 64 hex digits"},
      {"1 " + key + "0\n", "line 1: key must be 64 hex digits"},
      {"\n\n1 " + key.substr(0, 40) + "zz" + key.substr(42) + "\n", "line 3: key has a non-hex"},
      {"1 " + key + "\n2 " + key + "\n1 " + key + "\n",
       "line 3: duplicate key id 1 (first on line 1)"},
      {"0 " + key + "\n", "line 1: key id must be a number from 1 to 255"},
      {"256 " + key + "\n", "line 1: key id must be a number from 1 to 255"},
      {"-1 " + key + "\n", "line 1: key id must be a number from 1 to 255"},
      {key + " 1\n", "line 1: key id must be a number from 1 to 255"},
      {"\n" + key + "\n", "line 2: expected two fields"},
      {"1 " + key + " 2\n", "line 1: expected two fields"},
      {"# only a comment\n\n", "no key found"},
      {"", "no key found"},
  };
  for (const Case& c : cases) {
    Result<KeyRing> ring = KeyRing::Parse(c.text);
    ASSERT_FALSE(ring.ok()) << c.text;
    EXPECT_EQ(ring.status().code(), StatusCode::kInvalidArgument) << c.text;
    const std::string& message = ring.status().message();
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
    EXPECT_EQ(message.find(key.substr(0, 16)), std::string::npos) << message;
    EXPECT_EQ(message.find(key.substr(40, 16)), std::string::npos) << message;
  }
}

TEST(PrivacyCryptoTest, SerializeParsesBackToTheSameRing) {
  KeyRing ring = MustGenerate();
  ASSERT_TRUE(ring.Rotate().ok());
  ASSERT_TRUE(ring.Rotate().ok());
  KeyRing copy = MustParse(ring.Serialize());
  ASSERT_EQ(copy.keys().size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(copy.keys()[i].id, ring.keys()[i].id);
    EXPECT_EQ(copy.keys()[i].bytes, ring.keys()[i].bytes);
  }
  EXPECT_EQ(copy.current().id, 3);
  EXPECT_EQ(*Decrypt(copy, Seal(ring, "x", "y"), "y"), "x");
}

TEST(PrivacyCryptoTest, FromEnvTakesABareKeyOrKeyFileText) {
  Result<KeyRing> bare = KeyRing::FromEnv(std::string("  ") + kCountingKeyHex + "\n");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  ASSERT_EQ(bare->keys().size(), 1u);
  EXPECT_EQ(bare->current().id, 1);
  EXPECT_EQ(Hex(bare->current().bytes), kCountingKeyHex);
  // The same key as a key file line gives the same index.
  EXPECT_EQ(KeyedHash(*bare, "d", "v"),
            KeyedHash(MustParse(std::string("1 ") + kCountingKeyHex), "d", "v"));

  Result<KeyRing> text =
      KeyRing::FromEnv(std::string("3 ") + kOtherKeyHex + "\n4 " + kCountingKeyHex);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->current().id, 4);

  Result<KeyRing> short_key = KeyRing::FromEnv(std::string(kCountingKeyHex).substr(0, 63));
  EXPECT_EQ(short_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(short_key.status().message().find(std::string(kCountingKeyHex).substr(0, 16)),
            std::string::npos);
}

TEST(PrivacyCryptoTest, LoadRefusesAFileOthersCanReadAndAcceptsMode0600) {
  testing::TempDir dir;
  std::string path = dir / "keys";
  testing::WriteFile(path, std::string("1 ") + kCountingKeyHex + "\n");

  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  Result<KeyRing> open = KeyRing::Load(path);
  EXPECT_EQ(open.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos)
      << open.status().message();
  EXPECT_NE(open.status().message().find("0644"), std::string::npos);

  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  Result<KeyRing> closed = KeyRing::Load(path);
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_EQ(Hex(closed->current().bytes), kCountingKeyHex);
}

TEST(PrivacyCryptoTest, LoadNamesTheFileAndTheLine) {
  testing::TempDir dir;
  EXPECT_EQ(KeyRing::Load(dir / "missing").status().code(), StatusCode::kNotFound);
  std::string path = dir / "keys";
  testing::WriteFile(path, "# keys\n1 abc\n");
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  Result<KeyRing> ring = KeyRing::Load(path);
  EXPECT_EQ(ring.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ring.status().message().find(path), std::string::npos) << ring.status().message();
  EXPECT_NE(ring.status().message().find("line 2"), std::string::npos) << ring.status().message();
}

TEST(PrivacyCryptoTest, WriteKeyFileWritesMode0600AtomicallyAndLoadsBack) {
  testing::TempDir dir;
  std::string path = dir / "keys";
  KeyRing ring = MustGenerate();
  ASSERT_TRUE(ring.Rotate().ok());
  testing::WriteFile(path, "old contents\n");  // replaced, not appended to
  Status written = WriteKeyFile(ring, path);
  ASSERT_TRUE(written.ok()) << written.ToString();

  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u);  // no temporary file left behind

  Result<KeyRing> loaded = KeyRing::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->Serialize(), ring.Serialize());

  EXPECT_EQ(WriteKeyFile(ring, dir / "no-such-dir/keys").code(), StatusCode::kIOError);
}

TEST(PrivacyCryptoTest, GenerateGivesFreshKeysWithId1) {
  KeyRing a = MustGenerate();
  KeyRing b = MustGenerate();
  EXPECT_EQ(a.current().id, 1);
  EXPECT_EQ(a.keys().size(), 1u);
  EXPECT_NE(a.current().bytes, b.current().bytes);
}

TEST(PrivacyCryptoTest, AssignmentReplacesTheKeys) {
  KeyRing a = MustParse(std::string("1 ") + kCountingKeyHex);
  KeyRing b = MustParse(std::string("5 ") + kOtherKeyHex);
  std::string sealed_by_b = Seal(b, "v", "");
  a = b;
  EXPECT_EQ(a.current().id, 5);
  EXPECT_EQ(*Decrypt(a, sealed_by_b, ""), "v");
  a = MustParse(std::string("1 ") + kCountingKeyHex);
  EXPECT_EQ(Hex(a.current().bytes), kCountingKeyHex);
  EXPECT_EQ(b.current().id, 5);  // the source of the copy is untouched
}

TEST(PrivacyCryptoTest, ConstRingIsSafeToShareAcrossThreads) {
  const KeyRing ring = MustGenerate();
  const auto expected_hash = KeyedHash(ring, "identifier", "u1");
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string plain = "value " + std::to_string(t * 1000 + i);
        Result<std::string> sealed = Encrypt(ring, plain, "ad");
        Result<std::string> opened = sealed.ok() ? Decrypt(ring, *sealed, "ad") : sealed;
        if (!opened.ok() || *opened != plain) ++failures[t];
        if (KeyedHash(ring, "identifier", "u1") != expected_hash) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(PrivacyCryptoTest, HexIsLowerCaseTwoDigitsPerByte) {
  const uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(Hex(bytes), "000fa5ff");
  EXPECT_EQ(Hex({}), "");
  EXPECT_EQ(HexOf("AZ"), "415a");
}

}  // namespace
}  // namespace quanyu::privacy
