// quanyu model fit bgnbd|paretonbd|mbgnbd|gammagamma --input FILE [--end DATE]
//                  [--holdout-end DATE] [--unit DAYS] [--format table|json]
// quanyu model run clv|churn|propensity|recommend --data DIR [--body JSON|@FILE|@-]
//
// `fit` fits a buy-till-you-die model (docs/models.md) to a CSV of
// per-customer summaries (frequency, recency, T[, zbar]) or of transactions
// (customer, date[, value]) and prints the parameters, their standard
// errors and the log-likelihood. `run` runs a model on the store and stores
// its predicted traits, as POST /api/v1/models/KIND.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "models/btyd.h"
#include "models/run.h"

namespace quanyu::cli {
namespace {

struct ModelFlags {
  std::string model, input, end, holdout_end, format;
  double unit_days = 7;
  // run
  std::string data, config, body;
};

struct Customers {
  std::vector<models::CustomerSummary> summaries;
  std::vector<double> holdout;  // with --holdout-end
  double holdout_length = 0;    // in the summaries' unit
};

// Summaries, from either kind of CSV (a "date" column means transactions).
Result<Customers> ReadCustomers(const ModelFlags& f) {
  std::ifstream in(f.input, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + f.input);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  const std::string header = all.substr(0, all.find('\n'));
  const bool transactions = ("," + header + ",").find(",date,") != std::string::npos ||
                            ("," + header + ",").find(",date\r,") != std::string::npos;
  Customers out;
  if (!transactions) {
    if (!f.end.empty() || !f.holdout_end.empty()) {
      return Status::InvalidArgument(
          "--end and --holdout-end apply to a transactions file (customer,date,value)");
    }
    auto s = models::ReadSummariesCsv(all);
    if (!s.ok()) return Status::InvalidArgument(f.input + ": " + s.status().message());
    out.summaries = std::move(*s);
    return out;
  }
  auto t = models::ReadTransactionsCsv(all);
  if (!t.ok()) return Status::InvalidArgument(f.input + ": " + t.status().message());
  models::TransactionsInput input;
  input.unit_days = f.unit_days;
  if (!f.end.empty()) {
    ASSIGN_OR_RETURN(int64_t end_us, ParseTimestamp(f.end));
    input.end_day = DayOf(end_us);
  }
  if (!f.holdout_end.empty()) {
    if (f.end.empty())
      return Status::InvalidArgument("--holdout-end needs --end (the calibration's last day)");
    if (f.model != "bgnbd")
      return Status::InvalidArgument("--holdout-end: the holdout table is for bgnbd");
    ASSIGN_OR_RETURN(int64_t holdout_us, ParseTimestamp(f.holdout_end));
    input.holdout_end_day = DayOf(holdout_us);
    if (input.holdout_end_day <= input.end_day) {
      return Status::InvalidArgument("--holdout-end must be after --end");
    }
    out.holdout_length =
        static_cast<double>(input.holdout_end_day - input.end_day) / input.unit_days;
  }
  ASSIGN_OR_RETURN(out.summaries, models::SummariesFromTransactions(
                                      std::move(*t), input, nullptr,
                                      f.holdout_end.empty() ? nullptr : &out.holdout));
  return out;
}

// Stages on stderr, with the time since the start.
class StageLog {
 public:
  void operator()(std::string_view stage) {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "[%6.2fs] %.*s\n", s, static_cast<int>(stage.size()), stage.data());
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

void RunFit(const ModelFlags& f) {
  const std::string format =
      f.format.empty() ? (isatty(STDOUT_FILENO) ? "table" : "json") : f.format;
  if (format != "table" && format != "json") {
    return Fail(Status::InvalidArgument("--format must be table or json, got \"" + format + "\""));
  }
  if (f.model != "bgnbd" && f.model != "paretonbd" && f.model != "mbgnbd" &&
      f.model != "gammagamma") {
    return Fail(Status::InvalidArgument("unknown model \"" + f.model +
                                        "\": use bgnbd, paretonbd, mbgnbd or gammagamma"));
  }
  // Stages on stderr only on a terminal: a long fit shows it is moving.
  StageLog log;
  models::ModelProgress stage;
  if (isatty(STDERR_FILENO)) stage = std::ref(log);
  if (stage) stage("reading " + f.input);
  auto customers = ReadCustomers(f);
  if (!customers.ok()) return Fail(customers.status());
  const auto& summaries = customers->summaries;
  if (stage) stage("fitting " + f.model + " to " + std::to_string(summaries.size()) + " customers");
  const models::FitProgress report = models::ThrottledFitProgress(stage, f.model, 1000);
  auto fit = f.model == "bgnbd"       ? models::FitBgNbd(summaries, report)
             : f.model == "paretonbd" ? models::FitParetoNbd(summaries, report)
             : f.model == "mbgnbd"    ? models::FitMbgNbd(summaries, report)
                                      : models::FitGammaGamma(summaries, report);
  if (!fit.ok()) return Fail(fit.status());
  if (stage) stage("done: " + std::to_string(fit->evaluations) + " evaluations");
  if (format == "json") {
    nlohmann::json j = models::FitToJson(*fit);
    if (!customers->holdout.empty()) {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& row : models::HoldoutComparison(
               models::BgNbdOf(*fit), summaries, customers->holdout, customers->holdout_length)) {
        rows.push_back({{"frequency", row.frequency},
                        {"customers", row.customers},
                        {"actual", row.actual},
                        {"predicted", row.predicted}});
      }
      j["holdout"] = {{"length", customers->holdout_length}, {"by_frequency", std::move(rows)}};
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s on %zu customers: log-likelihood %.4f (%d evaluations)\n\n%-8s %12s %12s\n",
              fit->model.c_str(), fit->customers, fit->log_likelihood, fit->evaluations, "param",
              "value", "std error");
  for (size_t i = 0; i < fit->params.size(); ++i) {
    std::printf("%-8s %12.6g %12.6g\n", fit->names[i].c_str(), fit->params[i], fit->std_errors[i]);
  }
  if (customers->holdout.empty()) return;
  std::printf(
      "\nholdout of %.2f units: mean transactions by calibration frequency\n%-9s %9s %9s %9s\n",
      customers->holdout_length, "frequency", "customers", "actual", "predicted");
  double actual = 0, predicted = 0;
  for (const auto& row : models::HoldoutComparison(models::BgNbdOf(*fit), summaries,
                                                   customers->holdout, customers->holdout_length)) {
    std::printf("%-9s %9zu %9.3f %9.3f\n", row.frequency.c_str(), row.customers, row.actual,
                row.predicted);
    actual += row.actual * static_cast<double>(row.customers);
    predicted += row.predicted * static_cast<double>(row.customers);
  }
  std::printf("%-9s %9zu %9.1f %9.1f (sums)\n", "all", summaries.size(), actual, predicted);
}

void RunOnStore(const ModelFlags& f) {
  nlohmann::json body = nlohmann::json::object();
  if (!f.body.empty()) {
    auto b = ReadJsonArgument("--body", f.body);
    if (!b.ok()) return Fail(b.status());
    if (!b->is_object()) return Fail(Status::InvalidArgument("--body must be a JSON object"));
    body = std::move(*b);
  }
  auto config = LoadEffectiveConfig(f.config, f.data);
  if (!config.ok()) return Fail(config.status());
  auto engine = OpenDataDirectory(*config, "POST /api/v1/models/" + f.model);
  if (!engine.ok()) return Fail(engine.status());
  StageLog log;
  auto answer = (*engine)->RunModel(f.model, body, std::ref(log));
  Status closed = (*engine)->Close();
  if (!answer.ok()) return Fail(answer.status());
  if (!closed.ok()) return Fail(closed);
  log("done");
  std::printf("%s\n",
              answer->dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace

void RegisterModel(CLI::App& app) {
  auto* model = app.add_subcommand("model", "Predictive models (docs/models.md)");
  model->require_subcommand(1);
  auto f = std::make_shared<ModelFlags>();
  auto* fit = model->add_subcommand(
      "fit",
      "Fit a buy-till-you-die model and print its parameters, standard errors and log-likelihood");
  fit->add_option("model", f->model,
                  "bgnbd, paretonbd or mbgnbd (repeat transactions), gammagamma (their value)")
      ->required();
  fit->add_option(
         "--input", f->input,
         "CSV of per-customer summaries (frequency, recency, T[, zbar]) or of transactions "
         "(customer, date[, value])")
      ->required();
  fit->add_option("--end", f->end,
                  "Transactions: the calibration period's last day (YYYY-MM-DD; default the last "
                  "transaction's); later ones are left out");
  fit->add_option(
      "--holdout-end", f->holdout_end,
      "Transactions, bgnbd: also compare the forecast with the holdout (--end, this day] by "
      "calibration frequency");
  fit->add_option("--unit", f->unit_days, "Transactions: the time unit in days (default 7: weeks)");
  fit->add_option("--format", f->format, "table (default on a terminal) or json");
  fit->footer(
      "Exit codes: 0 success; 1 an unreadable or malformed file (the line and field are named), "
      "an unknown model, or a failed fit.");
  fit->callback([f] { RunFit(*f); });

  auto r = std::make_shared<ModelFlags>();
  auto* run = model->add_subcommand(
      "run", "Fit a model on the store, score every person and store the predicted traits");
  run->add_option("model", r->model, "clv, churn, propensity or recommend")->required();
  run->add_option("--data", r->data, "Data directory (or QUANYU_DATA)");
  run->add_option("--config", r->config, "quanyu.toml");
  run->add_option("--body", r->body,
                  "The request of POST /api/v1/models/KIND (docs/models.md): JSON, @FILE or @-");
  run->footer(
      "Prints the run's JSON (as the API answers it); stages go to stderr. Exit codes: 0 "
      "success; 1 a bad request, data a model cannot be fitted to, or a data directory that "
      "is missing or held by `quanyu serve` (use POST /api/v1/models/KIND then).");
  run->callback([r] { RunOnStore(*r); });
}

}  // namespace quanyu::cli
