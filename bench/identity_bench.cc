// identity_bench: One-ID resolution throughput and memory (issue 3).
//
// Generates simulator events, normalizes them exactly as ingest does
// (collect::Normalizer, default Config, the simulator's sources; events left
// without an identifier are dropped, as Engine::Ingest rejects them), keeps
// the event types asked for, sorts them by event time (in-order delivery),
// then on ONE thread:
//   1. times IdentityGraph::Apply over all of them in batches;
//   2. times the limit: a plain union-find (path halving, union by size) over
//      the same identifier occurrences pre-interned to dense integers,
//      union(first, each other) per event.
// A "link" is one identifier occurrence on one event (GraphStats::links).
// Rates are given per wall second and per CPU-second of the applying thread
// (on a shared machine the CPU figure is the per-core one). Then memory per
// identifier and per person (GraphStats::memory_bytes and the RSS delta), and
// how the persons found compare with the simulator's ground truth.
//
//   identity_bench [--persons=500000] [--batch=2048] [--types=identify,track|all]
//                  [--seed=42] [--repeat=3] [--truth] [--perf-ctl=CTL_FIFO,ACK_FIFO]
//   --repeat    build the graph (and run the union-find) this many times from
//               empty; the best and the median are printed (shared machine);
//   --truth     check every identifier against the simulator's person map
//               (costs ~250 B/person of ground truth);
//   --perf-ctl  enable `perf record --control=fifo:CTL,ACK -D -1` only
//               around the Apply loop, so a profile shows the graph alone.
//
// Run, not asserted (bench/run.sh).
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collect/normalize.h"
#include "common/config.h"
#include "common/event.h"
#include "identity/graph.h"
#include "identity/rules.h"
#include "sim/sim.h"

namespace quanyu {
namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Resident set size in bytes, from /proc/self/statm (second field, pages).
uint64_t ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// The events as Apply needs them (time, type, messageId, normalized
// identifiers), packed: a full Event is ~1 KB and 10 M of them would not fit.
struct PackedIdentifier {
  uint32_t ns = 0;  // index into EventSet::namespaces
  uint32_t value_size = 0;
  uint64_t value_offset = 0;
};
struct PackedEvent {
  int64_t time_us = 0;
  uint64_t message_offset = 0;
  uint32_t message_size = 0;
  uint32_t first_id = 0;  // index into EventSet::ids
  uint8_t id_count = 0;
  EventType type = EventType::kTrack;
};

class EventSet {
 public:
  // Appends one normalized event. REQUIRES: the caller serializes calls.
  void Add(const Event& e) {
    PackedEvent p;
    p.time_us = e.timestamp_us;
    p.type = e.type;
    p.message_offset = messages_.size();
    p.message_size = static_cast<uint32_t>(e.message_id.size());
    messages_ += e.message_id;
    p.first_id = static_cast<uint32_t>(ids.size());
    p.id_count = static_cast<uint8_t>(std::min<size_t>(e.identifiers.size(), 255));
    for (size_t i = 0; i < p.id_count; ++i) {
      const Identifier& id = e.identifiers[i];
      std::string ns_key = id.ns + '\0' + id.scope;
      auto [it, added] = ns_index_.try_emplace(ns_key, static_cast<uint32_t>(namespaces.size()));
      if (added) namespaces.push_back({id.ns, id.scope});
      ids.push_back({it->second, static_cast<uint32_t>(id.value.size()), values_.size()});
      values_ += id.value;
    }
    events.push_back(p);
  }

  std::string_view MessageOf(const PackedEvent& p) const {
    return std::string_view(messages_).substr(p.message_offset, p.message_size);
  }
  std::string_view ValueOf(const PackedIdentifier& id) const {
    return std::string_view(values_).substr(id.value_offset, id.value_size);
  }

  // Event-time order; equal times by messageId so the order never depends on
  // which simulator thread delivered first.
  void SortByTime() {
    std::sort(events.begin(), events.end(), [&](const PackedEvent& a, const PackedEvent& b) {
      if (a.time_us != b.time_us) return a.time_us < b.time_us;
      return MessageOf(a) < MessageOf(b);
    });
  }

  // Fills `out` (reusing its strings) with events [begin, end).
  void Unpack(size_t begin, size_t end, std::vector<Event>* out) const {
    out->resize(end - begin);
    for (size_t i = begin; i < end; ++i) {
      const PackedEvent& p = events[i];
      Event& e = (*out)[i - begin];
      e.timestamp_us = p.time_us;
      e.type = p.type;
      e.message_id.assign(MessageOf(p));
      e.identifiers.resize(p.id_count);
      for (size_t k = 0; k < p.id_count; ++k) {
        const PackedIdentifier& id = ids[p.first_id + k];
        e.identifiers[k].ns.assign(namespaces[id.ns].first);
        e.identifiers[k].scope.assign(namespaces[id.ns].second);
        e.identifiers[k].value.assign(ValueOf(id));
      }
      e.identity_key = 0;
    }
  }

  size_t MemoryUsage() const {
    return events.capacity() * sizeof(PackedEvent) + ids.capacity() * sizeof(PackedIdentifier) +
           messages_.capacity() + values_.capacity();
  }

  std::vector<PackedEvent> events;
  std::vector<PackedIdentifier> ids;
  std::vector<std::pair<std::string, std::string>> namespaces;  // (ns, scope)

 private:
  std::string messages_, values_;
  std::unordered_map<std::string, uint32_t> ns_index_;
};

// The limit: union-find over dense integers, path halving, union by size.
class UnionFind {
 public:
  explicit UnionFind(size_t n) : parent_(n), size_(n, 1) {
    std::iota(parent_.begin(), parent_.end(), 0u);
  }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  // True if a and b were in different sets.
  bool Union(uint32_t a, uint32_t b) {
    a = Find(a);
    b = Find(b);
    if (a == b) return false;
    if (size_[a] < size_[b]) std::swap(a, b);
    parent_[b] = a;
    size_[a] += size_[b];
    return true;
  }

 private:
  std::vector<uint32_t> parent_, size_;
};

struct Flags {
  int64_t persons = 500'000;
  size_t batch = 2048;
  bool all_types = false;
  uint64_t seed = 42;
  bool truth = false;
  int repeat = 3;
  std::string perf_ctl, perf_ack;
};

// Sends "enable" / "disable" to `perf record --control=fifo:...` and waits
// for its ack, so the samples cover exactly the code between the two.
class PerfControl {
 public:
  PerfControl(const std::string& ctl, const std::string& ack) {
    if (ctl.empty()) return;
    ctl_ = std::fopen(ctl.c_str(), "w");
    if (!ack.empty()) ack_ = std::fopen(ack.c_str(), "r");
  }
  ~PerfControl() {
    if (ctl_) std::fclose(ctl_);
    if (ack_) std::fclose(ack_);
  }
  void Send(const char* command) {
    if (!ctl_) return;
    std::fprintf(ctl_, "%s\n", command);
    std::fflush(ctl_);
    char line[16];
    if (ack_) (void)std::fgets(line, sizeof line, ack_);
  }

 private:
  FILE* ctl_ = nullptr;
  FILE* ack_ = nullptr;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--persons=", 0) == 0) {
      f->persons = std::atoll(arg.c_str() + 10);
    } else if (arg.rfind("--batch=", 0) == 0) {
      f->batch = static_cast<size_t>(std::atoll(arg.c_str() + 8));
    } else if (arg == "--types=all") {
      f->all_types = true;
    } else if (arg == "--types=identify,track") {
      f->all_types = false;
    } else if (arg.rfind("--seed=", 0) == 0) {
      f->seed = std::strtoull(arg.c_str() + 7, nullptr, 10);
    } else if (arg.rfind("--repeat=", 0) == 0) {
      f->repeat = std::atoi(arg.c_str() + 9);
    } else if (arg == "--truth") {
      f->truth = true;
    } else if (arg.rfind("--perf-ctl=", 0) == 0) {
      std::string v = arg.substr(11);
      size_t comma = v.find(',');
      f->perf_ctl = v.substr(0, comma);
      if (comma != std::string::npos) f->perf_ack = v.substr(comma + 1);
    } else {
      return false;
    }
  }
  return f->persons > 0 && f->batch > 0 && f->repeat > 0;
}

// Ground truth check. For every simulated person (with events): into how
// many profiles its identifiers fell, and into how many union-find sets, i.e.
// how many the events' evidence allows with no rules at all (a person whose
// devices never appear on one event together cannot be joined by anyone).
// Also the profiles holding identifiers of two or more persons.
std::string ToString(const EventSet& set, const PackedIdentifier& id) {
  const auto& [ns, scope] = set.namespaces[id.ns];
  std::string s = ns + ":";
  if (!scope.empty()) s += scope + ":";
  s.append(set.ValueOf(id));
  return s;
}

void CheckTruth(const identity::IdentityGraph& graph, const EventSet& set,
                const std::vector<uint32_t>& first_occurrence, UnionFind* uf,
                const nlohmann::json& truth) {
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>> at;
  at.reserve(first_occurrence.size());
  for (uint32_t d = 0; d < first_occurrence.size(); ++d) {
    at.emplace(ToString(set, set.ids[first_occurrence[d]]), std::make_pair(0u, uf->Find(d)));
  }
  size_t keys = graph.Stats().identifiers, unmatched = 0;
  for (identity::IdentKey k = 1; k <= keys; ++k) {
    auto it = at.find(graph.KeyToString(k));
    if (it == at.end()) {
      ++unmatched;
    } else {
      it->second.first = graph.one_ids().Get(k);
    }
  }
  size_t persons = 0, whole = 0, split = 0, unseen = 0, evidence_whole = 0, split_beyond = 0;
  std::unordered_map<uint32_t, size_t> owner;  // one_id → first truth person
  std::unordered_set<uint32_t> mixed;
  for (const auto& p : truth["identity"]["persons"]) {
    ++persons;
    std::unordered_set<uint32_t> profiles, sets;
    for (const auto& id : p["identifiers"]) {
      auto it = at.find(id.get<std::string>());
      if (it == at.end()) continue;
      profiles.insert(it->second.first);
      sets.insert(it->second.second);
    }
    if (profiles.empty()) {
      ++unseen;  // all its identifiers were on event types not kept
      continue;
    }
    (profiles.size() == 1 ? whole : split) += 1;
    if (sets.size() == 1) ++evidence_whole;
    if (profiles.size() > sets.size()) ++split_beyond;
    for (uint32_t o : profiles) {
      auto [it, added] = owner.try_emplace(o, persons);
      if (!added && it->second != persons) mixed.insert(o);
    }
  }
  std::printf("truth persons (with events)            %zu\n", persons);
  std::printf("  in exactly one profile               %zu\n", whole);
  std::printf("  in several profiles                  %zu\n", split);
  std::printf("  joinable at all (one union-find set) %zu\n", evidence_whole);
  std::printf("  split more than the evidence forces  %zu\n", split_beyond);
  std::printf("  no identifier on the kept events     %zu\n", unseen);
  std::printf("profiles holding 2+ truth persons      %zu\n", mixed.size());
  if (unmatched) std::printf("graph keys not found among the events  %zu (a bug)\n", unmatched);
}

int Run(const Flags& flags) {
  // --- Generate and normalize ------------------------------------------------
  Config config;
  collect::Normalizer normalizer(config);
  std::unordered_map<std::string, collect::SourceInfo> sources;
  for (const auto& s : sim::SimulatedSources()) sources[s.name] = {s.name, s.type};

  sim::SimOptions options;
  options.persons = flags.persons;
  options.seed = flags.seed;
  options.identity_truth_max_persons = flags.truth ? flags.persons : 0;
  EventSet set;
  std::mutex set_mu;
  size_t generated = 0, no_identifier = 0;
  auto start = SteadyClock::now();
  auto sink = [&](std::vector<Event>&& batch) -> Status {
    size_t dropped = 0;
    for (Event& e : batch) {
      if (!flags.all_types && e.type != EventType::kTrack && e.type != EventType::kIdentify) {
        continue;
      }
      auto it = sources.find(e.source);
      if (it == sources.end()) return Status::Internal("undeclared source " + e.source);
      normalizer.Normalize(&e, it->second);
      if (e.identifiers.empty()) ++dropped;
    }
    std::lock_guard lock(set_mu);
    generated += batch.size();
    no_identifier += dropped;
    for (const Event& e : batch) {
      if (!flags.all_types && e.type != EventType::kTrack && e.type != EventType::kIdentify) {
        continue;
      }
      if (!e.identifiers.empty()) set.Add(e);
    }
    return Status::OK();
  };
  auto result = sim::RunSimulation(options, sink);
  if (!result.ok()) {
    std::fprintf(stderr, "identity_bench: %s\n", result.status().ToString().c_str());
    return 1;
  }
  set.SortByTime();
  const double prepare_s = Seconds(start);
  const nlohmann::json truth = nlohmann::json::parse(result->ground_truth_json);
  result->ground_truth_json.clear();
  result->ground_truth_json.shrink_to_fit();

  // --- Pre-intern for the union-find (not timed) ------------------------------
  std::vector<uint32_t> dense;  // per event: its identifiers' dense ids, back to back
  dense.reserve(set.ids.size());
  std::vector<uint32_t> first_occurrence;  // dense id → index into set.ids (for --truth)
  size_t distinct = 0;
  {
    std::unordered_map<std::string, uint32_t> intern;
    intern.reserve(set.ids.size() / 2);
    std::string key;
    for (const PackedEvent& p : set.events) {
      for (size_t k = 0; k < p.id_count; ++k) {
        const PackedIdentifier& id = set.ids[p.first_id + k];
        key.assign(reinterpret_cast<const char*>(&id.ns), sizeof(id.ns));
        key.append(set.ValueOf(id));
        auto [it, added] = intern.try_emplace(key, static_cast<uint32_t>(intern.size()));
        if (added && flags.truth) first_occurrence.push_back(p.first_id + static_cast<uint32_t>(k));
        dense.push_back(it->second);
      }
    }
    distinct = intern.size();
  }

  // --- The graph, `repeat` times from empty (the machine is shared) ----------
  std::unique_ptr<identity::IdentityGraph> graph;
  std::vector<double> walls, cpus;
  double rss_delta = 0;
  PerfControl perf(flags.perf_ctl, flags.perf_ack);
  for (int r = 0; r < flags.repeat; ++r) {
    graph.reset();
    malloc_trim(0);
    const uint64_t rss_before = ResidentBytes();
    graph = std::make_unique<identity::IdentityGraph>(identity::IdentityRules::Defaults());
    std::vector<Event> batch;
    double wall = 0, cpu = 0;
    for (size_t begin = 0; begin < set.events.size(); begin += flags.batch) {
      size_t end = std::min(set.events.size(), begin + flags.batch);
      set.Unpack(begin, end, &batch);
      if (r == 0) perf.Send("enable");  // outside the timed part: the ack is a round trip
      auto t0 = SteadyClock::now();
      double c0 = ThreadCpuSeconds();
      graph->Apply(&batch);
      cpu += ThreadCpuSeconds() - c0;
      wall += Seconds(t0);
      if (r == 0) perf.Send("disable");
    }
    batch.clear();
    batch.shrink_to_fit();
    malloc_trim(0);
    if (r == 0) {
      rss_delta = static_cast<double>(ResidentBytes()) - static_cast<double>(rss_before);
    }
    walls.push_back(wall);
    cpus.push_back(cpu);
  }
  const identity::GraphStats stats = graph->Stats();
  std::sort(walls.begin(), walls.end());
  std::sort(cpus.begin(), cpus.end());

  // --- The interner alone (what share of Apply is interning) -----------------
  double intern_cpu = 0;
  {
    identity::IdentifierInterner interner;
    double c0 = ThreadCpuSeconds();
    for (const PackedIdentifier& id : set.ids) {
      const auto& [ns, scope] = set.namespaces[id.ns];
      interner.Intern(interner.InternNamespace(ns, scope), set.ValueOf(id));
    }
    intern_cpu = ThreadCpuSeconds() - c0;
  }

  // --- The limit: union-find ---------------------------------------------------
  std::vector<double> uf_walls, uf_cpus;
  size_t uf_sets = 0;
  std::unique_ptr<UnionFind> uf;
  for (int r = 0; r < flags.repeat; ++r) {
    uf = std::make_unique<UnionFind>(distinct);
    auto t0 = SteadyClock::now();
    double c0 = ThreadCpuSeconds();
    size_t pos = 0, unions = 0;
    for (const PackedEvent& p : set.events) {
      uint32_t first = dense[pos];
      for (size_t k = 1; k < p.id_count; ++k) unions += uf->Union(first, dense[pos + k]);
      pos += p.id_count;
    }
    uf_cpus.push_back(ThreadCpuSeconds() - c0);
    uf_walls.push_back(Seconds(t0));
    uf_sets = distinct - unions;
  }
  std::sort(uf_walls.begin(), uf_walls.end());
  std::sort(uf_cpus.begin(), uf_cpus.end());

  // --- Report ------------------------------------------------------------------
  const auto n_events = static_cast<double>(set.events.size());
  const auto n_links = static_cast<double>(set.ids.size());
  std::printf("persons simulated                      %lld\n",
              static_cast<long long>(result->persons));
  std::printf("persons_with_events (ground truth)     %lld\n",
              truth["persons_with_events"].get<long long>());
  std::printf("events generated                       %zu\n", generated);
  std::printf("%-38s %zu (%zu of those types dropped: no usable identifier)\n",
              flags.all_types ? "events kept (all types)" : "events kept (identify + track)",
              set.events.size(), no_identifier);
  std::printf("identifier occurrences (links)         %zu (%.2f per event)\n", set.ids.size(),
              n_links / n_events);
  std::printf("generate + normalize + sort (s)        %.1f\n", prepare_s);
  std::printf("batch (events per Apply call)          %zu\n", flags.batch);
  auto median = [](const std::vector<double>& v) { return v[v.size() / 2]; };
  char title[64];
  std::snprintf(title, sizeof title, "one thread, %d runs: best (median)", flags.repeat);
  std::printf("\n%-36s %-22s %-22s %-26s %-26s\n", title, "wall s", "cpu s", "links/cpu-s",
              "events/cpu-s");
  auto row = [&](const char* name, const std::vector<double>& w, const std::vector<double>& c) {
    char wall[64], cpu[64], links[64], events[64];
    std::snprintf(wall, sizeof wall, "%.2f (%.2f)", w.front(), median(w));
    std::snprintf(cpu, sizeof cpu, "%.2f (%.2f)", c.front(), median(c));
    std::snprintf(links, sizeof links, "%.0f (%.0f)", n_links / c.front(), n_links / median(c));
    std::snprintf(events, sizeof events, "%.0f (%.0f)", n_events / c.front(), n_events / median(c));
    std::printf("%-36s %-22s %-22s %-26s %-26s\n", name, wall, cpu, links, events);
  };
  row("IdentityGraph::Apply", walls, cpus);
  row("union-find on dense ints (limit)", uf_walls, uf_cpus);
  std::printf("graph links/s wall, best (median)      %.0f (%.0f)\n", n_links / walls.front(),
              n_links / median(walls));
  std::printf("graph events/s wall, best (median)     %.0f (%.0f)\n", n_events / walls.front(),
              n_events / median(walls));
  std::printf("IdentifierInterner::Intern alone       %.2f cpu s, %.0f links/cpu-s\n", intern_cpu,
              n_links / intern_cpu);
  std::printf("GraphStats::links                      %llu\n",
              static_cast<unsigned long long>(stats.links));
  std::printf("\nidentifiers                            %llu (union-find: %zu)\n",
              static_cast<unsigned long long>(stats.identifiers), distinct);
  std::printf("persons found (live)                   %llu (union-find sets: %zu)\n",
              static_cast<unsigned long long>(stats.persons), uf_sets);
  std::printf("aliases                                %llu\n",
              static_cast<unsigned long long>(stats.aliases));
  std::printf("edges kept                             %llu\n",
              static_cast<unsigned long long>(stats.edges));
  std::printf("merges                                 %llu\n",
              static_cast<unsigned long long>(stats.merges));
  std::printf("conflicts (links refused)              %llu\n",
              static_cast<unsigned long long>(stats.conflicts));
  std::printf("rebuilds (late events)                 %llu (late fallbacks %llu)\n",
              static_cast<unsigned long long>(stats.rebuilds),
              static_cast<unsigned long long>(stats.late_fallbacks));
  const auto idents = static_cast<double>(stats.identifiers);
  const auto persons = static_cast<double>(stats.persons);
  std::printf(
      "\nmemory (GraphStats::memory_bytes)      %.1f MB: %.1f B/identifier, %.1f B/person\n",
      static_cast<double>(stats.memory_bytes) / 1e6,
      static_cast<double>(stats.memory_bytes) / idents,
      static_cast<double>(stats.memory_bytes) / persons);
  std::printf("memory (RSS delta, /proc/self/statm)   %.1f MB: %.1f B/identifier, %.1f B/person\n",
              rss_delta / 1e6, rss_delta / idents, rss_delta / persons);
  if (flags.truth) {
    std::printf("\n");
    CheckTruth(*graph, set, first_occurrence, uf.get(), truth);
  }
  return 0;
}

}  // namespace
}  // namespace quanyu

int main(int argc, char** argv) {
  quanyu::Flags flags;
  if (!quanyu::ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: %s [--persons=N] [--batch=N] [--types=identify,track|all] [--seed=N] "
                 "[--repeat=N] [--truth] [--perf-ctl=CTL_FIFO[,ACK_FIFO]]\n",
                 argv[0]);
    return 2;
  }
  return quanyu::Run(flags);
}
