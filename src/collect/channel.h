// Channel classification: each event gets one channel, decided once at
// ingest from, in order: configured rules ([[channels]] in quanyu.toml), click
// ids in the page URL (gclid → google, fbclid → meta, ttclid → tiktok,
// ...), utm_source / utm_medium, the referrer's host, and finally the
// source's type (pos → offline, wechat_mp → wechat, tmall_store → tmall ...).
// Events with none of these are "direct". The taxonomy is documented in
// docs/channels.md.
//
// Thread-safety: immutable after construction; safe to share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/event.h"

namespace quanyu::collect {

class ChannelClassifier {
 public:
  explicit ChannelClassifier(std::vector<ChannelRule> rules = {});

  // Returns the channel for the event as received from a source of type
  // `source_type`. Never empty.
  std::string Classify(const Event& event, std::string_view source_type) const;

  // Every channel name the built-in taxonomy can produce.
  static const std::vector<std::string>& BuiltinChannels();

 private:
  std::vector<ChannelRule> rules_;
};

}  // namespace quanyu::collect
