// Channel classification: each event gets one channel, decided once at
// ingest. The first of these steps that recognizes something decides:
//   1. configured rules ([[channels]] in quanyu.toml), in order;
//   2. ad click ids in the page URL (gclid → google, fbclid → meta,
//      ttclid → tiktok, bd_vid → baidu, gdt_vid → wechat, ...);
//   3. utm_medium email/sms/push, then utm_source aliases (抖音, xhs, wx ...),
//      then utm_medium alone (cpc → paid_search ...); tagged but unknown →
//      "other";
//   4. the referrer's host (douyin.com, mp.weixin.qq.com, baidu.com →
//      organic_search, ...; any other external host → referral), ignoring
//      the page's own host and its subdomains;
//   5. the source's type (pos → offline, wechat_mp → wechat, tmall_store →
//      tmall ...);
//   6. otherwise "direct".
// The taxonomy, every table and the reasons behind its choices are in
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
  // `source_type`. Reads the event's url, referrer, campaign (falling back to
  // utm_* in the url's query) and, for click_id rules, properties_json.
  // Never empty.
  std::string Classify(const Event& event, std::string_view source_type) const;

  // Every channel name the built-in taxonomy can produce (rules may add
  // others).
  static const std::vector<std::string>& BuiltinChannels();

  // The taxonomy in force as a JSON object (GET /api/v1/settings):
  // {"channels": every name it can give, "steps": [...]}, one step per
  // stage above in the order they are tried, each with its tables as
  // [{"channel", "values"}] in match order (the first match wins).
  std::string TaxonomyJson() const;

 private:
  std::vector<ChannelRule> rules_;
};

}  // namespace quanyu::collect
