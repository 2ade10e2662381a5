// audience_bench: issue 5's benchmarks (figures in bench/RESULTS.md). Run,
// not asserted.
//
//   audience_bench --mode=bitmap [--universe=100000000] [--repeat=9]
//       One AND and one OR of two cached conditions over a universe of
//       --universe persons through AudienceEvaluator, beside the bare
//       CRoaring operation on the same two bitmaps (the limit).
//   audience_bench --mode=preview --data=DIR [--repeat=9]
//       Opens a `quanyu sim` data directory through the real Engine, runs
//       RFM, then previews a 5-condition audience (2 trait, 2 event, 1 RFM):
//       cold once, then warm --repeat times.
//   audience_bench --mode=realtime --data=DIR [--batches=10] [--batch=5000]
//       Saves 5 audiences, refreshes once (baseline), then --batches times:
//       ingests --batch events through the engine's logged path and runs
//       the realtime refresh; reports the refresh time per ingested event.
//       Writes to DIR: run it on a copy.
#include <roaring/roaring.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "audience/evaluator.h"
#include "audience/language.h"
#include "common/time_util.h"
#include "engine/engine.h"

namespace {

using quanyu::Status;
using namespace quanyu::audience;
using Clock = std::chrono::steady_clock;

std::string Arg(int argc, char** argv, const char* name, const std::string& fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]).rfind(prefix, 0) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Timing {
  double best = 0, median = 0;
};
template <typename F>
Timing Time(int repeat, F f) {
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = Clock::now();
    f();
    ms.push_back(Ms(t0, Clock::now()));
  }
  std::sort(ms.begin(), ms.end());
  return {ms.front(), ms[ms.size() / 2]};
}

// Two computed traits over the synthetic universe.
class SyntheticData final : public AudienceData {
 public:
  std::vector<uint32_t> a, b;
  Status ForEachTrait(std::string_view, const ValueFn&) const override {
    return Status::InvalidArgument("no traits here");
  }
  Status ForEachStoredAttribute(Namespace, std::string_view name, const ValueFn& fn) const override {
    static const Json one = 1;
    for (uint32_t id : name == "a" ? a : b) fn(id, one);
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
    if ((r & 1) == 0) data.a.push_back(k);       // half the persons
    if ((r >> 1) % 10 < 3) data.b.push_back(k);  // 30%
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
  roaring_bitmap_t* ra = roaring_bitmap_of_ptr(data.a.size(), data.a.data());
  roaring_bitmap_t* rb = roaring_bitmap_of_ptr(data.b.size(), data.b.data());
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
              n, data.a.size(), data.b.size(), cold_ms);
  std::printf("%-28s %10s %10s %12s\n", "operation", "best ms", "median ms", "result");
  std::printf("%-28s %10.2f %10.2f %12lu\n", "CRoaring and (the limit)", raw_and.best, raw_and.median, and_n);
  std::printf("%-28s %10.2f %10.2f %12lu\n", "evaluator AND, warm", ev_and.best, ev_and.median, ev_and_n);
  std::printf("%-28s %10.2f %10.2f %12lu\n", "CRoaring or (the limit)", raw_or.best, raw_or.median, or_n);
  std::printf("%-28s %10.2f %10.2f %12lu\n", "evaluator OR, warm", ev_or.best, ev_or.median, ev_or_n);
  roaring_bitmap_free(ra);
  roaring_bitmap_free(rb);
  return and_n == ev_and_n && or_n == ev_or_n ? 0 : 1;
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
  double refresh_ms = 0, ingest_ms = 0;
  size_t changes = 0;
  for (int b = 0; b < batches; ++b) {
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
    auto t1 = Clock::now();
    auto r = engine->IngestFromSource(info, std::move(events));
    auto t2 = Clock::now();
    if (!r.status.ok()) return 1;
    accepted += r.accepted;
    auto n = a.Refresh(false);
    auto t3 = Clock::now();
    if (!n.ok()) return 1;
    changes += *n;
    ingest_ms += Ms(t1, t2);
    refresh_ms += Ms(t2, t3);
  }
  const double events = static_cast<double>(accepted);
  if (accepted == 0) {
    std::fprintf(stderr, "no event was accepted\n");
    return 1;
  }
  std::printf("%d batches of %d events: ingest %.1f us/event, realtime refresh %.0f ms per batch = "
              "%.1f us/event; %zu membership changes recorded\n",
              batches, batch, ingest_ms * 1000 / events, refresh_ms / batches,
              refresh_ms * 1000 / events, changes);
  return engine->Close().ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = Arg(argc, argv, "mode", "");
  if (mode == "bitmap") return Bitmap(argc, argv);
  if (mode == "preview") return Preview(argc, argv);
  if (mode == "realtime") return Realtime(argc, argv);
  std::fprintf(stderr, "usage: audience_bench --mode=bitmap|preview|realtime [--data=DIR] ...\n");
  return 2;
}
