// Tests of segment compaction: the size-tiered plan, full and tiered merges
// keeping every row (every field, the identity key, time order), the
// manifest and files after a merge and a reopen, the catalog, and scans
// running while segments are merged underneath them.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "common/time_util.h"
#include "store/event_store.h"
#include "store/internal/compaction.h"
#include "store/internal/manifest.h"
#include "test_util.h"

namespace quanyu::store {
namespace {

namespace fs = std::filesystem;
using internal::PlanCompaction;
using internal::SegmentEntry;
using ::quanyu::testing::TempDir;

constexpr int64_t kDay = kMicrosPerDay;
constexpr int64_t kT0 = 20'000 * kDay;

Event MakeEvent(int i, int64_t ts) {
  Event e;
  e.timestamp_us = ts;
  e.received_us = ts + 5;
  e.type = i % 4 == 0 ? EventType::kPage : EventType::kTrack;
  e.name = i % 3 == 0 ? "Order Completed" : "Product Viewed";
  e.message_id = "m" + std::to_string(i);
  e.source = "app";
  e.channel = i % 2 ? "douyin" : "xiaohongshu";
  e.user_id = "u" + std::to_string(i % 37);
  e.identity_key = static_cast<uint32_t>(i % 37 + 1);
  if (i % 3 == 0) e.revenue = i * 0.5;
  e.properties_json = R"({"i":)" + std::to_string(i) + "}";
  return e;
}

std::vector<Event> ScanAll(const EventStore& store, ScanRequest req = {}) {
  std::vector<Event> out;
  Status s = store.Scan(req, [&](const EventBatch& batch) {
    out.insert(out.end(), batch.begin(), batch.end());
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::sort(out.begin(), out.end(),
            [](const Event& a, const Event& b) { return a.message_id < b.message_id; });
  return out;
}

size_t SegmentFileCount(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir + "/events")) {
    if (e.is_regular_file()) ++n;
  }
  return n;
}

StoreOptions Options(size_t compact_fanin, size_t max_segment_rows = size_t{1} << 20) {
  StoreOptions o;
  o.compact_fanin = compact_fanin;
  o.max_segment_rows = max_segment_rows;
  return o;
}

std::unique_ptr<EventStore> OpenStore(const std::string& dir, StoreOptions o = {}) {
  o.dir = dir;
  auto store = EventStore::Open(o);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

// `flushes` flushes, each adding `per_flush` events spread over `days` days
// (as a bulk load does), with LSNs 1, 2, ...
std::vector<Event> Load(EventStore* store, int flushes, int per_flush, int days) {
  std::vector<Event> all;
  int i = 0;
  for (int f = 0; f < flushes; ++f) {
    std::vector<Event> batch;
    for (int k = 0; k < per_flush; ++k, ++i) {
      // Out of time order within a flush, several rows per timestamp.
      batch.push_back(MakeEvent(i, kT0 + (k % days) * kDay + (per_flush - k) / 3 * 1000));
    }
    all.insert(all.end(), batch.begin(), batch.end());
    store->Add(std::move(batch), f + 1);
    EXPECT_TRUE(store->Flush().ok());
  }
  std::sort(all.begin(), all.end(),
            [](const Event& a, const Event& b) { return a.message_id < b.message_id; });
  return all;
}

SegmentEntry Entry(uint64_t seq, const std::string& day, uint64_t rows) {
  SegmentEntry e;
  e.seq = seq;
  e.day = day;
  e.rows = rows;
  return e;
}

TEST(CompactionPlanTest, TieredWaitsForFaninSegmentsOfOneTierPerDay) {
  std::vector<SegmentEntry> segs;
  for (uint64_t s = 1; s <= 3; ++s) segs.push_back(Entry(s, "2026-01-01", 10));  // tier 1 (fanin 4)
  segs.push_back(Entry(4, "2026-01-01", 100));                                     // tier 3
  segs.push_back(Entry(5, "2026-01-02", 10));                                      // other day
  EXPECT_TRUE(PlanCompaction(segs, false, 4, 1000).empty());
  segs.push_back(Entry(6, "2026-01-01", 12));  // the fourth of tier 1 on 01-01
  auto jobs = PlanCompaction(segs, false, 4, 1000);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].day, "2026-01-01");
  EXPECT_EQ(jobs[0].seqs, (std::vector<uint64_t>{1, 2, 3, 6}));
  EXPECT_EQ(jobs[0].rows, 42u);
}

TEST(CompactionPlanTest, FullMergesEverySmallSegmentOfADayAndLeavesLargeOnes) {
  std::vector<SegmentEntry> segs = {Entry(1, "2026-01-01", 10), Entry(2, "2026-01-01", 400),
                                    Entry(3, "2026-01-01", 500),  // >= max/2: left alone
                                    Entry(4, "2026-01-02", 7)};   // alone on its day
  auto jobs = PlanCompaction(segs, true, 8, 1000);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].seqs, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(jobs[0].rows, 410u);
}

TEST(CompactionPlanTest, OneMergeHoldsAtMostTwoMaxSegmentsOfRows) {
  std::vector<SegmentEntry> segs;
  for (uint64_t s = 1; s <= 9; ++s) segs.push_back(Entry(s, "2026-01-01", 400));  // max 1000
  auto jobs = PlanCompaction(segs, true, 8, 1000);
  // 5 x 400 rows > 2000: jobs of 5, then 4.
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].seqs, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(jobs[0].rows, 2000u);
  EXPECT_EQ(jobs[1].seqs, (std::vector<uint64_t>{6, 7, 8, 9}));
  // A remainder of one segment is left as it is.
  segs.resize(6);
  jobs = PlanCompaction(segs, true, 8, 1000);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].seqs.size(), 5u);
}

TEST(CompactionTest, FullPassLeavesOneSegmentPerDayWithEveryRowInTimeOrder) {
  TempDir dir;
  const int kDays = 3;
  std::vector<Event> all;
  uint64_t checkpoint;
  std::shared_ptr<const EventCatalog> catalog_before;
  {
    auto store = OpenStore(dir.path(), Options(0));
    all = Load(store.get(), 10, 300, kDays);
    EXPECT_EQ(store->Stats().segments, 30u);
    checkpoint = store->CheckpointLsn();
    catalog_before = store->Catalog();
    auto done = store->Compact(true);
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->merges, 3u);
    EXPECT_EQ(done->segments_in, 30u);
    EXPECT_EQ(done->segments_out, 3u);
    EXPECT_EQ(done->rows, 3000u);
    EXPECT_EQ(store->Stats().segments, 3u);
    EXPECT_EQ(store->Stats().segment_events, 3000u);
    EXPECT_EQ(SegmentFileCount(dir.path()), 3u);  // the inputs are gone
    EXPECT_EQ(ScanAll(*store), all);
    EXPECT_EQ(store->CheckpointLsn(), checkpoint);
    // A second full pass has nothing left to merge.
    auto again = store->Compact(true);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->merges, 0u);
  }
  auto store = OpenStore(dir.path(), Options(0));
  EXPECT_EQ(store->Stats().segments, 3u);
  EXPECT_EQ(store->CheckpointLsn(), checkpoint);
  EXPECT_EQ(ScanAll(*store), all);
  // Each segment's rows come out in time order.
  Status s = store->ScanColumns({.columns = {Column::kTimestamp}}, [](const ColumnBatch& b) {
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    EXPECT_TRUE(std::is_sorted(ts, ts + b.size()));
    EXPECT_EQ(b.size(), 1000u);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto catalog = store->Catalog();
  ASSERT_EQ(catalog->events.size(), catalog_before->events.size());
  for (const auto& [name, e] : catalog_before->events) {
    EXPECT_EQ(catalog->events.at(name).count, e.count) << name;
  }
}

TEST(CompactionTest, LargeMergesAreCutAtMaxSegmentRows) {
  TempDir dir;
  auto store = OpenStore(dir.path(), Options(0, 1000));
  auto all = Load(store.get(), 9, 200, 1);  // 9 segments of 200 rows on one day
  auto done = store->Compact(true);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->segments_out, 2u);  // 1800 rows, at most 1000 per segment
  EXPECT_EQ(ScanAll(*store), all);
}

TEST(CompactionTest, TieredPassMergesOnlyFullTiers) {
  TempDir dir;
  auto store = OpenStore(dir.path(), Options(4));
  auto all = Load(store.get(), 3, 50, 1);
  auto done = store->Compact(false);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->merges, 0u);  // three of tier 2 (fanin 4: 16..63 rows)
  EXPECT_EQ(store->Stats().segments, 3u);
  Load(store.get(), 1, 50, 1);  // the fourth
  // The background thread may have merged them first; either way, one.
  done = store->Compact(false);
  ASSERT_TRUE(done.ok());
  EXPECT_LE(done->merges, 1u);
  EXPECT_EQ(store->Stats().segments, 1u);
  EXPECT_EQ(store->Stats().segment_events, 200u);
}

TEST(CompactionTest, BackgroundThreadMergesAfterFlushes) {
  TempDir dir;
  auto store = OpenStore(dir.path(), Options(4));
  auto all = Load(store.get(), 8, 20, 1);  // 8 segments of tier 2
  // The flusher polls at least once a second; give it a few.
  for (int i = 0; i < 100 && store->Stats().segments > 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_LE(store->Stats().segments, 2u);
  EXPECT_EQ(ScanAll(*store), all);
}

TEST(CompactionTest, ScansDuringMergesSeeEveryRowExactlyOnce) {
  TempDir dir;
  StoreOptions o = Options(0);
  o.column_cache_bytes = 1 << 20;
  auto store = OpenStore(dir.path(), o);
  std::atomic<bool> done{false};
  std::atomic<int> flushed{0};
  std::thread writer([&] {
    for (int f = 0; f < 40; ++f) {
      std::vector<Event> batch;
      for (int k = 0; k < 100; ++k) batch.push_back(MakeEvent(f * 100 + k, kT0 + (k % 2) * kDay + k));
      store->Add(std::move(batch), f + 1);
      ASSERT_TRUE(store->Flush().ok());
      flushed = (f + 1) * 100;
      if (f % 5 == 4) {
        auto c = store->Compact(true);
        ASSERT_TRUE(c.ok()) << c.status().ToString();
      }
    }
    done = true;
  });
  int scans = 0;
  while (!done) {
    const int lower = flushed.load();
    auto got = ScanAll(*store, {.columns = {Column::kMessageId}});
    EXPECT_GE(static_cast<int>(got.size()), lower);
    EXPECT_TRUE(std::adjacent_find(got.begin(), got.end()) == got.end()) << "duplicate row";
    size_t columnar = 0;
    Status s = store->ScanColumns({.columns = {Column::kName}}, [&](const ColumnBatch& b) {
      columnar += b.size();
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_GE(static_cast<int>(columnar), lower);
    ++scans;
  }
  writer.join();
  EXPECT_GT(scans, 0);
  ASSERT_TRUE(store->Compact(true).ok());
  EXPECT_EQ(store->Stats().segments, 2u);
  EXPECT_EQ(ScanAll(*store).size(), 4000u);
  EXPECT_EQ(SegmentFileCount(dir.path()), 2u);
}

TEST(CompactionTest, ConcurrentPassesNeverMergeTheSameSegmentsTwice) {
  TempDir dir;
  auto store = OpenStore(dir.path(), Options(4));  // the background thread joins in too
  auto all = Load(store.get(), 24, 100, 3);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&store, t] { ASSERT_TRUE(store->Compact(t != 1).ok()); });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(store->Compact(true).ok());
  EXPECT_EQ(store->Stats().segment_events, 2400u);
  EXPECT_EQ(store->Stats().segments, 3u);
  EXPECT_EQ(ScanAll(*store), all);
}

}  // namespace
}  // namespace quanyu::store
