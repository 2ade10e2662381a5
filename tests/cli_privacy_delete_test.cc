// `quanyu dsr delete` killed with SIGKILL at each step of a deletion
// (QUANYU_CRASH_AT, src/common/crash_point.h): after the restart — the next
// command that opens the data directory — the deletion has resumed to
// completion: no file holds the person's data (zstd frames decoded), the
// other person is whole, and the person's events stay suppressed. Never
// half a person.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "collect/segment_format.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "erasure_test_util.h"
#include "test_util.h"

namespace quanyu {
namespace {

using nlohmann::json;
using testing::CliRun;
using testing::FilesHolding;
using testing::Quote;

constexpr char kKey[] = "cli-delete-write-key";

const std::vector<std::string> kVictimData = {"victim-u-7731",   "victim-dev-5512",  "13912345678",
                                              "Hangzhou-victim", "ORD-VICTIM-90210", "victim-msg-"};

class CliPrivacyDeleteTest : public ::testing::TestWithParam<std::string> {
 protected:
  Config TestConfig() const {
    Config c;
    c.data_dir = dir_.path() + "/data";
    c.sources.push_back({"website", "web", kKey});
    return c;
  }

  static IngestResult Ingest(Engine* engine, const std::string& events) {
    auto parsed = collect::ParseSegmentRequest("{\"batch\":[" + events + "]}", "batch",
                                               SystemClock::Default()->NowMicros(), {});
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    IngestRequest request;
    request.write_key = kKey;
    request.parsed = std::move(*parsed);
    return engine->IngestSync(std::move(request));
  }

  static std::string VictimEvents(const std::string& n) {
    return R"({"type":"identify","userId":"victim-u-7731","anonymousId":"victim-dev-5512",
       "messageId":"victim-msg-i)" +
           n + R"(","traits":{"phone":"+8613912345678","city":"Hangzhou-victim"}},
      {"type":"track","anonymousId":"victim-dev-5512","event":"Order Completed",
       "messageId":"victim-msg-o)" +
           n + R"(","properties":{"order_id":"ORD-VICTIM-90210","revenue":88}})";
  }

  // Victim and another person; part checkpointed into segments, part only
  // in the log when the engine closes (Close flushes, so the second part is
  // in segments too but in a later, separate flush).
  void Prepare() {
    auto engine = Engine::Open(TestConfig());
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    EXPECT_EQ(Ingest(engine->get(), VictimEvents("1") + R"(,
      {"type":"identify","userId":"other-u-4242","messageId":"o-1","traits":{"city":"Chengdu"}})")
                  .accepted,
              3u);
    ASSERT_TRUE((*engine)->Checkpoint().ok());
    EXPECT_EQ(Ingest(engine->get(), VictimEvents("2")).accepted, 2u);
    ASSERT_TRUE((*engine)->Close().ok());
  }

  CliRun Dsr(const std::string& args, const std::string& env = "") const {
    return testing::RunShell(env + " " + Quote(testing::Binary()) + " dsr " + args + " --data " +
                                 Quote(TestConfig().data_dir),
                             dir_ / "stderr.txt");
  }

  ::quanyu::testing::TempDir dir_;
};

TEST_P(CliPrivacyDeleteTest, KilledMidDeletionResumesToCompletionAtTheNextOpen) {
  Prepare();
  const std::string point = GetParam();
  CliRun killed =
      Dsr("delete --identifier user_id:victim-u-7731", "QUANYU_CRASH_AT=" + Quote(point));
  // The shell reports a child killed by SIGKILL as 128 + 9.
  EXPECT_TRUE(killed.exit_code == 137 || killed.exit_code == -1)
      << "exit " << killed.exit_code << "\n"
      << killed.err;
  EXPECT_NE(killed.err.find("QUANYU_CRASH_AT=" + point), std::string::npos) << killed.err;

  // The restart: any command that opens the data directory finishes it.
  CliRun listed = Dsr("list");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  json requests = listed.Json()["requests"];
  ASSERT_EQ(requests.size(), 1u) << listed.out;
  EXPECT_EQ(requests[0]["status"], "completed") << requests;
  EXPECT_EQ(requests[0]["type"], "delete") << requests;
  EXPECT_EQ(FilesHolding(TestConfig().data_dir, kVictimData), std::vector<std::string>{});

  auto engine = Engine::Open(TestConfig());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_EQ((*engine)->LookupPerson("user_id:victim-u-7731").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ((*engine)->LookupPerson("anonymous_id:victim-dev-5512").status().code(),
            StatusCode::kNotFound);
  auto other = (*engine)->LookupPerson("user_id:other-u-4242");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto profile = (*engine)->ProfileJson(*other);
  ASSERT_TRUE(profile.ok());
  EXPECT_NE(profile->find("Chengdu"), std::string::npos) << *profile;
  size_t events = 0;
  ASSERT_TRUE((*engine)
                  ->ScanEvents({},
                               [&](const std::vector<Event>& batch) {
                                 events += batch.size();
                                 return Status::OK();
                               })
                  .ok());
  EXPECT_EQ(events, 1u) << "only the other person's identify is left";
  IngestResult resent = Ingest(engine->get(), VictimEvents("1"));
  EXPECT_EQ(resent.accepted, 0u);
  EXPECT_EQ(resent.rejected.size(), 2u);
  ASSERT_TRUE((*engine)->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(EveryStep, CliPrivacyDeleteTest,
                         ::testing::Values("delete:suppressed", "delete:store", "delete:log",
                                           "delete:profile", "delete:identity", "delete:compact"),
                         [](const auto& info) {
                           std::string name = info.param.substr(info.param.find(':') + 1);
                           return name;
                         });

TEST_F(CliPrivacyDeleteTest, DeleteRunsToCompletionAndReportsWhatItErased) {
  Prepare();
  CliRun run = Dsr("delete --identifier phone:+8613912345678 --regime gdpr");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json r = run.Json()["request"];
  EXPECT_EQ(r["status"], "completed") << run.out;
  EXPECT_EQ(r["regime"], "gdpr") << run.out;
  EXPECT_NE(r["outcome"].get<std::string>().find("erased 4 stored events"), std::string::npos)
      << run.out;
  EXPECT_EQ(run.out.find("victim"), std::string::npos) << run.out;
  EXPECT_EQ(FilesHolding(TestConfig().data_dir, kVictimData), std::vector<std::string>{});
  CliRun bad = Dsr("delete --identifier nonsense");
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.err.find("error: "), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace quanyu
