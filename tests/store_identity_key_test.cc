// Tests of the identity_key column (issue 3, One-ID): keys round-trip through
// the buffer, segments and a restart, through Add and AddEncodedBatch; a scan
// with ScanRequest::one_ids resolves each key to the one_id it maps to at
// scan time; segments written before the column existed read as key 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <limits>

#include "common/coding.h"
#include "common/dense_array.h"
#include "common/event_codec.h"
#include "common/time_util.h"
#include "store/event_store.h"
#include "store/internal/column_codec.h"
#include "store/internal/manifest.h"
#include "store/internal/segment_format.h"
#include "store/internal/segment_reader.h"
#include "store/internal/segment_writer.h"
#include "test_util.h"

namespace quanyu::store {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT0 = 20'000 * kMicrosPerDay;  // 2024-10-04T00:00:00Z

using ::quanyu::testing::TempDir;

// Several events per key, keys not in time order; every seventh event has no
// key, and one key needs all five varint bytes.
uint32_t KeyOf(int i) {
  if (i % 7 == 0) return 0;
  if (i == 1) return std::numeric_limits<uint32_t>::max();
  return 100 + static_cast<uint32_t>(i % 13) * 40'503;
}

Event KeyedEvent(int i, int64_t ts) {
  Event e;
  e.timestamp_us = ts;
  e.received_us = ts + 10;
  e.name = "view_" + std::to_string(i % 3);
  e.message_id = "m" + std::to_string(1000 + i);  // sorts numerically
  e.anonymous_id = "a" + std::to_string(i % 13);
  e.identity_key = KeyOf(i);
  return e;
}

std::vector<Event> KeyedEvents(int n, int first = 0) {
  std::vector<Event> events;
  for (int i = first; i < first + n; ++i) {
    events.push_back(KeyedEvent(i, kT0 + int64_t{i * 7919 % 500} * 1000));
  }
  return events;
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

std::unique_ptr<EventStore> OpenStore(const std::string& dir) {
  auto store = EventStore::Open({.dir = dir});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

std::vector<uint32_t> KeysOf(const std::vector<Event>& events) {
  std::vector<uint32_t> keys;
  keys.reserve(events.size());
  for (const auto& e : events) keys.push_back(e.identity_key);
  return keys;
}

TEST(IdentityKeyTest, KeysRoundTripThroughBufferFlushAndRestart) {
  TempDir dir;
  const auto events = KeyedEvents(300);
  {
    auto store = OpenStore(dir.path());
    store->Add(events, 3);
    EXPECT_EQ(ScanAll(*store), SortedById(events));  // buffered
    ASSERT_TRUE(store->Flush().ok());
    EXPECT_EQ(store->Stats().buffered_events, 0u);
    EXPECT_EQ(ScanAll(*store), SortedById(events));  // from segments
    ASSERT_TRUE(store->Close().ok());
  }
  auto store = OpenStore(dir.path());
  auto got = ScanAll(*store);
  EXPECT_EQ(got, SortedById(events));
  EXPECT_EQ(std::count_if(got.begin(), got.end(),
                          [](const Event& e) {
                            return e.identity_key == std::numeric_limits<uint32_t>::max();
                          }),
            1);
  for (const auto& e : got) EXPECT_EQ(e.one_id, 0u) << "no one_ids asked for";
}

TEST(IdentityKeyTest, EncodedBatchTakesKeysAlongside) {
  TempDir dir;
  const auto events = KeyedEvents(40);
  std::string payload;
  EncodeEventBatch(events, &payload);  // the row encoding drops the keys
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->AddEncodedBatch(payload, 5, KeysOf(events)).ok());
  EXPECT_EQ(ScanAll(*store), SortedById(events));
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(ScanAll(*store), SortedById(events));
  store.reset();  // closes
  store = OpenStore(dir.path());
  EXPECT_EQ(ScanAll(*store), SortedById(events));
}

TEST(IdentityKeyTest, EncodedBatchWithoutKeysStoresZero) {
  TempDir dir;
  auto events = KeyedEvents(20);
  std::string payload;
  EncodeEventBatch(events, &payload);
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->AddEncodedBatch(payload, 1).ok());  // the engine's two-argument call
  for (auto& e : events) e.identity_key = 0;
  EXPECT_EQ(ScanAll(*store), SortedById(events));
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(ScanAll(*store), SortedById(events));
}

TEST(IdentityKeyTest, EncodedBatchWithWrongKeyCountIsRefusedWhole) {
  TempDir dir;
  const auto events = KeyedEvents(10);
  std::string payload;
  EncodeEventBatch(events, &payload);
  auto store = OpenStore(dir.path());
  auto keys = KeysOf(events);
  keys.pop_back();
  EXPECT_EQ(store->AddEncodedBatch(payload, 2, keys).code(), StatusCode::kInvalidArgument);
  keys.push_back(1);
  keys.push_back(2);
  EXPECT_EQ(store->AddEncodedBatch(payload, 2, keys).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->AddEncodedBatch("", 2, {7}).code(), StatusCode::kInvalidArgument);
  // A malformed payload is still Corruption, whatever the keys.
  EXPECT_EQ(store->AddEncodedBatch(payload.substr(0, payload.size() - 1), 2, KeysOf(events)).code(),
            StatusCode::kCorruption);
  EXPECT_EQ(store->Stats().buffered_events, 0u);
  EXPECT_TRUE(ScanAll(*store).empty());
  // Nothing added means the LSN did not advance the checkpoint either.
  auto lsn = store->Flush();
  ASSERT_TRUE(lsn.ok());
  EXPECT_EQ(*lsn, 0u);
}

// Half the events in a segment, half buffered: both paths resolve.
TEST(IdentityKeyTest, OneIdsResolveAtScanTime) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const auto flushed = KeyedEvents(100);
  const auto buffered = KeyedEvents(100, 100);
  store->Add(flushed, 1);
  ASSERT_TRUE(store->Flush().ok());
  store->Add(buffered, 2);

  DenseArray<uint32_t> one_ids;
  for (int r = 0; r < 13; ++r) {
    const uint32_t key = 100 + static_cast<uint32_t>(r) * 40'503;
    if (r != 12) one_ids.Set(key, 5000 + r);  // key of r == 12 stays unknown
  }
  one_ids.Set(0, 777);  // must not leak onto events without a key

  auto check = [&](const std::vector<Event>& got, uint32_t key_of_r0_maps_to) {
    ASSERT_EQ(got.size(), 200u);
    for (size_t i = 0; i < got.size(); ++i) {
      const uint32_t key = KeyOf(static_cast<int>(i));
      ASSERT_EQ(got[i].identity_key, key) << i;
      uint32_t want = 0;
      if (key == 100) {
        want = key_of_r0_maps_to;
      } else if (key != 0 && key != std::numeric_limits<uint32_t>::max() &&
                 key != 100 + 12 * 40'503) {
        want = 5000 + (key - 100) / 40'503;
      }
      EXPECT_EQ(got[i].one_id, want) << "row " << i << " key " << key;
    }
  };
  check(ScanAll(*store, {.one_ids = &one_ids}), 5000);

  // The identity graph merges key 100 into another person: the next scan
  // sees the new one_id, without rewriting anything.
  one_ids.Set(100, 9001);
  check(ScanAll(*store, {.one_ids = &one_ids}), 9001);

  // Without one_ids nothing is resolved.
  for (const auto& e : ScanAll(*store)) EXPECT_EQ(e.one_id, 0u);
}

TEST(IdentityKeyTest, OneIdsWithATimeRangeCutInsideASegment) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const auto events = KeyedEvents(200);
  store->Add(events, 1);
  ASSERT_TRUE(store->Flush().ok());
  DenseArray<uint32_t> one_ids;
  for (const auto& e : events) {
    if (e.identity_key != 0) one_ids.Set(e.identity_key, e.identity_key / 2 + 1);
  }
  const int64_t from = kT0 + 100'000, to = kT0 + 300'000;
  auto got = ScanAll(*store, {.from_us = from, .to_us = to, .one_ids = &one_ids});
  size_t want = 0;
  for (const auto& e : events) want += e.timestamp_us >= from && e.timestamp_us < to;
  ASSERT_EQ(got.size(), want);
  for (const auto& e : got) {
    EXPECT_EQ(e.one_id, e.identity_key == 0 ? 0u : e.identity_key / 2 + 1);
  }
}

// one_ids needs the keys, so the scan reads the identity_key block even when
// only the timestamp is requested; identity_key itself stays unrequested.
TEST(IdentityKeyTest, TimestampOnlyScanStillFillsOneId) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const auto flushed = KeyedEvents(50);
  const auto buffered = KeyedEvents(50, 50);
  store->Add(flushed, 1);
  ASSERT_TRUE(store->Flush().ok());
  store->Add(buffered, 2);
  DenseArray<uint32_t> one_ids;
  for (int r = 0; r < 13; ++r) one_ids.Set(100 + static_cast<uint32_t>(r) * 40'503, 1 + r);

  std::vector<Event> all = flushed;
  all.insert(all.end(), buffered.begin(), buffered.end());
  std::vector<Event> got;
  ASSERT_TRUE(store
                  ->Scan({.columns = {Column::kTimestamp}, .one_ids = &one_ids},
                         [&](const EventBatch& b) {
                           got.insert(got.end(), b.begin(), b.end());
                           return Status::OK();
                         })
                  .ok());
  ASSERT_EQ(got.size(), all.size());
  // Match rows by timestamp (unique here) since message_id was not read.
  std::sort(got.begin(), got.end(),
            [](const Event& a, const Event& b) { return a.timestamp_us < b.timestamp_us; });
  std::sort(all.begin(), all.end(),
            [](const Event& a, const Event& b) { return a.timestamp_us < b.timestamp_us; });
  for (size_t i = 0; i < got.size(); ++i) {
    const uint32_t key = all[i].identity_key;
    Event expected;
    expected.timestamp_us = all[i].timestamp_us;
    expected.one_id = key == 0 ? 0 : one_ids.Get(key);
    EXPECT_EQ(got[i], expected) << i;
    if (key != 0 && key != std::numeric_limits<uint32_t>::max()) {
      EXPECT_NE(got[i].one_id, 0u) << i;
    }
  }

  // From the segment, exactly the timestamp and identity_key blocks are read.
  const auto manifest = internal::ReadManifest(dir.path());
  ASSERT_TRUE(manifest.ok() && manifest->has_value());
  ASSERT_EQ((*manifest)->segments.size(), 1u);
  auto reader = internal::SegmentReader::Open(
      dir.path() + "/" + (*manifest)->segments[0].RelativePath(), nullptr);
  ASSERT_TRUE(reader.ok());
  const auto& footer = (*reader)->footer();
  const uint64_t before = store->Stats().scan_bytes_read;
  ASSERT_EQ(
      ScanAll(*store,
              {.columns = {Column::kTimestamp}, .include_buffered = false, .one_ids = &one_ids})
          .size(),
      flushed.size());
  EXPECT_EQ(store->Stats().scan_bytes_read - before,
            footer.Find(Column::kTimestamp)->compressed_length +
                footer.Find(Column::kIdentityKey)->compressed_length);
}

TEST(IdentityKeyTest, RequestedKeyWithoutOneIds) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const auto events = KeyedEvents(30);
  store->Add({events.begin(), events.begin() + 15}, 1);
  ASSERT_TRUE(store->Flush().ok());
  store->Add({events.begin() + 15, events.end()}, 2);
  auto got = ScanAll(*store, {.columns = {Column::kMessageId, Column::kIdentityKey}});
  auto want = SortedById(events);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    Event expected;
    expected.message_id = want[i].message_id;
    expected.identity_key = want[i].identity_key;
    EXPECT_EQ(got[i], expected) << i;
  }
  // And a scan that does not ask for the key leaves it 0, buffered or not.
  for (const auto& e : ScanAll(*store, {.columns = {Column::kMessageId}})) {
    EXPECT_EQ(e.identity_key, 0u);
  }
}

// Drops the identity_key entry from the footer of the segment at `path`, as
// if it had been written before the column existed.
void StripIdentityKeyColumn(const std::string& path) {
  auto reader = internal::SegmentReader::Open(path, nullptr);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  internal::SegmentFooter footer = (*reader)->footer();
  const uint64_t data_end = fs::file_size(path) - internal::kTrailerSize -
                            internal::kFooterFixedSize -
                            footer.columns.size() * internal::kColumnEntrySize;
  std::erase_if(footer.columns,
                [](const internal::ColumnMeta& m) { return m.column == Column::kIdentityKey; });
  std::string bytes = ::quanyu::testing::ReadFileOrEmpty(path).substr(0, data_end);
  internal::EncodeFooterAndTrailer(footer, &bytes);
  ::quanyu::testing::WriteFile(path, bytes);
}

TEST(IdentityKeyTest, SegmentWithoutTheColumnReadsKeyZero) {
  TempDir dir;
  const auto events = KeyedEvents(60);
  {
    auto store = OpenStore(dir.path());
    store->Add(events, 1);
    ASSERT_TRUE(store->Close().ok());
  }
  auto manifest = internal::ReadManifest(dir.path());
  ASSERT_TRUE(manifest.ok() && manifest->has_value());
  ASSERT_EQ((*manifest)->segments.size(), 1u);
  StripIdentityKeyColumn(dir.path() + "/" + (*manifest)->segments[0].RelativePath());

  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  DenseArray<uint32_t> one_ids;
  one_ids.Set(0, 55);
  one_ids.Set(100, 56);
  auto got = ScanAll(*store, {.one_ids = &one_ids});
  auto want = SortedById(events);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    Event expected = want[i];
    expected.identity_key = 0;
    EXPECT_EQ(got[i], expected) << i;  // one_id 0 as well
  }
}

TEST(IdentityKeyTest, VarintBlockRejectsValuesPastUint32) {
  std::string raw;
  PutVarint64(&raw, 7);
  PutVarint64(&raw, uint64_t{1} << 32);
  auto decoded = internal::DecodeColumn(Column::kIdentityKey, internal::Encoding::kVarint, raw, 2);
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  EXPECT_FALSE(internal::EncodingFits(Column::kIdentityKey, internal::Encoding::kDeltaVarint));
  EXPECT_FALSE(internal::EncodingFits(Column::kName, internal::Encoding::kVarint));
  EXPECT_EQ(internal::ColumnName(Column::kIdentityKey), "identity_key");
}

}  // namespace
}  // namespace quanyu::store
