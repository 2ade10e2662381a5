// Personal information at rest (docs/privacy.md, "Personal information at
// rest"): direct identifiers never reach a file in plaintext.
//
// Where an event enters (collect, import, corrections, consent and the
// identifiers an admin names), each direct identifier is replaced by a
// token, and the plaintext is sealed in the vault:
//
//   token  = "~pii~" + 26 base-32 digits of the first 128 bits of
//            KeyedHash(ring, "pii", plaintext)        (the HMAC-SHA-256 index)
//            for identifiers; for values in an event's payload, of
//            KeyedHash(ring, "pii", scope || plaintext), scoped to the event's
//            first identifier (Tokenize)
//   record = state key "pii/" + those 16 bytes  ->  Encrypt(ring, plaintext,
//            associated data = the state key)        (AES-256-GCM)
//
// Tokens are deterministic, so everything downstream (identity graph,
// profiles, segments, group-by and equality filters) works on them as on
// any value, and a lookup by plaintext computes the same token. They are
// revealed only on the way out (RevealText: API answers, CLI output,
// exports), to the plaintext or its mask; an erased value reveals as
// "[erased]". Rotation (Reseal) re-encrypts every record under the ring's
// current key; the tokens do not change (crypto.h: the index key comes from
// the lowest key id).
//
// What is a direct identifier (TokenizeIdentifiers, TokenizePayload):
//   * identifier values of the namespaces phone, email and taobao_nick, and
//     any identifier value (user_id, anonymous_id included) shaped like an
//     email or a phone number;
//   * in traits (traits, context.traits): the values of personal keys — name,
//     address, id card and passport numbers, phone, email (PersonalKeys());
//   * anywhere in properties, traits and context: the values of contact keys
//     (phone, mobile, email, ...), every string shaped like a phone number
//     ("+" and 8..15 digits, separators allowed, or an 11-digit mainland
//     mobile number), and inside any string every email and every such
//     phone number standing as a word of its own;
//   * in the page URL and referrer: email-shaped substrings and the values of
//     query parameters named by a contact key.
//
// Thread-safety: every member of PiiVault may be called concurrently;
// Reseal excludes the others while it swaps the key ring.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/event.h"
#include "common/kv.h"
#include "common/result.h"
#include "privacy/crypto.h"

namespace quanyu::privacy {

inline constexpr std::string_view kPiiTokenPrefix = "~pii~";
inline constexpr size_t kPiiTokenSize = kPiiTokenPrefix.size() + 26;
// What an erased value reveals as.
inline constexpr std::string_view kErasedPii = "[erased]";

// True if `s` is exactly one token.
bool IsPiiToken(std::string_view s);

// The classification rules above, shared with masking (mask.h).
bool IsDirectNamespace(std::string_view ns);
bool IsPersonalKey(std::string_view key);  // a trait naming a person
bool IsContactKey(std::string_view key);   // phone / email, wherever it appears
bool LooksLikeEmail(std::string_view s);
bool LooksLikePhone(std::string_view s);

class PiiVault {
 public:
  using TokenBytes = std::array<uint8_t, 16>;
  struct HashOfToken {
    size_t operator()(const TokenBytes& t) const {
      size_t h;
      static_assert(sizeof(h) <= sizeof(TokenBytes));
      std::memcpy(&h, t.data(), sizeof(h));  // the bytes are an HMAC: uniform
      return h;
    }
  };

  // Plaintexts one writer tokenized that the vault does not hold yet. Commit
  // them before anything holding their tokens is made durable.
  class Pending {
   public:
    bool empty() const { return values_.empty(); }
    size_t size() const { return values_.size(); }
    // Adds `other`'s plaintexts to these.
    void Absorb(Pending&& other);

   private:
    friend class PiiVault;
    std::unordered_map<TokenBytes, std::string, HashOfToken> values_;  // token -> plaintext
  };

  struct ResealStats {
    size_t values = 0;   // records re-encrypted
    uint8_t key_id = 0;  // the key they are sealed with now
  };

  // Loads the set of stored tokens from `db` ("pii/" keys); `ring` is copied.
  static Result<std::unique_ptr<PiiVault>> Open(KvStore* db, const KeyRing& ring);
  ~PiiVault();

  // The token of `plaintext`; stores nothing (for lookups).
  std::string Token(std::string_view plaintext) const;
  // The token of `plaintext`, queueing the plaintext in `pending` unless the
  // vault already holds it. A value that already is a token is returned as
  // it is. A non-empty `scope` gives the value a token of its own for that
  // scope (the HMAC covers both): payload values are scoped by their event's
  // first identifier, so two persons who share a name never share its
  // record, and erasing one person's leaves the other's.
  std::string Tokenize(std::string_view plaintext, Pending* pending,
                       std::string_view scope = {}) const;
  // Seals and writes the pending plaintexts in one durable batch; `pending`
  // is emptied. IOError (from the store) leaves the vault as it was.
  Status Commit(Pending* pending);

  // The plaintext of `token`. NotFound if the vault does not hold it (never
  // stored, or erased); Corruption if its record does not open.
  Result<std::string> Reveal(std::string_view token) const;

  // How RevealText shows a token.
  struct RevealOptions {
    bool mask = false;         // the mask (mask.h MaskValue) instead of the plaintext
    bool json_escape = false;  // the text is JSON: escape what is put in
  };
  // `text` with every token in it replaced by its plaintext (or mask);
  // tokens the vault no longer holds become kErasedPii. `revealed` (if not
  // null) gets the number of tokens replaced.
  std::string RevealText(std::string_view text, RevealOptions options,
                         size_t* revealed = nullptr) const;

  // Deletes the records of `tokens` (tokens the vault does not hold are
  // skipped) in one durable batch. The store keeps the old bytes until it
  // compacts (the deletion path compacts).
  Status Erase(const std::vector<std::string>& tokens);

  // Uses `ring` from now on and re-encrypts every record under its current
  // key, in durable batches. `ring` must hold every key of the ring in use
  // (a rotated copy does): InvalidArgument, with nothing changed, otherwise;
  // Corruption, naming nothing secret, if a record still does not open. An
  // error or a crash midway leaves records sealed under either key, all of
  // which `ring` opens.
  Result<ResealStats> Reseal(const KeyRing& ring);

  // The state key of a token's record ("pii/" + 16 bytes); nullopt if
  // `token` is not one.
  static std::optional<std::string> RecordKeyOf(std::string_view token);

  // Records held, and how many are sealed under each key id (for
  // `quanyu key status`).
  size_t size() const { return size_.load(); }
  Result<std::vector<std::pair<uint8_t, size_t>>> CountByKey() const;

 private:
  PiiVault(KvStore* db, const KeyRing& ring);
  TokenBytes BytesOf(std::string_view plaintext) const;
  // BytesOf through cache_: an identifier recurs in every event of its
  // person, and the HMAC is most of its tokenization.
  TokenBytes CachedBytesOf(std::string_view plaintext) const;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr size_t kCacheLimit = size_t{1} << 20;  // entries; cleared when full
  bool Holds(const TokenBytes& t) const;

  KvStore* const db_;
  const KeyedHasher hasher_;  // KeyedHash(ring, "pii", ·)
  mutable std::shared_mutex mu_;
  std::shared_ptr<const KeyRing> ring_;                 // guarded by mu_
  std::unordered_set<TokenBytes, HashOfToken> stored_;  // guarded by mu_
  std::atomic<size_t> size_{0};
  mutable std::mutex cache_mu_;
  // plaintext -> token bytes of unscoped values; emptied by Erase.
  mutable std::unordered_map<std::string, TokenBytes, StringHash, std::equal_to<>> cache_;
};

// Replaces direct-identifier values in e->identifiers, e->user_id and
// e->anonymous_id by tokens. Cheap: runs before the privacy gate, which
// matches identifiers against the suppression list and the graph.
void TokenizeIdentifiers(const PiiVault& vault, PiiVault::Pending* pending, Event* e);
// Replaces direct identifiers in the properties, traits, context, URL and
// referrer of `e` (rules above). Parses a JSON field only when a cheap scan
// finds something that may need it.
void TokenizePayload(const PiiVault& vault, PiiVault::Pending* pending, Event* e);
// Appends every token inside the string fields of `e` to `out`.
void CollectPiiTokens(const Event& e, std::vector<std::string>* out);
// Appends every token inside `text` to `out`.
void CollectPiiTokens(std::string_view text, std::vector<std::string>* out);
// Emails and phone numbers inside free text (an audit entry's path).
std::string TokenizeText(const PiiVault& vault, PiiVault::Pending* pending, std::string_view text);

}  // namespace quanyu::privacy
