// Buy-till-you-die models (docs/models.md): BG/NBD (Fader, Hardie & Lee
// 2005), MBG/NBD and Pareto/NBD for repeat transactions and Gamma-Gamma (Fader, Hardie & Lee 2005,
// "RFM and CLV") for their value, fitted by maximum likelihood.
//
// A customer is summarized by x (repeat transactions in the calibration
// period), t_x (time of the last one, from the first purchase), T (time from
// the first purchase to the end of the period) and, for Gamma-Gamma, zbar
// (the mean value of the repeat transactions). Any time unit works; the
// literature's CDNOW figures are in weeks.
//
// Fitting: the log-likelihood is summed in log space (log-sum-exp, lgamma)
// and its exact gradient comes from forward-mode dual numbers; NLopt's
// L-BFGS maximizes it over the log of each parameter (so they stay
// positive). Standard errors are the square roots of the diagonal of the
// inverse observed information (the Hessian of -LL, by central differences
// of the exact gradient), inverted with Eigen.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace quanyu::models {

struct CustomerSummary {
  double x = 0;     // repeat transactions (frequency)
  double t_x = 0;   // recency: time of the last repeat transaction, 0 if none
  double T = 0;     // age: time from the first purchase to the end of the period
  double zbar = 0;  // mean value of the repeat transactions (Gamma-Gamma), 0 if none
};

struct FitResult {
  std::string model;               // "bgnbd", "gammagamma"
  std::vector<std::string> names;  // parameter names, e.g. r, alpha, a, b
  std::vector<double> params;
  std::vector<double> std_errors;  // NaN when the information matrix is singular
  double log_likelihood = 0;
  size_t customers = 0;  // customers the fit used
  int evaluations = 0;   // log-likelihood evaluations
  // The optimizer stopped where the likelihood can no longer be evaluated
  // (Pareto/NBD with s and beta running to infinity: dropout rates that
  // barely differ); the parameters are the best point found.
  bool at_boundary = false;
};

// Called after each log-likelihood evaluation of a fit (on the fitting
// thread): the evaluations so far and the last log-likelihood. For
// progress on long fits; the caller throttles what it prints.
using FitProgress = std::function<void(int evaluations, double log_likelihood)>;

// InvalidArgument for no customers, or one with x < 0, t_x < 0, T <= 0,
// t_x > T, or x > 0 with t_x = 0; Internal if the optimizer fails.
Result<FitResult> FitBgNbd(const std::vector<CustomerSummary>& customers,
                           const FitProgress& progress = {});

// MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD with a dropout
// chance right after the first purchase too. Parameters r, alpha, a, b.
Result<FitResult> FitMbgNbd(const std::vector<CustomerSummary>& customers,
                            const FitProgress& progress = {});

// Pareto/NBD (Schmittlein, Morrison & Colombo 1987; the likelihood of
// Fader, Hardie & Lee 2005): parameters r, alpha, s, beta. Errors as
// FitBgNbd.
Result<FitResult> FitParetoNbd(const std::vector<CustomerSummary>& customers,
                               const FitProgress& progress = {});

// Over the customers with x > 0 and zbar > 0 (the others carry no spend
// information). InvalidArgument when there are none, or zbar < 0.
Result<FitResult> FitGammaGamma(const std::vector<CustomerSummary>& customers,
                                const FitProgress& progress = {});

// One customer's BG/NBD log-likelihood at (r, alpha, a, b).
double BgNbdLogLikelihood(const CustomerSummary& c, double r, double alpha, double a, double b);
// One customer's MBG/NBD log-likelihood at (r, alpha, a, b).
double MbgNbdLogLikelihood(const CustomerSummary& c, double r, double alpha, double a, double b);
// One customer's Pareto/NBD log-likelihood at (r, alpha, s, beta).
double ParetoNbdLogLikelihood(const CustomerSummary& c, double r, double alpha, double s,
                              double beta);
// One customer's Gamma-Gamma log-likelihood at (p, q, gamma); x > 0, zbar > 0.
double GammaGammaLogLikelihood(const CustomerSummary& c, double p, double q, double gamma);

// ---- Predictions (Fader, Hardie & Lee 2005; docs/models.md) ----------------------

struct BgNbdParams {
  double r = 0, alpha = 0, a = 0, b = 0;
};
struct GammaGammaParams {
  double p = 0, q = 0, gamma = 0;
};
// The parameters of a FitResult of that model.
BgNbdParams BgNbdOf(const FitResult& fit);
GammaGammaParams GammaGammaOf(const FitResult& fit);

// E[X(t)]: expected transactions of a new customer in (0, t].
double BgNbdExpected(const BgNbdParams& m, double t);
// P(X(t) = n) for a new customer.
double BgNbdProbabilityOfPurchases(const BgNbdParams& m, double t, int n);
// P(alive at T | x, t_x, T).
double BgNbdProbabilityAlive(const BgNbdParams& m, const CustomerSummary& c);
// E[Y(t) | x, t_x, T]: expected transactions in (T, T + t].
double BgNbdConditionalExpected(const BgNbdParams& m, const CustomerSummary& c, double t);
// E[M | zbar, x]: expected value of the customer's future transactions
// (the population mean p·gamma/(q-1) for x = 0). Needs q > 1.
double GammaGammaConditionalSpend(const GammaGammaParams& m, const CustomerSummary& c);

// Any of the three purchase-process models, for the predictions every one
// of them makes (docs/models.md, "Predictions").
struct PurchaseModel {
  std::string model;                      // "bgnbd", "mbgnbd" or "paretonbd"
  double r = 0, alpha = 0, a = 0, b = 0;  // Pareto/NBD: a = s, b = beta
};
// The model of a bgnbd, mbgnbd or paretonbd fit; InvalidArgument otherwise.
Result<PurchaseModel> PurchaseModelOf(const FitResult& fit);
// E[X(t)] of a new customer.
double ExpectedPurchases(const PurchaseModel& m, double t);
// P(alive at T | x, t_x, T).
double ProbabilityAlive(const PurchaseModel& m, const CustomerSummary& c);
// E[Y(t) | x, t_x, T]: expected transactions in (T, T + t].
double ConditionalExpected(const PurchaseModel& m, const CustomerSummary& c, double t);

// Customer lifetime value over `months` months of 30 days: the expected
// transactions of each month (ConditionalExpected), discounted by
// (1 + monthly_discount)^month, times the expected spend, times `margin`.
// `unit_days`: the summary's time unit in days (7 for weeks).
double CustomerLifetimeValue(const PurchaseModel& m, const GammaGammaParams& gg,
                             const CustomerSummary& c, int months, double monthly_discount,
                             double margin, double unit_days);

// P(alive) and CLV (as CustomerLifetimeValue) of many customers at once:
// the purchase model's part is computed once per distinct (x, t_x, T) — few
// when times come in whole days. Same order as `customers`.
struct CustomerScore {
  double p_alive = 0;
  double clv = 0;
};
std::vector<CustomerScore> ScoreCustomers(const PurchaseModel& m, const GammaGammaParams& gg,
                                          const std::vector<CustomerSummary>& customers, int months,
                                          double monthly_discount, double margin, double unit_days);

// The Gauss hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1, by its
// series (to 1e-15 relative).
double Hyp2F1(double a, double b, double c, double z);

// Per-customer summaries from transactions (customer, date, value): a
// customer's purchases on one day are one transaction (values summed); x
// counts the days after the first, t_x and T run from the first purchase
// to the last and to `end`, in units of `unit_days` (7: weeks, as the
// literature); zbar is the mean value of the repeat transactions.
// `end` is the calibration period's last day (a day number, days since
// 1970-01-01), INT64_MIN for the last transaction's day; later transactions
// are left out (a holdout), and so are customers whose first purchase is
// on or after it (T = 0 tells nothing).
struct TransactionsInput {
  int64_t end_day = INT64_MIN;
  double unit_days = 7;
  // With a holdout: its last day; SummariesFromTransactions then also
  // counts each customer's transaction days in (end, holdout_end].
  int64_t holdout_end_day = INT64_MIN;
};
struct Transaction {
  std::string customer;
  int64_t day = 0;  // days since 1970-01-01
  double value = 0;
};
// One customer's purchases, sorted by day.
struct DayValue {
  int64_t day = 0;  // days since 1970-01-01 (local)
  double value = 0;
};
// One customer's summary at the end of `end_day` from their purchases
// sorted by day (non-empty, the first before end_day), as
// SummariesFromTransactions: days after end_day are left out.
CustomerSummary SummarizeDays(std::span<const DayValue> days, int64_t end_day, double unit_days);

Result<std::vector<CustomerSummary>> SummariesFromTransactions(
    std::vector<Transaction> transactions, const TransactionsInput& input,
    std::vector<std::string>* customer_ids = nullptr, std::vector<double>* holdout = nullptr);

// The calibration / holdout comparison by calibration frequency (Fader,
// Hardie & Lee 2005, fig. 4): for x = 0 .. 6 and "7+", how many customers,
// their mean transactions in the holdout and the BG/NBD mean prediction
// (conditional expected transactions over the holdout's length t).
struct HoldoutRow {
  std::string frequency;  // "0" .. "6", "7+"
  size_t customers = 0;
  double actual = 0;     // mean holdout transactions
  double predicted = 0;  // mean E[Y(t) | x, t_x, T]
};
std::vector<HoldoutRow> HoldoutComparison(const BgNbdParams& m,
                                          const std::vector<CustomerSummary>& customers,
                                          const std::vector<double>& holdout, double t);

// Transactions from CSV with a header naming customer (or customer_id, id),
// date (YYYY-MM-DD, YYYYMMDD or RFC 3339) and optionally value (or
// monetary, revenue, amount). InvalidArgument naming the line and field.
Result<std::vector<Transaction>> ReadTransactionsCsv(const std::string& text);

// Reads per-customer summaries from CSV with a header naming the columns:
// frequency or x; recency or t_x; T; optionally zbar or monetary (an ID
// column and others are ignored). InvalidArgument naming the line and field
// for a missing column, a non-number, or an inconsistent customer.
Result<std::vector<CustomerSummary>> ReadSummariesCsv(const std::string& text);

}  // namespace quanyu::models
