#include "identity/interner.h"

#include <algorithm>

#include "common/hash.h"

namespace quanyu::identity {
namespace {

std::string NamespaceKey(std::string_view ns, std::string_view scope) {
  std::string k(ns);
  k.push_back('\0');
  k.append(scope);
  return k;
}

}  // namespace

IdentifierInterner::IdentifierInterner() {
  slots_.resize(1024);
  mask_ = slots_.size() - 1;
  value_offsets_ = {0, 0};  // key 0 is the empty value
  key_ns_ = {0};
  erased_ = {false};
}

uint32_t IdentifierInterner::InternNamespace(std::string_view ns, std::string_view scope) {
  int64_t found = FindNamespace(ns, scope);
  if (found >= 0) return static_cast<uint32_t>(found);
  auto id = static_cast<uint32_t>(ns_names_.size());
  ns_ids_.emplace(NamespaceKey(ns, scope), id);
  ns_names_.emplace_back(ns);
  ns_scopes_.emplace_back(scope);
  return id;
}

int64_t IdentifierInterner::FindNamespace(std::string_view ns, std::string_view scope) const {
  // Called for every identifier of every event. A deployment has a handful
  // of (namespace, scope) pairs: comparing them in place beats building the
  // "ns\0scope" key (an allocation once it passes the SSO size) and hashing it.
  constexpr size_t kScanUpTo = 16;
  if (ns_names_.size() <= kScanUpTo) {
    for (size_t i = 0; i < ns_names_.size(); ++i) {
      if (ns_names_[i] == ns && ns_scopes_[i] == scope) return static_cast<int64_t>(i);
    }
    return -1;
  }
  auto it = ns_ids_.find(NamespaceKey(ns, scope));
  return it == ns_ids_.end() ? -1 : it->second;
}

uint64_t IdentifierInterner::HashOf(uint32_t ns_id, std::string_view value) {
  return Hash64(value, 0x9E3779B97F4A7C15ull * (ns_id + 1));
}

namespace {

// A slot's home: the hash rotated by 32 bits, so that below 2^32 slots the
// home is made of the tag's bits alone and Grow() can re-place a slot from
// its tag without reading (and hashing again) the value, a cache miss each.
size_t HomeOf(uint64_t h, size_t mask) { return ((h >> 32) | (h << 32)) & mask; }

}  // namespace

IdentKey IdentifierInterner::Find(uint32_t ns_id, std::string_view value) const {
  uint64_t h = HashOf(ns_id, value);
  uint32_t tag = static_cast<uint32_t>(h >> 32);
  for (size_t i = HomeOf(h, mask_);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.key == 0) return 0;
    if (s.tag == tag && key_ns_[s.key] == ns_id && StoredValue(s.key) == value) return s.key;
  }
}

std::pair<IdentKey, bool> IdentifierInterner::Intern(uint32_t ns_id, std::string_view value) {
  uint64_t h = HashOf(ns_id, value);
  uint32_t tag = static_cast<uint32_t>(h >> 32);
  size_t i = HomeOf(h, mask_);
  for (;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.key == 0) break;
    if (s.tag == tag && key_ns_[s.key] == ns_id && StoredValue(s.key) == value) {
      return {s.key, false};
    }
  }
  auto key = static_cast<IdentKey>(key_ns_.size());
  values_.append(value);
  value_offsets_.push_back(values_.size());
  key_ns_.push_back(ns_id);
  erased_.push_back(false);
  slots_[i] = {tag, key};
  if (size() * 10 > slots_.size() * 7) Grow();
  return {key, true};
}

IdentKey IdentifierInterner::AppendErased(uint32_t ns_id) {
  auto key = static_cast<IdentKey>(key_ns_.size());
  value_offsets_.push_back(values_.size());  // an empty value
  key_ns_.push_back(ns_id);
  erased_.push_back(true);
  ++erased_count_;
  return key;
}

void IdentifierInterner::Erase(IdentKey key) {
  if (key == 0 || key > size() || erased_[key]) return;
  std::string_view value = StoredValue(key);
  uint64_t h = HashOf(key_ns_[key], value);
  size_t i = HomeOf(h, mask_);
  while (slots_[i].key != key && slots_[i].key != 0) i = (i + 1) & mask_;
  if (slots_[i].key == key) {
    // Backward-shift deletion: each later slot of the probe run moves into
    // the hole when the hole lies between its home and where it sits, so a
    // probe from any home still meets no empty slot before its key.
    for (size_t j = (i + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
      size_t home = HomeOfSlot(slots_[j]);
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
  }
  std::fill(values_.begin() + static_cast<ptrdiff_t>(value_offsets_[key]),
            values_.begin() + static_cast<ptrdiff_t>(value_offsets_[key + 1]), '\0');
  erased_[key] = true;
  ++erased_count_;
}

size_t IdentifierInterner::HomeOfSlot(const Slot& s) const {
  // Below 2^32 slots the home is the tag's low bits (see HomeOf).
  if (mask_ <= UINT32_MAX) return s.tag & mask_;
  return HomeOf(HashOf(key_ns_[s.key], StoredValue(s.key)), mask_);
}

void IdentifierInterner::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.key == 0) continue;
    size_t i = HomeOfSlot(s);
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

std::string IdentifierInterner::ToString(IdentKey key) const {
  if (IsErased(key)) return std::string();
  uint32_t ns = key_ns_[key];
  std::string out = ns_names_[ns];
  out.push_back(':');
  if (!ns_scopes_[ns].empty()) {
    out += ns_scopes_[ns];
    out.push_back(':');
  }
  out.append(ValueOf(key));
  return out;
}

size_t IdentifierInterner::MemoryUsage() const {
  return slots_.capacity() * sizeof(Slot) + values_.capacity() +
         value_offsets_.capacity() * sizeof(uint64_t) + key_ns_.capacity() * sizeof(uint32_t) +
         erased_.capacity() / 8;
}

}  // namespace quanyu::identity
