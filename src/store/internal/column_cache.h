// ColumnCache: decoded column blocks of segments kept in memory for
// columnar scans (EventStore::ScanColumns), least recently used first out,
// bounded by an approximate byte budget — like ClickHouse's uncompressed
// cache, but holding the decoded arrays the query operators read directly.
// Segments are immutable, so an entry never goes stale; entries of a
// segment that is no longer live are simply never asked for again and age
// out.
//
// Thread-safety: all methods are safe to call concurrently. Columns are
// handed out as shared_ptr, so an entry evicted while a scan reads it stays
// alive until the scan drops it.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/event_store.h"
#include "store/internal/column_codec.h"

namespace quanyu::store::internal {

class ColumnCache {
 public:
  explicit ColumnCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  // The cached column `column` of the segment file `path`, or nullptr.
  std::shared_ptr<const DecodedColumn> Get(const std::string& path, Column column);
  // Caches a column (replacing an equal key), then evicts least recently
  // used entries until the total fits the capacity. A column larger than the
  // whole capacity is not cached.
  void Put(const std::string& path, Column column, std::shared_ptr<const DecodedColumn> col);

  size_t bytes() const;
  size_t capacity() const { return capacity_; }
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const DecodedColumn> col;
    size_t bytes;
  };
  static std::string KeyOf(const std::string& path, Column column) {
    return path + '#' + std::to_string(static_cast<int>(column));
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace quanyu::store::internal
