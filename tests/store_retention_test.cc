// Retention in the store (EventStore::DropBefore): whole days older than the
// cutoff leave the manifest, the files and the catalog; younger days,
// buffered events and scans running meanwhile are untouched; a reopen sees
// the same.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/time_util.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::store {
namespace {

namespace fs = std::filesystem;
using ::quanyu::testing::TempDir;

constexpr int64_t kDay = kMicrosPerDay;
constexpr int64_t kT0 = 20'000 * kDay;

Event At(int i, int64_t ts, const std::string& name) {
  Event e;
  e.timestamp_us = ts;
  e.received_us = ts;
  e.name = name;
  e.message_id = "m" + std::to_string(i);
  e.source = "web";
  e.identity_key = 1;
  e.properties_json = R"({"day_marker":)" + std::to_string(ts / kDay) + "}";
  return e;
}

size_t Rows(const EventStore& store) {
  size_t n = 0;
  EXPECT_TRUE(store
                  .Scan({},
                        [&](const EventBatch& b) {
                          n += b.size();
                          return Status::OK();
                        })
                  .ok());
  return n;
}

// Events named `name` in the catalog (0 when absent).
uint64_t Count(const EventStore& store, const std::string& name) {
  auto c = store.Catalog();
  auto it = c->events.find(name);
  return it == c->events.end() ? 0 : it->second.count;
}

size_t SegmentFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir + "/events")) n += e.is_regular_file();
  return n;
}

TEST(StoreRetention, DropsWholeDaysOlderThanTheCutoffAndKeepsTheRest) {
  TempDir dir;
  StoreOptions o;
  o.dir = dir.path();
  o.compact_fanin = 0;
  auto store = EventStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // Day 0: 3 "Old" events; day 1: 2 "Mid"; day 2: 1 "New".
  std::vector<Event> events = {At(1, kT0 + 10, "Old"),       At(2, kT0 + 20, "Old"),
                               At(3, kT0 + kDay - 1, "Old"), At(4, kT0 + kDay, "Mid"),
                               At(5, kT0 + kDay + 5, "Mid"), At(6, kT0 + 2 * kDay + 1, "New")};
  (*store)->Add(events, 1);
  ASSERT_TRUE((*store)->Flush().ok());
  // A late event of day 0, still buffered: left alone.
  (*store)->Add({At(7, kT0 + 30, "Old")}, 2);
  ASSERT_EQ(SegmentFiles(dir.path()), 3u);

  // A cutoff inside day 1: only day 0 is wholly older.
  auto r = (*store)->DropBefore(kT0 + kDay + 3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->segments, 1u);
  EXPECT_EQ(r->events, 3u);
  EXPECT_EQ(Rows(**store), 4u);  // 2 Mid + 1 New + the buffered Old
  EXPECT_EQ(SegmentFiles(dir.path()), 2u);
  EXPECT_EQ(Count(**store, "Old"), 1u);  // only the buffered one
  EXPECT_EQ(Count(**store, "Mid"), 2u);

  // Nothing more to drop at the same cutoff; the flushed late event goes
  // with the next run.
  EXPECT_EQ((*store)->DropBefore(kT0 + kDay + 3)->segments, 0u);
  ASSERT_TRUE((*store)->Flush().ok());
  EXPECT_EQ((*store)->DropBefore(kT0 + kDay + 3)->events, 1u);
  EXPECT_EQ(Count(**store, "Old"), 0u);
  ASSERT_TRUE((*store)->Close().ok());
  store->reset();

  auto reopened = EventStore::Open(o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(Rows(**reopened), 3u);
  EXPECT_EQ(Count(**reopened, "Old"), 0u);
  EXPECT_EQ(Count(**reopened, "Mid"), 2u);
  EXPECT_EQ((*reopened)->Stats().segments, 2u);
}

TEST(StoreRetention, AScanHoldingADroppedSegmentStillReadsIt) {
  TempDir dir;
  StoreOptions o;
  o.dir = dir.path();
  o.compact_fanin = 0;
  auto store = EventStore::Open(o);
  ASSERT_TRUE(store.ok());
  (*store)->Add({At(1, kT0, "Old"), At(2, kT0 + 3 * kDay, "New")}, 1);
  ASSERT_TRUE((*store)->Flush().ok());
  size_t seen = 0;
  bool dropped = false;
  Status st = (*store)->Scan({}, [&](const EventBatch& b) {
    if (!dropped) {  // drop underneath the running scan
      auto r = (*store)->DropBefore(kT0 + kDay);
      EXPECT_TRUE(r.ok() && r->segments == 1);
      dropped = true;
    }
    seen += b.size();
    return Status::OK();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, 2u);
  EXPECT_EQ(Rows(**store), 1u);
  EXPECT_EQ(SegmentFiles(dir.path()), 1u);  // released after the scan
}

}  // namespace
}  // namespace quanyu::store
