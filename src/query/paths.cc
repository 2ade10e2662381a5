// Paths: one columnar scan keeps the journey events that pass the request's
// filters as 16-byte rows (time, node id, event-name id), PersonSequences
// groups them per person, and each worker cuts a person's rows into
// sessions, turns each session into at most `steps` node ids and counts the
// distinct paths in its own hash table of node-id arrays. No string is
// touched per event; node names come back only for the answer.
#include "query/paths.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "query/operators.h"
#include "query/sequences.h"

namespace quanyu::query {

// ---- Journeys ---------------------------------------------------------------

bool IsJourneyEventType(EventType t) {
  return t == EventType::kTrack || t == EventType::kPage || t == EventType::kScreen ||
         t == EventType::kTrackSignup;
}

std::string_view JourneyEventName(std::string_view name, EventType t) {
  return name.empty() ? EventTypeName(t) : name;
}

bool IsEventTypeName(std::string_view name) { return EventTypeFromName(name).has_value(); }

std::vector<uint32_t> RanksOf(const Interner& names) {
  std::vector<uint32_t> order(names.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return names.Name(a) < names.Name(b); });
  std::vector<uint32_t> rank(order.size());
  for (uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  return rank;
}

Result<int64_t> ParseSessionIdle(const Json& body, const QueryContext& ctx) {
  if (!body.contains("session_idle")) return ctx.options.session_idle_us;
  return ParseDuration(body["session_idle"], "session_idle");
}

namespace {

using store::Column;

Status Bad(std::string m) { return Status::InvalidArgument(std::move(m)); }

// An event name of a request: a collected name, or a type's name (the name
// of nameless events).
Status CheckJourneyEvent(const QueryContext& ctx, const std::string& name, std::string_view field) {
  if (IsEventTypeName(name)) return Status::OK();
  return CheckEventName(ctx, name, field);
}

struct PathRow {
  int64_t ts = 0;
  uint32_t node = 0;  // id among the node names (event names or channels)
  uint32_t name = 0;  // id among the event names
};
static_assert(sizeof(PathRow) == 16);

// The distinct paths one worker saw: node-id arrays stored back to back and
// found by hash (open addressing), so counting a path allocates nothing once
// the table has grown.
class PathTable {
 public:
  // The index of `nodes`, added if new. Indices are dense, in insertion order.
  uint32_t Insert(std::span<const uint32_t> nodes) {
    if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
    const uint64_t h = Hash(nodes);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint32_t s = slots_[i];
      if (s == 0) {
        const auto index = static_cast<uint32_t>(entries_.size());
        entries_.push_back({h, flat_.size(), static_cast<uint32_t>(nodes.size())});
        flat_.insert(flat_.end(), nodes.begin(), nodes.end());
        slots_[i] = index + 1;
        return index;
      }
      if (entries_[s - 1].hash == h && std::ranges::equal(Nodes(s - 1), nodes)) return s - 1;
    }
  }
  size_t size() const { return entries_.size(); }
  std::span<const uint32_t> Nodes(uint32_t i) const {
    return {flat_.data() + entries_[i].offset, entries_[i].length};
  }

 private:
  struct Entry {
    uint64_t hash;
    size_t offset;
    uint32_t length;
  };
  static uint64_t Hash(std::span<const uint32_t> nodes) {
    uint64_t h = 0x9E3779B97F4A7C15ULL * (nodes.size() + 1);
    for (uint32_t n : nodes) {
      h = (h ^ n) * 0xBF58476D1CE4E5B9ULL;
      h ^= h >> 31;
    }
    return h ^ (h >> 29);
  }
  void Grow() {
    slots_.assign(std::max<size_t>(64, slots_.size() * 2), 0);
    const size_t mask = slots_.size() - 1;
    for (uint32_t e = 0; e < entries_.size(); ++e) {
      size_t i = entries_[e].hash & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = e + 1;
    }
  }

  std::vector<uint32_t> flat_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // entry index + 1; 0 = empty
};

// A Sankey link: source column (0-based) and the node ids at both ends.
uint64_t LinkKey(uint32_t column, uint32_t from, uint32_t to) {
  return uint64_t{column} << 58 | uint64_t{from} << 29 | to;
}

// What one worker counts, and its scratch space.
struct PathWorker {
  PathTable table;
  std::vector<int64_t> persons, sessions;  // per path
  // Per link: how many times persons were counted on it more than once,
  // because several of their distinct paths run through it (a prefix they
  // share). Link persons = sum over its paths of their persons - this.
  std::unordered_map<uint64_t, int64_t> repeated_links;
  std::vector<PathRow> ordered;
  std::vector<uint32_t> nodes, path, person_paths;
  std::vector<uint64_t> person_links;

  // Counters for every path of the table.
  void Fit() {
    persons.resize(table.size(), 0);
    sessions.resize(table.size(), 0);
  }
  void Count(uint32_t path_index, int64_t persons_n, int64_t sessions_n) {
    if (path_index >= persons.size()) {
      persons.resize(path_index + 1, 0);
      sessions.resize(path_index + 1, 0);
    }
    persons[path_index] += persons_n;
    sessions[path_index] += sessions_n;
  }
};

// Runs the per-person half of the query.
class PathBuilder {
 public:
  PathBuilder(const PathsSpec& spec, uint32_t anchor_name, uint32_t start_marker,
              uint32_t end_marker, const std::vector<uint32_t>& name_rank,
              const std::vector<uint32_t>& node_rank)
      : spec_(spec),
        anchor_name_(anchor_name),
        start_marker_(start_marker),
        end_marker_(end_marker),
        name_rank_(name_rank),
        node_rank_(node_rank) {}

  // The column (0-based) of node j of a path of `length` nodes: paths ending
  // at end_event are right-aligned so they all flow into one last node.
  uint32_t Column(size_t j, size_t length) const {
    return static_cast<uint32_t>(spec_.end_event.empty() ? j : spec_.steps - length + j);
  }

  void AddPerson(PathWorker& w, std::span<const PathRow> rows) const {
    rows = InOrder(w, rows);
    w.person_paths.clear();
    const int64_t idle = spec_.scope == PathScope::kSession ? spec_.session_idle_us : INT64_MAX;
    ForEachSession(rows, idle, [&](std::span<const PathRow> session) { AddSession(w, session); });
    if (w.person_paths.empty()) return;
    std::sort(w.person_paths.begin(), w.person_paths.end());
    const bool several = w.person_paths.front() != w.person_paths.back();
    w.person_links.clear();
    for (size_t i = 0; i < w.person_paths.size();) {
      size_t j = i;
      while (j < w.person_paths.size() && w.person_paths[j] == w.person_paths[i]) ++j;
      const uint32_t path = w.person_paths[i];
      w.Count(path, 1, static_cast<int64_t>(j - i));
      if (several) {
        auto nodes = w.table.Nodes(path);
        for (size_t k = 0; k + 1 < nodes.size(); ++k) {
          w.person_links.push_back(LinkKey(Column(k, nodes.size()), nodes[k], nodes[k + 1]));
        }
      }
      i = j;
    }
    // A person counts once per link even when several of their paths share it.
    std::sort(w.person_links.begin(), w.person_links.end());
    for (size_t i = 0; i < w.person_links.size();) {
      size_t j = i + 1;
      while (j < w.person_links.size() && w.person_links[j] == w.person_links[i]) ++j;
      if (j - i > 1) w.repeated_links[w.person_links[i]] += static_cast<int64_t>(j - i - 1);
      i = j;
    }
  }

 private:
  // The rows with same-timestamp runs ordered by event name, then node
  // name: the order the store delivered them in is not part of the answer.
  std::span<const PathRow> InOrder(PathWorker& w, std::span<const PathRow> rows) const {
    bool ties = false;
    for (size_t i = 1; i < rows.size() && !ties; ++i) ties = rows[i].ts == rows[i - 1].ts;
    if (!ties) return rows;
    w.ordered.assign(rows.begin(), rows.end());
    std::sort(w.ordered.begin(), w.ordered.end(), [&](const PathRow& a, const PathRow& b) {
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.name != b.name) return name_rank_[a.name] < name_rank_[b.name];
      return node_rank_[a.node] < node_rank_[b.node];
    });
    return w.ordered;
  }

  void AddSession(PathWorker& w, std::span<const PathRow> rows) const {
    const bool to_end = !spec_.end_event.empty();
    const bool from_start = !spec_.start_event.empty();
    const auto steps = static_cast<size_t>(spec_.steps);
    w.nodes.clear();
    size_t anchor = SIZE_MAX;
    for (const PathRow& r : rows) {
      if (!spec_.collapse_repeats || w.nodes.empty() || w.nodes.back() != r.node) {
        if (anchor != SIZE_MAX && w.nodes.size() - anchor == steps) break;  // path complete
        w.nodes.push_back(r.node);
      }
      if (anchor == SIZE_MAX && (!(to_end || from_start) || r.name == anchor_name_)) {
        anchor = w.nodes.size() - 1;
        if (to_end) break;
      }
    }
    if (anchor == SIZE_MAX) return;
    w.path.clear();
    if (to_end) {
      const size_t first = anchor + 1 > steps ? anchor + 1 - steps : 0;
      if (anchor + 1 - first < steps) w.path.push_back(start_marker_);
      w.path.insert(w.path.end(), w.nodes.begin() + first, w.nodes.begin() + anchor + 1);
    } else {
      const size_t last = std::min(w.nodes.size(), anchor + steps);
      w.path.insert(w.path.end(), w.nodes.begin() + anchor, w.nodes.begin() + last);
      if (w.path.size() < steps) w.path.push_back(end_marker_);
    }
    w.person_paths.push_back(w.table.Insert(w.path));
  }

  const PathsSpec& spec_;
  uint32_t anchor_name_, start_marker_, end_marker_;
  const std::vector<uint32_t>& name_rank_;
  const std::vector<uint32_t>& node_rank_;
};

struct LinkCounts {
  int64_t persons = 0, sessions = 0;
};

}  // namespace

Result<PathsSpec> ParsePathsSpec(const Json& body, const QueryContext& ctx) {
  PathsSpec s;
  ASSIGN_OR_RETURN(const TimeZone tz, ParseTimeZone(body, ctx.options.timezone));
  ASSIGN_OR_RETURN(s.range, ParseRange(body, tz));
  ASSIGN_OR_RETURN(s.start_event, ParseString(body, "start_event", false));
  ASSIGN_OR_RETURN(s.end_event, ParseString(body, "end_event", false));
  if (!s.start_event.empty() && !s.end_event.empty()) {
    return Bad(
        "start_event and end_event cannot both be given: paths start at one event or end "
        "at one");
  }
  if (!s.start_event.empty()) RETURN_IF_ERROR(CheckJourneyEvent(ctx, s.start_event, "start_event"));
  if (!s.end_event.empty()) RETURN_IF_ERROR(CheckJourneyEvent(ctx, s.end_event, "end_event"));
  ASSIGN_OR_RETURN(const std::string granularity,
                   ParseChoice(body, "granularity", {"event", "channel"}));
  s.granularity = granularity == "channel" ? PathGranularity::kChannel : PathGranularity::kEvent;
  ASSIGN_OR_RETURN(const std::string scope, ParseChoice(body, "scope", {"session", "journey"}));
  s.scope = scope == "journey" ? PathScope::kJourney : PathScope::kSession;
  ASSIGN_OR_RETURN(s.session_idle_us, ParseSessionIdle(body, ctx));
  ASSIGN_OR_RETURN(const int64_t steps, ParseInt(body, "steps", 5, 2, kMaxPathSteps));
  s.steps = static_cast<int>(steps);
  ASSIGN_OR_RETURN(const int64_t top, ParseInt(body, "top", 20, 1, 1000));
  s.top = static_cast<int>(top);
  ASSIGN_OR_RETURN(s.min_persons, ParseInt(body, "min_persons", 1, 1, INT64_MAX));
  if (body.contains("collapse_repeats")) {
    if (!body["collapse_repeats"].is_boolean())
      return Bad("collapse_repeats must be true or false");
    s.collapse_repeats = body["collapse_repeats"].get<bool>();
  }
  if (body.contains("exclude") && !body["exclude"].is_null()) {
    const Json& ex = body["exclude"];
    if (!ex.is_array()) return Bad("exclude must be an array of event names");
    for (size_t i = 0; i < ex.size(); ++i) {
      const std::string field = "exclude[" + std::to_string(i) + "]";
      if (!ex[i].is_string() || ex[i].get<std::string>().empty()) {
        return Bad(field + " must be a non-empty event name");
      }
      s.exclude.push_back(ex[i].get<std::string>());
      RETURN_IF_ERROR(CheckJourneyEvent(ctx, s.exclude.back(), field));
    }
  }
  ASSIGN_OR_RETURN(s.where, ParseWhere(body.contains("where") ? body["where"] : Json(), "where"));
  for (size_t i = 0; i < s.where.size(); ++i) {
    RETURN_IF_ERROR(
        CheckProperty(ctx, "", s.where[i].field.name, "where[" + std::to_string(i) + "].property"));
  }
  return s;
}

namespace {

// The names node and event-name ids stand for, interned as the scan meets
// them; the markers come first.
struct PathNames {
  explicit PathNames(const PathsSpec& spec)
      : by_channel(spec.granularity == PathGranularity::kChannel) {
    start_marker = nodes().Intern(kPathStartMarker);
    end_marker = nodes().Intern(kPathEndMarker);
    no_name = names.Intern("");
    no_channel = channels.Intern("");
    for (int t = 0; t < kEventTypeCount; ++t) {
      type_names[t] = names.Intern(EventTypeName(static_cast<EventType>(t)));
    }
    const std::string& anchor = spec.start_event.empty() ? spec.end_event : spec.start_event;
    anchor_name = anchor.empty() ? no_name : names.Intern(anchor);
    for (const auto& e : spec.exclude) {
      const uint32_t id = names.Intern(e);
      if (id >= excluded.size()) excluded.resize(id + 1, 0);
      excluded[id] = 1;
    }
  }
  Interner& nodes() { return by_channel ? channels : names; }

  bool by_channel;
  Interner names, channels;
  uint32_t start_marker, end_marker, no_name, no_channel, anchor_name;
  std::array<uint32_t, kEventTypeCount> type_names{};
  std::vector<char> excluded;  // by name id
};

// Scans the range into per-person rows: journey events with an identity
// that pass exclude, where and (by channel) have a channel.
Status ScanJourneys(const PathsSpec& spec, const QueryContext& ctx, PathNames* n,
                    PersonSequences<PathRow>* sequences) {
  store::ColumnSet columns{Column::kTimestamp, Column::kName, Column::kType};
  if (n->by_channel) columns.Add(Column::kChannel);
  RowFilter filter(spec.where);
  filter.AddColumns(&columns);
  std::vector<uint32_t> name_of, channel_of;
  return ScanRange(ctx, spec.range, columns, [&](const store::ColumnBatch& b) {
    n->names.Translate(b.Dictionary(Column::kName), &name_of);
    if (n->by_channel) n->channels.Translate(b.Dictionary(Column::kChannel), &channel_of);
    if (!filter.empty()) filter.Prepare(b);
    const uint32_t* one_ids = b.one_ids();
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    const uint8_t* types = b.Types();
    const uint32_t* name_codes = b.Codes(Column::kName);
    const uint32_t* channel_codes = n->by_channel ? b.Codes(Column::kChannel) : nullptr;
    for (size_t i = 0; i < b.size(); ++i) {
      if (one_ids[i] == 0 || !IsJourneyEventType(static_cast<EventType>(types[i]))) continue;
      uint32_t name = name_of[name_codes[i]];
      if (name == n->no_name) name = n->type_names[types[i]];
      if (name < n->excluded.size() && n->excluded[name]) continue;
      const uint32_t node = n->by_channel ? channel_of[channel_codes[i]] : name;
      if (n->by_channel && node == n->no_channel) continue;
      if (!filter.empty() && !filter.Matches(b, i)) continue;
      sequences->Add(one_ids[i], PathRow{ts[i], node, name});
    }
    return Status::OK();
  });
}

// Runs the builder over every person on ctx.options.threads workers and
// merges what they counted into the first.
PathWorker CountPaths(const PathBuilder& builder, const PersonSequences<PathRow>& sequences,
                      const QueryContext& ctx) {
  const int threads = std::max(1, ctx.options.threads);
  std::vector<PathWorker> workers(static_cast<size_t>(threads));
  sequences.ForEachPerson(threads, [&](int w, size_t, std::span<const PathRow> rows) {
    builder.AddPerson(workers[static_cast<size_t>(w)], rows);
  });
  PathWorker& all = workers[0];
  for (size_t w = 1; w < workers.size(); ++w) {
    const PathWorker& other = workers[w];
    for (uint32_t p = 0; p < other.table.size(); ++p) {
      all.Count(all.table.Insert(other.table.Nodes(p)), other.persons[p], other.sessions[p]);
    }
    for (const auto& [key, n] : other.repeated_links) all.repeated_links[key] += n;
  }
  all.Fit();
  return std::move(all);
}

// The `top` paths by persons, sessions, then node names.
std::vector<PathCount> TopPaths(const PathWorker& all, const Interner& node_names, int top_n) {
  std::vector<uint32_t> ranked(all.table.size());
  for (uint32_t p = 0; p < ranked.size(); ++p) ranked[p] = p;
  auto by_names = [&](uint32_t a, uint32_t b) {
    auto na = all.table.Nodes(a), nb = all.table.Nodes(b);
    return std::lexicographical_compare(
        na.begin(), na.end(), nb.begin(), nb.end(),
        [&](uint32_t x, uint32_t y) { return node_names.Name(x) < node_names.Name(y); });
  };
  const size_t top = std::min(ranked.size(), static_cast<size_t>(top_n));
  std::partial_sort(ranked.begin(), ranked.begin() + top, ranked.end(),
                    [&](uint32_t a, uint32_t b) {
                      if (all.persons[a] != all.persons[b]) return all.persons[a] > all.persons[b];
                      if (all.sessions[a] != all.sessions[b])
                        return all.sessions[a] > all.sessions[b];
                      return by_names(a, b);
                    });
  std::vector<PathCount> out;
  for (size_t i = 0; i < top; ++i) {
    PathCount pc;
    for (uint32_t n : all.table.Nodes(ranked[i])) pc.nodes.push_back(node_names.Name(n));
    pc.persons = all.persons[ranked[i]];
    pc.sessions = all.sessions[ranked[i]];
    out.push_back(std::move(pc));
  }
  return out;
}

uint32_t ColumnOf(uint64_t link) { return static_cast<uint32_t>(link >> 58); }
uint32_t FromOf(uint64_t link) { return static_cast<uint32_t>(link >> 29 & ((1u << 29) - 1)); }
uint32_t ToOf(uint64_t link) { return static_cast<uint32_t>(link & ((1u << 29) - 1)); }

// The Sankey over all paths: links at or above min_persons and their ends.
void AddSankey(const PathWorker& all, const PathBuilder& builder, const Interner& node_names,
               int64_t min_persons, PathsResult* result) {
  std::unordered_map<uint64_t, LinkCounts> links;
  for (uint32_t p = 0; p < all.table.size(); ++p) {
    auto nodes = all.table.Nodes(p);
    for (size_t k = 0; k + 1 < nodes.size(); ++k) {
      LinkCounts& c = links[LinkKey(builder.Column(k, nodes.size()), nodes[k], nodes[k + 1])];
      c.persons += all.persons[p];
      c.sessions += all.sessions[p];
    }
  }
  for (const auto& [key, n] : all.repeated_links) links[key].persons -= n;

  std::vector<std::pair<uint64_t, LinkCounts>> kept;
  for (const auto& [key, c] : links) {
    if (c.persons >= min_persons) kept.emplace_back(key, c);
  }
  std::sort(kept.begin(), kept.end(), [&](const auto& a, const auto& b) {
    if (ColumnOf(a.first) != ColumnOf(b.first)) return ColumnOf(a.first) < ColumnOf(b.first);
    if (a.second.persons != b.second.persons) return a.second.persons > b.second.persons;
    const std::string &fa = node_names.Name(FromOf(a.first)),
                      &fb = node_names.Name(FromOf(b.first));
    if (fa != fb) return fa < fb;
    return node_names.Name(ToOf(a.first)) < node_names.Name(ToOf(b.first));
  });
  auto node_id = [&](uint32_t column, uint32_t node) {
    return std::to_string(column + 1) + ":" + node_names.Name(node);
  };
  std::vector<std::pair<uint32_t, uint32_t>> ends;  // (column, node)
  for (const auto& [key, c] : kept) {
    const uint32_t column = ColumnOf(key), from = FromOf(key), to = ToOf(key);
    result->links.push_back(
        {node_id(column, from), node_id(column + 1, to), c.persons, c.sessions});
    ends.emplace_back(column, from);
    ends.emplace_back(column + 1, to);
  }
  std::sort(ends.begin(), ends.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return node_names.Name(a.second) < node_names.Name(b.second);
  });
  ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
  for (const auto& [column, node] : ends) {
    result->nodes.push_back(
        {node_id(column, node), node_names.Name(node), static_cast<int>(column + 1)});
  }
}

}  // namespace

Result<PathsResult> ComputePaths(const PathsSpec& spec, const QueryContext& ctx) {
  PathNames names(spec);
  PersonSequences<PathRow> sequences;
  RETURN_IF_ERROR(ScanJourneys(spec, ctx, &names, &sequences));
  sequences.Build(QueryThreads(ctx));
  const std::vector<uint32_t> name_rank = RanksOf(names.names);
  const std::vector<uint32_t> channel_rank = names.by_channel ? RanksOf(names.channels) : name_rank;
  const PathBuilder builder(spec, names.anchor_name, names.start_marker, names.end_marker,
                            name_rank, channel_rank);
  const PathWorker all = CountPaths(builder, sequences, ctx);
  PathsResult result;
  result.paths = TopPaths(all, names.nodes(), spec.top);
  AddSankey(all, builder, names.nodes(), spec.min_persons, &result);
  return result;
}

Json ToJson(const PathsResult& r) {
  Json paths = Json::array();
  for (const auto& p : r.paths) {
    paths.push_back({{"nodes", p.nodes}, {"persons", p.persons}, {"sessions", p.sessions}});
  }
  Json nodes = Json::array(), links = Json::array();
  for (const auto& n : r.nodes) nodes.push_back({{"id", n.id}, {"name", n.name}, {"step", n.step}});
  for (const auto& l : r.links) {
    links.push_back({{"source", l.source},
                     {"target", l.target},
                     {"persons", l.persons},
                     {"sessions", l.sessions}});
  }
  return {{"paths", std::move(paths)},
          {"sankey", {{"nodes", std::move(nodes)}, {"links", std::move(links)}}}};
}

Result<Json> RunPaths(const Json& body, const QueryContext& ctx) {
  ASSIGN_OR_RETURN(const PathsSpec spec, ParsePathsSpec(body, ctx));
  ASSIGN_OR_RETURN(const PathsResult result, ComputePaths(spec, ctx));
  return ToJson(result);
}

}  // namespace quanyu::query
