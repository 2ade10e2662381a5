#include "audience/export_hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <utility>

namespace quanyu::audience {
namespace {

// How a rule turns a normalized value into the hash a destination gets.
enum class Hashing {
  kMd5,         // MD5 of the normalized value
  kSha256,      // SHA-256 of the normalized value
  kPassMd5,     // already an MD5: validated (32 hex digits) and passed on
  kPassSha256,  // already a SHA-256: validated (64 hex digits) and passed on
};

// Returns the value to hash, or nullopt when the identifier does not fit the
// destination (a non-mainland phone for Tencent, ...).
using Normalizer = std::optional<std::string> (*)(std::string_view value);

// One way an identifier namespace feeds one id type of a destination.
struct Rule {
  std::string_view ns;
  std::string_view id_type;
  Normalizer normalize;
  Hashing hashing;
};

struct DestinationSpec {
  AdDestination destination;
  std::string_view name;
  // Empty: one "<id_type>.txt" per id type. Otherwise one CSV of that name
  // with a column per id type.
  std::string_view csv_file;
  std::vector<Rule> rules;  // their distinct id_types, in order, are the type order
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::string> NonEmpty(std::string value) {
  if (value.empty()) return std::nullopt;
  return value;
}

// Ingest stores phones in E.164 ("+" and 1 to 15 digits); anything else is
// not a phone any destination can match.
std::optional<std::string> E164(std::string_view value) {
  value = Trim(value);
  if (value.size() < 2 || value.size() > 16 || value[0] != '+') return std::nullopt;
  if (!AllDigits(value.substr(1)) || value[1] == '0') return std::nullopt;
  return std::string(value);
}

// Meta: the E.164 digits without '+' (country code first, no leading zero).
std::optional<std::string> E164Digits(std::string_view value) {
  std::optional<std::string> e164 = E164(value);
  if (!e164) return std::nullopt;
  return e164->substr(1);
}

// Tencent / Ocean Engine: only mainland China mobiles, as their 11 digits.
std::optional<std::string> MainlandMobile(std::string_view value) {
  std::optional<std::string> e164 = E164(value);
  if (!e164 || e164->size() != 14 || e164->compare(0, 3, "+86") != 0 || (*e164)[3] != '1') {
    return std::nullopt;
  }
  return e164->substr(3);
}

std::optional<std::string> TrimmedLower(std::string_view value) {
  return NonEmpty(ToLower(Trim(value)));
}

std::optional<std::string> TrimmedUpper(std::string_view value) {
  return NonEmpty(ToUpper(Trim(value)));
}

std::optional<std::string> AsSent(std::string_view value) {
  return NonEmpty(std::string(Trim(value)));
}

// Google: lower-cased, and for gmail.com / googlemail.com the dots of the
// local part removed (Google treats them as insignificant there).
std::optional<std::string> GoogleEmail(std::string_view value) {
  std::string email = ToLower(Trim(value));
  size_t at = email.find('@');
  if (at == std::string::npos || at == 0) return std::nullopt;
  std::string_view domain = std::string_view(email).substr(at + 1);
  if (domain != "gmail.com" && domain != "googlemail.com") return email;
  std::string local = email.substr(0, at);
  std::erase(local, '.');
  if (local.empty()) return std::nullopt;
  return local + email.substr(at);
}

const std::vector<DestinationSpec>& Specs() {
  static const std::vector<DestinationSpec>* specs = new std::vector<DestinationSpec>{
      {AdDestination::kTencentAds,
       "tencent_ads",
       "",
       {{"phone", "mobile_md5", MainlandMobile, Hashing::kMd5},
        {"phone_md5", "mobile_md5", TrimmedLower, Hashing::kPassMd5},
        {"idfa", "idfa_md5", TrimmedUpper, Hashing::kMd5},
        {"imei", "imei_md5", TrimmedLower, Hashing::kMd5},
        {"oaid", "oaid_md5", AsSent, Hashing::kMd5}}},
      {AdDestination::kOceanEngine,
       "ocean_engine",
       "",
       {{"phone", "mobile_md5", MainlandMobile, Hashing::kMd5},
        {"phone_md5", "mobile_md5", TrimmedLower, Hashing::kPassMd5},
        {"phone", "mobile_sha256", MainlandMobile, Hashing::kSha256},
        {"phone_sha256", "mobile_sha256", TrimmedLower, Hashing::kPassSha256},
        {"idfa", "idfa_md5", TrimmedUpper, Hashing::kMd5},
        {"imei", "imei_md5", TrimmedLower, Hashing::kMd5},
        {"oaid", "oaid_md5", AsSent, Hashing::kMd5}}},
      {AdDestination::kMeta,
       "meta",
       "meta_customer_list.csv",
       {{"email", "email", TrimmedLower, Hashing::kSha256},
        {"email_sha256", "email", TrimmedLower, Hashing::kPassSha256},
        {"phone", "phone", E164Digits, Hashing::kSha256}}},
      {AdDestination::kGoogle,
       "google",
       "google_customer_match.csv",
       {{"email", "Email", GoogleEmail, Hashing::kSha256},
        {"email_sha256", "Email", TrimmedLower, Hashing::kPassSha256},
        {"phone", "Phone", E164, Hashing::kSha256}}},
  };
  return *specs;
}

const DestinationSpec& SpecOf(AdDestination d) {
  for (const DestinationSpec& spec : Specs()) {
    if (spec.destination == d) return spec;
  }
  return Specs().front();  // unreachable: every enumerator has a spec
}

// The distinct id types of a spec, in rule order.
std::vector<std::string_view> IdTypes(const DestinationSpec& spec) {
  std::vector<std::string_view> types;
  for (const Rule& rule : spec.rules) {
    if (std::find(types.begin(), types.end(), rule.id_type) == types.end()) {
      types.push_back(rule.id_type);
    }
  }
  return types;
}

bool IsLowerHex(std::string_view s, size_t digits) {
  return s.size() == digits && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The hash `rule` makes of `value`, or nullopt when it does not apply.
std::optional<std::string> ApplyRule(const Rule& rule, std::string_view value) {
  std::optional<std::string> normalized = rule.normalize(value);
  if (!normalized) return std::nullopt;
  std::string hash;
  switch (rule.hashing) {
    case Hashing::kMd5:
      hash = Md5Hex(*normalized);
      break;
    case Hashing::kSha256:
      hash = Sha256Hex(*normalized);
      break;
    case Hashing::kPassMd5:
      if (!IsLowerHex(*normalized, 32)) return std::nullopt;
      hash = std::move(*normalized);
      break;
    case Hashing::kPassSha256:
      if (!IsLowerHex(*normalized, 64)) return std::nullopt;
      hash = std::move(*normalized);
      break;
  }
  return NonEmpty(std::move(hash));
}

std::string DigestHex(const EVP_MD* md, std::string_view s) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (md == nullptr || EVP_Digest(s.data(), s.size(), digest, &size, md, nullptr) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

// Appends one person's CSV rows: as many as its longest column, the k-th row
// holding each column's k-th hash or an empty cell.
void AppendCsvRows(const std::vector<std::string_view>& columns, const std::vector<HashedId>& ids,
                   std::string* out) {
  std::vector<std::vector<const std::string*>> cells(columns.size());
  size_t rows = 0;
  for (size_t c = 0; c < columns.size(); ++c) {
    for (const HashedId& id : ids) {
      if (id.id_type == columns[c]) cells[c].push_back(&id.hash);
    }
    rows = std::max(rows, cells[c].size());
  }
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) out->push_back(',');
      if (r < cells[c].size()) out->append(*cells[c][r]);
    }
    out->push_back('\n');
  }
}

}  // namespace

Result<AdDestination> AdDestinationNamed(std::string_view name) {
  std::string accepted;
  for (const DestinationSpec& spec : Specs()) {
    if (spec.name == name) return spec.destination;
    if (!accepted.empty()) accepted += ", ";
    accepted += spec.name;
  }
  return Status::InvalidArgument("unknown ad destination '" + std::string(name) +
                                 "'; expected one of " + accepted);
}

std::string_view AdDestinationName(AdDestination d) { return SpecOf(d).name; }

std::vector<HashedId> HashForDestination(AdDestination d, const std::vector<Identifier>& ids) {
  const DestinationSpec& spec = SpecOf(d);
  std::vector<HashedId> out;
  for (std::string_view type : IdTypes(spec)) {
    for (const Identifier& id : ids) {
      for (const Rule& rule : spec.rules) {
        if (rule.id_type != type || rule.ns != id.ns) continue;
        std::optional<std::string> hash = ApplyRule(rule, id.value);
        if (!hash) continue;
        HashedId row{std::string(type), std::move(*hash)};
        if (std::find(out.begin(), out.end(), row) == out.end()) out.push_back(std::move(row));
      }
    }
  }
  return out;
}

std::map<std::string, std::string> BuildExportFiles(
    AdDestination d, const std::vector<std::vector<Identifier>>& persons) {
  const DestinationSpec& spec = SpecOf(d);
  const std::vector<std::string_view> types = IdTypes(spec);
  std::map<std::string, std::string> files;
  std::string csv_rows;
  for (const std::vector<Identifier>& person : persons) {
    std::vector<HashedId> ids = HashForDestination(d, person);
    if (ids.empty()) continue;
    if (!spec.csv_file.empty()) {
      AppendCsvRows(types, ids, &csv_rows);
      continue;
    }
    for (const HashedId& id : ids) {
      std::string& file = files[id.id_type + ".txt"];
      file += id.hash;
      file.push_back('\n');
    }
  }
  if (!csv_rows.empty()) {
    std::string header;
    for (std::string_view type : types) {
      if (!header.empty()) header.push_back(',');
      header.append(type);
    }
    files[std::string(spec.csv_file)] = header + "\n" + csv_rows;
  }
  return files;
}

std::string Md5Hex(std::string_view s) { return DigestHex(EVP_md5(), s); }

std::string Sha256Hex(std::string_view s) { return DigestHex(EVP_sha256(), s); }

}  // namespace quanyu::audience
