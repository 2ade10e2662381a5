#include "privacy/suppression.h"

#include <mutex>

namespace quanyu::privacy {
namespace {

constexpr std::string_view kDomain = "suppression";

Result<SuppressionList::Hash> ParseHex(std::string_view hex) {
  SuppressionList::Hash h{};
  if (hex.size() != 2 * h.size()) return Status::Corruption("suppression key of the wrong length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < h.size(); ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::Corruption("suppression key is not lowercase hex");
    h[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return h;
}

}  // namespace

Result<std::unique_ptr<SuppressionList>> SuppressionList::Open(KvStore* db, const KeyRing* ring) {
  std::unique_ptr<SuppressionList> list(new SuppressionList(db, ring));
  RETURN_IF_ERROR(db->ScanPrefix(kKeyPrefix, [&](std::string_view k, std::string_view v) {
    ASSIGN_OR_RETURN(Hash h, ParseHex(k.substr(kKeyPrefix.size())));
    list->request_of_.emplace(h, std::string(v));
    return Status::OK();
  }));
  list->size_ = list->request_of_.size();
  return list;
}

SuppressionList::SuppressionList(KvStore* db, const KeyRing* ring)
    : db_(db), hasher_(*ring, kDomain) {}

SuppressionList::Hash SuppressionList::HashOf(std::string_view identifier_text) const {
  return hasher_.Hash(identifier_text);
}

SuppressionList::Hash SuppressionList::HashOf(const Identifier& id) const {
  return HashOf(id.ToString());
}

Status SuppressionList::Add(const std::vector<Hash>& hashes, std::string_view request_id) {
  std::unique_lock lock(mu_);
  KvWriteBatch batch;
  std::vector<const Hash*> fresh;
  for (const Hash& h : hashes) {
    if (request_of_.contains(h)) continue;
    batch.Put(std::string(kKeyPrefix) + Hex(h), std::string(request_id));
    fresh.push_back(&h);
  }
  RETURN_IF_ERROR(db_->Write(batch));
  for (const Hash* h : fresh) request_of_.emplace(*h, std::string(request_id));
  size_ = request_of_.size();
  return Status::OK();
}

bool SuppressionList::Contains(const Hash& h) const {
  std::shared_lock lock(mu_);
  return request_of_.contains(h);
}

bool SuppressionList::Matches(const Identifier& id) const {
  if (size() == 0) return false;
  return Contains(HashOf(id));
}

bool SuppressionList::Matches(const Event& e) const {
  if (size() == 0) return false;
  for (const Identifier& id : e.identifiers) {
    if (Contains(HashOf(id))) return true;
  }
  return false;
}

std::vector<SuppressionList::Hash> SuppressionList::OfRequest(std::string_view request_id) const {
  std::shared_lock lock(mu_);
  std::vector<Hash> out;
  for (const auto& [h, id] : request_of_) {
    if (id == request_id) out.push_back(h);
  }
  return out;
}

}  // namespace quanyu::privacy
