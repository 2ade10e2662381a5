#include "models/btyd.h"

#include <nlopt.h>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <sstream>
#include <unordered_map>

#include "common/time_util.h"

namespace quanyu::models {
namespace {

// ---- Forward-mode dual numbers: a value and its derivatives ----------------------------

template <size_t N>
struct Dual {
  double v = 0;
  std::array<double, N> d{};
};

template <size_t N>
Dual<N> Constant(double v) {
  return {v, {}};
}
template <size_t N>
Dual<N> Variable(double v, size_t i) {
  Dual<N> x{v, {}};
  x.d[i] = 1;
  return x;
}
template <size_t N>
Dual<N> operator+(Dual<N> a, const Dual<N>& b) {
  a.v += b.v;
  for (size_t i = 0; i < N; ++i) a.d[i] += b.d[i];
  return a;
}
template <size_t N>
Dual<N> operator-(Dual<N> a, const Dual<N>& b) {
  a.v -= b.v;
  for (size_t i = 0; i < N; ++i) a.d[i] -= b.d[i];
  return a;
}
template <size_t N>
Dual<N> operator+(Dual<N> a, double b) {
  a.v += b;
  return a;
}
template <size_t N>
Dual<N> operator-(Dual<N> a, double b) {
  a.v -= b;
  return a;
}
template <size_t N>
Dual<N> operator*(const Dual<N>& a, const Dual<N>& b) {
  Dual<N> c{a.v * b.v, {}};
  for (size_t i = 0; i < N; ++i) c.d[i] = a.d[i] * b.v + a.v * b.d[i];
  return c;
}
template <size_t N>
Dual<N> operator*(Dual<N> a, double b) {
  a.v *= b;
  for (auto& x : a.d) x *= b;
  return a;
}
// f(a) with f'(a) = slope.
template <size_t N>
Dual<N> Chain(const Dual<N>& a, double value, double slope) {
  Dual<N> c{value, {}};
  for (size_t i = 0; i < N; ++i) c.d[i] = a.d[i] * slope;
  return c;
}

double Digamma(double x) {
  double result = 0;
  while (x < 6) {
    result -= 1 / x;
    x += 1;
  }
  const double f = 1 / (x * x);
  return result + std::log(x) - 0.5 / x -
         f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
}

template <size_t N>
Dual<N> operator/(const Dual<N>& a, const Dual<N>& b) {
  Dual<N> c{a.v / b.v, {}};
  for (size_t i = 0; i < N; ++i) c.d[i] = (a.d[i] * b.v - a.v * b.d[i]) / (b.v * b.v);
  return c;
}
template <size_t N>
Dual<N> Exp(const Dual<N>& a) {
  const double e = std::exp(a.v);
  return Chain(a, e, e);
}
// 2F1(a, b; c; z) by its series, carried through the duals (0 <= z < 1).
// NaN past kMaxSeriesTerms terms (z within about 1e-2 of 1: parameters so
// far apart that the optimizer should step back, which a NaN makes it do).
// Pareto/NBD fitted to customers whose dropout rates barely differ runs
// s and beta toward infinity, where z nears 1; the cap keeps each step
// cheap and the fit stops at the edge (FitResult::at_boundary).
constexpr int kMaxSeriesTerms = 4000;
template <size_t N>
Dual<N> Hyp2F1Dual(const Dual<N>& a, const Dual<N>& b, const Dual<N>& c, const Dual<N>& z) {
  Dual<N> term = Constant<N>(1), sum = Constant<N>(1);
  for (int k = 0; k < kMaxSeriesTerms; ++k) {
    term = term * ((a + k) * (b + k) / ((c + k) * (k + 1.0))) * z;
    sum = sum + term;
    if (std::abs(term.v) <= 1e-15 * std::abs(sum.v)) return sum;
  }
  return Constant<N>(std::numeric_limits<double>::quiet_NaN());
}
template <size_t N>
Dual<N> Log(const Dual<N>& a) {
  return Chain(a, std::log(a.v), 1 / a.v);
}
template <size_t N>
Dual<N> LogGamma(const Dual<N>& a) {
  return Chain(a, std::lgamma(a.v), Digamma(a.v));
}
// log(e^a + e^b), stable.
template <size_t N>
Dual<N> LogSumExp(const Dual<N>& a, const Dual<N>& b) {
  const double m = std::max(a.v, b.v);
  const double ea = std::exp(a.v - m), eb = std::exp(b.v - m), s = ea + eb;
  Dual<N> c{m + std::log(s), {}};
  for (size_t i = 0; i < N; ++i) c.d[i] = (ea * a.d[i] + eb * b.d[i]) / s;
  return c;
}

// ---- The models' per-customer log-likelihoods ---------------------------------------

template <size_t N>
Dual<N> BgNbd(const CustomerSummary& c, const Dual<N>& r, const Dual<N>& alpha, const Dual<N>& a,
              const Dual<N>& b) {
  const double x = c.x;
  const Dual<N> a1 = LogGamma(r + x) - LogGamma(r) + r * Log(alpha);
  const Dual<N> a2 = LogGamma(a + b) + LogGamma(b + x) - LogGamma(b) - LogGamma(a + b + x);
  const Dual<N> a3 = (r + x) * Log(alpha + c.T) * -1.0;
  if (x <= 0) return a1 + a2 + a3;
  const Dual<N> a4 = Log(a) - Log(b + (x - 1)) - (r + x) * Log(alpha + c.t_x);
  return a1 + a2 + LogSumExp(a3, a4);
}

// MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD in which a customer
// may also drop out right after the first purchase, so x = 0 carries a
// dropout term too:
//   L = B(a, b+x+1)/B(a, b) G(r+x) a^r / (G(r) (a+T)^(r+x))
//     + B(a+1, b+x)/B(a, b) G(r+x) a^r / (G(r) (a+t_x)^(r+x)).
template <size_t N>
Dual<N> MbgNbd(const CustomerSummary& c, const Dual<N>& r, const Dual<N>& alpha, const Dual<N>& a,
               const Dual<N>& b) {
  const double x = c.x;
  const Dual<N> a1 = LogGamma(r + x) - LogGamma(r) + r * Log(alpha);
  const Dual<N> a2 =
      LogGamma(a + b) + LogGamma(b + (x + 1)) - LogGamma(b) - LogGamma(a + b + (x + 1));
  const Dual<N> a3 = (r + x) * Log(alpha + c.T) * -1.0;
  const Dual<N> a4 = Log(a) - Log(b + x) - (r + x) * Log(alpha + c.t_x);
  return a1 + a2 + LogSumExp(a3, a4);
}

// Pareto/NBD (Fader, Hardie & Lee 2005, "A note on deriving the Pareto/NBD
// model"): lifetimes ~ Exp(mu), mu ~ Gamma(s, beta); purchases ~ Poisson
// while alive, lambda ~ Gamma(r, alpha).
//   L = G(r+x) a^r b^s / G(r) [ 1/((a+T)^(r+x) (b+T)^s) + s/(r+s+x) A0 ]
// with A0 = F(t_x)/(m+t_x)^(r+s+x) - F(T)/(m+T)^(r+s+x), m = max(alpha, beta),
// F(t) = 2F1(r+s+x, s+1 or r+x; r+s+x+1; |alpha-beta|/(m+t)) (summed after
// Euler's transformation, below); the
// difference in log space (log(1 - e^d)), so t_x near T loses no digits.
template <size_t N>
Dual<N> ParetoNbd(const CustomerSummary& c, const Dual<N>& r, const Dual<N>& alpha,
                  const Dual<N>& s, const Dual<N>& beta) {
  const double x = c.x;
  const Dual<N> rsx = r + s + x;
  const bool alpha_larger = alpha.v >= beta.v;
  const Dual<N>& m = alpha_larger ? alpha : beta;
  const Dual<N> diff = alpha_larger ? alpha - beta : beta - alpha;
  const Dual<N> second = alpha_larger ? s + 1.0 : r + x;
  const Dual<N>& lower = alpha_larger ? beta : alpha;
  // Euler's transformation, 2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z):
  // the second series' terms shrink by (a+1-b+k)/(a+1+k)·z, never more slowly
  // than z^k, and fast when alpha and beta are far apart because s (or
  // r + x) is large — the regime where z nears 1 and the plain series needs
  // tens of thousands of terms. 1 - z = (min(alpha, beta) + t) / (m + t).
  auto log_f = [&](double t) {
    const Dual<N> mt = m + t;
    const Dual<N> log_one_minus_z = Log(lower + t) - Log(mt);
    const Dual<N> series = Hyp2F1Dual(Constant<N>(1), rsx + 1.0 - second, rsx + 1.0, diff / mt);
    return (second - 1.0) * log_one_minus_z * -1.0 + Log(series) - rsx * Log(mt);
  };
  const Dual<N> head = LogGamma(r + x) - LogGamma(r) + r * Log(alpha) + s * Log(beta);
  const Dual<N> alive = (r + x) * Log(alpha + c.T) * -1.0 - s * Log(beta + c.T);
  if (c.T - c.t_x <= 0) return head + alive;  // A0 = 0
  const Dual<N> f_tx = log_f(c.t_x), f_T = log_f(c.T);
  // log A0 = f_tx + log(1 - e^(f_T - f_tx)).
  const Dual<N> d = f_T - f_tx;
  const double e = std::exp(d.v);
  const Dual<N> log_a0 = f_tx + Chain(d, std::log1p(-e), -e / (1 - e));
  return head + LogSumExp(alive, Log(s) - Log(rsx) + log_a0);
}

template <size_t N>
Dual<N> GammaGamma(const CustomerSummary& c, const Dual<N>& p, const Dual<N>& q,
                   const Dual<N>& gamma) {
  const double x = c.x, m = c.zbar;
  const Dual<N> px = p * x;
  return LogGamma(px + q) - LogGamma(px) - LogGamma(q) + q * Log(gamma) + (px - 1.0) * std::log(m) +
         px * std::log(x) - (px + q) * Log(gamma + x * m);
}

// ---- Maximum likelihood ------------------------------------------------------------

// The summed log-likelihood and its gradient at params (all > 0).
template <size_t N>
using Objective = std::function<Dual<N>(const std::array<Dual<N>, N>&)>;

template <size_t N>
struct Problem {
  Objective<N> ll;
  int evaluations = 0;
  double scale = 1;  // 1 / customers: NLopt sees the mean, better conditioned
  const FitProgress* progress = nullptr;
};

template <size_t N>
Dual<N> Evaluate(Problem<N>& problem, const double* params) {
  std::array<Dual<N>, N> x;
  for (size_t i = 0; i < N; ++i) x[i] = Variable<N>(params[i], i);
  ++problem.evaluations;
  return problem.ll(x);
}

// NLopt's objective over theta = log(params).
template <size_t N>
double NloptObjective(unsigned n, const double* theta, double* grad, void* data) {
  auto* problem = static_cast<Problem<N>*>(data);
  std::array<double, N> p;
  for (size_t i = 0; i < n; ++i) p[i] = std::exp(theta[i]);
  const Dual<N> ll = Evaluate(*problem, p.data());
  if (problem->progress && *problem->progress) (*problem->progress)(problem->evaluations, ll.v);
  if (!std::isfinite(ll.v)) {
    if (grad) std::fill(grad, grad + n, 0.0);
    return -1e300;
  }
  if (grad) {
    for (size_t i = 0; i < n; ++i) grad[i] = ll.d[i] * p[i] * problem->scale;
  }
  return ll.v * problem->scale;
}

template <size_t N>
Result<FitResult> Maximize(std::string model, std::vector<std::string> names, Problem<N> problem,
                           std::array<double, N> start, size_t customers) {
  problem.scale = 1.0 / static_cast<double>(customers);
  nlopt_opt opt = nlopt_create(NLOPT_LD_LBFGS, N);
  nlopt_set_max_objective(opt, NloptObjective<N>, &problem);
  nlopt_set_ftol_rel(opt, 1e-13);
  nlopt_set_xtol_rel(opt, 1e-11);
  nlopt_set_maxeval(opt, 20000);
  std::array<double, N> theta;
  for (size_t i = 0; i < N; ++i) theta[i] = std::log(start[i]);
  double best = 0;
  const nlopt_result rc = nlopt_optimize(opt, theta.data(), &best);
  nlopt_destroy(opt);
  FitResult fit;
  // A generic failure after finite progress: the line search met the
  // region where the likelihood cannot be evaluated (see kMaxSeriesTerms);
  // theta holds the best point found.
  fit.at_boundary = rc == NLOPT_FAILURE && std::isfinite(best) && best > -1e299;
  if (rc < 0 && rc != NLOPT_ROUNDOFF_LIMITED && !fit.at_boundary) {
    return Status::Internal(model + ": the optimizer failed (NLopt code " + std::to_string(rc) +
                            ")");
  }
  fit.model = std::move(model);
  fit.names = std::move(names);
  fit.customers = customers;
  std::array<double, N> p;
  for (size_t i = 0; i < N; ++i) p[i] = std::exp(theta[i]);
  fit.params.assign(p.begin(), p.end());
  fit.log_likelihood = Evaluate(problem, p.data()).v;

  // Observed information: -d2 LL / dp2 by central differences of the exact
  // gradient.
  Eigen::Matrix<double, N, N> info;
  for (size_t j = 0; j < N; ++j) {
    const double h = 1e-5 * p[j];
    std::array<double, N> up = p, down = p;
    up[j] += h;
    down[j] -= h;
    const Dual<N> gu = Evaluate(problem, up.data()), gd = Evaluate(problem, down.data());
    for (size_t i = 0; i < N; ++i) info(i, j) = -(gu.d[i] - gd.d[i]) / (2 * h);
  }
  info = (info + info.transpose()) / 2;
  Eigen::FullPivLU<Eigen::Matrix<double, N, N>> lu(info);
  fit.std_errors.assign(N, std::numeric_limits<double>::quiet_NaN());
  if (lu.isInvertible()) {
    const Eigen::Matrix<double, N, N> cov = lu.inverse();
    for (size_t i = 0; i < N; ++i) {
      if (cov(i, i) >= 0) fit.std_errors[i] = std::sqrt(cov(i, i));
    }
  }
  fit.evaluations = problem.evaluations;
  return fit;
}

// Comma-separated cells, trimmed (no quoting: ids, dates and numbers).
std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream ls(line);
  while (std::getline(ls, cell, ',')) {
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
    while (!cell.empty() && cell.front() == ' ') cell.erase(cell.begin());
    out.push_back(cell);
  }
  return out;
}

Status CheckCustomer(const CustomerSummary& c, size_t i) {
  const std::string at = "customer " + std::to_string(i + 1) + ": ";
  if (!(c.x >= 0) || !(c.t_x >= 0) || !(c.T > 0) || !std::isfinite(c.x + c.t_x + c.T)) {
    return Status::InvalidArgument(at + "needs frequency >= 0, recency >= 0 and T > 0");
  }
  if (c.t_x > c.T) return Status::InvalidArgument(at + "recency is after T");
  if (c.x > 0 && c.t_x <= 0)
    return Status::InvalidArgument(at + "repeat transactions but recency 0");
  if (!(c.zbar >= 0)) return Status::InvalidArgument(at + "monetary value must be >= 0");
  return Status::OK();
}

// A four-parameter purchase model fitted on the customers grouped by
// (x, t_x, T): `term` is one customer's log-likelihood, `start` the first
// guess given the mean purchase rate.
template <typename Term, typename Start>
Result<FitResult> FitGrouped(const std::string& model, std::vector<std::string> names,
                             const std::vector<CustomerSummary>& customers, Term term, Start start,
                             const FitProgress& progress) {
  if (customers.empty()) return Status::InvalidArgument(model + ": no customers");
  std::map<std::array<double, 3>, double> groups;
  double mean_x = 0, mean_T = 0;
  for (size_t i = 0; i < customers.size(); ++i) {
    RETURN_IF_ERROR(CheckCustomer(customers[i], i));
    groups[{customers[i].x, customers[i].t_x, customers[i].T}] += 1;
    mean_x += customers[i].x;
    mean_T += customers[i].T;
  }
  auto terms = std::make_shared<std::vector<std::pair<CustomerSummary, double>>>();
  for (const auto& [k, n] : groups) terms->push_back({{k[0], k[1], k[2], 0}, n});
  Problem<4> problem;
  problem.progress = &progress;
  problem.ll = [terms, term](const std::array<Dual<4>, 4>& p) {
    Dual<4> sum = Constant<4>(0);
    for (const auto& [c, n] : *terms) sum = sum + term(c, p) * n;
    return sum;
  };
  const double rate = std::max(mean_x, 0.1) / mean_T;
  return Maximize<4>(model, std::move(names), std::move(problem), start(rate), customers.size());
}

}  // namespace

double BgNbdLogLikelihood(const CustomerSummary& c, double r, double alpha, double a, double b) {
  return BgNbd<1>(c, Constant<1>(r), Constant<1>(alpha), Constant<1>(a), Constant<1>(b)).v;
}

double MbgNbdLogLikelihood(const CustomerSummary& c, double r, double alpha, double a, double b) {
  return MbgNbd<1>(c, Constant<1>(r), Constant<1>(alpha), Constant<1>(a), Constant<1>(b)).v;
}

Result<FitResult> FitMbgNbd(const std::vector<CustomerSummary>& customers,
                            const FitProgress& progress) {
  return FitGrouped(
      "mbgnbd", {"r", "alpha", "a", "b"}, customers,
      [](const CustomerSummary& c, const std::array<Dual<4>, 4>& p) {
        return MbgNbd(c, p[0], p[1], p[2], p[3]);
      },
      [](double rate) {
        return std::array<double, 4>{1.0, 1.0 / rate, 1.0, 1.0};
      },
      progress);
}

double ParetoNbdLogLikelihood(const CustomerSummary& c, double r, double alpha, double s,
                              double beta) {
  return ParetoNbd<1>(c, Constant<1>(r), Constant<1>(alpha), Constant<1>(s), Constant<1>(beta)).v;
}

Result<FitResult> FitParetoNbd(const std::vector<CustomerSummary>& customers,
                               const FitProgress& progress) {
  return FitGrouped(
      "paretonbd", {"r", "alpha", "s", "beta"}, customers,
      [](const CustomerSummary& c, const std::array<Dual<4>, 4>& p) {
        return ParetoNbd(c, p[0], p[1], p[2], p[3]);
      },
      // alpha = beta at the start: every 2F1 argument is 0 there.
      [](double rate) {
        return std::array<double, 4>{1.0, 1.0 / rate, 1.0, 1.0 / rate};
      },
      progress);
}

double GammaGammaLogLikelihood(const CustomerSummary& c, double p, double q, double gamma) {
  return GammaGamma<1>(c, Constant<1>(p), Constant<1>(q), Constant<1>(gamma)).v;
}

Result<FitResult> FitBgNbd(const std::vector<CustomerSummary>& customers,
                           const FitProgress& progress) {
  if (customers.empty()) return Status::InvalidArgument("bgnbd: no customers");
  // Customers with the same (x, t_x, T) share a term: counted once, weighted.
  // Sorted, so the terms of one x are adjacent.
  std::vector<std::array<double, 3>> keys;
  keys.reserve(customers.size());
  double mean_x = 0, mean_T = 0;
  for (size_t i = 0; i < customers.size(); ++i) {
    RETURN_IF_ERROR(CheckCustomer(customers[i], i));
    keys.push_back({customers[i].x, customers[i].t_x, customers[i].T});
    mean_x += customers[i].x;
    mean_T += customers[i].T;
  }
  std::sort(keys.begin(), keys.end());
  struct Term {
    double t_x, T, n;
  };
  struct ByX {
    double x, n = 0;  // customers with this x
    std::vector<Term> terms;
  };
  std::vector<ByX> by_x;
  for (size_t i = 0; i < keys.size();) {
    size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    if (by_x.empty() || by_x.back().x != keys[i][0]) by_x.push_back({keys[i][0], 0, {}});
    by_x.back().n += static_cast<double>(j - i);
    by_x.back().terms.push_back({keys[i][1], keys[i][2], static_cast<double>(j - i)});
    i = j;
  }
  mean_x /= static_cast<double>(customers.size());
  mean_T /= static_cast<double>(customers.size());
  const double total = static_cast<double>(customers.size());
  Problem<4> problem;
  problem.progress = &progress;
  // The terms of BgNbd() regrouped: what depends on no customer once, what
  // depends on x once per x, the rest per (x, t_x, T).
  problem.ll = [&by_x, total](const std::array<Dual<4>, 4>& p) {
    const Dual<4>&r = p[0], &alpha = p[1], &a = p[2], &b = p[3];
    Dual<4> sum = (r * Log(alpha) - LogGamma(r) + LogGamma(a + b) - LogGamma(b)) * total;
    const Dual<4> log_a = Log(a);
    for (const ByX& g : by_x) {
      const double x = g.x;
      sum = sum + (LogGamma(r + x) + LogGamma(b + x) - LogGamma(a + b + x)) * g.n;
      const Dual<4> rx = r + x;
      const Dual<4> dropout = x > 0 ? log_a - Log(b + (x - 1)) : Constant<4>(0);
      for (const Term& t : g.terms) {
        const Dual<4> a3 = rx * Log(alpha + t.T) * -1.0;
        if (x <= 0) {
          sum = sum + a3 * t.n;
        } else {
          const Dual<4> a4 = dropout - rx * Log(alpha + t.t_x);
          sum = sum + LogSumExp(a3, a4) * t.n;
        }
      }
    }
    return sum;
  };
  // Start where a Poisson with the observed rate would be, with mild dropout.
  const double rate = std::max(mean_x, 0.1) / mean_T;
  return Maximize<4>("bgnbd", {"r", "alpha", "a", "b"}, std::move(problem),
                     {1.0, 1.0 / rate, 1.0, 1.0}, customers.size());
}

Result<FitResult> FitGammaGamma(const std::vector<CustomerSummary>& customers,
                                const FitProgress& progress) {
  // Per customer with x > 0 and zbar > 0: x, zbar and ln zbar, sorted by x.
  struct Spend {
    double x, zbar, log_zbar;
  };
  std::vector<Spend> repeat;
  double mean = 0;
  for (size_t i = 0; i < customers.size(); ++i) {
    RETURN_IF_ERROR(CheckCustomer(customers[i], i));
    if (customers[i].x > 0 && customers[i].zbar > 0) {
      repeat.push_back({customers[i].x, customers[i].zbar, std::log(customers[i].zbar)});
      mean += customers[i].zbar;
    }
  }
  if (repeat.empty()) {
    return Status::InvalidArgument("gammagamma: no customer has repeat transactions with a value");
  }
  mean /= static_cast<double>(repeat.size());
  std::sort(repeat.begin(), repeat.end(), [](const Spend& a, const Spend& b) { return a.x < b.x; });
  Problem<3> problem;
  problem.progress = &progress;
  // GammaGamma() regrouped: the Gamma functions once per distinct x.
  problem.ll = [&repeat](const std::array<Dual<3>, 3>& p) {
    const Dual<3>&pp = p[0], &q = p[1], &gamma = p[2];
    Dual<3> sum = (q * Log(gamma) - LogGamma(q)) * static_cast<double>(repeat.size());
    for (size_t i = 0; i < repeat.size();) {
      const double x = repeat[i].x;
      size_t j = i;
      while (j < repeat.size() && repeat[j].x == x) ++j;
      const Dual<3> px = pp * x, pxq = px + q;
      sum = sum + (LogGamma(pxq) - LogGamma(px) + px * std::log(x)) * static_cast<double>(j - i);
      for (size_t k = i; k < j; ++k) {
        sum = sum + (px - 1.0) * repeat[k].log_zbar - pxq * Log(gamma + x * repeat[k].zbar);
      }
      i = j;
    }
    return sum;
  };
  return Maximize<3>("gammagamma", {"p", "q", "gamma"}, std::move(problem), {1.0, 1.0, mean},
                     repeat.size());
}

// ---- Predictions ------------------------------------------------------------------

BgNbdParams BgNbdOf(const FitResult& fit) {
  return {fit.params.at(0), fit.params.at(1), fit.params.at(2), fit.params.at(3)};
}

GammaGammaParams GammaGammaOf(const FitResult& fit) {
  return {fit.params.at(0), fit.params.at(1), fit.params.at(2)};
}

double Hyp2F1(double a, double b, double c, double z) {
  double term = 1, sum = 1;
  for (int k = 0; k < 1'000'000; ++k) {
    term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
    sum += term;
    if (std::abs(term) <= 1e-15 * std::abs(sum)) break;
  }
  return sum;
}

double BgNbdExpected(const BgNbdParams& m, double t) {
  const double z = t / (m.alpha + t);
  return (m.a + m.b - 1) / (m.a - 1) *
         (1 - std::pow(m.alpha / (m.alpha + t), m.r) * Hyp2F1(m.r, m.b, m.a + m.b - 1, z));
}

double BgNbdProbabilityOfPurchases(const BgNbdParams& m, double t, int n) {
  const double x = n;
  const double log_beta_ab = std::lgamma(m.a) + std::lgamma(m.b) - std::lgamma(m.a + m.b);
  const double log_ratio = std::log(m.alpha / (m.alpha + t)), log_z = std::log(t / (m.alpha + t));
  // Alive through t with n purchases.
  double p = std::exp(std::lgamma(m.a) + std::lgamma(m.b + x) - std::lgamma(m.a + m.b + x) -
                      log_beta_ab + std::lgamma(m.r + x) - std::lgamma(m.r) - std::lgamma(x + 1) +
                      m.r * log_ratio + (x > 0 ? x * log_z : 0));
  if (n > 0) {  // dropped out right after the n-th purchase
    double partial = 0;
    for (int j = 0; j < n; ++j) {
      partial += std::exp(std::lgamma(m.r + j) - std::lgamma(m.r) - std::lgamma(j + 1.0) +
                          m.r * log_ratio + (j > 0 ? j * log_z : 0));
    }
    p += std::exp(std::lgamma(m.a + 1) + std::lgamma(m.b + x - 1) - std::lgamma(m.a + m.b + x) -
                  log_beta_ab) *
         (1 - partial);
  }
  return p;
}

namespace {
// The expected time alive in the next t of a customer alive now whose
// dropout rate is Gamma(s, beta): beta / (s - 1) [1 - (beta / (beta + t))^(s-1)]
// (beta log(1 + t / beta) at s = 1).
double LifetimeFactor(double s, double beta, double t) {
  const double log_y = std::log(beta / (beta + t));
  if (std::abs(s - 1) < 1e-9) return -beta * log_y;
  return -beta * std::expm1((s - 1) * log_y) / (s - 1);
}

// 1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x): P(alive)'s denominator.
double AliveOdds(const BgNbdParams& m, const CustomerSummary& c) {
  if (c.x <= 0) return 1;
  return 1 + m.a / (m.b + c.x - 1) *
                 std::exp((m.r + c.x) * (std::log(m.alpha + c.T) - std::log(m.alpha + c.t_x)));
}
}  // namespace

double BgNbdProbabilityAlive(const BgNbdParams& m, const CustomerSummary& c) {
  return 1 / AliveOdds(m, c);
}

double BgNbdConditionalExpected(const BgNbdParams& m, const CustomerSummary& c, double t) {
  const double x = c.x, at = m.alpha + c.T;
  const double f = 1 - std::pow(at / (at + t), m.r + x) *
                           Hyp2F1(m.r + x, m.b + x, m.a + m.b + x - 1, t / (at + t));
  return (m.a + m.b + x - 1) / (m.a - 1) * f / AliveOdds(m, c);
}

double GammaGammaConditionalSpend(const GammaGammaParams& m, const CustomerSummary& c) {
  const double x = c.x > 0 && c.zbar > 0 ? c.x : 0;
  const double population = m.p * m.gamma / (m.q - 1);
  const double w = (m.q - 1) / (m.p * x + m.q - 1);
  return w * population + (1 - w) * (x > 0 ? c.zbar : 0);
}

Result<PurchaseModel> PurchaseModelOf(const FitResult& fit) {
  if ((fit.model != "bgnbd" && fit.model != "mbgnbd" && fit.model != "paretonbd") ||
      fit.params.size() != 4) {
    return Status::InvalidArgument("not a purchase-process model: " + fit.model);
  }
  return PurchaseModel{fit.model, fit.params[0], fit.params[1], fit.params[2], fit.params[3]};
}

double ExpectedPurchases(const PurchaseModel& m, double t) {
  if (m.model == "bgnbd") return BgNbdExpected({m.r, m.alpha, m.a, m.b}, t);
  if (m.model == "mbgnbd") {
    return m.b / (m.a - 1) *
           (1 - std::pow(m.alpha / (m.alpha + t), m.r) *
                    Hyp2F1(m.r, m.b + 1, m.a + m.b, t / (m.alpha + t)));
  }
  // Pareto/NBD: r beta / (alpha (s - 1)) [1 - (beta / (beta + t))^(s-1)].
  return m.r / m.alpha * LifetimeFactor(m.a, m.b, t);
}

double ProbabilityAlive(const PurchaseModel& m, const CustomerSummary& c) {
  if (m.model == "bgnbd") return BgNbdProbabilityAlive({m.r, m.alpha, m.a, m.b}, c);
  if (m.model == "mbgnbd") {
    return 1 /
           (1 + m.a / (m.b + c.x) *
                    std::exp((m.r + c.x) * (std::log(m.alpha + c.T) - std::log(m.alpha + c.t_x))));
  }
  // Pareto/NBD: the alive term's share of the likelihood.
  const double log_front =
      std::lgamma(m.r + c.x) - std::lgamma(m.r) + m.r * std::log(m.alpha) + m.a * std::log(m.b);
  const double log_alive = -(m.r + c.x) * std::log(m.alpha + c.T) - m.a * std::log(m.b + c.T);
  return std::min(
      1.0, std::exp(log_front + log_alive - ParetoNbdLogLikelihood(c, m.r, m.alpha, m.a, m.b)));
}

double ConditionalExpected(const PurchaseModel& m, const CustomerSummary& c, double t) {
  if (m.model == "bgnbd") return BgNbdConditionalExpected({m.r, m.alpha, m.a, m.b}, c, t);
  const double x = c.x, at = m.alpha + c.T;
  if (m.model == "mbgnbd") {
    const double f = 1 - std::pow(at / (at + t), m.r + x) *
                             Hyp2F1(m.r + x, m.b + x + 1, m.a + m.b + x, t / (at + t));
    return (m.a + m.b + x) / (m.a - 1) * f * ProbabilityAlive(m, c);
  }
  // Pareto/NBD: P(alive) (r + x) / (alpha + T) times the expected time
  // alive in (T, T + t], (beta + T) / (s - 1) [1 - ((beta+T)/(beta+T+t))^(s-1)].
  return ProbabilityAlive(m, c) * (m.r + x) / at * LifetimeFactor(m.a, m.b + c.T, t);
}

double CustomerLifetimeValue(const PurchaseModel& m, const GammaGammaParams& gg,
                             const CustomerSummary& c, int months, double monthly_discount,
                             double margin, double unit_days) {
  const double month = 30 / unit_days;  // a month in the summary's unit
  double value = 0, before = 0;
  for (int i = 1; i <= months; ++i) {
    const double upto = ConditionalExpected(m, c, month * i);
    value += (upto - before) / std::pow(1 + monthly_discount, i);
    before = upto;
  }
  return value * GammaGammaConditionalSpend(gg, c) * margin;
}

CustomerSummary SummarizeDays(std::span<const DayValue> days, int64_t end_day, double unit_days) {
  CustomerSummary c;
  const int64_t first = days.front().day;
  double repeat_value = 0;
  int64_t last = first;
  for (const DayValue& d : days) {
    if (d.day > end_day) break;
    if (d.day == first) continue;  // the first day's purchases
    if (d.day != last) {
      c.x += 1;
      last = d.day;
    }
    repeat_value += d.value;
  }
  c.t_x = static_cast<double>(last - first) / unit_days;
  c.T = static_cast<double>(end_day - first) / unit_days;
  c.zbar = c.x > 0 ? repeat_value / c.x : 0;
  return c;
}

std::vector<CustomerScore> ScoreCustomers(const PurchaseModel& m, const GammaGammaParams& gg,
                                          const std::vector<CustomerSummary>& customers, int months,
                                          double monthly_discount, double margin,
                                          double unit_days) {
  std::vector<CustomerScore> out(customers.size());
  // Discounted expected transactions: CustomerLifetimeValue with spend 1.
  const GammaGammaParams unit_spend{1, 2, 1};  // p gamma / (q - 1) = 1 at x = 0
  auto score_range = [&](size_t begin, size_t end) {
    struct KeyHash {
      size_t operator()(const std::array<double, 3>& k) const {
        size_t h = 0;
        for (double v : k) h = h * 1000003 ^ std::hash<double>{}(v);
        return h;
      }
    };
    std::unordered_map<std::array<double, 3>, CustomerScore, KeyHash> cache;
    for (size_t i = begin; i < end; ++i) {
      const CustomerSummary& c = customers[i];
      auto [it, added] = cache.try_emplace({c.x, c.t_x, c.T});
      if (added) {
        const CustomerSummary key{c.x, c.t_x, c.T, 0};
        it->second.p_alive = ProbabilityAlive(m, key);
        it->second.clv =
            CustomerLifetimeValue(m, unit_spend, key, months, monthly_discount, 1, unit_days);
      }
      out[i].p_alive = it->second.p_alive;
      out[i].clv = it->second.clv * GammaGammaConditionalSpend(gg, c) * margin;
    }
  };
  score_range(0, customers.size());
  return out;
}

Result<std::vector<CustomerSummary>> SummariesFromTransactions(
    std::vector<Transaction> transactions, const TransactionsInput& input,
    std::vector<std::string>* customer_ids, std::vector<double>* holdout) {
  if (transactions.empty()) return Status::InvalidArgument("transactions: none");
  if (!(input.unit_days > 0))
    return Status::InvalidArgument("transactions: the time unit must be > 0 days");
  int64_t end = input.end_day;
  if (end == INT64_MIN) {
    for (const auto& t : transactions) end = std::max(end, t.day);
  }
  std::sort(transactions.begin(), transactions.end(),
            [](const Transaction& a, const Transaction& b) {
              return a.customer != b.customer ? a.customer < b.customer : a.day < b.day;
            });
  std::vector<CustomerSummary> out;
  if (customer_ids) customer_ids->clear();
  if (holdout) holdout->clear();
  std::vector<DayValue> days;
  for (size_t i = 0; i < transactions.size();) {
    size_t j = i;
    days.clear();
    for (; j < transactions.size() && transactions[j].customer == transactions[i].customer; ++j) {
      days.push_back({transactions[j].day, transactions[j].value});
    }
    if (days.front().day < end) {
      out.push_back(SummarizeDays(days, end, input.unit_days));
      if (customer_ids) customer_ids->push_back(transactions[i].customer);
      if (holdout) {
        double later = 0;
        int64_t day = end;
        for (const DayValue& d : days) {
          if (d.day > day && d.day <= input.holdout_end_day) {
            later += 1;
            day = d.day;
          }
        }
        holdout->push_back(later);
      }
    }
    i = j;
  }
  if (out.empty())
    return Status::InvalidArgument(
        "transactions: no customer's first purchase is before the last day");
  return out;
}

std::vector<HoldoutRow> HoldoutComparison(const BgNbdParams& m,
                                          const std::vector<CustomerSummary>& customers,
                                          const std::vector<double>& holdout, double t) {
  std::vector<HoldoutRow> rows(8);
  for (size_t i = 0; i < rows.size(); ++i) rows[i].frequency = i < 7 ? std::to_string(i) : "7+";
  for (size_t i = 0; i < customers.size() && i < holdout.size(); ++i) {
    HoldoutRow& row = rows[std::min<size_t>(7, static_cast<size_t>(customers[i].x))];
    row.customers += 1;
    row.actual += holdout[i];
    row.predicted += BgNbdConditionalExpected(m, customers[i], t);
  }
  for (auto& row : rows) {
    if (row.customers == 0) continue;
    row.actual /= static_cast<double>(row.customers);
    row.predicted /= static_cast<double>(row.customers);
  }
  return rows;
}

Result<std::vector<Transaction>> ReadTransactionsCsv(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line))
    return Status::InvalidArgument("transactions: empty input (a header line first)");
  const std::vector<std::string> header = SplitCsvLine(line);
  int fc = -1, fd = -1, fv = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string& h = header[i];
    if (h == "customer" || h == "customer_id" || h == "id" || h == "ID") fc = static_cast<int>(i);
    if (h == "date") fd = static_cast<int>(i);
    if (h == "value" || h == "monetary" || h == "revenue" || h == "amount")
      fv = static_cast<int>(i);
  }
  if (fc < 0 || fd < 0) {
    return Status::InvalidArgument(
        "transactions: the header must name customer and date (and may name value); got \"" + line +
        "\"");
  }
  std::vector<Transaction> out;
  for (size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> cells = SplitCsvLine(line);
    const std::string at = "line " + std::to_string(n) + ", ";
    const size_t need = static_cast<size_t>(std::max({fc, fd, fv})) + 1;
    if (cells.size() < need)
      return Status::InvalidArgument(at + "expected " + std::to_string(need) + " fields");
    Transaction t;
    t.customer = cells[static_cast<size_t>(fc)];
    if (t.customer.empty()) return Status::InvalidArgument(at + "customer: empty");
    std::string date = cells[static_cast<size_t>(fd)];
    if (date.size() == 8 && date.find_first_not_of("0123456789") == std::string::npos) {
      date = date.substr(0, 4) + "-" + date.substr(4, 2) + "-" + date.substr(6, 2);
    }
    auto ts = ParseTimestamp(date);
    if (!ts.ok()) return Status::InvalidArgument(at + "date: " + ts.status().message());
    t.day = DayOf(*ts);
    if (fv >= 0) {
      const std::string& v = cells[static_cast<size_t>(fv)];
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), t.value);
      if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(t.value)) {
        return Status::InvalidArgument(at + "value: \"" + v + "\" is not a number");
      }
    }
    out.push_back(std::move(t));
  }
  if (out.empty()) return Status::InvalidArgument("transactions: no lines after the header");
  return out;
}

Result<std::vector<CustomerSummary>> ReadSummariesCsv(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line))
    return Status::InvalidArgument("summaries: empty input (a header line first)");
  const std::vector<std::string> header = SplitCsvLine(line);
  int fx = -1, ftx = -1, fT = -1, fz = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string& h = header[i];
    if (h == "frequency" || h == "x") fx = static_cast<int>(i);
    if (h == "recency" || h == "t_x") ftx = static_cast<int>(i);
    if (h == "T") fT = static_cast<int>(i);
    if (h == "zbar" || h == "monetary" || h == "monetary_value") fz = static_cast<int>(i);
  }
  if (fx < 0 || ftx < 0 || fT < 0) {
    return Status::InvalidArgument(
        "summaries: the header must name frequency (or x), recency (or t_x) and T; got \"" + line +
        "\"");
  }
  std::vector<CustomerSummary> out;
  for (size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> cells = SplitCsvLine(line);
    auto number = [&](int field, double* v) -> Status {
      const std::string where =
          "line " + std::to_string(n) + ", " + header[static_cast<size_t>(field)];
      if (static_cast<size_t>(field) >= cells.size())
        return Status::InvalidArgument(where + ": missing");
      const std::string& s = cells[static_cast<size_t>(field)];
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
      if (ec != std::errc() || end != s.data() + s.size()) {
        return Status::InvalidArgument(where + ": \"" + s + "\" is not a number");
      }
      return Status::OK();
    };
    CustomerSummary c;
    RETURN_IF_ERROR(number(fx, &c.x));
    RETURN_IF_ERROR(number(ftx, &c.t_x));
    RETURN_IF_ERROR(number(fT, &c.T));
    if (fz >= 0) RETURN_IF_ERROR(number(fz, &c.zbar));
    Status ok = CheckCustomer(c, out.size());
    if (!ok.ok()) return Status::InvalidArgument("line " + std::to_string(n) + ": " + ok.message());
    out.push_back(c);
  }
  if (out.empty()) return Status::InvalidArgument("summaries: no customer lines after the header");
  return out;
}

}  // namespace quanyu::models
