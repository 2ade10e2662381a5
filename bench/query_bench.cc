// query_bench: the native side of issue 4's query benchmark. Opens a data
// directory made by `quanyu sim` (through the real Engine), runs each query
// once cold, once to warm up and then --repeat times, and writes best and
// median wall times and the answers as JSON (--out), so bench/query_peers.sh
// can put them beside DuckDB's and ClickHouse's on the same data and check
// that the answers agree.
//
//   query_bench --data=DIR [--repeat=5] [--out=FILE] [--only=funnel,retention,distinct,paths]
//               [--from=2026-01-01T00:00:00Z] [--to=2026-04-01T00:00:00Z]
//
// The queries (same definitions as bench/peers/*.sql):
//   funnel     Product Viewed → Product Added → Checkout Started → Order
//              Completed, 7-day window, default mode;
//   retention  cohorts by the week of the first Product Viewed, return = any
//              event, 8 weekly periods, classic;
//   distinct   distinct persons per event name (trends, persons measure,
//              breakdown by event);
//   paths      top-20 paths of 4 nodes from each person's first event (whole
//              journey, event granularity, consecutive repeats collapsed).
// And, native only (no peer runs them), when named in --only:
//   touchpoints  the touchpoint map with default stages;
//   kpis         KPIs by channel;
//   trends_day   revenue sum and persons who viewed a product, per day.
// Run, not asserted.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace {

using quanyu::query::Json;

std::string Arg(int argc, char** argv, const char* name, const std::string& fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

struct Query {
  std::string name, kind;
  Json body;
};

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data = Arg(argc, argv, "data", "");
  if (data.empty()) {
    std::fprintf(stderr, "usage: query_bench --data=DIR [--repeat=5] [--out=FILE] [--only=...]\n");
    return 2;
  }
  const int repeat = std::max(1, std::stoi(Arg(argc, argv, "repeat", "5")));
  const std::string only = "," + Arg(argc, argv, "only", "funnel,retention,distinct,paths") + ",";
  const std::string from = Arg(argc, argv, "from", "2026-01-01T00:00:00Z");
  const std::string to = Arg(argc, argv, "to", "2026-04-01T00:00:00Z");

  std::vector<Query> queries = {
      {"funnel", "funnel",
       {{"from", from}, {"to", to}, {"window", "7d"}, {"mode", "default"},
        {"steps", Json::array({Json{{"event", "Product Viewed"}}, Json{{"event", "Product Added"}},
                               Json{{"event", "Checkout Started"}},
                               Json{{"event", "Order Completed"}}})}}},
      {"retention", "retention",
       {{"from", from}, {"to", to}, {"period", "week"}, {"periods", 8}, {"mode", "classic"},
        {"start_event", {{"event", "Product Viewed"}}}, {"return_event", {{"event", "$any"}}}}},
      {"distinct", "trends",
       {{"from", from}, {"to", to}, {"interval", "month"}, {"breakdown", "event"},
        {"breakdown_limit", 1000},
        {"series", Json::array({Json{{"event", "$any"}, {"measure", "persons"}}})}}},
      {"paths", "paths",
       {{"from", from}, {"to", to}, {"scope", "journey"}, {"granularity", "event"},
        {"steps", 4}, {"top", 20}, {"collapse_repeats", true}}},
      // Native only (no peer SQL); run with --only=touchpoints,kpis,trends_day.
      {"touchpoints", "touchpoints", {{"from", from}, {"to", to}}},
      {"kpis", "kpis", {{"from", from}, {"to", to}, {"group_by", Json::array({"channel"})}}},
      {"trends_day", "trends",
       {{"from", from}, {"to", to}, {"interval", "day"},
        {"series", Json::array({Json{{"event", "Order Completed"}, {"measure", "sum"},
                                     {"property", "revenue"}},
                                Json{{"event", "Product Viewed"}, {"measure", "persons"}}})}}},
  };

  quanyu::Config config;
  config.data_dir = data;
  const auto t_open = std::chrono::steady_clock::now();
  auto engine = quanyu::Engine::Open(config);
  if (!engine.ok()) {
    std::fprintf(stderr, "query_bench: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  const double open_ms = Ms(std::chrono::steady_clock::now() - t_open);
  const auto stats = (*engine)->Stats();
  Json out = {{"engine", "quanyu"}, {"open_ms", open_ms}, {"queries", Json::object()}};
  std::fprintf(stderr, "opened %s in %.0f ms\n", data.c_str(), open_ms);
  (void)stats;
  for (const Query& q : queries) {
    if (only.find("," + q.name + ",") == std::string::npos) continue;
    std::vector<double> times;
    Json answer;
    double cold_ms = 0;
    for (int i = 0; i < repeat + 2; ++i) {  // run 0 cold, run 1 warm-up
      const auto t0 = std::chrono::steady_clock::now();
      auto r = (*engine)->Query(q.kind, q.body);
      const double ms = Ms(std::chrono::steady_clock::now() - t0);
      if (!r.ok()) {
        std::fprintf(stderr, "%s: %s\n", q.name.c_str(), r.status().ToString().c_str());
        return 1;
      }
      if (i == 0) cold_ms = ms;
      if (i >= 2) times.push_back(ms);
      answer = std::move(*r);
    }
    std::sort(times.begin(), times.end());
    const double best = times.front(), median = times[times.size() / 2];
    std::fprintf(stderr, "%-10s cold %8.1f ms   best %8.1f ms   median %8.1f ms\n", q.name.c_str(),
                 cold_ms, best, median);
    out["queries"][q.name] = {{"kind", q.kind},         {"body", q.body},   {"cold_ms", cold_ms},
                              {"best_ms", best},        {"median_ms", median}, {"runs", repeat},
                              {"result", answer}};
  }
  (void)(*engine)->Close();
  const std::string path = Arg(argc, argv, "out", "");
  if (path.empty()) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::ofstream(path) << out.dump(2) << "\n";
  }
  return 0;
}
