#include "store/profile_store.h"

#include <algorithm>
#include <mutex>

namespace quanyu::store {
namespace {

constexpr char kPrefix[] = "pf/";

}  // namespace

void ProfileStore::Apply(const std::vector<Event>& events) {
  std::unique_lock lock(mu_);
  for (const Event& e : events) {
    identity::IdentKey k = e.identity_key;
    if (k == 0) continue;
    if (k >= partials_.size()) {
      partials_.resize(k + 1);
      is_dirty_.resize(k + 1, false);
    }
    if (!partials_[k]) partials_[k] = std::make_unique<identity::PartialProfile>();
    partials_[k]->Apply(e);
    if (!is_dirty_[k]) {
      is_dirty_[k] = true;
      dirty_.push_back(k);
    }
  }
}

std::optional<std::string> ProfileStore::TraitJson(const std::vector<identity::IdentKey>& keys,
                                                   std::string_view trait) const {
  std::shared_lock lock(mu_);
  return TraitJsonLocked(keys.data(), keys.size(), trait);
}

std::optional<std::string> ProfileStore::TraitJsonLocked(const identity::IdentKey* keys, size_t n,
                                                         std::string_view trait) const {
  if (n == 1) {
    const identity::IdentKey k = keys[0];
    if (k >= partials_.size() || !partials_[k]) return std::nullopt;
    return partials_[k]->TraitJson(trait);
  }
  std::vector<const identity::PartialProfile*> parts;
  for (size_t i = 0; i < n; ++i) {
    const identity::IdentKey k = keys[i];
    if (k < partials_.size() && partials_[k]) parts.push_back(partials_[k].get());
  }
  return identity::PartialProfile::FoldedTraitJson(parts, trait);
}

void ProfileStore::ForEachTraitJson(
    const std::pair<uint32_t, identity::IdentKey>* groups, size_t n, std::string_view trait,
    const std::function<void(uint32_t, const std::string&)>& fn) const {
  std::shared_lock lock(mu_);
  std::vector<identity::IdentKey> keys;
  for (size_t i = 0; i < n;) {
    const uint32_t id = groups[i].first;
    keys.clear();
    for (; i < n && groups[i].first == id; ++i) keys.push_back(groups[i].second);
    std::optional<std::string> text = TraitJsonLocked(keys.data(), keys.size(), trait);
    if (text) fn(id, *text);
  }
}

void ProfileStore::ForEach(
    const std::function<void(identity::IdentKey, const identity::PartialProfile&)>& fn) const {
  ForEachIn(0, UINT32_MAX, fn);
}

void ProfileStore::ForEachIn(
    identity::IdentKey begin, identity::IdentKey end,
    const std::function<void(identity::IdentKey, const identity::PartialProfile&)>& fn) const {
  std::shared_lock lock(mu_);
  const size_t last = std::min<size_t>(end, partials_.size());
  for (size_t k = begin; k < last; ++k) {
    if (partials_[k]) fn(static_cast<identity::IdentKey>(k), *partials_[k]);
  }
}

identity::IdentKey ProfileStore::key_end() const {
  std::shared_lock lock(mu_);
  return static_cast<identity::IdentKey>(partials_.size());
}

identity::PartialProfile ProfileStore::Fold(const std::vector<identity::IdentKey>& keys) const {
  std::shared_lock lock(mu_);
  identity::PartialProfile out;
  for (identity::IdentKey k : keys) {
    if (k < partials_.size() && partials_[k]) out.MergeFrom(*partials_[k]);
  }
  return out;
}

size_t ProfileStore::size() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const auto& p : partials_) n += p != nullptr;
  return n;
}

void ProfileStore::Erase(const std::vector<identity::IdentKey>& keys) {
  std::unique_lock lock(mu_);
  for (identity::IdentKey k : keys) {
    if (k >= partials_.size() || !partials_[k]) continue;
    partials_[k].reset();
    if (!is_dirty_[k]) {
      is_dirty_[k] = true;
      dirty_.push_back(k);
    }
  }
}

void ProfileStore::WriteDirty(KvWriteBatch* batch) {
  std::unique_lock lock(mu_);  // Apply is kept out by the caller; Erase by this
  for (identity::IdentKey k : dirty_) {
    if (partials_[k]) {
      batch->Put(IdKey(kPrefix, k), partials_[k]->Encode());
    } else {
      batch->Delete(IdKey(kPrefix, k));
    }
    is_dirty_[k] = false;
  }
  dirty_.clear();
}

Result<std::unique_ptr<ProfileStore>> ProfileStore::Load(const KvReader& db) {
  auto store = std::make_unique<ProfileStore>();
  RETURN_IF_ERROR(db.ScanPrefix(kPrefix, [&](std::string_view key, std::string_view value) {
    ASSIGN_OR_RETURN(identity::IdentKey k, IdOfKey(key, kPrefix));
    auto partial = identity::PartialProfile::Decode(value);
    if (!partial.ok())
      return partial.status().WithContext("profile partial of key " + std::to_string(k));
    if (k >= store->partials_.size()) {
      store->partials_.resize(k + 1);
      store->is_dirty_.resize(k + 1, false);
    }
    store->partials_[k] = std::make_unique<identity::PartialProfile>(std::move(*partial));
    return Status::OK();
  }));
  return store;
}

}  // namespace quanyu::store
