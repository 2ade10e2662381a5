// `quanyu model fit`: the built binary on CDNOW — the per-customer summaries
// and the raw transactions (calibrated to 1997-09-30) give the same,
// published BG/NBD fit; Gamma-Gamma from the summaries with zbar; bad input
// exits 1 saying why.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_test_util.h"
#include "test_util.h"

namespace quanyu {
namespace {

using testing::Binary;
using testing::CliRun;
using testing::Quote;
using testing::RunShell;

const std::string kCdnow = QUANYU_SOURCE_DIR "/../shared/data/cdnow/";

CliRun Model(const std::string& args, const testing::TempDir& dir) {
  return RunShell(Quote(Binary()) + " model fit " + args, dir / "err");
}

TEST(CliModel, SummariesAndTransactionsGiveThePublishedFit) {
  testing::TempDir dir;
  CliRun summaries = Model("bgnbd --input " + Quote(kCdnow + "cdnow_customers_summary.csv") + " --format json", dir);
  ASSERT_EQ(summaries.exit_code, 0) << summaries.err;
  auto s = summaries.Json();
  EXPECT_EQ(s["customers"], 2357);
  EXPECT_NEAR(s["log_likelihood"].get<double>(), -9582.4, 0.1);
  EXPECT_NEAR(s["parameters"]["alpha"]["value"].get<double>(), 4.414, 0.0005);
  EXPECT_GT(s["parameters"]["alpha"]["std_error"].get<double>(), 0);

  // The raw log as customer,date,value (the ID is the second column).
  const std::string csv = dir / "transactions.csv";
  {
    std::ifstream raw(kCdnow + "CDNOW_sample.txt");
    std::ofstream out(csv);
    out << "customer,date,value\n";
    std::string master, id, date, units, dollars;
    while (raw >> master >> id >> date >> units >> dollars) out << id << "," << date << "," << dollars << "\n";
  }
  CliRun transactions = Model("bgnbd --input " + Quote(csv) + " --end 1997-09-30 --format json", dir);
  ASSERT_EQ(transactions.exit_code, 0) << transactions.err;
  auto t = transactions.Json();
  EXPECT_EQ(t["customers"], 2357);
  for (const char* p : {"r", "alpha", "a", "b"}) {
    // The published summaries are rounded to 2 decimals: close, not equal.
    EXPECT_NEAR(t["parameters"][p]["value"].get<double>(), s["parameters"][p]["value"].get<double>(),
                2e-3 * s["parameters"][p]["value"].get<double>())
        << p;
  }
  CliRun pareto = Model("paretonbd --input " + Quote(kCdnow + "cdnow_customers_summary.csv") + " --format json", dir);
  ASSERT_EQ(pareto.exit_code, 0) << pareto.err;
  EXPECT_NEAR(pareto.Json()["log_likelihood"].get<double>(), -9595.0, 0.1);
  CliRun holdout =
      Model("bgnbd --input " + Quote(csv) + " --end 1997-09-30 --holdout-end 1998-06-30 --format json", dir);
  ASSERT_EQ(holdout.exit_code, 0) << holdout.err;
  auto h = holdout.Json();
  EXPECT_NEAR(h["holdout"]["length"].get<double>(), 39, 1e-9);
  double actual = 0, predicted = 0;
  for (const auto& row : h["holdout"]["by_frequency"]) {
    actual += row["actual"].get<double>() * row["customers"].get<double>();
    predicted += row["predicted"].get<double>() * row["customers"].get<double>();
  }
  EXPECT_NEAR(actual, 1882, 1e-6);
  EXPECT_NEAR(predicted, 1653, 1);
  CliRun table = Model("gammagamma --input " + Quote(csv) + " --end 1997-09-30 --format table", dir);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("gammagamma on 946 customers"), std::string::npos) << table.out;
}

TEST(CliModel, BadInputExitsOneAndSaysWhy) {
  testing::TempDir dir;
  const std::string bad = dir / "bad.csv";
  std::ofstream(bad) << "frequency,recency,T\n1,2,3\n2,two,4\n";
  struct Case {
    std::string args, message;
  } cases[] = {
      {"bgnbd --input " + Quote(bad), "line 3, recency: \"two\" is not a number"},
      {"bgnbd --input " + Quote(dir / "missing.csv"), "cannot read"},
      {"bgnbdd --input " + Quote(bad), "unknown model \"bgnbdd\""},
      {"bgnbd --input " + Quote(bad) + " --end 2026-01-01", "--end and --holdout-end apply to a transactions file"},
      {"bgnbd --input " + Quote(bad) + " --format xml", "--format must be table or json"},
      {"bgnbd --input " + Quote(bad) + " --holdout-end 2026-01-01", "apply to a transactions file"},
  };
  for (const Case& c : cases) {
    CliRun run = Model(c.args, dir);
    EXPECT_EQ(run.exit_code, 1) << c.args;
    EXPECT_NE(run.err.find(c.message), std::string::npos) << c.args << ": " << run.err;
  }
}

}  // namespace
}  // namespace quanyu
