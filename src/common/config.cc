#include "common/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

namespace quanyu {
namespace {

Status CheckKeys(const toml::table& t, const std::string& where,
                 const std::set<std::string>& known) {
  for (const auto& [k, v] : t) {
    if (!known.count(std::string(k.str()))) {
      return Status::InvalidArgument("unknown config key '" + where + std::string(k.str()) + "'");
    }
  }
  return Status::OK();
}

template <typename T>
void Read(const toml::table& t, const char* key, T* out) {
  if (auto v = t[key].value<T>()) *out = *v;
}

bool IsQueryStage(std::string_view stage) {
  for (const char* s : kQueryStages) {
    if (stage == s) return true;
  }
  return false;
}

Status QueryThreadsInRange(int64_t n, const char* key) {
  if (n >= 1 && n <= kMaxQueryThreads) return Status::OK();
  return Status::InvalidArgument(std::string("config: [query] ") + key + " must be in 1.." +
                                 std::to_string(kMaxQueryThreads) + ", got " + std::to_string(n));
}

// [query] and [query.stages]. Stricter than the older tables: a value of the
// wrong type is an error, not ignored.
Status ParseQueryTable(const toml::table& t, Config* c) {
  RETURN_IF_ERROR(
      CheckKeys(t, "query.", {"timezone", "session_idle", "threads", "workers", "stages"}));
  if (auto* v = t.get("timezone")) {
    auto tz = v->value<std::string>();
    if (!v->is_string() || tz->empty()) {
      return Status::InvalidArgument(
          "config: [query] timezone must be a string such as \"Asia/Shanghai\" or \"+08:00\"");
    }
    c->query_timezone = *tz;
  }
  if (auto* v = t.get("session_idle")) {
    if (v->is_integer()) {
      c->query_session_idle = std::to_string(*v->value<int64_t>());  // a number of seconds
    } else if (auto text = v->value<std::string>(); v->is_string() && !text->empty()) {
      c->query_session_idle = *text;
    } else {
      return Status::InvalidArgument(
          "config: [query] session_idle must be a duration such as \"30m\" or seconds");
    }
  }
  for (auto [key, out] :
       {std::pair{"threads", &c->query_threads}, std::pair{"workers", &c->query_workers}}) {
    if (auto* v = t.get(key)) {
      auto n = v->value<int64_t>();
      if (!v->is_integer()) {
        return Status::InvalidArgument(std::string("config: [query] ") + key +
                                       " must be an integer");
      }
      RETURN_IF_ERROR(QueryThreadsInRange(*n, key));
      *out = static_cast<int>(*n);
    }
  }
  if (auto* v = t.get("stages")) {
    auto* stages = v->as_table();
    if (!stages) {
      return Status::InvalidArgument(
          "config: [query.stages] must be a table of event name = \"stage\"");
    }
    for (const auto& [event, node] : *stages) {
      auto stage = node.value<std::string>();
      if (!node.is_string() || !IsQueryStage(*stage)) {
        return Status::InvalidArgument(
            "config: [query.stages] \"" + std::string(event.str()) +
            "\" must be one of awareness, consideration, conversion, repurchase, advocacy");
      }
      c->query_stages[std::string(event.str())] = *stage;
    }
  }
  return Status::OK();
}

// [privacy] and [privacy.analytics_consent_by_source].
Status ParsePrivacyTable(const toml::table& s, Config* c) {
  RETURN_IF_ERROR(
      CheckKeys(s, "privacy.",
                {"analytics_consent", "analytics_consent_by_source", "sensitive_properties",
                 "child_age_property", "child_age", "tracking_plan"}));
  auto string_of = [&](const toml::node* v, const char* key, std::string* out) -> Status {
    if (!v) return Status::OK();
    if (!v->is_string())
      return Status::InvalidArgument(std::string("config: [privacy] ") + key + " must be a string");
    *out = *v->value<std::string>();
    return Status::OK();
  };
  RETURN_IF_ERROR(
      string_of(s.get("analytics_consent"), "analytics_consent", &c->privacy_analytics_consent));
  RETURN_IF_ERROR(
      string_of(s.get("child_age_property"), "child_age_property", &c->privacy_child_age_property));
  if (auto* v = s.get("child_age")) {
    auto n = v->value<int64_t>();
    if (!v->is_integer() || *n < 0 || *n > 25) {
      return Status::InvalidArgument("config: [privacy] child_age must be an integer in 0..25");
    }
    c->privacy_child_age = static_cast<int>(*n);
  }
  if (auto* v = s.get("sensitive_properties")) {
    auto* arr = v->as_array();
    if (!arr) {
      return Status::InvalidArgument(
          "config: [privacy] sensitive_properties must be an array of property names");
    }
    std::vector<std::string> keys;
    for (auto& k : *arr) {
      auto str = k.value<std::string>();
      if (!k.is_string() || str->empty() || std::count(str->begin(), str->end(), '.') > 1) {
        return Status::InvalidArgument(
            "config: [privacy] sensitive_properties entries must be \"key\" or "
            "\"object.key\" strings");
      }
      keys.push_back(*str);
    }
    c->privacy_sensitive_properties = std::move(keys);
  }
  if (auto* v = s.get("analytics_consent_by_source")) {
    auto* t = v->as_table();
    if (!t) {
      return Status::InvalidArgument(
          "config: [privacy.analytics_consent_by_source] must be a table of source = \"policy\"");
    }
    for (const auto& [source, node] : *t) {
      if (!node.is_string()) {
        return Status::InvalidArgument("config: [privacy.analytics_consent_by_source] \"" +
                                       std::string(source.str()) + "\" must be a string");
      }
      c->privacy_analytics_consent_by_source[std::string(source.str())] =
          *node.value<std::string>();
    }
  }
  return Status::OK();
}

}  // namespace

Result<Config> ParseConfig(const std::string& text) {
  Config c;
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << "config: " << e.description() << " at line " << e.source().begin.line << ", column "
      << e.source().begin.column;
    return Status::InvalidArgument(m.str());
  }
  RETURN_IF_ERROR(CheckKeys(root, "",
                            {"server", "limits", "log", "store", "identity", "query", "audience",
                             "privacy", "sources", "channels"}));
  if (auto* s = root["server"].as_table()) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "server.",
        {"listen", "threads", "idle_timeout_s", "read_timeout_s", "admin_key", "web_dir"}));
    Read(*s, "listen", &c.listen);
    Read(*s, "threads", &c.threads);
    Read(*s, "idle_timeout_s", &c.idle_timeout_s);
    Read(*s, "read_timeout_s", &c.read_timeout_s);
    Read(*s, "admin_key", &c.admin_key);
    Read(*s, "web_dir", &c.web_dir);
  }
  if (auto* s = root["limits"].as_table()) {
    RETURN_IF_ERROR(
        CheckKeys(*s, "limits.", {"max_event_bytes", "max_batch_bytes", "max_batch_events"}));
    int64_t v;
    if (auto x = (*s)["max_event_bytes"].value<int64_t>()) c.max_event_bytes = *x;
    if (auto x = (*s)["max_batch_bytes"].value<int64_t>()) c.max_batch_bytes = *x;
    if (auto x = (*s)["max_batch_events"].value<int64_t>()) c.max_batch_events = *x;
    (void)v;
  }
  if (auto* s = root["log"].as_table()) {
    RETURN_IF_ERROR(CheckKeys(*s, "log.",
                              {"dedupe_window_s", "group_commit_max_delay_us", "max_queue_bytes",
                               "log_file_bytes", "checkpoint_interval_s"}));
    Read(*s, "dedupe_window_s", &c.dedupe_window_s);
    Read(*s, "group_commit_max_delay_us", &c.group_commit_max_delay_us);
    if (auto x = (*s)["max_queue_bytes"].value<int64_t>()) c.max_queue_bytes = *x;
    if (auto x = (*s)["log_file_bytes"].value<int64_t>()) c.log_file_bytes = *x;
    Read(*s, "checkpoint_interval_s", &c.checkpoint_interval_s);
  }
  if (auto* s = root["store"].as_table()) {
    RETURN_IF_ERROR(CheckKeys(*s, "store.", {"flush_events", "flush_interval_s"}));
    if (auto x = (*s)["flush_events"].value<int64_t>()) c.flush_events = *x;
    Read(*s, "flush_interval_s", &c.flush_interval_s);
  }
  if (auto* s = root["identity"].as_table()) {
    RETURN_IF_ERROR(CheckKeys(*s, "identity.",
                              {"default_region", "junk_identifiers", "wechat_open_account",
                               "max_merges_per_person", "max_identifiers_per_person", "rules"}));
    Read(*s, "default_region", &c.default_region);
    Read(*s, "wechat_open_account", &c.wechat_open_account);
    Read(*s, "max_merges_per_person", &c.identity_max_merges);
    Read(*s, "max_identifiers_per_person", &c.identity_max_identifiers);
    if (auto* rules = (*s)["rules"].as_array()) {
      for (auto& node : *rules) {
        auto* t = node.as_table();
        if (!t) return Status::InvalidArgument("config: [[identity.rules]] entries must be tables");
        RETURN_IF_ERROR(CheckKeys(*t, "identity.rules.", {"namespace", "limit", "priority"}));
        IdentityRuleConfig r;
        Read(*t, "namespace", &r.ns);
        Read(*t, "limit", &r.limit);
        Read(*t, "priority", &r.priority);
        if (r.ns.empty() || r.limit < 1 || r.priority < 1) {
          return Status::InvalidArgument(
              "config: every [[identity.rules]] needs namespace, limit >= 1 and priority >= 1");
        }
        c.identity_rules.push_back(r);
      }
    }
    if (auto* arr = (*s)["junk_identifiers"].as_array()) {
      for (auto& v : *arr) {
        if (auto str = v.value<std::string>()) c.junk_identifiers.push_back(*str);
      }
    }
  }
  if (auto* s = root["query"].as_table()) RETURN_IF_ERROR(ParseQueryTable(*s, &c));
  if (auto* s = root["audience"].as_table()) {
    RETURN_IF_ERROR(CheckKeys(*s, "audience.", {"refresh_interval_s", "recompute_interval_s"}));
    for (auto [key, out] : {std::pair{"refresh_interval_s", &c.audience_refresh_interval_s},
                            std::pair{"recompute_interval_s", &c.audience_recompute_interval_s}}) {
      if (auto* v = s->get(key)) {
        auto n = v->value<int64_t>();
        if (!v->is_integer() || *n < 1 || *n > 7 * 86400) {
          return Status::InvalidArgument(std::string("config: [audience] ") + key +
                                         " must be an integer number of seconds in 1..604800");
        }
        *out = static_cast<int>(*n);
      }
    }
  }
  if (auto* s = root["privacy"].as_table()) RETURN_IF_ERROR(ParsePrivacyTable(*s, &c));
  if (auto* s = root["retention"].as_table()) {
    RETURN_IF_ERROR(
        CheckKeys(*s, "retention.", {"raw_events_days", "profiles_inactive_days", "interval_s"}));
    for (auto [key, out, lo, hi] :
         {std::tuple{"raw_events_days", &c.retention_raw_events_days, 0, 36500},
          std::tuple{"profiles_inactive_days", &c.retention_profiles_inactive_days, 0, 36500},
          std::tuple{"interval_s", &c.retention_interval_s, 1, 7 * 86400}}) {
      if (auto* v = s->get(key)) {
        auto n = v->value<int64_t>();
        if (!v->is_integer() || *n < lo || *n > hi) {
          return Status::InvalidArgument(std::string("config: [retention] ") + key +
                                         " must be an integer in " + std::to_string(lo) + ".." +
                                         std::to_string(hi));
        }
        *out = static_cast<int>(*n);
      }
    }
  }
  if (auto* arr = root["sources"].as_array()) {
    for (auto& node : *arr) {
      auto* t = node.as_table();
      if (!t) return Status::InvalidArgument("config: [[sources]] entries must be tables");
      RETURN_IF_ERROR(CheckKeys(*t, "sources.", {"name", "type", "write_key"}));
      SourceConfig sc;
      Read(*t, "name", &sc.name);
      Read(*t, "type", &sc.type);
      Read(*t, "write_key", &sc.write_key);
      if (sc.name.empty() || sc.write_key.empty()) {
        return Status::InvalidArgument("config: every [[sources]] needs name and write_key");
      }
      if (sc.type.empty()) sc.type = "web";
      c.sources.push_back(sc);
    }
  }
  if (auto* arr = root["channels"].as_array()) {
    for (auto& node : *arr) {
      auto* t = node.as_table();
      if (!t) return Status::InvalidArgument("config: [[channels]] entries must be tables");
      RETURN_IF_ERROR(CheckKeys(
          *t, "channels.",
          {"channel", "utm_source", "utm_medium", "referrer_host", "click_id", "source_type"}));
      ChannelRule r;
      Read(*t, "channel", &r.channel);
      Read(*t, "utm_source", &r.utm_source);
      Read(*t, "utm_medium", &r.utm_medium);
      Read(*t, "referrer_host", &r.referrer_host);
      Read(*t, "click_id", &r.click_id);
      Read(*t, "source_type", &r.source_type);
      if (r.channel.empty())
        return Status::InvalidArgument("config: every [[channels]] needs channel");
      c.channel_rules.push_back(r);
    }
  }
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  if (path.empty()) return Config{};
  std::ifstream in(path);
  if (!in) return Status::NotFound("config file not found: " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = ParseConfig(ss.str());
  if (!r.ok()) return r.status().WithContext(path);
  return r;
}

void ApplyEnvironment(Config* c) {
  if (const char* v = std::getenv("QUANYU_LISTEN"); v && *v) c->listen = v;
  if (const char* v = std::getenv("QUANYU_DATA"); v && *v) c->data_dir = v;
  if (const char* v = std::getenv("QUANYU_ADMIN_KEY"); v && *v) c->admin_key = v;
  if (const char* v = std::getenv("QUANYU_DEFAULT_REGION"); v && *v) c->default_region = v;
  if (const char* v = std::getenv("QUANYU_QUERY_TIMEZONE"); v && *v) c->query_timezone = v;
  if (const char* v = std::getenv("QUANYU_PRIVACY_KEY"); v && *v) c->privacy_key = v;
  if (const char* v = std::getenv("QUANYU_QUERY_THREADS"); v && *v) {
    // Not a number in range: 0, which the engine refuses at open naming the
    // key (this function cannot fail).
    int n = 0;
    auto [end, ec] = std::from_chars(v, v + std::strlen(v), n);
    c->query_threads = ec == std::errc() && *end == '\0' && n >= 1 && n <= kMaxQueryThreads ? n : 0;
  }
}

}  // namespace quanyu
