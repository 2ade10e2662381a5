// PersonSequences: the rows a scan selected, grouped by person (one_id) and
// ordered by time within each person — the per-person sequence scan every
// operator of this folder runs on (ARCHITECTURE.md §5: "Analytics operate
// per person, ordered by time").
//
// Rows are appended in any order (Add), already partitioned by one_id range
// (2^15 one_ids per partition: a radix pass fused into the scan), then
// Build() groups each partition with a counting sort on one_id whose
// counters and rows stay in cache (no hashing), partitions on several
// threads, and sorts each person's rows by time (stable, so rows with equal
// timestamps keep the order they were added in; scans deliver each segment
// in time order, so this is usually a check). Persons come out in ascending
// one_id. Row 0 one_ids (events without any identifier) should not be added.
//
// Not synchronized: one builder per scan thread (BuildFrom merges them); the
// built sequences may then be read from several threads (ForEachPerson).
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <thread>
#include <vector>

namespace quanyu::query {

// Row must have an `int64_t ts` member.
template <class Row>
class PersonSequences {
  static constexpr int kPartitionBits = 15;
  static constexpr uint32_t kLocalMask = (uint32_t{1} << kPartitionBits) - 1;

 public:
  void Add(uint32_t one_id, const Row& row) {
    const size_t p = one_id >> kPartitionBits;
    if (p >= pending_.size()) pending_.resize(p + 1);
    Partition& part = pending_[p];
    part.local_ids.push_back(static_cast<uint16_t>(one_id & kLocalMask));
    part.rows.push_back(row);
  }
  size_t pending() const {
    size_t n = 0;
    for (const Partition& p : pending_) n += p.rows.size();
    return n;
  }
  // Calls fn(row&) for every row added but not built yet, for rewriting a
  // field before Build.
  template <class Fn>
  void ForEachPending(Fn&& fn) {
    for (Partition& p : pending_) {
      for (Row& r : p.rows) fn(r);
    }
  }

  void Build(int threads = 1) {
    PersonSequences* self = this;
    BuildFrom(std::span<PersonSequences* const>(&self, 1), threads);
  }

  // Builds from the rows added to every one of `parts` (this one may be
  // among them), as if they had all been added here, part after part; the
  // parts' pending rows are released. For scans run on several threads,
  // one part per thread. Partitions are built on `threads` threads.
  void BuildFrom(std::span<PersonSequences* const> parts, int threads = 1) {
    size_t partitions = 0;
    for (const PersonSequences* part : parts) partitions = std::max(partitions, part->pending_.size());
    // Where each partition's rows go: partitions in one_id order.
    std::vector<size_t> base(partitions + 1, 0);
    for (size_t p = 0; p < partitions; ++p) {
      size_t rows = 0;
      for (const PersonSequences* part : parts) {
        if (p < part->pending_.size()) rows += part->pending_[p].rows.size();
      }
      base[p + 1] = base[p] + rows;
    }
    const size_t n = base[partitions];
    rows_ = RowBuffer(n);
    n_rows_ = n;
    std::vector<std::vector<uint32_t>> ids(partitions), offsets(partitions);
    std::atomic<size_t> next{0};
    auto work = [&](int) {
      std::vector<uint32_t> start((size_t{1} << kPartitionBits) + 1);
      for (size_t p; (p = next.fetch_add(1)) < partitions;) {
        BuildPartition(parts, p, base[p], &start, &ids[p], &offsets[p]);
      }
    };
    threads = std::max(1, std::min<int>(threads, static_cast<int>(n / 65536 + 1)));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& t : pool) t.join();
    for (PersonSequences* part : parts) std::vector<Partition>().swap(part->pending_);
    ids_.clear();
    offsets_.clear();
    for (size_t p = 0; p < partitions; ++p) {
      ids_.insert(ids_.end(), ids[p].begin(), ids[p].end());
      offsets_.insert(offsets_.end(), offsets[p].begin(), offsets[p].end());
    }
    offsets_.push_back(static_cast<uint32_t>(n));
  }

  size_t persons() const { return ids_.size(); }
  size_t rows() const { return n_rows_; }
  uint32_t one_id(size_t person) const { return ids_[person]; }
  std::span<const Row> rows(size_t person) const {
    return {rows_.get() + offsets_[person], rows_.get() + offsets_[person + 1]};
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
  struct Partition {
    std::vector<uint16_t> local_ids;  // one_id & kLocalMask
    std::vector<Row> rows;
  };

  // Counting sort of partition p of every part into rows_[base...]; appends
  // the partition's persons to *ids and where each one's rows start to
  // *offsets. `start` is scratch of 2^kPartitionBits + 1 counters.
  void BuildPartition(std::span<PersonSequences* const> parts, size_t p, size_t base,
                      std::vector<uint32_t>* start, std::vector<uint32_t>* ids,
                      std::vector<uint32_t>* offsets) {
    std::vector<uint32_t>& count = *start;
    std::fill(count.begin(), count.end(), 0);
    for (const PersonSequences* part : parts) {
      if (p >= part->pending_.size()) continue;
      for (uint16_t local : part->pending_[p].local_ids) ++count[local + 1];
    }
    const uint32_t high = static_cast<uint32_t>(p) << kPartitionBits;
    for (size_t local = 0; local + 1 < count.size(); ++local) {
      if (count[local + 1] != 0) {
        ids->push_back(high | static_cast<uint32_t>(local));
        offsets->push_back(static_cast<uint32_t>(base + count[local]));
      }
      count[local + 1] += count[local];
    }
    Row* out = rows_.get() + base;
    for (const PersonSequences* part : parts) {
      if (p >= part->pending_.size()) continue;
      const Partition& from = part->pending_[p];
      const size_t m = from.rows.size();
      for (size_t i = 0; i < m; ++i) out[count[from.local_ids[i]]++] = from.rows[i];
    }
    // count[local] is now the end of local's rows.
    for (size_t k = 0; k < ids->size(); ++k) {
      const uint32_t local = (*ids)[k] & kLocalMask;
      SortByTime(rows_.get() + (*offsets)[k], out + count[local]);
    }
  }

  static bool ByTime(const Row& a, const Row& b) { return a.ts < b.ts; }
  // Stable; most persons have a handful of rows, so insertion sort without
  // the allocation std::stable_sort makes.
  static void SortByTime(Row* b, Row* e) {
    if (e - b > 32) {
      if (!std::is_sorted(b, e, ByTime)) std::stable_sort(b, e, ByTime);
      return;
    }
    for (Row* i = b + 1; i < e; ++i) {
      if (!(i->ts < (i - 1)->ts)) continue;
      Row v = *i;
      Row* j = i;
      for (; j > b && v.ts < (j - 1)->ts; --j) *j = *(j - 1);
      *j = v;
    }
  }

  std::vector<Partition> pending_;  // by one_id >> kPartitionBits
  std::vector<uint32_t> ids_;       // one_id of each person, ascending
  std::vector<uint32_t> offsets_;   // rows of person p: [offsets_[p], offsets_[p + 1])
  // Rows in anonymous memory on transparent huge pages where the kernel
  // allows (madvise mode): a few hundred faults for 100 MB, not 25,000.
  struct Unmap {
    size_t bytes;
    void operator()(Row* p) const { munmap(p, bytes); }
  };
  using Buffer = std::unique_ptr<Row[], Unmap>;
  static Buffer RowBuffer(size_t n) {
    if (n == 0) return Buffer(nullptr, Unmap{0});
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t bytes = (n * sizeof(Row) + kHuge - 1) / kHuge * kHuge;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    (void)madvise(p, bytes, MADV_HUGEPAGE);
    return Buffer(static_cast<Row*>(p), Unmap{bytes});
  }

  Buffer rows_{nullptr, Unmap{0}};
  size_t n_rows_ = 0;
};

}  // namespace quanyu::query
