// `quanyu attribution --paths FILE`: the built binary on ChannelAttribution's
// sample. The JSON gives, per model, per channel, conversions and value
// summing to the file's totals (counted here from the file itself); the
// table and CSV carry the same models; bad files, models and options exit 1
// with "error: ..." naming the problem. `quanyu attribution --data DIR` on a
// simulated store: spend joined, and the paths it exports give the same
// credits when read back with --paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli_test_util.h"
#include "test_util.h"

namespace quanyu {
namespace {

using testing::Binary;
using testing::CliRun;
using testing::Quote;
using testing::RunShell;
using json = nlohmann::json;

constexpr char kPaths[] = QUANYU_SOURCE_DIR "/../shared/data/channel-paths/paths.csv";

CliRun Attribution(const std::string& args, const testing::TempDir& dir) {
  return RunShell(Quote(Binary()) + " attribution " + args, dir / "err");
}

TEST(CliAttribution, JsonPerModelPerChannelSumsToTheFile) {
  double conversions = 0, value = 0;
  std::ifstream in(kPaths);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    std::string path, c, v;
    std::getline(ls, path, ';');
    std::getline(ls, c, ';');
    std::getline(ls, v, ';');
    conversions += std::stod(c);
    value += std::stod(v);
  }
  testing::TempDir dir;
  CliRun run = Attribution("--paths " + Quote(kPaths) + " --models all --format json", dir);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = run.Json();
  ASSERT_TRUE(j.is_object()) << run.out.substr(0, 200);
  EXPECT_EQ(j["paths"], 10000);
  EXPECT_NEAR(j["total_conversions"].get<double>(), conversions, 1e-6);
  // all = every model but time_decay, which needs touch times.
  ASSERT_EQ(j["models"].size(), 13u) << j["models"].dump().substr(0, 200);
  EXPECT_FALSE(j["models"].contains("time_decay"));
  for (const auto& [model, m] : j["models"].items()) {
    ASSERT_EQ(m["channels"].size(), 12u) << model;
    double c = 0, v = 0;
    for (const auto& [channel, credit] : m["channels"].items()) {
      c += credit["conversions"].get<double>();
      v += credit["value"].get<double>();
    }
    EXPECT_NEAR(c, conversions, 1e-6 * conversions) << model;
    EXPECT_NEAR(v, value, 1e-6 * value) << model;
    EXPECT_EQ(m["channels"]["alpha"].contains("removal_effect"), model.rfind("markov", 0) == 0) << model;
  }
}

TEST(CliAttribution, TableAndCsvCarryTheChosenModels) {
  testing::TempDir dir;
  CliRun table = Attribution("--paths " + Quote(kPaths) + " --models first,markov2 --format table", dir);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("10000 paths"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("markov2"), std::string::npos);
  EXPECT_EQ(table.out.find("linear"), std::string::npos);
  CliRun csv = Attribution("--paths " + Quote(kPaths) + " --models last --format csv", dir);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("model,channel,conversions,value,share,removal_effect,spend,cpa,roas\n", 0), 0u);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 13);  // header + 12 channels
}

TEST(CliAttribution, OnTheStoreWithSpendAndExportedPaths) {
  testing::TempDir dir;
  const std::string data = dir / "data";
  CliRun sim = RunShell(Quote(Binary()) + " sim --persons 3000 --days 60 --data " + Quote(data), dir / "err");
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  const std::string exported = dir / "paths.csv";
  CliRun run = Attribution("--data " + Quote(data) + " --from 2026-01-01 --to 2027-01-01 --first-only "
                           "--models first,last,linear,markov1,shapley --format json --export-paths " +
                               Quote(exported),
                           dir);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = run.Json();
  ASSERT_TRUE(j.is_object()) << run.out.substr(0, 300);
  const double conversions = j["total_conversions"].get<double>();
  EXPECT_GT(conversions, 50);
  EXPECT_GT(j["total_nulls"].get<double>(), 500);
  EXPECT_EQ(j["models"].size(), 5u);
  // The simulator imports ad spend: paid channels carry it, with CPA and ROAS.
  ASSERT_TRUE(j["spend"].contains("douyin")) << j["spend"].dump();
  const json& douyin = j["models"]["last"]["channels"]["douyin"];
  EXPECT_NEAR(douyin["cpa"].get<double>(), j["spend"]["douyin"].get<double>() / douyin["conversions"].get<double>(),
              1e-9);
  EXPECT_NEAR(douyin["roas"].get<double>(), douyin["value"].get<double>() / j["spend"]["douyin"].get<double>(), 1e-9);

  // The exported paths, read back, give the same first / last / linear credits.
  CliRun again = Attribution("--paths " + Quote(exported) + " --models first,last,linear --format json", dir);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto k = again.Json();
  EXPECT_NEAR(k["total_conversions"].get<double>(), conversions, 1e-9);
  for (const char* model : {"first", "last", "linear"}) {
    for (const auto& [channel, credit] : j["models"][model]["channels"].items()) {
      // A label only touched outside every path is in no exported line.
      const json& back = k["models"][model]["channels"];
      EXPECT_NEAR(back.contains(channel) ? back[channel]["conversions"].get<double>() : 0.0,
                  credit["conversions"].get<double>(), 1e-6)
          << model << " " << channel;
    }
  }

  CliRun table = Attribution("--data " + Quote(data) + " --from 2026-01-01 --to 2027-01-01 --models last --format table",
                             dir);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("CPA by model"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("ROAS by model"), std::string::npos);
}

TEST(CliAttribution, BadInputExitsOneAndSaysWhy) {
  testing::TempDir dir;
  const std::string bad = dir / "bad.csv";
  std::ofstream(bad) << "path;total_conversions;total_conversion_value;total_null\na > b;1;1;0\nc;two;1;0\n";
  struct Case {
    std::string args, message;
  } cases[] = {
      {"--paths " + Quote(bad), "line 3: total_conversions \"two\" is not a number"},
      {"--paths " + Quote(dir / "missing.csv"), "cannot read"},
      {"--paths " + Quote(kPaths) + " --models first,nope", "unknown model \"nope\""},
      {"--paths " + Quote(kPaths) + " --models time_decay", "time of each touch"},
      {"--paths " + Quote(kPaths) + " --models position --first-weight 0.9", "position: first and last weights"},
      {"--paths " + Quote(kPaths) + " --format xml", "--format must be table, json or csv"},
      {"--paths " + Quote(kPaths) + " --from 2026-01-01", "--from applies to --data"},
      {"--paths " + Quote(kPaths) + " --data " + Quote(dir.path()), "either --paths FILE"},
      {"--models last", "either --paths FILE"},
      {"--data " + Quote(dir / "nowhere") + " --from 2026-01-01 --to 2026-02-01", "nowhere"},
      {"--data " + Quote(dir.path()) + " --to 2026-02-01", "from"},
  };
  for (const Case& c : cases) {
    CliRun run = Attribution(c.args, dir);
    EXPECT_EQ(run.exit_code, 1) << c.args;
    EXPECT_NE(run.err.find("error: "), std::string::npos) << c.args << ": " << run.err;
    EXPECT_NE(run.err.find(c.message), std::string::npos) << c.args << ": " << run.err;
  }
}

}  // namespace
}  // namespace quanyu
