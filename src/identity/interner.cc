#include "identity/interner.h"

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
}

uint32_t IdentifierInterner::InternNamespace(std::string_view ns, std::string_view scope) {
  auto [it, added] = ns_ids_.try_emplace(NamespaceKey(ns, scope), ns_names_.size());
  if (added) {
    ns_names_.emplace_back(ns);
    ns_scopes_.emplace_back(scope);
  }
  return it->second;
}

int64_t IdentifierInterner::FindNamespace(std::string_view ns, std::string_view scope) const {
  auto it = ns_ids_.find(NamespaceKey(ns, scope));
  return it == ns_ids_.end() ? -1 : it->second;
}

uint64_t IdentifierInterner::HashOf(uint32_t ns_id, std::string_view value) {
  return Hash64(value, 0x9E3779B97F4A7C15ull * (ns_id + 1));
}

IdentKey IdentifierInterner::Find(uint32_t ns_id, std::string_view value) const {
  uint64_t h = HashOf(ns_id, value);
  uint32_t tag = static_cast<uint32_t>(h >> 32);
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.key == 0) return 0;
    if (s.tag == tag && key_ns_[s.key] == ns_id && ValueOf(s.key) == value) return s.key;
  }
}

std::pair<IdentKey, bool> IdentifierInterner::Intern(uint32_t ns_id, std::string_view value) {
  uint64_t h = HashOf(ns_id, value);
  uint32_t tag = static_cast<uint32_t>(h >> 32);
  size_t i = h & mask_;
  for (;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.key == 0) break;
    if (s.tag == tag && key_ns_[s.key] == ns_id && ValueOf(s.key) == value) return {s.key, false};
  }
  auto key = static_cast<IdentKey>(key_ns_.size());
  values_.append(value);
  value_offsets_.push_back(values_.size());
  key_ns_.push_back(ns_id);
  slots_[i] = {tag, key};
  if (size() * 10 > slots_.size() * 7) Grow();
  return {key, true};
}

void IdentifierInterner::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.key == 0) continue;
    uint64_t h = HashOf(key_ns_[s.key], ValueOf(s.key));
    size_t i = h & mask_;
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

std::string IdentifierInterner::ToString(IdentKey key) const {
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
         value_offsets_.capacity() * sizeof(uint64_t) + key_ns_.capacity() * sizeof(uint32_t);
}

}  // namespace quanyu::identity
