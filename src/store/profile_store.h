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
#include <string>
#include <string_view>
#include <shared_mutex>
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
  void ForEach(const std::function<void(identity::IdentKey, const identity::PartialProfile&)>& fn) const;

  // Adds every partial changed since the last call to `batch`. Fold may run
  // meanwhile. REQUIRES: no concurrent Apply (the engine's identity lock).
  void WriteDirty(KvWriteBatch* batch);
  // Reads what WriteDirty wrote. Corruption on a bad record.
  static Result<std::unique_ptr<ProfileStore>> Load(const KvReader& db);

 private:
  mutable std::shared_mutex mu_;
  std::vector<std::unique_ptr<identity::PartialProfile>> partials_;  // by key
  std::vector<identity::IdentKey> dirty_;
  std::vector<bool> is_dirty_;
};

}  // namespace quanyu::store
