#include "common/config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

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
  RETURN_IF_ERROR(
      CheckKeys(root, "", {"server", "limits", "log", "store", "identity", "sources", "channels"}));
  if (auto* s = root["server"].as_table()) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "server.",
        {"listen", "threads", "idle_timeout_s", "read_timeout_s", "admin_key", "web_root"}));
    Read(*s, "listen", &c.listen);
    Read(*s, "threads", &c.threads);
    Read(*s, "idle_timeout_s", &c.idle_timeout_s);
    Read(*s, "read_timeout_s", &c.read_timeout_s);
    Read(*s, "admin_key", &c.admin_key);
    Read(*s, "web_root", &c.web_root);
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
}

}  // namespace quanyu
