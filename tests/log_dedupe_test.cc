#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "log/dedupe.h"
#include "test_util.h"

namespace quanyu::log {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kHour = 3600LL * 1000 * 1000;
constexpr int64_t kWindow = 24 * kHour;

using ::quanyu::testing::TempDir;

TEST(MessageDedupeTest, InsertThenDuplicate) {
  FakeClock clock(1'700'000'000LL * 1'000'000);
  MessageDedupe dedupe(kWindow);
  EXPECT_TRUE(dedupe.Insert("web", "m1", clock.NowMicros()));
  EXPECT_FALSE(dedupe.Insert("web", "m1", clock.NowMicros()));
  clock.Advance(kWindow - 1);
  EXPECT_FALSE(dedupe.Insert("web", "m1", clock.NowMicros())) << "still inside the window";
  EXPECT_EQ(dedupe.size(), 1u);
}

TEST(MessageDedupeTest, SourceAndIdAreOneKey) {
  MessageDedupe dedupe(kWindow);
  EXPECT_TRUE(dedupe.Insert("web", "m1", 0));
  EXPECT_TRUE(dedupe.Insert("app", "m1", 0)) << "same id from another source";
  EXPECT_TRUE(dedupe.Insert("web", "m2", 0));
  // The separator keeps ("ab", "c") and ("a", "bc") apart.
  EXPECT_TRUE(dedupe.Insert("ab", "c", 0));
  EXPECT_TRUE(dedupe.Insert("a", "bc", 0));
  EXPECT_TRUE(dedupe.Contains("app", "m1"));
  EXPECT_FALSE(dedupe.Contains("app", "m2"));
  EXPECT_EQ(dedupe.size(), 5u);
}

TEST(MessageDedupeTest, EraseForgetsAFailedAppend) {
  MessageDedupe dedupe(kWindow);
  ASSERT_TRUE(dedupe.Insert("web", "m1", 0));
  dedupe.Erase("web", "m1");
  EXPECT_FALSE(dedupe.Contains("web", "m1"));
  EXPECT_TRUE(dedupe.Insert("web", "m1", 0)) << "the client's retry is accepted";
  dedupe.Erase("web", "never-seen");  // harmless
}

TEST(MessageDedupeTest, WindowIsMeasuredFromFirstSighting) {
  FakeClock clock(10 * kWindow);
  MessageDedupe dedupe(kWindow);
  ASSERT_TRUE(dedupe.Insert("web", "m1", clock.NowMicros()));
  clock.Advance(kWindow / 2);
  ASSERT_FALSE(dedupe.Insert("web", "m1", clock.NowMicros()));  // does not extend the window
  clock.Advance(kWindow / 2 + 1);
  EXPECT_TRUE(dedupe.Insert("web", "m1", clock.NowMicros())) << "older than the window";
  clock.Advance(1);
  EXPECT_FALSE(dedupe.Insert("web", "m1", clock.NowMicros())) << "and the window restarted";
}

TEST(MessageDedupeTest, ExpireDropsOnlyOldIds) {
  FakeClock clock(10 * kWindow);
  MessageDedupe dedupe(kWindow);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(dedupe.Insert("web", "old-" + std::to_string(i), clock.NowMicros()));
  }
  clock.Advance(kWindow / 2);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(dedupe.Insert("web", "new-" + std::to_string(i), clock.NowMicros()));
  }
  clock.Advance(kWindow / 2);
  dedupe.Expire(clock.NowMicros());
  EXPECT_EQ(dedupe.size(), 150u) << "exactly one window old: kept";
  clock.Advance(1);
  dedupe.Expire(clock.NowMicros());
  EXPECT_EQ(dedupe.size(), 50u);
  EXPECT_FALSE(dedupe.Contains("web", "old-7"));
  EXPECT_TRUE(dedupe.Contains("web", "new-7"));
}

TEST(MessageDedupeTest, ConcurrentInsertsAdmitEachIdOnce) {
  MessageDedupe dedupe(kWindow);
  constexpr int kThreads = 8;
  constexpr int kIds = 5000;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIds; ++i) admitted += dedupe.Insert("web", std::to_string(i), 0);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted, kIds);
  EXPECT_EQ(dedupe.size(), static_cast<size_t>(kIds));
}

TEST(MessageDedupeTest, SnapshotRoundTrip) {
  TempDir dir;
  const std::string path = dir.path() + "/dedupe.snap";
  MessageDedupe a(kWindow);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(a.Insert("web", "m" + std::to_string(i), i));
  ASSERT_TRUE(a.SaveSnapshot(path).ok());
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(fs::file_size(path), 32u + 1000 * 32 + 4);

  MessageDedupe b(kWindow);
  ASSERT_TRUE(b.Insert("web", "not-in-snapshot", 0));
  ASSERT_TRUE(b.LoadSnapshot(path).ok());
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_FALSE(b.Contains("web", "not-in-snapshot")) << "Load replaces";
  EXPECT_FALSE(b.Insert("web", "m999", kWindow)) << "first-seen times survive";
  EXPECT_TRUE(b.Insert("web", "m0", kWindow + 1)) << "m0 was first seen at 0";

  // Overwriting an existing snapshot.
  ASSERT_TRUE(b.SaveSnapshot(path).ok());
  MessageDedupe c(kWindow);
  ASSERT_TRUE(c.LoadSnapshot(path).ok());
  EXPECT_EQ(c.size(), 1000u);
}

TEST(MessageDedupeTest, EmptySnapshotAndMissingFile) {
  TempDir dir;
  MessageDedupe a(kWindow);
  ASSERT_TRUE(a.SaveSnapshot(dir.path() + "/empty").ok());
  ASSERT_TRUE(a.Insert("web", "x", 0));
  ASSERT_TRUE(a.LoadSnapshot(dir.path() + "/empty").ok());
  EXPECT_EQ(a.size(), 0u);
  ASSERT_TRUE(a.Insert("web", "x", 0));
  EXPECT_TRUE(a.LoadSnapshot(dir.path() + "/missing").ok());
  EXPECT_EQ(a.size(), 0u);
}

TEST(MessageDedupeTest, CorruptSnapshotIsCorruptionAndChangesNothing) {
  TempDir dir;
  const std::string path = dir.path() + "/dedupe.snap";
  MessageDedupe a(kWindow);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a.Insert("web", std::to_string(i), 0));
  ASSERT_TRUE(a.SaveSnapshot(path).ok());
  const std::string good = ::quanyu::testing::ReadFileOrEmpty(path);

  std::vector<std::string> bad;
  for (size_t i = 0; i < good.size(); i += 7) {
    std::string flipped = good;
    flipped[i] ^= 0x01;
    bad.push_back(flipped);
  }
  bad.push_back(good.substr(0, good.size() - 1));
  bad.push_back(good.substr(0, 10));
  bad.push_back("");
  bad.push_back(good + "x");

  MessageDedupe b(kWindow);
  ASSERT_TRUE(b.Insert("web", "keep", 0));
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE("variant " + std::to_string(i));
    ::quanyu::testing::WriteFile(path, bad[i]);
    Status s = b.LoadSnapshot(path);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_EQ(b.size(), 1u);
    EXPECT_TRUE(b.Contains("web", "keep"));
  }
}

TEST(MessageDedupeTest, SaveToUnwritablePathIsIOError) {
  MessageDedupe a(kWindow);
  Status s = a.SaveSnapshot("/nonexistent-dir/quanyu/dedupe.snap");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace quanyu::log

namespace quanyu::log {
namespace {

// Regression: a snapshot saved while an append was still in flight must not
// hold that id, or a client re-sending it after a crash would see its event
// dropped as a duplicate even though it was never stored.
TEST(MessageDedupeCommitTest, SnapshotHoldsOnlyIdsCommittedUpToItsLsn) {
  char tmpl[] = "/tmp/quanyu-dedupe.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/dedupe.snap";
  MessageDedupe d(1'000'000'000);
  ASSERT_TRUE(d.Insert("s", "durable", 100));
  ASSERT_TRUE(d.Insert("s", "later", 100));
  ASSERT_TRUE(d.Insert("s", "in-flight", 100));
  d.Commit("s", "durable", 5);
  d.Commit("s", "later", 9);
  ASSERT_TRUE(d.SaveSnapshot(path, 5).ok());

  MessageDedupe loaded(1'000'000'000);
  uint64_t covered = 0;
  ASSERT_TRUE(loaded.LoadSnapshot(path, &covered).ok());
  EXPECT_EQ(covered, 5u);
  EXPECT_TRUE(loaded.Contains("s", "durable"));
  EXPECT_FALSE(loaded.Contains("s", "later"));      // comes back from the log replay
  EXPECT_FALSE(loaded.Contains("s", "in-flight"));  // never durable: a re-send is new
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace quanyu::log
