// The simulator: a deterministic (seeded) synthetic omni-channel world with
// known ground truth, for demos, benchmarks and validating analyses.
//
// Persons own several devices and platform accounts (web/app anonymous ids,
// WeChat openids in two appids plus a unionid, Douyin openid, phone and
// member id on login). Journeys move across platforms (e.g. a Douyin video,
// then a Xiaohongshu search, then a WeChat mini-program order); channels have
// known incremental effects; buyers repeat by a BG/NBD-like process; daily ad
// spend per channel has diminishing returns; consent changes, NPS answers and
// referral invites happen at known rates.
//
// The same options and seed always produce the same events, in the same
// order per shard. Thread-safety: RunSimulation may use several threads
// internally and calls the sink from them concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/event.h"
#include "common/result.h"

namespace quanyu::sim {

struct SimOptions {
  uint64_t seed = 42;
  int64_t persons = 10'000;
  int64_t start_us = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
  int days = 90;
  int threads = 0;  // 0 = one per core; never changes the events produced
  // Events per sink call (approximate: a person's events are never split
  // across batches, so a batch may exceed this by one person's events).
  // ~2000 keeps a thread's batch (~1 KB per event) inside its L2 cache, which
  // doubles throughput compared with 4096 (see docs/sim.md, "Performance").
  int batch_events = 2048;
  // Share of identifier-carrying events where one identifier value is
  // replaced by a junk value ("null", "undefined", "0", ...). See docs/sim.md.
  double junk_identifier_rate = 0.01;
  // The identifier -> true person map is written into the ground truth only
  // when persons <= this (it grows ~250 bytes per person).
  int64_t identity_truth_max_persons = 100'000;
};

// A source the simulated events come from (source name is set on each event).
struct SimSource {
  std::string name;
  std::string type;  // web, ios, android, wechat_mp, wechat_oa, douyin_mp, tmall_store, pos, crm
};

struct SpendRow {
  std::string date;  // YYYY-MM-DD
  std::string channel;
  std::string campaign;
  double spend = 0;
  int64_t impressions = 0;
  int64_t clicks = 0;
};

// Receives batches of events (in time order within one person). May be called
// concurrently from several threads. An error stops the simulation.
using EventSink = std::function<Status(std::vector<Event>&& batch)>;
// Progress: persons done so far out of options.persons.
using ProgressFn = std::function<void(int64_t persons_done)>;

struct SimResult {
  int64_t persons = 0;
  int64_t events = 0;
  std::vector<SimSource> sources;
  std::vector<SpendRow> spend;
  std::string ground_truth_json;  // see docs/sim.md
};

// Runs the simulation, feeding every event to `sink`. Events carry source,
// messageId "sim-<seed>-<person>-<n>" (n counts the person's events in time
// order), timestamps in [start_us, start_us + days), identifiers (raw, as an
// SDK would send them: user_id / anonymous_id in their fields, everything
// else in `identifiers`), campaign/referrer/url, commerce columns and
// properties. The channel is left empty: the ingest path classifies it.
// `progress` is called from the calling thread only, about every 200 ms and
// once at the end.
// Returns InvalidArgument for out-of-range options or a missing sink, or the
// error of a failing sink call (the other threads stop before their next
// person); exceptions thrown by the sink or progress callback are caught and
// returned as Internal. Thread-safety: reentrant; `sink` must be safe to call
// concurrently.
// The sources every simulated event comes from (name and type), so a caller
// can create them before running.
std::vector<SimSource> SimulatedSources();

Result<SimResult> RunSimulation(const SimOptions& options, const EventSink& sink,
                                const ProgressFn& progress = nullptr);

}  // namespace quanyu::sim
