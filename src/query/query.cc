#include "query/query.h"

#include <algorithm>
#include <cmath>

#include "query/fields.h"
#include "query/operators.h"

namespace quanyu::query {

const std::vector<std::string>& QueryKinds() {
  static const std::vector<std::string> kinds = {"funnel", "retention", "paths",
                                                 "touchpoints", "kpis", "trends"};
  return kinds;
}

Result<Json> RunQuery(std::string_view kind, const Json& body, const QueryContext& ctx) {
  if (!body.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  if (kind == "funnel") return RunFunnel(body, ctx);
  if (kind == "retention") return RunRetention(body, ctx);
  if (kind == "paths") return RunPaths(body, ctx);
  if (kind == "touchpoints") return RunTouchpoints(body, ctx);
  if (kind == "kpis") return RunKpis(body, ctx);
  if (kind == "trends") return RunTrends(body, ctx);
  return Status::InvalidArgument("unknown query \"" + std::string(kind) +
                                 "\": use funnel, retention, paths, touchpoints, kpis or trends");
}

Status CheckEventName(const QueryContext& ctx, std::string_view name, std::string_view field) {
  if (ctx.catalog == nullptr || ctx.catalog->HasEvent(name)) return Status::OK();
  return Status::InvalidArgument("unknown event \"" + std::string(name) + "\" (" +
                                 std::string(field) + "): no such event has been collected");
}

Status CheckProperty(const QueryContext& ctx, std::string_view event, std::string_view property,
                     std::string_view field) {
  if (ctx.catalog == nullptr || IsBuiltinField(property)) return Status::OK();
  const Field f = FieldNamed(property);
  if (ctx.catalog->HasProperty(event, f.path)) return Status::OK();
  std::string msg = "unknown property \"" + std::string(property) + "\" (" + std::string(field) + ")";
  msg += event.empty() ? ": no collected event has it" : ": no \"" + std::string(event) + "\" event has it";
  return Status::InvalidArgument(msg);
}

Status ScanRange(const QueryContext& ctx, const TimeRange& range, store::ColumnSet columns,
                 const store::ColumnScanFn& fn) {
  store::ScanRequest req;
  req.from_us = range.from_us;
  req.to_us = range.to_us;
  req.columns = columns;
  req.one_ids = ctx.one_ids;
  return ctx.store->ScanColumns(req, fn);
}

Status ScanRangeParallel(const QueryContext& ctx, const TimeRange& range,
                         store::ColumnSet columns, const store::ParallelColumnScanFn& fn,
                         uint64_t* covered_lsn) {
  store::ScanRequest req;
  req.covered_lsn = covered_lsn;
  req.from_us = range.from_us;
  req.to_us = range.to_us;
  req.columns = columns;
  req.one_ids = ctx.one_ids;
  return ctx.store->ScanColumnsParallel(req, QueryThreads(ctx), fn);
}

int QueryThreads(const QueryContext& ctx) { return std::max(1, ctx.options.threads); }

void NameList::Translate(const std::vector<std::string>& dict, std::vector<int32_t>* out) const {
  out->assign(dict.size(), -1);
  for (size_t k = 0; k < dict.size(); ++k) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == dict[k]) {
        (*out)[k] = static_cast<int32_t>(i);
        break;
      }
    }
  }
}

uint32_t Interner::Intern(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(s);
  ids_.emplace(std::string(s), id);
  return id;
}

void Interner::Translate(const std::vector<std::string>& dict, std::vector<uint32_t>* out) {
  out->resize(dict.size());
  for (size_t k = 0; k < dict.size(); ++k) (*out)[k] = Intern(dict[k]);
}

Json Ratio(double num, double den) {
  if (den == 0) return nullptr;
  return std::round(num / den * 1e6) / 1e6;
}

Json Amount(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return std::round(*v * 100) / 100;
}

std::optional<double> Quantile(std::vector<double>* values, double q) {
  if (values->empty()) return std::nullopt;
  const size_t n = values->size();
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<size_t>(rank, 1, n);
  std::nth_element(values->begin(), values->begin() + (rank - 1), values->end());
  return (*values)[rank - 1];
}

}  // namespace quanyu::query
