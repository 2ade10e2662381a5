#include "privacy/access.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "common/coding.h"

namespace quanyu::privacy {
namespace {

using nlohmann::json;

constexpr std::string_view kKeyPrefix = "key/";
constexpr size_t kMaxNameBytes = 200;

std::string HexOf(const unsigned char* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

Result<std::string> RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
    return Status::Internal("the system random number generator failed");
  }
  return HexOf(buf.data(), bytes);
}

std::string Sha256Hex(std::string_view s) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return HexOf(digest, sizeof digest);
}

json KeyJson(const ApiKey& k) {
  return json{{"id", k.id},
              {"name", k.name},
              {"role", RoleName(k.role)},
              {"workspace", k.workspace},
              {"created_us", k.created_us},
              {"rotated_us", k.rotated_us},
              {"secret_sha256", k.secret_sha256}};
}

Result<ApiKey> KeyFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  ApiKey k;
  try {
    if (!j.is_object()) throw std::runtime_error("not an object");
    k.id = j.at("id").get<std::string>();
    k.name = j.at("name").get<std::string>();
    auto role = RoleNamed(j.at("role").get<std::string>());
    if (!role.ok()) throw std::runtime_error("bad role");
    k.role = *role;
    k.workspace = j.at("workspace").get<std::string>();
    k.created_us = j.at("created_us").get<int64_t>();
    k.rotated_us = j.at("rotated_us").get<int64_t>();
    k.secret_sha256 = j.at("secret_sha256").get<std::string>();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("API key record: ") + e.what());
  }
  return k;
}

// "qk_<id>_<secret>" -> id, or "" if the text has another shape.
std::string_view IdOfSecret(std::string_view secret) {
  if (!secret.starts_with("qk_")) return {};
  auto end = secret.find('_', 3);
  if (end == std::string_view::npos) return {};
  return secret.substr(3, end - 3);
}

bool Under(std::string_view path, std::string_view prefix) {
  return path == prefix ||
         (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
}

}  // namespace

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kAnalyst:
      return "analyst";
    case Role::kMarketer:
      return "marketer";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

Result<Role> RoleNamed(std::string_view name) {
  if (name == "analyst") return Role::kAnalyst;
  if (name == "marketer") return Role::kMarketer;
  if (name == "admin") return Role::kAdmin;
  return Status::InvalidArgument("unknown role \"" + std::string(name) +
                                 "\": use analyst, marketer or admin");
}

Result<std::unique_ptr<ApiKeys>> ApiKeys::Open(KvStore* db) {
  std::unique_ptr<ApiKeys> keys(new ApiKeys(db));
  RETURN_IF_ERROR(db->ScanPrefix(kKeyPrefix, [&](std::string_view, std::string_view v) -> Status {
    ASSIGN_OR_RETURN(ApiKey k, KeyFromJson(v));
    keys->by_id_[k.id] = std::move(k);
    return Status::OK();
  }));
  return keys;
}

Status ApiKeys::Save(const ApiKey& key) {
  KvWriteBatch batch;
  batch.Put(std::string(kKeyPrefix) + key.id, KeyJson(key).dump());
  return db_->Write(batch);
}

Result<IssuedKey> ApiKeys::Create(const std::string& name, Role role, const std::string& workspace,
                                  int64_t now_us) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Status::InvalidArgument("a key needs a name of 1.." + std::to_string(kMaxNameBytes) +
                                   " bytes");
  }
  if (workspace.empty() || workspace.size() > kMaxNameBytes) {
    return Status::InvalidArgument("workspace must be 1.." + std::to_string(kMaxNameBytes) +
                                   " bytes");
  }
  IssuedKey out;
  ASSIGN_OR_RETURN(std::string id, RandomHex(6));
  ASSIGN_OR_RETURN(std::string secret, RandomHex(20));
  out.key.id = "k" + id;
  out.key.name = name;
  out.key.role = role;
  out.key.workspace = workspace;
  out.key.created_us = now_us;
  out.secret = "qk_" + out.key.id + "_" + secret;
  out.key.secret_sha256 = Sha256Hex(out.secret);
  std::unique_lock lock(mu_);
  if (by_id_.count(out.key.id)) return Status::Internal("key id collided; try again");
  RETURN_IF_ERROR(Save(out.key));
  by_id_[out.key.id] = out.key;
  return out;
}

Result<IssuedKey> ApiKeys::Rotate(std::string_view id, int64_t now_us) {
  std::unique_lock lock(mu_);
  auto it = by_id_.find(std::string(id));
  if (it == by_id_.end()) return Status::NotFound("no API key with id \"" + std::string(id) + "\"");
  IssuedKey out;
  out.key = it->second;
  ASSIGN_OR_RETURN(std::string secret, RandomHex(20));
  out.secret = "qk_" + out.key.id + "_" + secret;
  out.key.secret_sha256 = Sha256Hex(out.secret);
  out.key.rotated_us = now_us;
  RETURN_IF_ERROR(Save(out.key));
  it->second = out.key;
  return out;
}

Status ApiKeys::Revoke(std::string_view id) {
  std::unique_lock lock(mu_);
  auto it = by_id_.find(std::string(id));
  if (it == by_id_.end()) return Status::NotFound("no API key with id \"" + std::string(id) + "\"");
  KvWriteBatch batch;
  batch.Delete(std::string(kKeyPrefix) + it->first);
  RETURN_IF_ERROR(db_->Write(batch));
  by_id_.erase(it);
  return Status::OK();
}

std::vector<ApiKey> ApiKeys::List() const {
  std::shared_lock lock(mu_);
  std::vector<ApiKey> out;
  for (const auto& [id, k] : by_id_) out.push_back(k);
  std::sort(out.begin(), out.end(),
            [](const ApiKey& a, const ApiKey& b) { return a.created_us < b.created_us; });
  return out;
}

std::optional<ApiKey> ApiKeys::Authenticate(std::string_view secret) const {
  std::string_view id = IdOfSecret(secret);
  if (id.empty()) return std::nullopt;
  const std::string digest = Sha256Hex(secret);
  std::shared_lock lock(mu_);
  auto it = by_id_.find(std::string(id));
  if (it == by_id_.end()) return std::nullopt;
  const std::string& want = it->second.secret_sha256;
  if (want.size() != digest.size() || CRYPTO_memcmp(want.data(), digest.data(), want.size()) != 0)
    return std::nullopt;
  return it->second;
}

RouteAccess AccessFor(Role role, std::string_view method, std::string_view path,
                      std::string_view url_query) {
  constexpr std::string_view kApi = "/api/v1";
  if (!path.starts_with(kApi)) return {};
  std::string_view p = path.substr(kApi.size());
  const bool read = method == "GET";
  RouteAccess a;
  // Personal data a non-admin sees masked; raw for an admin (audited). The
  // consent coverage is counts only.
  const bool personal =
      read && (Under(p, "/profiles") || Under(p, "/events") ||
               (Under(p, "/consent") && p != "/consent/coverage") || Under(p, "/privacy/requests"));
  // An export: the export route, or a members list asked as CSV (it may
  // carry traits).
  const bool csv = ("&" + std::string(url_query) + "&").find("&format=csv&") != std::string::npos;
  const bool exporting =
      Under(p, "/audiences") && (p.ends_with("/export") || (p.ends_with("/members") && csv));
  // POSTs that only read. An audience preview counts a definition and
  // samples one_ids: a read for whoever may read audiences.
  const bool query = Under(p, "/query") || Under(p, "/attribution");
  const bool preview = p == "/audiences/preview" && method == "POST";
  a.admin_action = !read && !query && !preview;
  if (role == Role::kAdmin) {
    a.allowed = true;
    // A data-subject request's answer (access) holds the person's data.
    a.pii_access = personal || exporting || Under(p, "/privacy/requests");
    return a;
  }
  const bool analyst = role == Role::kAnalyst;
  const bool marketer = role == Role::kMarketer;
  const bool audiences = Under(p, "/audiences") || Under(p, "/tags") ||
                         Under(p, "/computed-traits") || Under(p, "/rfm");
  if (Under(p, "/stats") || Under(p, "/ingest") || Under(p, "/catalog/events") || p == "/session") {
    a.allowed = read;
  } else if (query) {
    a.allowed = analyst && method == "POST";
  } else if (Under(p, "/models")) {
    a.allowed = read || analyst;
  } else if (Under(p, "/spend") || Under(p, "/events")) {
    a.allowed = analyst && read;
  } else if (Under(p, "/profiles") || Under(p, "/consent") || Under(p, "/tracking-plan")) {
    a.allowed = read;
  } else if (audiences) {
    a.allowed = read || preview ? !exporting || marketer : marketer;
  }
  a.mask_pii = a.allowed && personal;
  a.pii_access = a.allowed && exporting;
  return a;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(KvStore* db) {
  std::unique_ptr<AuditLog> log(new AuditLog(db));
  // The next sequence number follows the last entry.
  RETURN_IF_ERROR(db->ScanPrefix(kKeyPrefix, [&](std::string_view k, std::string_view) {
    if (k.size() == kKeyPrefix.size() + 8) {
      uint64_t seq = 0;
      for (size_t i = kKeyPrefix.size(); i < k.size(); ++i)
        seq = seq << 8 | static_cast<uint8_t>(k[i]);
      log->next_seq_ = std::max(log->next_seq_, seq + 1);
    }
    return Status::OK();
  }));
  return log;
}

Status AuditLog::Append(AuditEntry e) {
  std::lock_guard lock(mu_);
  e.seq = next_seq_;
  std::string key(kKeyPrefix);
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(e.seq >> shift));
  json j{{"seq", e.seq},   {"time_us", e.time_us}, {"key_id", e.key_id},
         {"role", e.role}, {"action", e.action},   {"method", e.method},
         {"path", e.path}, {"status", e.status},   {"detail", e.detail}};
  KvWriteBatch batch;
  batch.Put(std::move(key), j.dump(-1, ' ', false, json::error_handler_t::replace));
  RETURN_IF_ERROR(db_->Write(batch));
  ++next_seq_;
  return Status::OK();
}

Result<std::vector<AuditEntry>> AuditLog::List(uint64_t after, int64_t from_us, int64_t to_us,
                                               size_t limit) const {
  std::vector<AuditEntry> out;
  Status st = db_->ScanPrefix(kKeyPrefix, [&](std::string_view, std::string_view v) -> Status {
    json j = json::parse(v, nullptr, false);
    if (!j.is_object()) return Status::Corruption("audit entry is not a JSON object");
    AuditEntry e;
    e.seq = j.value("seq", uint64_t{0});
    e.time_us = j.value("time_us", int64_t{0});
    if (e.seq <= after || e.time_us < from_us || e.time_us >= to_us) return Status::OK();
    e.key_id = j.value("key_id", "");
    e.role = j.value("role", "");
    e.action = j.value("action", "");
    e.method = j.value("method", "");
    e.path = j.value("path", "");
    e.status = j.value("status", 0);
    e.detail = j.value("detail", "");
    out.push_back(std::move(e));
    if (out.size() >= limit) return Status::Unavailable("page full");
    return Status::OK();
  });
  if (!st.ok() && st.code() != StatusCode::kUnavailable) return st;
  return out;
}

}  // namespace quanyu::privacy
