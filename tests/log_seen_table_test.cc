#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "log/internal/seen_table.h"

namespace quanyu::log::internal {
namespace {

// The table against std::unordered_map under a random mix of inserts,
// erases (which exercise backward-shift deletion across wrap-around) and
// bulk EraseIf, with keys forced into few home slots to make long clusters.
TEST(SeenTableTest, MatchesAReferenceMapUnderRandomOperations) {
  std::mt19937_64 rng(7);
  SeenTable table;
  std::unordered_map<Hash128, SeenValue, Hash128Hasher> ref;
  auto random_key = [&] {
    // Low bits from a small range: many keys share a home slot.
    return Hash128{(rng() % 64) | (rng() % 4000) << 20, rng() % 5000};
  };
  for (int step = 0; step < 200000; ++step) {
    Hash128 k = random_key();
    int op = static_cast<int>(rng() % 10);
    if (op < 6) {
      bool inserted;
      SeenValue* v = table.TryEmplace(k, SeenValue{step, 1}, &inserted);
      auto [it, ref_inserted] = ref.try_emplace(k, SeenValue{step, 1});
      ASSERT_EQ(inserted, ref_inserted);
      ASSERT_EQ(v->first_seen_us, it->second.first_seen_us);
    } else if (op < 9) {
      ASSERT_EQ(table.Erase(k), ref.erase(k) == 1);
    } else {
      const SeenValue* v = table.Find(k);
      auto it = ref.find(k);
      ASSERT_EQ(v != nullptr, it != ref.end());
    }
    if (step % 50000 == 49999) {
      int64_t cutoff = step - 20000;
      table.EraseIf([&](const Hash128&, const SeenValue& v) { return v.first_seen_us < cutoff; });
      std::erase_if(ref, [&](const auto& kv) { return kv.second.first_seen_us < cutoff; });
    }
    ASSERT_EQ(table.size(), ref.size());
  }
  size_t seen = 0;
  table.ForEach([&](const Hash128& k, const SeenValue& v) {
    ++seen;
    auto it = ref.find(k);
    ASSERT_NE(it, ref.end());
    EXPECT_EQ(it->second.first_seen_us, v.first_seen_us);
  });
  EXPECT_EQ(seen, ref.size());
}

TEST(SeenTableTest, TheAllZeroKeyIsStorable) {
  SeenTable table;
  bool inserted;
  table.TryEmplace(Hash128{0, 0}, SeenValue{5, 6}, &inserted);
  EXPECT_TRUE(inserted);
  ASSERT_NE(table.Find(Hash128{0, 0}), nullptr);
  EXPECT_EQ(table.Find(Hash128{0, 0})->lsn, 6u);
  EXPECT_TRUE(table.Erase(Hash128{0, 0}));
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace quanyu::log::internal
