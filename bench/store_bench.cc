// store_bench: writes N realistic synthetic events through EventStore
// Add + Flush and reports size on disk against the log encoding, flush and
// scan throughput (also with one_id resolution), and the memory the buffer
// costs per event.
//
//   store_bench [--n=2000000] [--dir=/tmp/quanyu_store_bench] [--keep]
//
// Run, not asserted (bench/README in STYLE.md). Scans read from the page
// cache right after the flush, so they measure decode cost, not the disk.
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/dense_array.h"
#include "common/event_codec.h"
#include "common/time_util.h"
#include "store/event_store.h"

namespace {

using quanyu::Event;
using quanyu::EventType;
using quanyu::Status;
namespace store = quanyu::store;

// Resident set size in bytes, from /proc/self/status.
uint64_t ResidentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// CPU seconds used by all threads of the process: unlike wall time, not
// inflated when the machine is shared.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

class EventGenerator {
 public:
  explicit EventGenerator(uint64_t seed) : rng_(seed) {
    const char* names[] = {"page_view",
                           "product_view",
                           "add_to_cart",
                           "remove_from_cart",
                           "checkout_started",
                           "order_completed",
                           "signup",
                           "login",
                           "logout",
                           "search",
                           "share",
                           "video_play",
                           "video_complete",
                           "coupon_claimed",
                           "coupon_used",
                           "live_room_enter",
                           "live_room_leave",
                           "follow",
                           "comment",
                           "like",
                           "app_open",
                           "app_close",
                           "push_open",
                           "form_submit",
                           "lead_created",
                           "payment_failed",
                           "refund_requested",
                           "review_posted",
                           "wishlist_add",
                           "mini_program_open"};
    for (const char* n : names) names_.push_back(n);
    for (const char* c :
         {"douyin", "wechat", "xiaohongshu", "baidu", "weibo", "kuaishou", "bilibili", "taobao",
          "jd", "pinduoduo", "google", "email", "sms", "direct", "organic_search"}) {
      channels_.push_back(c);
    }
    for (const char* s : {"web", "ios", "android", "mini_program", "server"}) sources_.push_back(s);
  }

  Event Next(int64_t ts) {
    Event e;
    e.timestamp_us = ts;
    e.received_us = ts + Uniform(50'000, 3'000'000);
    e.type = Uniform(0, 9) == 0 ? EventType::kPage : EventType::kTrack;
    e.name = names_[Skewed(names_.size())];
    e.message_id = Hex(16) + "-" + Hex(8);
    e.source = sources_[Skewed(sources_.size())];
    e.channel = channels_[Skewed(channels_.size())];
    e.anonymous_id = "anon_" + std::to_string(Uniform(0, 500'000));
    e.identifiers.push_back({"anonymous_id", "", e.anonymous_id});
    if (Uniform(0, 9) < 3) {
      e.user_id = "u" + std::to_string(Uniform(0, 200'000));
      e.identifiers.push_back({"user_id", "", e.user_id});
    }
    // The attributing identifier, interned in first-seen order as the
    // identity graph would (consumes no randomness).
    const std::string& attributing = e.user_id.empty() ? e.anonymous_id : e.user_id;
    e.identity_key =
        keys_.try_emplace(attributing, static_cast<uint32_t>(keys_.size() + 1)).first->second;
    if (Uniform(0, 19) == 0) {
      e.identifiers.push_back({"wechat_openid", "wx8a7b6c5d4e3f2a1b", "o" + Hex(27)});
    }
    if (Uniform(0, 9) < 4) {
      e.campaign.source = e.channel;
      e.campaign.medium = Uniform(0, 1) ? "cpc" : "social";
      e.campaign.name = "campaign_" + std::to_string(Uniform(0, 40));
      if (Uniform(0, 3) == 0) e.campaign.content = "creative_" + std::to_string(Uniform(0, 200));
    }
    const std::string product = "sku_" + std::to_string(Uniform(0, 5000));
    e.url = "https://shop.example.cn/p/" + product + "?from=" + e.channel;
    if (Uniform(0, 1)) e.referrer = "https://www." + e.channel + ".com/";
    if (e.name == "order_completed" || Uniform(0, 49) == 0) {
      e.order_id = "ord_" + Hex(12);
      e.revenue = Uniform(990, 99900) / 100.0;
      e.quantity = static_cast<double>(Uniform(1, 5));
      e.currency = "CNY";
      e.product_id = product;
    }
    e.properties_json = R"({"page":"/p/)" + product + R"(","category":"cat_)" +
                        std::to_string(Uniform(0, 60)) + R"(","price":)" +
                        std::to_string(Uniform(100, 99999)) + R"(,"position":)" +
                        std::to_string(Uniform(1, 40)) + R"(,"experiment":"exp_)" +
                        std::to_string(Uniform(0, 9)) + R"(","session_id":")" + Hex(16) +
                        R"(","is_first_visit":)" + (Uniform(0, 4) ? "false" : "true") + "}";
    e.context_json = R"({"library":{"name":"quanyu-js","version":"1.4.2"},"os":")" +
                     std::string(Uniform(0, 1) ? "iOS" : "Android") +
                     R"(","consent":{"analytics":true}})";
    return e;
  }

  // Identity keys assigned so far (1..keys()).
  uint32_t keys() const { return static_cast<uint32_t>(keys_.size()); }

 private:
  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  // Zipf-like: low indices much more frequent.
  size_t Skewed(size_t n) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    return std::min(n - 1, static_cast<size_t>(n * u * u * u));
  }
  std::string Hex(int n) {
    static const char kDigits[] = "0123456789abcdef";
    std::string s(n, '0');
    for (auto& c : s) c = kDigits[rng_() & 15];
    return s;
  }

  std::mt19937_64 rng_;
  std::vector<std::string> names_, channels_, sources_;
  std::unordered_map<std::string, uint32_t> keys_;
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 2'000'000;
  std::string dir = "/tmp/quanyu_store_bench";
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--n=", 0) == 0) {
      n = std::strtoull(arg.c_str() + 4, nullptr, 10);
    } else if (arg.rfind("--dir=", 0) == 0) {
      dir = arg.substr(6);
    } else if (arg == "--keep") {
      keep = true;
    } else {
      std::fprintf(stderr, "usage: %s [--n=N] [--dir=PATH] [--keep]\n", argv[0]);
      return 2;
    }
  }
  std::filesystem::remove_all(dir);

  store::StoreOptions options;
  options.dir = dir;
  options.flush_events = n + 1;  // only the explicit Flush below
  options.flush_interval_us = int64_t{1} << 60;
  auto opened = store::EventStore::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  auto& es = *opened;

  // Seven days of traffic, roughly in time order with some late arrivals.
  EventGenerator gen(42);
  const int64_t start = 20'000 * quanyu::kMicrosPerDay;
  const int64_t step = 7 * quanyu::kMicrosPerDay / static_cast<int64_t>(std::max<uint64_t>(n, 1));
  std::mt19937_64 jitter(7);
  uint64_t log_bytes = 0, lsn = 0;
  double add_seconds = 0, add_cpu = 0;
  const uint64_t rss_before = ResidentBytes();
  constexpr uint64_t kBatch = 10'000;
  std::string encoded;
  for (uint64_t done = 0; done < n;) {
    std::vector<Event> batch;
    for (uint64_t i = 0; i < kBatch && done < n; ++i, ++done) {
      int64_t late = jitter() % 20 == 0 ? static_cast<int64_t>(jitter() % 3'600'000'000) : 0;
      batch.push_back(gen.Next(start + static_cast<int64_t>(done) * step - late));
      encoded.clear();
      quanyu::EncodeEvent(batch.back(), &encoded);
      log_bytes += encoded.size();
    }
    const auto t = std::chrono::steady_clock::now();
    const double c = CpuSeconds();
    es->Add(std::move(batch), ++lsn);
    add_seconds += Seconds(t);
    add_cpu += CpuSeconds() - c;
  }
  const uint64_t rss_buffered = ResidentBytes();
  const store::StoreStats buffered = es->Stats();

  auto t = std::chrono::steady_clock::now();
  double c = CpuSeconds();
  auto flushed = es->Flush();
  const double flush_seconds = Seconds(t);
  const double flush_cpu = CpuSeconds() - c;
  if (!flushed.ok()) {
    std::fprintf(stderr, "flush: %s\n", flushed.status().ToString().c_str());
    return 1;
  }
  const store::StoreStats stats = es->Stats();

  // Two keys in three merged into one person, as a stand-in for the graph.
  quanyu::DenseArray<uint32_t> one_ids;
  for (uint32_t k = 1; k <= gen.keys(); ++k) one_ids.Set(k, k - k % 3 + 1);
  uint64_t resolved = 0;
  auto scan = [&](store::ColumnSet cols, uint64_t* rows, uint64_t* bytes, double* cpu,
                  const quanyu::DenseArray<uint32_t>* resolve = nullptr) {
    const uint64_t read_before = es->Stats().scan_bytes_read;
    *rows = 0;
    auto t0 = std::chrono::steady_clock::now();
    const double c0 = CpuSeconds();
    Status s = es->Scan({.columns = cols, .one_ids = resolve}, [&](const store::EventBatch& b) {
      *rows += b.size();
      for (const Event& e : b) resolved += e.one_id != 0;
      return Status::OK();
    });
    if (!s.ok()) std::fprintf(stderr, "scan: %s\n", s.ToString().c_str());
    *bytes = es->Stats().scan_bytes_read - read_before;
    *cpu = CpuSeconds() - c0;
    return Seconds(t0);
  };
  uint64_t full_rows, full_bytes, two_rows, two_bytes, one_id_rows, one_id_bytes;
  double full_cpu, two_cpu, one_id_cpu;
  const double full_seconds = scan(store::ColumnSet::All(), &full_rows, &full_bytes, &full_cpu);
  const double two_seconds =
      scan({store::Column::kName, store::Column::kChannel}, &two_rows, &two_bytes, &two_cpu);
  const double one_id_seconds =
      scan({store::Column::kName}, &one_id_rows, &one_id_bytes, &one_id_cpu, &one_ids);

  const double dn = static_cast<double>(n);
  std::printf("store_bench: %llu events, %llu segments, zstd level %d\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(stats.segments),
              options.zstd_level);
  std::printf("%-44s %14s %14s\n", "metric", "value", "per CPU-second");
  std::printf("%-44s %14.1f\n", "segment bytes on disk per event", stats.segment_bytes / dn);
  std::printf("%-44s %14.1f\n", "log encoding bytes per event (EncodeEvent)", log_bytes / dn);
  std::printf("%-44s %14.2f\n", "compression vs log encoding (x)",
              static_cast<double>(log_bytes) / static_cast<double>(stats.segment_bytes));
  std::printf("%-44s %14.0f %14.0f\n", "Add throughput (events/s, encode+buffer)", dn / add_seconds,
              dn / add_cpu);
  std::printf("%-44s %14.0f %14.0f\n", "flush throughput (events/s)", dn / flush_seconds,
              dn / flush_cpu);
  std::printf("%-44s %14.2f\n", "flush time (s)", flush_seconds);
  const std::string full_label =
      "full scan, all " + std::to_string(store::kColumnCount) + " columns (events/s)";
  std::printf("%-44s %14.0f %14.0f\n", full_label.c_str(), full_rows / full_seconds,
              full_rows / full_cpu);
  std::printf("%-44s %14.1f\n", "full scan bytes read per event", full_bytes / dn);
  std::printf("%-44s %14.0f %14.0f\n", "2-column scan, name+channel (events/s)",
              two_rows / two_seconds, two_rows / two_cpu);
  std::printf("%-44s %14.2f\n", "2-column scan bytes read per event", two_bytes / dn);
  std::printf("%-44s %14.0f %14.0f\n", "name scan + one_id resolution (events/s)",
              one_id_rows / one_id_seconds, one_id_rows / one_id_cpu);
  std::printf("%-44s %14.2f\n", "name + identity_key bytes read per event", one_id_bytes / dn);
  std::printf("%-44s %14.1f\n", "resident memory per buffered event (VmRSS)",
              static_cast<double>(rss_buffered - rss_before) / dn);
  std::printf("%-44s %14.1f\n", "buffered_bytes per event (Stats)", buffered.buffered_bytes / dn);
  if (resolved != one_id_rows) {
    std::fprintf(stderr, "one_id resolved for %llu of %llu rows\n",
                 static_cast<unsigned long long>(resolved),
                 static_cast<unsigned long long>(one_id_rows));
    return 1;
  }
  if (full_rows != n || two_rows != n) {
    std::fprintf(stderr, "scan returned %llu / %llu rows, expected %llu\n",
                 static_cast<unsigned long long>(full_rows),
                 static_cast<unsigned long long>(two_rows), static_cast<unsigned long long>(n));
    return 1;
  }
  Status closed = es->Close();
  es.reset();
  if (!keep) std::filesystem::remove_all(dir);
  return closed.ok() ? 0 : 1;
}
