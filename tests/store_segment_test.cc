// Unit tests of the segment file format: column encodings, the writer and
// reader, checksum and footer validation, and the manifest.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "common/event.h"
#include "store/internal/column_codec.h"
#include "store/internal/manifest.h"
#include "store/internal/segment_format.h"
#include "store/internal/segment_reader.h"
#include "store/internal/segment_writer.h"
#include "test_util.h"

namespace quanyu::store::internal {
namespace {

namespace fs = std::filesystem;

using ::quanyu::testing::TempDir;

// An event with every field set; `i` varies the values.
Event FullEvent(int i, int64_t ts) {
  Event e;
  e.timestamp_us = ts;
  e.received_us = ts + 1500 + i;
  e.type = static_cast<EventType>(i % kEventTypeCount);
  e.name = i % 3 == 0 ? "下单" : "page_view_" + std::to_string(i % 5);
  e.message_id = "msg-" + std::to_string(i);
  e.source = i % 2 ? "web" : "";
  e.channel = "douyin";
  e.user_id = i % 4 ? "user" + std::to_string(i) : "";
  e.anonymous_id = "anon-😀-" + std::to_string(i);
  for (int k = 0; k < i % 4; ++k) {
    e.identifiers.push_back({k % 2 ? "wechat_openid" : "phone", k % 2 ? "wx123" : "",
                             "v" + std::to_string(i * 10 + k)});
  }
  e.campaign = {"baidu", "cpc", "双十一", i % 2 ? "term" : "", "content" + std::to_string(i)};
  e.referrer = "https://ref.example/?q=" + std::to_string(i);
  e.url = "https://shop.example/p/" + std::to_string(i) + "?gclid=x";
  if (i % 2) e.revenue = 99.5 + i;
  if (i % 3) e.value = -0.0;
  if (i % 5 == 0) e.quantity = std::numeric_limits<double>::infinity();
  e.currency = i % 2 ? "CNY" : "";
  e.order_id = i % 2 ? "o" + std::to_string(i) : "";
  e.product_id = std::string("p\0x", 3) + std::to_string(i % 7);  // embedded NUL
  e.properties_json = R"({"k":)" + std::to_string(i) + R"(,"s":"值"})";
  e.traits_json = i % 2 ? R"({"plan":"pro"})" : "";
  e.context_json = R"({"consent":{"analytics":true}})";
  e.identity_key = i % 4 == 0 ? 0 : static_cast<uint32_t>(i) * 2'654'435'761u;  // up to 5 bytes
  return e;
}

std::vector<Event> ReadAll(const std::string& path, ColumnSet cols, int64_t from = INT64_MIN,
                           int64_t to = INT64_MAX) {
  auto reader = SegmentReader::Open(path, nullptr);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  auto rows = SegmentRows::Load(**reader, cols, from, to);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<Event> out;
  for (size_t r = rows->begin(); r < rows->end(); ++r) rows->Fill(r, &out.emplace_back());
  return out;
}

Result<SegmentSummary> Write(const std::string& path, const std::vector<Event>& events) {
  SegmentWriter w(3);
  for (const auto& e : events) w.Append(e);
  return w.Finish(path);
}

TEST(SegmentTest, EveryFieldRoundTrips) {
  TempDir dir;
  std::vector<Event> events;
  for (int i = 0; i < 200; ++i) events.push_back(FullEvent(i, 1'700'000'000'000'000 + i * 1000));
  const std::string path = dir.path() + "/1.qys";
  auto summary = Write(path, events);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 200u);
  EXPECT_EQ(summary->min_timestamp_us, events.front().timestamp_us);
  EXPECT_EQ(summary->max_timestamp_us, events.back().timestamp_us);
  EXPECT_EQ(summary->bytes, fs::file_size(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  auto got = ReadAll(path, ColumnSet::All());
  ASSERT_EQ(got.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    // -0.0 == 0.0 for operator==; the bit pattern must survive too.
    EXPECT_EQ(got[i], events[i]) << "row " << i;
    if (events[i].value) {
      EXPECT_TRUE(std::signbit(*got[i].value));
    }
  }
}

TEST(SegmentTest, DefaultEventsAndExtremeTimestampsRoundTrip) {
  TempDir dir;
  std::vector<Event> events(3);
  events[0].timestamp_us = std::numeric_limits<int64_t>::min();
  events[0].received_us = std::numeric_limits<int64_t>::max();
  events[1].timestamp_us = 0;
  events[1].received_us = std::numeric_limits<int64_t>::min();
  events[2].timestamp_us = std::numeric_limits<int64_t>::max() - 1;  // to_us is exclusive
  events[2].revenue = std::nan("");
  const std::string path = dir.path() + "/1.qys";
  ASSERT_TRUE(Write(path, events).ok());
  auto got = ReadAll(path, ColumnSet::All());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], events[0]);
  EXPECT_EQ(got[1], events[1]);
  EXPECT_EQ(got[2].timestamp_us, events[2].timestamp_us);
  ASSERT_TRUE(got[2].revenue.has_value());
  EXPECT_TRUE(std::isnan(*got[2].revenue));
}

TEST(SegmentTest, EmptySegmentIsValid) {
  TempDir dir;
  const std::string path = dir.path() + "/1.qys";
  ASSERT_TRUE(Write(path, {}).ok());
  EXPECT_TRUE(ReadAll(path, ColumnSet::All()).empty());
}

TEST(SegmentTest, RangeSelectsRowsByTimestamp) {
  TempDir dir;
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) events.push_back(FullEvent(i, i * 10));
  const std::string path = dir.path() + "/1.qys";
  ASSERT_TRUE(Write(path, events).ok());
  auto got = ReadAll(path, {Column::kMessageId}, 250, 500);
  ASSERT_EQ(got.size(), 25u);
  EXPECT_EQ(got.front().message_id, "msg-25");
  EXPECT_EQ(got.back().message_id, "msg-49");
  EXPECT_EQ(got.front().timestamp_us, 0);  // not requested
  EXPECT_TRUE(ReadAll(path, ColumnSet::All(), 1000, 2000).empty());
}

TEST(SegmentTest, SubsetReadsOnlyItsBlocks) {
  TempDir dir;
  std::vector<Event> events;
  for (int i = 0; i < 1000; ++i) events.push_back(FullEvent(i, i));
  const std::string path = dir.path() + "/1.qys";
  ASSERT_TRUE(Write(path, events).ok());
  auto reader = SegmentReader::Open(path, nullptr);
  ASSERT_TRUE(reader.ok());
  const SegmentFooter footer = (*reader)->footer();
  std::atomic<uint64_t> read{0};
  auto cached = SegmentReader::Open(path, &read, &footer);
  ASSERT_TRUE(cached.ok());
  // Whole range: the timestamp block is not needed for filtering.
  ASSERT_TRUE(SegmentRows::Load(**cached, {Column::kName}, INT64_MIN, INT64_MAX).ok());
  EXPECT_EQ(read.load(), footer.Find(Column::kName)->compressed_length);
  read = 0;
  ASSERT_TRUE(SegmentRows::Load(**cached, {Column::kName}, 10, 20).ok());
  EXPECT_EQ(read.load(), footer.Find(Column::kName)->compressed_length +
                             footer.Find(Column::kTimestamp)->compressed_length);
}

TEST(SegmentTest, CorruptBlockIsDetectedOnlyWhenRead) {
  TempDir dir;
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) events.push_back(FullEvent(i, i));
  const std::string path = dir.path() + "/1.qys";
  ASSERT_TRUE(Write(path, events).ok());
  auto reader = SegmentReader::Open(path, nullptr);
  ASSERT_TRUE(reader.ok());
  const ColumnMeta meta = *(*reader)->footer().Find(Column::kProperties);
  std::string bytes = ::quanyu::testing::ReadFileOrEmpty(path);
  bytes[meta.offset + meta.compressed_length / 2] ^= 0x40;
  ::quanyu::testing::WriteFile(path, bytes);
  reader = SegmentReader::Open(path, nullptr);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE(SegmentRows::Load(**reader, {Column::kName, Column::kUrl}, 0, 50).ok());
  auto bad = SegmentRows::Load(**reader, {Column::kProperties}, 0, 50);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.status().message().find("properties"), std::string::npos);
}

TEST(SegmentTest, DamagedFrameIsCorruption) {
  TempDir dir;
  const std::string path = dir.path() + "/1.qys";
  ASSERT_TRUE(Write(path, {FullEvent(1, 1)}).ok());
  const std::string good = ::quanyu::testing::ReadFileOrEmpty(path);
  auto open = [&](const std::string& bytes) {
    ::quanyu::testing::WriteFile(path, bytes);
    return SegmentReader::Open(path, nullptr).status();
  };
  std::string b = good;
  b[0] = 'X';
  EXPECT_EQ(open(b).code(), StatusCode::kCorruption) << "head magic";
  b = good;
  b[b.size() - 1] = 'X';
  EXPECT_EQ(open(b).code(), StatusCode::kCorruption) << "end magic";
  b = good;
  b[b.size() - kTrailerSize - 3] ^= 1;
  EXPECT_EQ(open(b).code(), StatusCode::kCorruption) << "footer checksum";
  EXPECT_EQ(open(good.substr(0, good.size() - 5)).code(), StatusCode::kCorruption) << "truncated";
  EXPECT_EQ(open("").code(), StatusCode::kCorruption) << "empty";
  EXPECT_TRUE(open(good).ok());
}

// Malformed raw blocks of every encoding fail with Corruption, never crash
// or read out of bounds (run under ASan).
TEST(SegmentTest, GarbageRawBlocksAreRejected) {
  std::mt19937 rng(7);
  std::vector<Event> events;
  for (int i = 0; i < 50; ++i) events.push_back(FullEvent(i, i));
  for (int c = 0; c < kColumnCount; ++c) {
    const Column column = static_cast<Column>(c);
    auto enc = NewColumnEncoder(column);
    for (const auto& e : events) enc->Append(e);
    const std::string good = enc->Finish();
    ASSERT_TRUE(DecodeColumn(column, enc->encoding(), good, events.size()).ok()) << c;
    EXPECT_FALSE(DecodeColumn(column, enc->encoding(), good, events.size() + 8).ok()) << c;
    for (int trial = 0; trial < 300; ++trial) {
      std::string bad = good;
      switch (trial % 3) {
        case 0:
          bad.resize(rng() % (bad.size() + 1));
          break;
        case 1:
          if (!bad.empty()) bad[rng() % bad.size()] = static_cast<char>(rng());
          break;
        case 2:
          bad.push_back(static_cast<char>(rng()));
          break;
      }
      auto decoded = DecodeColumn(column, enc->encoding(), bad, events.size());
      if (!decoded.ok()) {
        EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
        continue;
      }
      Event e;  // a mutation that still parses must still be safe to read
      for (size_t r = 0; r < events.size(); ++r) (*decoded)->Fill(r, &e);
    }
  }
}

// A segment written before a column existed has no block for it: the column
// reads as its default, even into an Event that held a value before.
TEST(SegmentTest, ColumnMissingFromSegmentReadsAsDefault) {
  TempDir dir;
  const std::string path = dir.path() + "/1.qys";
  ASSERT_TRUE(Write(path, {FullEvent(1, 5), FullEvent(3, 6)}).ok());
  auto reader = SegmentReader::Open(path, nullptr);
  ASSERT_TRUE(reader.ok());
  SegmentFooter footer = (*reader)->footer();
  const uint64_t data_end = fs::file_size(path) - kTrailerSize - kFooterFixedSize -
                            footer.columns.size() * kColumnEntrySize;
  std::erase_if(footer.columns, [](const ColumnMeta& m) { return m.column == Column::kRevenue; });
  std::string bytes = ::quanyu::testing::ReadFileOrEmpty(path).substr(0, data_end);
  EncodeFooterAndTrailer(footer, &bytes);
  ::quanyu::testing::WriteFile(path, bytes);

  reader = SegmentReader::Open(path, nullptr);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->footer().Find(Column::kRevenue), nullptr);
  auto rows = SegmentRows::Load(**reader, {Column::kRevenue, Column::kName}, 0, 100);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  Event e = FullEvent(1, 5);
  ASSERT_TRUE(e.revenue.has_value());
  rows->Fill(0, &e);
  EXPECT_FALSE(e.revenue.has_value());
  EXPECT_EQ(e.name, FullEvent(1, 5).name);
}

TEST(SegmentTest, CompressionRejectsWrongLength) {
  auto block = CompressBlock("hello hello hello", 3);
  ASSERT_TRUE(block.ok());
  EXPECT_TRUE(DecompressBlock(*block, 17).ok());
  EXPECT_EQ(DecompressBlock(*block, 16).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecompressBlock("not zstd", 8).status().code(), StatusCode::kCorruption);
}

TEST(ManifestTest, RoundTripsAndValidates) {
  Manifest m;
  m.checkpoint_lsn = std::numeric_limits<uint64_t>::max();
  m.next_segment_seq = 8;
  m.segments.push_back({3, "2026-11-22", 10, 2048, -5, 7});
  m.segments.push_back({7, "2026-11-23", 1, 100, 1, 1});
  auto decoded = DecodeManifest(EncodeManifest(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, m);
  EXPECT_EQ(m.segments[0].RelativePath(), "events/2026-11-22/000000000003.qys");

  EXPECT_EQ(DecodeManifest("{").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeManifest("[]").status().code(), StatusCode::kCorruption);
  Manifest dup = m;
  dup.segments[1].seq = 3;
  EXPECT_EQ(DecodeManifest(EncodeManifest(dup)).status().code(), StatusCode::kCorruption);
  Manifest unseq = m;
  unseq.next_segment_seq = 7;
  EXPECT_EQ(DecodeManifest(EncodeManifest(unseq)).status().code(), StatusCode::kCorruption);
  Manifest escape = m;
  escape.segments[0].day = "../../etc";
  EXPECT_EQ(DecodeManifest(EncodeManifest(escape)).status().code(), StatusCode::kCorruption);
}

TEST(ManifestTest, WriteIsAtomicReplace) {
  TempDir dir;
  auto none = ReadManifest(dir.path());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  Manifest m;
  m.checkpoint_lsn = 42;
  ASSERT_TRUE(WriteManifest(dir.path(), m).ok());
  EXPECT_FALSE(fs::exists(dir.path() + "/MANIFEST.tmp"));
  auto back = ReadManifest(dir.path());
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->checkpoint_lsn, 42u);
}

}  // namespace
}  // namespace quanyu::store::internal
