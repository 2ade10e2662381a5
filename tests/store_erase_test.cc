// Erasure in the store (EventStore::EraseRows): rows named by identity key
// or by an identifier they carry leave every segment, buffered ones too;
// other rows keep every field and their order; the catalog follows; a
// reopen sees the same; old files are deleted.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/time_util.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::store {
namespace {

namespace fs = std::filesystem;
using ::quanyu::testing::TempDir;

constexpr int64_t kDay = kMicrosPerDay;
constexpr int64_t kT0 = 20'000 * kDay;

Event Row(int i, int64_t ts, uint32_t key, const std::string& name) {
  Event e;
  e.timestamp_us = ts;
  e.received_us = ts + 1;
  e.name = name;
  e.message_id = "m" + std::to_string(i);
  e.source = "web";
  e.user_id = "user" + std::to_string(key);
  e.identity_key = key;
  e.identifiers.push_back({"user_id", "", e.user_id});
  e.properties_json = R"({"i":)" + std::to_string(i) + "}";
  return e;
}

std::vector<Event> All(const EventStore& store) {
  std::vector<Event> out;
  EXPECT_TRUE(store
                  .Scan({},
                        [&](const EventBatch& b) {
                          out.insert(out.end(), b.begin(), b.end());
                          return Status::OK();
                        })
                  .ok());
  std::sort(out.begin(), out.end(),
            [](const Event& a, const Event& b) { return a.message_id < b.message_id; });
  return out;
}

std::set<std::string> Paths(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir + "/events"))
    if (e.is_regular_file()) out.insert(e.path().string());
  return out;
}

TEST(StoreErase, RemovesTheNamedRowsEverywhereAndKeepsTheRestExactly) {
  TempDir dir;
  StoreOptions o;
  o.dir = dir.path();
  o.compact_fanin = 0;
  auto store = EventStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // Day 0: persons 1 and 2; day 1: person 2 only; day 2: person 1 only.
  std::vector<Event> rows = {Row(1, kT0 + 1, 1, "A"), Row(2, kT0 + 2, 2, "A"),
                             Row(3, kT0 + 3, 1, "B"), Row(4, kT0 + kDay, 2, "B"),
                             Row(5, kT0 + 2 * kDay, 1, "C")};
  // Row 6 is attributed to person 3 but carries person 1's phone.
  Event shared = Row(6, kT0 + kDay + 5, 3, "A");
  shared.identifiers.push_back({"phone", "", "+8613800138000"});
  rows.push_back(shared);
  (*store)->Add(rows, 1);
  ASSERT_TRUE((*store)->Flush().ok());
  (*store)->Add({Row(7, kT0 + 3 * kDay, 1, "D")}, 2);  // still buffered
  const std::set<std::string> before = Paths(dir.path());
  ASSERT_EQ(before.size(), 3u);

  EraseRequest req;
  req.identity_keys = {1};
  req.identifiers = {"phone:+8613800138000"};
  auto r = (*store)->EraseRows(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_erased, 5u);  // 1, 3, 5, 6 and the flushed 7
  // Day 0 and day 1 rewritten, day 2 and day 3 (only person 1) dropped.
  EXPECT_EQ(r->segments_rewritten, 4u);

  std::vector<Event> left = All(**store);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0], rows[1]);  // every field as it was
  EXPECT_EQ(left[1], rows[3]);
  auto catalog = (*store)->Catalog();
  EXPECT_EQ(catalog->events.count("C"), 0u);
  EXPECT_EQ(catalog->events.count("D"), 0u);
  EXPECT_EQ(catalog->events.at("A").count, 1u);
  // No file of the erased segments is left.
  for (const auto& p : Paths(dir.path())) EXPECT_EQ(before.count(p), 0u) << p;
  EXPECT_EQ(Paths(dir.path()).size(), 2u);

  // Nothing left to erase; a reopen sees the same rows.
  EXPECT_EQ((*store)->EraseRows(req)->rows_erased, 0u);
  ASSERT_TRUE((*store)->Close().ok());
  store->reset();
  auto reopened = EventStore::Open(o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(All(**reopened), left);
  EXPECT_EQ((*reopened)->Catalog()->events.at("B").count, 1u);
}

}  // namespace
}  // namespace quanyu::store
