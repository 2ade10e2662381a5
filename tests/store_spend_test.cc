// Tests of StateDb (the RocksDB adapter) and SpendStore on top of it.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <thread>

#include "store/spend_store.h"
#include "store/state_db.h"
#include "test_util.h"

namespace quanyu::store {
namespace {

namespace fs = std::filesystem;

using ::quanyu::testing::TempDir;

std::unique_ptr<StateDb> OpenDb(const std::string& path) {
  auto db = StateDb::Open(path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(*db) : nullptr;
}

std::vector<std::pair<std::string, std::string>> Collect(const StateDb& db,
                                                         std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  Status s = db.ScanPrefix(prefix, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(StateDbTest, PutGetDeleteAndPersist) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  {
    auto db = OpenDb(path);
    ASSERT_TRUE(db->Put("source/web", "{\"write_key\":\"k1\"}").ok());
    ASSERT_TRUE(db->Put(std::string("bin\0key", 7), std::string("v\0v", 3)).ok());
    EXPECT_EQ(*db->Get("source/web"), "{\"write_key\":\"k1\"}");
    EXPECT_EQ(*db->Get(std::string("bin\0key", 7)), std::string("v\0v", 3));
    EXPECT_EQ(db->Get("source/app").status().code(), StatusCode::kNotFound);
    ASSERT_TRUE(db->Put("source/app", "x").ok());
    ASSERT_TRUE(db->Delete("source/app").ok());
    ASSERT_TRUE(db->Delete("never-there").ok());
    EXPECT_EQ(db->Get("source/app").status().code(), StatusCode::kNotFound);
  }
  auto db = OpenDb(path);
  EXPECT_EQ(*db->Get("source/web"), "{\"write_key\":\"k1\"}");
}

TEST(StateDbTest, SecondOpenOfSamePathFails) {
  TempDir dir;
  auto db = OpenDb(dir.path() + "/state");
  auto again = StateDb::Open(dir.path() + "/state");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("lock"), std::string::npos) << again.status().ToString();
  StateDbOptions no_create;
  no_create.create_if_missing = false;
  EXPECT_FALSE(StateDb::Open(dir.path() + "/absent", no_create).ok());
  EXPECT_EQ(StateDb::Open("").status().code(), StatusCode::kInvalidArgument);
}

TEST(StateDbTest, ScanPrefixIsOrderedAndBounded) {
  TempDir dir;
  auto db = OpenDb(dir.path() + "/state");
  ASSERT_TRUE(db->PutMany({{"source/b", "2"},
                           {"source/a", "1"},
                           {"source0", "x"},
                           {"sourc", "y"},
                           {"spend/x", "z"},
                           {"source/\xff", "3"}})
                  .ok());
  auto got = Collect(*db, "source/");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].first, "source/a");
  EXPECT_EQ(got[1].first, "source/b");
  EXPECT_EQ(got[2].first, "source/\xff");
  EXPECT_EQ(Collect(*db, "").size(), 6u);
  EXPECT_EQ(Collect(*db, "nothing").size(), 0u);

  int seen = 0;
  Status s = db->ScanPrefix("source/", [&](std::string_view, std::string_view) {
    return ++seen == 2 ? Status::Internal("enough") : Status::OK();
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(seen, 2);
}

TEST(StateDbTest, LastKeyWithPrefixIsTheLargestOfThatPrefixOnly) {
  TempDir dir;
  auto db = OpenDb(dir.path() + "/state");
  ASSERT_TRUE(db->PutMany({{"au/c/\x01", "1"},
                           {"au/c/\x02", "2"},
                           {"au/c0", "the prefix's end itself"},
                           {"au/d/x", "after"},
                           {"b/\xff\xff", "all ones"}})
                  .ok());
  auto last = db->LastKeyWithPrefix("au/c/");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, "au/c/\x02");
  EXPECT_EQ(*db->LastKeyWithPrefix("au/"), "au/d/x");
  EXPECT_EQ(*db->LastKeyWithPrefix("au/e/"), "");
  EXPECT_EQ(*db->LastKeyWithPrefix("a"), "au/d/x");
  EXPECT_EQ(*db->LastKeyWithPrefix("b/\xff"), "b/\xff\xff");
  EXPECT_EQ(*db->LastKeyWithPrefix(""), "b/\xff\xff");
}

TEST(StateDbTest, WriteBatchIsAtomicAndOrdered) {
  TempDir dir;
  auto db = OpenDb(dir.path() + "/state");
  ASSERT_TRUE(db->Put("k1", "old").ok());
  StateWriteBatch batch;
  batch.Put("k2", "a");
  batch.Delete("k1");
  batch.Put("k2", "b");  // later op wins
  ASSERT_TRUE(db->Write(batch).ok());
  EXPECT_EQ(db->Get("k1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*db->Get("k2"), "b");
  EXPECT_TRUE(db->Write(StateWriteBatch()).ok());
}

TEST(StateDbTest, ConcurrentWriters) {
  TempDir dir;
  auto db = OpenDb(dir.path() + "/state");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(db->Put("t" + std::to_string(t) + "/" + std::to_string(i), "v").ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Collect(*db, "t").size(), 200u);
}

std::vector<SpendRow> Report() {
  return {
      {"2026-11-01", "douyin", "双十一预热", 1200.5, 100000, 2300},
      {"2026-11-01", "baidu", "brand", 300, 5000, 120},
      {"2026-11-02", "douyin", "双十一预热", 1500.25, 120000, 2600},
      {"2026-11-03", "douyin", "", 80, 0, 0},
  };
}

TEST(SpendStoreTest, UpsertIsIdempotent) {
  TempDir dir;
  auto db = OpenDb(dir.path() + "/state");
  SpendStore spend(db.get());
  ASSERT_TRUE(spend.Upsert(Report()).ok());
  ASSERT_TRUE(spend.Upsert(Report()).ok());  // the same file imported again
  auto rows = spend.List("2026-11-01", "2026-11-30");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 4u);
  // Ordered by (date, channel, campaign).
  EXPECT_EQ((*rows)[0], Report()[1]);
  EXPECT_EQ((*rows)[1], Report()[0]);
  EXPECT_EQ((*rows)[2], Report()[2]);
  EXPECT_EQ((*rows)[3], Report()[3]);

  // A corrected report replaces the figures for the same key.
  SpendRow fixed = Report()[0];
  fixed.spend = 1100;
  fixed.clicks = 2200;
  ASSERT_TRUE(spend.Upsert({fixed}).ok());
  rows = spend.List("2026-11-01", "2026-11-01");
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1], fixed);
}

TEST(SpendStoreTest, ListBoundsAreInclusiveDays) {
  TempDir dir;
  auto db = OpenDb(dir.path() + "/state");
  SpendStore spend(db.get());
  ASSERT_TRUE(spend.Upsert(Report()).ok());
  ASSERT_TRUE(db->Put("spend0", "not a spend row").ok());  // neighbours are not read
  ASSERT_TRUE(db->Put("source/web", "x").ok());
  EXPECT_EQ(spend.List("2026-11-02", "2026-11-02")->size(), 1u);
  EXPECT_EQ(spend.List("2026-11-02", "2026-11-03")->size(), 2u);
  EXPECT_EQ(spend.List("2026-10-01", "2026-10-31")->size(), 0u);
  EXPECT_EQ(spend.List("2026-11-03", "2026-11-01")->size(), 0u);
  EXPECT_EQ(spend.List("2026-11", "2026-11-30").status().code(), StatusCode::kInvalidArgument);
}

TEST(SpendStoreTest, BadRowsRejectWholeUpsert) {
  TempDir dir;
  auto db = OpenDb(dir.path() + "/state");
  SpendStore spend(db.get());
  auto with = [](auto change) {
    std::vector<SpendRow> rows = Report();
    change(rows.back());
    return rows;
  };
  const std::vector<std::vector<SpendRow>> bad = {
      with([](SpendRow& r) { r.date = "2026-13-01"; }),
      with([](SpendRow& r) { r.date = "2026-02-30"; }),
      with([](SpendRow& r) { r.date = "2026-11-01T00:00:00Z"; }),
      with([](SpendRow& r) { r.channel = ""; }),
      with([](SpendRow& r) { r.campaign = std::string("a\0b", 3); }),
      with([](SpendRow& r) { r.spend = std::nan(""); }),
      with([](SpendRow& r) { r.clicks = -1; }),
  };
  for (const auto& rows : bad) {
    EXPECT_EQ(spend.Upsert(rows).code(), StatusCode::kInvalidArgument) << rows.back().date;
  }
  EXPECT_TRUE(spend.List("2000-01-01", "2100-01-01")->empty()) << "nothing partially written";
}

}  // namespace
}  // namespace quanyu::store
