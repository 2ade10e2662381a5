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

}  // namespace quanyu
