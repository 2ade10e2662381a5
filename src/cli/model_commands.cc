// quanyu model fit bgnbd|paretonbd|mbgnbd|gammagamma --input FILE [--end DATE] [--unit DAYS]
//                  [--format table|json]
//
// Fits a buy-till-you-die model (docs/models.md) to a CSV of per-customer
// summaries (frequency, recency, T[, zbar]) or of transactions (customer,
// date[, value]) and prints the parameters, their standard errors and the
// log-likelihood.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "common/time_util.h"
#include "models/btyd.h"

namespace quanyu::cli {
namespace {

struct ModelFlags {
  std::string model, input, end, format;
  double unit_days = 7;
};

// Summaries, from either kind of CSV (a "date" column means transactions).
Result<std::vector<models::CustomerSummary>> ReadCustomers(const ModelFlags& f) {
  std::ifstream in(f.input, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + f.input);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  const std::string header = all.substr(0, all.find('\n'));
  const bool transactions = ("," + header + ",").find(",date,") != std::string::npos ||
                            ("," + header + ",").find(",date\r,") != std::string::npos;
  if (!transactions) {
    if (!f.end.empty())
      return Status::InvalidArgument("--end applies to a transactions file (customer,date,value)");
    auto s = models::ReadSummariesCsv(all);
    if (!s.ok()) return Status::InvalidArgument(f.input + ": " + s.status().message());
    return s;
  }
  auto t = models::ReadTransactionsCsv(all);
  if (!t.ok()) return Status::InvalidArgument(f.input + ": " + t.status().message());
  models::TransactionsInput input;
  input.unit_days = f.unit_days;
  if (!f.end.empty()) {
    ASSIGN_OR_RETURN(int64_t end_us, ParseTimestamp(f.end));
    input.end_day = DayOf(end_us);
  }
  return models::SummariesFromTransactions(std::move(*t), input);
}

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
  auto customers = ReadCustomers(f);
  if (!customers.ok()) return Fail(customers.status());
  auto fit = f.model == "bgnbd"       ? models::FitBgNbd(*customers)
             : f.model == "paretonbd" ? models::FitParetoNbd(*customers)
             : f.model == "mbgnbd"    ? models::FitMbgNbd(*customers)
                                      : models::FitGammaGamma(*customers);
  if (!fit.ok()) return Fail(fit.status());
  if (format == "json") {
    nlohmann::ordered_json params = nlohmann::ordered_json::object();
    for (size_t i = 0; i < fit->params.size(); ++i) {
      const double se = fit->std_errors[i];
      params[fit->names[i]] = {
          {"value", fit->params[i]},
          {"std_error", std::isfinite(se) ? nlohmann::ordered_json(se) : nullptr}};
    }
    nlohmann::ordered_json j = {{"model", fit->model},
                                {"customers", fit->customers},
                                {"log_likelihood", fit->log_likelihood},
                                {"parameters", std::move(params)},
                                {"evaluations", fit->evaluations}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s on %zu customers: log-likelihood %.4f (%d evaluations)\n\n%-8s %12s %12s\n",
              fit->model.c_str(), fit->customers, fit->log_likelihood, fit->evaluations, "param",
              "value", "std error");
  for (size_t i = 0; i < fit->params.size(); ++i) {
    std::printf("%-8s %12.6g %12.6g\n", fit->names[i].c_str(), fit->params[i], fit->std_errors[i]);
  }
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
  fit->add_option("--unit", f->unit_days, "Transactions: the time unit in days (default 7: weeks)");
  fit->add_option("--format", f->format, "table (default on a terminal) or json");
  fit->footer(
      "Exit codes: 0 success; 1 an unreadable or malformed file (the line and field are named), "
      "an unknown model, or a failed fit.");
  fit->callback([f] { RunFit(*f); });
}

}  // namespace quanyu::cli
