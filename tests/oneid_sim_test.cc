// One-ID against the simulator's ground truth (docs/sim.md "Ground truth").
//
// The truth lists, per true person, every identifier that appeared in some
// event — including ones no event ever shows next to another identifier of
// the same person (a browser that never logged in, a mini-program openid
// without unionid authorization, a Tmall nick of a non-member). No
// deterministic resolver can join those, so three figures are measured:
//   * precision and recall of the engine's merges against the true persons;
//   * the ceiling: the recall of an oracle that links every pair of
//     identifiers the same true person ever sent together (it knows the true
//     person of each event from the simulator's messageId);
//   * precision and recall against the persons the evidence supports (the
//     oracle's components) — the ones that must be >= 0.99.
// Pairwise over identifiers. The simulated world includes junk values,
// shared in-store demo devices, phones in many formats, and WeChat openids
// of two appids joined by unionids.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_map>

#include "collect/normalize.h"
#include "engine/engine.h"
#include "sim/sim.h"
#include "test_util.h"

namespace quanyu {
namespace {

uint64_t Pairs(uint64_t n) { return n * (n - 1) / 2; }

struct Scores {
  double precision = 0, recall = 0;
};

// Pairwise scores of a predicted labelling against a true one, over the same
// items.
Scores Score(const std::vector<uint64_t>& truth, const std::vector<uint64_t>& predicted) {
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> cell;
  std::map<uint64_t, uint64_t> t, p;
  for (size_t i = 0; i < truth.size(); ++i) {
    ++cell[{truth[i], predicted[i]}];
    ++t[truth[i]];
    ++p[predicted[i]];
  }
  uint64_t tp = 0, tpairs = 0, ppairs = 0;
  for (const auto& [k, n] : cell) tp += Pairs(n);
  for (const auto& [k, n] : t) tpairs += Pairs(n);
  for (const auto& [k, n] : p) ppairs += Pairs(n);
  return {ppairs ? double(tp) / double(ppairs) : 1.0, tpairs ? double(tp) / double(tpairs) : 1.0};
}

class UnionFind {
 public:
  explicit UnionFind(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  size_t Find(size_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Union(size_t a, size_t b) { parent_[Find(a)] = Find(b); }

 private:
  std::vector<size_t> parent_;
};

TEST(OneIdSim, DefaultRulesMergeWhatTheEvidenceSupports) {
  testing::TempDir dir;
  Config config;
  // The simulator's truth counts the events of persons who refused
  // analytics too: keep them ([privacy] analytics_consent = "accept").
  config.privacy_analytics_consent = "accept";
  config.data_dir = dir.path();
  auto engine = Engine::Open(config);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  std::unordered_map<std::string, collect::SourceInfo> sources;
  for (const auto& s : sim::SimulatedSources()) {
    ASSERT_TRUE((*engine)->AddSource(s.name, s.type).ok());
    sources[s.name] = {s.name, s.type};
  }
  // What each event says, normalized as ingest does: (true person, ids).
  collect::Normalizer normalizer(config);
  std::mutex mu;
  std::vector<std::pair<uint64_t, std::vector<std::string>>> evidence;

  sim::SimOptions options;
  options.persons = 20'000;
  options.days = 60;
  auto result = sim::RunSimulation(options, [&](std::vector<Event>&& batch) -> Status {
    std::vector<std::pair<uint64_t, std::vector<std::string>>> mine;
    for (const auto& e : batch) {
      Event copy = e;
      normalizer.Normalize(&copy, sources.at(e.source));
      // messageId "sim-<seed>-<person>-<n>"
      auto a = copy.message_id.find('-', 4);
      uint64_t person = std::stoull(copy.message_id.substr(a + 1));
      std::vector<std::string> ids;
      for (const auto& id : copy.identifiers) ids.push_back(id.ToString());
      mine.emplace_back(person, std::move(ids));
    }
    {
      std::lock_guard lock(mu);
      for (auto& m : mine) evidence.push_back(std::move(m));
    }
    std::unordered_map<std::string, std::vector<Event>> groups;
    for (auto& e : batch) groups[e.source].push_back(std::move(e));
    for (auto& [name, group] : groups) {
      IngestResult r = (*engine)->BulkLoad(sources.at(name), std::move(group));
      if (!r.status.ok()) return r.status;
    }
    return Status::OK();
  });
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_TRUE((*engine)->FinishBulkLoad().ok());

  // Every identifier of the truth, with its true person.
  auto truth = nlohmann::json::parse(result->ground_truth_json);
  std::unordered_map<std::string, size_t> index;
  std::vector<uint64_t> true_person;
  std::vector<std::string> names;
  for (const auto& p : truth.at("identity").at("persons")) {
    uint64_t person = std::stoull(p.at("person").get<std::string>().substr(1));
    for (const auto& id : p.at("identifiers")) {
      index[id.get<std::string>()] = names.size();
      names.push_back(id.get<std::string>());
      true_person.push_back(person);
    }
  }
  // The oracle: link what one true person sent together (shared devices and
  // junk are in no person's list, so they link nothing).
  UnionFind oracle(names.size());
  for (const auto& [person, ids] : evidence) {
    size_t first = SIZE_MAX;
    for (const auto& id : ids) {
      auto it = index.find(id);
      if (it == index.end() || true_person[it->second] != person) continue;
      if (first == SIZE_MAX) {
        first = it->second;
      } else {
        oracle.Union(first, it->second);
      }
    }
  }
  std::vector<uint64_t> supported(names.size()), engine_person(names.size());
  uint64_t unresolved = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    supported[i] = oracle.Find(i);
    auto p = (*engine)->LookupPerson(names[i]);
    if (!p.ok()) ++unresolved;
    engine_person[i] = p.ok() ? *p : (uint64_t{1} << 40) + i;  // unknown: a person of its own
  }
  Scores vs_truth = Score(true_person, engine_person);
  Scores ceiling = Score(true_person, supported);
  Scores vs_evidence = Score(supported, engine_person);
  auto stats = (*engine)->Stats().identity;
  std::printf(
      "one-id on sim (%lld persons, %lld events, %zu identifiers, %llu unresolved):\n"
      "  vs true persons:      precision %.5f recall %.5f (ceiling: recall %.5f)\n"
      "  vs evidence-linkable: precision %.5f recall %.5f\n"
      "  graph: %llu persons, %llu merges, %llu conflicts, %llu rebuilds\n",
      static_cast<long long>(options.persons), static_cast<long long>(result->events), names.size(),
      static_cast<unsigned long long>(unresolved), vs_truth.precision, vs_truth.recall,
      ceiling.recall, vs_evidence.precision, vs_evidence.recall,
      static_cast<unsigned long long>(stats.persons), static_cast<unsigned long long>(stats.merges),
      static_cast<unsigned long long>(stats.conflicts),
      static_cast<unsigned long long>(stats.rebuilds));
  EXPECT_EQ(unresolved, 0u) << "every identifier the simulator sent must be known";
  EXPECT_GE(vs_truth.precision, 0.99);
  EXPECT_GE(vs_evidence.precision, 0.99);
  EXPECT_GE(vs_evidence.recall, 0.99);
  EXPECT_NEAR(vs_truth.recall, ceiling.recall, 0.01)
      << "recall against the truth should reach what the evidence allows";
}

}  // namespace
}  // namespace quanyu
