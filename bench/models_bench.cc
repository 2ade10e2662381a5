// models_bench: issue 7's benchmarks (figures in bench/RESULTS.md). Run, not
// asserted.
//
//   models_bench [--customers=1000000] [--repeat=3]
//       Draws --customers customers from BG/NBD with the CDNOW estimates
//       (r 0.243, alpha 4.414, a 0.793, b 2.426; first purchases spread over
//       13 weeks, calibration to week 39, times at day resolution as from
//       transactions) and Gamma-Gamma spend (p 6.25, q 3.74, gamma 15.44),
//       then times FitBgNbd and FitGammaGamma on them (limit: 1 s each) and
//       prints the recovered parameters.
//   models_bench --score=10000000
//       Also scores that many customers (the drawn ones, repeated) with the
//       fitted models as a model run on the store does: P(alive) and a
//       12-month CLV (monthly discount 1 %) with each purchase model.
#include <cmath>
#include <cstdio>
#include <random>

#include "bench_util.h"
#include "models/btyd.h"

using quanyu::bench::Arg;
using quanyu::bench::Time;
using quanyu::bench::Timing;
using quanyu::models::CustomerSummary;

int main(int argc, char** argv) {
  const size_t n = std::stoull(Arg(argc, argv, "customers", "1000000"));
  const int repeat = std::stoi(Arg(argc, argv, "repeat", "3"));
  std::mt19937_64 rng(11);
  std::gamma_distribution<double> lambda_dist(0.243, 1 / 4.414);
  std::gamma_distribution<double> pa(0.793, 1), pb(2.426, 1);
  std::gamma_distribution<double> nu_dist(3.74, 1 / 15.44);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<CustomerSummary> customers(n);
  for (auto& c : customers) {
    const double start_day = std::floor(unit(rng) * 91);  // first purchase in the first 13 weeks
    const double T_days = 273 - start_day;
    const double lambda = lambda_dist(rng) / 7;  // per day
    const double ga = pa(rng), gb = pb(rng), p = ga / (ga + gb);
    std::gamma_distribution<double> spend(6.25, 1.0);
    const double nu = nu_dist(rng);
    double t = 0, last = 0, total = 0;
    for (;;) {
      t += -std::log(1 - unit(rng)) / lambda;
      if (t > T_days) break;
      const double day = std::floor(t);
      if (day > last || c.x == 0) {
        if (day == 0) continue;  // same day as the first purchase
        c.x += 1;
        last = day;
        total += spend(rng) / nu;
      }
      if (unit(rng) < p) break;  // dropped out after this purchase
    }
    c.t_x = last / 7;
    c.T = T_days / 7;
    c.zbar = c.x > 0 ? total / c.x : 0;
  }
  quanyu::Result<quanyu::models::FitResult> bg = quanyu::Status::Internal("not run"), gg = bg;
  Timing tb = Time(repeat, [&] { bg = quanyu::models::FitBgNbd(customers); });
  Timing tg = Time(repeat, [&] { gg = quanyu::models::FitGammaGamma(customers); });
  if (!bg.ok() || !gg.ok()) {
    std::fprintf(stderr, "fit failed: %s %s\n", bg.status().ToString().c_str(), gg.status().ToString().c_str());
    return 1;
  }
  std::printf("%zu customers\n", n);
  for (const auto& [fit, t] : {std::pair{&*bg, tb}, std::pair{&*gg, tg}}) {
    std::printf("%s on %zu customers: best %.0f ms, median %.0f ms (limit 1000 ms), %d evaluations, LL %.1f;",
                fit->model.c_str(), fit->customers, t.best, t.median, fit->evaluations, fit->log_likelihood);
    for (size_t i = 0; i < fit->params.size(); ++i) {
      std::printf(" %s %.4f (se %.4f)", fit->names[i].c_str(), fit->params[i], fit->std_errors[i]);
    }
    std::printf("\n");
  }
  const size_t scored = std::stoull(Arg(argc, argv, "score", "0"));
  if (scored == 0) return 0;
  std::vector<CustomerSummary> many(scored);
  for (size_t i = 0; i < scored; ++i) many[i] = customers[i % n];
  const auto spend = quanyu::models::GammaGammaOf(*gg);
  for (auto fit : {quanyu::models::FitBgNbd(customers), quanyu::models::FitParetoNbd(customers),
                   quanyu::models::FitMbgNbd(customers)}) {
    if (!fit.ok()) return 1;
    const auto m = *quanyu::models::PurchaseModelOf(*fit);
    std::vector<quanyu::models::CustomerScore> scores;
    Timing ts = Time(1, [&] { scores = quanyu::models::ScoreCustomers(m, spend, many, 12, 0.01, 1, 7); });
    double sum = 0, alive = 0;
    for (const auto& s : scores) {
      sum += s.clv;
      alive += s.p_alive;
    }
    std::printf("score %s: %zu customers in %.0f ms (P(alive) + 12-month CLV); mean CLV %.2f, mean P(alive) %.4f\n",
                m.model.c_str(), scored, ts.best, sum / scored, alive / scored);
  }
  return 0;
}
