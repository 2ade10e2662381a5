// log_bench: durable ingest throughput of the EventLog beside RocksDB.
//
// N producer threads each append batches of 100 encoded events (~400 bytes
// each, EncodeEventBatch) and wait until the batch is durable, as an HTTP
// handler does before answering 200:
//   EventLog: AppendSync(batch) with sync=true (group commit, fdatasync);
//   RocksDB:  one WriteBatch of 100 Puts per batch, WriteOptions.sync=true.
// Prints events/s, MB/s of encoded events, and batch latency percentiles.
//
// Usage: log_bench [--seconds=S per run (default 3)] [--dir=PATH (default /tmp)]
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/event.h"
#include "common/event_codec.h"
#include "common/metrics.h"
#include "log/event_log.h"

namespace quanyu {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int kEventsPerBatch = 100;
constexpr int kBatchesPerProducer = 16;  // distinct pre-encoded batches, reused round-robin

std::string Hex(std::mt19937_64& rng, int n) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(kDigits[rng() & 15]);
  return s;
}

Event SyntheticEvent(std::mt19937_64& rng, int64_t now_us) {
  static const char* kNames[] = {"page_view", "product_viewed", "add_to_cart", "checkout_started",
                                 "order_completed"};
  static const char* kChannels[] = {"douyin", "wechat", "baidu_sem", "xiaohongshu", "direct"};
  Event e;
  e.type = EventType::kTrack;
  e.timestamp_us = now_us - static_cast<int64_t>(rng() % 5'000'000);
  e.received_us = now_us;
  e.name = kNames[rng() % 5];
  e.message_id = Hex(rng, 8) + "-" + Hex(rng, 4) + "-" + Hex(rng, 4) + "-" + Hex(rng, 12);
  e.source = "web";
  e.channel = kChannels[rng() % 5];
  e.user_id = "u" + std::to_string(rng() % 10'000'000);
  e.anonymous_id = Hex(rng, 16);
  e.identifiers = {{"user_id", "", e.user_id}, {"anonymous_id", "", e.anonymous_id}};
  e.campaign = {"douyin", "cpc", "double11_2024", "", "video_" + std::to_string(rng() % 100)};
  e.referrer = "https://www.douyin.com/";
  e.url = "https://shop.example.cn/products/" + std::to_string(rng() % 100000) +
          "?utm_source=douyin&utm_medium=cpc";
  if (e.name == "order_completed") {
    e.revenue = static_cast<double>(rng() % 100000) / 100;
    e.quantity = 1 + static_cast<double>(rng() % 3);
    e.currency = "CNY";
    e.order_id = "o" + std::to_string(rng());
  }
  e.product_id = "p" + std::to_string(rng() % 100000);
  e.properties_json = R"({"category":"apparel","price":)" + std::to_string(rng() % 1000) +
                      R"(,"sku":"SKU-)" + Hex(rng, 8) + R"(","in_stock":true})";
  e.context_json = R"({"library":{"name":"analytics.js","version":"4.1.0"},"ip":"10.)" +
                   std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) +
                   R"js(.7","os":"iOS 17.0"})js";
  return e;
}

struct Workload {
  // batches[producer][i]: one encoded batch, plus its events for RocksDB.
  std::vector<std::vector<std::string>> batches;
  std::vector<std::vector<std::vector<std::string>>> events;
  double avg_event_bytes = 0;
};

Workload MakeWorkload(int producers) {
  Workload w;
  std::mt19937_64 rng(42);
  const int64_t now = 1'700'000'000LL * 1'000'000;
  size_t bytes = 0, count = 0;
  w.batches.resize(producers);
  w.events.resize(producers);
  for (int p = 0; p < producers; ++p) {
    for (int b = 0; b < kBatchesPerProducer; ++b) {
      std::vector<Event> evs;
      std::vector<std::string> encoded;
      for (int i = 0; i < kEventsPerBatch; ++i) {
        evs.push_back(SyntheticEvent(rng, now));
        std::string one;
        EncodeEvent(evs.back(), &one);
        bytes += one.size();
        ++count;
        encoded.push_back(std::move(one));
      }
      std::string batch;
      EncodeEventBatch(evs, &batch);
      w.batches[p].push_back(std::move(batch));
      w.events[p].push_back(std::move(encoded));
    }
  }
  w.avg_event_bytes = static_cast<double>(bytes) / count;
  return w;
}

struct RunResult {
  uint64_t batches = 0;
  uint64_t bytes = 0;  // encoded event bytes made durable
  double seconds = 0;
  std::vector<double> latencies_us;
  std::string note;
};

// Runs `producers` threads calling write(producer, i) until the deadline.
template <typename WriteFn>
RunResult Drive(int producers, double seconds, const Workload& w, WriteFn write) {
  std::vector<RunResult> per(producers);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = SteadyClock::now();
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const auto t0 = SteadyClock::now();
        if (!write(p, i)) {
          std::fprintf(stderr, "write failed\n");
          std::exit(1);
        }
        per[p].latencies_us.push_back(
            std::chrono::duration<double, std::micro>(SteadyClock::now() - t0).count());
        ++per[p].batches;
        per[p].bytes += w.batches[p][i % kBatchesPerProducer].size();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  RunResult r;
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  for (auto& x : per) {
    r.batches += x.batches;
    r.bytes += x.bytes;
    r.latencies_us.insert(r.latencies_us.end(), x.latencies_us.begin(), x.latencies_us.end());
  }
  return r;
}

RunResult RunEventLog(const std::string& dir, int producers, double seconds, const Workload& w) {
  log::LogOptions o;
  o.dir = dir;
  o.sync = true;
  auto opened = log::EventLog::Open(o);
  if (!opened.ok()) {
    std::fprintf(stderr, "EventLog::Open: %s\n", opened.status().ToString().c_str());
    std::exit(1);
  }
  std::unique_ptr<log::EventLog> event_log = std::move(opened).value();
  MetricsRegistry* m = MetricsRegistry::Default();
  Counter* records = m->GetCounter("quanyu_log_records_total", "");
  Counter* groups = m->GetCounter("quanyu_log_group_commits_total", "");
  const uint64_t r0 = records->Value(), g0 = groups->Value();
  RunResult r = Drive(producers, seconds, w, [&](int p, uint64_t i) {
    return event_log->AppendSync(w.batches[p][i % kBatchesPerProducer]).ok();
  });
  event_log->Close();
  const uint64_t nr = records->Value() - r0, ng = groups->Value() - g0;
  char note[64];
  std::snprintf(note, sizeof(note), "%.1f batches/fsync", ng ? double(nr) / ng : 0.0);
  r.note = note;
  return r;
}

RunResult RunRocksDb(const std::string& dir, int producers, double seconds, const Workload& w) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "rocksdb::DB::Open: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  RunResult r = Drive(producers, seconds, w, [&](int p, uint64_t i) {
    rocksdb::WriteBatch batch;
    const auto& events = w.events[p][i % kBatchesPerProducer];
    char key[16];
    for (int e = 0; e < kEventsPerBatch; ++e) {
      // producer | sequence, big-endian so keys sort by arrival per producer
      const uint64_t seq = i * kEventsPerBatch + e;
      key[0] = static_cast<char>(p);
      for (int b = 0; b < 8; ++b) key[1 + b] = static_cast<char>(seq >> (56 - 8 * b));
      batch.Put(rocksdb::Slice(key, 9), events[e]);
    }
    return db->Write(wo, &batch).ok();
  });
  r.note = "WAL sync=true";
  return r;
}

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

void Print(const char* system, int producers, RunResult& r) {
  const double events = static_cast<double>(r.batches) * kEventsPerBatch;
  const double p50 = Percentile(r.latencies_us, 0.50) / 1000;
  const double p99 = Percentile(r.latencies_us, 0.99) / 1000;
  std::printf("%-9s %4d %14.0f %9.1f %9.2f %9.2f   %s\n", system, producers, events / r.seconds,
              r.bytes / r.seconds / 1e6, p50, p99, r.note.c_str());
  std::fflush(stdout);
}

}  // namespace
}  // namespace quanyu

int main(int argc, char** argv) {
  double seconds = 3;
  std::string base = "/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--seconds=", 0) == 0) {
      seconds = std::atof(a.c_str() + 10);
    } else if (a.rfind("--dir=", 0) == 0) {
      base = a.substr(6);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds=S] [--dir=PATH]\n", argv[0]);
      return 2;
    }
  }
  std::string tmpl = base + "/quanyu_log_bench_XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string root = tmpl;
  const int kProducers[] = {1, 4, 16};
  const quanyu::Workload w = quanyu::MakeWorkload(16);

  std::printf("batches of %d events, %.0f bytes/event encoded, %.1f s per run, dir %s\n",
              quanyu::kEventsPerBatch, w.avg_event_bytes, seconds, root.c_str());
  std::printf("%-9s %4s %14s %9s %9s %9s   %s\n", "system", "thr", "events/s", "MB/s", "p50 ms",
              "p99 ms", "note");
  int run = 0;
  for (int producers : kProducers) {
    for (int system = 0; system < 2; ++system) {
      const std::string dir = root + "/run" + std::to_string(run++);
      quanyu::RunResult r = system == 0 ? quanyu::RunEventLog(dir, producers, seconds, w)
                                        : quanyu::RunRocksDb(dir, producers, seconds, w);
      quanyu::Print(system == 0 ? "EventLog" : "RocksDB", producers, r);
      std::filesystem::remove_all(dir);
    }
  }
  std::filesystem::remove_all(root);
  return 0;
}
