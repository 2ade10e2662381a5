#include "audience/internal/event_scan.h"

#include <simdjson.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "audience/internal/dependencies.h"
#include "audience/window.h"
#include "query/fields.h"
#include "query/filter.h"

namespace quanyu::audience::internal {
namespace {

// Rows of a batch whose event name is `event` and that pass `filter`.
class StepMatcher {
 public:
  static Result<StepMatcher> Make(const Node& step, std::string_view where_name) {
    StepMatcher m;
    m.event_ = step.event;
    ASSIGN_OR_RETURN(auto conds, query::ParseWhere(Json(step.where), where_name));
    m.filter_ = query::RowFilter(std::move(conds));
    return m;
  }
  void AddColumns(store::ColumnSet* cols) const {
    cols->Add(store::Column::kName);
    filter_.AddColumns(cols);
  }
  void Prepare(const store::ColumnBatch& b) {
    const auto& dict = b.Dictionary(store::Column::kName);
    code_ = UINT32_MAX;
    for (size_t i = 0; i < dict.size(); ++i) {
      if (dict[i] == event_) code_ = static_cast<uint32_t>(i);
    }
    if (code_ != UINT32_MAX) filter_.Prepare(b);
  }
  bool Matches(const store::ColumnBatch& b, size_t row) {
    return code_ != UINT32_MAX && b.Codes(store::Column::kName)[row] == code_ &&
           (filter_.empty() || filter_.Matches(b, row));
  }
  bool AnyInBatch() const { return code_ != UINT32_MAX; }

 private:
  std::string event_;
  query::RowFilter filter_;
  uint32_t code_ = UINT32_MAX;
};

// Per-thread tallies of the did() scan, indexed by one_id.
struct Tally {
  bool with_sum = false;
  std::vector<uint32_t> count;
  std::vector<double> sum;  // only with_sum
  Roaring seen;
  void Grow(uint32_t id) {
    if (id >= count.size()) {
      count.resize(std::max<size_t>(id + 1, count.size() * 2));
      if (with_sum) sum.resize(count.size());
    }
  }
};

}  // namespace

Result<Roaring> EvaluateEvent(const Node& n, const query::QueryContext& q, int64_t now_us,
                              const Roaring& universe) {
  ASSIGN_OR_RETURN(query::TimeRange range, ResolveWindow(n.window, now_us, q.options.timezone));
  const int threads = query::QueryThreads(q);
  std::vector<StepMatcher> matchers;
  for (int t = 0; t < threads; ++t) {
    ASSIGN_OR_RETURN(StepMatcher m, StepMatcher::Make(n, "where"));
    matchers.push_back(std::move(m));
  }
  store::ColumnSet cols;
  matchers[0].AddColumns(&cols);
  const bool with_sum = !n.sum_property.empty();
  const query::Field sum_field = query::FieldNamed(n.sum_property);
  if (with_sum) query::FieldReader::AddColumns(sum_field, &cols);
  std::vector<Tally> tallies(threads);
  std::vector<query::FieldReader> readers(threads);
  const size_t persons = q.one_ids->size() + 1;
  for (auto& t : tallies) {
    t.with_sum = with_sum;
    t.Grow(static_cast<uint32_t>(persons));
  }

  RETURN_IF_ERROR(query::ScanRangeParallel(
      q, range, cols, [&](int w, const store::ColumnBatch& b) -> Status {
        StepMatcher& m = matchers[w];
        m.Prepare(b);
        if (!m.AnyInBatch()) return Status::OK();
        Tally& t = tallies[w];
        for (size_t r = 0; r < b.size(); ++r) {
          if (!m.Matches(b, r)) continue;
          const uint32_t id = b.OneId(r);  // only for the rows kept
          if (id == 0) continue;
          t.Grow(id);
          if (t.count[id]++ == 0) t.seen.add(id);
          if (with_sum) {
            query::Value v = readers[w].Read(sum_field, b, r);
            if (v.kind == query::Value::kNumber) t.sum[id] += v.number;
          }
        }
        return Status::OK();
      }));

  Roaring seen;
  for (auto& t : tallies) seen |= t.seen;
  const bool zero_ok = Holds(n.count, 0) && (!with_sum || Holds(n.sum, 0));
  Roaring out;
  std::vector<uint32_t> pass;
  for (uint32_t id : seen) {
    uint64_t c = 0;
    double s = 0;
    for (auto& t : tallies) {
      if (id < t.count.size()) {
        c += t.count[id];
        if (with_sum) s += t.sum[id];
      }
    }
    const bool ok = Holds(n.count, static_cast<double>(c)) && (!with_sum || Holds(n.sum, s));
    if (ok != zero_ok) pass.push_back(id);
  }
  out.addMany(pass.size(), pass.data());
  if (!zero_ok) return out & universe;
  Roaring all = universe;
  all -= out;  // everyone but those whose events make them fail
  return all;
}

Result<Roaring> EvaluateSequence(const Node& n, const query::QueryContext& q, int64_t now_us) {
  ASSIGN_OR_RETURN(query::TimeRange range, ResolveWindow(n.window, now_us, q.options.timezone));
  const int threads = query::QueryThreads(q);
  const size_t steps = n.steps.size();
  if (steps < 2 || steps > 32) return Status::InvalidArgument("sequence: needs 2 to 32 steps");
  std::vector<std::vector<StepMatcher>> matchers(threads);
  store::ColumnSet cols{store::Column::kTimestamp};
  for (int t = 0; t < threads; ++t) {
    for (size_t s = 0; s < steps; ++s) {
      ASSIGN_OR_RETURN(StepMatcher m,
                       StepMatcher::Make(n.steps[s], "steps[" + std::to_string(s) + "].where"));
      m.AddColumns(&cols);
      matchers[t].push_back(std::move(m));
    }
  }
  struct Row {
    uint32_t one_id;
    int64_t ts;
    uint32_t mask;
  };
  std::vector<std::vector<Row>> rows(threads);
  RETURN_IF_ERROR(query::ScanRangeParallel(
      q, range, cols, [&](int w, const store::ColumnBatch& b) -> Status {
        bool any = false;
        for (auto& m : matchers[w]) {
          m.Prepare(b);
          any |= m.AnyInBatch();
        }
        if (!any) return Status::OK();
        const int64_t* ts = b.Int64s(store::Column::kTimestamp);
        for (size_t r = 0; r < b.size(); ++r) {
          uint32_t mask = 0;
          for (size_t s = 0; s < steps; ++s) {
            if (matchers[w][s].Matches(b, r)) mask |= 1u << s;
          }
          if (mask == 0) continue;
          const uint32_t id = b.OneId(r);  // only for the rows kept
          if (id != 0) rows[w].push_back({id, ts[r], mask});
        }
        return Status::OK();
      }));
  std::vector<Row> all;
  for (auto& v : rows) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end(), [](const Row& a, const Row& b) {
    return a.one_id != b.one_id ? a.one_id < b.one_id : a.ts < b.ts;
  });
  const int64_t gap = n.max_gap_seconds * 1000000;
  std::vector<uint32_t> pass;
  std::vector<int64_t> latest(steps);
  for (size_t i = 0; i < all.size();) {
    const uint32_t id = all[i].one_id;
    std::fill(latest.begin(), latest.end(), INT64_MIN);
    bool done = false;
    for (; i < all.size() && all[i].one_id == id; ++i) {
      if (done) continue;
      // Later steps first, so one event never serves as two consecutive steps.
      for (size_t s = steps; s-- > 0;) {
        if (!(all[i].mask >> s & 1)) continue;
        if (s == 0) {
          latest[0] = all[i].ts;
        } else if (latest[s - 1] != INT64_MIN && (gap == 0 || all[i].ts - latest[s - 1] <= gap)) {
          latest[s] = all[i].ts;
        }
      }
      if (latest[steps - 1] != INT64_MIN) {
        pass.push_back(id);
        done = true;
      }
    }
  }
  Roaring out;
  out.addMany(pass.size(), pass.data());
  return out;
}

Status ForEachConsent(const query::QueryContext& q, std::string_view category,
                      const std::function<void(uint32_t, bool)>& fn) {
  struct Choice {
    int64_t ts = INT64_MIN;
    int8_t granted = -1;
  };
  const int threads = query::QueryThreads(q);
  std::vector<std::vector<Choice>> latest(threads);
  std::vector<simdjson::ondemand::parser> parsers(threads);
  store::ColumnSet cols{store::Column::kName, store::Column::kContext, store::Column::kTimestamp};
  const std::string cat(category);
  RETURN_IF_ERROR(query::ScanRangeParallel(
      q, query::TimeRange{INT64_MIN, INT64_MAX}, cols,
      [&](int w, const store::ColumnBatch& b) -> Status {
        const auto& dict = b.Dictionary(store::Column::kName);
        uint32_t code = UINT32_MAX;
        for (size_t i = 0; i < dict.size(); ++i) {
          if (dict[i] == "Consent Updated") code = static_cast<uint32_t>(i);
        }
        if (code == UINT32_MAX) return Status::OK();
        const uint32_t* codes = b.Codes(store::Column::kName);
        const int64_t* ts = b.Int64s(store::Column::kTimestamp);
        for (size_t r = 0; r < b.size(); ++r) {
          if (codes[r] != code) continue;
          const uint32_t id = b.OneId(r);
          if (id == 0) continue;
          simdjson::padded_string json(b.String(store::Column::kContext, r));
          simdjson::ondemand::document doc;
          bool granted = false;
          if (parsers[w].iterate(json).get(doc) != simdjson::SUCCESS) continue;
          if (doc.at_pointer("/consent/categoryPreferences/" + cat).get_bool().get(granted) !=
              simdjson::SUCCESS) {
            continue;
          }
          auto& v = latest[w];
          if (id >= v.size()) v.resize(std::max<size_t>(id + 1, v.size() * 2));
          // Latest wins; at equal times a withdrawal wins (the safer reading).
          if (ts[r] > v[id].ts || (ts[r] == v[id].ts && !granted)) v[id] = {ts[r], granted};
        }
        return Status::OK();
      }));
  size_t n = 0;
  for (auto& v : latest) n = std::max(n, v.size());
  for (size_t id = 0; id < n; ++id) {
    Choice best;
    for (auto& v : latest) {
      if (id >= v.size() || v[id].granted < 0) continue;
      if (v[id].ts > best.ts || (v[id].ts == best.ts && v[id].granted == 0)) best = v[id];
    }
    if (best.granted >= 0) fn(static_cast<uint32_t>(id), best.granted == 1);
  }
  return Status::OK();
}

}  // namespace quanyu::audience::internal
