// SeenTable: an open-addressing hash table from 128-bit message keys to
// (first seen, LSN), the storage behind MessageDedupe. One flat array of
// 32-byte slots with linear probing: a lookup touches one or two cache lines,
// where a node-based std::unordered_map chases pointers on every probe.
// Deletion shifts later entries back (no tombstones).
//
// Not synchronized: MessageDedupe shards it and locks each shard.
#pragma once

#include <cstdint>
#include <vector>

#include "common/hash.h"

namespace quanyu::log::internal {

struct SeenValue {
  int64_t first_seen_us = 0;
  uint64_t lsn = 0;
};

class SeenTable {
 public:
  SeenTable() { slots_.resize(kInitialCapacity); }

  // Returns the value for `key`, inserting `value` first if absent;
  // `*inserted` tells which.
  SeenValue* TryEmplace(const Hash128& key, const SeenValue& value, bool* inserted) {
    if ((size_ + 1) * 10 > slots_.size() * 7) Grow();
    Hash128 k = Normalize(key);
    size_t i = Home(k);
    for (;; i = Next(i)) {
      Slot& s = slots_[i];
      if (Empty(s)) {
        s.key = k;
        s.value = value;
        ++size_;
        *inserted = true;
        return &s.value;
      }
      if (s.key == k) {
        *inserted = false;
        return &s.value;
      }
    }
  }

  SeenValue* Find(const Hash128& key) {
    return const_cast<SeenValue*>(static_cast<const SeenTable*>(this)->Find(key));
  }
  const SeenValue* Find(const Hash128& key) const {
    Hash128 k = Normalize(key);
    for (size_t i = Home(k);; i = Next(i)) {
      const Slot& s = slots_[i];
      if (Empty(s)) return nullptr;
      if (s.key == k) return &s.value;
    }
  }

  bool Erase(const Hash128& key) {
    Hash128 k = Normalize(key);
    size_t i = Home(k);
    for (;; i = Next(i)) {
      if (Empty(slots_[i])) return false;
      if (slots_[i].key == k) break;
    }
    EraseSlot(i);
    return true;
  }

  // Removes every entry for which pred(key, value) holds.
  template <typename Pred>
  void EraseIf(Pred pred) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.size(), Slot{});
    size_ = 0;
    for (const Slot& s : old) {
      if (!Empty(s) && !pred(s.key, s.value)) Insert(s);
    }
  }

  // Calls fn(key, value) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const Slot& s : slots_) {
      if (!Empty(s)) fn(s.key, s.value);
    }
  }
  template <typename Fn>
  void ForEachMutable(Fn fn) {
    for (Slot& s : slots_) {
      if (!Empty(s)) fn(s.key, s.value);
    }
  }

  size_t size() const { return size_; }
  // Sizes the table for n entries without growing. Loading entries in the
  // slot order of a bigger table (a snapshot) into a smaller one makes one
  // giant probe cluster — quadratic; reserving first keeps every entry near
  // its home slot.
  void Reserve(size_t n) {
    size_t cap = slots_.size();
    while ((n + 1) * 10 > cap * 7) cap *= 2;
    if (cap == slots_.size()) return;
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(cap, Slot{});
    size_ = 0;
    for (const Slot& s : old) {
      if (!Empty(s)) Insert(s);
    }
  }
  void Swap(SeenTable& other) {
    slots_.swap(other.slots_);
    std::swap(size_, other.size_);
  }

 private:
  static constexpr size_t kInitialCapacity = 1024;  // a power of two
  struct Slot {
    Hash128 key;  // {0, 0} = empty
    SeenValue value;
  };

  // The all-zero key marks empty slots, so a (vanishingly unlikely) real
  // all-zero hash is stored as {1, 0}.
  static Hash128 Normalize(Hash128 k) {
    if (k.lo == 0 && k.hi == 0) k.lo = 1;
    return k;
  }
  static bool Empty(const Slot& s) { return s.key.lo == 0 && s.key.hi == 0; }
  size_t Home(const Hash128& k) const { return k.lo & (slots_.size() - 1); }
  size_t Next(size_t i) const { return (i + 1) & (slots_.size() - 1); }

  void Insert(const Slot& slot) {
    size_t i = Home(slot.key);
    while (!Empty(slots_[i])) i = Next(i);
    slots_[i] = slot;
    ++size_;
  }

  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, Slot{});
    size_ = 0;
    for (const Slot& s : old) {
      if (!Empty(s)) Insert(s);
    }
  }

  // Backward-shift deletion for linear probing.
  void EraseSlot(size_t hole) {
    size_t i = hole;
    for (;;) {
      i = Next(i);
      if (Empty(slots_[i])) break;
      size_t home = Home(slots_[i].key);
      // Move slot i into the hole if its home is not cyclically in (hole, i].
      bool in_range = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!in_range) {
        slots_[hole] = slots_[i];
        hole = i;
      }
    }
    slots_[hole] = Slot{};
    --size_;
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace quanyu::log::internal
