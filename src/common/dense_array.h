// DenseArray<T>: a growable array of small trivially-copyable values indexed
// by dense integer ids (interned identifiers, persons), with lock-free reads
// that may run concurrently with one writer. Elements live in fixed-size
// chunks that never move, so growing never invalidates a concurrent reader;
// each element is a std::atomic<T> read and written with relaxed ordering
// (a reader sees the old or the new value of an element being changed, never
// a torn one). Reads past the end return T{}.
//
// Used on the query path to resolve an event's identity key to its one_id in
// O(1), without hashing (ARCHITECTURE.md §4–5).
//
// Thread-safety: any number of readers concurrently with one writer; writers
// must be serialized by the caller.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace quanyu {

template <class T>
class DenseArray {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8);

 public:
  static constexpr size_t kChunkBits = 16;
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;
  static constexpr size_t kMaxChunks = size_t{1} << 16;  // 2^32 elements
  static constexpr size_t kMaxSize = kChunkSize * kMaxChunks;

  DenseArray() : chunks_(std::make_unique<std::atomic<Chunk*>[]>(kMaxChunks)) {}
  ~DenseArray() {
    for (size_t c = 0; c < kMaxChunks; ++c) delete chunks_[c].load(std::memory_order_relaxed);
  }
  DenseArray(const DenseArray&) = delete;
  DenseArray& operator=(const DenseArray&) = delete;

  // The value at i, or T{} if i was never written.
  T Get(size_t i) const {
    if (i >= kMaxSize) return T{};
    const Chunk* chunk = chunks_[i >> kChunkBits].load(std::memory_order_acquire);
    if (chunk == nullptr) return T{};
    return (*chunk)[i & (kChunkSize - 1)].load(std::memory_order_relaxed);
  }

  // Hints that Get(i) comes soon (a cache line load, no effect on values):
  // for loops that resolve many random indexes.
  void Prefetch(size_t i) const {
    if (i >= kMaxSize) return;
    const Chunk* chunk = chunks_[i >> kChunkBits].load(std::memory_order_relaxed);
    if (chunk != nullptr) __builtin_prefetch(&(*chunk)[i & (kChunkSize - 1)]);
  }

  // Writer only. REQUIRES: i < kMaxSize.
  void Set(size_t i, T value) {
    size_t c = i >> kChunkBits;
    Chunk* chunk = chunks_[c].load(std::memory_order_relaxed);
    if (chunk == nullptr) {
      chunk = new Chunk();  // value-initialized: every element T{}
      chunks_[c].store(chunk, std::memory_order_release);
    }
    (*chunk)[i & (kChunkSize - 1)].store(value, std::memory_order_relaxed);
    if (i >= size_.load(std::memory_order_relaxed)) size_.store(i + 1, std::memory_order_release);
  }

  // One past the highest index written.
  size_t size() const { return size_.load(std::memory_order_acquire); }

  // Bytes allocated for chunks.
  size_t MemoryUsage() const {
    size_t n = kMaxChunks * sizeof(std::atomic<Chunk*>);
    for (size_t c = 0; c < kMaxChunks; ++c) {
      if (chunks_[c].load(std::memory_order_relaxed) != nullptr) n += sizeof(Chunk);
    }
    return n;
  }

 private:
  using Chunk = std::array<std::atomic<T>, kChunkSize>;
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  std::atomic<size_t> size_{0};
};

}  // namespace quanyu
