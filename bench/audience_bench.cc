// audience_bench: issue 5's benchmarks (figures in bench/RESULTS.md). Run,
// not asserted.
//
//   audience_bench --mode=bitmap [--universe=100000000] [--repeat=9]
//       One AND and one OR of two cached conditions over a universe of
//       --universe persons through AudienceEvaluator, beside the bare
//       CRoaring operation on the same two bitmaps (the limit).
//   audience_bench --mode=synthetic5 [--universe=10000000] [--repeat=9]
//       A warm 5-condition AND over a synthetic universe (random persons,
//       no runs: the hard case for Roaring), through AudienceEvaluator.
//   audience_bench --mode=preview --data=DIR [--repeat=9]
//       Opens a `quanyu sim` data directory through the real Engine, runs
//       RFM, then previews a 5-condition audience (2 trait, 2 event, 1 RFM):
//       cold once, then warm --repeat times.
//   audience_bench --mode=realtime --data=DIR [--batches=10] [--batch=5000]
//       Saves 5 audiences, refreshes once (baseline), then --batches times:
//       ingests --batch events through the engine's logged path and waits
//       until the realtime thread has recorded their membership changes;
//       reports that wait per batch and per event. Then ingests another
//       --batches batches back to back and waits once (the thread takes
//       several queued batches per round). Writes to DIR: run it on a copy.
#include <roaring/roaring.h>

#include <algorithm>
#include <map>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "audience/evaluator.h"
#include "audience/language.h"
#include "common/time_util.h"
#include "bench_util.h"
#include "engine/engine.h"

namespace {

using quanyu::Status;
using namespace quanyu::audience;

using quanyu::bench::Arg;
using quanyu::bench::Clock;
using quanyu::bench::Ms;
using quanyu::bench::Time;
using quanyu::bench::Timing;

// Computed traits over a synthetic universe: computed.NAME = 1 for the
// persons listed under NAME.
class SyntheticData final : public AudienceData {
 public:
  std::map<std::string, std::vector<uint32_t>, std::less<>> lists;
  Status ForEachTrait(std::string_view, const ValueFn&) const override {
    return Status::InvalidArgument("no traits here");
  }
  std::optional<Json> TraitOf(uint32_t, std::string_view) const override { return std::nullopt; }
  Status ForEachStoredAttribute(Namespace, std::string_view name, const ValueFn& fn) const override {
    static const Json one = 1;
    auto it = lists.find(name);
    if (it == lists.end()) return Status::InvalidArgument("no computed." + std::string(name));
    for (uint32_t id : it->second) fn(id, one);
    return Status::OK();
  }
  quanyu::Result<Node> AudienceDefinition(std::string_view) const override {
    return Status::NotFound("none");
  }
};

int Bitmap(int argc, char** argv) {
  const uint32_t n = static_cast<uint32_t>(std::stoul(Arg(argc, argv, "universe", "100000000")));
  const int repeat = std::stoi(Arg(argc, argv, "repeat", "9"));
  std::mt19937_64 rng(7);
  SyntheticData data;
  quanyu::DenseArray<uint32_t> one_ids;
  for (uint32_t k = 1; k <= n; ++k) {
    one_ids.Set(k, k);
    const uint64_t r = rng();
    if ((r & 1) == 0) data.lists["a"].push_back(k);       // half the persons
    if ((r >> 1) % 10 < 3) data.lists["b"].push_back(k);  // 30%
  }
  EvalContext ctx;
  ctx.query.one_ids = &one_ids;
  ctx.data = &data;
  ctx.now_us = 1;
  ctx.data_version = 1;
  AudienceEvaluator ev(size_t{4} << 30);
  auto and_def = ParseText("computed.a = 1 AND computed.b = 1");
  auto or_def = ParseText("computed.a = 1 OR computed.b = 1");
  auto t0 = Clock::now();
  auto cold = ev.Evaluate(*and_def, ctx);
  const double cold_ms = Ms(t0, Clock::now());
  if (!cold.ok() || !ev.Evaluate(*or_def, ctx).ok()) return 1;
  roaring_bitmap_t* ra = roaring_bitmap_of_ptr(data.lists["a"].size(), data.lists["a"].data());
  roaring_bitmap_t* rb = roaring_bitmap_of_ptr(data.lists["b"].size(), data.lists["b"].data());
  roaring_bitmap_run_optimize(ra);
  roaring_bitmap_run_optimize(rb);
  uint64_t and_n = 0, or_n = 0;
  Timing raw_and = Time(repeat, [&] {
    roaring_bitmap_t* r = roaring_bitmap_and(ra, rb);
    and_n = roaring_bitmap_get_cardinality(r);
    roaring_bitmap_free(r);
  });
  Timing raw_or = Time(repeat, [&] {
    roaring_bitmap_t* r = roaring_bitmap_or(ra, rb);
    or_n = roaring_bitmap_get_cardinality(r);
    roaring_bitmap_free(r);
  });
  uint64_t ev_and_n = 0, ev_or_n = 0;
  Timing ev_and = Time(repeat, [&] { ev_and_n = ev.Evaluate(*and_def, ctx)->cardinality(); });
  Timing ev_or = Time(repeat, [&] { ev_or_n = ev.Evaluate(*or_def, ctx)->cardinality(); });
  std::printf("universe %u persons; a %zu, b %zu; cold AND (building both bitmaps from values) %.0f ms\n",
              n, data.lists["a"].size(), data.lists["b"].size(), cold_ms);
  std::printf("%-28s %10s %10s %12s\n", "operation", "best ms", "median ms", "result");
  std::printf("%-28s %10.2f %10.2f %12lu\n", "CRoaring and (the limit)", raw_and.best, raw_and.median, and_n);
  std::printf("%-28s %10.2f %10.2f %12lu\n", "evaluator AND, warm", ev_and.best, ev_and.median, ev_and_n);
  std::printf("%-28s %10.2f %10.2f %12lu\n", "CRoaring or (the limit)", raw_or.best, raw_or.median, or_n);
  std::printf("%-28s %10.2f %10.2f %12lu\n", "evaluator OR, warm", ev_or.best, ev_or.median, ev_or_n);
  roaring_bitmap_free(ra);
  roaring_bitmap_free(rb);
  return and_n == ev_and_n && or_n == ev_or_n ? 0 : 1;
}

// The warm evaluation of a 5-condition AND over a synthetic universe: the
// cost of a warm preview once every condition is cached, whatever its kind
// (a cached trait, event or RFM leaf is a bitmap like these).
int Synthetic5(int argc, char** argv) {
  const uint32_t n = static_cast<uint32_t>(std::stoul(Arg(argc, argv, "universe", "10000000")));
  const int repeat = std::stoi(Arg(argc, argv, "repeat", "9"));
  std::mt19937_64 rng(11);
  SyntheticData data;
  quanyu::DenseArray<uint32_t> one_ids;
  // Shares like the sim's: a city (20%), a gender (50%), ordered twice
  // (30%), viewed on Douyin 3+ times (40%), an RFM segment set (15%).
  const std::pair<const char*, int> shares[] = {{"city", 20}, {"gender", 50}, {"orders", 30},
                                                {"views", 40}, {"rfm", 15}};
  for (uint32_t k = 1; k <= n; ++k) {
    one_ids.Set(k, k);
    for (const auto& [name, pct] : shares) {
      if (static_cast<int>(rng() % 100) < pct) data.lists[name].push_back(k);
    }
  }
  EvalContext ctx;
  ctx.query.one_ids = &one_ids;
  ctx.data = &data;
  ctx.now_us = 1;
  ctx.data_version = 1;
  AudienceEvaluator ev;
  auto def = ParseText("computed.city = 1 AND computed.gender = 1 AND computed.orders = 1 AND "
                       "computed.views = 1 AND computed.rfm = 1");
  auto t0 = Clock::now();
  auto cold = ev.Evaluate(*def, ctx);
  const double cold_ms = Ms(t0, Clock::now());
  if (!cold.ok()) return 1;
  uint64_t count = 0;
  Timing warm = Time(repeat, [&] { count = ev.Evaluate(*def, ctx)->cardinality(); });
  std::printf("universe %u persons, 5 conditions (20/50/30/40/15%%): cold %.0f ms (building the "
              "bitmaps from values), warm best %.2f ms, median %.2f ms, %lu persons\n",
              n, cold_ms, warm.best, warm.median, count);
  return count == cold->cardinality() ? 0 : 1;
}

std::unique_ptr<quanyu::Engine> OpenEngine(const std::string& dir) {
  quanyu::Config c;
  c.data_dir = dir;
  c.audience_refresh_interval_s = 7 * 86400;  // the bench refreshes by hand
  c.audience_recompute_interval_s = 7 * 86400;
  auto t0 = Clock::now();
  auto e = quanyu::Engine::Open(c);
  if (!e.ok()) {
    std::fprintf(stderr, "open: %s\n", e.status().ToString().c_str());
    std::exit(1);
  }
  std::printf("engine open %.1f s\n", Ms(t0, Clock::now()) / 1000);
  return std::move(*e);
}

constexpr char kFiveConditions[] =
    "trait.city = \"上海\" AND trait.gender = \"female\" AND "
    "did(\"Order Completed\", count >= 2) AND "
    "did(\"Product Viewed\", where channel = \"douyin\", count >= 3) AND "
    "rfm.segment IN (\"Champions\", \"Loyal\", \"New Customers\")";

int Preview(int argc, char** argv) {
  const int repeat = std::stoi(Arg(argc, argv, "repeat", "9"));
  auto engine = OpenEngine(Arg(argc, argv, "data", ""));
  auto& a = engine->audiences();
  RfmOptions o;
  o.analysis_time_us = *quanyu::ParseTimestamp("2026-04-01T00:00:00Z");
  o.window_us = 90LL * 86400 * 1000000;
  auto t0 = Clock::now();
  auto scores = a.RunRfm(o);
  if (!scores.ok()) return 1;
  std::printf("RFM over %zu customers %.0f ms\n", scores->size(), Ms(t0, Clock::now()));
  auto def = ParseText(kFiveConditions);
  if (Arg(argc, argv, "leaves", "0") == "1") {  // each condition cold, on its own
    for (const Node& leaf : def->children) {
      auto t = Clock::now();
      auto bits = a.Evaluate(leaf);
      std::printf("  leaf %-60s %6.0f ms, %lu persons\n", PrintText(leaf).c_str(), Ms(t, Clock::now()),
                  bits.ok() ? bits->cardinality() : 0);
    }
  }
  t0 = Clock::now();
  auto cold = a.Evaluate(*def);
  if (!cold.ok()) return 1;
  std::printf("preview (%s)\n  cold %.0f ms, %lu persons\n", kFiveConditions, Ms(t0, Clock::now()),
              cold->cardinality());
  Timing warm = Time(repeat, [&] { (void)a.Evaluate(*def); });
  std::printf("  warm best %.2f ms, median %.2f ms (%d runs)\n", warm.best, warm.median, repeat);
  return 0;
}

int Realtime(int argc, char** argv) {
  const int batches = std::stoi(Arg(argc, argv, "batches", "10"));
  const int batch = std::stoi(Arg(argc, argv, "batch", "5000"));
  auto engine = OpenEngine(Arg(argc, argv, "data", ""));
  auto& a = engine->audiences();
  const char* defs[] = {
      "did(\"Order Completed\", count >= 2)",
      "did(\"Product Viewed\", where channel = \"douyin\", count >= 3)",
      "trait.city = \"上海\" AND did(\"Order Completed\")",
      "NOT did(\"Order Completed\")",
      "sequence(\"Product Viewed\", \"Order Completed\", within 1d)",
  };
  int i = 0;
  for (const char* d : defs) {
    AudienceRecord r;
    r.name = "bench" + std::to_string(i++);
    r.definition = *ParseText(d);
    (void)a.Delete(r.name);
    if (!a.Create(r).ok()) return 1;
  }
  auto t0 = Clock::now();
  if (!a.Refresh(true).ok()) return 1;
  std::printf("baseline refresh of %zu audiences %.0f ms\n", std::size(defs), Ms(t0, Clock::now()));
  auto src = engine->ListSources().front();
  quanyu::collect::SourceInfo info{src.name, src.type};
  std::mt19937_64 rng(3);
  // Message ids unique per run: a second run on the same directory would
  // otherwise be dropped as duplicates.
  const std::string run = std::to_string(Clock::now().time_since_epoch().count());
  size_t accepted = 0;
  const int64_t base = *quanyu::ParseTimestamp("2026-03-30T00:00:00Z");
  auto make_batch = [&](int b) {
    std::vector<quanyu::Event> events;
    for (int k = 0; k < batch; ++k) {
      quanyu::Event e;
      e.type = quanyu::EventType::kTrack;
      e.name = rng() % 4 == 0 ? "Order Completed" : "Product Viewed";
      e.user_id = "bench-user-" + std::to_string(rng() % 200000);
      e.message_id = "audience-bench-" + run + "-" + std::to_string(b) + "-" + std::to_string(k);
      e.timestamp_us = base + static_cast<int64_t>(rng() % 86400) * 1000000;
      e.channel = rng() % 2 ? "douyin" : "wechat";
      if (e.name == "Order Completed") e.revenue = 100;
      events.push_back(std::move(e));
    }
    return events;
  };
  // 1. One batch at a time: ingest, then wait for its changes.
  double realtime_ms = 0, ingest_ms = 0;
  const auto before = a.realtime_stats();
  for (int b = 0; b < batches; ++b) {
    auto events = make_batch(b);
    auto t1 = Clock::now();
    auto r = engine->IngestFromSource(info, std::move(events));
    auto t2 = Clock::now();
    if (!r.status.ok()) return 1;
    accepted += r.accepted;
    a.WaitForRealtime();
    auto t3 = Clock::now();
    ingest_ms += Ms(t1, t2);
    realtime_ms += Ms(t2, t3);
  }
  const auto after = a.realtime_stats();
  const double events = static_cast<double>(accepted);
  if (accepted == 0 || after.overflows != before.overflows) {
    std::fprintf(stderr, "no event was accepted, or the realtime queue overflowed\n");
    return 1;
  }
  std::printf("%d batches of %d events, one at a time: ingest %.1f us/event; realtime membership "
              "%.1f ms per batch = %.1f us/event; %lu person evaluations, %lu changes recorded\n",
              batches, batch, ingest_ms * 1000 / events, realtime_ms / batches,
              realtime_ms * 1000 / events, after.person_evaluations - before.person_evaluations,
              after.changes - before.changes);
  // 2. Back to back: the ingest does not wait; the thread catches up.
  size_t streamed = 0;
  auto t1 = Clock::now();
  for (int b = batches; b < 2 * batches; ++b) {
    auto r = engine->IngestFromSource(info, make_batch(b));
    if (!r.status.ok()) return 1;
    streamed += r.accepted;
  }
  auto t2 = Clock::now();
  a.WaitForRealtime();
  auto t3 = Clock::now();
  const auto last = a.realtime_stats();
  std::printf("%d batches back to back: ingest %.0f ms, caught up %.0f ms later; %.1f us/event "
              "from the first ingest to the last change; %lu rounds\n",
              batches, Ms(t1, t2), Ms(t2, t3), Ms(t1, t3) * 1000 / static_cast<double>(streamed),
              last.rounds - after.rounds);
  return engine->Close().ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = Arg(argc, argv, "mode", "");
  if (mode == "bitmap") return Bitmap(argc, argv);
  if (mode == "preview") return Preview(argc, argv);
  if (mode == "synthetic5") return Synthetic5(argc, argv);
  if (mode == "realtime") return Realtime(argc, argv);
  std::fprintf(stderr, "usage: audience_bench --mode=bitmap|synthetic5|preview|realtime [--data=DIR] ...\n");
  return 2;
}
