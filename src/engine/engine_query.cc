// The engine's analytics entry points: builds a query::QueryContext over the
// store, its event catalog, the identity graph's current key -> one_id map,
// the spend table and the [query] options, and runs the query
// (docs/metrics.md) — on the calling thread (Query) or on the engine's
// query workers (QueryAsync, what the server uses).

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "common/metrics.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "query/query.h"

namespace quanyu {

// A fixed set of threads running queued queries in arrival order. Threads
// start with the first query, so a CLI command that never queries starts
// none.
class Engine::QueryWorkers {
 public:
  explicit QueryWorkers(int threads) : threads_(threads) {}
  ~QueryWorkers() { Stop(); }

  void Submit(std::function<Result<query::Json>()> run, QueryCallback done) {
    {
      std::lock_guard l(mu_);
      if (!stopping_ && jobs_.size() < kMaxQueuedQueries) {
        if (workers_.empty()) {
          for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { Work(); });
        }
        jobs_.push_back({std::move(run), std::move(done)});
        cv_.notify_one();
        return;
      }
    }
    if (stopping_) return done(Status::Unavailable("the server is shutting down"));
    done(Status::ResourceExhausted(std::to_string(kMaxQueuedQueries) +
                                   " queries are waiting already; retry later"));
  }

  void Stop() {
    std::deque<Job> dropped;
    std::vector<std::thread> workers;
    {
      std::lock_guard l(mu_);
      stopping_ = true;
      dropped.swap(jobs_);
      workers.swap(workers_);
    }
    cv_.notify_all();
    for (auto& job : dropped) job.done(Status::Unavailable("the server is shutting down"));
    for (auto& t : workers) t.join();
  }

 private:
  struct Job {
    std::function<Result<query::Json>()> run;
    QueryCallback done;
  };

  void Work() {
    std::unique_lock l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      l.unlock();
      job.done(job.run());
      l.lock();
    }
  }

  const int threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;              // guarded by mu_
  std::vector<std::thread> workers_;  // guarded by mu_
  std::atomic<bool> stopping_{false};
};

namespace {

// State DB key of a model's last stored report: + kind.
constexpr char kModelReportPrefix[] = "model_report/";

// quanyu_queries_total{kind, outcome} and, when it succeeded,
// quanyu_query_seconds{kind}; failures other than bad requests are logged.
void RecordQuery(const std::string& kind, const Status& status,
                 std::chrono::steady_clock::time_point start) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string outcome = status.ok()                                     ? "ok"
                              : status.code() == StatusCode::kInvalidArgument ? "invalid"
                                                                              : "error";
  auto* metrics = MetricsRegistry::Default();
  metrics
      ->GetCounter("quanyu_queries_total", "Analytics queries answered, by kind and outcome",
                   {{"kind", kind}, {"outcome", outcome}})
      ->Add(1);
  if (status.ok()) {
    metrics
        ->GetHistogram("quanyu_query_seconds", "Duration of successful analytics queries",
                       {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}, {{"kind", kind}})
        ->Observe(seconds);
  } else if (outcome == "error") {
    spdlog::error("{} query failed: {}", kind, status.ToString());
  }
}

}  // namespace

Status Engine::OpenQueries() {
  auto tz = query::TimeZoneNamed(config_.query_timezone);
  if (!tz.ok())
    return tz.status().WithContext("config [query] timezone (or QUANYU_QUERY_TIMEZONE)");
  query_options_.timezone = *tz;
  // A number of seconds, or a duration such as "30m".
  const std::string& text = config_.query_session_idle;
  query::Json idle = text;
  if (!text.empty() && text.size() <= 12 &&
      text.find_first_not_of("0123456789") == std::string::npos) {
    idle = std::stoll(text);
  }
  auto idle_us = query::ParseDuration(idle, "[query] session_idle");
  if (!idle_us.ok()) return idle_us.status().WithContext("config");
  query_options_.session_idle_us = *idle_us;
  if (config_.query_threads < 1 || config_.query_threads > kMaxQueryThreads) {
    return Status::InvalidArgument(
        "config [query] threads (or QUANYU_QUERY_THREADS) must be in 1.." +
        std::to_string(kMaxQueryThreads));
  }
  if (config_.query_workers < 1 || config_.query_workers > kMaxQueryThreads) {
    return Status::InvalidArgument("config [query] workers must be in 1.." +
                                   std::to_string(kMaxQueryThreads));
  }
  query_options_.threads = config_.query_threads;
  query_options_.stages = config_.query_stages;
  query_workers_ = std::make_shared<QueryWorkers>(config_.query_workers);
  return Status::OK();
}

void Engine::CloseQueries() {
  if (query_workers_) query_workers_->Stop();
}

std::shared_ptr<const store::EventCatalog> Engine::EventCatalog() const {
  return store_->Catalog();
}

query::QueryContext Engine::QueryContextOver(const store::EventCatalog* catalog) const {
  query::QueryContext ctx;
  ctx.store = store_.get();
  // Read without locks while the query runs (DenseArray): a merge landing
  // meanwhile may or may not be seen by this query; the next one sees it.
  ctx.one_ids = &identity_->one_ids();
  ctx.catalog = catalog;
  ctx.spend = spend_.get();
  ctx.options = query_options_;
  return ctx;
}

Result<attribution::PathSet> Engine::AttributionPaths(
    const attribution::PathOptions& options) const {
  return attribution::BuildPaths(QueryContextOver(nullptr), options);
}

Result<attribution::AttributionAnswer> Engine::Attribution(
    const attribution::AttributionRequest& request) const {
  const auto start = std::chrono::steady_clock::now();
  Result<attribution::AttributionAnswer> answer =
      attribution::RunAttribution(request, QueryContextOver(nullptr));
  RecordQuery("attribution", answer.status(), start);
  return answer;
}

void Engine::AttributionAsync(query::Json body, QueryCallback done) {
  if (closing_ || !query_workers_) {
    return done(Status::Unavailable("the server is shutting down"));
  }
  query_workers_->Submit(
      [this, body = std::move(body)]() -> Result<query::Json> {
        ASSIGN_OR_RETURN(attribution::AttributionRequest request,
                         attribution::ParseAttributionRequest(body, query_options_.timezone));
        ASSIGN_OR_RETURN(attribution::AttributionAnswer answer, Attribution(request));
        return attribution::AnswerJson(request, answer);
      },
      std::move(done));
}

Result<query::Json> Engine::RunModel(std::string_view kind, const query::Json& body,
                                     const models::ModelProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  const std::shared_ptr<const store::EventCatalog> catalog = store_->Catalog();
  const query::QueryContext ctx = QueryContextOver(catalog.get());
  // The default as_of: just after the latest stored event.
  int64_t latest = 0;
  for (const auto& [name, e] : catalog->events) latest = std::max(latest, e.last_us + 1);
  std::string label = "model_unknown";
  for (const auto& k : models::ModelKinds()) {
    if (k == kind) label = "model_" + k;
  }
  Result<models::ModelRun> run = models::RunModel(kind, body, ctx, latest, progress);
  if (!run.ok()) {
    RecordQuery(label, run.status(), start);
    return run.status();
  }
  query::Json stored = query::Json::object();
  for (models::PredictedTrait& t : run->traits) {
    if (progress) progress("storing " + t.name);
    std::vector<audience::PersonValue> values;
    values.reserve(t.values.size());
    for (auto& [id, v] : t.values) values.push_back({id, std::move(v)});
    stored[t.name] = values.size();
    query::Json about = {{"kind", std::string(kind)},
                         {"as_of", run->answer["as_of"]},
                         {"computed_at", FormatTimestamp(audiences_->NowMicros())}};
    Status s = audiences_->PutPredicted(t.name, std::move(values), std::move(about));
    if (!s.ok()) {
      RecordQuery(label, s, start);
      return s;
    }
  }
  run->answer["stored_traits"] = std::move(stored);
  if (!run->traits.empty()) {
    // The report the dashboard shows until the next run that stores.
    query::Json report = run->answer;
    report["computed_at"] = FormatTimestamp(audiences_->NowMicros());
    Status s = state_->Put(kModelReportPrefix + std::string(kind),
                           report.dump(-1, ' ', false, query::Json::error_handler_t::replace));
    if (!s.ok()) {
      RecordQuery(label, s, start);
      return s;
    }
  }
  RecordQuery(label, Status::OK(), start);
  return std::move(run->answer);
}

Result<query::Json> Engine::ModelReport(std::string_view kind) const {
  const auto& kinds = models::ModelKinds();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    return Status::NotFound("no model \"" + std::string(kind) +
                            "\": use clv, churn, propensity or recommend");
  }
  Result<std::string> text = state_->Get(kModelReportPrefix + std::string(kind));
  if (text.status().code() == StatusCode::kNotFound) {
    return Status::NotFound(
        "model " + std::string(kind) + " has not been run yet: run it with POST /api/v1/models/" +
        std::string(kind) + " (or `quanyu model run " + std::string(kind) + "`)");
  }
  if (!text.ok()) return text.status();
  query::Json report = query::Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!report.is_object()) {
    return Status::Corruption("the stored report of model " + std::string(kind) +
                              " is not a JSON object");
  }
  return report;
}

void Engine::ModelAsync(std::string kind, query::Json body, QueryCallback done) {
  if (closing_ || !query_workers_) {
    return done(Status::Unavailable("the server is shutting down"));
  }
  query_workers_->Submit(
      [this, kind = std::move(kind), body = std::move(body)]() -> Result<query::Json> {
        return RunModel(kind, body);
      },
      std::move(done));
}

Result<query::Json> Engine::Query(std::string_view kind, const query::Json& body) const {
  const auto start = std::chrono::steady_clock::now();
  // Held for the whole query: the catalog as of its start.
  const std::shared_ptr<const store::EventCatalog> catalog = store_->Catalog();
  const query::QueryContext ctx = QueryContextOver(catalog.get());
  Result<query::Json> answer = query::RunQuery(kind, body, ctx);
  // Labels only from the fixed list, whatever `kind` a caller passed.
  std::string label = "unknown";
  for (const auto& k : query::QueryKinds()) {
    if (k == kind) label = k;
  }
  RecordQuery(label, answer.status(), start);
  return answer;
}

void Engine::QueryAsync(std::string kind, query::Json body, QueryCallback done) {
  if (closing_ || !query_workers_) {
    return done(Status::Unavailable("the server is shutting down"));
  }
  query_workers_->Submit(
      [this, kind = std::move(kind), body = std::move(body)] { return Query(kind, body); },
      std::move(done));
}

}  // namespace quanyu
