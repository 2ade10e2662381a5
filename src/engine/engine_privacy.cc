// The engine's privacy entry points (docs/privacy.md): the gate at collect,
// consent recording and reading, and the use decision every export and
// activation asks.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "collect/sources.h"
#include "common/metrics.h"
#include "common/time_util.h"
#include "engine/engine.h"

namespace quanyu {
namespace {

using nlohmann::json;

void CountDecision(std::string_view stage, std::string_view rule, std::string_view decision,
                   const std::string& source, size_t n = 1) {
  MetricsRegistry::Default()
      ->GetCounter("quanyu_privacy_decisions_total",
                   "Privacy gate decisions, by stage, rule, decision and source",
                   {{"stage", std::string(stage)},
                    {"rule", std::string(rule)},
                    {"decision", std::string(decision)},
                    {"source", source}})
      ->Add(n);
}

constexpr std::string_view kTrackingPlanKey = "privacy/tracking_plan";

}  // namespace

Status Engine::SetTrackingPlan(std::string_view json_text) {
  return InstallTrackingPlan(json_text, /*persist=*/true);
}

Status Engine::InstallTrackingPlan(std::string_view json_text, bool persist) {
  ASSIGN_OR_RETURN(privacy::TrackingPlan plan, privacy::TrackingPlan::Parse(json_text));
  std::lock_guard lock(plan_mu_);
  if (persist) RETURN_IF_ERROR(state_->Put(kTrackingPlanKey, plan.ToJson()));
  plan_ = plan.events().empty() && plan.unplanned() == privacy::PlanMode::kAllow
              ? nullptr
              : std::make_shared<const privacy::TrackingPlan>(std::move(plan));
  return Status::OK();
}

std::string Engine::TrackingPlanJson() const {
  std::lock_guard lock(plan_mu_);
  return plan_ ? plan_->ToJson() : privacy::TrackingPlan().ToJson();
}

std::string Engine::TrackingPlanViolationsJson() const {
  json arr = json::array();
  std::lock_guard lock(plan_mu_);
  for (const auto& [k, v] : violations_) {
    arr.push_back({{"source", std::get<0>(k)},
                   {"event", std::get<1>(k)},
                   {"kind", std::get<2>(k)},
                   {"verdict", std::get<3>(k)},
                   {"count", v.count},
                   {"example", v.example}});
  }
  return json{{"violations", arr}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Checks `e` against the tracking plan: false (and a rejection) when the
// plan blocks it; violations counted either way.
bool Engine::CheckTrackingPlan(const Event& e, IngestResult* result) {
  std::shared_ptr<const privacy::TrackingPlan> plan;
  {
    std::lock_guard lock(plan_mu_);
    plan = plan_;
  }
  if (!plan) return true;
  privacy::Validation v = plan->Check(e);
  if (v.violations.empty()) return v.accepted();
  const bool blocked = !v.accepted();
  const std::string verdict = blocked ? "block" : "flag";
  {
    std::lock_guard lock(plan_mu_);
    for (const auto& x : v.violations) {
      auto& seen = violations_[{e.source, e.name, x.kind, verdict}];
      ++seen.count;
      seen.example = x.message;
    }
  }
  for (const auto& x : v.violations) {
    MetricsRegistry::Default()
        ->GetCounter("quanyu_tracking_plan_violations_total",
                     "Tracking plan violations, by source, kind and verdict",
                     {{"source", e.source}, {"kind", x.kind}, {"verdict", verdict}})
        ->Add(1);
  }
  if (!blocked) return true;
  std::string message = "event " + e.message_id + " (" + e.name + ") blocked by the tracking plan:";
  for (size_t i = 0; i < v.violations.size(); ++i) {
    message += (i ? "; " : " ") + v.violations[i].message;
  }
  result->rejected.push_back({-1, "tracking_plan", std::move(message)});
  CountRejection("tracking_plan", e.source);
  return false;
}

Status Engine::OpenPrivacy() {
  auto policy = privacy::AnalyticsPolicyNamed(config_.privacy_analytics_consent);
  if (!policy.ok()) return policy.status().WithContext("config: [privacy] analytics_consent");
  collect_policy_.analytics = *policy;
  for (const auto& [source, name] : config_.privacy_analytics_consent_by_source) {
    auto p = privacy::AnalyticsPolicyNamed(name);
    if (!p.ok()) {
      return p.status().WithContext("config: [privacy.analytics_consent_by_source] " + source);
    }
    collect_policy_.analytics_by_source[source] = *p;
  }
  if (config_.privacy_sensitive_properties)
    collect_policy_.sensitive_properties = *config_.privacy_sensitive_properties;
  collect_policy_.child_age_property = config_.privacy_child_age_property;
  collect_policy_.child_age = config_.privacy_child_age;
  // The key ring: QUANYU_PRIVACY_KEY, else the key file, else one made in
  // the data directory on first open.
  if (!config_.privacy_key.empty()) {
    auto ring = privacy::KeyRing::FromEnv(config_.privacy_key);
    if (!ring.ok()) return ring.status().WithContext("QUANYU_PRIVACY_KEY");
    keys_ = std::move(*ring);
  } else {
    const bool given = !config_.privacy_key_file.empty();
    const std::string path = given ? config_.privacy_key_file : config_.data_dir + "/privacy.key";
    if (!given && !std::filesystem::exists(path)) {
      ASSIGN_OR_RETURN(privacy::KeyRing fresh, privacy::KeyRing::Generate());
      RETURN_IF_ERROR(privacy::WriteKeyFile(fresh, path));
      spdlog::warn(
          "created the privacy key {} (keep a copy; production should keep it outside the data "
          "directory: [privacy] key_file or QUANYU_PRIVACY_KEY)",
          path);
    }
    auto ring = privacy::KeyRing::Load(path);
    if (!ring.ok()) return ring.status().WithContext("[privacy] key_file " + path);
    keys_ = std::move(*ring);
    key_file_ = path;
  }
  ASSIGN_OR_RETURN(vault_, privacy::PiiVault::Open(state_.get(), *keys_));
  // The tracking plan: the one set through the API, else the config's file.
  if (auto stored = state_->Get(kTrackingPlanKey); stored.ok()) {
    RETURN_IF_ERROR(
        InstallTrackingPlan(*stored, /*persist=*/false).WithContext("the stored tracking plan"));
  } else if (stored.status().code() != StatusCode::kNotFound) {
    return stored.status();
  } else if (!config_.privacy_tracking_plan.empty()) {
    std::ifstream in(config_.privacy_tracking_plan);
    if (!in) {
      return Status::NotFound("config: [privacy] tracking_plan: cannot read " +
                              config_.privacy_tracking_plan);
    }
    std::stringstream text;
    text << in.rdbuf();
    RETURN_IF_ERROR(
        InstallTrackingPlan(text.str(), /*persist=*/false)
            .WithContext("config: [privacy] tracking_plan " + config_.privacy_tracking_plan));
  }
  return Status::OK();
}

bool Engine::GateEvent(Event* e, IngestResult* result, ConsentOverlay* overlay) {
  if (suppressed_->Matches(*e)) {
    result->rejected.push_back(
        {-1, "suppressed",
         "event " + e->message_id +
             " carries an identifier erased by a deletion request; it is not stored"});
    CountRejection("suppressed", e->source);
    CountDecision("collect", "suppressed_identifier", "drop", e->source);
    return false;
  }
  if (!CheckTrackingPlan(*e, result)) return false;
  std::vector<privacy::ConsentDecision> own = privacy::DecisionsOf(*e);
  std::vector<privacy::ConsentDecision> all;
  if (!consent_->empty()) {
    std::vector<uint32_t> persons;
    for (const auto& id : e->identifiers) {
      uint32_t p = identity_->Lookup(id);
      if (p && std::find(persons.begin(), persons.end(), p) == persons.end()) persons.push_back(p);
    }
    std::vector<uint32_t> keys;
    for (uint32_t p : persons) {
      auto k = identity_->KeysOf(p);
      keys.insert(keys.end(), k.begin(), k.end());
    }
    all = consent_->Fold(keys).history;
  }
  if (!overlay->empty()) {
    for (const auto& id : e->identifiers) {
      auto it = overlay->find(id.ToString());
      if (it != overlay->end()) all.insert(all.end(), it->second.begin(), it->second.end());
    }
  }
  const bool carries_consent = !own.empty();
  if (carries_consent) {
    all.insert(all.end(), own.begin(), own.end());
    for (const auto& id : e->identifiers) {
      auto& v = (*overlay)[id.ToString()];
      v.insert(v.end(), own.begin(), own.end());
    }
  }
  privacy::ConsentState state = privacy::FoldDecisions(std::move(all));
  privacy::CollectVerdict verdict =
      privacy::GateAtCollect(collect_policy_, state, carries_consent, e);
  if (verdict.stripped) {
    CountDecision("collect", "sensitive_property", "strip", e->source, verdict.stripped);
  }
  if (verdict.drop) {
    CountDecision("collect", verdict.rule, "drop", e->source);
    result->rejected.push_back({-1, verdict.rule, std::move(verdict.message)});
    CountRejection(verdict.rule, e->source);
    return false;
  }
  return true;
}

Result<Engine::RetentionRun> Engine::ApplyRetention(int64_t now_us) {
  RetentionRun run;
  constexpr int64_t kDayUs = int64_t{86400} * 1'000'000;
  auto* metrics = MetricsRegistry::Default();
  if (config_.retention_raw_events_days > 0) {
    const int64_t cutoff = now_us - config_.retention_raw_events_days * kDayUs;
    ASSIGN_OR_RETURN(run.raw_events, store_->DropBefore(cutoff));
    metrics
        ->GetCounter("quanyu_retention_events_deleted_total",
                     "Stored events removed by retention ([retention])",
                     {{"data_class", "raw_events"}})
        ->Add(run.raw_events.events);
    if (run.raw_events.segments) {
      spdlog::info("retention: removed {} events in {} segments older than {} days",
                   run.raw_events.events, run.raw_events.segments,
                   config_.retention_raw_events_days);
    }
  }
  if (config_.retention_profiles_inactive_days > 0) {
    const int64_t cutoff = now_us - config_.retention_profiles_inactive_days * kDayUs;
    ASSIGN_OR_RETURN(run.inactive, EraseInactivePersons(cutoff));
    metrics
        ->GetCounter("quanyu_retention_events_deleted_total",
                     "Stored events removed by retention ([retention])",
                     {{"data_class", "inactive_profiles"}})
        ->Add(run.inactive.events);
    metrics
        ->GetCounter("quanyu_retention_persons_deleted_total",
                     "Persons erased by retention ([retention] profiles_inactive_days)")
        ->Add(run.inactive.persons);
    if (run.inactive.persons) {
      spdlog::info("retention: erased {} persons inactive for {} days ({} events)",
                   run.inactive.persons, config_.retention_profiles_inactive_days,
                   run.inactive.events);
    }
  }
  return run;
}

privacy::ConsentState Engine::ConsentOf(uint32_t one_id) const {
  uint32_t p = identity_->Resolve(one_id);
  if (p == 0) return {};
  return consent_->Fold(identity_->KeysOf(p));
}

privacy::ConsentCoverage Engine::CountConsent() const {
  privacy::ConsentCoverage coverage;
  coverage.persons = identity_->Stats().persons;
  std::vector<uint32_t> persons;
  for (uint32_t key : consent_->Keys()) {
    // 0: the key's person was erased (a deletion erases its decisions too).
    if (uint32_t p = identity_->one_ids().Get(key)) persons.push_back(p);
  }
  std::sort(persons.begin(), persons.end());
  persons.erase(std::unique(persons.begin(), persons.end()), persons.end());
  for (uint32_t p : persons) coverage.Count(consent_->Fold(identity_->KeysOf(p)));
  return coverage;
}

Result<std::string> Engine::RecordConsent(std::string_view identifier,
                                          const std::string& consent_json) {
  privacy::PiiVault::Pending keep;
  ASSIGN_OR_RETURN(Identifier id, ParseIdentifier(identifier, &keep));
  Event e;
  e.type = EventType::kTrack;
  e.name = "Consent Updated";
  e.context_json = "{\"consent\":" + consent_json + "}";
  e.identifiers.push_back(std::move(id));
  size_t unknown = 0;
  if (privacy::DecisionsOf(e, &unknown).empty()) {
    return Status::InvalidArgument(
        "no consent decision given: send \"purposes\" and/or \"channels\" objects such as "
        "{\"marketing\": \"withdrawn\"} or {\"sms\": false}");
  }
  if (unknown) {
    return Status::InvalidArgument(
        std::to_string(unknown) + " consent entr" + (unknown == 1 ? "y is" : "ies are") +
        " not understood: purposes are analytics, marketing, personalization, sensitive, "
        "third_party_sharing, cross_border_transfer; channels are sms, email, wechat, wecom, "
        "push, phone; values are granted, denied, withdrawn or a boolean");
  }
  return AppendCorrection(std::move(e), &keep);
}

std::string Engine::ConsentJson(const privacy::ConsentState& state) {
  auto decision_json = [](const privacy::ConsentDecision& d) {
    return json{{"topic", privacy::TopicName(d.topic)}, {"status", privacy::StatusName(d.status)},
                {"time", FormatTimestamp(d.time_us)},   {"source", d.source},
                {"policy_version", d.policy_version},   {"message_id", d.message_id}};
  };
  json purposes = json::object(), channels = json::object();
  for (int i = 0; i < privacy::kTopicCount; ++i) {
    auto t = static_cast<privacy::Topic>(i);
    json entry{{"status", privacy::StatusName(state.status[i])}};
    if (state.latest[i] >= 0) {
      const auto& d = state.history[state.latest[i]];
      entry["time"] = FormatTimestamp(d.time_us);
      entry["source"] = d.source;
      entry["policy_version"] = d.policy_version;
      entry["message_id"] = d.message_id;
    }
    (privacy::IsPurpose(t) ? purposes : channels)[std::string(privacy::TopicName(t))] = entry;
  }
  json history = json::array();
  for (const auto& d : state.history) history.push_back(decision_json(d));
  return json{{"purposes", purposes}, {"channels", channels}, {"history", history}}.dump();
}

std::string Engine::RevealPii(std::string_view text, bool mask, bool json, size_t* revealed) const {
  return vault_->RevealText(text, {.mask = mask, .json_escape = json}, revealed);
}

Result<std::string> Engine::ProtectText(std::string_view text) {
  privacy::PiiVault::Pending pending;
  std::string out = privacy::TokenizeText(*vault_, &pending, text);
  RETURN_IF_ERROR(vault_->Commit(&pending));
  return out;
}

Result<Identifier> Engine::RevealIdentifier(Identifier id) const {
  if (privacy::IsPiiToken(id.value)) {
    ASSIGN_OR_RETURN(id.value, vault_->Reveal(id.value));
  }
  return id;
}

Result<Engine::KeyRotation> Engine::RotateKey() {
  if (key_file_.empty()) {
    return Status::InvalidArgument(
        "the key ring comes from QUANYU_PRIVACY_KEY: rotate a key file instead (put the ring in "
        "a file, point [privacy] key_file at it and unset the variable)");
  }
  std::lock_guard deletion(deletion_mu_);  // no erasure while records move
  privacy::KeyRing next = *keys_;
  ASSIGN_OR_RETURN(privacy::Key fresh, next.Rotate());
  // The file first: from then on it opens records sealed under either key,
  // so a crash anywhere below leaves a readable vault.
  RETURN_IF_ERROR(privacy::WriteKeyFile(next, key_file_));
  keys_ = next;
  ASSIGN_OR_RETURN(privacy::PiiVault::ResealStats stats, vault_->Reseal(next));
  // The records sealed under the old key leave the files with compaction.
  RETURN_IF_ERROR(state_->CompactAll());
  return KeyRotation{fresh.id, stats.values, key_file_};
}

privacy::UseDecision Engine::MayUse(uint32_t one_id, const privacy::Use& use,
                                    std::string_view stage) const {
  privacy::UseDecision d = privacy::MayUse(ConsentOf(one_id), use);
  MetricsRegistry::Default()
      ->GetCounter("quanyu_privacy_use_decisions_total",
                   "Export and activation decisions, by stage, rule, decision and destination",
                   {{"stage", std::string(stage)},
                    {"rule", d.allowed ? "consent" : d.rule},
                    {"decision", d.allowed ? "allow" : "exclude"},
                    {"destination", use.destination}})
      ->Add(1);
  return d;
}

}  // namespace quanyu
