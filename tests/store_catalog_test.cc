// The store's event catalog (store/catalog.h, EventStore::Catalog): names
// and property keys of buffered rows, of flushed rows, after a reopen, after
// a rebuild for a data directory without CATALOG, and after crashes between
// a flush's manifest and catalog writes; plus the light parsers it runs per
// row and the bounds that keep it small.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "common/event_codec.h"
#include "common/time_util.h"
#include "store/catalog.h"
#include "store/event_store.h"
#include "store/internal/catalog_builder.h"
#include "store/internal/catalog_file.h"
#include "store/internal/row_chunk.h"
#include "test_util.h"

namespace quanyu::store {
namespace {

namespace fs = std::filesystem;
using ::quanyu::testing::TempDir;

constexpr int64_t kT0 = 20'000 * kMicrosPerDay;  // 2024-10-04T00:00:00Z

Event Named(std::string name, int64_t ts, std::string properties = "") {
  Event e;
  e.timestamp_us = ts;
  e.received_us = ts;
  e.name = std::move(name);
  e.message_id = "m" + std::to_string(ts);
  e.properties_json = std::move(properties);
  return e;
}

std::unique_ptr<EventStore> OpenStore(const std::string& dir) {
  auto store = EventStore::Open({.dir = dir, .flush_interval_us = 3'600'000'000});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

std::set<std::string> Keys(const EventCatalog& c, const std::string& name) {
  auto it = c.events.find(name);
  return it == c.events.end() ? std::set<std::string>{} : it->second.properties;
}

// Two names over two days; "Order Completed" twice with different keys.
std::vector<Event> Sample() {
  return {Named("Product Viewed", kT0 + 10, R"({"name":"Serum \"A\"","price":99})"),
          Named("Order Completed", kT0 + 20, R"({"coupon":"X","items":[{"a":1}]})"),
          Named("Order Completed", kT0 + kMicrosPerDay, R"({"payment_method":"alipay"})"),
          Named("", kT0 + 5)};
}

void ExpectSample(const EventCatalog& c) {
  ASSERT_EQ(c.events.size(), 3u);
  const auto& order = c.events.at("Order Completed");
  EXPECT_EQ(order.count, 2u);
  EXPECT_EQ(order.first_us, kT0 + 20);
  EXPECT_EQ(order.last_us, kT0 + kMicrosPerDay);
  EXPECT_EQ(order.properties, (std::set<std::string>{"coupon", "items", "payment_method"}));
  EXPECT_EQ(Keys(c, "Product Viewed"), (std::set<std::string>{"name", "price"}));
  EXPECT_EQ(c.events.at("").count, 1u);
  EXPECT_TRUE(c.HasEvent("Order Completed"));
  EXPECT_FALSE(c.HasEvent("Order Cancelled"));
  EXPECT_TRUE(c.HasProperty("Order Completed", "items.a"));
  EXPECT_FALSE(c.HasProperty("Product Viewed", "coupon"));
  EXPECT_TRUE(c.HasProperty("", "coupon"));
}

TEST(CatalogTest, BufferedFlushedAndReopened) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    EXPECT_TRUE(store->Catalog()->events.empty());
    store->Add(Sample(), 1);
    ExpectSample(*store->Catalog());  // buffered
    ASSERT_TRUE(store->Flush().ok());
    ExpectSample(*store->Catalog());  // in segments
    store->Add({Named("Signed Up", kT0 + 30, R"({"method":"phone"})")}, 2);
    auto c = store->Catalog();  // both
    EXPECT_EQ(c->events.size(), 4u);
    EXPECT_EQ(c->TotalCount(), 5u);
    ASSERT_TRUE(store->Close().ok());
  }
  auto store = OpenStore(dir.path());
  auto c = store->Catalog();
  EXPECT_EQ(c->TotalCount(), 5u);
  EXPECT_EQ(Keys(*c, "Signed Up"), (std::set<std::string>{"method"}));
  EventCatalog without = *c;
  without.events.erase("Signed Up");
  ExpectSample(without);
}

TEST(CatalogTest, EncodedBatchesCountOnce) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::string payload;
  EncodeEventBatch(Sample(), &payload);
  ASSERT_TRUE(store->AddEncodedBatch(payload, 1).ok());
  ASSERT_TRUE(store->AddEncodedBatch(payload, 2).ok());
  EXPECT_EQ(store->Catalog()->TotalCount(), 8u);
  EXPECT_EQ(store->Catalog()->events.at("Order Completed").count, 4u);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->Catalog()->TotalCount(), 8u);
}

TEST(CatalogTest, EveryEventCountedOnceWhileFlushing) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::atomic<bool> done{false};
  // `added` counts events whose Add returned, `started` those whose Add had
  // begun: the catalog may count a batch as soon as Add takes it, before
  // `added` moves, so only `started` bounds it from above.
  std::atomic<uint64_t> added{0}, started{0};
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      std::vector<Event> batch;
      for (int k = 0; k < 50; ++k) {
        batch.push_back(Named("e" + std::to_string(k % 7), kT0 + i * 50 + k, R"({"k":1})"));
      }
      started += 50;
      store->Add(std::move(batch), i + 1);
      added += 50;
      if (i % 20 == 0) {
        ASSERT_TRUE(store->Flush().ok());
      }
    }
    done = true;
  });
  while (!done) {
    const uint64_t before = added.load();
    const uint64_t total = store->Catalog()->TotalCount();
    EXPECT_GE(total, before);
    EXPECT_LE(total, started.load()) << "an event counted twice";
  }
  writer.join();
  EXPECT_EQ(store->Catalog()->TotalCount(), 10'000u);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->Catalog()->TotalCount(), 10'000u);
}

TEST(CatalogTest, DataDirectoryWithoutCatalogIsRebuilt) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    store->Add(Sample(), 1);
    ASSERT_TRUE(store->Close().ok());
  }
  fs::remove(dir.path() + "/CATALOG");  // as written before the catalog existed
  {
    auto store = OpenStore(dir.path());
    ExpectSample(*store->Catalog());
  }
  ASSERT_TRUE(fs::exists(dir.path() + "/CATALOG")) << "the rebuild is persisted";
  auto file = internal::ReadCatalogFile(dir.path());
  ASSERT_TRUE(file.ok() && file->has_value());
  ExpectSample((*file)->catalog);
  EXPECT_EQ((*file)->segments.size(), 2u);  // one per day
}

// Flush writes segments, then the manifest (the commit point), then
// CATALOG. A crash after the manifest leaves a CATALOG that is behind it:
// the open scans just the segments it lacks, and nothing is lost or counted
// twice.
TEST(CatalogTest, CrashBetweenManifestAndCatalogLosesNothing) {
  TempDir dir;
  const std::string catalog = dir.path() + "/CATALOG";
  {
    auto store = OpenStore(dir.path());
    store->Add({Sample()[0]}, 1);
    ASSERT_TRUE(store->Flush().ok());
    fs::copy_file(catalog, dir.path() + "/CATALOG.old");
    store->Add({Sample()[1], Sample()[2], Sample()[3]}, 2);
    ASSERT_TRUE(store->Close().ok());
  }
  fs::rename(dir.path() + "/CATALOG.old", catalog);  // the second catalog write never happened
  ::quanyu::testing::WriteFile(catalog + ".tmp", "{\"half");  // ... or was torn
  {
    auto store = OpenStore(dir.path());
    ExpectSample(*store->Catalog());
    EXPECT_FALSE(fs::exists(catalog + ".tmp"));
  }
  auto file = internal::ReadCatalogFile(dir.path());
  ASSERT_TRUE(file.ok() && file->has_value());
  ExpectSample((*file)->catalog);  // caught up on disk too
}

// A crash after a flush wrote segments but before its manifest: the open
// deletes the segments (their events are replayed from the log) and CATALOG
// still matches the manifest.
TEST(CatalogTest, CrashBeforeManifestKeepsCatalogExact) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    store->Add(Sample(), 1);
    ASSERT_TRUE(store->Close().ok());
  }
  const std::string day = dir.path() + "/events/2024-10-04/";
  fs::copy_file(day + "000000000001.qys", day + "000000000009.qys");  // unlisted
  auto store = OpenStore(dir.path());
  ExpectSample(*store->Catalog());
  EXPECT_EQ(store->Catalog()->TotalCount(), 4u);
}

TEST(CatalogTest, CatalogNamingDeadSegmentsOrUnreadableIsRebuilt) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    store->Add(Sample(), 1);
    ASSERT_TRUE(store->Close().ok());
  }
  auto file = internal::ReadCatalogFile(dir.path());
  ASSERT_TRUE(file.ok() && file->has_value());
  internal::CatalogFile stale = **file;
  stale.segments.push_back(77);  // a segment the manifest does not name
  stale.catalog.events["Gone"].count = 3;
  ASSERT_TRUE(internal::WriteCatalogFile(dir.path(), stale).ok());
  {
    auto store = OpenStore(dir.path());
    ExpectSample(*store->Catalog());
  }
  ::quanyu::testing::WriteFile(dir.path() + "/CATALOG", "not json");
  auto store = OpenStore(dir.path());
  ExpectSample(*store->Catalog());
}

// The catalog is derived data: failing to write it never fails a flush.
TEST(CatalogTest, CatalogWriteFailureDoesNotFailTheFlush) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    fs::create_directory(dir.path() + "/CATALOG.tmp");  // the atomic write cannot create it
    store->Add(Sample(), 1);
    ASSERT_TRUE(store->Flush().ok());
    ExpectSample(*store->Catalog());
    ASSERT_TRUE(store->Close().ok());
    fs::remove(dir.path() + "/CATALOG.tmp");
  }
  auto store = OpenStore(dir.path());
  ExpectSample(*store->Catalog());
}

TEST(CatalogTest, CatalogFileRoundTrips) {
  internal::CatalogFile f;
  f.segments = {1, 2, 5};
  f.catalog.events["支付成功"] = {3, -5, 7, {"金额", "a\"b"}, false};
  f.catalog.events[""] = {1, 0, 0, {}, true};
  f.catalog.events_complete = false;
  auto back = internal::DecodeCatalogFile(internal::EncodeCatalogFile(f));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, f);
  EXPECT_FALSE(internal::DecodeCatalogFile(R"({"format_version":2})").ok());
  EXPECT_FALSE(internal::DecodeCatalogFile(
                   R"({"format_version":1,"segments":[2,1],"events_complete":true,"events":[]})")
                   .ok());
}

TEST(CatalogTest, TopLevelKeysSkipNestedValuesAndDecodeEscapes) {
  std::vector<std::pair<std::string, bool>> keys;
  auto collect = [&](std::string_view k, bool esc) { keys.emplace_back(std::string(k), esc); };
  EXPECT_TRUE(internal::ForEachTopLevelKey(
      R"( { "a" : {"x":{"y":"}"}}, "b\"q":[1,"]",[2]], "c":-1.5e3,"d":"\\","e":null } )", collect));
  ASSERT_EQ(keys.size(), 5u);
  EXPECT_EQ(keys[0], (std::pair<std::string, bool>{"a", false}));
  EXPECT_EQ(keys[1], (std::pair<std::string, bool>{R"(b\"q)", true}));
  EXPECT_EQ(keys[2].first, "c");
  EXPECT_EQ(keys[4].first, "e");
  EXPECT_EQ(internal::UnescapeJsonKey(R"(b\"q)"), "b\"q");
  EXPECT_EQ(internal::UnescapeJsonKey(R"(\u91d1)"), "金");
  keys.clear();
  EXPECT_TRUE(internal::ForEachTopLevelKey("{}", collect));
  EXPECT_TRUE(keys.empty());
  for (std::string bad :
       {"", "[1]", "{\"a\"}", "{\"a\":1", "{\"a\":}", "{\"a\":\"x", "{\"a\":1 \"b\":2}"}) {
    EXPECT_FALSE(internal::ForEachTopLevelKey(bad, collect)) << bad;
  }
}

TEST(CatalogTest, RowParserAgreesWithTheCodec) {
  Event e = Named("Order Completed", kT0, R"({"k":1})");
  e.identifiers = {{"wechat_openid", "wx1", "o1"}, {"phone", "", "+86138"}};
  e.campaign = {"a", "b", "c", "d", "e"};
  e.revenue = 1;
  e.quantity = 2;
  e.currency = "CNY";
  e.traits_json = R"({"t":1})";
  auto chunks = internal::EncodeRowChunks({e, Named("", kT0, "")});
  ASSERT_EQ(chunks.size(), 1u);
  std::string_view name, props;
  ASSERT_TRUE(internal::RowNameAndProperties(chunks[0]->Row(0), &name, &props));
  EXPECT_EQ(name, "Order Completed");
  EXPECT_EQ(props, R"({"k":1})");
  ASSERT_TRUE(internal::RowNameAndProperties(chunks[0]->Row(1), &name, &props));
  EXPECT_EQ(name, "");
  EXPECT_EQ(props, "");
  EXPECT_FALSE(internal::RowNameAndProperties(chunks[0]->Row(0).substr(0, 20), &name, &props));
}

TEST(CatalogTest, BoundsMarkTheCatalogIncomplete) {
  internal::CatalogBuilder b;
  for (size_t i = 0; i <= EventCatalog::kMaxEvents; ++i) b.AddRow("e" + std::to_string(i), 1, "");
  std::string many = "{";
  for (size_t i = 0; i <= EventCatalog::kMaxPropertiesPerEvent; ++i) {
    many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  }
  b.AddRow("e0", 2, many + "}");
  EventCatalog c = b.Build();
  EXPECT_EQ(c.events.size(), EventCatalog::kMaxEvents);
  EXPECT_FALSE(c.events_complete);
  EXPECT_TRUE(c.HasEvent("never seen")) << "an incomplete catalog refuses nothing";
  EXPECT_EQ(c.events.at("e0").properties.size(), EventCatalog::kMaxPropertiesPerEvent);
  EXPECT_FALSE(c.events.at("e0").properties_complete);
  EXPECT_TRUE(c.HasProperty("e0", "never seen"));
}

// Catalog() runs per query: with half a million rows buffered it must cost
// a merge, not a parse. Timed after the background Fold has caught up.
TEST(CatalogTest, CatalogOfALargeBufferIsCheap) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  for (int b = 0; b < 500; ++b) {
    std::vector<Event> batch;
    for (int k = 0; k < 1000; ++k) {
      batch.push_back(Named("e" + std::to_string(k % 30), kT0 + b * 1000 + k,
                            R"({"name":"x","price":1,"k)" + std::to_string(k % 10) + R"(":2})"));
    }
    std::string payload;
    EncodeEventBatch(batch, &payload);
    ASSERT_TRUE(store->AddEncodedBatch(std::move(payload), b + 1).ok());
  }
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(store->Catalog()->TotalCount(), 500'000u);  // the first call parses
  const double first_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  store->Add({Named("late", kT0, R"({"z":1})")}, 501);
  start = std::chrono::steady_clock::now();
  auto c = store->Catalog();
  const double next_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(c->TotalCount(), 500'001u);
  EXPECT_EQ(Keys(*c, "late"), (std::set<std::string>{"z"}));
  std::printf("Catalog() with 500k buffered rows: first %.1f ms, then %.3f ms\n", first_ms,
              next_ms);
  EXPECT_LT(next_ms, 20.0);  // typically well under 1 ms; generous for loaded CI machines
}

}  // namespace
}  // namespace quanyu::store
