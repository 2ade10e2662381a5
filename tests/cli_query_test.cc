// `quanyu query KIND`: the built binary run on a data directory made by
// `quanyu sim --persons 500 --days 14`; its JSON must be the engine's answer
// for the same body (what POST /api/v1/query/KIND answers), its tables must
// show that answer's numbers, and bad input must exit 1 with a one-line
// error.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "cli_test_util.h"
#include "test_util.h"

namespace quanyu {
namespace {

using nlohmann::json;

using testing::Binary;
using testing::CliRun;
using testing::Quote;
using testing::RunShell;

const std::vector<std::pair<std::string, std::string>>& Bodies() {
  static const std::vector<std::pair<std::string, std::string>> bodies = {
      {"funnel",
       R"({"from":"2026-01-01","to":"2026-01-15","window":"7d","steps":[{"event":"Product Viewed"},)"
       R"({"event":"Product Added"},{"event":"Order Completed"}],"breakdown":"channel"})"},
      {"retention",
       R"({"from":"2026-01-01","to":"2026-01-15","start_event":{"event":"Product Viewed"},)"
       R"("return_event":{"event":"Order Completed"},"period":"day","periods":7})"},
      {"paths", R"({"from":"2026-01-01","to":"2026-01-15","start_event":"Landing","top":5})"},
      {"touchpoints", R"({"from":"2026-01-01","to":"2026-01-15","top":5})"},
      {"kpis", R"({"from":"2026-01-01","to":"2026-01-15","group_by":["channel"]})"},
      {"trends",
       R"({"from":"2026-01-01","to":"2026-01-15","interval":"week","series":[{"event":"Order Completed"},)"
       R"({"event":"Order Completed","measure":"persons"}],"breakdown":"channel","breakdown_limit":3})"},
  };
  return bodies;
}

class CliQueryTest : public ::testing::Test {
 protected:
  // One simulated data directory for the whole suite (a few seconds to make).
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    CliRun sim = RunShell(Quote(Binary()) + " sim --persons 500 --days 14 --data " + Quote(Data()),
                          *dir_ / "sim.err");
    ASSERT_EQ(sim.exit_code, 0) << sim.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string Data() { return *dir_ / "data"; }

  // Runs `quanyu query ARGS --data DIR` with stdout a pipe (so JSON by default).
  static CliRun Query(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    std::string command = Quote(Binary()) + " query";
    for (const auto& a : args) command += " " + Quote(a);
    command += " --data " + Quote(Data());
    if (!stdin_text.empty()) {
      testing::WriteFile(*dir_ / "stdin.txt", stdin_text);
      command += " <" + Quote(*dir_ / "stdin.txt");
    }
    return RunShell(command, *dir_ / "stderr.txt");
  }

  // What the engine answers for the same body (the API's answer).
  static json EngineAnswer(const std::string& kind, const std::string& body) {
    Config config;
    config.data_dir = Data();
    auto engine = Engine::Open(config);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    if (!engine.ok()) return nullptr;
    auto answer = (*engine)->Query(kind, json::parse(body));
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    EXPECT_TRUE((*engine)->Close().ok());
    return answer.ok() ? *answer : json();
  }

  static void ExpectOneLineError(const CliRun& run, const std::string& fragment) {
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_TRUE(run.out.empty()) << run.out;
    // The last line (logging from opening the store may come before it).
    std::string err = run.err;
    ASSERT_FALSE(err.empty());
    ASSERT_EQ(err.back(), '\n') << err;
    err.pop_back();
    const std::string last =
        err.substr(err.rfind('\n') == std::string::npos ? 0 : err.rfind('\n') + 1);
    EXPECT_EQ(last.rfind("error: ", 0), 0u) << run.err;
    EXPECT_NE(last.find(fragment), std::string::npos) << run.err;
  }

  static testing::TempDir* dir_;
};

testing::TempDir* CliQueryTest::dir_ = nullptr;

TEST_F(CliQueryTest, JsonIsTheEnginesAnswerForEveryKind) {
  for (const auto& [kind, body] : Bodies()) {
    CliRun run = Query({kind, "--body", body});
    ASSERT_EQ(run.exit_code, 0) << kind << ": " << run.err;
    json printed = run.Json();
    ASSERT_TRUE(printed.is_object()) << kind << ": " << run.out;
    EXPECT_EQ(printed, EngineAnswer(kind, body)) << kind;
    EXPECT_EQ(run.out.rfind("{\n  \"", 0), 0u) << "indented: " << run.out.substr(0, 40);
  }
  // --format json is the same as the default on a pipe.
  CliRun json_format = Query({"trends", "--format", "json", "--body", Bodies()[5].second});
  EXPECT_EQ(json_format.Json(), Query({"trends", "--body", Bodies()[5].second}).Json());
}

TEST_F(CliQueryTest, TablesShowTheAnswersNumbers) {
  // Funnel: one row per step with persons and conversion; then per channel.
  const auto& [fkind, fbody] = Bodies()[0];
  json funnel = EngineAnswer(fkind, fbody);
  CliRun f = Query({"funnel", "--format", "table", "--body", fbody});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(f.out.rfind("step  event", 0), 0u) << f.out;
  for (const auto& step : funnel["steps"]) {
    EXPECT_NE(f.out.find(step["event"].get<std::string>()), std::string::npos) << f.out;
    EXPECT_NE(f.out.find(" " + std::to_string(step["persons"].get<int64_t>()) + " "),
              std::string::npos)
        << f.out;
  }
  ASSERT_FALSE(funnel["breakdown"].empty());
  EXPECT_NE(f.out.find("breakdown channel = " + funnel["breakdown"][0]["value"].get<std::string>()),
            std::string::npos)
      << f.out;
  EXPECT_NE(f.out.find("100.0%"), std::string::npos) << f.out;

  // Paths: ranked, nodes joined with arrows.
  CliRun p = Query({"paths", "--format", "table", "--body", Bodies()[2].second});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out.rfind("rank  persons  sessions  path", 0), 0u) << p.out;
  EXPECT_NE(p.out.find("Landing → "), std::string::npos) << p.out;

  // Trends: buckets down, series across, a total row; a table per breakdown.
  json trends = EngineAnswer("trends", Bodies()[5].second);
  CliRun t = Query({"trends", "--format", "table", "--body", Bodies()[5].second});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out.rfind("week  ", 0), 0u) << t.out;
  EXPECT_NE(t.out.find("Order Completed (persons)"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("total"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find(std::to_string(trends["series"][0]["total"].get<int64_t>())),
            std::string::npos)
      << t.out;
  EXPECT_NE(t.out.find("Order Completed (count) by channel"), std::string::npos) << t.out;

  // The others render their sections.
  for (auto [kind, body, heading] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"retention", Bodies()[1].second, "period: day"},
           {"touchpoints", Bodies()[3].second, "breakpoints"},
           {"kpis", Bodies()[4].second, "LTV to date"}}) {
    CliRun r = Query({kind, "--format", "table", "--body", body});
    ASSERT_EQ(r.exit_code, 0) << kind << ": " << r.err;
    EXPECT_NE(r.out.find(heading), std::string::npos) << kind << ": " << r.out;
    EXPECT_FALSE(json::accept(r.out)) << kind << " printed JSON";
  }
}

TEST_F(CliQueryTest, BodyFromAFileOrStandardInput) {
  const std::string body = Bodies()[5].second;
  testing::WriteFile(*dir_ / "body.json", body);
  CliRun file = Query({"trends", "--body", "@" + (*dir_ / "body.json")});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  CliRun in = Query({"trends", "--body", "@-"}, body);
  ASSERT_EQ(in.exit_code, 0) << in.err;
  EXPECT_EQ(file.Json(), in.Json());
  EXPECT_EQ(file.Json(), EngineAnswer("trends", body));
}

TEST_F(CliQueryTest, BadInputExitsOneWithAOneLineError) {
  ExpectOneLineError(Query({"trends", "--body", "{not json"}), "--body is not valid JSON");
  ExpectOneLineError(Query({"trends", "--body", "[1]"}), "must be a JSON object");
  ExpectOneLineError(Query({"trends"}), "--body is required");
  ExpectOneLineError(Query({"trends", "--body", "@/nonexistent/body.json"}), "cannot read");
  ExpectOneLineError(Query({"trends", "--format", "xml", "--body", "{}"}), "--format");
  ExpectOneLineError(
      Query({"trends", "--body",
             R"({"from":"2026-01-01","to":"2026-01-15","series":[{"event":"Order Complete"}]})"}),
      "unknown event \"Order Complete\"");
  ExpectOneLineError(
      Query({"funnel", "--body",
             R"({"from":"2026-01-15","to":"2026-01-01","steps":[{"event":"Landing"}]})"}),
      "range");
  CliRun missing =
      RunShell(Quote(Binary()) + " query trends --body '{}' --data " + Quote(*dir_ / "no-such-dir"),
               *dir_ / "stderr.txt");
  ExpectOneLineError(missing, "does not exist");
}

TEST_F(CliQueryTest, HelpShowsAnExampleBody) {
  for (const auto& [kind, body] : Bodies()) {
    CliRun help = RunShell(Quote(Binary()) + " query " + kind + " --help", *dir_ / "stderr.txt");
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("quanyu query " + kind + " --data ./data --body '{\"from\""),
              std::string::npos)
        << help.out;
    EXPECT_NE(help.out.find("Exit codes"), std::string::npos) << help.out;
  }
}

}  // namespace
}  // namespace quanyu
