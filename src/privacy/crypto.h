// Field encryption and keyed lookup hashes for personal data, over OpenSSL 3.
//
// A KeyRing holds up to 255 256-bit master keys, each named by a one-byte key
// id. The newest ("current") key seals new values; older keys stay in the ring
// only so that values sealed before a rotation still open. Master keys are
// never used directly; each use gets its own key derived with HKDF-SHA-256
// (RFC 5869, empty salt, 32-byte output):
//
//   aead key for key id N = HKDF(IKM = master key N,           info = "quanyu aead v1")
//   index key             = HKDF(IKM = master key of lowest id, info = "quanyu index v1")
//
// The index key comes from the lowest id, not the current key, so KeyedHash
// values (lookup indexes, the suppression list) survive rotation unchanged.
// Consequence: the lowest-id key must stay in the ring for as long as any
// keyed hash made with it is stored; removing it re-keys every index.
//
// Sealed value (Encrypt/Decrypt), byte by byte:
//   [0]       format version, 1
//   [1]       key id of the master key whose aead key sealed it
//   [2..14)   96-bit nonce from RAND_bytes
//   [14..n-16) AES-256-GCM ciphertext, as long as the plaintext
//   [n-16..n) 128-bit GCM tag
// The GCM additional data is bytes [0..2) followed by the caller's
// associated_data, so the version and key id are authenticated too. Random
// nonces bound the safe use of one key to about 2^32 Encrypt calls: rotate
// well before that.
//
// Key file text (KeyRing::Parse, KeyRing::Serialize, WriteKeyFile):
//   # comment; '#' starts a comment anywhere on a line, blank lines are ignored
//   1 0f1e2d...   (key id 1..255, whitespace, exactly 64 hex digits)
//   2 a0b1c2...   (the LAST key line is the current key)
// Ids are unique but need not be in order. Hex is accepted in either case and
// written in lower case. No error message ever contains key material.
//
// Thread-safety: every const member and every free function may be called
// concurrently on the same const KeyRing. Rotate mutates and needs exclusive
// access (rotate a copy, persist it, then swap it in). A KeyRing wipes its key
// bytes (OPENSSL_cleanse) when destroyed; copies are independent.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace quanyu::privacy {

inline constexpr uint8_t kSealedFormatVersion = 1;
inline constexpr size_t kSealedOverhead = 1 + 1 + 12 + 16;  // version, key id, nonce, tag

struct Key {
  uint8_t id = 0;  // 1..255
  std::array<uint8_t, 32> bytes{};
};

class KeyRing {
 public:
  // Parses key file text (format above). InvalidArgument naming the line for
  // a bad id (not 1..255), a key that is not 64 hex digits, a missing or extra
  // field, or a duplicate id; InvalidArgument if the text holds no key.
  static Result<KeyRing> Parse(std::string_view text);

  // Reads and parses the key file at `path`. NotFound if it does not exist,
  // IOError if it cannot be read, InvalidArgument if it is not a regular file,
  // is readable or writable by group or others (mode & 077; the message says
  // to chmod 600), is over 64 KiB, or does not parse (message prefixed with
  // the path).
  static Result<KeyRing> Load(const std::string& path);

  // Parses the value of an environment variable: key file text, or a single
  // bare 64-hex-digit key (surrounding whitespace ignored), which becomes id 1.
  // Errors as Parse.
  static Result<KeyRing> FromEnv(std::string_view value);

  // A ring of one fresh random key with id 1. Internal if the random number
  // generator or HKDF fails.
  static Result<KeyRing> Generate();

  KeyRing(const KeyRing&) = default;
  KeyRing(KeyRing&&) noexcept = default;
  // Copy and move assignment by swap, so the replaced keys are wiped too.
  KeyRing& operator=(KeyRing other) noexcept;
  ~KeyRing();

  // Adds a fresh random key with id = highest id + 1 and makes it current;
  // returns it. InvalidArgument when the highest id is already 255, Internal
  // if the random number generator fails; the ring is unchanged on error.
  Result<Key> Rotate();

  // Key file text that Parse reads back to an equal ring (same keys, same
  // order, same current key). Contains key material: wipe it after use.
  std::string Serialize() const;

  // The key new values are sealed with. Never fails: a ring is never empty.
  const Key& current() const { return keys_.back(); }
  // All keys in file order; the last is current().
  std::span<const Key> keys() const { return keys_; }

 private:
  KeyRing() = default;
  // Appends `key` with its aead key; derives the index key if `key` has the
  // lowest id. The ring is unchanged on error.
  Status Add(const Key& key);
  // The aead key of `id`, or nullptr if the ring has no such key.
  const std::array<uint8_t, 32>* AeadKey(uint8_t id) const;

  friend Result<std::string> Encrypt(const KeyRing&, std::string_view, std::string_view);
  friend Result<std::string> Decrypt(const KeyRing&, std::string_view, std::string_view);
  friend std::array<uint8_t, 32> KeyedHash(const KeyRing&, std::string_view, std::string_view);
  friend class KeyedHasher;

  std::vector<Key> keys_;
  std::vector<std::array<uint8_t, 32>> aead_keys_;  // parallel to keys_
  std::array<uint8_t, 32> index_key_{};
};

// Writes Serialize() to `path` atomically: a temporary file in the same
// directory created with mode 0600, fsync, rename over `path`, fsync of the
// directory. IOError (with the path and errno text) on any failure; the
// temporary file is removed and `path` left as it was unless the rename
// itself succeeded.
Status WriteKeyFile(const KeyRing& ring, const std::string& path);

// Seals `plaintext` under the current key (layout above), binding
// `associated_data` (e.g. the column and row the value belongs to), which is
// not stored. Internal only if OpenSSL fails.
Result<std::string> Encrypt(const KeyRing& ring, std::string_view plaintext,
                            std::string_view associated_data);

// Opens a value sealed by Encrypt under any key still in `ring`. Corruption
// (and no plaintext at all) if the value is shorter than kSealedOverhead, has
// another format version, names a key id not in the ring, or fails
// authentication (tampered bytes, wrong key, or other associated_data).
Result<std::string> Decrypt(const KeyRing& ring, std::string_view sealed,
                            std::string_view associated_data);

// HMAC-SHA-256 under the index key of
//   uint64 big-endian byte length of domain || domain || value.
// Equal (domain, value) give equal hashes for the life of the ring's lowest
// key, whatever rotations happen; `domain` ("suppression", "identifier", ...)
// keeps one use's hashes from matching another's. Aborts only if OpenSSL
// itself cannot compute an HMAC (no input can cause that).
std::array<uint8_t, 32> KeyedHash(const KeyRing& ring, std::string_view domain,
                                  std::string_view value);

// KeyedHash(ring, domain, ·) with the key and domain set up once: each Hash
// copies a ready HMAC state instead of keying a new one, which is most of a
// short KeyedHash's cost (the collect gate hashes every identifier once the
// suppression list is not empty). Gives the same hashes as KeyedHash.
// Thread-safe: Hash only reads the prepared state.
class KeyedHasher {
 public:
  KeyedHasher(const KeyRing& ring, std::string_view domain);
  ~KeyedHasher();
  KeyedHasher(const KeyedHasher&) = delete;
  KeyedHasher& operator=(const KeyedHasher&) = delete;
  std::array<uint8_t, 32> Hash(std::string_view value) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Lower-case hex, two digits per byte.
std::string Hex(std::span<const uint8_t> bytes);

// The primitives above, exposed so tests can check them against RFC vectors.
namespace internal {

// HMAC-SHA-256 (RFC 2104, FIPS 198-1). Aborts only if OpenSSL fails.
std::array<uint8_t, 32> HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);

// HKDF-SHA-256 with an empty salt and 32 bytes of output. Internal on failure.
Result<std::array<uint8_t, 32>> HkdfSha256(std::span<const uint8_t> ikm, std::string_view info);

}  // namespace internal

}  // namespace quanyu::privacy
