// BG/NBD and Gamma-Gamma on the CDNOW sample (../shared/data/cdnow): the
// fits reproduce the published maximum-likelihood estimates (Fader, Hardie
// & Lee 2005; ../shared/data/README.md) to 3 significant digits and the
// log-likelihood to 0.1; one customer's log-likelihood is checked against
// the formula evaluated independently here; bad summaries are refused with
// the line and field named.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "common/time_util.h"
#include "models/btyd.h"
#include "models/run.h"

namespace quanyu::models {
namespace {

constexpr char kCdnow[] = QUANYU_SOURCE_DIR "/../shared/data/cdnow/";

std::vector<CustomerSummary> Load(const std::string& file) {
  std::ifstream in(std::string(kCdnow) + file);
  std::stringstream text;
  text << in.rdbuf();
  auto read = ReadSummariesCsv(text.str());
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  return read.ok() ? *read : std::vector<CustomerSummary>{};
}

// Equal to `digits` significant digits.
void ExpectSignificant(double got, double want, int digits, const std::string& what) {
  const double scale = std::pow(10.0, std::floor(std::log10(std::abs(want))) - digits + 1);
  EXPECT_NEAR(got, want, scale / 2) << what;
}

TEST(ModelsBtyd, BgNbdReproducesThePublishedCdnowFit) {
  const auto customers = Load("cdnow_customers_summary.csv");
  ASSERT_EQ(customers.size(), 2357u);
  auto fit = FitBgNbd(customers);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->names, (std::vector<std::string>{"r", "alpha", "a", "b"}));
  ExpectSignificant(fit->params[0], 0.243, 3, "r");
  ExpectSignificant(fit->params[1], 4.414, 3, "alpha");
  ExpectSignificant(fit->params[2], 0.793, 3, "a");
  ExpectSignificant(fit->params[3], 2.426, 3, "b");
  EXPECT_NEAR(fit->log_likelihood, -9582.4, 0.1);
  // The fit sums its terms regrouped (per x, per distinct customer): the
  // same as summing each customer's log-likelihood.
  double sum = 0;
  for (const auto& c : customers)
    sum += BgNbdLogLikelihood(c, fit->params[0], fit->params[1], fit->params[2], fit->params[3]);
  EXPECT_NEAR(sum, fit->log_likelihood, 1e-6);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::isfinite(fit->std_errors[i])) << fit->names[i];
    EXPECT_GT(fit->std_errors[i], 0) << fit->names[i];
    EXPECT_LT(fit->std_errors[i], fit->params[i])
        << fit->names[i];  // identified on 2,357 customers
  }
}

TEST(ModelsBtyd, ParetoNbdReproducesThePublishedCdnowFit) {
  const auto customers = Load("cdnow_customers_summary.csv");
  auto fit = FitParetoNbd(customers);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->names, (std::vector<std::string>{"r", "alpha", "s", "beta"}));
  ExpectSignificant(fit->params[0], 0.553, 3, "r");
  ExpectSignificant(fit->params[1], 10.578, 3, "alpha");
  ExpectSignificant(fit->params[2], 0.606, 3, "s");
  ExpectSignificant(fit->params[3], 11.669, 3, "beta");
  EXPECT_NEAR(fit->log_likelihood, -9595.0, 0.1);
  double sum = 0;
  for (const auto& c : customers) {
    sum +=
        ParetoNbdLogLikelihood(c, fit->params[0], fit->params[1], fit->params[2], fit->params[3]);
  }
  EXPECT_NEAR(sum, fit->log_likelihood, 1e-6);
  for (size_t i = 0; i < 4; ++i) EXPECT_GT(fit->std_errors[i], 0) << fit->names[i];
}

// One customer's Pareto/NBD likelihood as the integral it comes from,
// E over lambda ~ Gamma(r, alpha), mu ~ Gamma(s, beta) of
//   lambda^x [e^-(lambda+mu)T + mu/(lambda+mu) (e^-(lambda+mu)t_x - e^-(lambda+mu)T)],
// by Monte Carlo from the priors (4 M draws): within 1 % of the closed form,
// on both sides of alpha = beta (the closed form switches 2F1s there).
TEST(ModelsBtyd, ParetoNbdLikelihoodMatchesItsIntegral) {
  std::mt19937_64 rng(9);
  for (const auto& [alpha, beta] : {std::pair{10.578, 11.669}, std::pair{11.669, 4.0}}) {
    const double r = 0.553, s = 0.606;
    const CustomerSummary c{2, 30.43, 38.86, 0};
    std::gamma_distribution<double> lam(r, 1 / alpha), mu(s, 1 / beta);
    double sum = 0;
    const int n = 4'000'000;
    for (int i = 0; i < n; ++i) {
      const double l = lam(rng), m = mu(rng), k = l + m;
      sum += std::pow(l, c.x) *
             (std::exp(-k * c.T) + m / k * (std::exp(-k * c.t_x) - std::exp(-k * c.T)));
    }
    EXPECT_NEAR(ParetoNbdLogLikelihood(c, r, alpha, s, beta), std::log(sum / n), 0.01)
        << alpha << " " << beta;
  }
}

// MBG/NBD: no published CDNOW figures to reproduce, so (1) one customer's
// likelihood against Batislam et al.'s formula with plain Beta and Gamma
// functions, and (2) the parameters recovered from 200,000 customers drawn
// from the model itself.
TEST(ModelsBtyd, MbgNbdLikelihoodAndRecovery) {
  const double r = 0.5, alpha = 6.0, a = 0.9, b = 1.6;
  auto beta = [](double x, double y) {
    return std::tgamma(x) * std::tgamma(y) / std::tgamma(x + y);
  };
  for (const CustomerSummary& c :
       {CustomerSummary{2, 30.43, 38.86, 0}, CustomerSummary{0, 0, 38.86, 0}}) {
    const double x = c.x, common = std::tgamma(r + x) * std::pow(alpha, r) / std::tgamma(r);
    const double l = beta(a, b + x + 1) / beta(a, b) * common / std::pow(alpha + c.T, r + x) +
                     beta(a + 1, b + x) / beta(a, b) * common / std::pow(alpha + c.t_x, r + x);
    EXPECT_NEAR(MbgNbdLogLikelihood(c, r, alpha, a, b), std::log(l), 1e-9) << "x=" << x;
  }
  std::mt19937_64 rng(3);
  std::gamma_distribution<double> lambda_dist(r, 1 / alpha), ga(a, 1), gb(b, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<CustomerSummary> drawn(200'000);
  for (auto& c : drawn) {
    c.T = 20 + 20 * unit(rng);
    const double lambda = lambda_dist(rng), ya = ga(rng), yb = gb(rng), p = ya / (ya + yb);
    if (unit(rng) < p) continue;  // gone right after the first purchase
    for (double t = 0;;) {
      t += -std::log(1 - unit(rng)) / lambda;
      if (t > c.T) break;
      c.x += 1;
      c.t_x = t;
      if (unit(rng) < p) break;
    }
  }
  auto fit = FitMbgNbd(drawn);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  const double truth[] = {r, alpha, a, b};
  for (size_t i = 0; i < 4; ++i) {
    // Within 4 standard errors of the truth, and the errors are small.
    EXPECT_NEAR(fit->params[i], truth[i], 4 * fit->std_errors[i]) << fit->names[i];
    EXPECT_LT(fit->std_errors[i], 0.1 * truth[i]) << fit->names[i];
  }
}

TEST(ModelsBtyd, GammaGammaReproducesThePublishedCdnowFit) {
  const auto customers = Load("cdnow_customers_summary_with_transactions.csv");
  auto fit = FitGammaGamma(customers);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->customers, 946u);
  ExpectSignificant(fit->params[0], 6.25, 3, "p");
  ExpectSignificant(fit->params[1], 3.74, 3, "q");
  ExpectSignificant(fit->params[2], 15.44, 3, "gamma");
  double sum = 0;
  for (const auto& c : customers) {
    if (c.x > 0 && c.zbar > 0)
      sum += GammaGammaLogLikelihood(c, fit->params[0], fit->params[1], fit->params[2]);
  }
  EXPECT_NEAR(sum, fit->log_likelihood, 1e-6);
}

// The BG/NBD likelihood of one customer, written out from Fader, Hardie &
// Lee (2005), eq. 6, with Beta and Gamma functions (no logs until the end).
TEST(ModelsBtyd, OneCustomersLikelihoodMatchesThePaper) {
  const double r = 0.243, alpha = 4.414, a = 0.793, b = 2.426;
  auto beta = [](double x, double y) {
    return std::tgamma(x) * std::tgamma(y) / std::tgamma(x + y);
  };
  for (const CustomerSummary& c :
       {CustomerSummary{2, 30.43, 38.86, 0}, CustomerSummary{0, 0, 38.86, 0},
        CustomerSummary{7, 29.43, 32.0, 0}}) {
    const double x = c.x;
    const double common = std::tgamma(r + x) * std::pow(alpha, r) / std::tgamma(r);
    double l = beta(a, b + x) / beta(a, b) * common / std::pow(alpha + c.T, r + x);
    if (x > 0) l += beta(a + 1, b + x - 1) / beta(a, b) * common / std::pow(alpha + c.t_x, r + x);
    EXPECT_NEAR(BgNbdLogLikelihood(c, r, alpha, a, b), std::log(l), 1e-9) << "x=" << x;
  }
}

// The raw CDNOW log (master id, customer id, yyyymmdd, units, dollars) as a
// transactions CSV, calibrated to 1997-09-30: the summaries match the
// published per-customer file, whose ID is the second column (rounded to 2
// decimals there).
TEST(ModelsBtyd, TransactionsGiveThePublishedSummaries) {
  std::ifstream raw(std::string(kCdnow) + "CDNOW_sample.txt");
  std::string csv = "customer,date,value\n", master, id, date, units, dollars;
  while (raw >> master >> id >> date >> units >> dollars)
    csv += id + "," + date + "," + dollars + "\n";
  auto transactions = ReadTransactionsCsv(csv);
  ASSERT_TRUE(transactions.ok()) << transactions.status().ToString();
  EXPECT_EQ(transactions->size(), 6919u);
  TransactionsInput input;
  input.end_day = DayOf(*ParseTimestamp("1997-09-30"));
  std::vector<std::string> ids;
  auto summaries = SummariesFromTransactions(*transactions, input, &ids);
  ASSERT_TRUE(summaries.ok()) << summaries.status().ToString();
  const auto published = Load("cdnow_customers_summary_with_transactions.csv");
  ASSERT_EQ(summaries->size(), published.size());
  for (size_t i = 0; i < published.size(); ++i) {  // both in customer order
    EXPECT_EQ((*summaries)[i].x, published[i].x) << ids[i];
    EXPECT_NEAR((*summaries)[i].t_x, published[i].t_x, 0.005) << ids[i];
    EXPECT_NEAR((*summaries)[i].T, published[i].T, 0.005) << ids[i];
    EXPECT_NEAR((*summaries)[i].zbar, published[i].zbar, 0.0051) << ids[i];
  }
  // The holdout to 1998-06-30: the customers' repeat transactions there
  // total 1,882 (README), against 1,653 forecast; by calibration frequency,
  // the forecast follows the actual means (Fader, Hardie & Lee 2005, fig. 4).
  input.holdout_end_day = DayOf(*ParseTimestamp("1998-06-30"));
  std::vector<double> holdout;
  auto again = SummariesFromTransactions(*transactions, input, nullptr, &holdout);
  ASSERT_TRUE(again.ok());
  double actual = 0;
  for (double h : holdout) actual += h;
  EXPECT_EQ(actual, 1882);
  auto fit = FitBgNbd(*again);
  ASSERT_TRUE(fit.ok());
  const double weeks = static_cast<double>(input.holdout_end_day - input.end_day) / 7;
  EXPECT_NEAR(weeks, 39, 0.01);
  const auto rows = HoldoutComparison(BgNbdOf(*fit), *again, holdout, weeks);
  ASSERT_EQ(rows.size(), 8u);
  size_t customers = 0;
  for (const auto& row : rows) {
    customers += row.customers;
    std::printf("x=%s customers %zu actual %.3f predicted %.3f\n", row.frequency.c_str(),
                row.customers, row.actual, row.predicted);
    EXPECT_NEAR(row.predicted, row.actual, 0.3 * row.actual + 0.05) << "x=" << row.frequency;
  }
  EXPECT_EQ(customers, 2357u);
  EXPECT_EQ(rows[0].customers, 1411u);  // 1,411 customers made no repeat purchase
  EXPECT_LT(rows[0].actual, rows[7].actual);

  EXPECT_NE(
      ReadTransactionsCsv("customer,date\nc1,1997-13-01\n").status().message().find("line 2, date"),
      std::string::npos);
  EXPECT_NE(ReadTransactionsCsv("customer,day\n").status().message().find("customer and date"),
            std::string::npos);
}

// P(alive) and E[Y(t) | x, t_x, T] integrated over the latent purchase rate
// and dropout probability, independently of the closed forms: importance
// sampling, lambda from Gamma(r + x, alpha + t_x) (weights bounded), p from
// its Beta(a, b) prior. Given (lambda, p): P(alive | data) is the alive
// term's share of the likelihood, and a live customer's expected purchases
// in t are (1 - exp(-lambda p t)) / p.
struct Integrated {
  double alive = 0, expected = 0;
};
// The means of `alive` and `expected` under the weights exp(log_w).
Integrated WeightedMeans(const std::vector<double>& log_w, double max_w,
                         const std::vector<double>& alive, const std::vector<double>& expected) {
  double w_sum = 0;
  Integrated out;
  for (size_t i = 0; i < log_w.size(); ++i) {
    const double w = std::exp(log_w[i] - max_w);
    w_sum += w;
    out.alive += w * alive[i];
    out.expected += w * expected[i];
  }
  out.alive /= w_sum;
  out.expected /= w_sum;
  return out;
}

Integrated Integrate(const BgNbdParams& m, const CustomerSummary& c, double t) {
  std::mt19937_64 rng(5);
  std::gamma_distribution<double> proposal(m.r + c.x, 1 / (m.alpha + c.t_x));
  std::gamma_distribution<double> ga(m.a, 1), gb(m.b, 1);
  const int n = 2'000'000;
  std::vector<double> log_w(n), alive(n), expected(n);
  double max_w = -1e300;
  for (int i = 0; i < n; ++i) {
    const double l = proposal(rng), ya = ga(rng), yb = gb(rng), p = ya / (ya + yb);
    const double log_prior_over_proposal = -m.alpha * l + (m.alpha + c.t_x) * l - c.x * std::log(l);
    const double log_alive = c.x * std::log1p(-p) + c.x * std::log(l) - l * c.T;
    const double log_dead =
        c.x > 0 ? std::log(p) + (c.x - 1) * std::log1p(-p) + c.x * std::log(l) - l * c.t_x : -1e300;
    const double top = std::max(log_alive, log_dead);
    const double log_like = top + std::log(std::exp(log_alive - top) + std::exp(log_dead - top));
    log_w[i] = log_prior_over_proposal + log_like;
    alive[i] = std::exp(log_alive - log_like);
    expected[i] = alive[i] * (1 - std::exp(-l * p * t)) / p;
    max_w = std::max(max_w, log_w[i]);
  }
  return WeightedMeans(log_w, max_w, alive, expected);
}

TEST(ModelsBtyd, PredictionsMatchAnIndependentIntegration) {
  const BgNbdParams m{0.243, 4.414, 0.793, 2.426};
  for (const CustomerSummary& c :
       {CustomerSummary{2, 30.43, 38.86, 0}, CustomerSummary{0, 0, 38.86, 0},
        CustomerSummary{7, 29.43, 32.0, 0}, CustomerSummary{1, 1.71, 38.86, 0}}) {
    const Integrated want = Integrate(m, c, 39);
    EXPECT_NEAR(BgNbdProbabilityAlive(m, c), want.alive, 0.005 * want.alive)
        << "x=" << c.x << " t_x=" << c.t_x;
    EXPECT_NEAR(BgNbdConditionalExpected(m, c, 39), want.expected, 0.01 * want.expected)
        << "x=" << c.x << " t_x=" << c.t_x;
  }
  // A new customer: the probabilities of n purchases sum to 1 and their
  // mean is E[X(t)].
  double total = 0, mean = 0;
  for (int n = 0; n < 2000; ++n) {
    const double p = BgNbdProbabilityOfPurchases(m, 39, n);
    total += p;
    mean += n * p;
  }
  EXPECT_NEAR(total, 1, 1e-9);
  EXPECT_NEAR(mean, BgNbdExpected(m, 39), 1e-6);
  EXPECT_NEAR(BgNbdExpected(m, 39), BgNbdConditionalExpected(m, {0, 0, 1e-12, 0}, 39), 1e-6);
}

// The same for MBG/NBD and Pareto/NBD. Their second latent variable — the
// dropout probability p ~ Beta(a, b) of MBG/NBD, the dropout rate
// mu ~ Gamma(s, beta) of Pareto/NBD — is drawn from its prior; lambda as
// above. MBG/NBD: alive (1-p)^(x+1) lambda^x e^(-lambda T), dead
// p (1-p)^x lambda^x e^(-lambda t_x), a live customer buys
// (1 - exp(-lambda p t)) / p. Pareto/NBD: alive lambda^x e^(-(lambda+mu) T),
// dead lambda^x mu/(lambda+mu) (e^(-(lambda+mu) t_x) - e^(-(lambda+mu) T)),
// a live customer buys lambda/mu (1 - e^(-mu t)).
Integrated IntegrateOther(const PurchaseModel& m, const CustomerSummary& c, double t) {
  std::mt19937_64 rng(7);
  std::gamma_distribution<double> proposal(m.r + c.x, 1 / (m.alpha + c.t_x));
  std::gamma_distribution<double> ga(m.a, 1), gb(m.b, 1), mu_prior(m.a, 1 / m.b);
  const bool pareto = m.model == "paretonbd";
  const int n = 2'000'000;
  std::vector<double> log_w(n), alive(n), expected(n);
  double max_w = -1e300;
  for (int i = 0; i < n; ++i) {
    const double l = proposal(rng);
    const double log_prior_over_proposal = -m.alpha * l + (m.alpha + c.t_x) * l - c.x * std::log(l);
    double log_alive, log_dead, live_expected;
    if (pareto) {
      const double mu = mu_prior(rng), k = l + mu;
      log_alive = c.x * std::log(l) - k * c.T;
      log_dead = c.x * std::log(l) + std::log(mu / k) - k * c.t_x +
                 std::log1p(-std::exp(-k * (c.T - c.t_x)));
      live_expected = l / mu * (1 - std::exp(-mu * t));
    } else {
      const double ya = ga(rng), yb = gb(rng), p = ya / (ya + yb);
      log_alive = (c.x + 1) * std::log1p(-p) + c.x * std::log(l) - l * c.T;
      log_dead = std::log(p) + c.x * std::log1p(-p) + c.x * std::log(l) - l * c.t_x;
      live_expected = (1 - std::exp(-l * p * t)) / p;
    }
    const double top = std::max(log_alive, log_dead);
    const double log_like = top + std::log(std::exp(log_alive - top) + std::exp(log_dead - top));
    log_w[i] = log_prior_over_proposal + log_like;
    alive[i] = std::exp(log_alive - log_like);
    expected[i] = alive[i] * live_expected;
    max_w = std::max(max_w, log_w[i]);
  }
  return WeightedMeans(log_w, max_w, alive, expected);
}

TEST(ModelsBtyd, MbgAndParetoPredictionsMatchAnIndependentIntegration) {
  // The CDNOW Pareto/NBD fit, and an MBG/NBD of similar shape.
  for (const PurchaseModel& m : {PurchaseModel{"paretonbd", 0.5533, 10.578, 0.6062, 11.668},
                                 PurchaseModel{"mbgnbd", 0.525, 6.183, 0.891, 1.614}}) {
    for (const CustomerSummary& c :
         {CustomerSummary{2, 30.43, 38.86, 0}, CustomerSummary{0, 0, 38.86, 0},
          CustomerSummary{7, 29.43, 32.0, 0}, CustomerSummary{1, 1.71, 38.86, 0}}) {
      const Integrated want = IntegrateOther(m, c, 39);
      EXPECT_NEAR(ProbabilityAlive(m, c), want.alive, 0.01 * want.alive)
          << m.model << " x=" << c.x << " t_x=" << c.t_x;
      EXPECT_NEAR(ConditionalExpected(m, c, 39), want.expected, 0.02 * want.expected)
          << m.model << " x=" << c.x << " t_x=" << c.t_x;
    }
    // A brand-new customer's conditional expectation is E[X(t)].
    EXPECT_NEAR(ExpectedPurchases(m, 39), ConditionalExpected(m, {0, 0, 1e-12, 0}, 39), 1e-6)
        << m.model;
  }
}

// The holdout: the published fit's conditional expectations over the next
// 39 weeks, summed over the 2,357 customers, are "about 1,653" (README).
TEST(ModelsBtyd, CdnowHoldoutForecast) {
  const auto customers = Load("cdnow_customers_summary_with_transactions.csv");
  auto bg = FitBgNbd(customers);
  auto gg = FitGammaGamma(customers);
  ASSERT_TRUE(bg.ok() && gg.ok());
  double sum = 0, clv = 0;
  for (const auto& c : customers) {
    sum += BgNbdConditionalExpected(BgNbdOf(*bg), c, 39);
    clv += CustomerLifetimeValue(*PurchaseModelOf(*bg), GammaGammaOf(*gg), c, 12, 0.01, 1.0, 7);
  }
  EXPECT_NEAR(sum, 1653, 1);
  // Scoring them all at once gives the same, for each purchase model.
  for (const auto& fit : {*bg, *FitParetoNbd(customers), *FitMbgNbd(customers)}) {
    const PurchaseModel m = *PurchaseModelOf(fit);
    const auto scores = ScoreCustomers(m, GammaGammaOf(*gg), customers, 12, 0.01, 0.5, 7);
    ASSERT_EQ(scores.size(), customers.size());
    for (size_t i = 0; i < customers.size(); i += 7) {
      EXPECT_NEAR(scores[i].p_alive, ProbabilityAlive(m, customers[i]), 1e-12) << m.model << i;
      EXPECT_NEAR(scores[i].clv,
                  CustomerLifetimeValue(m, GammaGammaOf(*gg), customers[i], 12, 0.01, 0.5, 7),
                  1e-9 * (1 + scores[i].clv))
          << m.model << i;
    }
  }
  // CLV with no discount and margin 1 over 12 months of 30 days is the
  // expected transactions of 360 days times the expected spend.
  const CustomerSummary one{2, 30.43, 38.86, 22.35};
  EXPECT_NEAR(CustomerLifetimeValue(*PurchaseModelOf(*bg), GammaGammaOf(*gg), one, 12, 0, 1, 7),
              BgNbdConditionalExpected(BgNbdOf(*bg), one, 360.0 / 7) *
                  GammaGammaConditionalSpend(GammaGammaOf(*gg), one),
              1e-9);
  EXPECT_GT(clv, 0);
}

// A fit reports each evaluation; the throttled report names the model and
// the best log-likelihood so far.
TEST(ModelsBtyd, FitsReportProgress) {
  const auto customers = Load("cdnow_customers_summary.csv");
  int calls = 0, last = 0;
  auto fit = FitBgNbd(customers, [&](int evaluations, double) {
    ++calls;
    last = evaluations;
  });
  ASSERT_TRUE(fit.ok());
  EXPECT_GT(calls, 10);
  EXPECT_EQ(last, calls);
  std::vector<std::string> stages;
  const FitProgress report =
      ThrottledFitProgress([&](std::string_view s) { stages.emplace_back(s); }, "bgnbd", 0);
  auto again = FitBgNbd(customers, report);
  ASSERT_TRUE(again.ok());
  ASSERT_FALSE(stages.empty());
  EXPECT_NE(stages.back().find("bgnbd: evaluation"), std::string::npos) << stages.back();
  EXPECT_NE(stages.back().find("best log-likelihood -9582.4"), std::string::npos) << stages.back();
  EXPECT_FALSE(ThrottledFitProgress({}, "bgnbd"));  // nothing to report to
}

TEST(ModelsBtyd, BadSummariesNameTheLine) {
  EXPECT_NE(ReadSummariesCsv("ID,frequency,recency\n1,2,3\n").status().message().find("T"),
            std::string::npos);
  EXPECT_NE(ReadSummariesCsv("frequency,recency,T\n1,2,3\n2,x,4\n")
                .status()
                .message()
                .find("line 3, recency"),
            std::string::npos);
  EXPECT_NE(ReadSummariesCsv("frequency,recency,T\n1,5,3\n")
                .status()
                .message()
                .find("recency is after T"),
            std::string::npos);
  EXPECT_NE(ReadSummariesCsv("frequency,recency,T\n").status().message().find("no customer"),
            std::string::npos);
  EXPECT_EQ(FitBgNbd({}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FitGammaGamma({{0, 0, 10, 0}}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quanyu::models
