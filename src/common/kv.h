// Key-value persistence as the stages above the store see it: a batch of
// writes applied atomically, and ordered reads. The store's StateDb
// (RocksDB) implements both; stages such as identity persist through these
// interfaces so they need not depend on the store.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace quanyu {

// A group of writes applied all together or not at all by the store.
class KvWriteBatch {
 public:
  struct Op {
    std::string key, value;
    bool is_delete;
  };
  void Put(std::string key, std::string value) {
    ops_.push_back({std::move(key), std::move(value), false});
  }
  void Delete(std::string key) { ops_.push_back({std::move(key), {}, true}); }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

// prefix + `id` as 4 big-endian bytes, so a prefix scan returns ids in
// numeric order.
inline std::string IdKey(std::string_view prefix, uint32_t id) {
  std::string k(prefix);
  for (int shift = 24; shift >= 0; shift -= 8) k.push_back(static_cast<char>(id >> shift & 0xff));
  return k;
}

// The id of an IdKey(prefix, id) key; Corruption if `key` is not `prefix`
// followed by 4 bytes.
inline Result<uint32_t> IdOfKey(std::string_view key, std::string_view prefix) {
  if (key.size() != prefix.size() + 4 || key.substr(0, prefix.size()) != prefix) {
    return Status::Corruption("state key of the wrong shape under \"" + std::string(prefix) + "\"");
  }
  uint32_t v = 0;
  for (size_t i = prefix.size(); i < key.size(); ++i) v = v << 8 | static_cast<uint8_t>(key[i]);
  return v;
}

// Called with each key/value in order; returning an error stops the scan.
using KvScanFn = std::function<Status(std::string_view key, std::string_view value)>;

// Read access to an ordered key-value store. Thread-safety: implementations
// are safe to call concurrently.
class KvReader {
 public:
  virtual ~KvReader() = default;
  // NotFound if the key is absent.
  virtual Result<std::string> Get(std::string_view key) const = 0;
  // Keys that begin with `prefix`, in bytewise order.
  virtual Status ScanPrefix(std::string_view prefix, const KvScanFn& fn) const = 0;
};

// Read and atomic batch write: what a stage that owns some state keys needs.
class KvStore : public KvReader {
 public:
  // All of the batch or none of it, durable when it returns OK.
  virtual Status Write(const KvWriteBatch& batch) = 0;
};

}  // namespace quanyu
