// The models' inputs read from the store (docs/models.md, "From the
// store"): each person's orders as a buy-till-you-die summary, behaviour
// features at a cutoff time with the purchase label after it, and the
// products each person viewed and bought.
//
// Persons are one_ids as ctx.one_ids resolves them now; events without a
// person are skipped. Days are local to `timezone`.
//
// Stateless; thread-safe (a QueryContext is read-only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/btyd.h"
#include "query/params.h"
#include "query/query.h"

namespace quanyu::models {

struct StoreDataOptions {
  std::string order_event = "Order Completed";
  std::string monetary_property = "revenue";  // a query field (query/fields.h)
  // Behaviour counted by the propensity features (Segment's e-commerce
  // spec); an event never collected counts 0.
  std::string view_event = "Product Viewed";
  std::string cart_event = "Product Added";
  std::string checkout_event = "Checkout Started";
  std::string product_property = "product_id";  // a query field
  query::TimeZone timezone;
};

// OK, or InvalidArgument naming the field: event names must be non-empty,
// monetary_property a number column or a property.
Status ValidateStoreDataOptions(const StoreDataOptions& options);

struct PersonSummary {
  uint32_t one_id = 0;
  CustomerSummary summary;  // in days
};

// The summary of every person with an order before `end_us`, in days:
// orders on one local day are one transaction (values summed); the
// calibration period ends with the local day of end_us - 1. A person whose
// first order is on that last day is left out (T = 0). Sorted by one_id.
Result<std::vector<PersonSummary>> OrderSummaries(const query::QueryContext& ctx,
                                                  const StoreDataOptions& options, int64_t end_us);

// Behaviour features of each person at a cutoff (docs/models.md,
// "Propensity"): over [cutoff - lookback, cutoff).
struct FeatureSet {
  static const std::vector<std::string>& Names();
  std::vector<uint32_t> one_ids;     // persons with an event in the lookback, sorted
  std::vector<double> values;        // one_ids.size() x Names().size(), row-major
  std::vector<uint8_t> labels;       // an order in [cutoff, cutoff + horizon)
  std::vector<double> recency_days;  // days since the last order (lookback when none)
  size_t rows() const { return one_ids.size(); }
};
// horizon_us may be 0 (scoring: no labels, all 0).
Result<FeatureSet> BehaviourFeatures(const query::QueryContext& ctx,
                                     const StoreDataOptions& options, int64_t cutoff_us,
                                     int64_t lookback_us, int64_t horizon_us);

// Who viewed and bought which product in [from_us, to_us).
struct Interactions {
  std::vector<std::string> products;  // product ids, by index
  struct Row {
    uint32_t one_id = 0;
    uint32_t product = 0;  // index into products
    bool bought = false;   // else only viewed
  };
  std::vector<Row> rows;  // one per (person, product), sorted by one_id, product
};
Result<Interactions> ProductInteractions(const query::QueryContext& ctx,
                                         const StoreDataOptions& options, int64_t from_us,
                                         int64_t to_us);

}  // namespace quanyu::models
