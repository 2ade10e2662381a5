#include "privacy/crypto.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <system_error>

namespace quanyu::privacy {
namespace {

using KeyBytes = std::array<uint8_t, 32>;

constexpr std::string_view kAeadInfo = "quanyu aead v1";
constexpr std::string_view kIndexInfo = "quanyu index v1";
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
constexpr size_t kHeaderSize = 2 + kNonceSize;  // version, key id, nonce
constexpr size_t kMaxKeyFileSize = 64 * 1024;

// Owns an OpenSSL object: std::unique_ptr<EVP_MAC, Free<EVP_MAC_free>>.
template <auto kFree>
struct Free {
  void operator()(auto* p) const { kFree(p); }
};

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The oldest queued OpenSSL error as text; clears the queue.
std::string OpenSslError() {
  char buf[256] = "no OpenSSL error queued";
  if (unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string ErrnoText(int e) { return std::error_code(e, std::generic_category()).message(); }

// Decodes 64 hex digits into `out`. Returns the offset of the first character
// that is not a hex digit, or -1 on success. REQUIRES: hex.size() == 64.
int DecodeHexKey(std::string_view hex, KeyBytes& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    const char* pair = hex.data() + 2 * i;
    const char* end = std::from_chars(pair, pair + 2, out[i], 16).ptr;
    if (end != pair + 2) return static_cast<int>(end - hex.data());
  }
  return -1;
}

void AppendHex(std::string& out, std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Removes and returns the next whitespace-separated field of `s` ("" at end).
std::string_view NextField(std::string_view& s) {
  size_t begin = 0;
  while (begin < s.size() && IsSpace(s[begin])) ++begin;
  size_t end = begin;
  while (end < s.size() && !IsSpace(s[end])) ++end;
  std::string_view field = s.substr(begin, end - begin);
  s.remove_prefix(end);
  return field;
}

// Appends without leaving an unwiped copy behind when the vector reallocates.
template <typename T>
void AppendWiping(std::vector<T>& v, const T& item) {
  if (v.size() == v.capacity()) {
    std::vector<T> bigger;
    bigger.reserve(std::max<size_t>(4, 2 * v.capacity()));
    bigger.insert(bigger.end(), v.begin(), v.end());
    OPENSSL_cleanse(v.data(), v.size() * sizeof(T));
    v.swap(bigger);
  }
  v.push_back(item);
}

// HMAC-SHA-256 of the concatenated `parts`.
KeyBytes Mac(std::span<const uint8_t> key, std::initializer_list<std::span<const uint8_t>> parts) {
  static const uint8_t kNoKey = 0;  // OpenSSL wants a non-null pointer even for an empty key
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  // Fetched once: a fetch takes a lock and a lookup, most of a short MAC's
  // cost (the collect gate hashes identifiers for the suppression list).
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  std::unique_ptr<EVP_MAC_CTX, Free<EVP_MAC_CTX_free>> ctx(mac ? EVP_MAC_CTX_new(mac) : nullptr);
  bool ok =
      ctx && EVP_MAC_init(ctx.get(), key.empty() ? &kNoKey : key.data(), key.size(), params) == 1;
  for (std::span<const uint8_t> part : parts) {
    ok = ok && EVP_MAC_update(ctx.get(), part.data(), part.size()) == 1;
  }
  KeyBytes out{};
  size_t len = 0;
  ok = ok && EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) == 1 && len == out.size();
  if (!ok) {
    // Only a broken libcrypto or allocation failure gets here; no input can.
    std::fprintf(stderr, "quanyu: HMAC-SHA-256 failed in OpenSSL: %s\n", OpenSslError().c_str());
    std::abort();
  }
  return out;
}

// Feeds `n` bytes to a cipher context in int-sized chunks (out may be null
// for additional data). For GCM every input byte yields one output byte.
bool CipherUpdate(EVP_CIPHER_CTX* ctx, uint8_t* out, const uint8_t* in, size_t n) {
  while (n > 0) {
    int chunk = static_cast<int>(std::min<size_t>(n, size_t{1} << 30));
    int written = 0;
    if (EVP_CipherUpdate(ctx, out, &written, in, chunk) != 1 || written != chunk) return false;
    if (out != nullptr) out += chunk;
    in += chunk;
    n -= static_cast<size_t>(chunk);
  }
  return true;
}

// AES-256-GCM over `in` (n bytes) into `out`; `header` is the sealed value's
// first kHeaderSize bytes (version, key id, nonce). Encrypting writes the tag;
// decrypting checks it and returns Corruption on a mismatch.
Status RunGcm(bool encrypt, const KeyBytes& key, const uint8_t* header, std::string_view ad,
              const uint8_t* in, size_t n, uint8_t* out, uint8_t* tag) {
  std::unique_ptr<EVP_CIPHER_CTX, Free<EVP_CIPHER_CTX_free>> ctx(EVP_CIPHER_CTX_new());
  int final_len = 0;
  bool ok =
      ctx &&
      EVP_CipherInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), header + 2, encrypt ? 1 : 0,
                         nullptr) == 1 &&
      CipherUpdate(ctx.get(), nullptr, header, 2) &&
      CipherUpdate(ctx.get(), nullptr, Bytes(ad).data(), ad.size()) &&
      CipherUpdate(ctx.get(), out, in, n) &&
      (encrypt || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int{kTagSize}, tag) == 1);
  if (!ok) return Status::Internal("AES-256-GCM setup failed in OpenSSL: " + OpenSslError());
  if (EVP_CipherFinal_ex(ctx.get(), out + n, &final_len) != 1) {
    ERR_clear_error();
    if (!encrypt) {
      return Status::Corruption(
          "sealed value failed authentication (tampered bytes, wrong key or wrong associated "
          "data)");
    }
    return Status::Internal("AES-256-GCM encryption failed in OpenSSL");
  }
  if (encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int{kTagSize}, tag) != 1) {
    return Status::Internal("AES-256-GCM tag failed in OpenSSL: " + OpenSslError());
  }
  return Status::OK();
}

}  // namespace

namespace internal {

std::array<uint8_t, 32> HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  return Mac(key, {data});
}

Result<std::array<uint8_t, 32>> HkdfSha256(std::span<const uint8_t> ikm, std::string_view info) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
                         OSSL_PARAM_construct_end()};
  std::unique_ptr<EVP_KDF, Free<EVP_KDF_free>> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  std::unique_ptr<EVP_KDF_CTX, Free<EVP_KDF_CTX_free>> ctx(kdf ? EVP_KDF_CTX_new(kdf.get())
                                                               : nullptr);
  KeyBytes out{};
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return Status::Internal("HKDF-SHA-256 failed in OpenSSL: " + OpenSslError());
  }
  return out;
}

}  // namespace internal

KeyRing::~KeyRing() {
  OPENSSL_cleanse(keys_.data(), keys_.size() * sizeof(Key));
  OPENSSL_cleanse(aead_keys_.data(), aead_keys_.size() * sizeof(KeyBytes));
  OPENSSL_cleanse(index_key_.data(), index_key_.size());
}

KeyRing& KeyRing::operator=(KeyRing other) noexcept {
  keys_.swap(other.keys_);
  aead_keys_.swap(other.aead_keys_);
  std::swap(index_key_, other.index_key_);
  return *this;
}

Status KeyRing::Add(const Key& key) {
  // Derive everything first so that a failure leaves the ring unchanged.
  Result<KeyBytes> aead = internal::HkdfSha256(key.bytes, kAeadInfo);
  if (!aead.ok()) return aead.status();
  bool lowest =
      std::all_of(keys_.begin(), keys_.end(), [&](const Key& k) { return key.id < k.id; });
  Result<KeyBytes> index = lowest ? internal::HkdfSha256(key.bytes, kIndexInfo) : index_key_;
  if (!index.ok()) return index.status();
  AppendWiping(keys_, key);
  AppendWiping(aead_keys_, *aead);
  index_key_ = *index;
  OPENSSL_cleanse(aead->data(), aead->size());
  OPENSSL_cleanse(index->data(), index->size());
  return Status::OK();
}

const std::array<uint8_t, 32>* KeyRing::AeadKey(uint8_t id) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].id == id) return &aead_keys_[i];
  }
  return nullptr;
}

Result<KeyRing> KeyRing::Parse(std::string_view text) {
  KeyRing ring;
  std::array<int, 256> line_of_id{};  // 0: id not seen yet
  for (int line_no = 1; !text.empty(); ++line_no) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    line = line.substr(0, line.find('#'));
    std::string_view id_text = NextField(line), hex = NextField(line);
    if (id_text.empty()) continue;  // blank or comment
    // Fields are never echoed: a line with its fields swapped would print the key.
    std::string where = "key line " + std::to_string(line_no) + ": ";
    if (hex.empty() || !NextField(line).empty()) {
      return Status::InvalidArgument(where + "expected two fields, `ID HEX64`");
    }
    int id = 0;
    auto [id_end, id_error] = std::from_chars(id_text.begin(), id_text.end(), id);
    if (id_error != std::errc() || id_end != id_text.end() || id < 1 || id > 255) {
      return Status::InvalidArgument(where + "key id must be a number from 1 to 255");
    }
    if (hex.size() != 64) {
      return Status::InvalidArgument(where + "key must be 64 hex digits (256 bits), found " +
                                     std::to_string(hex.size()) + " characters");
    }
    if (line_of_id[id] != 0) {
      return Status::InvalidArgument(where + "duplicate key id " + std::to_string(id) +
                                     " (first on line " + std::to_string(line_of_id[id]) + ")");
    }
    Key key{static_cast<uint8_t>(id), {}};
    int bad = DecodeHexKey(hex, key.bytes);
    Status added = bad >= 0 ? Status::InvalidArgument(where + "key has a non-hex character at " +
                                                      "position " + std::to_string(bad + 1))
                            : ring.Add(key);
    OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
    RETURN_IF_ERROR(added);
    line_of_id[id] = line_no;
  }
  if (ring.keys_.empty()) return Status::InvalidArgument("no key found; expected `ID HEX64` lines");
  return ring;
}

Result<KeyRing> KeyRing::FromEnv(std::string_view value) {
  std::string_view rest = value;
  std::string_view only = NextField(rest);
  Key key{1, {}};
  bool bare = only.size() == 64 && NextField(rest).empty() && DecodeHexKey(only, key.bytes) < 0;
  KeyRing ring;
  Status added = bare ? ring.Add(key) : Status::OK();
  OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
  RETURN_IF_ERROR(added);
  if (!bare) return Parse(value);
  return ring;
}

Result<KeyRing> KeyRing::Load(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return Status::NotFound("key file " + path + " does not exist");
    return Status::IOError("cannot open key file " + path + ": " + ErrnoText(e));
  }
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { close(*f); });
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    return Status::IOError("cannot stat key file " + path + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::InvalidArgument("key file " + path + " is accessible by group or others (mode " +
                                   mode + "); run `chmod 600 " + path + "`");
  }
  std::string text(kMaxKeyFileSize + 1, '\0');
  size_t n = 0;
  while (n < text.size()) {
    ssize_t got = read(fd, text.data() + n, text.size() - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::IOError("cannot read key file " + path + ": " + ErrnoText(errno));
    if (got == 0) break;
    n += static_cast<size_t>(got);
  }
  Result<KeyRing> ring = n > kMaxKeyFileSize
                             ? Result<KeyRing>(Status::InvalidArgument("larger than 64 KiB"))
                             : Parse(std::string_view(text.data(), n));
  OPENSSL_cleanse(text.data(), text.size());
  if (!ring.ok()) return ring.status().WithContext("key file " + path);
  return ring;
}

Result<KeyRing> KeyRing::Generate() {
  KeyRing ring;
  Result<Key> key = ring.Rotate();  // on an empty ring: key id 1
  if (!key.ok()) return key.status();
  OPENSSL_cleanse(key->bytes.data(), key->bytes.size());
  return ring;
}

Result<Key> KeyRing::Rotate() {
  uint8_t highest = 0;
  for (const Key& k : keys_) highest = std::max(highest, k.id);
  if (highest == 255) {
    return Status::InvalidArgument("cannot rotate: key id 255 is in use, the highest there is");
  }
  Key key{static_cast<uint8_t>(highest + 1), {}};
  Status added = RAND_bytes(key.bytes.data(), static_cast<int>(key.bytes.size())) == 1
                     ? Add(key)
                     : Status::Internal("random key generation failed: " + OpenSslError());
  if (!added.ok()) return added;
  return key;
}

std::string KeyRing::Serialize() const {
  constexpr std::string_view kHeader =
      "# Quanyu key ring: `ID HEX64` per line; the last line is the current key.\n";
  std::string out;
  out.reserve(kHeader.size() + keys_.size() * (3 + 1 + 64 + 1));  // no reallocated copies
  out += kHeader;
  for (const Key& k : keys_) {
    out += std::to_string(k.id);
    out += ' ';
    AppendHex(out, k.bytes);
    out += '\n';
  }
  return out;
}

Status WriteKeyFile(const KeyRing& ring, const std::string& path) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0)
    return Status::IOError("cannot create a temporary file for " + path + ": " + ErrnoText(errno));
  std::string text = ring.Serialize();
  const char* failed = fchmod(fd, 0600) != 0 ? "chmod" : nullptr;
  for (size_t done = 0; failed == nullptr && done < text.size();) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n == 0 || errno != EINTR) {
      failed = "write";
    }
  }
  if (failed == nullptr && fsync(fd) != 0) failed = "fsync";
  int e = errno;
  if (close(fd) != 0 && failed == nullptr) {
    failed = "close";
    e = errno;
  }
  if (failed == nullptr && rename(tmp.c_str(), path.c_str()) != 0) {
    failed = "rename";
    e = errno;
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (failed != nullptr) {
    unlink(tmp.c_str());
    return Status::IOError(std::string(failed) + " of key file " + path +
                           " failed: " + ErrnoText(e));
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dir_fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool synced = dir_fd >= 0 && fsync(dir_fd) == 0;
  e = errno;
  if (dir_fd >= 0) close(dir_fd);
  if (!synced)
    return Status::IOError("fsync of the directory of " + path + " failed: " + ErrnoText(e));
  return Status::OK();
}

Result<std::string> Encrypt(const KeyRing& ring, std::string_view plaintext,
                            std::string_view associated_data) {
  std::string sealed(kSealedOverhead + plaintext.size(), '\0');
  auto* out = reinterpret_cast<uint8_t*>(sealed.data());
  out[0] = kSealedFormatVersion;
  out[1] = ring.current().id;
  if (RAND_bytes(out + 2, kNonceSize) != 1) {
    return Status::Internal("nonce generation failed: " + OpenSslError());
  }
  RETURN_IF_ERROR(RunGcm(true, ring.aead_keys_.back(), out, associated_data,
                         Bytes(plaintext).data(), plaintext.size(), out + kHeaderSize,
                         out + kHeaderSize + plaintext.size()));
  return sealed;
}

Result<std::string> Decrypt(const KeyRing& ring, std::string_view sealed,
                            std::string_view associated_data) {
  if (sealed.size() < kSealedOverhead) {
    return Status::Corruption("sealed value is " + std::to_string(sealed.size()) +
                              " bytes, shorter than the " + std::to_string(kSealedOverhead) +
                              "-byte minimum");
  }
  const uint8_t* in = Bytes(sealed).data();
  if (in[0] != kSealedFormatVersion) {
    return Status::Corruption("sealed value has format version " + std::to_string(in[0]) +
                              "; only version 1 is known");
  }
  const KeyBytes* key = ring.AeadKey(in[1]);
  if (key == nullptr) {
    return Status::Corruption("sealed value names key id " + std::to_string(in[1]) +
                              ", which is not in the key ring");
  }
  size_t n = sealed.size() - kSealedOverhead;
  std::string plain(n, '\0');
  std::array<uint8_t, kTagSize> tag;
  std::copy_n(in + kHeaderSize + n, kTagSize, tag.begin());
  Status s = RunGcm(false, *key, in, associated_data, in + kHeaderSize, n,
                    reinterpret_cast<uint8_t*>(plain.data()), tag.data());
  if (!s.ok()) {
    OPENSSL_cleanse(plain.data(), plain.size());  // never hand back unauthenticated bytes
    return s;
  }
  return plain;
}

std::array<uint8_t, 32> KeyedHash(const KeyRing& ring, std::string_view domain,
                                  std::string_view value) {
  uint8_t length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<uint8_t>(uint64_t{domain.size()} >> (56 - 8 * i));
  return Mac(ring.index_key_, {length, Bytes(domain), Bytes(value)});
}

struct KeyedHasher::State {
  EVP_MAC_CTX* ready = nullptr;  // keyed, with the domain prefix fed
  ~State() { EVP_MAC_CTX_free(ready); }
};

KeyedHasher::KeyedHasher(const KeyRing& ring, std::string_view domain)
    : state_(std::make_unique<State>()) {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  uint8_t length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<uint8_t>(uint64_t{domain.size()} >> (56 - 8 * i));
  state_->ready = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  const bool ok =
      state_->ready &&
      EVP_MAC_init(state_->ready, ring.index_key_.data(), ring.index_key_.size(), params) == 1 &&
      EVP_MAC_update(state_->ready, length, sizeof length) == 1 &&
      EVP_MAC_update(state_->ready, reinterpret_cast<const uint8_t*>(domain.data()),
                     domain.size()) == 1;
  if (!ok) {
    std::fprintf(stderr, "quanyu: HMAC-SHA-256 setup failed in OpenSSL: %s\n",
                 OpenSslError().c_str());
    std::abort();
  }
}

KeyedHasher::~KeyedHasher() = default;

std::array<uint8_t, 32> KeyedHasher::Hash(std::string_view value) const {
  std::unique_ptr<EVP_MAC_CTX, Free<EVP_MAC_CTX_free>> ctx(EVP_MAC_CTX_dup(state_->ready));
  KeyBytes out{};
  size_t len = 0;
  const bool ok = ctx &&
                  EVP_MAC_update(ctx.get(), reinterpret_cast<const uint8_t*>(value.data()),
                                 value.size()) == 1 &&
                  EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) == 1 && len == out.size();
  if (!ok) {
    std::fprintf(stderr, "quanyu: HMAC-SHA-256 failed in OpenSSL: %s\n", OpenSslError().c_str());
    std::abort();
  }
  return out;
}

std::string Hex(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(2 * bytes.size());
  AppendHex(out, bytes);
  return out;
}

}  // namespace quanyu::privacy
