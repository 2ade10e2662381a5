#include "audience/internal/event_scan.h"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "audience/internal/attribute_compare.h"
#include "audience/internal/dependencies.h"
#include "audience/window.h"
#include "privacy/consent.h"
#include "query/fields.h"
#include "query/filter.h"

namespace quanyu::audience::internal {
namespace {

bool InRange(const query::TimeRange& r, int64_t ts) { return ts >= r.from_us && ts < r.to_us; }

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

// ---- did(...) -------------------------------------------------------------------

// Matching events per person, indexed by one_id.
struct Tally {
  bool with_sum = false;
  std::vector<uint32_t> count;
  std::vector<double> sum;  // only with_sum
  void Grow(uint32_t id) {
    if (id >= count.size()) {
      count.resize(std::max<size_t>(id + 1, count.size() * 2));
      if (with_sum) sum.resize(count.size());
    }
  }
};

// What one did() condition reads of a row and how it decides a person.
class DidFolder {
 public:
  static Result<DidFolder> Make(const Node& n) {
    DidFolder f;
    ASSIGN_OR_RETURN(f.matcher_, StepMatcher::Make(n, "where"));
    f.node_ = &n;
    f.sum_field_ = query::FieldNamed(n.sum_property);
    return f;
  }
  bool with_sum() const { return !node_->sum_property.empty(); }
  void AddColumns(store::ColumnSet* cols) const {
    matcher_.AddColumns(cols);
    if (with_sum()) query::FieldReader::AddColumns(sum_field_, cols);
  }
  // Adds the batch's matching rows (only those in `range`, if given) to `t`;
  // `seen` gets each person counted.
  void Fold(const store::ColumnBatch& b, const query::TimeRange* range, Tally* t, Roaring* seen) {
    matcher_.Prepare(b);
    if (!matcher_.AnyInBatch()) return;
    const int64_t* ts = range ? b.Int64s(store::Column::kTimestamp) : nullptr;
    for (size_t r = 0; r < b.size(); ++r) {
      if (!matcher_.Matches(b, r) || (range && !InRange(*range, ts[r]))) continue;
      const uint32_t id = b.OneId(r);  // only for the rows kept
      if (id == 0) continue;
      t->Grow(id);
      if (t->count[id]++ == 0 && seen) seen->add(id);
      if (with_sum()) {
        query::Value v = reader_.Read(sum_field_, b, r);
        if (v.kind == query::Value::kNumber) t->sum[id] += v.number;
      }
    }
  }
  bool Satisfied(uint64_t count, double sum) const {
    return Holds(node_->count, static_cast<double>(count)) &&
           (!with_sum() || Holds(node_->sum, sum));
  }

 private:
  const Node* node_ = nullptr;  // outlives the folder (DidState owns its copy)
  StepMatcher matcher_;
  query::Field sum_field_;
  query::FieldReader reader_;
};

class DidState final : public LeafState {
 public:
  DidState(const Node& n, query::TimeRange range) : node_(n), range_(range) {}
  Status Init(Tally tally) {
    ASSIGN_OR_RETURN(folder_, DidFolder::Make(node_));
    tally_ = std::move(tally);
    return Status::OK();
  }
  void Fold(const store::ColumnBatch& b) override { folder_.Fold(b, &range_, &tally_, nullptr); }
  void Decide(const Roaring& persons, Roaring* bits) const override {
    for (uint32_t id : persons) {
      const bool in =
          id < tally_.count.size()
              ? folder_.Satisfied(tally_.count[id], tally_.with_sum ? tally_.sum[id] : 0)
              : folder_.Satisfied(0, 0);
      if (in) {
        bits->add(id);
      } else {
        bits->remove(id);
      }
    }
  }
  void Merge(uint32_t survivor, uint32_t absorbed) override {
    if (absorbed >= tally_.count.size()) return;
    tally_.Grow(survivor);
    tally_.count[survivor] += tally_.count[absorbed];
    tally_.count[absorbed] = 0;
    if (tally_.with_sum) {
      tally_.sum[survivor] += tally_.sum[absorbed];
      tally_.sum[absorbed] = 0;
    }
  }
  store::ColumnSet columns() const override {
    store::ColumnSet cols{store::Column::kTimestamp};
    folder_.AddColumns(&cols);
    return cols;
  }
  size_t bytes() const override {
    return tally_.count.capacity() * sizeof(uint32_t) + tally_.sum.capacity() * sizeof(double);
  }

 private:
  const Node node_;
  const query::TimeRange range_;
  DidFolder folder_;
  Tally tally_;
};

// ---- sequence(...) -----------------------------------------------------------------

struct StepRow {
  uint32_t one_id;
  int64_t ts;
  uint32_t mask;  // bit s: the row matches step s
};

// By person, then time; at equal times earlier steps first, so that steps
// at the same instant chain in order.
bool StepRowBefore(const StepRow& a, const StepRow& b) {
  if (a.one_id != b.one_id) return a.one_id < b.one_id;
  if (a.ts != b.ts) return a.ts < b.ts;
  return std::countr_zero(a.mask) < std::countr_zero(b.mask);
}

class StepCollector {
 public:
  static Result<StepCollector> Make(const Node& n) {
    StepCollector c;
    for (size_t s = 0; s < n.steps.size(); ++s) {
      ASSIGN_OR_RETURN(StepMatcher m,
                       StepMatcher::Make(n.steps[s], "steps[" + std::to_string(s) + "].where"));
      c.matchers_.push_back(std::move(m));
    }
    return c;
  }
  void AddColumns(store::ColumnSet* cols) const {
    cols->Add(store::Column::kTimestamp);
    for (const auto& m : matchers_) m.AddColumns(cols);
  }
  void Collect(const store::ColumnBatch& b, const query::TimeRange* range,
               std::vector<StepRow>* out) {
    bool any = false;
    for (auto& m : matchers_) {
      m.Prepare(b);
      any |= m.AnyInBatch();
    }
    if (!any) return;
    const int64_t* ts = b.Int64s(store::Column::kTimestamp);
    for (size_t r = 0; r < b.size(); ++r) {
      if (range && !InRange(*range, ts[r])) continue;
      uint32_t mask = 0;
      for (size_t s = 0; s < matchers_.size(); ++s) {
        if (matchers_[s].Matches(b, r)) mask |= 1u << s;
      }
      if (mask == 0) continue;
      const uint32_t id = b.OneId(r);  // only for the rows kept
      if (id != 0) out->push_back({id, ts[r], mask});
    }
  }

 private:
  std::vector<StepMatcher> matchers_;
};

// Whether one person's rows (sorted by StepRowBefore) complete the steps.
bool Chains(const StepRow* rows, size_t n, size_t steps, int64_t gap_us) {
  int64_t latest[32];
  std::fill(latest, latest + steps, INT64_MIN);
  for (size_t i = 0; i < n; ++i) {
    // Later steps first, so one event never serves as two consecutive steps.
    for (size_t s = steps; s-- > 0;) {
      if (!(rows[i].mask >> s & 1)) continue;
      if (s == 0) {
        latest[0] = rows[i].ts;
      } else if (latest[s - 1] != INT64_MIN &&
                 (gap_us == 0 || rows[i].ts - latest[s - 1] <= gap_us)) {
        latest[s] = rows[i].ts;
      }
    }
    if (latest[steps - 1] != INT64_MIN) return true;
  }
  return false;
}

class SequenceState final : public LeafState {
 public:
  SequenceState(const Node& n, query::TimeRange range, std::vector<StepRow> rows)
      : node_(n), range_(range), rows_(std::move(rows)) {}
  Status Init() {
    ASSIGN_OR_RETURN(collector_, StepCollector::Make(node_));
    return Status::OK();
  }
  void Fold(const store::ColumnBatch& b) override {
    std::vector<StepRow> fresh;
    collector_.Collect(b, &range_, &fresh);
    for (const StepRow& r : fresh) added_[r.one_id].push_back(r);
    added_rows_ += fresh.size();
    if (added_rows_ > std::max<size_t>(4096, rows_.size() / 4)) {          // fold the additions in
      std::erase_if(rows_, [](const StepRow& r) { return r.mask == 0; });  // merged away
      for (auto& [id, v] : added_) rows_.insert(rows_.end(), v.begin(), v.end());
      std::sort(rows_.begin(), rows_.end(), StepRowBefore);
      added_.clear();
      added_rows_ = 0;
    }
  }
  void Decide(const Roaring& persons, Roaring* bits) const override {
    std::vector<StepRow> mine;
    for (uint32_t id : persons) {
      auto [lo, hi] =
          std::equal_range(rows_.begin(), rows_.end(), StepRow{id, 0, 0},
                           [](const StepRow& a, const StepRow& b) { return a.one_id < b.one_id; });
      mine.assign(lo, hi);
      if (auto it = added_.find(id); it != added_.end()) {
        mine.insert(mine.end(), it->second.begin(), it->second.end());
      }
      std::sort(mine.begin(), mine.end(), StepRowBefore);
      if (Chains(mine.data(), mine.size(), node_.steps.size(), node_.max_gap_seconds * 1000000)) {
        bits->add(id);
      } else {
        bits->remove(id);
      }
    }
  }
  void Merge(uint32_t survivor, uint32_t absorbed) override {
    // The absorbed rows move to the survivor's additions; in rows_ they stay
    // in place (its order is by one_id) with no step left.
    auto [lo, hi] =
        std::equal_range(rows_.begin(), rows_.end(), StepRow{absorbed, 0, 0},
                         [](const StepRow& a, const StepRow& b) { return a.one_id < b.one_id; });
    std::vector<StepRow>& to = added_[survivor];
    for (auto it = lo; it != hi; ++it) {
      if (it->mask == 0) continue;
      to.push_back({survivor, it->ts, it->mask});
      it->mask = 0;
      ++added_rows_;
    }
    if (auto it = added_.find(absorbed); it != added_.end()) {
      for (const StepRow& r : it->second) to.push_back({survivor, r.ts, r.mask});
      added_.erase(it);  // its rows were counted in added_rows_ already
    }
  }
  store::ColumnSet columns() const override {
    store::ColumnSet cols;
    collector_.AddColumns(&cols);
    return cols;
  }
  size_t bytes() const override { return (rows_.capacity() + 2 * added_rows_) * sizeof(StepRow); }

 private:
  const Node node_;
  const query::TimeRange range_;
  StepCollector collector_;
  std::vector<StepRow> rows_;                       // sorted by StepRowBefore
  std::map<uint32_t, std::vector<StepRow>> added_;  // rows applied since, by person
  size_t added_rows_ = 0;
};

// ---- consent.* -------------------------------------------------------------------

struct Choice {
  int64_t ts = INT64_MIN;
  int8_t granted = -1;  // -1: none
};

// Latest wins; at equal times a withdrawal wins (the safer reading).
void Choose(Choice* c, int64_t ts, bool granted) {
  if (ts > c->ts || (ts == c->ts && !granted)) *c = {ts, static_cast<int8_t>(granted)};
}

// Reads the choices for consent.CATEGORY the way the consent ledger does
// (privacy::DecisionsOf): Segment context.consent — categoryPreferences,
// and Quanyu's "purposes" / "channels" — on any event, and Sensors'
// "$consent" in properties or traits; so decisions made through POST
// /api/v1/consent, a withdrawal request or Sensors count too. CATEGORY is a
// purpose, a channel or a consent-manager category name
// (privacy::TopicNamed); a name it does not know is read as a raw
// categoryPreferences key.
class ConsentFolder {
 public:
  explicit ConsentFolder(std::string category)
      : category_(std::move(category)), topic_(privacy::TopicNamed(category_)) {}
  static void AddColumns(store::ColumnSet* cols) {
    cols->Add(store::Column::kContext);
    cols->Add(store::Column::kProperties);
    cols->Add(store::Column::kTraits);
    cols->Add(store::Column::kTimestamp);
  }
  void Fold(const store::ColumnBatch& b, std::vector<Choice>* latest) {
    const int64_t* ts = b.Int64s(store::Column::kTimestamp);
    Event e;
    for (size_t r = 0; r < b.size(); ++r) {
      const uint32_t id = b.OneId(r);
      if (id == 0) continue;
      // Almost no event carries consent: a substring test before any parse.
      std::string_view context = b.String(store::Column::kContext, r);
      std::string_view properties = b.String(store::Column::kProperties, r);
      std::string_view traits = b.String(store::Column::kTraits, r);
      const bool in_context = context.find("\"consent\"") != std::string_view::npos;
      if (!in_context && properties.find("\"$consent\"") == std::string_view::npos &&
          traits.find("\"$consent\"") == std::string_view::npos) {
        continue;
      }
      int8_t granted = -1;
      if (topic_) {
        e.timestamp_us = ts[r];
        e.context_json.assign(context);
        e.properties_json.assign(properties);
        e.traits_json.assign(traits);
        for (const auto& d : privacy::DecisionsOf(e)) {
          if (d.topic != *topic_) continue;
          const bool yes = d.status == privacy::ConsentStatus::kGranted;
          if (granted < 0 || !yes) granted = yes;  // within one event a refusal wins
        }
      } else if (in_context) {
        simdjson::padded_string json(context);
        simdjson::ondemand::document doc;
        bool value = false;
        if (parser_.iterate(json).get(doc) == simdjson::SUCCESS &&
            doc.at_pointer("/consent/categoryPreferences/" + category_).get_bool().get(value) ==
                simdjson::SUCCESS) {
          granted = value;
        }
      }
      if (granted < 0) continue;
      if (id >= latest->size()) latest->resize(std::max<size_t>(id + 1, latest->size() * 2));
      Choose(&(*latest)[id], ts[r], granted == 1);
    }
  }

 private:
  std::string category_;
  std::optional<privacy::Topic> topic_;
  simdjson::ondemand::parser parser_;
};

// The latest choices of every person (indexed by one_id) from a parallel scan.
Result<std::vector<Choice>> LatestChoices(const query::QueryContext& q, std::string_view category,
                                          uint64_t* covered_lsn) {
  const int threads = query::QueryThreads(q);
  std::vector<std::vector<Choice>> latest(threads);
  std::vector<ConsentFolder> folders;
  for (int t = 0; t < threads; ++t) folders.emplace_back(std::string(category));
  store::ColumnSet cols;
  ConsentFolder::AddColumns(&cols);
  RETURN_IF_ERROR(query::ScanRangeParallel(
      q, query::TimeRange{INT64_MIN, INT64_MAX}, cols,
      [&](int w, const store::ColumnBatch& b) -> Status {
        folders[w].Fold(b, &latest[w]);
        return Status::OK();
      },
      covered_lsn));
  std::vector<Choice> out;
  for (auto& v : latest) {
    if (v.size() > out.size()) out.resize(v.size());
    for (size_t id = 0; id < v.size(); ++id) {
      if (v[id].granted >= 0) Choose(&out[id], v[id].ts, v[id].granted == 1);
    }
  }
  return out;
}

class ConsentState final : public LeafState {
 public:
  ConsentState(const Node& n, int64_t now_us, std::vector<Choice> latest)
      : node_(n), now_us_(now_us), folder_(n.name), latest_(std::move(latest)) {}
  bool Satisfied(uint32_t id) const {
    if (id >= latest_.size() || latest_[id].granted < 0) return MissingSatisfies(node_.op);
    return Satisfies(Json(latest_[id].granted == 1), node_.op, node_.values, now_us_);
  }
  void Fold(const store::ColumnBatch& b) override { folder_.Fold(b, &latest_); }
  void Decide(const Roaring& persons, Roaring* bits) const override {
    for (uint32_t id : persons) {
      if (Satisfied(id)) {
        bits->add(id);
      } else {
        bits->remove(id);
      }
    }
  }
  void Merge(uint32_t survivor, uint32_t absorbed) override {
    if (absorbed >= latest_.size() || latest_[absorbed].granted < 0) return;
    if (survivor >= latest_.size()) latest_.resize(survivor + 1);
    Choose(&latest_[survivor], latest_[absorbed].ts, latest_[absorbed].granted == 1);
    latest_[absorbed] = Choice();
  }
  store::ColumnSet columns() const override {
    store::ColumnSet cols;
    ConsentFolder::AddColumns(&cols);
    return cols;
  }
  size_t bytes() const override { return latest_.capacity() * sizeof(Choice); }

 private:
  const Node node_;
  const int64_t now_us_;
  ConsentFolder folder_;
  std::vector<Choice> latest_;
};

}  // namespace

Result<LeafResult> EvaluateEvent(const Node& n, const query::QueryContext& q, int64_t now_us,
                                 const Roaring& universe) {
  ASSIGN_OR_RETURN(query::TimeRange range, ResolveWindow(n.window, now_us, q.options.timezone));
  const int threads = query::QueryThreads(q);
  std::vector<DidFolder> folders;
  for (int t = 0; t < threads; ++t) {
    ASSIGN_OR_RETURN(DidFolder f, DidFolder::Make(n));
    folders.push_back(std::move(f));
  }
  store::ColumnSet cols;
  folders[0].AddColumns(&cols);
  std::vector<Tally> tallies(threads);
  std::vector<Roaring> seen(threads);
  const size_t persons = q.one_ids->size() + 1;
  for (auto& t : tallies) {
    t.with_sum = folders[0].with_sum();
    t.Grow(static_cast<uint32_t>(persons));
  }
  LeafResult out;
  RETURN_IF_ERROR(query::ScanRangeParallel(
      q, range, cols,
      [&](int w, const store::ColumnBatch& b) -> Status {
        folders[w].Fold(b, nullptr, &tallies[w], &seen[w]);
        return Status::OK();
      },
      &out.covered_lsn));

  // One tally of the whole scan, kept as the condition's state.
  Tally total = std::move(tallies[0]);
  for (int t = 1; t < threads; ++t) {
    for (uint32_t id : seen[t]) {
      total.Grow(id);
      total.count[id] += tallies[t].count[id];
      if (total.with_sum) total.sum[id] += tallies[t].sum[id];
    }
    seen[0] |= seen[t];
    tallies[t] = Tally();
  }
  const bool zero_ok = folders[0].Satisfied(0, 0);
  std::vector<uint32_t> pass;
  for (uint32_t id : seen[0]) {
    const bool ok = folders[0].Satisfied(total.count[id], total.with_sum ? total.sum[id] : 0);
    if (ok != zero_ok) pass.push_back(id);
  }
  Roaring decided;
  decided.addMany(pass.size(), pass.data());
  if (zero_ok) {
    out.bits = universe;
    out.bits -= decided;  // everyone but those whose events make them fail
  } else {
    out.bits = decided & universe;
  }
  auto state = std::make_unique<DidState>(n, range);
  RETURN_IF_ERROR(state->Init(std::move(total)));
  out.state = std::move(state);
  return out;
}

Result<LeafResult> EvaluateSequence(const Node& n, const query::QueryContext& q, int64_t now_us) {
  ASSIGN_OR_RETURN(query::TimeRange range, ResolveWindow(n.window, now_us, q.options.timezone));
  const int threads = query::QueryThreads(q);
  const size_t steps = n.steps.size();
  if (steps < 2 || steps > 32) return Status::InvalidArgument("sequence: needs 2 to 32 steps");
  std::vector<StepCollector> collectors;
  for (int t = 0; t < threads; ++t) {
    ASSIGN_OR_RETURN(StepCollector c, StepCollector::Make(n));
    collectors.push_back(std::move(c));
  }
  store::ColumnSet cols;
  collectors[0].AddColumns(&cols);
  std::vector<std::vector<StepRow>> rows(threads);
  LeafResult out;
  RETURN_IF_ERROR(query::ScanRangeParallel(
      q, range, cols,
      [&](int w, const store::ColumnBatch& b) -> Status {
        collectors[w].Collect(b, nullptr, &rows[w]);
        return Status::OK();
      },
      &out.covered_lsn));
  std::vector<StepRow> all;
  for (auto& v : rows) all.insert(all.end(), v.begin(), v.end());
  rows.clear();
  std::sort(all.begin(), all.end(), StepRowBefore);
  const int64_t gap = n.max_gap_seconds * 1000000;
  std::vector<uint32_t> pass;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].one_id == all[i].one_id) ++j;
    if (Chains(&all[i], j - i, steps, gap)) pass.push_back(all[i].one_id);
    i = j;
  }
  out.bits.addMany(pass.size(), pass.data());
  auto state = std::make_unique<SequenceState>(n, range, std::move(all));
  RETURN_IF_ERROR(state->Init());
  out.state = std::move(state);
  return out;
}

Result<LeafResult> EvaluateConsent(const Node& n, const query::QueryContext& q, int64_t now_us,
                                   const Roaring& universe) {
  LeafResult out;
  ASSIGN_OR_RETURN(std::vector<Choice> latest, LatestChoices(q, n.name, &out.covered_lsn));
  // Persons whose choice decides otherwise than having none would.
  const bool missing_ok = MissingSatisfies(n.op);
  std::vector<uint32_t> differ;
  for (size_t id = 0; id < latest.size(); ++id) {
    if (latest[id].granted < 0) continue;
    if (Satisfies(Json(latest[id].granted == 1), n.op, n.values, now_us) != missing_ok) {
      differ.push_back(static_cast<uint32_t>(id));
    }
  }
  Roaring decided;
  decided.addMany(differ.size(), differ.data());
  if (missing_ok) {
    out.bits = universe;
    out.bits -= decided;
  } else {
    out.bits = decided & universe;
  }
  out.state = std::make_unique<ConsentState>(n, now_us, std::move(latest));
  return out;
}

Status ForEachConsent(const query::QueryContext& q, std::string_view category,
                      const std::function<void(uint32_t, bool)>& fn) {
  ASSIGN_OR_RETURN(std::vector<Choice> latest, LatestChoices(q, category, nullptr));
  for (size_t id = 0; id < latest.size(); ++id) {
    if (latest[id].granted >= 0) fn(static_cast<uint32_t>(id), latest[id].granted == 1);
  }
  return Status::OK();
}

}  // namespace quanyu::audience::internal
