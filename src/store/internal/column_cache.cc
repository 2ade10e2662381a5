#include "store/internal/column_cache.h"

namespace quanyu::store::internal {

std::shared_ptr<const DecodedColumn> ColumnCache::Get(const std::string& path, Column column) {
  std::lock_guard l(mu_);
  auto it = index_.find(KeyOf(path, column));
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->col;
}

void ColumnCache::Put(const std::string& path, Column column,
                      std::shared_ptr<const DecodedColumn> col) {
  const size_t size = col->MemoryBytes();
  if (size > capacity_) return;
  std::string key = KeyOf(path, column);
  std::lock_guard l(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Entry{key, std::move(col), size});
  index_.emplace(std::move(key), lru_.begin());
  bytes_ += size;
  while (bytes_ > capacity_ && !lru_.empty()) {
    bytes_ -= lru_.back().bytes;
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

size_t ColumnCache::bytes() const {
  std::lock_guard l(mu_);
  return bytes_;
}
uint64_t ColumnCache::hits() const {
  std::lock_guard l(mu_);
  return hits_;
}
uint64_t ColumnCache::misses() const {
  std::lock_guard l(mu_);
  return misses_;
}

}  // namespace quanyu::store::internal
