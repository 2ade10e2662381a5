// Tests of EventStore::ScanColumns (issue 4): the columnar scan the query
// operators use returns exactly the rows and values Scan returns (segments,
// buffered rows, several segments, time ranges), resolves one_ids, sorts
// each batch by time, and reads columns a segment lacks as defaults.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <chrono>
#include <map>
#include <tuple>

#include "common/dense_array.h"
#include "common/time_util.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::store {
namespace {

constexpr int64_t kT0 = 20'000 * kMicrosPerDay;

using ::quanyu::testing::TempDir;

Event MakeEvent(int i) {
  Event e;
  // Out of time order on purpose, spread over three days.
  e.timestamp_us = kT0 + int64_t{i * 7919 % 3000} * 86'400'000 / 1000;
  e.received_us = e.timestamp_us + 5;
  e.type = i % 5 == 0 ? EventType::kPage : EventType::kTrack;
  e.name = "ev_" + std::to_string(i % 4);
  e.message_id = "m" + std::to_string(i);
  e.source = i % 2 ? "web" : "app";
  e.channel = i % 3 ? "douyin" : "";
  e.campaign.name = i % 6 == 0 ? "spring" : "";
  if (i % 4 == 3) e.revenue = 10.5 * i;
  e.properties_json = "{\"k\":" + std::to_string(i) + "}";
  e.identity_key = static_cast<uint32_t>(i % 9);  // 0 = none
  return e;
}

// The fields a test compares, as one tuple per row.
using Row = std::tuple<int64_t, int, std::string, std::string, std::string, std::string,
                       std::optional<double>, std::string, uint32_t>;

std::vector<Row> ViaScan(const EventStore& store, const ScanRequest& req) {
  std::vector<Row> rows;
  EXPECT_TRUE(store
                  .Scan(req,
                        [&](const EventBatch& b) {
                          for (const Event& e : b) {
                            rows.emplace_back(e.timestamp_us, static_cast<int>(e.type), e.name,
                                              e.source, e.channel, e.campaign.name, e.revenue,
                                              e.properties_json, e.one_id);
                          }
                          return Status::OK();
                        })
                  .ok());
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<Row> ViaColumns(const EventStore& store, const ScanRequest& req, size_t* batches) {
  std::vector<Row> rows;
  *batches = 0;
  Status s = store.ScanColumns(req, [&](const ColumnBatch& b) {
    ++*batches;
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    const uint8_t* types = b.Types();
    const uint32_t* names = b.Codes(Column::kName);
    const auto& name_dict = b.Dictionary(Column::kName);
    const std::optional<double>* revenue = b.Doubles(Column::kRevenue);
    for (size_t r = 0; r < b.size(); ++r) {
      if (r > 0) {
        EXPECT_LE(ts[r - 1], ts[r]) << "batch not sorted by time";
      }
      rows.emplace_back(ts[r], types[r], name_dict[names[r]],
                        std::string(b.String(Column::kSource, r)),
                        std::string(b.String(Column::kChannel, r)),
                        std::string(b.String(Column::kCampaignName, r)), revenue[r],
                        std::string(b.String(Column::kProperties, r)),
                        b.one_ids() ? b.one_ids()[r] : 0);
    }
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::sort(rows.begin(), rows.end());
  return rows;
}

ScanRequest Request(const DenseArray<uint32_t>* one_ids) {
  ScanRequest req;
  req.columns = {Column::kTimestamp, Column::kType,         Column::kName,
                 Column::kSource,    Column::kChannel,      Column::kCampaignName,
                 Column::kRevenue,   Column::kProperties};
  req.one_ids = one_ids;
  return req;
}

TEST(StoreScanColumns, SameRowsAsScanAcrossSegmentsAndBuffer) {
  TempDir dir;
  StoreOptions opt;
  opt.dir = dir.path();
  opt.max_segment_rows = 100;  // several segments per day
  auto store = EventStore::Open(opt);
  ASSERT_TRUE(store.ok());
  std::vector<Event> first, second;
  for (int i = 0; i < 700; ++i) (i < 500 ? first : second).push_back(MakeEvent(i));
  (*store)->Add(first, 1);
  ASSERT_TRUE((*store)->Flush().ok());
  (*store)->Add(second, 2);  // stays buffered

  DenseArray<uint32_t> one_ids;
  for (uint32_t k = 1; k < 9; ++k) one_ids.Set(k, 1000 + k % 4);  // keys share persons

  for (auto [from, to] : {std::pair{INT64_MIN, INT64_MAX},
                          std::pair{kT0 + kMicrosPerDay / 2, kT0 + 2 * kMicrosPerDay},
                          std::pair{kT0 + 10 * kMicrosPerDay, kT0 + 11 * kMicrosPerDay}}) {
    ScanRequest req = Request(&one_ids);
    req.from_us = from;
    req.to_us = to;
    size_t batches = 0;
    auto columns = ViaColumns(**store, req, &batches);
    EXPECT_EQ(columns, ViaScan(**store, req));
    if (from == INT64_MIN) {
      EXPECT_EQ(columns.size(), 700u);
      EXPECT_GT(batches, 5u);  // one per segment plus the buffer
    }
  }
  // one_id 0 for key 0, otherwise the mapping.
  size_t batches = 0;
  for (const Row& r : ViaColumns(**store, Request(&one_ids), &batches)) {
    const int i = std::stoi(std::get<7>(r).substr(5));
    EXPECT_EQ(std::get<8>(r), i % 9 == 0 ? 0u : 1000 + (i % 9) % 4);
  }
}

TEST(StoreScanColumns, NoOneIdsMeansNullptrAndEmptyRangeNoCalls) {
  TempDir dir;
  StoreOptions opt;
  opt.dir = dir.path();
  auto store = EventStore::Open(opt);
  ASSERT_TRUE(store.ok());
  (*store)->Add({MakeEvent(1), MakeEvent(2)}, 1);
  ScanRequest req = Request(nullptr);
  bool saw_null = false;
  ASSERT_TRUE((*store)
                  ->ScanColumns(req,
                                [&](const ColumnBatch& b) {
                                  saw_null = b.one_ids() == nullptr;
                                  return Status::OK();
                                })
                  .ok());
  EXPECT_TRUE(saw_null);
  req.from_us = kT0 + 5;
  req.to_us = kT0 + 5;
  int calls = 0;
  ASSERT_TRUE((*store)
                  ->ScanColumns(req,
                                [&](const ColumnBatch&) {
                                  ++calls;
                                  return Status::OK();
                                })
                  .ok());
  EXPECT_EQ(calls, 0);
}

TEST(StoreScanColumns, CallbackErrorStopsTheScan) {
  TempDir dir;
  StoreOptions opt;
  opt.dir = dir.path();
  opt.max_segment_rows = 10;
  auto store = EventStore::Open(opt);
  ASSERT_TRUE(store.ok());
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) events.push_back(MakeEvent(i));
  (*store)->Add(events, 1);
  ASSERT_TRUE((*store)->Flush().ok());
  int calls = 0;
  Status s = (*store)->ScanColumns(Request(nullptr), [&](const ColumnBatch&) {
    ++calls;
    return Status::InvalidArgument("stop");
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 1);
}

// ScanColumnsParallel: the same rows (one_ids, OneId and OneIds agreeing),
// every batch to one worker id in range, several workers really used, and
// the first error stops the scan.
TEST(StoreScanColumns, ParallelScanSameRowsOnEveryWorker) {
  TempDir dir;
  StoreOptions opt;
  opt.dir = dir.path();
  opt.max_segment_rows = 50;
  auto store = EventStore::Open(opt);
  ASSERT_TRUE(store.ok());
  std::vector<Event> first, second;
  for (int i = 0; i < 900; ++i) (i < 800 ? first : second).push_back(MakeEvent(i));
  (*store)->Add(first, 1);
  ASSERT_TRUE((*store)->Flush().ok());
  (*store)->Add(second, 2);  // buffered: last, to worker 0
  DenseArray<uint32_t> one_ids;
  for (uint32_t k = 1; k < 9; ++k) one_ids.Set(k, 1000 + k % 4);
  const ScanRequest req = Request(&one_ids);
  size_t batches = 0;
  const std::vector<Row> want = ViaColumns(**store, req, &batches);
  for (int workers : {1, 2, 4}) {
    std::vector<std::vector<Row>> got(workers);
    std::vector<int> calls(workers, 0);
    Status s = (*store)->ScanColumnsParallel(req, workers, [&](int w, const ColumnBatch& b) {
      EXPECT_GE(w, 0);
      EXPECT_LT(w, workers);
      ++calls[w];
      // Slow batches, so a second worker surely starts before the first is done.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      const int64_t* ts = b.Int64s(Column::kTimestamp);
      const uint8_t* types = b.Types();
      const uint32_t* names = b.Codes(Column::kName);
      std::vector<uint32_t> rows(b.size()), bulk(b.size());
      for (size_t r = 0; r < b.size(); ++r) rows[r] = static_cast<uint32_t>(b.size() - 1 - r);
      b.OneIds(rows.data(), rows.size(), bulk.data());
      for (size_t r = 0; r < b.size(); ++r) {
        EXPECT_EQ(b.OneId(r), b.one_ids()[r]);
        EXPECT_EQ(bulk[b.size() - 1 - r], b.one_ids()[r]);
        got[w].emplace_back(ts[r], types[r], b.Dictionary(Column::kName)[names[r]],
                            std::string(b.String(Column::kSource, r)),
                            std::string(b.String(Column::kChannel, r)),
                            std::string(b.String(Column::kCampaignName, r)),
                            b.Doubles(Column::kRevenue)[r],
                            std::string(b.String(Column::kProperties, r)), b.one_ids()[r]);
      }
      return Status::OK();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::vector<Row> all;
    for (auto& g : got) all.insert(all.end(), g.begin(), g.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, want) << workers << " workers";
    if (workers > 1) {
      EXPECT_GT(std::count_if(calls.begin(), calls.end(), [](int c) { return c > 0; }), 1);
    }
  }
  std::atomic<int> calls{0};
  Status s = (*store)->ScanColumnsParallel(req, 2, [&](int, const ColumnBatch&) {
    ++calls;
    return Status::InvalidArgument("stop");
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_LE(calls.load(), 2);  // each worker stops after its first error
}

TEST(StoreScanColumns, ColumnCacheServesRepeatScansWithinItsBudget) {
  for (size_t capacity : {size_t{1} << 30, size_t{3000}, size_t{0}}) {
    TempDir dir;
    StoreOptions opt;
    opt.dir = dir.path();
    opt.max_segment_rows = 100;
    opt.column_cache_bytes = capacity;
    auto store = EventStore::Open(opt);
    ASSERT_TRUE(store.ok());
    std::vector<Event> events;
    for (int i = 0; i < 600; ++i) events.push_back(MakeEvent(i));
    (*store)->Add(events, 1);
    ASSERT_TRUE((*store)->Flush().ok());
    DenseArray<uint32_t> one_ids;
    for (uint32_t k = 1; k < 9; ++k) one_ids.Set(k, k);
    size_t batches = 0;
    const auto first = ViaColumns(**store, Request(&one_ids), &batches);
    const uint64_t read_after_first = (*store)->Stats().scan_bytes_read;
    // The identity map changes between scans: cached columns never cache one_ids.
    one_ids.Set(3, 1);
    const auto second = ViaColumns(**store, Request(&one_ids), &batches);
    const StoreStats st = (*store)->Stats();
    ASSERT_EQ(first.size(), second.size());
    for (size_t i = 0; i < first.size(); ++i) {
      auto a = first[i], b = second[i];
      if (std::get<8>(a) == 3) std::get<8>(a) = 1;
      EXPECT_EQ(a, b);
    }
    EXPECT_EQ(second, ViaScan(**store, Request(&one_ids)));
    EXPECT_LE(st.column_cache_bytes, capacity);
    if (capacity == (size_t{1} << 30)) {
      EXPECT_GT(st.column_cache_hits, 0u);
      EXPECT_EQ(st.scan_bytes_read - read_after_first, 0u) << "second scan read files";
    } else {
      EXPECT_GT(st.scan_bytes_read, read_after_first) << "a tiny cache cannot hold everything";
    }
  }
}

}  // namespace
}  // namespace quanyu::store
