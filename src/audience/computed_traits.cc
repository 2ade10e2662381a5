#include "audience/computed_traits.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "audience/internal/trait_accumulators.h"
#include "audience/window.h"
#include "query/fields.h"
#include "query/filter.h"

namespace quanyu::audience {
namespace {

using Kind = ComputedTraitSpec::Kind;
using store::Column;

constexpr size_t kMaxNameLength = 64;
constexpr int64_t kMicros = 1000000;
constexpr std::string_view kAnyEvent = "$any";

struct KindName {
  Kind kind;
  std::string_view name;
};
constexpr KindName kKinds[] = {
    {Kind::kCount, "count"},
    {Kind::kSum, "sum"},
    {Kind::kAvg, "avg"},
    {Kind::kMin, "min"},
    {Kind::kMax, "max"},
    {Kind::kMostFrequent, "most_frequent"},
    {Kind::kFirst, "first"},
    {Kind::kLast, "last"},
    {Kind::kUniqueList, "unique_list"},
    {Kind::kUniqueCount, "unique_count"},
};
constexpr std::string_view kKnownKeys[] = {"name",     "kind",   "event",  "where",
                                           "property", "within", "between"};

Status Bad(std::string m) { return Status::InvalidArgument(std::move(m)); }

bool IsNumericKind(Kind k) {
  return k == Kind::kSum || k == Kind::kAvg || k == Kind::kMin || k == Kind::kMax;
}

bool IsDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  }
  return true;
}

// "90d", "12h", "30m" or "45s": the largest unit that divides `seconds`.
std::string FormatDuration(int64_t seconds) {
  if (seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

// The rules a spec obeys however it was built (parsed or in code).
Status CheckSpec(const ComputedTraitSpec& s) {
  if (s.name.empty() || s.name.size() > kMaxNameLength ||
      s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
    return Bad("name \"" + s.name + "\" must be 1-64 characters of a-z, 0-9 and _");
  }
  const std::string kind(ComputedTraitKindName(s.kind));
  if (s.kind == Kind::kCount) {
    if (!s.property.empty()) return Bad("property is not used by kind count: leave it out");
    return Status::OK();
  }
  if (s.property.empty()) return Bad("property is required for kind " + kind);
  const query::Field f = query::FieldNamed(s.property);
  if (IsNumericKind(s.kind) && query::IsBuiltinField(s.property) &&
      f.kind != query::FieldKind::kNumber) {
    return Bad("property \"" + s.property + "\" is not numeric (kind " + kind +
               "): use revenue, value, quantity or a numeric event property");
  }
  return Status::OK();
}

Result<Window> ParseWindow(const Json& j) {
  Window w;
  const bool within = j.contains("within"), between = j.contains("between");
  if (within && between) return Bad("within and between: give one window, not both");
  if (within) {
    ASSIGN_OR_RETURN(int64_t us, query::ParseDuration(j["within"], "within"));
    if (us % kMicros != 0) return Bad("within must be a whole number of seconds");
    w.kind = Window::kLast;
    w.seconds = us / kMicros;
  } else if (between) {
    const Json& b = j["between"];
    if (!b.is_array() || b.size() != 2 || !b[0].is_string() || !b[1].is_string() ||
        !IsDate(b[0].get<std::string>()) || !IsDate(b[1].get<std::string>())) {
      return Bad("between must be two dates [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]");
    }
    w.kind = Window::kBetween;
    w.from_date = b[0].get<std::string>();
    w.to_date = b[1].get<std::string>();
    // Its message names between(...).
    RETURN_IF_ERROR(ResolveWindow(w, 0, query::TimeZone{}).status());
  }
  return w;
}

// Reads one scan thread's batches into its accumulator.
class TraitScan {
 public:
  TraitScan(const ComputedTraitSpec& spec, std::vector<query::Condition> where)
      : event_(spec.event),
        filter_(std::move(where)),
        accumulator_(internal::NewTraitAccumulator(spec.kind)) {
    if (!spec.property.empty()) property_ = query::FieldNamed(spec.property);
  }

  store::ColumnSet Columns() const {
    store::ColumnSet cols{Column::kTimestamp, Column::kName};
    filter_.AddColumns(&cols);
    if (property_) query::FieldReader::AddColumns(*property_, &cols);
    return cols;
  }

  Status Add(const store::ColumnBatch& b) {
    const int64_t* ts = b.Int64s(Column::kTimestamp);
    const uint32_t* names = b.Codes(Column::kName);
    const std::vector<std::string>& dict = b.Dictionary(Column::kName);
    name_ok_.assign(dict.size(), 0);
    for (size_t k = 0; k < dict.size(); ++k) name_ok_[k] = event_.empty() || dict[k] == event_;
    if (!filter_.empty()) filter_.Prepare(b);
    rows_.clear();
    values_.clear();
    for (size_t r = 0; r < b.size(); ++r) {
      if (!name_ok_[names[r]] || (!filter_.empty() && !filter_.Matches(b, r))) continue;
      rows_.push_back(static_cast<uint32_t>(r));
      values_.push_back(property_ ? internal::TraitValueOf(reader_.Read(*property_, b, r))
                                  : std::nullopt);
    }
    one_ids_.resize(rows_.size());
    b.OneIds(rows_.data(), rows_.size(), one_ids_.data());
    for (size_t k = 0; k < rows_.size(); ++k) {
      if (one_ids_[k] != 0) accumulator_->Add(one_ids_[k], ts[rows_[k]], values_[k]);
    }
    return Status::OK();
  }

  internal::TraitAccumulator* accumulator() { return accumulator_.get(); }

 private:
  const std::string& event_;  // "" = every event
  query::RowFilter filter_;
  std::optional<query::Field> property_;
  query::FieldReader reader_;
  std::unique_ptr<internal::TraitAccumulator> accumulator_;
  std::vector<char> name_ok_;  // per name dictionary code of the batch
  std::vector<uint32_t> rows_, one_ids_;
  std::vector<std::optional<internal::TraitValue>> values_;
};

}  // namespace

std::string_view ComputedTraitKindName(Kind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "count";
}

Result<ComputedTraitSpec> ParseComputedTrait(const Json& j) {
  if (!j.is_object()) return Bad("a computed trait must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(std::begin(kKnownKeys), std::end(kKnownKeys), it.key()) == std::end(kKnownKeys)) {
      return Bad("unknown field \"" + it.key() +
                 "\": a computed trait has name, kind, event, where, property, within, between");
    }
  }
  ComputedTraitSpec s;
  if (!j.contains("name") || !j["name"].is_string()) return Bad("name must be a string");
  s.name = j["name"].get<std::string>();
  if (!j.contains("kind") || !j["kind"].is_string()) return Bad("kind must be a string");
  const std::string kind = j["kind"].get<std::string>();
  const auto* found = std::find_if(std::begin(kKinds), std::end(kKinds),
                                   [&](const KindName& k) { return k.name == kind; });
  if (found == std::end(kKinds)) {
    return Bad("kind \"" + kind +
               "\" is unknown: use count, sum, avg, min, max, most_frequent, first, last, "
               "unique_list or unique_count");
  }
  s.kind = found->kind;
  if (j.contains("event") && !j["event"].is_null()) {
    if (!j["event"].is_string()) return Bad("event must be a string (an event name)");
    s.event = j["event"].get<std::string>();
    if (s.event == kAnyEvent) s.event.clear();
  }
  if (j.contains("where") && !j["where"].is_null()) {
    RETURN_IF_ERROR(query::ParseWhere(j["where"], "where").status());
    s.where = j["where"].get<std::vector<Json>>();
  }
  if (j.contains("property") && !j["property"].is_null()) {
    if (!j["property"].is_string()) return Bad("property must be a string (a field name)");
    s.property = j["property"].get<std::string>();
  }
  ASSIGN_OR_RETURN(s.window, ParseWindow(j));
  RETURN_IF_ERROR(CheckSpec(s));
  return s;
}

Json ComputedTraitToJson(const ComputedTraitSpec& s) {
  Json j = {{"name", s.name}, {"kind", std::string(ComputedTraitKindName(s.kind))}};
  if (!s.event.empty()) j["event"] = s.event;
  if (!s.where.empty()) j["where"] = s.where;
  if (!s.property.empty()) j["property"] = s.property;
  if (s.window.kind == Window::kLast) j["within"] = FormatDuration(s.window.seconds);
  if (s.window.kind == Window::kBetween) {
    j["between"] = Json::array({s.window.from_date, s.window.to_date});
  }
  return j;
}

Result<std::vector<PersonValue>> ComputeTrait(const query::QueryContext& ctx,
                                              const ComputedTraitSpec& spec, int64_t now_us,
                                              const query::TimeZone& tz) {
  if (ctx.store == nullptr || ctx.one_ids == nullptr) {
    return Status::Internal("ComputeTrait needs a store and one_ids");
  }
  RETURN_IF_ERROR(CheckSpec(spec));
  if (!spec.event.empty()) RETURN_IF_ERROR(query::CheckEventName(ctx, spec.event, "event"));
  ASSIGN_OR_RETURN(std::vector<query::Condition> where,
                   query::ParseWhere(Json(spec.where), "where"));
  for (size_t i = 0; i < where.size(); ++i) {
    RETURN_IF_ERROR(query::CheckProperty(ctx, spec.event, where[i].field.name,
                                         "where[" + std::to_string(i) + "].property"));
  }
  if (!spec.property.empty()) {
    RETURN_IF_ERROR(query::CheckProperty(ctx, spec.event, spec.property, "property"));
  }
  ASSIGN_OR_RETURN(query::TimeRange range, ResolveWindow(spec.window, now_us, tz));

  const int threads = query::QueryThreads(ctx);
  std::vector<std::unique_ptr<TraitScan>> scans;
  for (int w = 0; w < threads; ++w) scans.push_back(std::make_unique<TraitScan>(spec, where));
  RETURN_IF_ERROR(query::ScanRangeParallel(
      ctx, range, scans[0]->Columns(),
      [&scans](int w, const store::ColumnBatch& b) { return scans[w]->Add(b); }));
  for (int w = 1; w < threads; ++w) {
    scans[0]->accumulator()->MergeFrom(scans[w]->accumulator());
  }
  return scans[0]->accumulator()->Finish();
}

}  // namespace quanyu::audience
