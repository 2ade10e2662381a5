// Golden One-ID scenarios: raw SDK events in, expected persons out
// (tests/golden/identity/*.test). Each scenario runs through the real engine
// (parsing, normalization, the log, the identity graph, RocksDB) several
// ways, which must all give the expected persons:
//   * in order; reversed; and in five random orders (events between two
//     corrections are shuffled, corrections stay where they are);
//   * in order, then closed and reopened (a restart must give the same graph,
//     link for link).
//
// Scenario file format, one directive per line:
//   # comment
//   > {Segment event JSON}         sent as /v1/<type>
//   sa> {Sensors record JSON}      sent as /sa
//   repeat N > {JSON with {i}}     N Segment events, {i} = 0..N-1, in batches of 1000
//   unbind IDENTIFIER              POST /api/v1/identity/unbind
//   split IDENTIFIER MESSAGE_ID    undo MESSAGE_ID's links in IDENTIFIER's person
//   persons:                       then the expected persons, one per line:
//                                  identifiers sorted and space-separated,
//                                  lines sorted.
//   count: N                       instead of listing: expect N persons
// QUANYU_UPDATE_GOLDEN=1 rewrites the expectations from the in-order run.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "collect/segment_format.h"
#include "collect/sensors_format.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "test_util.h"

namespace quanyu {
namespace {

constexpr char kKey[] = "golden-identity-key";

struct Step {
  enum Kind { kSegment, kSensors, kUnbind, kSplit } kind;
  std::string a, b;  // JSON; or identifier and message id
};

struct Scenario {
  std::vector<Step> steps;
  std::string expected;  // the "persons:" block, or ""
  int64_t expected_count = -1;
  std::string header;  // everything before the expectation, for rewriting
};

Scenario Load(const std::string& path) {
  Scenario s;
  std::istringstream in(testing::ReadFileOrEmpty(path));
  std::string line;
  bool in_persons = false;
  while (std::getline(in, line)) {
    if (in_persons) {
      if (!line.empty()) s.expected += line + "\n";
      continue;
    }
    if (line.rfind("persons:", 0) == 0) {
      in_persons = true;
      continue;
    }
    s.header += line + "\n";
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("count:", 0) == 0) {
      s.expected_count = std::stoll(line.substr(6));
    } else if (line.rfind("> ", 0) == 0) {
      s.steps.push_back({Step::kSegment, line.substr(2), ""});
    } else if (line.rfind("sa> ", 0) == 0) {
      s.steps.push_back({Step::kSensors, line.substr(4), ""});
    } else if (line.rfind("repeat ", 0) == 0) {
      auto gt = line.find(" > ");
      int n = std::stoi(line.substr(7, gt - 7));
      std::string tmpl = line.substr(gt + 3);
      // Sent as /v1/batch requests of up to 1000 events (each batch is one
      // step when the steps are reordered).
      std::string batch;
      for (int i = 0; i < n; ++i) {
        std::string json = tmpl;
        for (size_t p; (p = json.find("{i}")) != std::string::npos;) {
          json.replace(p, 3, std::to_string(i));
        }
        batch += (batch.empty() ? "{\"batch\":[" : ",") + json;
        if ((i + 1) % 1000 == 0 || i + 1 == n) {
          s.steps.push_back({Step::kSegment, batch + "]}", ""});
          batch.clear();
        }
      }
    } else if (line.rfind("unbind ", 0) == 0) {
      s.steps.push_back({Step::kUnbind, line.substr(7), ""});
    } else if (line.rfind("split ", 0) == 0) {
      auto sp = line.find(' ', 6);
      s.steps.push_back({Step::kSplit, line.substr(6, sp - 6), line.substr(sp + 1)});
    } else {
      ADD_FAILURE() << path << ": cannot read line: " << line;
    }
  }
  return s;
}

Config ConfigFor(const std::string& dir) {
  Config c;
  c.data_dir = dir;
  c.sources.push_back({"app", "web", kKey});
  c.flush_interval_s = 3600;
  return c;
}

void RunStep(Engine* engine, const Step& step) {
  int64_t now = SystemClock::Default()->NowMicros();
  switch (step.kind) {
    case Step::kSegment:
    case Step::kSensors: {
      Result<collect::ParsedRequest> parsed = Status::Internal("unset");
      if (step.kind == Step::kSegment) {
        std::string endpoint = "batch";
        if (step.a.rfind("{\"batch\"", 0) != 0) {
          auto type_at = step.a.find("\"type\":\"");
          ASSERT_NE(type_at, std::string::npos) << "a Segment event needs \"type\": " << step.a;
          endpoint = step.a.substr(type_at + 8, step.a.find('"', type_at + 8) - type_at - 8);
        }
        parsed = collect::ParseSegmentRequest(step.a, endpoint, now, {});
      } else {
        collect::SensorsRequest req;
        req.raw_body = step.a;
        parsed = collect::ParseSensorsRequest(req, now, {});
      }
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << " in " << step.a;
      IngestRequest r;
      r.write_key = kKey;
      r.parsed = std::move(*parsed);
      IngestResult result = engine->IngestSync(std::move(r));
      ASSERT_TRUE(result.status.ok()) << result.status.ToString();
      break;
    }
    case Step::kUnbind: {
      auto r = engine->Unbind(step.a);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      break;
    }
    case Step::kSplit: {
      auto p = engine->LookupPerson(step.a);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      auto r = engine->Split(*p, step.b);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      break;
    }
  }
}

// Live persons as text: identifiers sorted per person, persons sorted.
std::string Persons(const Engine& engine, size_t* count = nullptr) {
  auto stats = engine.identity().Stats();
  std::vector<std::string> lines;
  for (uint32_t p = 1; p <= stats.persons + stats.aliases; ++p) {
    auto d = engine.identity().Describe(p);
    if (!d || d->one_id != p) continue;
    // Phones are tokenized at rest (privacy/pii.h), under each data
    // directory's own key: compare plaintexts.
    std::vector<std::string> ids;
    for (const auto& id : d->identifiers) ids.push_back(engine.RevealPii(id, false, false));
    std::sort(ids.begin(), ids.end());
    std::string line;
    for (const auto& id : ids) line += (line.empty() ? "" : " ") + id;
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  if (count) *count = lines.size();
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Every live person's identity record, for the restart comparison.
std::string Graph(const Engine& engine) {
  auto stats = engine.identity().Stats();
  std::string out;
  for (uint32_t p = 1; p <= stats.persons + stats.aliases; ++p) {
    auto j = engine.IdentityJson(p);
    out += std::to_string(p) + " " + (j.ok() ? *j : j.status().ToString()) + "\n";
    auto profile = engine.ProfileJson(p);
    out += profile.ok() ? *profile : profile.status().ToString();
    out += "\n";
  }
  return out;
}

// Steps reordered: events shuffled between corrections.
std::vector<Step> Reorder(const std::vector<Step>& steps, std::mt19937* rng, bool reverse) {
  std::vector<Step> out;
  size_t begin = 0;
  auto flush = [&](size_t end) {
    std::vector<Step> run(steps.begin() + begin, steps.begin() + end);
    if (reverse) {
      std::reverse(run.begin(), run.end());
    } else {
      std::shuffle(run.begin(), run.end(), *rng);
    }
    out.insert(out.end(), run.begin(), run.end());
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].kind == Step::kUnbind || steps[i].kind == Step::kSplit) {
      flush(i);
      out.push_back(steps[i]);
      begin = i + 1;
    }
  }
  flush(steps.size());
  return out;
}

class OneIdGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(OneIdGolden, PersonsMatchInEveryOrderAndAfterRestart) {
  const std::string path = GetParam();
  Scenario s = Load(path);
  ASSERT_FALSE(s.steps.empty()) << path;

  std::string in_order, graph_before;
  {
    testing::TempDir dir;
    {
      auto engine = Engine::Open(ConfigFor(dir.path()));
      ASSERT_TRUE(engine.ok()) << engine.status().ToString();
      for (const auto& step : s.steps) ASSERT_NO_FATAL_FAILURE(RunStep(engine->get(), step));
      size_t n = 0;
      in_order = Persons(**engine, &n);
      graph_before = Graph(**engine);
      if (s.expected_count >= 0) {
        EXPECT_EQ(static_cast<int64_t>(n), s.expected_count) << path;
      } else if (std::getenv("QUANYU_UPDATE_GOLDEN")) {
        testing::WriteFile(path, s.header + "persons:\n" + in_order);
      } else {
        EXPECT_EQ(in_order, s.expected) << path << " (in order)";
      }
      ASSERT_TRUE((*engine)->Close().ok());
    }
    auto reopened = Engine::Open(ConfigFor(dir.path()));
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    EXPECT_EQ(Persons(**reopened), in_order) << path << " (after restart)";
    EXPECT_EQ(Graph(**reopened), graph_before) << path << " (graph after restart)";
  }
  std::mt19937 rng(11);
  for (int round = 0; round < 6; ++round) {
    testing::TempDir dir;
    auto engine = Engine::Open(ConfigFor(dir.path()));
    ASSERT_TRUE(engine.ok());
    for (const auto& step : Reorder(s.steps, &rng, round == 0)) {
      ASSERT_NO_FATAL_FAILURE(RunStep(engine->get(), step));
    }
    EXPECT_EQ(Persons(**engine), in_order)
        << path
        << (round == 0 ? " (reversed)" : " (shuffled, round " + std::to_string(round) + ")");
  }
}

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& f : std::filesystem::directory_iterator(std::string(QUANYU_SOURCE_DIR) +
                                                           "/tests/golden/identity")) {
    if (f.path().extension() == ".test") files.push_back(f.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, OneIdGolden, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace quanyu
