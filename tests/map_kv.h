// An in-memory ordered key-value store for unit tests of what persists
// through KvReader / KvWriteBatch (identity graph, consent ledger): the
// test applies batches with Write and reads `data` directly.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/kv.h"

namespace quanyu::testing {

class MapKv : public KvReader {
 public:
  std::map<std::string, std::string> data;

  void Write(const KvWriteBatch& b) {
    for (const auto& op : b.ops()) {
      if (op.is_delete) {
        data.erase(op.key);
      } else {
        data[op.key] = op.value;
      }
    }
  }
  Result<std::string> Get(std::string_view key) const override {
    auto it = data.find(std::string(key));
    if (it == data.end()) return Status::NotFound("no key " + std::string(key));
    return it->second;
  }
  Status ScanPrefix(std::string_view prefix, const KvScanFn& fn) const override {
    for (auto it = data.lower_bound(std::string(prefix));
         it != data.end() && it->first.starts_with(prefix); ++it) {
      RETURN_IF_ERROR(fn(it->first, it->second));
    }
    return Status::OK();
  }
};

}  // namespace quanyu::testing
