#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "log/event_log.h"
#include "log/internal/log_file.h"
#include "log/internal/log_record.h"
#include "test_util.h"

namespace quanyu::log {
namespace {

namespace fs = std::filesystem;

using ::quanyu::testing::TempDir;

std::vector<std::string> LogFiles(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (ParseLogFileName(e.path().filename().string())) names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Faults shared by every file a FaultFs opens.
struct Faults {
  std::atomic<bool> fail_append{false};  // write half the bytes, then ENOSPC
  std::atomic<bool> fail_sync{false};
  std::atomic<bool> fail_truncate{false};
  std::atomic<int> appends{0};
  std::atomic<int> syncs{0};

  // While held, Sync blocks (a stalled disk).
  void HoldSyncs() {
    std::lock_guard<std::mutex> l(mu);
    held = true;
  }
  void ReleaseSyncs() {
    {
      std::lock_guard<std::mutex> l(mu);
      held = false;
    }
    cv.notify_all();
  }
  void WaitUntilSyncBlocked() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return blocked > 0; });
  }
  void BlockIfHeld() {
    std::unique_lock<std::mutex> l(mu);
    ++blocked;
    cv.notify_all();
    cv.wait(l, [&] { return !held; });
    --blocked;
  }

  std::mutex mu;
  std::condition_variable cv;
  bool held = false;
  int blocked = 0;
};

class FaultAppendFile final : public AppendFile {
 public:
  FaultAppendFile(std::unique_ptr<AppendFile> base, Faults* faults)
      : base_(std::move(base)), faults_(faults) {}
  Status Append(std::span<const std::string_view> pieces) override {
    ++faults_->appends;
    if (faults_->fail_append) {
      std::string_view half = pieces[0].substr(0, pieces[0].size() / 2);
      (void)base_->Append(std::span<const std::string_view>(&half, 1));
      return Status::IOError("writev: No space left on device");
    }
    return base_->Append(pieces);
  }
  Status Sync() override {
    ++faults_->syncs;
    faults_->BlockIfHeld();
    if (faults_->fail_sync) return Status::IOError("fdatasync: Input/output error");
    return base_->Sync();
  }
  Status Truncate(uint64_t size) override {
    if (faults_->fail_truncate) return Status::IOError("ftruncate: Input/output error");
    return base_->Truncate(size);
  }
  uint64_t Size() const override { return base_->Size(); }
  Status Close() override { return base_->Close(); }

 private:
  std::unique_ptr<AppendFile> base_;
  Faults* faults_;
};

class FaultFs final : public LogFs {
 public:
  explicit FaultFs(Faults* faults) : base_(PosixLogFs()), faults_(faults) {}
  Status CreateDir(const std::string& dir) override { return base_->CreateDir(dir); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  Result<std::unique_ptr<AppendFile>> OpenAppend(const std::string& path) override {
    ASSIGN_OR_RETURN(std::unique_ptr<AppendFile> f, base_->OpenAppend(path));
    return std::unique_ptr<AppendFile>(new FaultAppendFile(std::move(f), faults_));
  }
  Result<std::unique_ptr<ReadFile>> OpenRead(const std::string& path) override {
    return base_->OpenRead(path);
  }
  Status Remove(const std::string& path) override { return base_->Remove(path); }
  Status Rename(const std::string& a, const std::string& b) override { return base_->Rename(a, b); }
  Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }

 private:
  std::shared_ptr<LogFs> base_;
  Faults* faults_;
};

class EventLogTest : public ::testing::Test {
 protected:
  LogOptions Options() const {
    LogOptions o;
    o.dir = dir_.path() + "/log";
    o.max_delay_us = 0;
    return o;
  }

  std::unique_ptr<EventLog> Open(const LogOptions& o, ReplayStats* stats = nullptr) {
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(o, stats);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  // Every durable record, by LSN.
  static std::map<Lsn, std::string> ReplayAll(EventLog* log, Lsn after = 0,
                                              ReplayStats* stats = nullptr) {
    std::map<Lsn, std::string> out;
    Status s = log->Replay(
        after,
        [&](Lsn lsn, std::string_view payload) {
          EXPECT_TRUE(out.emplace(lsn, std::string(payload)).second) << "LSN twice: " << lsn;
          return Status::OK();
        },
        stats);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  std::string FirstFile() const { return Options().dir + "/" + LogFileName(1); }

  TempDir dir_;
};

std::string Payload(int i) { return "payload-" + std::to_string(i) + std::string(30, 'x'); }

TEST_F(EventLogTest, AppendReplayRoundTripAcrossRestart) {
  {
    auto log = Open(Options());
    for (int i = 1; i <= 10; ++i) {
      Result<Lsn> lsn = log->AppendSync(Payload(i));
      ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
      EXPECT_EQ(*lsn, static_cast<Lsn>(i));
    }
    EXPECT_EQ(log->LastDurableLsn(), 10u);
  }
  ReplayStats stats;
  auto log = Open(Options(), &stats);
  EXPECT_EQ(stats.records, 10u);
  EXPECT_EQ(stats.corrupt_records_skipped, 0u);
  EXPECT_EQ(stats.torn_bytes_truncated, 0u);
  EXPECT_EQ(log->LastDurableLsn(), 10u);

  std::map<Lsn, std::string> all = ReplayAll(log.get());
  ASSERT_EQ(all.size(), 10u);
  for (int i = 1; i <= 10; ++i) EXPECT_EQ(all[i], Payload(i));

  ReplayStats replay_stats;
  std::map<Lsn, std::string> tail = ReplayAll(log.get(), 7, &replay_stats);
  EXPECT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail.begin()->first, 8u);
  EXPECT_EQ(replay_stats.records, 3u);
}

TEST_F(EventLogTest, LsnContinuesAfterRestart) {
  {
    auto log = Open(Options());
    ASSERT_EQ(*log->AppendSync("a"), 1u);
    ASSERT_EQ(*log->AppendSync("b"), 2u);
  }
  {
    auto log = Open(Options());
    EXPECT_EQ(*log->AppendSync("c"), 3u);
  }
  auto log = Open(Options());
  std::map<Lsn, std::string> all = ReplayAll(log.get());
  EXPECT_EQ(all, (std::map<Lsn, std::string>{{1, "a"}, {2, "b"}, {3, "c"}}));
}

// Regression guard: with every older file deleted and the current one empty,
// the next LSN must still come from the current file's name.
TEST_F(EventLogTest, LsnSurvivesTruncationOfEveryRecord) {
  LogOptions o = Options();
  o.file_bytes = 1;  // a new file after every group
  {
    auto log = Open(o);
    for (int i = 1; i <= 5; ++i) ASSERT_EQ(*log->AppendSync(Payload(i)), static_cast<Lsn>(i));
    ASSERT_TRUE(log->TruncateUpTo(5).ok());
    EXPECT_EQ(LogFiles(o.dir), std::vector<std::string>{LogFileName(6)});
  }
  auto log = Open(o);
  EXPECT_EQ(log->LastDurableLsn(), 5u);
  EXPECT_EQ(*log->AppendSync("next"), 6u);
}

// A deletion rolls the log so that every record up to now can be truncated,
// even those in the file being written.
TEST_F(EventLogTest, RollClosesTheCurrentFileSoTruncationTakesEveryRecordBeforeIt) {
  LogOptions o = Options();
  auto log = Open(o);
  for (int i = 1; i <= 3; ++i) ASSERT_EQ(*log->AppendSync(Payload(i)), static_cast<Lsn>(i));
  ASSERT_TRUE(log->TruncateUpTo(3).ok());
  EXPECT_EQ(LogFiles(o.dir), std::vector<std::string>{LogFileName(1)}) << "current file kept";
  auto rolled = log->RollSync();
  ASSERT_TRUE(rolled.ok()) << rolled.status().ToString();
  EXPECT_EQ(*rolled, 3u);
  ASSERT_TRUE(log->TruncateUpTo(3).ok());
  EXPECT_EQ(LogFiles(o.dir), std::vector<std::string>{LogFileName(4)});
  // Rolling an empty file is a no-op; appends and replay go on.
  ASSERT_TRUE(log->RollSync().ok());
  EXPECT_EQ(*log->AppendSync("after"), 4u);
  EXPECT_EQ(ReplayAll(log.get()), (std::map<Lsn, std::string>{{4, "after"}}));
  log->Close();
  EXPECT_EQ(log->Roll(nullptr).code(), StatusCode::kUnavailable);
}

TEST_F(EventLogTest, CallbacksRunInLsnOrderOnWriterThread) {
  LogOptions o = Options();
  o.max_delay_us = 500;
  auto log = Open(o);
  std::mutex mu;
  std::vector<Lsn> order;
  std::vector<std::thread::id> threads;
  constexpr int kAppends = 500;
  for (int i = 0; i < kAppends; ++i) {
    ASSERT_TRUE(log->Append(Payload(i),
                            [&](const Status& s, Lsn lsn) {
                              EXPECT_TRUE(s.ok());
                              std::lock_guard<std::mutex> l(mu);
                              order.push_back(lsn);
                              threads.push_back(std::this_thread::get_id());
                            })
                    .ok());
  }
  log->Close();
  ASSERT_EQ(order.size(), static_cast<size_t>(kAppends));
  for (int i = 0; i < kAppends; ++i) EXPECT_EQ(order[i], static_cast<Lsn>(i + 1));
  for (const auto& t : threads) {
    EXPECT_EQ(t, threads[0]);
    EXPECT_NE(t, std::this_thread::get_id());
  }
}

TEST_F(EventLogTest, ConcurrentAppendsAllDurableAndReplayedExactlyOnce) {
  LogOptions o = Options();
  o.max_delay_us = 1000;
  o.file_bytes = 4096;  // several files
  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  std::mutex mu;
  std::map<Lsn, std::string> acked;
  {
    auto log = Open(o);
    std::vector<std::thread> producers;
    for (int t = 0; t < kThreads; ++t) {
      producers.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string p = "t" + std::to_string(t) + "-" + std::to_string(i);
          if (i % 2 == 0) {
            Result<Lsn> lsn = log->AppendSync(p);
            ASSERT_TRUE(lsn.ok());
            std::lock_guard<std::mutex> l(mu);
            acked.emplace(*lsn, p);
          } else {
            ASSERT_TRUE(log->Append(p,
                                    [&, p](const Status& s, Lsn lsn) {
                                      ASSERT_TRUE(s.ok());
                                      std::lock_guard<std::mutex> l(mu);
                                      acked.emplace(lsn, p);
                                    })
                            .ok());
          }
        }
      });
    }
    for (auto& th : producers) th.join();
  }  // the destructor flushes the async appends
  ASSERT_EQ(acked.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(acked.begin()->first, 1u);
  EXPECT_EQ(acked.rbegin()->first, static_cast<Lsn>(kThreads * kPerThread));
  EXPECT_GT(LogFiles(o.dir).size(), 1u);

  ReplayStats stats;
  auto log = Open(o, &stats);
  EXPECT_EQ(stats.records, acked.size());
  EXPECT_EQ(ReplayAll(log.get()), acked);
}

TEST_F(EventLogTest, GroupCommitWritesAndSyncsOncePerGroup) {
  Faults faults;
  LogOptions o = Options();
  o.fs = std::make_shared<FaultFs>(&faults);
  auto log = Open(o);
  faults.HoldSyncs();
  std::atomic<int> done{0};
  auto count = [&](const Status& s, Lsn) { done += s.ok(); };
  ASSERT_TRUE(log->Append("first", count).ok());
  faults.WaitUntilSyncBlocked();  // "first" is in flight; the rest queue up
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(log->Append(Payload(i), count).ok());
  faults.ReleaseSyncs();
  log->Close();
  EXPECT_EQ(done, 21);
  EXPECT_EQ(faults.appends, 2);
  EXPECT_EQ(faults.syncs, 3);  // two groups and Close
}

TEST_F(EventLogTest, GroupWaitsForAsMuchCompanyAsLastTimeOnly) {
  Faults faults;
  LogOptions o = Options();
  o.fs = std::make_shared<FaultFs>(&faults);
  o.max_delay_us = 10'000'000;  // long enough that any wait would show
  auto log = Open(o);

  // A lone producer never waits for company (this would take 30 s if it did).
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->AppendSync(Payload(i)).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));

  // Make a group of two: the writer now expects two appends per group...
  faults.HoldSyncs();
  std::atomic<int> done{0};
  auto count = [&](const Status& s, Lsn) { done += s.ok(); };
  ASSERT_TRUE(log->Append("a", count).ok());
  faults.WaitUntilSyncBlocked();
  ASSERT_TRUE(log->Append("b", count).ok());
  ASSERT_TRUE(log->Append("c", count).ok());
  faults.ReleaseSyncs();
  while (done < 3) std::this_thread::yield();

  // ...so a single append waits for a second one, and both share one write.
  const int appends_before = faults.appends;
  ASSERT_TRUE(log->Append("d", count).ok());
  ASSERT_TRUE(log->Append("e", count).ok());
  while (done < 5) std::this_thread::yield();
  EXPECT_EQ(faults.appends - appends_before, 1);
}

TEST_F(EventLogTest, BarrierWaitsForEarlierRecordsAndWritesNothing) {
  Faults faults;
  LogOptions o = Options();
  o.fs = std::make_shared<FaultFs>(&faults);
  auto log = Open(o);

  // On an empty log a barrier reports LSN 0.
  Result<Lsn> empty = log->AppendSync("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, 0u);

  faults.HoldSyncs();
  std::mutex mu;
  std::vector<std::pair<std::string, Lsn>> events;
  auto record = [&](std::string name) {
    return [&, name](const Status& s, Lsn lsn) {
      EXPECT_TRUE(s.ok());
      std::lock_guard<std::mutex> l(mu);
      events.emplace_back(name, lsn);
    };
  };
  ASSERT_TRUE(log->Append("a", record("a")).ok());
  faults.WaitUntilSyncBlocked();
  ASSERT_TRUE(log->Append("b", record("b")).ok());
  ASSERT_TRUE(log->Append("", record("barrier")).ok());
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_TRUE(events.empty()) << "nothing is durable yet";
  }
  faults.ReleaseSyncs();
  Result<Lsn> after = log->AppendSync("");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, 2u);
  using Ev = std::vector<std::pair<std::string, Lsn>>;
  EXPECT_EQ(events, (Ev{{"a", 1}, {"b", 2}, {"barrier", 2}}));
  log->Close();

  // Barriers took no LSN and no bytes.
  auto reopened = Open(Options());
  EXPECT_EQ(ReplayAll(reopened.get()), (std::map<Lsn, std::string>{{1, "a"}, {2, "b"}}));
}

TEST_F(EventLogTest, ResourceExhaustedWhenQueueOverLimit) {
  Faults faults;
  LogOptions o = Options();
  o.fs = std::make_shared<FaultFs>(&faults);
  o.max_queue_bytes = 1000;
  auto log = Open(o);
  faults.HoldSyncs();
  const std::string p(300, 'p');
  std::atomic<int> ok{0};
  auto count = [&](const Status& s, Lsn) { ok += s.ok(); };
  ASSERT_TRUE(log->Append(p, count).ok());
  faults.WaitUntilSyncBlocked();
  ASSERT_TRUE(log->Append(p, count).ok());
  ASSERT_TRUE(log->Append(p, count).ok());
  EXPECT_EQ(log->QueuedBytes(), 900u);
  bool called = false;
  Status refused = log->Append(p, [&](const Status&, Lsn) { called = true; });
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_EQ(log->Append("", count).code(), StatusCode::kOk) << "a barrier adds no bytes";

  faults.ReleaseSyncs();
  ASSERT_TRUE(log->AppendSync("").ok());  // drained
  ASSERT_TRUE(log->AppendSync(p).ok()) << "accepted again once drained";
  EXPECT_EQ(ok, 4);
  EXPECT_FALSE(called);
  EXPECT_EQ(log->QueuedBytes(), 0u);
}

TEST_F(EventLogTest, OversizedAppendAcceptedOnlyWhenQueueEmpty) {
  LogOptions o = Options();
  o.max_queue_bytes = 10;
  auto log = Open(o);
  EXPECT_TRUE(log->AppendSync(std::string(100, 'x')).ok());
}

TEST_F(EventLogTest, AppendAfterCloseIsUnavailable) {
  auto log = Open(Options());
  log->Close();
  log->Close();
  EXPECT_EQ(log->Append("x", nullptr).code(), StatusCode::kUnavailable);
  EXPECT_EQ(log->AppendSync("x").status().code(), StatusCode::kUnavailable);
}

TEST_F(EventLogTest, FailedWriteReportsIOErrorAndLsnIsReused) {
  Faults faults;
  LogOptions o = Options();
  o.fs = std::make_shared<FaultFs>(&faults);
  auto log = Open(o);
  ASSERT_EQ(*log->AppendSync("ok-1"), 1u);

  faults.fail_append = true;
  Status cb_status;
  Lsn cb_lsn = 99;
  std::promise<void> fired;
  ASSERT_TRUE(log->Append("doomed",
                          [&](const Status& s, Lsn lsn) {
                            cb_status = s;
                            cb_lsn = lsn;
                            fired.set_value();
                          })
                  .ok());
  fired.get_future().wait();
  EXPECT_EQ(cb_status.code(), StatusCode::kIOError) << cb_status.ToString();
  EXPECT_EQ(cb_lsn, 0u);
  EXPECT_EQ(log->LastDurableLsn(), 1u);

  faults.fail_append = false;
  faults.fail_sync = true;
  EXPECT_EQ(log->AppendSync("doomed-too").status().code(), StatusCode::kIOError);

  faults.fail_sync = false;
  EXPECT_EQ(*log->AppendSync("ok-2"), 2u) << "the partial writes were undone";
  log->Close();

  ReplayStats stats;
  auto reopened = Open(Options(), &stats);
  EXPECT_EQ(stats.corrupt_records_skipped, 0u);
  EXPECT_EQ(stats.torn_bytes_truncated, 0u);
  EXPECT_EQ(ReplayAll(reopened.get()), (std::map<Lsn, std::string>{{1, "ok-1"}, {2, "ok-2"}}));
}

TEST_F(EventLogTest, FailedWriteThatCannotBeUndoneMovesToNewFile) {
  Faults faults;
  LogOptions o = Options();
  o.fs = std::make_shared<FaultFs>(&faults);
  auto log = Open(o);
  ASSERT_EQ(*log->AppendSync("ok-1"), 1u);

  faults.fail_append = true;
  faults.fail_truncate = true;
  EXPECT_EQ(log->AppendSync("torn").status().code(), StatusCode::kIOError);
  faults.fail_append = false;
  faults.fail_truncate = false;
  EXPECT_EQ(*log->AppendSync("ok-3"), 3u) << "LSN 2 is burned";
  EXPECT_EQ(LogFiles(o.dir), (std::vector<std::string>{LogFileName(1), LogFileName(3)}));
  log->Close();

  ReplayStats stats;
  auto reopened = Open(Options(), &stats);
  EXPECT_EQ(stats.corrupt_records_skipped, 1u) << "the half-written record in 1.log";
  EXPECT_EQ(ReplayAll(reopened.get()), (std::map<Lsn, std::string>{{1, "ok-1"}, {3, "ok-3"}}));
  EXPECT_EQ(*reopened->AppendSync("ok-4"), 4u);
}

TEST_F(EventLogTest, CloseWritesEverythingQueued) {
  auto log = Open(Options());
  std::atomic<int> ok{0};
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(log->Append(Payload(i), [&](const Status& s, Lsn) { ok += s.ok(); }).ok());
  }
  log->Close();
  EXPECT_EQ(ok, 100);
  EXPECT_EQ(log->LastDurableLsn(), 100u);
}

// Writes three records and returns the size of the last one on disk.
size_t WriteThree(EventLog* log) {
  EXPECT_EQ(*log->AppendSync(Payload(1)), 1u);
  EXPECT_EQ(*log->AppendSync(Payload(2)), 2u);
  EXPECT_EQ(*log->AppendSync(Payload(3)), 3u);
  return kRecordHeaderBytes + Payload(3).size();
}

TEST_F(EventLogTest, TornTailTruncatedAtEveryCutOfLastRecord) {
  size_t last_len;
  {
    auto log = Open(Options());
    last_len = WriteThree(log.get());
  }
  const std::string full = ::quanyu::testing::ReadFileOrEmpty(FirstFile());
  const size_t good = full.size() - last_len;
  for (size_t cut = 0; cut < last_len; ++cut) {
    SCOPED_TRACE("bytes of the last record kept: " + std::to_string(cut));
    ::quanyu::testing::WriteFile(FirstFile(), full.substr(0, good + cut));
    ReplayStats stats;
    auto log = Open(Options(), &stats);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(stats.records, 2u);
    EXPECT_EQ(stats.torn_bytes_truncated, cut);
    EXPECT_EQ(stats.corrupt_records_skipped, 0u);
    EXPECT_EQ(fs::file_size(FirstFile()), good);
    EXPECT_EQ(ReplayAll(log.get()).size(), 2u);
    EXPECT_EQ(*log->AppendSync("again"), 3u);
  }
}

TEST_F(EventLogTest, GarbageTailTruncated) {
  {
    auto log = Open(Options());
    WriteThree(log.get());
  }
  const std::string full = ::quanyu::testing::ReadFileOrEmpty(FirstFile());
  // Zeros (a preallocated block), noise, and a header claiming a huge record.
  std::string fake_header(kRecordHeaderBytes, '\x7f');
  std::memcpy(fake_header.data(), &kRecordMagic, 4);
  for (const std::string& garbage :
       {std::string(4096, '\0'), std::string("\x13\x37garbage-bytes\xff\xfe"), fake_header}) {
    ::quanyu::testing::WriteFile(FirstFile(), full + garbage);
    ReplayStats stats;
    auto log = Open(Options(), &stats);
    EXPECT_EQ(stats.records, 3u);
    EXPECT_EQ(stats.torn_bytes_truncated, garbage.size());
    EXPECT_EQ(stats.corrupt_records_skipped, 0u);
    EXPECT_EQ(::quanyu::testing::ReadFileOrEmpty(FirstFile()), full);
  }
}

TEST_F(EventLogTest, CorruptRecordInMiddleSkippedAndReported) {
  {
    auto log = Open(Options());
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(log->AppendSync(Payload(i)).ok());
  }
  const std::string full = ::quanyu::testing::ReadFileOrEmpty(FirstFile());
  const size_t rec = kRecordHeaderBytes + Payload(1).size();  // all the same size
  // Damage record 3: once in its payload, once in its magic.
  for (size_t at : {2 * rec + kRecordHeaderBytes + 5, 2 * rec}) {
    SCOPED_TRACE("damaged byte " + std::to_string(at));
    std::string damaged = full;
    damaged[at] ^= 0x55;
    ::quanyu::testing::WriteFile(FirstFile(), damaged);
    ReplayStats stats;
    auto log = Open(Options(), &stats);
    EXPECT_EQ(stats.records, 4u);
    EXPECT_EQ(stats.corrupt_records_skipped, 1u);
    EXPECT_EQ(stats.torn_bytes_truncated, 0u);
    ReplayStats replay_stats;
    std::map<Lsn, std::string> all = ReplayAll(log.get(), 0, &replay_stats);
    EXPECT_EQ(replay_stats.corrupt_records_skipped, 1u);
    EXPECT_EQ(all, (std::map<Lsn, std::string>{
                       {1, Payload(1)}, {2, Payload(2)}, {4, Payload(4)}, {5, Payload(5)}}));
    EXPECT_EQ(*log->AppendSync("next"), 6u);
    log->Close();
    ::quanyu::testing::WriteFile(FirstFile(), full);  // drop "next" for the following round
  }
}

TEST_F(EventLogTest, ReplayStopsOnVisitorError) {
  auto log = Open(Options());
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(log->AppendSync(Payload(i)).ok());
  int seen = 0;
  Status s = log->Replay(0, [&](Lsn lsn, std::string_view) {
    ++seen;
    return lsn == 3 ? Status::Corruption("bad batch") : Status::OK();
  });
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(seen, 3);
}

TEST_F(EventLogTest, TruncateUpToDeletesOnlyCoveredFiles) {
  LogOptions o = Options();
  o.file_bytes = 1;  // one record per file
  auto log = Open(o);
  for (int i = 1; i <= 10; ++i) ASSERT_EQ(*log->AppendSync(Payload(i)), static_cast<Lsn>(i));
  ASSERT_EQ(LogFiles(o.dir).size(), 11u);  // 1..10 and the empty current file

  ASSERT_TRUE(log->TruncateUpTo(4).ok());
  std::vector<std::string> files = LogFiles(o.dir);
  ASSERT_EQ(files.size(), 7u);
  EXPECT_EQ(files.front(), LogFileName(5));
  std::map<Lsn, std::string> all = ReplayAll(log.get());
  EXPECT_EQ(all.size(), 6u);
  EXPECT_EQ(all.begin()->first, 5u);

  ASSERT_TRUE(log->TruncateUpTo(1000).ok());
  EXPECT_EQ(LogFiles(o.dir), std::vector<std::string>{LogFileName(11)}) << "current file stays";
  EXPECT_EQ(*log->AppendSync("more"), 11u);
}

TEST_F(EventLogTest, RollsPastFileBytesAndReplaysAcrossFiles) {
  LogOptions o = Options();
  o.file_bytes = 200;
  {
    auto log = Open(o);
    for (int i = 1; i <= 20; ++i) ASSERT_TRUE(log->AppendSync(Payload(i)).ok());
  }
  EXPECT_GE(LogFiles(o.dir).size(), 5u);
  auto log = Open(o);
  std::map<Lsn, std::string> all = ReplayAll(log.get());
  ASSERT_EQ(all.size(), 20u);
  for (int i = 1; i <= 20; ++i) EXPECT_EQ(all[i], Payload(i));
}

TEST_F(EventLogTest, ExportsMetrics) {
  MetricsRegistry* r = MetricsRegistry::Default();
  auto log = Open(Options());
  Counter* records = r->GetCounter("quanyu_log_records_total", "");
  const uint64_t before = records->Value();
  ASSERT_TRUE(log->AppendSync("x").ok());
  EXPECT_EQ(records->Value(), before + 1);
  const std::string text = r->RenderPrometheus();
  for (const char* name : {"quanyu_log_fsync_seconds_bucket", "quanyu_log_queue_bytes",
                           "quanyu_log_bytes_total", "quanyu_log_group_commits_total"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

TEST_F(EventLogTest, RejectsBadOptions) {
  LogOptions o = Options();
  o.dir.clear();
  EXPECT_EQ(EventLog::Open(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quanyu::log
