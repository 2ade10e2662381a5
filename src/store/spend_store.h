// SpendStore: daily ad spend per channel and campaign, imported from ad
// platforms' reports (CSV) and used for ROAS / CAC. Kept in a StateDb under
// keys "spend/<date>\0<channel>\0<campaign>", so importing the same report
// twice leaves the same rows (an upsert, not an append).
//
// Thread-safety: as StateDb; a single Upsert is atomic.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/state_db.h"

namespace quanyu::store {

struct SpendRow {
  std::string date;      // "YYYY-MM-DD", the UTC day the spend is for
  std::string channel;   // as classified at ingest, e.g. "douyin"; never empty
  std::string campaign;  // campaign name; empty for channel-level spend
  double spend = 0;      // in the account's currency; finite (refunds may be negative)
  int64_t impressions = 0;
  int64_t clicks = 0;

  bool operator==(const SpendRow&) const = default;
};

class SpendStore {
 public:
  // `db` is not owned and must outlive the SpendStore.
  explicit SpendStore(StateDb* db) : db_(db) {}

  // Inserts or replaces each row keyed by (date, channel, campaign); a later
  // row in `rows` wins over an earlier one with the same key. All rows or
  // none: InvalidArgument naming the first bad row (a date that is not a real
  // YYYY-MM-DD day, an empty channel, a NUL byte in channel or campaign,
  // non-finite spend, negative counts); IOError from the database.
  Status Upsert(const std::vector<SpendRow>& rows);

  // Rows with from_date <= date <= to_date, ordered by (date, channel,
  // campaign). InvalidArgument if either date is malformed.
  Result<std::vector<SpendRow>> List(std::string_view from_date, std::string_view to_date) const;

 private:
  StateDb* db_;
};

}  // namespace quanyu::store
