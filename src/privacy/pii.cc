#include "privacy/pii.h"

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>

#include "privacy/mask.h"

namespace quanyu::privacy {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kRecordPrefix = "pii/";
constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";

constexpr std::array<std::string_view, 3> kDirectNamespaces = {"phone", "email", "taobao_nick"};
// Keys whose value is a contact point wherever they appear.
constexpr std::array<std::string_view, 16> kContactKeys = {
    "phone",         "mobile",       "email",         "$phone",       "$email", "$mobile",
    "phone_number",  "phoneNumber",  "mobile_phone",  "telephone",    "tel",    "e_mail",
    "email_address", "emailAddress", "contact_phone", "contact_email"};
// Keys of traits that name a person (beside the contact keys).
constexpr std::array<std::string_view, 14> kPersonalKeys = {
    "name",     "real_name",       "first_name", "last_name", "firstName",
    "lastName", "address",         "street",     "id_card",   "id_card_number",
    "$name",    "passport_number", "full_name",  "fullName"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// Letters, digits, '_' and '~' (inside a token), and UTF-8 bytes.
bool IsWordChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '~' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool IsLocalChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '.' || c == '_' ||
         c == '%' || c == '+' || c == '-';
}
bool IsDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '.' || c == '-';
}

// An email-shaped run of `s` around the '@' (or "%40") at `at`, of
// `at_size` bytes: [begin, end), or begin == end when there is none.
std::pair<size_t, size_t> EmailAround(std::string_view s, size_t at, size_t at_size) {
  size_t b = at;
  while (b > 0 && IsLocalChar(s[b - 1])) --b;
  size_t e = at + at_size;
  while (e < s.size() && IsDomainChar(s[e])) ++e;
  while (e > at + at_size && (s[e - 1] == '.' || s[e - 1] == '-')) --e;  // sentence punctuation
  std::string_view domain = s.substr(at + at_size, e - at - at_size);
  const size_t dot = domain.rfind('.');
  if (b == at || dot == std::string_view::npos || dot == 0 || dot + 2 > domain.size()) {
    return {0, 0};
  }
  return {b, e};
}

// Calls fn(begin, end, plaintext) for each email in `s`, left to right.
template <typename Fn>
void ForEachEmail(std::string_view s, Fn fn) {
  size_t from = 0;
  while (from < s.size()) {
    size_t at = s.find('@', from), pct = s.find("%40", from);
    size_t at_size = 1;
    if (pct < at) at = pct, at_size = 3;
    if (at == std::string_view::npos) return;
    auto [b, e] = EmailAround(s, at, at_size);
    if (b == e) {
      from = at + at_size;
      continue;
    }
    std::string plain(s.substr(b, at - b));  // "%40" decoded
    plain += '@';
    plain += s.substr(at + at_size, e - at - at_size);
    fn(b, e, plain);
    from = e;
  }
}

std::string TokenText(const PiiVault::TokenBytes& t) {
  std::string out(kPiiTokenPrefix);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t byte : t) {
    acc = acc << 8 | byte;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32[acc >> (bits - 5) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32[acc << (5 - bits) & 31]);
  return out;
}

bool ParseToken(std::string_view s, PiiVault::TokenBytes* t) {
  if (!IsPiiToken(s)) return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : s.substr(kPiiTokenPrefix.size())) {
    acc = acc << 5 | static_cast<uint32_t>(kBase32.find(c));
    bits += 5;
    if (bits >= 8) {
      if (n < t->size()) (*t)[n++] = static_cast<uint8_t>(acc >> (bits - 8));
      bits -= 8;
    }
  }
  return n == t->size();
}

std::string RecordKey(const PiiVault::TokenBytes& t) {
  std::string k(kRecordPrefix);
  k.append(reinterpret_cast<const char*>(t.data()), t.size());
  return k;
}

template <size_t N>
bool In(const std::array<std::string_view, N>& list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

// True if a quoted string of `text` (a key, or a value: an over-
// approximation) is a contact key, or a personal key when asked. One pass.
bool MentionsKey(std::string_view text, bool personal_keys) {
  for (size_t open = text.find('"'); open != std::string_view::npos;) {
    const size_t close = text.find('"', open + 1);
    if (close == std::string_view::npos) return false;
    std::string_view quoted = text.substr(open + 1, close - open - 1);
    if (quoted.size() >= 3 && quoted.size() <= 15 &&
        (IsContactKey(quoted) || (personal_keys && In(kPersonalKeys, quoted))))
      return true;
    open = text.find('"', close + 1);
  }
  return false;
}

// A cheap over-approximation of "the JSON text may hold something to
// tokenize": an '@', a "+digit", a run of digits as long as a mainland
// mobile (11, or 13 with "86"; a number inside a longer run is never
// tokenized), or a key of the lists asked for.
bool MayHold(std::string_view text, bool personal_keys) {
  if (text.find('@') != std::string_view::npos || text.find("%40") != std::string_view::npos)
    return true;
  for (size_t i = 0; i < text.size();) {
    if (!IsDigit(text[i])) {
      ++i;
      continue;
    }
    if (i > 0 && text[i - 1] == '+') return true;
    size_t e = i;
    while (e < text.size() && IsDigit(text[e])) ++e;
    if (e - i == 11 || e - i == 13) return true;
    i = e;
  }
  return MentionsKey(text, personal_keys);
}

class Tokenizer {
 public:
  Tokenizer(const PiiVault& vault, PiiVault::Pending* pending, std::string scope = {})
      : vault_(vault), pending_(pending), scope_(std::move(scope)) {}

  std::string Token(std::string_view plain) { return vault_.Tokenize(plain, pending_, scope_); }

  // Emails inside free text become tokens; the rest of the text stays.
  bool TokenizeEmails(std::string* s) {
    if (s->find('@') == std::string::npos && s->find("%40") == std::string::npos) return false;
    std::string out;
    size_t last = 0;
    ForEachEmail(*s, [&](size_t b, size_t e, const std::string& plain) {
      out.append(*s, last, b - last);
      out += Token(plain);
      last = e;
    });
    if (last == 0) return false;
    out.append(*s, last, std::string::npos);
    *s = std::move(out);
    return true;
  }

  // Phone numbers inside free text: a run of digits (with a leading '+')
  // that is not part of a longer word and LooksLikePhone.
  bool TokenizePhones(std::string* s) {
    std::string out;
    size_t last = 0, i = 0;
    bool changed = false;
    while (i < s->size()) {
      const char c = (*s)[i];
      const bool starts = IsDigit(c) || (c == '+' && i + 1 < s->size() && IsDigit((*s)[i + 1]));
      const bool bounded = i == 0 || !IsWordChar((*s)[i - 1]);
      if (!starts || !bounded) {
        ++i;
        continue;
      }
      size_t e = i + 1;
      while (e < s->size() && IsDigit((*s)[e])) ++e;
      std::string_view run(s->data() + i, e - i);
      if ((e == s->size() || !IsWordChar((*s)[e])) && LooksLikePhone(run) && !IsPiiToken(run)) {
        out.append(*s, last, i - last);
        out += Token(run);
        last = e;
        changed = true;
      }
      i = e;
    }
    if (!changed) return false;
    out.append(*s, last, std::string::npos);
    *s = std::move(out);
    return true;
  }

  bool FreeText(std::string* s) {
    bool changed = TokenizeEmails(s);
    return TokenizePhones(s) || changed;
  }

  // Walks a JSON value; `personal` says personal keys count here. Inside a
  // consent object (context.consent, Sensors' $consent) "email" and "phone"
  // name contact channels and their values are decisions ("granted"), so
  // keys do not count there; values that look like a phone or email still do.
  bool Walk(std::string_view key, bool personal, ojson* j, bool consent = false) {
    bool changed = false;
    if (j->is_object()) {
      for (auto it = j->begin(); it != j->end(); ++it) {
        const bool sub_personal = personal || it.key() == "traits";
        const bool sub_consent = consent || it.key() == "consent" || it.key() == "$consent";
        changed |= Walk(it.key(), sub_personal, &it.value(), sub_consent);
      }
    } else if (j->is_array()) {
      for (auto& x : *j) changed |= Walk(key, personal, &x, consent);
    } else if (j->is_string() || j->is_number()) {
      const bool keyed = !consent && (IsContactKey(key) || (personal && IsPersonalKey(key)));
      if (j->is_number()) {
        if (!keyed) return false;
        *j = Token(j->dump());
        return true;
      }
      std::string& s = j->get_ref<std::string&>();
      if (s.empty() || IsPiiToken(s)) return false;
      if (keyed || LooksLikePhone(s)) {
        s = Token(s);
        return true;
      }
      changed |= FreeText(&s);
    }
    return changed;
  }

  // `personal`: personal keys count from the top; `nested_traits`: they
  // count inside a "traits" object too, so the scan must look for them.
  void Json(std::string* text, bool personal, bool nested_traits = false) {
    const bool personal_keys =
        personal || (nested_traits && text->find("\"traits\"") != std::string::npos);
    if (text->empty() || !MayHold(*text, personal_keys)) return;
    ojson doc = ojson::parse(*text, nullptr, false);
    if (doc.is_discarded()) return;
    if (Walk("", personal, &doc)) *text = doc.dump(-1, ' ', false, ojson::error_handler_t::replace);
  }

  // True if a query parameter of `url` after `q` is named by a contact key.
  static bool HasContactParam(const std::string& url, size_t q) {
    for (size_t from = q + 1; from < url.size();) {
      size_t end = url.find_first_of("&#", from);
      if (end == std::string::npos) end = url.size();
      std::string_view param(url.data() + from, end - from);
      const size_t eq = param.find('=');
      if (eq != std::string_view::npos && IsContactKey(param.substr(0, eq))) return true;
      if (end == url.size() || url[end] == '#') break;
      from = end + 1;
    }
    return false;
  }

  void Url(std::string* url) {
    if (url->empty()) return;
    const size_t q = url->find('?');
    if (q != std::string::npos && HasContactParam(*url, q)) {
      std::string out = url->substr(0, q + 1);
      size_t from = q + 1;
      bool changed = false;
      while (from <= url->size()) {
        size_t amp = url->find_first_of("&#", from);
        if (amp == std::string::npos) amp = url->size();
        std::string_view param(url->data() + from, amp - from);
        const size_t eq = param.find('=');
        if (eq != std::string_view::npos && eq + 1 < param.size() &&
            IsContactKey(param.substr(0, eq)) && !IsPiiToken(param.substr(eq + 1))) {
          out.append(param.substr(0, eq + 1));
          out += Token(param.substr(eq + 1));
          changed = true;
        } else {
          out.append(param);
        }
        if (amp == url->size()) break;
        if ((*url)[amp] == '#') {
          out.append(*url, amp, std::string::npos);
          break;
        }
        out.push_back('&');
        from = amp + 1;
      }
      if (changed) *url = std::move(out);
    }
    TokenizeEmails(url);
  }

 private:
  const PiiVault& vault_;
  PiiVault::Pending* pending_;
  const std::string scope_;
};

}  // namespace

bool IsPiiToken(std::string_view s) {
  if (s.size() != kPiiTokenSize || !s.starts_with(kPiiTokenPrefix)) return false;
  for (char c : s.substr(kPiiTokenPrefix.size())) {
    if (kBase32.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool IsDirectNamespace(std::string_view ns) { return In(kDirectNamespaces, ns); }
bool IsContactKey(std::string_view key) { return In(kContactKeys, key); }
bool IsPersonalKey(std::string_view key) { return In(kPersonalKeys, key) || IsContactKey(key); }

bool LooksLikeEmail(std::string_view s) {
  const size_t at = s.find('@');
  if (at == std::string_view::npos) return false;
  auto [b, e] = EmailAround(s, at, 1);
  return b == 0 && e == s.size() && b != e;
}

bool LooksLikePhone(std::string_view s) {
  if (s.empty()) return false;
  if (s[0] == '+') {
    size_t digits = 0;
    for (char c : s.substr(1)) {
      if (IsDigit(c)) {
        ++digits;
      } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
        return false;
      }
    }
    return digits >= 8 && digits <= 15;
  }
  // Without "+" only bare digits count: 11, or 13 beginning "86".
  if (s.size() != 11 && s.size() != 13) return false;
  if (!std::all_of(s.begin(), s.end(), IsDigit)) return false;
  if (s.size() == 13) {
    if (!s.starts_with("86")) return false;
    s.remove_prefix(2);
  }
  return s[0] == '1' && s[1] >= '3';
}

void PiiVault::Pending::Absorb(Pending&& other) {
  values_.merge(other.values_);
  other.values_.clear();
}

PiiVault::PiiVault(KvStore* db, const KeyRing& ring)
    : db_(db), hasher_(ring, "pii"), ring_(std::make_shared<const KeyRing>(ring)) {}

PiiVault::~PiiVault() = default;

Result<std::unique_ptr<PiiVault>> PiiVault::Open(KvStore* db, const KeyRing& ring) {
  std::unique_ptr<PiiVault> vault(new PiiVault(db, ring));
  RETURN_IF_ERROR(db->ScanPrefix(kRecordPrefix, [&](std::string_view k, std::string_view) {
    TokenBytes t;
    if (k.size() != kRecordPrefix.size() + t.size())
      return Status::Corruption("vault key of the wrong length");
    std::memcpy(t.data(), k.data() + kRecordPrefix.size(), t.size());
    vault->stored_.insert(t);
    return Status::OK();
  }));
  vault->size_ = vault->stored_.size();
  return vault;
}

PiiVault::TokenBytes PiiVault::BytesOf(std::string_view plaintext) const {
  const auto full = hasher_.Hash(plaintext);
  TokenBytes t;
  std::copy_n(full.begin(), t.size(), t.begin());
  return t;
}

PiiVault::TokenBytes PiiVault::CachedBytesOf(std::string_view plaintext) const {
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(plaintext);
    if (it != cache_.end()) return it->second;
  }
  const TokenBytes t = BytesOf(plaintext);
  std::lock_guard lock(cache_mu_);
  if (cache_.size() >= kCacheLimit) cache_.clear();
  cache_.emplace(std::string(plaintext), t);
  return t;
}

bool PiiVault::Holds(const TokenBytes& t) const {
  std::shared_lock lock(mu_);
  return stored_.contains(t);
}

std::string PiiVault::Token(std::string_view plaintext) const {
  if (IsPiiToken(plaintext)) return std::string(plaintext);
  return TokenText(CachedBytesOf(plaintext));
}

std::string PiiVault::Tokenize(std::string_view plaintext, Pending* pending,
                               std::string_view scope) const {
  if (IsPiiToken(plaintext)) return std::string(plaintext);
  TokenBytes t;
  if (scope.empty()) {
    t = CachedBytesOf(plaintext);
  } else {
    // The scope's length first, so no (scope, value) pair reads as another.
    std::string scoped = std::to_string(scope.size());
    scoped += ':';
    scoped += scope;
    scoped += plaintext;
    t = BytesOf(scoped);
  }
  if (!Holds(t)) pending->values_.try_emplace(t, plaintext);
  return TokenText(t);
}

Status PiiVault::Commit(Pending* pending) {
  if (pending->empty()) return Status::OK();
  std::shared_ptr<const KeyRing> ring;
  {
    std::shared_lock lock(mu_);
    ring = ring_;
  }
  KvWriteBatch batch;
  for (const auto& [t, plain] : pending->values_) {
    std::string key = RecordKey(t);
    ASSIGN_OR_RETURN(std::string sealed, Encrypt(*ring, plain, key));
    batch.Put(std::move(key), std::move(sealed));
  }
  RETURN_IF_ERROR(db_->Write(batch));
  std::unique_lock lock(mu_);
  for (const auto& p : pending->values_) stored_.insert(p.first);
  size_ = stored_.size();
  pending->values_.clear();
  return Status::OK();
}

Result<std::string> PiiVault::Reveal(std::string_view token) const {
  TokenBytes t;
  if (!ParseToken(token, &t)) return Status::InvalidArgument("not a PII token");
  std::shared_ptr<const KeyRing> ring;
  {
    std::shared_lock lock(mu_);
    if (!stored_.contains(t)) return Status::NotFound("the value was erased");
    ring = ring_;
  }
  const std::string key = RecordKey(t);
  auto sealed = db_->Get(key);
  if (!sealed.ok()) return sealed.status();
  return Decrypt(*ring, *sealed, key);
}

std::string PiiVault::RevealText(std::string_view text, RevealOptions options,
                                 size_t* revealed) const {
  size_t count = 0;
  std::string out;
  size_t last = 0, at = text.find(kPiiTokenPrefix);
  while (at != std::string_view::npos) {
    std::string_view candidate = text.substr(at, kPiiTokenSize);
    if (!IsPiiToken(candidate)) {
      at = text.find(kPiiTokenPrefix, at + 1);
      continue;
    }
    out.append(text.substr(last, at - last));
    auto plain = Reveal(candidate);
    std::string shown =
        plain.ok() ? (options.mask ? MaskValue("", *plain) : *plain) : std::string(kErasedPii);
    if (plain.ok() && options.mask && shown == "***" && LooksLikePhone(*plain))
      shown = MaskValue("phone", *plain);
    if (options.json_escape) {
      std::string quoted =
          nlohmann::json(shown).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      out.append(quoted, 1, quoted.size() - 2);
    } else {
      out += shown;
    }
    ++count;
    last = at + kPiiTokenSize;
    at = text.find(kPiiTokenPrefix, last);
  }
  if (revealed) *revealed = count;
  if (count == 0) return std::string(text);
  out.append(text.substr(last));
  return out;
}

Status PiiVault::Erase(const std::vector<std::string>& tokens) {
  KvWriteBatch batch;
  std::vector<TokenBytes> gone;
  for (const auto& token : tokens) {
    TokenBytes t;
    if (!ParseToken(token, &t) || !Holds(t)) continue;
    batch.Delete(RecordKey(t));
    gone.push_back(t);
  }
  if (batch.empty()) return Status::OK();
  RETURN_IF_ERROR(db_->Write(batch));
  {
    std::lock_guard cache_lock(cache_mu_);  // no erased plaintext stays in memory
    cache_.clear();
  }
  std::unique_lock lock(mu_);
  for (const auto& t : gone) stored_.erase(t);
  size_ = stored_.size();
  return Status::OK();
}

std::optional<std::string> PiiVault::RecordKeyOf(std::string_view token) {
  TokenBytes t;
  if (!ParseToken(token, &t)) return std::nullopt;
  return RecordKey(t);
}

Result<PiiVault::ResealStats> PiiVault::Reseal(const KeyRing& ring) {
  ResealStats stats;
  stats.key_id = ring.current().id;
  // The new ring must keep every key of the one in use; then it is used at
  // once, so a reseal that stops midway (an I/O error) leaves records under
  // either key and a vault that opens them all.
  {
    std::unique_lock lock(mu_);
    for (const Key& old : ring_->keys()) {
      const auto& kept = ring.keys();
      if (std::none_of(kept.begin(), kept.end(),
                       [&](const Key& k) { return k.id == old.id && k.bytes == old.bytes; })) {
        return Status::InvalidArgument(
            "the new key ring does not hold key " + std::to_string(old.id) +
            " of the ring in use: rotate a copy of the ring, which keeps the old keys");
      }
    }
    ring_ = std::make_shared<const KeyRing>(ring);
  }
  KvWriteBatch batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    RETURN_IF_ERROR(db_->Write(batch));
    batch = KvWriteBatch();
    return Status::OK();
  };
  RETURN_IF_ERROR(db_->ScanPrefix(kRecordPrefix, [&](std::string_view k, std::string_view v) {
    auto plain = Decrypt(ring, v, k);
    if (!plain.ok()) {
      return Status::Corruption(
          "a vault record does not open with the new key ring: it must hold every key the "
          "records were sealed with");
    }
    if (v.size() > 1 && static_cast<uint8_t>(v[1]) == stats.key_id) return Status::OK();
    ASSIGN_OR_RETURN(std::string sealed, Encrypt(ring, *plain, k));
    batch.Put(std::string(k), std::move(sealed));
    ++stats.values;
    if (batch.size() >= 4096) return flush();
    return Status::OK();
  }));
  RETURN_IF_ERROR(flush());
  return stats;
}

Result<std::vector<std::pair<uint8_t, size_t>>> PiiVault::CountByKey() const {
  std::array<size_t, 256> n{};
  RETURN_IF_ERROR(db_->ScanPrefix(kRecordPrefix, [&](std::string_view, std::string_view v) {
    if (v.size() < kSealedOverhead) return Status::Corruption("vault record too short");
    ++n[static_cast<uint8_t>(v[1])];
    return Status::OK();
  }));
  std::vector<std::pair<uint8_t, size_t>> out;
  for (size_t id = 1; id < n.size(); ++id) {
    if (n[id]) out.emplace_back(static_cast<uint8_t>(id), n[id]);
  }
  return out;
}

void TokenizeIdentifiers(const PiiVault& vault, PiiVault::Pending* pending, Event* e) {
  for (Identifier& id : e->identifiers) {
    if (IsPiiToken(id.value)) continue;
    if (IsDirectNamespace(id.ns) || LooksLikeEmail(id.value) || LooksLikePhone(id.value))
      id.value = vault.Tokenize(id.value, pending);
  }
  for (std::string* raw : {&e->user_id, &e->anonymous_id}) {
    if (!raw->empty() && !IsPiiToken(*raw) && (LooksLikeEmail(*raw) || LooksLikePhone(*raw)))
      *raw = vault.Tokenize(*raw, pending);
  }
}

void TokenizePayload(const PiiVault& vault, PiiVault::Pending* pending, Event* e) {
  Tokenizer t(vault, pending, e->identifiers.empty() ? "" : e->identifiers.front().ToString());
  t.Json(&e->properties_json, /*personal=*/false);
  t.Json(&e->traits_json, /*personal=*/true);
  t.Json(&e->context_json, /*personal=*/false, /*nested_traits=*/true);
  t.Url(&e->url);
  t.Url(&e->referrer);
}

void CollectPiiTokens(std::string_view text, std::vector<std::string>* out) {
  for (size_t at = text.find(kPiiTokenPrefix); at != std::string_view::npos;
       at = text.find(kPiiTokenPrefix, at + 1)) {
    std::string_view candidate = text.substr(at, kPiiTokenSize);
    if (IsPiiToken(candidate)) out->emplace_back(candidate);
  }
}

void CollectPiiTokens(const Event& e, std::vector<std::string>* out) {
  for (const Identifier& id : e.identifiers) CollectPiiTokens(id.value, out);
  for (const std::string* s : {&e.user_id, &e.anonymous_id, &e.properties_json, &e.traits_json,
                               &e.context_json, &e.url, &e.referrer}) {
    CollectPiiTokens(*s, out);
  }
}

std::string TokenizeText(const PiiVault& vault, PiiVault::Pending* pending, std::string_view text) {
  std::string out(text);
  Tokenizer(vault, pending).FreeText(&out);
  return out;
}

}  // namespace quanyu::privacy
