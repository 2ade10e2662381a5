// Tests of EventStore: round trips through flush and reopen, time-range and
// column-subset scans, buffered visibility, checkpoints, background flushes
// and recovery from crash leftovers.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/event_codec.h"
#include "common/metrics.h"
#include "common/time_util.h"
#include "store/event_store.h"
#include "store/internal/manifest.h"
#include "store/internal/segment_reader.h"
#include "test_util.h"

namespace quanyu::store {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDay = kMicrosPerDay;
constexpr int64_t kT0 = 20'000 * kDay;  // 2024-10-04T00:00:00Z

using ::quanyu::testing::TempDir;

Event FullEvent(int i, int64_t ts) {
  Event e;
  e.timestamp_us = ts;
  e.received_us = ts + 2'000 + i;
  e.type = static_cast<EventType>(i % kEventTypeCount);
  e.name = i % 3 == 0 ? "支付成功" : "view_" + std::to_string(i % 4);
  e.message_id = "m" + std::to_string(i);
  e.source = "app";
  e.channel = i % 2 ? "wechat" : "";
  e.user_id = i % 2 ? "" : "u" + std::to_string(i);
  e.anonymous_id = "a-" + std::to_string(i) + "-ñ";
  for (int k = 0; k <= i % 3; ++k) {
    e.identifiers.push_back(
        {"wechat_openid", "wxapp" + std::to_string(k), "o" + std::to_string(i)});
  }
  e.campaign = {"baidu", "cpc", "春节", "", i % 2 ? "c" : ""};
  e.referrer = i % 2 ? "" : "https://r.example/";
  e.url = "https://s.example/?i=" + std::to_string(i);
  if (i % 2) e.revenue = i * 1.25;
  if (i % 3 == 0) e.value = 0.0;
  if (i % 4 == 0) e.quantity = 2;
  e.currency = i % 2 ? "CNY" : "";
  e.order_id = i % 2 ? "ord" + std::to_string(i) : "";
  e.product_id = "sku-" + std::to_string(i % 9);
  e.properties_json = R"({"color":"红","i":)" + std::to_string(i) + "}";
  e.traits_json = i % 5 ? "" : R"({"vip":true})";
  e.context_json = R"({"library":{"name":"js"}})";
  return e;
}

std::vector<Event> ScanAll(const EventStore& store, ScanRequest req = {}) {
  std::vector<Event> out;
  Status s = store.Scan(req, [&](const EventBatch& batch) {
    out.insert(out.end(), batch.begin(), batch.end());
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::stable_sort(out.begin(), out.end(),
                   [](const Event& a, const Event& b) { return a.message_id < b.message_id; });
  return out;
}

std::vector<Event> SortedById(std::vector<Event> events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.message_id < b.message_id; });
  return events;
}

std::unique_ptr<EventStore> OpenStore(const std::string& dir, StoreOptions o = {}) {
  o.dir = dir;
  auto store = EventStore::Open(o);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir + "/events")) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(EventStoreTest, EncodedBatchesAreAdoptedAsTheyAre) {
  TempDir dir;
  std::vector<Event> events;
  for (int i = 0; i < 50; ++i) events.push_back(FullEvent(i, kT0 + (i * 31 % 50) * 1000));
  std::string payload;
  EncodeEventBatch(events, &payload);
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->AddEncodedBatch(payload, 7).ok());
  EXPECT_EQ(ScanAll(*store), SortedById(events));  // buffered
  auto lsn = store->Flush();
  ASSERT_TRUE(lsn.ok());
  EXPECT_EQ(*lsn, 7u);
  EXPECT_EQ(ScanAll(*store), SortedById(events));  // from segments
  // A malformed payload is refused whole.
  EXPECT_EQ(store->AddEncodedBatch(payload.substr(0, payload.size() - 3), 8).code(),
            StatusCode::kCorruption);
  EXPECT_EQ(store->Stats().buffered_events, 0u);
}

TEST(EventStoreTest, EveryFieldRoundTripsThroughFlushAndReopen) {
  TempDir dir;
  std::vector<Event> events;
  for (int i = 0; i < 300; ++i) events.push_back(FullEvent(i, kT0 + (i * 7919 % 300) * 1000));
  events.push_back(Event{});  // all defaults, timestamp 0 (1970-01-01)
  events.back().message_id = "zzz-empty";
  {
    auto store = OpenStore(dir.path());
    store->Add(events, 10);
    auto lsn = store->Flush();
    ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
    EXPECT_EQ(*lsn, 10u);
    EXPECT_EQ(ScanAll(*store), SortedById(events));
    ASSERT_TRUE(store->Close().ok());
  }
  auto store = OpenStore(dir.path());
  EXPECT_EQ(store->CheckpointLsn(), 10u);
  EXPECT_EQ(ScanAll(*store), SortedById(events));
  EXPECT_EQ(SegmentFiles(dir.path()),
            (std::vector<std::string>{"events/1970-01-01/000000000001.qys",
                                      "events/2024-10-04/000000000002.qys"}));
}

TEST(EventStoreTest, SegmentsAreSortedByTimestamp) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) events.push_back(FullEvent(i, kT0 + (99 - i)));
  store->Add(events, 1);
  ASSERT_TRUE(store->Flush().ok());
  std::vector<int64_t> order;
  ASSERT_TRUE(store
                  ->Scan({.columns = {Column::kTimestamp}},
                         [&](const EventBatch& b) {
                           for (const auto& e : b) order.push_back(e.timestamp_us);
                           return Status::OK();
                         })
                  .ok());
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  EXPECT_EQ(order.size(), 100u);
}

TEST(EventStoreTest, TimeRangeFilteringAcrossDayPartitions) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::vector<Event> events;
  // Four days, 24 events a day one hour apart.
  for (int i = 0; i < 96; ++i) events.push_back(FullEvent(i, kT0 + i * kDay / 24));
  store->Add(events, 5);
  ASSERT_TRUE(store->Flush().ok());
  auto files = SegmentFiles(dir.path());
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].substr(0, 18), "events/2024-10-04/");
  EXPECT_EQ(files[3].substr(0, 18), "events/2024-10-07/");

  auto count = [&](int64_t from, int64_t to) {
    return ScanAll(*store, {.from_us = from, .to_us = to}).size();
  };
  EXPECT_EQ(count(INT64_MIN, INT64_MAX), 96u);
  EXPECT_EQ(count(kT0 + kDay, kT0 + 2 * kDay), 24u);                  // exactly one day
  EXPECT_EQ(count(kT0 + kDay - kDay / 24, kT0 + 2 * kDay + 1), 26u);  // straddles three days
  EXPECT_EQ(count(kT0 + kDay / 24, kT0 + kDay / 24 + 1), 1u);         // inclusive start
  EXPECT_EQ(count(kT0 + kDay / 24 + 1, kT0 + 2 * kDay / 24), 0u);     // exclusive end
  EXPECT_EQ(count(kT0 + 10 * kDay, kT0 + 11 * kDay), 0u);
  EXPECT_EQ(count(kT0 + kDay, kT0 + kDay), 0u);  // empty range

  auto in_range = ScanAll(*store, {.from_us = kT0 + 30 * kDay / 24, .to_us = kT0 + 50 * kDay / 24});
  ASSERT_EQ(in_range.size(), 20u);
  for (const auto& e : in_range) {
    EXPECT_GE(e.timestamp_us, kT0 + 30 * kDay / 24);
    EXPECT_LT(e.timestamp_us, kT0 + 50 * kDay / 24);
  }
}

TEST(EventStoreTest, ColumnSubsetFillsOnlyThoseFields) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::vector<Event> events;
  for (int i = 0; i < 50; ++i) events.push_back(FullEvent(i, kT0 + i));
  store->Add(events, 1);
  ASSERT_TRUE(store->Flush().ok());
  store->Add({FullEvent(50, kT0 + 50)}, 2);  // one buffered event too
  events.push_back(FullEvent(50, kT0 + 50));

  const ColumnSet cols = {Column::kMessageId, Column::kRevenue, Column::kIdentifiers,
                          Column::kCampaignName};
  auto got = ScanAll(*store, {.columns = cols});
  auto want = SortedById(events);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    Event expected;
    expected.message_id = want[i].message_id;
    expected.revenue = want[i].revenue;
    expected.identifiers = want[i].identifiers;
    expected.campaign.name = want[i].campaign.name;
    EXPECT_EQ(got[i], expected) << i;
  }
}

TEST(EventStoreTest, ScanReadsOnlyRequestedColumnBlocks) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::vector<Event> events;
  for (int i = 0; i < 2000; ++i) events.push_back(FullEvent(i, kT0 + i));
  store->Add(events, 1);
  ASSERT_TRUE(store->Flush().ok());
  const std::string path = dir.path() + "/" + SegmentFiles(dir.path()).at(0);
  auto reader = internal::SegmentReader::Open(path, nullptr);
  ASSERT_TRUE(reader.ok());
  const internal::SegmentFooter footer = (*reader)->footer();

  // Bytes read: exactly the two requested blocks (the range covers the
  // whole segment, so the timestamp block is not needed).
  const uint64_t before = store->Stats().scan_bytes_read;
  EXPECT_EQ(ScanAll(*store, {.columns = {Column::kName, Column::kChannel}}).size(), 2000u);
  EXPECT_EQ(store->Stats().scan_bytes_read - before,
            footer.Find(Column::kName)->compressed_length +
                footer.Find(Column::kChannel)->compressed_length);

  // Damage the properties block: scans that do not ask for it still work.
  const internal::ColumnMeta props = *footer.Find(Column::kProperties);
  std::string bytes = ::quanyu::testing::ReadFileOrEmpty(path);
  bytes[props.offset + props.compressed_length / 2] ^= 0x01;
  ::quanyu::testing::WriteFile(path, bytes);
  EXPECT_EQ(
      ScanAll(*store, {.columns = {Column::kName, Column::kTimestamp, Column::kUserId}}).size(),
      2000u);
  Status s = store->Scan({.columns = {Column::kName, Column::kProperties}},
                         [](const EventBatch&) { return Status::OK(); });
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("properties"), std::string::npos) << s.message();
}

TEST(EventStoreTest, BufferedAndFlushedAreBothVisible) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  store->Add({FullEvent(1, kT0 + 1), FullEvent(2, kT0 + 2)}, 1);
  ASSERT_TRUE(store->Flush().ok());
  store->Add({FullEvent(3, kT0 + 3)}, 2);
  store->Add({FullEvent(4, kT0 + kDay)}, 3);
  EXPECT_EQ(ScanAll(*store).size(), 4u);
  EXPECT_EQ(ScanAll(*store, {.include_buffered = false}).size(), 2u);
  EXPECT_EQ(ScanAll(*store, {.from_us = kT0 + 2, .to_us = kT0 + 4}).size(), 2u);
  StoreStats st = store->Stats();
  EXPECT_EQ(st.segments, 1u);
  EXPECT_EQ(st.segment_events, 2u);
  EXPECT_EQ(st.buffered_events, 2u);
  EXPECT_GT(st.buffered_bytes, 0u);
  EXPECT_GT(st.segment_bytes, 0u);
  EXPECT_EQ(st.min_timestamp_us, kT0 + 1);
  EXPECT_EQ(st.max_timestamp_us, kT0 + kDay);
  EXPECT_EQ(st.checkpoint_lsn, 1u);
}

TEST(EventStoreTest, ScanSeesEachEventOnceWhileFlushing) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::atomic<bool> done{false};
  std::atomic<int> added{0};
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      std::vector<Event> batch;
      for (int k = 0; k < 50; ++k) batch.push_back(FullEvent(i * 50 + k, kT0 + i * 50 + k));
      store->Add(std::move(batch), i + 1);
      added += 50;
      if (i % 20 == 0) {
        ASSERT_TRUE(store->Flush().ok());
      }
    }
    done = true;
  });
  while (!done) {
    const int lower = added.load();
    auto got = ScanAll(*store, {.columns = {Column::kMessageId}});
    EXPECT_GE(static_cast<int>(got.size()), lower);
    EXPECT_TRUE(std::adjacent_find(got.begin(), got.end()) == got.end()) << "duplicate row";
  }
  writer.join();
  EXPECT_EQ(ScanAll(*store).size(), 10'000u);
}

TEST(EventStoreTest, CheckpointLsnPersists) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    EXPECT_EQ(store->CheckpointLsn(), 0u);
    store->Add({FullEvent(1, kT0)}, 7);
    EXPECT_EQ(store->CheckpointLsn(), 0u);  // not flushed yet
    ASSERT_EQ(*store->Flush(), 7u);
    store->Add({}, 9);  // a record without events still advances the checkpoint
    ASSERT_EQ(*store->Flush(), 9u);
    store->Add({FullEvent(2, kT0 + 1)}, 12);
    ASSERT_TRUE(store->Close().ok());  // final flush
    EXPECT_TRUE(store->Close().ok());  // idempotent
  }
  auto store = OpenStore(dir.path());
  EXPECT_EQ(store->CheckpointLsn(), 12u);
  EXPECT_EQ(store->Stats().segment_events, 2u);
  EXPECT_EQ(store->Stats().segments, 2u);
}

TEST(EventStoreTest, DestructorFlushes) {
  TempDir dir;
  OpenStore(dir.path())->Add({FullEvent(1, kT0)}, 3);
  auto store = OpenStore(dir.path());
  EXPECT_EQ(store->CheckpointLsn(), 3u);
  EXPECT_EQ(ScanAll(*store).size(), 1u);
}

TEST(EventStoreTest, CrashLeftoversAreIgnoredAndRemoved) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    store->Add({FullEvent(1, kT0)}, 4);
    ASSERT_TRUE(store->Flush().ok());
  }
  // What a crash in the middle of a flush leaves: a temporary, a complete
  // segment the manifest does not name yet (in a new day folder too), and a
  // manifest temporary.
  const std::string listed = SegmentFiles(dir.path()).at(0);
  const std::string day = dir.path() + "/events/2024-10-04/";
  fs::copy_file(dir.path() + "/" + listed, day + "000000000002.qys");
  ::quanyu::testing::WriteFile(day + "000000000003.qys.tmp", "half a segm");
  fs::create_directories(dir.path() + "/events/2024-10-09");
  fs::copy_file(dir.path() + "/" + listed, dir.path() + "/events/2024-10-09/000000000004.qys");
  ::quanyu::testing::WriteFile(dir.path() + "/MANIFEST.tmp", "{\"trunc");
  ::quanyu::testing::WriteFile(day + "notes.txt", "not ours");

  auto store = OpenStore(dir.path());
  EXPECT_EQ(store->CheckpointLsn(), 4u);
  EXPECT_EQ(ScanAll(*store).size(), 1u);
  EXPECT_EQ(SegmentFiles(dir.path()),
            (std::vector<std::string>{listed, "events/2024-10-04/notes.txt"}));
  EXPECT_FALSE(fs::exists(dir.path() + "/MANIFEST.tmp"));
  // New segments get fresh numbers.
  store->Add({FullEvent(2, kT0 + 1)}, 5);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(ScanAll(*store).size(), 2u);
}

TEST(EventStoreTest, MissingManifestWithSegmentsIsCorruption) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    store->Add({FullEvent(1, kT0)}, 1);
    ASSERT_TRUE(store->Flush().ok());
  }
  fs::remove(dir.path() + "/MANIFEST");
  auto store = EventStore::Open({.dir = dir.path()});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(SegmentFiles(dir.path()).size(), 1u) << "data must not be deleted";
}

TEST(EventStoreTest, ListedSegmentMissingOrDamagedIsCorruption) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    store->Add({FullEvent(1, kT0)}, 1);
    ASSERT_TRUE(store->Flush().ok());
  }
  const std::string path = dir.path() + "/" + SegmentFiles(dir.path()).at(0);
  std::string bytes = ::quanyu::testing::ReadFileOrEmpty(path);
  ::quanyu::testing::WriteFile(path, bytes.substr(0, bytes.size() - 1));
  EXPECT_EQ(EventStore::Open({.dir = dir.path()}).status().code(), StatusCode::kCorruption);
  fs::remove(path);
  EXPECT_EQ(EventStore::Open({.dir = dir.path()}).status().code(), StatusCode::kCorruption);
  ::quanyu::testing::WriteFile(dir.path() + "/MANIFEST", "garbage");
  EXPECT_EQ(EventStore::Open({.dir = dir.path()}).status().code(), StatusCode::kCorruption);
}

TEST(EventStoreTest, BackgroundFlushAtThreshold) {
  TempDir dir;
  StoreOptions o;
  o.flush_events = 100;
  auto store = OpenStore(dir.path(), o);
  std::vector<Event> events;
  for (int i = 0; i < 150; ++i) events.push_back(FullEvent(i, kT0 + i));
  store->Add(events, 1);
  for (int i = 0; i < 500 && store->CheckpointLsn() != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(store->CheckpointLsn(), 1u);
  EXPECT_EQ(store->Stats().segment_events, 150u);
}

TEST(EventStoreTest, FlushIfDueFollowsTheClock) {
  TempDir dir;
  FakeClock clock(kT0);
  StoreOptions o;
  o.flush_events = 1000;
  o.flush_interval_us = 10'000'000;
  o.clock = &clock;
  auto store = OpenStore(dir.path(), o);
  ASSERT_TRUE(store->FlushIfDue().ok());
  EXPECT_EQ(store->Stats().segments, 0u);
  store->Add({FullEvent(1, kT0)}, 1);
  clock.Advance(9'000'000);
  ASSERT_TRUE(store->FlushIfDue().ok());
  EXPECT_EQ(store->CheckpointLsn(), 0u);
  clock.Advance(1'000'000);
  ASSERT_TRUE(store->FlushIfDue().ok());
  EXPECT_EQ(store->CheckpointLsn(), 1u);
  EXPECT_EQ(store->Stats().segments, 1u);
}

TEST(EventStoreTest, LargeDayIsSplitAndBatchesAreBounded) {
  TempDir dir;
  StoreOptions o;
  o.max_segment_rows = 30'000;
  auto store = OpenStore(dir.path(), o);
  std::vector<Event> events(70'000);
  for (int i = 0; i < 70'000; ++i) {
    events[i].timestamp_us = kT0 + i;
    events[i].name = i % 2 ? "a" : "b";
  }
  store->Add(events, 1);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->Stats().segments, 3u);
  size_t total = 0, batches = 0;
  ASSERT_TRUE(store
                  ->Scan({.columns = {Column::kName}},
                         [&](const EventBatch& b) {
                           EXPECT_LE(b.size(), kMaxScanBatchRows);
                           total += b.size();
                           ++batches;
                           return Status::OK();
                         })
                  .ok());
  EXPECT_EQ(total, 70'000u);
  EXPECT_EQ(batches, (70'000 + kMaxScanBatchRows - 1) / kMaxScanBatchRows);
}

// The scan reuses Event objects across batches: a row must never show a
// value left over from an earlier row (absent optionals, fewer identifiers,
// empty strings), whether it comes from a segment or the buffer.
TEST(EventStoreTest, ReusedBatchRowsCarryNothingOver) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::vector<Event> events;
  for (int i = 0; i < 3 * static_cast<int>(kMaxScanBatchRows); ++i) {
    events.push_back(FullEvent(i, kT0 + (i * 7) % 5000));
  }
  std::vector<Event> flushed(events.begin(), events.begin() + 2 * kMaxScanBatchRows + 5);
  std::vector<Event> buffered(events.begin() + 2 * kMaxScanBatchRows + 5, events.end());
  store->Add(flushed, 1);
  ASSERT_TRUE(store->Flush().ok());
  store->Add(buffered, 2);
  EXPECT_EQ(ScanAll(*store), SortedById(events));
  const ColumnSet cols = {Column::kMessageId, Column::kIdentifiers, Column::kRevenue,
                          Column::kTraits};
  auto got = ScanAll(*store, {.columns = cols});
  auto want = SortedById(events);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].identifiers, want[i].identifiers) << i;
    ASSERT_EQ(got[i].revenue, want[i].revenue) << i;
    ASSERT_EQ(got[i].traits_json, want[i].traits_json) << i;
    ASSERT_TRUE(got[i].url.empty()) << i;
  }
}

TEST(EventStoreTest, ScanStopsOnCallbackError) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  for (int d = 0; d < 5; ++d) store->Add({FullEvent(d, kT0 + d * kDay)}, d + 1);
  ASSERT_TRUE(store->Flush().ok());
  int calls = 0;
  Status s = store->Scan({}, [&](const EventBatch&) {
    ++calls;
    return Status::Internal("stop");
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(calls, 1);
}

TEST(EventStoreTest, MetricsArePublished) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  store->Add({FullEvent(1, kT0), FullEvent(2, kT0 + kDay)}, 1);
  ASSERT_TRUE(store->Flush().ok());
  auto* m = MetricsRegistry::Default();
  EXPECT_EQ(m->GetGauge("quanyu_store_segments", "")->Value(), 2);
  EXPECT_EQ(m->GetGauge("quanyu_store_events", "")->Value(), 2);
  EXPECT_EQ(static_cast<uint64_t>(m->GetGauge("quanyu_store_bytes", "")->Value()),
            store->Stats().segment_bytes);
  EXPECT_GE(m->GetHistogram("quanyu_store_flush_seconds", "", {})->Count(), 1u);
}

TEST(EventStoreTest, RejectsBadOptions) {
  EXPECT_EQ(EventStore::Open({}).status().code(), StatusCode::kInvalidArgument);
  TempDir dir;
  EXPECT_EQ(EventStore::Open({.dir = dir.path(), .flush_events = 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EventStore::Open({.dir = dir.path(), .scan_threads = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quanyu::store
