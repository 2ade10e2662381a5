// SourceRegistry: the write keys the collect endpoints accept and the source
// (name, type) each belongs to. Lookups are on every request; additions are
// rare. Persistence is the engine's job (state DB), this is the in-memory view.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "collect/normalize.h"
#include "common/config.h"
#include "common/result.h"

namespace quanyu::collect {

// Source types the platform knows; others are refused so typos surface.
const std::vector<std::string>& KnownSourceTypes();

// The source of the events the engine writes itself for One-ID corrections
// (unbind, split); no configured source may take this name.
inline constexpr char kCorrectionSource[] = "quanyu_admin";

class SourceRegistry {
 public:
  // Adds a source. InvalidArgument for a bad name/type/key, AlreadyExists if
  // the name or key is taken (by a different source).
  Status Add(const SourceConfig& source);
  // Replaces the write key of source `name`: the old key is refused from
  // now on. NotFound for an unknown name; InvalidArgument for a key under 8
  // characters; AlreadyExists if another source has the key.
  Status SetWriteKey(std::string_view name, const std::string& write_key);
  std::optional<SourceInfo> Lookup(std::string_view write_key) const;
  std::optional<SourceConfig> FindByName(std::string_view name) const;
  std::vector<SourceConfig> List() const;

  // A new random write key (32 url-safe characters).
  static std::string NewWriteKey();

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, SourceConfig> by_key_;
  std::unordered_map<std::string, std::string> key_by_name_;
};

}  // namespace quanyu::collect
