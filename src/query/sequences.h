// PersonSequences: the rows a scan selected, grouped by person (one_id) and
// ordered by time within each person — the per-person sequence scan every
// operator of this folder runs on (ARCHITECTURE.md §5: "Analytics operate
// per person, ordered by time").
//
// Rows are appended in any order (Add), then Build() groups them with a
// counting sort on one_id (O(rows + max one_id), no hashing) and sorts each
// person's rows by time (stable, so rows with equal timestamps keep the order
// they were added in; scans deliver each segment in time order, so this is
// usually a check). Row 0 one_ids (events without any identifier) should
// not be added.
//
// Not synchronized: one builder per query; the built sequences may then be
// read from several threads (ForEachPerson).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

namespace quanyu::query {

// Row must have an `int64_t ts` member.
template <class Row>
class PersonSequences {
 public:
  void Reserve(size_t rows) {
    pending_ids_.reserve(rows);
    pending_.reserve(rows);
  }
  void Add(uint32_t one_id, const Row& row) {
    pending_ids_.push_back(one_id);
    pending_.push_back(row);
    if (one_id > max_id_) max_id_ = one_id;
  }
  size_t pending() const { return pending_.size(); }

  void Build() {
    const size_t n = pending_.size();
    std::vector<uint32_t> start(static_cast<size_t>(max_id_) + 2, 0);
    for (uint32_t id : pending_ids_) ++start[id + 1];
    ids_.clear();
    offsets_.clear();
    for (size_t id = 0; id + 1 < start.size(); ++id) {
      if (start[id + 1] != 0) {
        ids_.push_back(static_cast<uint32_t>(id));
        offsets_.push_back(0);  // filled below
      }
      start[id + 1] += start[id];
    }
    rows_.resize(n);
    {
      std::vector<uint32_t> next(start.begin(), start.end() - 1);
      for (size_t i = 0; i < n; ++i) rows_[next[pending_ids_[i]]++] = pending_[i];
    }
    for (size_t p = 0; p < ids_.size(); ++p) offsets_[p] = start[ids_[p]];
    offsets_.push_back(static_cast<uint32_t>(n));
    std::vector<uint32_t>().swap(pending_ids_);
    std::vector<Row>().swap(pending_);
    for (size_t p = 0; p < ids_.size(); ++p) {
      auto b = rows_.begin() + offsets_[p], e = rows_.begin() + offsets_[p + 1];
      if (!std::is_sorted(b, e, ByTime)) std::stable_sort(b, e, ByTime);
    }
    max_id_ = 0;
  }

  size_t persons() const { return ids_.size(); }
  size_t rows() const { return rows_.size(); }
  uint32_t one_id(size_t person) const { return ids_[person]; }
  std::span<const Row> rows(size_t person) const {
    return {rows_.data() + offsets_[person], rows_.data() + offsets_[person + 1]};
  }

  // Calls fn(worker, person_index, rows) for every person, split into
  // `threads` contiguous ranges run concurrently; worker is in [0, threads).
  // fn must only touch state of its own worker.
  template <class Fn>
  void ForEachPerson(int threads, Fn&& fn) const {
    const size_t n = ids_.size();
    threads = std::max(1, std::min<int>(threads, static_cast<int>(n / 1024 + 1)));
    auto run = [&](int w) {
      const size_t b = n * w / threads, e = n * (w + 1) / threads;
      for (size_t p = b; p < e; ++p) fn(w, p, rows(p));
    };
    std::vector<std::thread> pool;
    for (int w = 1; w < threads; ++w) pool.emplace_back(run, w);
    run(0);
    for (auto& t : pool) t.join();
  }

 private:
  static bool ByTime(const Row& a, const Row& b) { return a.ts < b.ts; }

  std::vector<uint32_t> pending_ids_;
  std::vector<Row> pending_;
  uint32_t max_id_ = 0;
  std::vector<uint32_t> ids_;      // one_id of each person, ascending
  std::vector<uint32_t> offsets_;  // rows of person p: [offsets_[p], offsets_[p + 1])
  std::vector<Row> rows_;
};

}  // namespace quanyu::query
