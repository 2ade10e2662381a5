#include "store/spend_store.h"

#include <cmath>
#include <cstring>

#include "common/coding.h"
#include "common/time_util.h"

namespace quanyu::store {
namespace {

constexpr std::string_view kPrefix = "spend/";
constexpr char kSep = '\0';
constexpr uint8_t kValueVersion = 1;

Status CheckDate(std::string_view date) {
  auto ts = ParseTimestamp(date);
  if (date.size() != 10 || !ts.ok() || FormatDay(DayOf(*ts)) != date) {
    return Status::InvalidArgument("spend date must be YYYY-MM-DD, got \"" + std::string(date) +
                                   "\"");
  }
  return Status::OK();
}

Status CheckRow(const SpendRow& r) {
  RETURN_IF_ERROR(CheckDate(r.date));
  if (r.channel.empty())
    return Status::InvalidArgument("spend row for " + r.date + " has no channel");
  if (r.channel.find(kSep) != std::string::npos || r.campaign.find(kSep) != std::string::npos) {
    return Status::InvalidArgument("spend channel or campaign contains a NUL byte");
  }
  if (!std::isfinite(r.spend)) return Status::InvalidArgument("spend is not a finite number");
  if (r.impressions < 0 || r.clicks < 0) {
    return Status::InvalidArgument("spend impressions and clicks must not be negative");
  }
  return Status::OK();
}

std::string KeyOf(const SpendRow& r) {
  std::string key(kPrefix);
  key += r.date;
  key += kSep;
  key += r.channel;
  key += kSep;
  key += r.campaign;
  return key;
}

std::string ValueOf(const SpendRow& r) {
  std::string v(1, static_cast<char>(kValueVersion));
  uint64_t bits;
  std::memcpy(&bits, &r.spend, 8);
  PutFixed64(&v, bits);
  PutVarint64(&v, static_cast<uint64_t>(r.impressions));
  PutVarint64(&v, static_cast<uint64_t>(r.clicks));
  return v;
}

Result<SpendRow> Parse(std::string_view key, std::string_view value) {
  SpendRow r;
  key.remove_prefix(kPrefix.size());
  size_t a = key.find(kSep);
  size_t b = a == std::string_view::npos ? a : key.find(kSep, a + 1);
  if (b == std::string_view::npos) return Status::Corruption("malformed spend key");
  r.date = key.substr(0, a);
  r.channel = key.substr(a + 1, b - a - 1);
  r.campaign = key.substr(b + 1);
  Decoder d(value);
  uint8_t version;
  uint64_t bits, impressions, clicks;
  if (!d.GetByte(&version) || version != kValueVersion || !d.GetFixed64(&bits) ||
      !d.GetVarint64(&impressions) || !d.GetVarint64(&clicks) || !d.done()) {
    return Status::Corruption("malformed spend value for " + r.date + "/" + r.channel);
  }
  std::memcpy(&r.spend, &bits, 8);
  r.impressions = static_cast<int64_t>(impressions);
  r.clicks = static_cast<int64_t>(clicks);
  return r;
}

}  // namespace

Status SpendStore::Upsert(const std::vector<SpendRow>& rows) {
  StateWriteBatch batch;
  for (const SpendRow& r : rows) {
    RETURN_IF_ERROR(CheckRow(r));
    batch.Put(KeyOf(r), ValueOf(r));
  }
  return db_->Write(batch);
}

Result<std::vector<SpendRow>> SpendStore::List(std::string_view from_date,
                                               std::string_view to_date) const {
  RETURN_IF_ERROR(CheckDate(from_date));
  RETURN_IF_ERROR(CheckDate(to_date));
  std::vector<SpendRow> out;
  if (from_date > to_date) return out;
  // Every key of to_date sorts below to_date followed by \x01.
  std::string start = std::string(kPrefix) + std::string(from_date);
  std::string end = std::string(kPrefix) + std::string(to_date) + '\x01';
  RETURN_IF_ERROR(db_->Scan(start, end, [&](std::string_view k, std::string_view v) -> Status {
    ASSIGN_OR_RETURN(SpendRow row, Parse(k, v));
    out.push_back(std::move(row));
    return Status::OK();
  }));
  return out;
}

}  // namespace quanyu::store
