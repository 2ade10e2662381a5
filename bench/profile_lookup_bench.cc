// profile_lookup_bench: latency of a profile lookup (Engine::LookupPerson of
// an identifier, then Engine::ProfileJson of its one_id) with and without
// ingest running (issue 3).
//
// Opens a real Engine on a temporary data directory, declares the
// simulator's sources, generates --persons persons and sorts their events by
// time, cut into per-source batches of --batch events in that order. Then:
//   1. max ingest: one thread calls Engine::IngestFromSource (the durable
//      path: normalize, dedupe, log fsync, identity, profiles, store) on the
//      first batches as fast as it can, for at most --max-seconds or a fifth
//      of the events, and reports events/s;
//   2. idle: Checkpoint(), then one thread looks up random identifiers known
//      from step 1 as fast as it can for --idle-seconds;
//   3. under ingest: one thread ingests the next batches rate-limited to half
//      of step 1's rate while another does the lookups, for --seconds (or
//      until the events run out);
//   4. idle again, on the larger data set.
// Latency is per call (lookup + profile), percentiles over every call.
//
//   profile_lookup_bench [--persons=100000] [--batch=500] [--seconds=20]
//                        [--idle-seconds=10] [--max-seconds=5] [--dir=PATH]
//                        [--checkpoint-interval-s=S]   (Config::checkpoint_interval_s:
//                        how often the maintenance thread may checkpoint the
//                        identity graph, profiles and dedupe ids; default 15)
//
// Run, not asserted (bench/run.sh).
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collect/normalize.h"
#include "common/config.h"
#include "common/event.h"
#include "engine/engine.h"
#include "sim/sim.h"

namespace quanyu {
namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Flags {
  int64_t persons = 100'000;
  size_t batch = 500;
  double seconds = 20;
  double idle_seconds = 10;
  double max_seconds = 5;
  int checkpoint_interval_s = -1;  // -1: the Config default
  std::string dir;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      size_t n = std::strlen(name);
      return arg.compare(0, n, name) == 0 ? arg.c_str() + n : nullptr;
    };
    if (const char* v = value("--persons=")) {
      f->persons = std::atoll(v);
    } else if (const char* v = value("--batch=")) {
      f->batch = static_cast<size_t>(std::atoll(v));
    } else if (const char* v = value("--seconds=")) {
      f->seconds = std::atof(v);
    } else if (const char* v = value("--idle-seconds=")) {
      f->idle_seconds = std::atof(v);
    } else if (const char* v = value("--max-seconds=")) {
      f->max_seconds = std::atof(v);
    } else if (const char* v = value("--checkpoint-interval-s=")) {
      f->checkpoint_interval_s = std::atoi(v);
    } else if (const char* v = value("--dir=")) {
      f->dir = v;
    } else {
      return false;
    }
  }
  return f->persons > 0 && f->batch > 0;
}

struct Batch {
  collect::SourceInfo source;
  std::vector<Event> events;
};

// Per-call latencies of a lookup loop.
struct Latencies {
  std::vector<int64_t> ns;
  std::vector<std::pair<double, double>> slow;  // (seconds into the loop, ms) of calls > 10 ms
  size_t not_found = 0, errors = 0;
  double seconds = 0;

  void PrintSlow(const char* label) const {
    if (slow.empty()) return;
    std::printf("  %s: %zu calls over 10 ms, at s (ms):", label, slow.size());
    for (size_t i = 0; i < slow.size() && i < 12; ++i) {
      std::printf(" %.1f (%.0f)", slow[i].first, slow[i].second);
    }
    std::printf("%s\n", slow.size() > 12 ? " ..." : "");
  }

  void Print(const char* label) {
    std::sort(ns.begin(), ns.end());
    auto pct = [&](double q) {
      if (ns.empty()) return 0.0;
      size_t i = std::min(ns.size() - 1, static_cast<size_t>(q * static_cast<double>(ns.size())));
      return static_cast<double>(ns[i]) / 1000.0;
    };
    std::printf("%-30s %9zu %9.0f %9.1f %9.1f %9.1f %9.1f %9.1f  %zu not found, %zu errors\n",
                label, ns.size(), static_cast<double>(ns.size()) / seconds, pct(0.5), pct(0.9),
                pct(0.99), pct(0.999), ns.empty() ? 0.0 : static_cast<double>(ns.back()) / 1000.0,
                not_found, errors);
  }
};

// Looks up random identifiers of `known` until `stop`, one call at a time.
Latencies LookupLoop(const Engine& engine, const std::vector<std::string>& known,
                     const std::atomic<bool>& stop, uint64_t seed) {
  Latencies out;
  out.ns.reserve(1 << 20);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, known.size() - 1);
  size_t bytes = 0;
  auto start = SteadyClock::now();
  while (!stop.load(std::memory_order_relaxed)) {
    const std::string& id = known[pick(rng)];
    auto t0 = SteadyClock::now();
    auto person = engine.LookupPerson(id);
    if (person.ok()) {
      auto profile = engine.ProfileJson(*person);
      if (profile.ok()) {
        bytes += profile->size();
      } else {
        ++out.errors;
      }
    } else if (person.status().code() == StatusCode::kNotFound) {
      ++out.not_found;
    } else {
      ++out.errors;
    }
    int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - t0).count();
    out.ns.push_back(ns);
    if (ns > 10'000'000) out.slow.emplace_back(Seconds(start), static_cast<double>(ns) / 1e6);
  }
  out.seconds = Seconds(start);
  if (bytes == 0 && !out.ns.empty()) ++out.errors;  // every profile empty: something is wrong
  return out;
}

Latencies IdleLookups(const Engine& engine, const std::vector<std::string>& known, double seconds,
                      uint64_t seed) {
  std::atomic<bool> stop{false};
  std::thread timer([&] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
  });
  Latencies l = LookupLoop(engine, known, stop, seed);
  timer.join();
  return l;
}

int Run(const Flags& flags) {
  std::string dir = flags.dir;
  if (dir.empty()) {
    char tmpl[] = "/tmp/quanyu_profile_lookup_bench.XXXXXX";
    if (!mkdtemp(tmpl)) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  Config config;
  config.data_dir = dir;
  if (flags.checkpoint_interval_s >= 0) config.checkpoint_interval_s = flags.checkpoint_interval_s;
  auto opened = Engine::Open(config);
  if (!opened.ok()) {
    std::fprintf(stderr, "profile_lookup_bench: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<Engine> engine = std::move(*opened);
  std::unordered_map<std::string, collect::SourceInfo> sources;
  for (const auto& s : sim::SimulatedSources()) {
    auto added = engine->AddSource(s.name, s.type);
    if (!added.ok()) {
      std::fprintf(stderr, "profile_lookup_bench: %s\n", added.status().ToString().c_str());
      return 1;
    }
    sources[s.name] = {s.name, s.type};
  }

  // --- Events, in time order, cut into per-source batches ----------------------
  std::vector<Event> events;
  std::mutex events_mu;
  sim::SimOptions options;
  options.persons = flags.persons;
  options.identity_truth_max_persons = 0;
  auto sim = sim::RunSimulation(options, [&](std::vector<Event>&& batch) {
    std::lock_guard lock(events_mu);
    for (Event& e : batch) events.push_back(std::move(e));
    return Status::OK();
  });
  if (!sim.ok()) {
    std::fprintf(stderr, "profile_lookup_bench: %s\n", sim.status().ToString().c_str());
    return 1;
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.timestamp_us != b.timestamp_us) return a.timestamp_us < b.timestamp_us;
    return a.message_id < b.message_id;
  });
  std::vector<Batch> batches;
  {
    std::unordered_map<std::string, std::vector<Event>> pending;
    for (Event& e : events) {
      auto& p = pending[e.source];
      p.push_back(std::move(e));
      if (p.size() == flags.batch) {
        batches.push_back({sources[p.front().source], std::move(p)});
        p.clear();
      }
    }
    for (auto& [name, p] : pending) {
      if (!p.empty()) batches.push_back({sources[name], std::move(p)});
    }
  }
  const size_t total_events = events.size();
  events.clear();
  events.shrink_to_fit();

  // --- 1. Max ingest rate, one thread ----------------------------------------------
  // Identifiers to look up later: those of one event in 8 of the batches
  // step 1 may ingest, normalized as ingest will (kept only if step 1 did
  // ingest their batch, so each is known when looked up).
  collect::Normalizer normalizer(config);
  std::vector<std::pair<size_t, std::string>> candidates;  // (batch, identifier)
  {
    std::unordered_set<std::string> seen;
    size_t events_seen = 0;
    for (size_t b = 0; b < batches.size() && events_seen < total_events / 5; ++b) {
      for (size_t i = 0; i < batches[b].events.size(); i += 8) {
        Event copy = batches[b].events[i];
        normalizer.Normalize(&copy, batches[b].source);
        for (const Identifier& id : copy.identifiers) {
          std::string s = id.ToString();
          if (seen.insert(s).second) candidates.emplace_back(b, std::move(s));
        }
      }
      events_seen += batches[b].events.size();
    }
  }
  size_t next = 0, accepted = 0, sent = 0;
  auto ingest = [&](Batch& b) -> bool {
    size_t n = b.events.size();
    IngestResult r = engine->IngestFromSource(b.source, std::move(b.events));
    b.events.clear();
    b.events.shrink_to_fit();
    sent += n;
    accepted += r.accepted;
    if (!r.status.ok()) {
      std::fprintf(stderr, "profile_lookup_bench: ingest: %s\n", r.status.ToString().c_str());
      return false;
    }
    return true;
  };
  auto start = SteadyClock::now();
  double cpu0 = ProcessCpuSeconds();
  while (next < batches.size() && sent < total_events / 5 && Seconds(start) < flags.max_seconds) {
    if (!ingest(batches[next++])) return 1;
  }
  const double max_seconds = Seconds(start);
  const double max_cpu = ProcessCpuSeconds() - cpu0;
  const double max_rate = static_cast<double>(sent) / max_seconds;
  const size_t max_events = sent;
  std::vector<std::string> known;
  for (auto& [b, id] : candidates) {
    if (b < next) known.push_back(std::move(id));
  }
  candidates.clear();
  std::printf("data dir                       %s\n", dir.c_str());
  std::printf("persons simulated              %lld (%zu events, %zu batches of <= %zu)\n",
              static_cast<long long>(flags.persons), total_events, batches.size(), flags.batch);
  std::printf("max ingest, one thread         %.0f events/s (%zu events in %.1f s, %.2f cpu-s)\n",
              max_rate, max_events, max_seconds, max_cpu);
  std::printf("identifiers to look up         %zu\n", known.size());
  if (known.empty()) return 1;

  std::printf("\n%-30s %9s %9s %9s %9s %9s %9s %9s\n", "lookup + profile (us)", "calls", "calls/s",
              "p50", "p90", "p99", "p999", "max");
  // --- 2. Idle ----------------------------------------------------------------------
  std::vector<double> checkpoint_ms;
  auto checkpoint = [&]() -> bool {
    auto t0 = SteadyClock::now();
    Status st = engine->Checkpoint();
    checkpoint_ms.push_back(Seconds(t0) * 1e3);
    if (!st.ok()) {
      std::fprintf(stderr, "profile_lookup_bench: checkpoint: %s\n", st.ToString().c_str());
    }
    return st.ok();
  };
  if (!checkpoint()) return 1;
  IdleLookups(*engine, known, 1, 7);  // warm-up, not reported
  Latencies idle = IdleLookups(*engine, known, flags.idle_seconds, 1);
  idle.Print("no ingest");

  // --- 3. Under ingest at half the max rate --------------------------------------------
  const double target = max_rate / 2;
  std::atomic<bool> stop{false};
  size_t under_sent = 0;
  double under_seconds = 0;
  bool ingest_ok = true;
  std::thread ingester([&] {
    const size_t sent0 = sent;
    auto t0 = SteadyClock::now();
    while (next < batches.size() && Seconds(t0) < flags.seconds) {
      auto due =
          t0 + std::chrono::duration_cast<SteadyClock::duration>(
                   std::chrono::duration<double>(static_cast<double>(sent - sent0) / target));
      std::this_thread::sleep_until(due);
      if (!ingest(batches[next++])) {
        ingest_ok = false;
        break;
      }
    }
    under_seconds = Seconds(t0);
    under_sent = sent - sent0;
    stop = true;
  });
  Latencies busy = LookupLoop(*engine, known, stop, 2);
  ingester.join();
  if (!ingest_ok) return 1;
  busy.Print("ingest at half the max rate");

  // --- 4. Idle again, on everything loaded so far -----------------------------------------
  if (!checkpoint()) return 1;
  Latencies after = IdleLookups(*engine, known, flags.idle_seconds, 3);
  after.Print("no ingest, after");
  std::printf("\n");
  idle.PrintSlow("no ingest");
  busy.PrintSlow("under ingest");
  after.PrintSlow("no ingest, after");
  std::printf("Engine::Checkpoint() before steps 2 and 4: %.0f ms, %.0f ms\n", checkpoint_ms[0],
              checkpoint_ms[1]);

  const auto stats = engine->Stats();
  std::printf(
      "\ningest under lookups           %.0f events/s achieved (target %.0f; %zu events in "
      "%.1f s)\n",
      static_cast<double>(under_sent) / under_seconds, target, under_sent, under_seconds);
  std::printf("events accepted in all         %zu\n", accepted);
  std::printf("persons in the graph           %llu (%llu identifiers)\n",
              static_cast<unsigned long long>(stats.identity.persons),
              static_cast<unsigned long long>(stats.identity.identifiers));
  if (Status st = engine->Close(); !st.ok()) {
    std::fprintf(stderr, "profile_lookup_bench: close: %s\n", st.ToString().c_str());
  }
  engine.reset();
  if (flags.dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace quanyu

int main(int argc, char** argv) {
  quanyu::Flags flags;
  if (!quanyu::ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: %s [--persons=N] [--batch=N] [--seconds=S] [--idle-seconds=S] "
                 "[--max-seconds=S] [--dir=PATH] [--checkpoint-interval-s=S]\n",
                 argv[0]);
    return 2;
  }
  return quanyu::Run(flags);
}
