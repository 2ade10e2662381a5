#include "sim/sim.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <numeric>
#include <system_error>
#include <thread>

#include "sim/internal/event_pool.h"
#include "sim/internal/ground_truth.h"
#include "sim/internal/journey.h"
#include "sim/internal/person.h"
#include "sim/internal/random.h"
#include "sim/internal/session_writer.h"
#include "sim/internal/stats.h"
#include "sim/internal/world.h"

namespace quanyu::sim {
namespace {

using internal::World;

// One thread's share: a contiguous range of persons, its counters, and the
// identity truth of its persons in person order.
struct Shard {
  int64_t begin = 0, end = 0;
  internal::SimStats stats;
  std::vector<internal::PersonIdentifiers> identity;
  Status status;
};

// Shared between the workers and the calling thread.
struct Coordination {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> persons_done{0};
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
};

// Hands the pool's events to the sink. Events the sink leaves in the vector
// are recycled as shells for the next batch.
Status CallSink(const EventSink& sink, internal::EventPool* batch) {
  std::vector<Event>& events = batch->Release();
  Status status;
  try {
    status = sink(std::move(events));
  } catch (const std::exception& e) {
    status = Status::Internal(std::string("sim: event sink threw: ") + e.what());
  } catch (...) {
    status = Status::Internal("sim: event sink threw");
  }
  return status;
}

// Puts events [begin, begin + n) of *pool in time order (ties keep generation
// order). Most persons' events are generated in order already; the rest are
// permuted in place by moves, which swap string buffers instead of copying.
void SortByTime(internal::EventPool* pool, size_t begin, size_t n, std::vector<uint32_t>* order,
                std::vector<bool>* placed) {
  auto& events = *pool;
  bool sorted = true;
  for (size_t i = begin + 1; i < begin + n && sorted; ++i) {
    sorted = events[i - 1].timestamp_us <= events[i].timestamp_us;
  }
  if (sorted) return;
  order->resize(n);
  std::iota(order->begin(), order->end(), 0u);
  std::sort(order->begin(), order->end(), [&](uint32_t a, uint32_t b) {
    const int64_t ta = events[begin + a].timestamp_us, tb = events[begin + b].timestamp_us;
    return ta != tb ? ta < tb : a < b;
  });
  // Apply "slot k receives event order[k]" cycle by cycle.
  placed->assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    if ((*placed)[i] || (*order)[i] == i) continue;
    Event held = std::move(events[begin + i]);
    size_t j = i;
    for (;;) {
      (*placed)[j] = true;
      const size_t k = (*order)[j];
      if (k == i) {
        events[begin + j] = std::move(held);
        break;
      }
      events[begin + j] = std::move(events[begin + k]);
      j = k;
    }
  }
}

// "sim-<seed>-<person>-<n>" without a temporary string.
void SetMessageId(std::string_view prefix, int64_t person, size_t n, std::string* out) {
  char buf[48];
  char* p = std::to_chars(buf, buf + 24, person).ptr;
  *p++ = '-';
  p = std::to_chars(p, buf + sizeof(buf), n).ptr;
  out->assign(prefix);
  out->append(buf, static_cast<size_t>(p - buf));
}

// Simulates persons [shard->begin, shard->end) and feeds their events to the
// sink in batches. Each person's random stream is seeded from (seed, index)
// alone, so the events do not depend on the shard layout.
void RunShard(const World& world, const EventSink& sink, bool collect_identity, Coordination* co,
              Shard* shard) {
  const SimOptions& o = world.options;
  internal::Person person;
  internal::JourneyPlanner planner(world);
  internal::SessionWriter writer(world);
  std::vector<internal::Session> sessions;
  internal::EventPool batch;  // this batch's events, then recycled shells
  std::vector<uint32_t> order;
  std::vector<bool> placed;
  const auto batch_size = static_cast<size_t>(o.batch_events);
  const std::string prefix = "sim-" + std::to_string(o.seed) + "-";

  for (int64_t p = shard->begin; p < shard->end; ++p) {
    if (co->stop.load(std::memory_order_relaxed)) return;
    internal::Rng rng(internal::StableHash(o.seed, static_cast<uint64_t>(p), 0));
    internal::DrawPerson(world, p, &rng, &person);
    planner.Plan(person, &rng, &sessions, &shard->stats);
    const size_t begin = batch.Size();
    writer.Begin(person, &rng, &batch, &shard->stats);
    for (const auto& s : sessions) writer.Write(s);
    const uint32_t used = writer.End();
    const size_t n = batch.Size() - begin;
    if (n > 0) ++shard->stats.persons_with_events;
    if (collect_identity) {
      auto& ids = shard->identity.emplace_back();
      ids.person = p;
      internal::CollectTrueIdentifiers(person, used, &ids.identifiers);
    }
    SortByTime(&batch, begin, n, &order, &placed);
    for (size_t i = 0; i < n; ++i) SetMessageId(prefix, p, i, &batch[begin + i].message_id);
    co->persons_done.fetch_add(1, std::memory_order_relaxed);
    if (batch.Size() >= batch_size) {
      Status st = CallSink(sink, &batch);
      if (!st.ok()) {
        shard->status = std::move(st);
        co->stop.store(true);
        return;
      }
    }
  }
  if (!batch.Empty()) {
    Status st = CallSink(sink, &batch);
    if (!st.ok()) {
      shard->status = std::move(st);
      co->stop.store(true);
    }
  }
}

// Runs the shards on their own threads and reports progress from this one.
// Returns the first failing shard's status.
Status RunShards(const World& world, const EventSink& sink, const ProgressFn& progress,
                 bool collect_identity, std::vector<Shard>* shards) {
  Coordination co;
  std::vector<std::thread> workers;
  workers.reserve(shards->size());
  Status status;
  co.running = static_cast<int>(shards->size());
  try {
    for (auto& shard : *shards) {
      workers.emplace_back([&world, &sink, collect_identity, &co, &shard] {
        RunShard(world, sink, collect_identity, &co, &shard);
        std::lock_guard lock(co.mu);
        --co.running;
        co.cv.notify_all();
      });
    }
  } catch (const std::system_error& e) {  // no thread could be created
    std::lock_guard lock(co.mu);
    co.running -= static_cast<int>(shards->size() - workers.size());
    co.stop.store(true);
    status = Status::ResourceExhausted(std::string("sim: cannot start threads: ") + e.what());
  }
  auto report = [&] {
    if (!progress || !status.ok()) return;
    try {
      progress(co.persons_done.load());
    } catch (...) {
      co.stop.store(true);
      status = Status::Internal("sim: progress callback threw");
    }
  };
  {
    std::unique_lock lock(co.mu);
    while (co.running > 0) {
      co.cv.wait_for(lock, std::chrono::milliseconds(200));
      if (co.running == 0) break;
      lock.unlock();
      report();
      lock.lock();
    }
  }
  for (auto& w : workers) w.join();
  for (const auto& shard : *shards) {
    if (status.ok() && !shard.status.ok()) status = shard.status;
  }
  report();
  return status;
}

}  // namespace

std::vector<SimSource> SimulatedSources() {
  std::vector<SimSource> out;
  for (const auto& src : internal::kSources)
    out.push_back({std::string(src.name), std::string(src.type)});
  return out;
}

Result<SimResult> RunSimulation(const SimOptions& options, const EventSink& sink,
                                const ProgressFn& progress) {
  if (!sink) return Status::InvalidArgument("sim: no event sink");
  ASSIGN_OR_RETURN(const World world, internal::BuildWorld(options));

  int threads = options.threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<int64_t>(threads, options.persons));
  const bool collect_identity = options.persons <= options.identity_truth_max_persons;

  // Contiguous person ranges; which thread simulates whom changes nothing
  // but the interleaving of batches.
  std::vector<Shard> shards(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    shards[static_cast<size_t>(t)].begin = options.persons * t / threads;
    shards[static_cast<size_t>(t)].end = options.persons * (t + 1) / threads;
  }
  RETURN_IF_ERROR(RunShards(world, sink, progress, collect_identity, &shards));

  internal::SimStats stats;
  std::vector<internal::PersonIdentifiers> identity;
  for (auto& s : shards) {
    stats.Merge(s.stats);
    if (collect_identity) {
      std::move(s.identity.begin(), s.identity.end(), std::back_inserter(identity));
    }
  }
  SimResult result;
  result.persons = stats.persons;
  result.events = stats.events;
  for (const auto& src : internal::kSources) {
    result.sources.push_back({std::string(src.name), std::string(src.type)});
  }
  result.spend = world.spend_rows;
  ASSIGN_OR_RETURN(
      result.ground_truth_json,
      internal::BuildGroundTruth(world, stats, collect_identity ? &identity : nullptr));
  return result;
}

}  // namespace quanyu::sim
