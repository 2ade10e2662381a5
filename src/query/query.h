// The query module's entry point: POST /api/v1/query/{kind} and
// `quanyu query KIND` both call RunQuery with the request body and a
// QueryContext the engine builds (docs/metrics.md defines every kind).
//
// Every operator scans the store's columns for the request's time range with
// identities resolved as of query time (ScanRequest::one_ids), groups the
// rows it needs per person (PersonSequences) and answers JSON. Persons are
// one_ids; events without any identifier belong to no person and are
// skipped by every person count.
//
// Thread-safety: RunQuery may be called concurrently; a QueryContext is
// read-only.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/dense_array.h"
#include "common/result.h"
#include "query/params.h"
#include "store/catalog.h"
#include "store/event_store.h"
#include "store/spend_store.h"

namespace quanyu::query {

// Settings from quanyu.toml's [query] table (docs/configuration.md).
struct QueryOptions {
  TimeZone timezone;                           // requests without "timezone"
  int64_t session_idle_us = 30LL * 60 * 1000000;  // paths by session
  // Touchpoint-map stages: event name -> stage ("awareness",
  // "consideration", "conversion", "repurchase", "advocacy"). Empty means the
  // documented defaults (touchpoints.h).
  std::map<std::string, std::string> stages;
  int threads = 2;  // per query
};

struct QueryContext {
  const store::EventStore* store = nullptr;       // required
  const DenseArray<uint32_t>* one_ids = nullptr;  // required: identity key -> one_id now
  const store::EventCatalog* catalog = nullptr;   // nullptr: names are not checked
  const store::SpendStore* spend = nullptr;       // nullptr: no spend (KPIs answer null)
  QueryOptions options;
};

// The kinds RunQuery answers, in documentation order.
const std::vector<std::string>& QueryKinds();

// Runs the query `kind` ("funnel", "retention", "paths", "touchpoints",
// "kpis", "trends"). InvalidArgument (HTTP 400) for a malformed body, an
// unknown kind, unknown event or property names (named in the message), an
// empty or inverted time range; NotFound never; IOError/Corruption from the
// store.
Result<Json> RunQuery(std::string_view kind, const Json& body, const QueryContext& ctx);

// ---- Helpers for the operators ------------------------------------------------

// InvalidArgument "unknown event \"NAME\" (at FIELD)" unless the catalog
// knows the event name (or there is no catalog).
Status CheckEventName(const QueryContext& ctx, std::string_view name, std::string_view field);
// InvalidArgument "unknown property ..." unless `property` is a built-in
// field (fields.h) or the catalog saw it on `event` (any event when empty).
Status CheckProperty(const QueryContext& ctx, std::string_view event, std::string_view property,
                     std::string_view field);

// Scans [range) reading `columns` plus what one_id resolution needs; every
// batch has one_ids().
Status ScanRange(const QueryContext& ctx, const TimeRange& range, store::ColumnSet columns,
                 const store::ColumnScanFn& fn);
// The same batches on ctx.options.threads threads at once
// (EventStore::ScanColumnsParallel): fn(worker, batch), worker in
// [0, threads); each worker's calls are serialized.
// `covered_lsn`, if set, receives the store snapshot's LSN
// (store::ScanRequest::covered_lsn).
Status ScanRangeParallel(const QueryContext& ctx, const TimeRange& range,
                         store::ColumnSet columns, const store::ParallelColumnScanFn& fn,
                         uint64_t* covered_lsn = nullptr);
// ctx.options.threads, at least 1.
int QueryThreads(const QueryContext& ctx);

// A fixed list of names (event names, channels...) matched against batch
// dictionaries: Translate maps each dictionary code to the index of its name
// in the list, or -1.
class NameList {
 public:
  NameList() = default;
  explicit NameList(std::vector<std::string> names) : names_(std::move(names)) {}
  const std::vector<std::string>& names() const { return names_; }
  void Translate(const std::vector<std::string>& dict, std::vector<int32_t>* out) const;

 private:
  std::vector<std::string> names_;
};

// A growing dictionary of strings for results (channels, breakdown values):
// Intern returns a dense id; Translate maps a batch dictionary to ids.
class Interner {
 public:
  uint32_t Intern(std::string_view s);
  const std::string& Name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }
  void Translate(const std::vector<std::string>& dict, std::vector<uint32_t>* out);

 private:
  std::map<std::string, uint32_t, std::less<>> ids_;
  std::vector<std::string> names_;
};

// num / den rounded to 6 decimals, or null when den is 0 — how every ratio
// (conversion, CTR, ROAS...) is written in answers.
Json Ratio(double num, double den);
// A money or other real amount rounded to 2 decimals (null if nullopt).
Json Amount(std::optional<double> v);

// Quantile q (0..1) of `values` by the nearest-rank method (sorts them);
// nullopt when empty.
std::optional<double> Quantile(std::vector<double>* values, double q);

}  // namespace quanyu::query
