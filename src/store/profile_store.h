// ProfileStore: the profile partials of every identity key (profile.h), kept
// in memory and persisted in the state DB under "pf/" + big-endian key
// (docs/identity_format.md). A person's profile is Fold() of the partials of
// the keys the identity graph gives the person now, so merges, splits and
// late events need no profile rewrite.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.h"
#include "common/kv.h"
#include "common/result.h"
#include "identity/interner.h"
#include "identity/profile.h"

namespace quanyu::store {

class ProfileStore {
 public:
  // Applies each event to the partial of its identity_key (events with key 0
  // are skipped).
  void Apply(const std::vector<Event>& events);
  // The fold of the partials of `keys` (empty partial if none).
  identity::PartialProfile Fold(const std::vector<identity::IdentKey>& keys) const;
  size_t size() const;
  // Person trait `trait` of the fold of the partials of `keys` (as
  // PartialProfile::TraitJson), without copying a partial when one key
  // holds it. REQUIRES: `keys` are the partials that affect the trait.
  std::optional<std::string> TraitJson(const std::vector<identity::IdentKey>& keys,
                                       std::string_view trait) const;
  // Calls fn(key, partial) for every key with a partial, in key order,
  // under the read lock (Apply waits): fn must not call back into the store.
  void ForEach(
      const std::function<void(identity::IdentKey, const identity::PartialProfile&)>& fn) const;
  // The same over keys in [begin, end) only.
  void ForEachIn(
      identity::IdentKey begin, identity::IdentKey end,
      const std::function<void(identity::IdentKey, const identity::PartialProfile&)>& fn) const;
  // One past the largest key with a partial (0 if none).
  identity::IdentKey key_end() const;
  // TraitJson for many groups of keys under one read lock: `groups` are
  // (group id, key) sorted by group id; fn(group id, json) for each group
  // whose trait is set, in order.
  void ForEachTraitJson(const std::pair<uint32_t, identity::IdentKey>* groups, size_t n,
                        std::string_view trait,
                        const std::function<void(uint32_t, const std::string&)>& fn) const;

  // Removes the partials of `keys` (a deletion request); the next
  // WriteDirty deletes their records.
  void Erase(const std::vector<identity::IdentKey>& keys);

  // Adds every partial changed since the last call to `batch` (erased ones
  // as deletes). Fold may run
  // meanwhile. REQUIRES: no concurrent Apply (the engine's identity lock).
  void WriteDirty(KvWriteBatch* batch);
  // Reads what WriteDirty wrote. Corruption on a bad record.
  static Result<std::unique_ptr<ProfileStore>> Load(const KvReader& db);

 private:
  std::optional<std::string> TraitJsonLocked(const identity::IdentKey* keys, size_t n,
                                             std::string_view trait) const;

  mutable std::shared_mutex mu_;
  std::vector<std::unique_ptr<identity::PartialProfile>> partials_;  // by key
  std::vector<identity::IdentKey> dirty_;
  std::vector<bool> is_dirty_;
};

}  // namespace quanyu::store
