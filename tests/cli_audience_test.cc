// `quanyu audience | tag | computed-trait | rfm`: the built binary run on a
// data directory made by `quanyu sim --persons 3000`. Counts must agree
// between commands (a preview and the saved audience's members, a computed
// trait and the event condition it counts), the printed JSON must be what the
// API functions answer, export files must be what the summary says, and bad
// input must exit 1 with "error: ..." on stderr.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "audience/export_hash.h"
#include "engine/engine.h"
#include "server/audience_api.h"
#include "cli_test_util.h"
#include "test_util.h"

namespace quanyu {
namespace {

using nlohmann::json;
using testing::Binary;
using testing::CliRun;
using testing::Quote;
using testing::RunShell;

constexpr char kRepeatBuyers[] = R"(did("Order Completed", count >= 2))";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

class CliAudienceTest : public ::testing::Test {
 protected:
  // One simulated data directory for the whole suite.
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    CliRun sim = RunShell(
        Quote(Binary()) + " sim --persons 3000 --threads 1 --data " + Quote(Data()) + " >/dev/null",
        *dir_ / "sim.err");
    ASSERT_EQ(sim.exit_code, 0) << sim.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string Data() { return *dir_ / "data"; }

  // Runs `quanyu ARGS --data DIR`.
  static CliRun Quanyu(const std::vector<std::string>& args) {
    std::string command = Quote(Binary());
    for (const auto& a : args) command += " " + Quote(a);
    command += " --data " + Quote(Data());
    return RunShell(command, *dir_ / "stderr.txt");
  }

  // Runs a command that must succeed and print a JSON object.
  static json QuanyuJson(const std::vector<std::string>& args) {
    CliRun run = Quanyu(args);
    EXPECT_EQ(run.exit_code, 0) << args[0] << " " << args[1] << ": " << run.err;
    json j = run.Json();
    EXPECT_TRUE(j.is_object()) << run.out;
    EXPECT_EQ(run.out.rfind("{\n  \"", 0), 0u) << "indented: " << run.out.substr(0, 40);
    return j;
  }

  // Runs `fn` on the engine opened on the data directory (no CLI running).
  template <typename Fn>
  static void WithEngine(Fn fn) {
    Config config;
    config.data_dir = Data();
    auto engine = Engine::Open(config);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    fn(**engine);
    EXPECT_TRUE((*engine)->Close().ok());
  }

  static uint64_t PreviewCount(const std::string& definition) {
    json preview = QuanyuJson({"audience", "preview", "--definition", definition});
    return preview.value("count", uint64_t{0});
  }

  // Saves `definition` as audience `name` (once per suite).
  static void EnsureAudience(const std::string& name, const std::string& definition) {
    if (Quanyu({"audience", "show", name}).exit_code == 0) return;
    json created = QuanyuJson({"audience", "create", name, "--definition", definition});
    EXPECT_EQ(created["name"], name);
  }

  static void ExpectError(const CliRun& run, const std::string& fragment) {
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_TRUE(run.out.empty()) << run.out;
    const auto lines = Lines(run.err);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back().rfind("error: ", 0), 0u) << run.err;
    EXPECT_NE(lines.back().find(fragment), std::string::npos) << run.err;
  }

  static testing::TempDir* dir_;
};

testing::TempDir* CliAudienceTest::dir_ = nullptr;

TEST_F(CliAudienceTest, PreviewCountIsTheSavedAudiencesMemberCount) {
  json preview =
      QuanyuJson({"audience", "preview", "--definition", kRepeatBuyers, "--sample", "5"});
  const uint64_t count = preview["count"].get<uint64_t>();
  ASSERT_GT(count, 0u);
  EXPECT_EQ(preview["sample"].size(), std::min<uint64_t>(count, 5));
  // The API function's answer, but for the time it took.
  WithEngine([&](Engine& e) {
    auto api = server::PreviewAudience(e, {{"definition", kRepeatBuyers}, {"sample", uint64_t{5}}});
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api->erase("elapsed_ms");
    json printed = preview;
    printed.erase("elapsed_ms");
    EXPECT_EQ(printed, *api);
  });

  EnsureAudience("repeat_buyers", kRepeatBuyers);
  json members = QuanyuJson({"audience", "members", "repeat_buyers", "--limit", "100000"});
  EXPECT_EQ(members["count"].get<uint64_t>(), count);
  EXPECT_EQ(members["members"].size(), count);
  EXPECT_TRUE(members["next_after"].is_null());
  EXPECT_EQ(members["members"][0], preview["sample"][0]);
  EXPECT_EQ(QuanyuJson({"audience", "show", "repeat_buyers"})["count"].get<uint64_t>(), count);

  // Paging: --limit 1 then --after the first one gives the second.
  json first = QuanyuJson({"audience", "members", "repeat_buyers", "--limit", "1"});
  ASSERT_EQ(first["members"].size(), 1u);
  EXPECT_EQ(first["next_after"], members["members"][0]);
  json second = QuanyuJson({"audience", "members", "repeat_buyers", "--limit", "1", "--after",
                            first["next_after"].dump()});
  ASSERT_GT(count, 1u);
  EXPECT_EQ(second["members"][0], members["members"][1]);
}

TEST_F(CliAudienceTest, BadInputExitsOneWithAnError) {
  ExpectError(Quanyu({"audience", "preview", "--definition", "trait.city = AND"}),
              "line 1, column");
  ExpectError(Quanyu({"audience", "preview"}), "--definition TEXT");
  ExpectError(Quanyu({"audience", "preview", "--tree", "{\"did\": "}), "--tree is not valid JSON");
  ExpectError(Quanyu({"audience", "members", "no_such_audience"}), "no_such_audience");
  ExpectError(Quanyu({"audience", "members", "x", "--limit", "0"}), "--limit must be");
  ExpectError(Quanyu({"audience", "history", "abc"}), "");
  ExpectError(
      Quanyu({"audience", "export", "x", "--destination", "myspace", "--out", *dir_ / "never"}),
      "");
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "never"));
}

TEST_F(CliAudienceTest, CreateUpdateDeleteRoundTrip) {
  json created = QuanyuJson({"audience", "create", "tmp_round_trip", "--tree",
                             R"({"did": "Order Completed"})", "--description", "buyers"});
  EXPECT_EQ(created["definition"], R"(did("Order Completed"))");
  ExpectError(Quanyu({"audience", "create", "tmp_round_trip", "--definition", kRepeatBuyers}),
              "tmp_round_trip");
  // Updating the definition keeps the description.
  json updated =
      QuanyuJson({"audience", "update", "tmp_round_trip", "--definition", kRepeatBuyers});
  EXPECT_EQ(updated["description"], "buyers");
  EXPECT_EQ(updated["definition"], kRepeatBuyers);
  json listed = QuanyuJson({"audience", "list"});
  bool found = false;
  for (const auto& a : listed["audiences"]) found |= a["name"] == "tmp_round_trip";
  EXPECT_TRUE(found) << listed.dump();
  CliRun deleted = Quanyu({"audience", "delete", "tmp_round_trip"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(deleted.out.empty());
  ExpectError(Quanyu({"audience", "show", "tmp_round_trip"}), "tmp_round_trip");
}

TEST_F(CliAudienceTest, RfmSegmentsSumToTheCustomers) {
  json run =
      QuanyuJson({"rfm", "run", "--analysis-time", "2026-04-01T00:00:00Z", "--window", "90d"});
  json shown = QuanyuJson({"rfm", "show"});
  EXPECT_EQ(run, shown);
  EXPECT_EQ(shown["options"]["window"], "90d");
  EXPECT_EQ(shown["options"]["order_event"], "Order Completed");
  ASSERT_EQ(shown["segments"].size(), 11u) << shown.dump();
  int64_t sum = 0;
  for (const auto& [segment, n] : shown["segments"].items()) sum += n.get<int64_t>();
  EXPECT_GT(shown["customers"].get<int64_t>(), 0);
  EXPECT_EQ(sum, shown["customers"].get<int64_t>());
  // rfm.segment is usable in an audience: all segments are all customers.
  std::string every = "rfm.segment IN (";
  for (const auto& [segment, n] : shown["segments"].items()) every += json(segment).dump() + ", ";
  every.resize(every.size() - 2);
  EXPECT_EQ(PreviewCount(every + ")"), shown["customers"].get<uint64_t>());
}

TEST_F(CliAudienceTest, ComputedTraitIsUsableInAnAudience) {
  json put = QuanyuJson({"computed-trait", "put", "--spec",
                         R"({"name": "orders_all", "kind": "count", "event": "Order Completed"})"});
  EXPECT_GT(put["persons"].get<int64_t>(), 0);
  json listed = QuanyuJson({"computed-trait", "list"});
  ASSERT_EQ(listed["computed_traits"].size(), 1u);
  EXPECT_EQ(listed["computed_traits"][0]["name"], "orders_all");
  // Counting orders as a trait selects the persons the event condition does.
  const uint64_t by_trait = PreviewCount("computed.orders_all >= 2");
  EXPECT_GT(by_trait, 0u);
  EXPECT_EQ(by_trait, PreviewCount(kRepeatBuyers));
  EXPECT_EQ(PreviewCount("computed.orders_all >= 1"), put["persons"].get<uint64_t>());
  EXPECT_EQ(Quanyu({"computed-trait", "delete", "orders_all"}).exit_code, 0);
  ExpectError(Quanyu({"audience", "preview", "--definition", "computed.orders_all >= 2"}),
              "orders_all");
}

TEST_F(CliAudienceTest, TagFromIdentifiersListsThatPerson) {
  json sample = QuanyuJson({"audience", "preview", "--definition", kRepeatBuyers});
  ASSERT_FALSE(sample["sample"].empty());
  const uint32_t person = sample["sample"][0].get<uint32_t>();
  std::string identifier;
  WithEngine([&](Engine& e) {
    auto who = e.identity().Describe(person);
    ASSERT_TRUE(who && !who->identifiers.empty());
    identifier = who->identifiers[0];
  });
  json put = QuanyuJson(
      {"tag", "put", "--category", "vip", "--name", "hand_picked", "--identifiers", identifier});
  EXPECT_EQ(put["identifiers"], json::array({identifier}));
  json members = QuanyuJson({"tag", "members", "vip", "hand_picked"});
  EXPECT_EQ(members["count"], 1);
  EXPECT_EQ(members["members"], json::array({person}));
  json listed = QuanyuJson({"tag", "list"});
  ASSERT_EQ(listed["tags"].size(), 1u);
  EXPECT_EQ(listed["tags"][0]["count"], 1);
  ExpectError(Quanyu({"tag", "put", "--category", "vip", "--name", "x", "--identifiers", identifier,
                      "--definition", kRepeatBuyers}),
              "not both");
  EXPECT_EQ(Quanyu({"tag", "delete", "vip", "hand_picked"}).exit_code, 0);
  EXPECT_TRUE(QuanyuJson({"tag", "list"})["tags"].empty());
}

TEST_F(CliAudienceTest, ExportWritesTheFilesItSummarizes) {
  EnsureAudience("repeat_buyers", kRepeatBuyers);
  const std::string out = *dir_ / "export";
  CliRun run =
      Quanyu({"audience", "export", "repeat_buyers", "--destination", "tencent_ads", "--out", out});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = Lines(run.out);
  ASSERT_GE(lines.size(), 2u) << run.out;

  json answer;
  std::set<std::string> member_mobiles;  // MD5 of each member's mainland mobile
  WithEngine([&](Engine& e) {
    auto a = server::ExportAudience(e, "repeat_buyers", {{"destination", "tencent_ads"}});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    answer = *a;
    auto members = e.audiences().Members("repeat_buyers");
    ASSERT_TRUE(members.ok());
    for (uint32_t id : *members) {
      const auto who = e.identity().Describe(id);
      ASSERT_TRUE(who.has_value()) << id;
      for (const std::string& stored : who->identifiers) {
        const std::string text = e.RevealPii(stored, false, false);  // tokenized at rest
        if (text.rfind("phone:+861", 0) == 0 && text.size() == 20) {
          member_mobiles.insert(audience::Md5Hex(text.substr(9)));
        }
      }
    }
  });
  ASSERT_FALSE(member_mobiles.empty());
  EXPECT_EQ(lines.back(), "destination tencent_ads: members " + answer["members"].dump() +
                              ", exported " + answer["exported"].dump() + ", excluded_by_consent " +
                              answer["excluded_by_consent"].dump());
  EXPECT_EQ(answer["members"], PreviewCount(kRepeatBuyers));
  EXPECT_EQ(answer["members"].get<int64_t>(),
            answer["exported"].get<int64_t>() + answer["excluded_by_consent"].get<int64_t>());

  // One summary line per file: "PATH\tBYTES bytes\tLINES lines", each true
  // of the file written, which is the API's file byte for byte.
  ASSERT_EQ(lines.size(), answer["files"].size() + 1) << run.out;
  ASSERT_TRUE(answer["files"].contains("mobile_md5.txt")) << answer.dump();
  size_t k = 0;
  for (const auto& [name, content] : answer["files"].items()) {
    const std::string path = out + "/" + name;
    const std::string written = testing::ReadFileOrEmpty(path);
    EXPECT_EQ(written, content.get<std::string>()) << name;
    const auto hashes = Lines(written);
    EXPECT_EQ(lines[k++], path + "\t" + std::to_string(written.size()) + " bytes\t" +
                              std::to_string(hashes.size()) + " lines");
    EXPECT_LE(hashes.size(), answer["exported"].get<size_t>() * 4) << name;
    for (const auto& h : hashes) {
      EXPECT_EQ(h.size(), 32u) << name << ": " << h;
      if (name == "mobile_md5.txt") {
        EXPECT_TRUE(member_mobiles.count(h)) << h;
      }
    }
  }
}

TEST_F(CliAudienceTest, MembersCsvHasTheTraitColumns) {
  EnsureAudience("repeat_buyers", kRepeatBuyers);
  CliRun csv =
      Quanyu({"audience", "members", "repeat_buyers", "--format", "csv", "--traits", "city"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  const auto rows = Lines(csv.out);
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[0], "one_id,city");
  json members = QuanyuJson({"audience", "members", "repeat_buyers", "--limit", "100000"});
  std::set<std::string> ids;
  for (const auto& id : members["members"]) ids.insert(id.dump());
  size_t with_city = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::string id = rows[i].substr(0, rows[i].find(','));
    EXPECT_TRUE(ids.count(id)) << rows[i];
    with_city += rows[i].size() > id.size() + 1;
  }
  EXPECT_LE(rows.size() - 1, ids.size());
  EXPECT_GT(with_city, 0u);
  ExpectError(Quanyu({"audience", "members", "repeat_buyers", "--traits", "city"}), "--traits");
}

TEST_F(CliAudienceTest, RefreshRecordsMembershipHistory) {
  EnsureAudience("repeat_buyers", kRepeatBuyers);
  json refreshed = QuanyuJson({"audience", "refresh", "--full"});
  EXPECT_TRUE(refreshed["changes"].is_number_unsigned()) << refreshed.dump();
  json members = QuanyuJson({"audience", "members", "repeat_buyers", "--limit", "1"});
  ASSERT_EQ(members["members"].size(), 1u);
  json history = QuanyuJson({"audience", "history", members["members"][0].dump()});
  EXPECT_EQ(history["one_id"], members["members"][0]);
  const auto& in = history["audiences"];
  EXPECT_NE(std::find(in.begin(), in.end(), "repeat_buyers"), in.end()) << history.dump();
  json changes = QuanyuJson({"audience", "changes", "--limit", "10"});
  EXPECT_TRUE(changes["changes"].is_array());
  EXPECT_LE(changes["changes"].size(), 10u);
}

}  // namespace
}  // namespace quanyu
