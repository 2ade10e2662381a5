// privacy_bench: what the privacy gate costs each collected event. Simulates
// `persons` (default 50,000) and times, per event, what Engine::GateEvent
// runs for a person with no recorded consent (the common case):
// privacy::DecisionsOf (does the event carry consent?) and
// privacy::GateAtCollect with the default policy (analytics, child age,
// sensitive-property scan); then FoldDecisions of a person with a few
// decisions (what a person with consent on record adds); then the
// suppression-list check (one keyed hash per identifier of the event) with
// 1,000 deleted persons on the list; then the tokenization of direct
// identifiers at rest (privacy/pii.h: identifiers and payload, with the
// vault's seal-and-write of new values committed every 100 events, as an
// HTTP batch of 100 does, into an in-memory store). Run, not asserted
// (bench/RESULTS.md).
//
//   privacy_bench [persons] [repeat]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "privacy/consent.h"
#include "privacy/gate.h"
#include "privacy/pii.h"
#include "privacy/suppression.h"
#include "sim/sim.h"

namespace {

// The suppression list's persistence, in memory (the bench times lookups).
class MemoryKv final : public quanyu::KvStore {
 public:
  quanyu::Result<std::string> Get(std::string_view key) const override {
    auto it = kv_.find(std::string(key));
    if (it == kv_.end()) return quanyu::Status::NotFound("absent");
    return it->second;
  }
  quanyu::Status ScanPrefix(std::string_view prefix, const quanyu::KvScanFn& fn) const override {
    for (auto it = kv_.lower_bound(std::string(prefix));
         it != kv_.end() && it->first.starts_with(prefix); ++it) {
      RETURN_IF_ERROR(fn(it->first, it->second));
    }
    return quanyu::Status::OK();
  }
  quanyu::Status Write(const quanyu::KvWriteBatch& batch) override {
    for (const auto& op : batch.ops()) {
      if (op.is_delete) {
        kv_.erase(op.key);
      } else {
        kv_[op.key] = op.value;
      }
    }
    return quanyu::Status::OK();
  }

 private:
  std::map<std::string, std::string> kv_;
};

}  // namespace

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  quanyu::sim::SimOptions options;
  options.persons = argc > 1 ? std::atoll(argv[1]) : 50'000;
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 5;
  std::vector<quanyu::Event> events;
  std::mutex mu;  // the simulator calls the sink from its threads
  auto result = quanyu::sim::RunSimulation(options, [&](std::vector<quanyu::Event>&& batch) {
    std::lock_guard lock(mu);
    events.insert(events.end(), std::make_move_iterator(batch.begin()),
                  std::make_move_iterator(batch.end()));
    return quanyu::Status::OK();
  });
  if (!result.ok()) {
    std::fprintf(stderr, "privacy_bench: %s\n", result.status().ToString().c_str());
    return 1;
  }
  const quanyu::privacy::CollectPolicy policy;
  const quanyu::privacy::ConsentState nobody;
  std::vector<double> gate_ns;
  size_t carrying = 0, stripped = 0, dropped = 0;
  for (int r = 0; r < repeat; ++r) {
    std::vector<quanyu::Event> copy = events;  // the gate edits events in place
    carrying = stripped = dropped = 0;
    const auto start = Clock::now();
    for (auto& e : copy) {
      const bool carries = !quanyu::privacy::DecisionsOf(e).empty();
      carrying += carries;
      auto v = quanyu::privacy::GateAtCollect(policy, nobody, carries, &e);
      stripped += v.stripped;
      dropped += v.drop;
    }
    gate_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                      static_cast<double>(copy.size()));
  }
  std::sort(gate_ns.begin(), gate_ns.end());
  // A person with consent on record: fold four decisions.
  std::vector<quanyu::privacy::ConsentDecision> four(4);
  for (size_t i = 0; i < four.size(); ++i) {
    four[i].topic = static_cast<quanyu::privacy::Topic>(i);
    four[i].status = quanyu::privacy::ConsentStatus::kGranted;
    four[i].time_us = static_cast<int64_t>(i);
    four[i].message_id = "m" + std::to_string(i);
  }
  const int folds = 1'000'000;
  size_t granted = 0;
  const auto fold_start = Clock::now();
  for (int i = 0; i < folds; ++i) {
    granted += quanyu::privacy::FoldDecisions(four).granted(quanyu::privacy::Topic::kMarketing);
  }
  const double fold_ns =
      std::chrono::duration<double, std::nano>(Clock::now() - fold_start).count() / folds;
  // The suppression list with 1,000 deleted persons' identifiers.
  auto ring = quanyu::privacy::KeyRing::Generate();
  MemoryKv kv;
  auto list = quanyu::privacy::SuppressionList::Open(&kv, &*ring);
  std::vector<quanyu::privacy::SuppressionList::Hash> deleted;
  for (size_t i = 0; i < events.size() && deleted.size() < 1000; i += events.size() / 1000 + 1) {
    for (const auto& id : events[i].identifiers) deleted.push_back((*list)->HashOf(id));
  }
  (void)(*list)->Add(deleted, "bench");
  std::vector<double> suppress_ns;
  size_t suppressed = 0, identifiers = 0;
  for (int r = 0; r < repeat; ++r) {
    suppressed = identifiers = 0;
    const auto start = Clock::now();
    for (const auto& e : events) {
      suppressed += (*list)->Matches(e);
      identifiers += e.identifiers.size();
    }
    suppress_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                          static_cast<double>(events.size()));
  }
  std::sort(suppress_ns.begin(), suppress_ns.end());
  // Tokenization at rest, each run on a fresh vault (every value is new
  // once, as when the data first arrives).
  std::vector<double> tokenize_ns;
  size_t sealed = 0;
  for (int r = 0; r < repeat; ++r) {
    std::vector<quanyu::Event> copy = events;
    MemoryKv vault_kv;
    auto vault = quanyu::privacy::PiiVault::Open(&vault_kv, *ring);
    quanyu::privacy::PiiVault::Pending pending;
    const auto start = Clock::now();
    for (size_t i = 0; i < copy.size(); ++i) {
      quanyu::privacy::TokenizeIdentifiers(**vault, &pending, &copy[i]);
      quanyu::privacy::TokenizePayload(**vault, &pending, &copy[i]);
      if (i % 100 == 99) (void)(*vault)->Commit(&pending);
    }
    (void)(*vault)->Commit(&pending);
    tokenize_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                          static_cast<double>(copy.size()));
    sealed = (*vault)->size();
  }
  std::sort(tokenize_ns.begin(), tokenize_ns.end());
  std::printf("events           %zu (%lld persons)\n", events.size(),
              static_cast<long long>(result->persons));
  std::printf("carrying consent %zu; sensitive properties stripped %zu; dropped %zu\n", carrying,
              stripped, dropped);
  std::printf("gate per event   best %.0f ns, median %.0f ns (%d runs)\n", gate_ns.front(),
              gate_ns[gate_ns.size() / 2], repeat);
  std::printf("fold of 4 decisions %.0f ns (%zu)\n", fold_ns, granted);
  std::printf(
      "suppression check per event best %.0f ns, median %.0f ns (%zu hashes listed; %.2f "
      "identifiers per event; %zu events suppressed)\n",
      suppress_ns.front(), suppress_ns[suppress_ns.size() / 2], (*list)->size(),
      static_cast<double>(identifiers) / static_cast<double>(events.size()), suppressed);
  std::printf("tokenization at rest per event best %.0f ns, median %.0f ns (%zu values sealed)\n",
              tokenize_ns.front(), tokenize_ns[tokenize_ns.size() / 2], sealed);
  return 0;
}
