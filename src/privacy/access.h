// Access control and audit (docs/privacy.md, "Roles and audit"): API keys
// with roles per workspace, the role each API route needs, and the
// append-only audit log of admin actions and raw-PII access.
//
// Keys are shown once, at creation or rotation; the state DB keeps only
// their SHA-256 under "key/" + id. Audit entries live under "audit/" + a
// big-endian sequence number and never hold identifier values.
//
// Thread-safety: ApiKeys and AuditLog are safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/kv.h"
#include "common/result.h"

namespace quanyu::privacy {

// What a key may do. A source's write key only sends events (collect); it
// is not an API key and gets 403 from the API.
enum class Role : uint8_t { kAnalyst = 1, kMarketer = 2, kAdmin = 3 };
// "analyst", "marketer", "admin".
std::string_view RoleName(Role r);
// InvalidArgument listing the roles.
Result<Role> RoleNamed(std::string_view name);

struct ApiKey {
  std::string id;  // public part, "k" + 12 hex digits
  std::string name;
  Role role = Role::kAnalyst;
  std::string workspace = "default";
  int64_t created_us = 0;
  int64_t rotated_us = 0;     // 0 = never
  std::string secret_sha256;  // hex, of the whole key text
};

// A key as its holder sees it once: "qk_" + id + "_" + 40 random hex digits.
struct IssuedKey {
  ApiKey key;
  std::string secret;
};

class ApiKeys {
 public:
  // Loads the keys kept in `db`. REQUIRES: `db` outlives this object.
  static Result<std::unique_ptr<ApiKeys>> Open(KvStore* db);

  // InvalidArgument for an empty or over-long name or workspace.
  Result<IssuedKey> Create(const std::string& name, Role role, const std::string& workspace,
                           int64_t now_us);
  // A new secret for key `id`; the old one stops working. NotFound.
  Result<IssuedKey> Rotate(std::string_view id, int64_t now_us);
  // Deletes key `id`; NotFound.
  Status Revoke(std::string_view id);
  std::vector<ApiKey> List() const;
  // The key `secret` is, or nullopt. Constant-time in the secret.
  std::optional<ApiKey> Authenticate(std::string_view secret) const;

 private:
  explicit ApiKeys(KvStore* db) : db_(db) {}
  Status Save(const ApiKey& key);

  KvStore* db_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, ApiKey> by_id_;
};

// Who made a request.
struct Principal {
  std::string key_id;  // "bootstrap" for QUANYU_ADMIN_KEY
  Role role = Role::kAnalyst;
  std::string workspace = "default";
};

// What the route table says of one API request.
struct RouteAccess {
  bool allowed = false;
  // The request reads personal data that this role sees masked (analyst,
  // marketer: profiles, events, consent) — mask the answer.
  bool mask_pii = false;
  // The request reads raw personal data or exports it: audited.
  bool pii_access = false;
  // The request changes state or configuration as an admin: audited.
  bool admin_action = false;
};
// The role table of docs/privacy.md for `method` `path` (under /api/v1/);
// `url_query` is the URL's query string (a members list asked as CSV is an
// export).
RouteAccess AccessFor(Role role, std::string_view method, std::string_view path,
                      std::string_view url_query = {});

struct AuditEntry {
  uint64_t seq = 0;  // assigned by Append
  int64_t time_us = 0;
  std::string key_id;
  std::string role;
  std::string action;  // "pii_access", "admin_action", "export", "dsr", ...
  std::string method;
  std::string path;    // without the query string (it may hold identifiers)
  int status = 0;      // HTTP status answered
  std::string detail;  // e.g. "one_id 42"; never an identifier value
};

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> Open(KvStore* db);
  // Durable when it returns OK.
  Status Append(AuditEntry entry);
  // Entries with seq > after and from_us <= time < to_us, oldest first, at
  // most `limit`.
  Result<std::vector<AuditEntry>> List(uint64_t after, int64_t from_us, int64_t to_us,
                                       size_t limit) const;

  static constexpr std::string_view kKeyPrefix = "audit/";

 private:
  explicit AuditLog(KvStore* db) : db_(db) {}
  KvStore* db_;
  std::mutex mu_;
  uint64_t next_seq_ = 1;
};

}  // namespace quanyu::privacy
