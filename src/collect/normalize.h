// Normalizer: the last step of collect, applied to every parsed event before
// it reaches the log. Stamps the source, generates a messageId where absent,
// normalizes identifiers (identifiers.h) and classifies the channel once
// (channel.h).
//
// Thread-safety: immutable after construction; safe to share.
#pragma once

#include <atomic>
#include <string>

#include "collect/channel.h"
#include "collect/identifiers.h"
#include "common/config.h"
#include "common/event.h"

namespace quanyu::collect {

struct SourceInfo {
  std::string name;
  std::string type;
};

class Normalizer {
 public:
  explicit Normalizer(const Config& config);

  void Normalize(Event* event, const SourceInfo& source) const;

  // A messageId for an event that came without one: "qy-" + 32 hex digits,
  // unique per process run.
  std::string GenerateMessageId(const Event& event) const;

  const IdentifierNormalizer& identifiers() const { return identifiers_; }
  const ChannelClassifier& channels() const { return channels_; }

 private:
  IdentifierNormalizer identifiers_;
  ChannelClassifier channels_;
  uint64_t run_salt_;
  mutable std::atomic<uint64_t> counter_{0};
};

}  // namespace quanyu::collect
