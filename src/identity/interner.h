// IdentifierInterner: maps each normalized identifier (namespace, scope,
// value) to a dense 32-bit key, 1, 2, 3..., in first-seen order, so the
// identity graph and the store work on integers (ARCHITECTURE.md §4).
// A (namespace, scope) pair is interned separately into a small "namespace
// id", because limits count values per namespace and scope.
//
// The table is open addressing over (32-bit hash tag, key) slots with the
// values kept back to back in one arena: about 20 bytes per identifier plus
// its value.
//
// An identifier can be erased (a data-subject deletion): its key stays
// allocated (keys are never reused) but holds no value, and the identifier is
// no longer found; interning it again gives a new key.
//
// Thread-safety: not synchronized; the identity graph serializes access.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace quanyu::identity {

using IdentKey = uint32_t;  // 1-based; 0 = none

class IdentifierInterner {
 public:
  IdentifierInterner();

  // The id of (ns, scope), interning it if new. Ids are dense from 0.
  uint32_t InternNamespace(std::string_view ns, std::string_view scope);
  // -1 if (ns, scope) was never interned.
  int64_t FindNamespace(std::string_view ns, std::string_view scope) const;
  size_t namespace_count() const { return ns_names_.size(); }
  const std::string& NamespaceName(uint32_t ns_id) const { return ns_names_[ns_id]; }
  const std::string& ScopeName(uint32_t ns_id) const { return ns_scopes_[ns_id]; }

  // The key of (ns_id, value); interns it when new (second = true).
  std::pair<IdentKey, bool> Intern(uint32_t ns_id, std::string_view value);
  // 0 if absent (or erased).
  IdentKey Find(uint32_t ns_id, std::string_view value) const;

  // Forgets the value of `key`: its bytes in the arena are overwritten with
  // zeros and its slot leaves the table (backward-shift deletion, so every
  // other identifier stays findable). The key keeps its namespace; ValueOf
  // answers "" and Find never answers it again. No-op if `key` is 0, out of
  // range or already erased. The zeroed bytes are reclaimed at the next
  // load, which appends erased keys with AppendErased.
  void Erase(IdentKey key);
  // Appends a new key of namespace `ns_id` that is already erased (a graph
  // being loaded keeps its key numbering).
  IdentKey AppendErased(uint32_t ns_id);
  bool IsErased(IdentKey key) const { return key < erased_.size() && erased_[key]; }
  size_t erased_count() const { return erased_count_; }

  uint32_t NamespaceOf(IdentKey key) const { return key_ns_[key]; }
  // "" for an erased key.
  std::string_view ValueOf(IdentKey key) const {
    return IsErased(key) ? std::string_view() : StoredValue(key);
  }
  // "ns:value" or "ns:scope:value" (Identifier::ToString's form); "" for an
  // erased key.
  std::string ToString(IdentKey key) const;

  // Number of identifiers, erased ones included; keys are 1..size().
  size_t size() const { return key_ns_.size() - 1; }
  size_t MemoryUsage() const;

 private:
  struct Slot {
    uint32_t tag = 0;  // high bits of the hash
    uint32_t key = 0;  // 0 = empty
  };
  static uint64_t HashOf(uint32_t ns_id, std::string_view value);
  // The arena bytes of `key` (zeros once erased).
  std::string_view StoredValue(IdentKey key) const {
    return std::string_view(values_).substr(value_offsets_[key],
                                            value_offsets_[key + 1] - value_offsets_[key]);
  }
  // Where the probe for the identifier in `s` starts.
  size_t HomeOfSlot(const Slot& s) const;
  void Grow();

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::string values_;                   // every value, back to back
  std::vector<uint64_t> value_offsets_;  // key → start in values_; [size()+1] = end
  std::vector<uint32_t> key_ns_;         // key → namespace id ([0] unused)
  std::vector<bool> erased_;             // key → erased ([0] unused)
  size_t erased_count_ = 0;

  std::vector<std::string> ns_names_, ns_scopes_;
  std::unordered_map<std::string, uint32_t> ns_ids_;  // "ns\0scope" → id
};

}  // namespace quanyu::identity
