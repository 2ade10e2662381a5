// Config: everything `quanyu.toml` can set, with documented defaults
// (docs/configuration.md lists every key). Environment variables override the
// file (QUANYU_LISTEN, QUANYU_DATA, QUANYU_ADMIN_KEY, QUANYU_DEFAULT_REGION,
// QUANYU_QUERY_TIMEZONE, QUANYU_QUERY_THREADS, QUANYU_PRIVACY_KEY).
// Plain value type; read-only after load.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace quanyu {

struct SourceConfig {
  std::string name;       // unique, e.g. "website"
  std::string type;       // web, ios, android, wechat_mp, douyin_mp, tmall_store, pos, crm, ...
  std::string write_key;  // secret the SDK sends
};

// One rule of the channel taxonomy (collect/channel.h). All non-empty
// matchers must match; rules are tried in order before the built-in ones.
struct ChannelRule {
  std::string channel;
  std::string utm_source;     // case-insensitive exact match
  std::string utm_medium;     // case-insensitive exact match
  std::string referrer_host;  // suffix match on the referrer's host
  std::string click_id;       // a query parameter / property name such as "gclid"
  std::string source_type;    // the source's type
};

// One [[identity.rules]] entry: overrides a namespace's default rule
// (identity/rules.h).
struct IdentityRuleConfig {
  std::string ns;
  int limit = 0;
  int priority = 0;
};

struct Config {
  // [server]
  std::string listen = "127.0.0.1:8080";
  int threads = 0;          // 0 = one per core
  int idle_timeout_s = 60;  // keep-alive idle timeout
  int read_timeout_s = 30;  // a request must arrive completely within this
  std::string admin_key;    // bootstrap admin key ("" = none; QUANYU_ADMIN_KEY)
  std::string web_dir;      // the dashboard's files ("" = ./web/dist, else <exe>/../web/dist)

  // [limits]
  size_t max_event_bytes = 32 * 1024;
  size_t max_batch_bytes = 500 * 1024;
  size_t max_batch_events = 2500;

  // [log]
  int64_t dedupe_window_s = 7 * 86400;
  int group_commit_max_delay_us = 2000;  // how long a commit may wait for company
  size_t max_queue_bytes = 256u << 20;   // above this, ingest answers 429
  size_t log_file_bytes = 64u << 20;     // roll the log file past this size
  int checkpoint_interval_s = 15;        // min seconds between dedupe snapshots + log truncation

  // [store]
  size_t flush_events = 500'000;  // write a segment after this many buffered events
  int flush_interval_s = 10;      // ...or after this many seconds

  // [identity]
  std::string default_region = "CN";               // phone numbers without +CC
  std::vector<std::string> junk_identifiers;       // extra values never linked
  std::string wechat_open_account;                 // scope of wechat_unionids sent without one
  int identity_max_merges = 100;                   // max_merges_per_person
  int identity_max_identifiers = 1000;             // max_identifiers_per_person
  std::vector<IdentityRuleConfig> identity_rules;  // [[identity.rules]]

  // [query] (docs/metrics.md). The time zone and the idle gap are checked by
  // the engine at open (common does not know query's parsers).
  std::string query_timezone = "UTC";      // requests without "timezone"
  std::string query_session_idle = "30m";  // paths "by session": idle gap that ends a session
  int query_threads = 2;                   // threads one query uses
  int query_workers = 2;                   // queries the server runs at once
  // [audience] (docs/audiences.md).
  int audience_refresh_interval_s = 5;       // realtime membership: re-evaluate changed audiences
  int audience_recompute_interval_s = 3600;  // computed traits, RFM and every audience
  // [query.stages]: event name -> touchpoint stage, one of kQueryStages;
  // empty = the documented defaults.
  std::map<std::string, std::string> query_stages;

  // [privacy] (docs/privacy.md). Policy names are checked by the engine at
  // open (common does not know privacy's names).
  std::string privacy_analytics_consent = "drop_refused";
  std::map<std::string, std::string>
      privacy_analytics_consent_by_source;  // [privacy.analytics_consent_by_source]
  std::optional<std::vector<std::string>> privacy_sensitive_properties;  // unset = defaults
  std::string privacy_child_age_property = "age";                        // "" = off
  int privacy_child_age = 14;
  std::string privacy_tracking_plan;  // JSON file; "" = none (the API's plan wins)
  std::string privacy_key_file;       // key ring file; "" = <data>/privacy.key (created)
  std::string privacy_key;            // QUANYU_PRIVACY_KEY: a key ring given in the environment

  // [retention] (docs/privacy.md). 0 = keep forever.
  int retention_raw_events_days = 0;
  int retention_profiles_inactive_days = 0;  // persons with no event for this long are erased
  int retention_interval_s = 3600;           // how often the background job looks

  // [[sources]]
  std::vector<SourceConfig> sources;
  // [[channels]]
  std::vector<ChannelRule> channel_rules;

  std::string data_dir;  // --data, QUANYU_DATA
};

// The touchpoint-map stages, in journey order.
inline constexpr const char* kQueryStages[] = {"awareness", "consideration", "conversion",
                                               "repurchase", "advocacy"};
inline constexpr int kMaxQueryThreads = 64;

// Parses TOML text. Unknown keys are an error naming the key (catches typos).
Result<Config> ParseConfig(const std::string& toml_text);
// Reads and parses a file; "" returns the defaults.
Result<Config> LoadConfig(const std::string& path);
// Applies QUANYU_* environment variables on top of `config`.
void ApplyEnvironment(Config* config);

}  // namespace quanyu
