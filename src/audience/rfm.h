// RFM (recency, frequency, monetary) scoring of customers and the named
// segments of the R·F grid (docs/rfm.md).
//
// Two steps: GatherRfmCustomers scans the store for the orders of each
// person in the analysis window; ScoreRfm turns those figures into quintile
// scores 1..5 and a segment name. ScoreRfm is pure, so the scoring rule is
// testable without a store. The lead stores the results as the profile
// traits rfm_r, rfm_f, rfm_m, rfm_score and rfm_segment.
//
// Stateless; every function is thread-safe. Segment names are views of
// static strings that live until the program exits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audience/definition.h"
#include "common/result.h"
#include "query/query.h"

namespace quanyu::audience {

struct RfmOptions {
  int64_t analysis_time_us = 0;  // "now" of the analysis; required (> 0)
  // Orders count when analysis_time - window < timestamp <= analysis_time.
  int64_t window_us = 365LL * 86400 * 1000000;
  std::string order_event = "Order Completed";
  // A query field name (query/fields.h): a built-in number column
  // (revenue, value, quantity) or a property of the order event.
  std::string monetary_property = "revenue";
};

// One person's orders in the window.
struct RfmCustomer {
  uint32_t one_id = 0;
  int64_t last_order_us = 0;  // time of the latest order
  int64_t orders = 0;         // number of orders
  double monetary = 0;        // sum of the monetary property
};

struct RfmScore {
  uint32_t one_id = 0;
  double recency_days = 0;  // (analysis_time - last_order) / 1 day
  int64_t frequency = 0;    // orders
  double monetary = 0;
  int r = 0, f = 0, m = 0;   // 1..5
  std::string_view segment;  // one of RfmSegmentNames()
};

// Scores every customer: quintile scores 1..5 with equal values always
// scored equally (docs/rfm.md, "Scores"). For F and M,
//   score = 1 + floor(5 * #(customers with a strictly smaller value) / n);
// for R the same counting customers whose last order is strictly older, so
// the most recent buyers get 5. Returns one score per customer, sorted by
// one_id (customers with the same one_id keep their input order). Empty
// input gives an empty result. A NaN monetary ranks below every number.
std::vector<RfmScore> ScoreRfm(const std::vector<RfmCustomer>& customers, int64_t analysis_time_us);

// The named segment of an R and an F score, from the grid in docs/rfm.md;
// "" when either is outside 1..5.
std::string_view RfmSegmentOf(int r, int f);

// The 11 segment names, best first: "Champions", "Loyal", "Potential
// Loyalist", "New Customers", "Promising", "Need Attention", "About to
// Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost".
const std::vector<std::string>& RfmSegmentNames();

// OK, or InvalidArgument naming the first bad field: analysis_time_us must
// be > 0 and < INT64_MAX, window_us > 0, order_event non-empty,
// monetary_property a number column or a property (not a string column).
Status ValidateRfmOptions(const RfmOptions& options);

// Gathers, per person (ctx.one_ids resolves identity keys; events of one_id
// 0 are skipped), the events named options.order_event in the window: the
// latest order time, the number of orders and the sum of
// options.monetary_property (missing or non-numeric values add 0). An event
// name never collected simply gives no customers. Sorted by one_id.
// InvalidArgument for bad options (ValidateRfmOptions); IOError/Corruption
// from the store.
Result<std::vector<RfmCustomer>> GatherRfmCustomers(const query::QueryContext& ctx,
                                                    const RfmOptions& options);

// {"analysis_time": "1998-07-01T00:00:00.000Z", "window": "547d",
//  "order_event": ..., "monetary_property": ...}; the window is in whole
// days ("d") when it divides evenly, else in seconds ("s"), else a number of
// microseconds ("window_us").
Json ToJson(const RfmOptions& options);

// Reads options in the form ToJson writes (window also as a number of
// seconds, or as "window_us"); absent fields keep their defaults, and an
// absent analysis_time is `now_us`. InvalidArgument for a malformed field or
// options ValidateRfmOptions rejects.
Result<RfmOptions> ParseRfmOptions(const Json& j, int64_t now_us);

// {"one_id", "recency_days", "frequency", "monetary", "r", "f", "m",
//  "score": "545", "segment"}; recency_days and monetary rounded to 2
// decimals.
Json ToJson(const RfmScore& score);

}  // namespace quanyu::audience
