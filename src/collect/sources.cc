#include "collect/sources.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace quanyu::collect {

const std::vector<std::string>& KnownSourceTypes() {
  static const std::vector<std::string> kTypes = {
      "web",       "ios",         "android",  "wechat_mp", "wechat_oa",    "douyin_mp",
      "alipay_mp", "tmall_store", "jd_store", "pdd_store", "douyin_store", "pos",
      "crm",       "server",      "wecom",    "ads",       "import"};
  return kTypes;
}

Status SourceRegistry::Add(const SourceConfig& s) {
  if (s.name.empty() || s.name.size() > 64 ||
      !std::all_of(s.name.begin(), s.name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      })) {
    return Status::InvalidArgument("source name must be 1-64 characters of [A-Za-z0-9_.-], got \"" +
                                   s.name + "\"");
  }
  if (s.name == kCorrectionSource) {
    return Status::InvalidArgument("source name \"" + s.name +
                                   "\" is reserved for One-ID corrections");
  }
  const auto& types = KnownSourceTypes();
  if (std::find(types.begin(), types.end(), s.type) == types.end()) {
    std::string list;
    for (const auto& t : types) list += (list.empty() ? "" : ", ") + t;
    return Status::InvalidArgument("unknown source type \"" + s.type + "\"; one of: " + list);
  }
  if (s.write_key.size() < 8)
    return Status::InvalidArgument("write key must be at least 8 characters");
  std::unique_lock lock(mu_);
  if (auto it = key_by_name_.find(s.name); it != key_by_name_.end()) {
    if (it->second == s.write_key && by_key_[s.write_key].type == s.type) return Status::OK();
    return Status::AlreadyExists("a source named \"" + s.name + "\" already exists");
  }
  if (by_key_.count(s.write_key))
    return Status::AlreadyExists("that write key belongs to another source");
  by_key_[s.write_key] = s;
  key_by_name_[s.name] = s.write_key;
  return Status::OK();
}

Status SourceRegistry::SetWriteKey(std::string_view name, const std::string& write_key) {
  if (write_key.size() < 8)
    return Status::InvalidArgument("write key must be at least 8 characters");
  std::unique_lock lock(mu_);
  auto it = key_by_name_.find(std::string(name));
  if (it == key_by_name_.end())
    return Status::NotFound("no source named \"" + std::string(name) + "\"");
  if (by_key_.count(write_key))
    return Status::AlreadyExists("that write key belongs to a source already");
  SourceConfig source = std::move(by_key_.at(it->second));
  by_key_.erase(it->second);
  source.write_key = write_key;
  by_key_[write_key] = std::move(source);
  it->second = write_key;
  return Status::OK();
}

std::optional<SourceInfo> SourceRegistry::Lookup(std::string_view write_key) const {
  std::shared_lock lock(mu_);
  auto it = by_key_.find(std::string(write_key));
  if (it == by_key_.end()) return std::nullopt;
  return SourceInfo{it->second.name, it->second.type};
}

std::optional<SourceConfig> SourceRegistry::FindByName(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = key_by_name_.find(std::string(name));
  if (it == key_by_name_.end()) return std::nullopt;
  return by_key_.at(it->second);
}

std::vector<SourceConfig> SourceRegistry::List() const {
  std::shared_lock lock(mu_);
  std::vector<SourceConfig> out;
  for (const auto& [k, s] : by_key_) out.push_back(s);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

std::string SourceRegistry::NewWriteKey() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char buf[32];
  RAND_bytes(buf, sizeof buf);
  std::string key;
  for (unsigned char b : buf) key.push_back(kAlphabet[b % 62]);
  return key;
}

}  // namespace quanyu::collect
