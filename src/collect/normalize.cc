#include "collect/normalize.h"

#include <fmt/format.h>

#include <random>

#include "common/hash.h"

namespace quanyu::collect {

Normalizer::Normalizer(const Config& config)
    : identifiers_(config.default_region, config.junk_identifiers, config.wechat_open_account),
      channels_(config.channel_rules),
      run_salt_(std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)) {}

std::string Normalizer::GenerateMessageId(const Event& e) const {
  uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
  uint64_t a = Hash64(e.name, run_salt_ ^ n) ^ static_cast<uint64_t>(e.received_us);
  uint64_t b = Hash64(e.user_id + e.anonymous_id, run_salt_ + n);
  return fmt::format("qy-{:016x}{:016x}", a, b);
}

void Normalizer::Normalize(Event* e, const SourceInfo& source) const {
  e->source = source.name;
  if (e->message_id.empty()) e->message_id = GenerateMessageId(*e);
  // userId / anonymousId are identifiers too, whichever parser produced the
  // event; NormalizeAll then drops junk values and duplicates.
  auto has = [&](std::string_view ns) {
    for (const auto& id : e->identifiers) {
      if (id.ns == ns) return true;
    }
    return false;
  };
  // Not for an unbind: its identifiers are what to unbind, and its
  // distinct_id only names the user.
  if (e->type != EventType::kIdUnbind) {
    if (!e->user_id.empty() && !has("user_id"))
      e->identifiers.push_back({"user_id", "", e->user_id});
    if (!e->anonymous_id.empty() && !has("anonymous_id")) {
      e->identifiers.push_back({"anonymous_id", "", e->anonymous_id});
    }
  }
  identifiers_.NormalizeAll(&e->identifiers);
  if (e->channel.empty()) e->channel = channels_.Classify(*e, source.type);
}

}  // namespace quanyu::collect
