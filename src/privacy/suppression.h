// SuppressionList (docs/privacy.md, "Deletion"): the identifiers erased by
// deletion requests, kept only as keyed hashes — KeyedHash(ring,
// "suppression", "ns[:scope]:value") — in the state DB under "sup/" + hex
// hash, each naming the request that added it. An event carrying one of
// them is dropped at collect and at log replay, so a deleted person does
// not come back when a device re-sends old events. The hashes are also how
// an interrupted deletion finds its rows again after a restart: the
// plaintext is gone, but the key ring can hash every identifier it meets.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/event.h"
#include "common/kv.h"
#include "common/result.h"
#include "privacy/crypto.h"

namespace quanyu::privacy {

class SuppressionList {
 public:
  using Hash = std::array<uint8_t, 32>;

  // Loads the list from `db`; `ring` keys the hashes (it is read once,
  // here). Corruption on a malformed record.
  static Result<std::unique_ptr<SuppressionList>> Open(KvStore* db, const KeyRing* ring);

  Hash HashOf(const Identifier& id) const;
  Hash HashOf(std::string_view identifier_text) const;  // "ns[:scope]:value"
  // Adds `hashes` for request `request_id`, persisted in one batch before
  // they take effect. Hashes already listed keep their first request.
  Status Add(const std::vector<Hash>& hashes, std::string_view request_id);
  bool Contains(const Hash& h) const;
  // Whether any identifier of `e` is listed (false at once when the list
  // is empty: one atomic load).
  bool Matches(const Event& e) const;
  bool Matches(const Identifier& id) const;
  // The hashes a request added, in no particular order.
  std::vector<Hash> OfRequest(std::string_view request_id) const;
  size_t size() const { return size_.load(std::memory_order_acquire); }

  static constexpr std::string_view kKeyPrefix = "sup/";

 private:
  struct HashOfHash {
    size_t operator()(const Hash& h) const {
      size_t v;
      static_assert(sizeof(v) <= sizeof(Hash));
      __builtin_memcpy(&v, h.data(), sizeof(v));
      return v;
    }
  };
  SuppressionList(KvStore* db, const KeyRing* ring);

  KvStore* const db_;
  const KeyedHasher hasher_;  // KeyedHash(ring, "suppression", ·)
  mutable std::shared_mutex mu_;
  std::unordered_map<Hash, std::string, HashOfHash> request_of_;  // hash -> request id
  std::atomic<size_t> size_{0};
};

}  // namespace quanyu::privacy
