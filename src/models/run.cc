#include "models/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "common/time_util.h"
#include "models/boosted.h"
#include "models/btyd.h"
#include "models/logistic.h"
#include "models/recommend.h"
#include "models/store_data.h"
#include "query/params.h"

namespace quanyu::models {
namespace {

// Each kind's fields beyond the common ones.
const std::map<std::string, std::set<std::string>, std::less<>>& KindFields() {
  static const std::map<std::string, std::set<std::string>, std::less<>> fields = {
      {"clv", {"model", "months", "monthly_discount", "margin"}},
      {"churn", {"model"}},
      {"propensity",
       {"view_event", "cart_event", "checkout_event", "horizon", "lookback", "l2", "algorithm",
        "trees"}},
      {"recommend", {"view_event", "product_property", "window", "top", "view_weight", "holdout"}},
  };
  return fields;
}
const std::set<std::string> kCommonFields = {"order_event", "monetary_property", "as_of",
                                             "timezone", "store"};

struct Common {
  StoreDataOptions data;
  int64_t as_of_us = 0;
  bool store = true;
};

// A bound or parameter in a message: "0.01", "120".
std::string FormatNumber(double v) {
  Json j = v;
  if (v == std::floor(v) && std::abs(v) < 1e15) j = static_cast<int64_t>(v);
  return j.dump();
}

Status ReadString(const Json& body, const char* field, std::string* out) {
  if (!body.contains(field)) return Status::OK();
  if (!body[field].is_string() || body[field].get<std::string>().empty()) {
    return Status::InvalidArgument("\"" + std::string(field) + "\" must be a non-empty string");
  }
  *out = body[field].get<std::string>();
  return Status::OK();
}

// body[field] as a number in [min, max]; `fallback` if absent.
Result<double> ReadNumber(const Json& body, const char* field, double fallback, double min,
                          double max) {
  if (!body.contains(field)) return fallback;
  const Json& v = body[field];
  if (!v.is_number() || !(v.get<double>() >= min && v.get<double>() <= max)) {
    return Status::InvalidArgument("\"" + std::string(field) + "\" must be a number from " +
                                   FormatNumber(min) + " to " + FormatNumber(max));
  }
  return v.get<double>();
}

Result<int64_t> ReadDuration(const Json& body, const char* field, int64_t fallback) {
  if (!body.contains(field)) return fallback;
  ASSIGN_OR_RETURN(int64_t us, query::ParseDuration(body[field], field));
  if (us % kMicrosPerDay != 0) {
    return Status::InvalidArgument("\"" + std::string(field) +
                                   "\" must be whole days, like \"30d\"");
  }
  return us;
}

Result<Common> ParseCommon(std::string_view kind, const Json& body, const query::QueryContext& ctx,
                           int64_t latest_event_us) {
  if (!body.is_object()) return Status::InvalidArgument("the request must be a JSON object");
  const auto& extra = KindFields().find(kind)->second;
  for (const auto& [key, value] : body.items()) {
    if (kCommonFields.count(key) || extra.count(key)) continue;
    std::string known;
    for (const auto& f : kCommonFields) known += (known.empty() ? "" : ", ") + f;
    for (const auto& f : extra) known += ", " + f;
    return Status::InvalidArgument("unknown field \"" + key + "\" (known: " + known + ")");
  }
  Common c;
  StoreDataOptions& d = c.data;
  RETURN_IF_ERROR(ReadString(body, "order_event", &d.order_event));
  RETURN_IF_ERROR(ReadString(body, "monetary_property", &d.monetary_property));
  RETURN_IF_ERROR(ReadString(body, "view_event", &d.view_event));
  RETURN_IF_ERROR(ReadString(body, "cart_event", &d.cart_event));
  RETURN_IF_ERROR(ReadString(body, "checkout_event", &d.checkout_event));
  RETURN_IF_ERROR(ReadString(body, "product_property", &d.product_property));
  ASSIGN_OR_RETURN(d.timezone, query::ParseTimeZone(body, ctx.options.timezone));
  RETURN_IF_ERROR(ValidateStoreDataOptions(d));
  RETURN_IF_ERROR(query::CheckEventName(ctx, d.order_event, "order_event"));
  RETURN_IF_ERROR(
      query::CheckProperty(ctx, d.order_event, d.monetary_property, "monetary_property"));
  c.as_of_us = latest_event_us;
  if (body.contains("as_of")) {
    if (!body["as_of"].is_string())
      return Status::InvalidArgument("\"as_of\" must be a date or an RFC 3339 time");
    Result<int64_t> t = ParseTimestamp(body["as_of"].get<std::string>());
    if (!t.ok()) return t.status().WithContext("as_of");
    c.as_of_us = *t;
  }
  if (c.as_of_us <= 0)
    return Status::InvalidArgument("nothing has been collected yet: no data to fit");
  if (body.contains("store")) {
    if (!body["store"].is_boolean())
      return Status::InvalidArgument("\"store\" must be true or false");
    c.store = body["store"].get<bool>();
  }
  return c;
}

Json Rounded(double v, int digits = 6) {
  if (!std::isfinite(v)) return nullptr;
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

// Nearest-rank quantiles of `values` (sorted here).
Json Distribution(std::vector<double> values) {
  if (values.empty()) return nullptr;
  std::sort(values.begin(), values.end());
  auto q = [&](double p) {
    const size_t i = std::min(
        values.size() - 1,
        static_cast<size_t>(std::ceil(p * static_cast<double>(values.size()))) - (p > 0 ? 1 : 0));
    return Rounded(values[i], 4);
  };
  double sum = 0;
  for (double v : values) sum += v;
  return {{"mean", Rounded(sum / static_cast<double>(values.size()), 4)},
          {"min", q(0)},
          {"p10", q(0.1)},
          {"p50", q(0.5)},
          {"p90", q(0.9)},
          {"p99", q(0.99)},
          {"max", Rounded(values.back(), 4)}};
}

// `bins` equal-width bins over [min, max] of `values` (the last one holds
// max; all in the first when min = max): {"trait", "min", "max",
// "bin_width", "bins": [{"from", "to", "persons"}]}; null when empty.
Json Histogram(std::string_view trait, const std::vector<double>& values, int bins = 20) {
  if (values.empty()) return nullptr;
  const auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
  const double lo = *lo_it, hi = *hi_it, width = (hi - lo) / bins;
  std::vector<uint64_t> counts(static_cast<size_t>(bins));
  for (double v : values) {
    const double at = width > 0 ? std::floor((v - lo) / width) : 0;
    ++counts[static_cast<size_t>(std::clamp(at, 0.0, static_cast<double>(bins - 1)))];
  }
  Json out_bins = Json::array();
  for (int i = 0; i < bins; ++i) {
    out_bins.push_back({{"from", Rounded(lo + width * i, 4)},
                        {"to", Rounded(i + 1 == bins ? hi : lo + width * (i + 1), 4)},
                        {"persons", counts[static_cast<size_t>(i)]}});
  }
  return {{"trait", trait},
          {"min", Rounded(lo, 4)},
          {"max", Rounded(hi, 4)},
          {"bin_width", Rounded(width, 6)},
          {"bins", std::move(out_bins)}};
}

// Mean P(alive) per (repeat purchases × days since the last purchase) cell:
// {"frequency_buckets", "recency_buckets", "cells": [{"frequency",
// "recency_days", "persons", "mean_p_alive"}]}, every cell listed (mean
// null when empty), frequency-major.
Json PAliveGrid(const std::vector<CustomerSummary>& customers, const std::vector<double>& p_alive) {
  static const std::vector<std::string> kFrequency = {"0", "1", "2", "3", "4", "5-9", "10+"};
  static const std::vector<std::string> kRecency = {"0-14",  "15-30",  "31-60",
                                                    "61-90", "91-180", "181+"};
  constexpr double kRecencyUpTo[] = {14, 30, 60, 90, 180};
  std::vector<double> sums(kFrequency.size() * kRecency.size());
  std::vector<uint64_t> persons(sums.size());
  for (size_t i = 0; i < customers.size(); ++i) {
    const double x = customers[i].x;
    const size_t f = x < 5 ? static_cast<size_t>(x) : x < 10 ? 5 : 6;
    const double days = customers[i].T - customers[i].t_x;  // since the last purchase
    size_t r = 0;
    while (r < std::size(kRecencyUpTo) && days > kRecencyUpTo[r]) ++r;
    sums[f * kRecency.size() + r] += p_alive[i];
    ++persons[f * kRecency.size() + r];
  }
  Json cells = Json::array();
  for (size_t f = 0; f < kFrequency.size(); ++f) {
    for (size_t r = 0; r < kRecency.size(); ++r) {
      const size_t k = f * kRecency.size() + r;
      cells.push_back({{"frequency", kFrequency[f]},
                       {"recency_days", kRecency[r]},
                       {"persons", persons[k]},
                       {"mean_p_alive", persons[k] ? Rounded(sums[k] / persons[k], 4) : Json()}});
    }
  }
  return {{"frequency_buckets", kFrequency},
          {"recency_buckets", kRecency},
          {"cells", std::move(cells)}};
}

Result<FitResult> FitPurchaseModel(const std::string& model,
                                   const std::vector<CustomerSummary>& customers,
                                   const ModelProgress& progress) {
  const FitProgress report = ThrottledFitProgress(progress, model);
  if (model == "bgnbd") return FitBgNbd(customers, report);
  if (model == "paretonbd") return FitParetoNbd(customers, report);
  return FitMbgNbd(customers, report);
}

struct BtydInputs {
  std::string model;
  std::vector<PersonSummary> persons;
  std::vector<CustomerSummary> customers;
  FitResult fit;
  PurchaseModel purchase;
};

Result<BtydInputs> FitBtyd(const Json& body, const Common& c, const query::QueryContext& ctx,
                           const ModelProgress& progress) {
  BtydInputs in;
  in.model = "bgnbd";
  RETURN_IF_ERROR(ReadString(body, "model", &in.model));
  if (in.model != "bgnbd" && in.model != "paretonbd" && in.model != "mbgnbd") {
    return Status::InvalidArgument("\"model\": unknown model \"" + in.model +
                                   "\": use bgnbd, paretonbd or mbgnbd");
  }
  if (progress) progress("reading orders");
  ASSIGN_OR_RETURN(in.persons, OrderSummaries(ctx, c.data, c.as_of_us));
  if (in.persons.empty()) {
    return Status::InvalidArgument("no person has a \"" + c.data.order_event + "\" before " +
                                   FormatTimestamp(c.as_of_us) + " (as_of)");
  }
  for (const auto& p : in.persons) in.customers.push_back(p.summary);
  if (progress)
    progress("fitting " + in.model + " to " + std::to_string(in.customers.size()) + " customers");
  Result<FitResult> fit = FitPurchaseModel(in.model, in.customers, progress);
  if (!fit.ok()) return Status::InvalidArgument(fit.status().message());
  in.fit = std::move(*fit);
  ASSIGN_OR_RETURN(in.purchase, PurchaseModelOf(in.fit));
  return in;
}

Json Header(std::string_view kind, const Common& c) {
  return {{"kind", kind},
          {"as_of", FormatTimestamp(c.as_of_us)},
          {"order_event", c.data.order_event},
          {"monetary_property", c.data.monetary_property},
          {"timezone", c.data.timezone.name}};
}

Result<ModelRun> RunClv(const Json& body, const Common& c, const query::QueryContext& ctx,
                        const ModelProgress& progress) {
  ASSIGN_OR_RETURN(const double months, ReadNumber(body, "months", 12, 1, 120));
  if (months != std::floor(months))
    return Status::InvalidArgument("\"months\" must be a whole number");
  ASSIGN_OR_RETURN(const double discount, ReadNumber(body, "monthly_discount", 0.01, 0, 1));
  ASSIGN_OR_RETURN(const double margin, ReadNumber(body, "margin", 1, 0, 1e6));
  ASSIGN_OR_RETURN(BtydInputs in, FitBtyd(body, c, ctx, progress));
  if (progress) progress("fitting gammagamma");
  Result<FitResult> gg_fit =
      FitGammaGamma(in.customers, ThrottledFitProgress(progress, "gammagamma"));
  if (!gg_fit.ok()) return Status::InvalidArgument("order values: " + gg_fit.status().message());
  const GammaGammaParams gg = GammaGammaOf(*gg_fit);
  if (!(gg.q > 1)) {
    return Status::InvalidArgument("order values: the fitted Gamma-Gamma q is " +
                                   FormatNumber(gg.q) +
                                   " <= 1, so the mean order value is unbounded");
  }
  if (progress) progress("scoring " + std::to_string(in.persons.size()) + " customers");
  const int n_months = static_cast<int>(months);
  const std::string name = "clv_" + std::to_string(n_months) + "m";
  ModelRun run;
  PredictedTrait trait{name, {}};
  std::vector<double> values;
  values.reserve(in.persons.size());
  double total = 0;
  std::vector<std::pair<double, uint32_t>> top;
  std::vector<double> stored;  // as stored (rounded), for the histogram
  stored.reserve(in.persons.size());
  const std::vector<CustomerScore> scores =
      ScoreCustomers(in.purchase, gg, in.customers, n_months, discount, margin, 1);
  for (size_t i = 0; i < in.persons.size(); ++i) {
    const PersonSummary& p = in.persons[i];
    const double v = scores[i].clv;
    values.push_back(v);
    total += v;
    top.push_back({v, p.one_id});
    trait.values.push_back({p.one_id, Rounded(v, 2)});
    if (trait.values.back().second.is_number())
      stored.push_back(trait.values.back().second.get<double>());
  }
  std::partial_sort(top.begin(),
                    top.begin() + static_cast<ptrdiff_t>(std::min<size_t>(10, top.size())),
                    top.end(), [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second < b.second;
                    });
  Json best = Json::array();
  for (size_t i = 0; i < std::min<size_t>(10, top.size()); ++i) {
    best.push_back({{"one_id", top[i].second}, {"clv", Rounded(top[i].first, 2)}});
  }
  run.answer = Header("clv", c);
  run.answer["purchase_model"] = FitToJson(in.fit);
  run.answer["spend_model"] = FitToJson(*gg_fit);
  run.answer["months"] = n_months;
  run.answer["monthly_discount"] = discount;
  run.answer["margin"] = margin;
  run.answer["customers"] = in.persons.size();
  run.answer["total_clv"] = Rounded(total, 2);
  run.answer["clv"] = Distribution(std::move(values));
  run.answer["histogram"] = Histogram(name, stored);
  run.answer["mean_order_value"] = Rounded(gg.p * gg.gamma / (gg.q - 1), 2);
  run.answer["top"] = std::move(best);
  if (c.store) run.traits.push_back(std::move(trait));
  return run;
}

Result<ModelRun> RunChurn(const Json& body, const Common& c, const query::QueryContext& ctx,
                          const ModelProgress& progress) {
  ASSIGN_OR_RETURN(BtydInputs in, FitBtyd(body, c, ctx, progress));
  if (progress) progress("scoring " + std::to_string(in.persons.size()) + " customers");
  PredictedTrait alive{"p_alive", {}}, risk{"churn_risk", {}};
  std::vector<double> risks, alives;
  size_t bands[3] = {0, 0, 0};  // low < 0.3 <= medium < 0.7 <= high
  // P(alive) alone: ScoreCustomers' CLV part is not needed, so one month.
  const std::vector<CustomerScore> scores =
      ScoreCustomers(in.purchase, {1, 2, 1}, in.customers, 1, 0, 1, 1);
  for (size_t i = 0; i < in.persons.size(); ++i) {
    const PersonSummary& p = in.persons[i];
    // Rounded as stored, so the bands agree with predicted.churn_risk.
    const double a = std::round(scores[i].p_alive * 1e4) / 1e4;
    const double r = std::round((1 - a) * 1e4) / 1e4;
    risks.push_back(r);
    alives.push_back(a);
    ++bands[r < 0.3 ? 0 : r < 0.7 ? 1 : 2];
    alive.values.push_back({p.one_id, Rounded(a, 4)});
    risk.values.push_back({p.one_id, Rounded(r, 4)});
  }
  ModelRun run;
  run.answer = Header("churn", c);
  run.answer["purchase_model"] = FitToJson(in.fit);
  run.answer["customers"] = in.persons.size();
  run.answer["histogram"] = Histogram("churn_risk", risks);
  run.answer["churn_risk"] = Distribution(std::move(risks));
  run.answer["risk_bands"] = {{"low", bands[0]}, {"medium", bands[1]}, {"high", bands[2]}};
  run.answer["p_alive_grid"] = PAliveGrid(in.customers, alives);
  if (c.store) {
    run.traits.push_back(std::move(alive));
    run.traits.push_back(std::move(risk));
  }
  return run;
}

Json ClassifierJson(const std::vector<double>& scores, const std::vector<uint8_t>& labels) {
  return {{"auc", Rounded(Auc(scores, labels), 4)},
          {"top_decile_lift", Rounded(LiftAt(scores, labels, 0.1), 3)}};
}

Result<ModelRun> RunPropensity(const Json& body, const Common& c, const query::QueryContext& ctx,
                               const ModelProgress& progress) {
  ASSIGN_OR_RETURN(const int64_t horizon, ReadDuration(body, "horizon", 30 * kMicrosPerDay));
  ASSIGN_OR_RETURN(const int64_t lookback, ReadDuration(body, "lookback", 365 * kMicrosPerDay));
  ASSIGN_OR_RETURN(const double l2, ReadNumber(body, "l2", 1, 0, 1e9));
  // Train: features at as_of - 2 horizons, labels in the next horizon;
  // test: features at as_of - 1 horizon, labels up to as_of; scoring:
  // features at as_of.
  const int64_t test_cutoff = c.as_of_us - horizon, train_cutoff = test_cutoff - horizon;
  std::string algorithm = "logistic";
  RETURN_IF_ERROR(ReadString(body, "algorithm", &algorithm));
  if (algorithm != "logistic" && algorithm != "gbt") {
    return Status::InvalidArgument("\"algorithm\": unknown algorithm \"" + algorithm +
                                   "\": use logistic or gbt");
  }
  BoostedOptions boosted_options;
  ASSIGN_OR_RETURN(const double trees, ReadNumber(body, "trees", 200, 1, 5000));
  if (trees != std::floor(trees))
    return Status::InvalidArgument("\"trees\" must be a whole number");
  boosted_options.rounds = static_cast<int>(trees);
  if (progress) progress("reading features at the training cutoff");
  ASSIGN_OR_RETURN(FeatureSet train,
                   BehaviourFeatures(ctx, c.data, train_cutoff, lookback, horizon));
  if (progress)
    progress("fitting " + algorithm + " to " + std::to_string(train.rows()) + " persons");
  const size_t width = FeatureSet::Names().size();
  // One of the two models; `predict` scores a FeatureSet with it.
  std::optional<LogisticModel> logistic;
  std::optional<BoostedModel> boosted;
  Status fitted = Status::OK();
  if (algorithm == "logistic") {
    Result<LogisticModel> m = FitLogistic(FeatureSet::Names(), train.values, train.labels, l2);
    if (m.ok()) logistic = std::move(*m);
    fitted = m.status();
  } else {
    Result<BoostedModel> m = BoostedModel::Fit(width, train.values, train.labels, boosted_options);
    if (m.ok()) boosted = std::move(*m);
    fitted = m.status();
  }
  if (!fitted.ok()) {
    if (fitted.code() != StatusCode::kInvalidArgument) return fitted;
    return Status::InvalidArgument("training window ending " + FormatTimestamp(test_cutoff) + ": " +
                                   fitted.message() +
                                   " — more history before as_of, or a shorter horizon, is needed");
  }
  auto predict = [&](const FeatureSet& set) -> Result<std::vector<double>> {
    if (boosted) return boosted->Predict(set.values);
    std::vector<double> out(set.rows());
    for (size_t i = 0; i < set.rows(); ++i) out[i] = logistic->Predict(&set.values[i * width]);
    return out;
  };
  if (progress) progress("validating on the next horizon");
  ASSIGN_OR_RETURN(FeatureSet test, BehaviourFeatures(ctx, c.data, test_cutoff, lookback, horizon));
  ASSIGN_OR_RETURN(const std::vector<double> predicted, predict(test));
  std::vector<double> recency(test.rows());
  for (size_t i = 0; i < test.rows(); ++i)
    recency[i] = -test.recency_days[i];  // recent scores higher
  const auto positives = std::count(test.labels.begin(), test.labels.end(), 1);
  // Each decile's share of positives over the share among all (null
  // without positives).
  const double overall =
      test.rows() ? static_cast<double>(positives) / static_cast<double>(test.rows()) : 0;
  Json calibration = Json::array();
  for (const CalibrationBin& b : CalibrationByRank(predicted, test.labels, 10)) {
    calibration.push_back({{"persons", b.rows},
                           {"predicted", Rounded(b.predicted, 4)},
                           {"actual", Rounded(b.actual, 4)},
                           {"lift", overall > 0 ? Rounded(b.actual / overall, 3) : Json()}});
  }
  Json coefficients = Json::object();
  if (logistic) {
    for (size_t k = 0; k < width; ++k)
      coefficients[logistic->names[k]] = Rounded(logistic->weights[k], 4);
  } else {
    ASSIGN_OR_RETURN(const std::vector<double> gain, boosted->Importance());
    double total = 0;
    for (double g : gain) total += g;
    for (size_t k = 0; k < width; ++k)
      coefficients[FeatureSet::Names()[k]] = Rounded(total > 0 ? gain[k] / total : 0, 4);
  }
  Json test_json = ClassifierJson(predicted, test.labels);
  test_json["cutoff"] = FormatTimestamp(test_cutoff);
  test_json["persons"] = test.rows();
  test_json["positives"] = positives;
  test_json["log_loss"] = Rounded(LogLoss(predicted, test.labels), 4);
  test_json["calibration"] = std::move(calibration);
  test_json["baseline"] = ClassifierJson(recency, test.labels);
  test_json["baseline"]["model"] = "recency only (days since the last order)";

  if (progress) progress("scoring at as_of");
  ASSIGN_OR_RETURN(FeatureSet now, BehaviourFeatures(ctx, c.data, c.as_of_us, lookback, 0));
  const int64_t days = horizon / kMicrosPerDay;
  PredictedTrait trait{"propensity_purchase_" + std::to_string(days) + "d", {}};
  ASSIGN_OR_RETURN(std::vector<double> scores, predict(now));
  for (size_t i = 0; i < now.rows(); ++i)
    trait.values.push_back({now.one_ids[i], Rounded(scores[i], 4)});
  ModelRun run;
  run.answer = Header("propensity", c);
  run.answer["horizon_days"] = days;
  run.answer["lookback_days"] = lookback / kMicrosPerDay;
  run.answer["algorithm"] = algorithm;
  run.answer["features"] = FeatureSet::Names();
  run.answer["train"] = {{"cutoff", FormatTimestamp(train_cutoff)},
                         {"persons", train.rows()},
                         {"positives", std::count(train.labels.begin(), train.labels.end(), 1)}};
  if (logistic) {
    run.answer["l2"] = l2;
    run.answer["coefficients"] = std::move(coefficients);
    run.answer["intercept"] = Rounded(logistic->intercept, 4);
    run.answer["train"]["newton_steps"] = logistic->iterations;
  } else {
    run.answer["trees"] = boosted_options.rounds;
    run.answer["importance"] = std::move(coefficients);  // share of the total split gain
  }
  run.answer["test"] = std::move(test_json);
  run.answer["scored"] = now.rows();
  run.answer["propensity"] = Distribution(std::move(scores));
  if (c.store) run.traits.push_back(std::move(trait));
  return run;
}

Result<ModelRun> RunRecommend(const Json& body, const Common& c, const query::QueryContext& ctx,
                              const ModelProgress& progress) {
  ASSIGN_OR_RETURN(const int64_t window, ReadDuration(body, "window", 365 * kMicrosPerDay));
  ASSIGN_OR_RETURN(const int64_t holdout, ReadDuration(body, "holdout", 30 * kMicrosPerDay));
  RecommendOptions o;
  ASSIGN_OR_RETURN(const double top, ReadNumber(body, "top", 5, 1, 50));
  if (top != std::floor(top)) return Status::InvalidArgument("\"top\" must be a whole number");
  o.top = static_cast<size_t>(top);
  ASSIGN_OR_RETURN(o.view_weight, ReadNumber(body, "view_weight", 0.3, 0, 1));
  // Validation: fitted on the window before the holdout, judged on the
  // holdout's new purchases against the most-bought baseline.
  if (progress)
    progress("validating on the last " + std::to_string(holdout / kMicrosPerDay) + " days");
  ASSIGN_OR_RETURN(
      Interactions before,
      ProductInteractions(ctx, c.data, c.as_of_us - holdout - window, c.as_of_us - holdout));
  ASSIGN_OR_RETURN(Interactions after,
                   ProductInteractions(ctx, c.data, c.as_of_us - holdout, c.as_of_us));
  const ItemSimilarity past = FitItemSimilarity(before, o);
  const HitRate hit = MeasureHitRate(Recommend(past, before, o), past, before, after);
  const HitRate popular = MeasureHitRate(RecommendPopular(past, before, o), past, before, after);

  if (progress) progress("fitting item similarity");
  ASSIGN_OR_RETURN(Interactions data,
                   ProductInteractions(ctx, c.data, c.as_of_us - window, c.as_of_us));
  if (data.rows.empty()) {
    return Status::InvalidArgument("no \"" + c.data.order_event + "\" or \"" + c.data.view_event +
                                   "\" with a " + c.data.product_property +
                                   " in the window before as_of");
  }
  const ItemSimilarity sim = FitItemSimilarity(data, o);
  if (progress) progress("recommending");
  PredictedTrait trait{"next_products", {}};
  size_t pairs = 0;
  for (const auto& list : sim.neighbours) pairs += list.size();
  for (const Recommendation& r : Recommend(sim, data, o)) {
    Json products = Json::array();
    for (uint32_t p : r.products) products.push_back(sim.products[p]);
    trait.values.push_back({r.one_id, std::move(products)});
  }
  ModelRun run;
  run.answer = Header("recommend", c);
  run.answer["product_property"] = c.data.product_property;
  run.answer["view_event"] = c.data.view_event;
  run.answer["window_days"] = window / kMicrosPerDay;
  run.answer["top"] = o.top;
  run.answer["products"] = sim.products.size();
  run.answer["similar_pairs"] = pairs / 2;
  run.answer["persons"] = trait.values.size();
  run.answer["validation"] = {{"holdout_days", holdout / kMicrosPerDay},
                              {"persons", hit.persons},
                              {"hit_rate", Rounded(hit.rate, 4)},
                              {"popular_hit_rate", Rounded(popular.rate, 4)}};
  if (c.store) run.traits.push_back(std::move(trait));
  return run;
}

}  // namespace

std::function<void(int, double)> ThrottledFitProgress(const ModelProgress& progress,
                                                      std::string model, int every_ms) {
  if (!progress) return {};
  struct State {
    std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
    double best = -std::numeric_limits<double>::infinity();
  };
  auto state = std::make_shared<State>();
  return [progress, model = std::move(model), state, every_ms](int evaluations,
                                                               double log_likelihood) {
    if (std::isfinite(log_likelihood)) state->best = std::max(state->best, log_likelihood);
    const auto now = std::chrono::steady_clock::now();
    if (now - state->last < std::chrono::milliseconds(every_ms)) return;
    state->last = now;
    char ll[32];
    std::snprintf(ll, sizeof ll, "%.4f", state->best);
    progress(model + ": evaluation " + std::to_string(evaluations) + ", best log-likelihood " + ll);
  };
}

const std::vector<std::string>& ModelKinds() {
  static const std::vector<std::string> kinds = {"clv", "churn", "propensity", "recommend"};
  return kinds;
}

Json FitToJson(const FitResult& fit) {
  Json params = Json::object();
  for (size_t i = 0; i < fit.params.size(); ++i) {
    const double se = fit.std_errors[i];
    params[fit.names[i]] = {{"value", fit.params[i]},
                            {"std_error", std::isfinite(se) ? Json(se) : Json(nullptr)}};
  }
  return {{"model", fit.model},
          {"customers", fit.customers},
          {"log_likelihood", fit.log_likelihood},
          {"parameters", std::move(params)},
          {"evaluations", fit.evaluations},
          {"at_boundary", fit.at_boundary}};
}

Result<ModelRun> RunModel(std::string_view kind, const Json& body, const query::QueryContext& ctx,
                          int64_t latest_event_us, const ModelProgress& progress) {
  if (!KindFields().count(kind)) {
    return Status::InvalidArgument("unknown model \"" + std::string(kind) +
                                   "\": use clv, churn, propensity or recommend");
  }
  ASSIGN_OR_RETURN(Common c, ParseCommon(kind, body, ctx, latest_event_us));
  if (kind == "clv") return RunClv(body, c, ctx, progress);
  if (kind == "churn") return RunChurn(body, c, ctx, progress);
  if (kind == "propensity") return RunPropensity(body, c, ctx, progress);
  return RunRecommend(body, c, ctx, progress);
}

}  // namespace quanyu::models
