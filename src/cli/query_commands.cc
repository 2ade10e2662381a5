// quanyu query funnel | retention | paths | touchpoints | kpis | trends
//
// Runs an analytics query on a data directory, offline: the same
// Engine::Query the POST /api/v1/query/{kind} handler calls, with the same
// JSON body (docs/openapi.yaml), printed as the API's JSON or as plain-text
// tables. The tables are rendered from that JSON, not from the operators'
// C++ results, so the command stays as thin as the handler; an answer of a
// shape a renderer does not know is printed as JSON.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "engine/engine.h"
#include "query/query.h"

namespace quanyu::cli {
namespace {

using query::Json;

constexpr char kExitCodes[] =
    "--format table (the default when stdout is a terminal) prints plain-text tables;\n"
    "--format json (the default otherwise) prints the API's JSON, indented.\n"
    "Exit codes: 0 success; 1 bad input (flags, body, unknown event or property names),\n"
    "an I/O error, or the data directory in use by a running `quanyu serve` (use\n"
    "POST /api/v1/query/KIND then).";

// One example body per kind, for --help.
const std::map<std::string, std::string>& Examples() {
  static const std::map<std::string, std::string> examples = {
      {"funnel",
       R"({"from":"2026-01-01","to":"2026-04-01","window":"7d","steps":[{"event":"Product Viewed"},)"
       R"({"event":"Order Completed","where":[{"property":"revenue","op":">","value":100}]}],)"
       R"("breakdown":"channel"})"},
      {"retention", R"({"from":"2026-01-05","to":"2026-03-02","start_event":{"event":"Signed Up"},)"
                    R"("return_event":{"event":"Order Completed"},"period":"week","periods":8})"},
      {"paths",
       R"({"from":"2026-01-01","to":"2026-02-01","start_event":"Landing","steps":5,"top":20})"},
      {"touchpoints", R"({"from":"2026-01-01","to":"2026-04-01","breakpoint_window":"7d"})"},
      {"kpis", R"({"from":"2026-01-01","to":"2026-02-01","group_by":["channel"]})"},
      {"trends",
       R"({"from":"2026-01-01","to":"2026-02-01","interval":"day","series":[{"event":"Order Completed"},)"
       R"({"event":"Order Completed","measure":"persons"}],"breakdown":"channel"})"},
  };
  return examples;
}

// ---- Plain-text tables -------------------------------------------------------

// Terminal columns of a UTF-8 string: East Asian wide characters take two.
size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = len == 1 ? c : c & (0x3F >> (len - 1));
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = cp << 6 | (s[i + k] & 0x3F);
    const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                      (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
    width += wide ? 2 : 1;
    i += len;
  }
  return width;
}

// Columns separated by two spaces, a dashed line under the header; numbers
// (columns marked numeric) right-aligned.
struct Table {
  Table() = default;
  Table(std::vector<std::string> h, std::vector<bool> n)
      : header(std::move(h)), numeric(std::move(n)) {}

  std::vector<std::string> header;
  std::vector<bool> numeric;
  std::vector<std::vector<std::string>> rows;

  std::string Render() const {
    std::vector<size_t> widths(header.size());
    auto widen = [&](const std::vector<std::string>& row) {
      for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
        widths[c] = std::max(widths[c], DisplayWidth(row[c]));
      }
    };
    widen(header);
    for (const auto& r : rows) widen(r);
    std::string out;
    auto line = [&](const std::vector<std::string>& row) {
      std::string text;
      for (size_t c = 0; c < widths.size(); ++c) {
        const std::string cell = c < row.size() ? row[c] : "";
        const std::string pad(widths[c] - DisplayWidth(cell), ' ');
        if (c > 0) text += "  ";
        text += c < numeric.size() && numeric[c] ? pad + cell : cell + pad;
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + "\n";
    };
    line(header);
    std::vector<std::string> dashes;
    for (size_t w : widths) dashes.push_back(std::string(w, '-'));
    line(dashes);
    for (const auto& r : rows) line(r);
    return out;
  }
};

// A cell for a JSON value: "-" for null or absent, integers as they are,
// other numbers with up to two decimals.
std::string Cell(const Json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) {
    const double d = v.get<double>();
    if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", d);
    return buf;
  }
  return v.dump();
}
std::string Cell(const Json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) ? Cell(obj[key]) : "-";
}

// A ratio as a percentage with one decimal ("66.7%").
std::string Percent(const Json& v) {
  if (!v.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v.get<double>() * 100);
  return buf;
}
std::string Percent(const Json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) ? Percent(obj[key]) : "-";
}

// Seconds as "45s", "30m", "1h 5m", "2d 3h".
std::string Duration(const Json& v) {
  if (!v.is_number()) return "-";
  const auto s = static_cast<int64_t>(std::llround(v.get<double>()));
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600)
    return std::to_string(s / 60) + "m" + (s % 60 ? " " + std::to_string(s % 60) + "s" : "");
  if (s < 86400)
    return std::to_string(s / 3600) + "h" +
           (s % 3600 / 60 ? " " + std::to_string(s % 3600 / 60) + "m" : "");
  return std::to_string(s / 86400) + "d" +
         (s % 86400 / 3600 ? " " + std::to_string(s % 86400 / 3600) + "h" : "");
}

bool IsArrayOfObjects(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_array() &&
         std::all_of(j[key].begin(), j[key].end(), [](const Json& x) { return x.is_object(); });
}

// ---- One renderer per kind: nullopt for a shape it does not know ------------

// "breakdown channel = douyin": the request's breakdown field, if it names one.
std::string BreakdownTitle(const Json& request, const Json& value) {
  const Json field = request.value("breakdown", Json());
  return "breakdown " + (field.is_string() ? field.get<std::string>() + " = " : "") + Cell(value);
}

std::optional<std::string> FunnelTable(const Json& j, const Json& request) {
  if (!IsArrayOfObjects(j, "steps")) return std::nullopt;
  auto steps = [](const Json& list) {
    Table t{{"step", "event", "persons", "from start", "from previous", "drop-off", "median time",
             "p90 time"},
            {true, false, true, true, true, true, true, true}};
    int k = 0;
    for (const auto& s : list) {
      t.rows.push_back({std::to_string(++k), Cell(s, "event"), Cell(s, "persons"),
                        Percent(s, "conversion_from_start"), Percent(s, "conversion_from_previous"),
                        Cell(s, "drop_off"), Duration(s.value("median_seconds_to_convert", Json())),
                        Duration(s.value("p90_seconds_to_convert", Json()))});
    }
    return t.Render();
  };
  std::string out = steps(j["steps"]);
  if (IsArrayOfObjects(j, "breakdown")) {
    for (const auto& b : j["breakdown"]) {
      if (!IsArrayOfObjects(b, "steps")) return std::nullopt;
      out += "\n" + BreakdownTitle(request, b.value("value", Json())) + "\n" + steps(b["steps"]);
    }
  }
  return out;
}

std::optional<std::string> RetentionTable(const Json& j, const Json& request) {
  auto table = [](const Json& t) -> std::optional<std::string> {
    if (!IsArrayOfObjects(t, "cohorts") || !t.contains("total")) return std::nullopt;
    size_t periods = 0;
    for (const auto& c : t["cohorts"])
      periods = std::max(periods, c.value("rates", Json::array()).size());
    Table out{{"cohort", "persons"}, {false, true}};
    for (size_t n = 0; n < periods; ++n) {
      out.header.push_back(std::to_string(n));
      out.numeric.push_back(true);
    }
    auto row = [&](std::string label, const Json& r) {
      std::vector<std::string> cells = {std::move(label), Cell(r, "persons")};
      const Json rates = r.value("rates", Json::array());
      for (size_t n = 0; n < periods; ++n)
        cells.push_back(n < rates.size() ? Percent(rates[n]) : "-");
      out.rows.push_back(std::move(cells));
    };
    for (const auto& c : t["cohorts"]) row(Cell(c, "cohort"), c);
    row("total", t["total"]);
    return out.Render();
  };
  auto main = table(j);
  if (!main) return std::nullopt;
  std::string out =
      "period: " + Cell(j, "period") + " (retained share per period after the cohort's)\n" + *main;
  if (IsArrayOfObjects(j, "breakdown")) {
    for (const auto& b : j["breakdown"]) {
      auto t = table(b);
      if (!t) return std::nullopt;
      out += "\n" + BreakdownTitle(request, b.value("value", Json())) + "\n" + *t;
    }
  }
  return out;
}

std::optional<std::string> PathsTable(const Json& j) {
  if (!IsArrayOfObjects(j, "paths")) return std::nullopt;
  Table t{{"rank", "persons", "sessions", "path"}, {true, true, true, false}};
  int rank = 0;
  for (const auto& p : j["paths"]) {
    std::string path;
    for (const auto& node : p.value("nodes", Json::array())) {
      path += (path.empty() ? "" : " → ") + Cell(node);
    }
    t.rows.push_back({std::to_string(++rank), Cell(p, "persons"), Cell(p, "sessions"), path});
  }
  return t.Render();
}

std::optional<std::string> TouchpointsTable(const Json& j) {
  if (!IsArrayOfObjects(j, "channels") || !IsArrayOfObjects(j, "transitions") ||
      !IsArrayOfObjects(j, "breakpoints")) {
    return std::nullopt;
  }
  const char* stages[] = {"awareness", "consideration", "conversion", "repurchase", "advocacy"};
  Table channels{{"channel", "persons", "touches", "journeys"}, {false, true, true, true}};
  for (const char* s : stages) {
    channels.header.push_back(s);
    channels.numeric.push_back(true);
  }
  channels.header.insert(channels.header.end(), {"first touch", "last touch"});
  channels.numeric.insert(channels.numeric.end(), {true, true});
  for (const auto& c : j["channels"]) {
    std::vector<std::string> row = {Cell(c, "channel"), Cell(c, "persons"), Cell(c, "touches"),
                                    Percent(c, "share_of_journeys")};
    for (const char* s : stages) row.push_back(Percent(c.value("stages", Json::object()), s));
    row.push_back(Cell(c, "first_touch_persons"));
    row.push_back(Cell(c, "last_touch_persons"));
    channels.rows.push_back(std::move(row));
  }
  Table hops{{"from", "to", "persons", "hops"}, {false, false, true, true}};
  for (const auto& h : j["transitions"]) {
    hops.rows.push_back({Cell(h, "from"), Cell(h, "to"), Cell(h, "persons"), Cell(h, "count")});
  }
  Table breaks{{"from", "to", "last event", "persons lost", "of reached"},
               {false, false, false, true, true}};
  for (const auto& b : j["breakpoints"]) {
    breaks.rows.push_back({Cell(b, "from"), Cell(b, "to"), Cell(b, "last_event"),
                           Cell(b, "persons_lost"), Percent(b, "share_of_reached")});
  }
  std::string out =
      "channels (journeys: share of journeys; stages: share of the journeys at that stage)\n" +
      channels.Render() + "\ntransitions\n" + hops.Render() +
      "\nbreakpoints (journeys that stopped after the hop)\n" + breaks.Render();
  if (j.contains("journeys") && j["journeys"].is_object()) {
    const Json& s = j["journeys"];
    out += "\njourneys: " + Cell(s, "persons") + " persons, " + Cell(s, "converted") +
           " converted, " + Cell(s, "stopped") + " stopped, median touches to convert " +
           Cell(s, "median_touches_to_convert") + "\n";
  }
  return out;
}

std::optional<std::string> KpisTable(const Json& j) {
  if (!IsArrayOfObjects(j, "rows") || !j.contains("group_by") || !j["group_by"].is_array()) {
    return std::nullopt;
  }
  struct Metric {
    const char* key;
    const char* title;
    bool ratio;
  };
  const Metric metrics[] = {{"impressions", "impr.", false},
                            {"clicks", "clicks", false},
                            {"ctr", "ctr", true},
                            {"spend", "spend", false},
                            {"cpc", "cpc", false},
                            {"conversions", "conv.", false},
                            {"converting_persons", "buyers", false},
                            {"persons_reached", "reached", false},
                            {"conversion_rate", "conv. rate", true},
                            {"cpa", "cpa", false},
                            {"revenue", "revenue", false},
                            {"roas", "roas", false},
                            {"new_customers", "new", false},
                            {"cac", "cac", false},
                            {"aov", "aov", false},
                            {"repurchase_rate", "repurchase", true},
                            {"nps", "nps", false}};
  Table t;
  std::vector<std::string> keys;
  for (const auto& g : j["group_by"]) {
    keys.push_back(Cell(g));
    t.header.push_back(Cell(g));
    t.numeric.push_back(false);
  }
  for (const Metric& m : metrics) {
    t.header.push_back(m.title);
    t.numeric.push_back(true);
  }
  auto row = [&](const Json& r, bool total) {
    std::vector<std::string> cells;
    for (size_t k = 0; k < keys.size(); ++k)
      cells.push_back(total ? (k == 0 ? "total" : "") : Cell(r, keys[k].c_str()));
    for (const Metric& m : metrics) cells.push_back(m.ratio ? Percent(r, m.key) : Cell(r, m.key));
    t.rows.push_back(std::move(cells));
  };
  for (const auto& r : j["rows"]) row(r, false);
  if (j.contains("total") && j["total"].is_object()) row(j["total"], true);
  std::string out = t.Render();
  if (IsArrayOfObjects(j, "ltv")) {
    Table ltv{{"acquisition channel", "cohort", "customers", "revenue", "ltv"},
              {false, false, true, true, true}};
    for (const auto& l : j["ltv"]) {
      ltv.rows.push_back({Cell(l, "acquisition_channel"), Cell(l, "cohort"), Cell(l, "customers"),
                          Cell(l, "revenue"), Cell(l, "ltv")});
    }
    out += "\nLTV to date of the new customers\n" + ltv.Render();
  }
  if (j.contains("nps") && j["nps"].is_object()) {
    const Json& n = j["nps"];
    out += "\nNPS " + Cell(n, "nps") + " over " + Cell(n, "responses") + " answers (" +
           Cell(n, "promoters") + " promoters, " + Cell(n, "passives") + " passives, " +
           Cell(n, "detractors") + " detractors)\n";
  }
  return out;
}

std::optional<std::string> TrendsTable(const Json& j) {
  if (!j.contains("buckets") || !j["buckets"].is_array() || !IsArrayOfObjects(j, "series")) {
    return std::nullopt;
  }
  auto label = [](const Json& s) {
    std::string m = Cell(s, "measure");
    if (s.contains("property")) m += " " + Cell(s, "property");
    return Cell(s, "event") + " (" + m + ")";
  };
  // Buckets down, one column per entry of `columns` (series or breakdown values).
  auto grid = [&](const std::vector<std::pair<std::string, const Json*>>& columns) {
    Table t{{j.value("interval", "bucket")}, {false}};
    for (const auto& [title, values] : columns) {
      t.header.push_back(title);
      t.numeric.push_back(true);
    }
    const Json& buckets = j["buckets"];
    for (size_t b = 0; b <= buckets.size(); ++b) {
      std::vector<std::string> row = {b < buckets.size() ? Cell(buckets[b]) : "total"};
      for (const auto& [title, v] : columns) {
        const Json values = v->value("values", Json::array());
        row.push_back(b < buckets.size() ? (b < values.size() ? Cell(values[b]) : "-")
                                         : Cell(*v, "total"));
      }
      t.rows.push_back(std::move(row));
    }
    return t.Render();
  };
  std::vector<std::pair<std::string, const Json*>> all;
  for (const auto& s : j["series"]) all.emplace_back(label(s), &s);
  std::string out = grid(all);
  for (const auto& s : j["series"]) {
    if (!IsArrayOfObjects(s, "breakdown")) continue;
    std::vector<std::pair<std::string, const Json*>> values;
    for (const auto& b : s["breakdown"]) values.emplace_back(Cell(b, "value"), &b);
    out += "\n" + label(s) + " by " + Cell(j, "breakdown") + "\n" + grid(values);
  }
  return out;
}

// The tables for `kind`, or nullopt for an answer of a shape not known here.
std::optional<std::string> RenderTables(const std::string& kind, const Json& answer,
                                        const Json& request) {
  if (kind == "funnel") return FunnelTable(answer, request);
  if (kind == "retention") return RetentionTable(answer, request);
  if (kind == "paths") return PathsTable(answer);
  if (kind == "touchpoints") return TouchpointsTable(answer);
  if (kind == "kpis") return KpisTable(answer);
  if (kind == "trends") return TrendsTable(answer);
  return std::nullopt;
}

// ---- The command ------------------------------------------------------------

struct QueryFlags {
  std::string data, config, body, format;
};

// --body as given: JSON text, @FILE, or @- for standard input.
Result<Json> ReadBody(const std::string& arg) {
  if (arg.empty())
    return Status::InvalidArgument("--body is required: the request JSON, @FILE or @-");
  ASSIGN_OR_RETURN(Json body, ReadJsonArgument("--body", arg));
  if (!body.is_object()) return Status::InvalidArgument("--body must be a JSON object");
  return body;
}

void RunQueryCommand(const std::string& kind, const QueryFlags& f) {
  std::string format = f.format;
  if (format.empty()) format = isatty(STDOUT_FILENO) ? "table" : "json";
  if (format != "table" && format != "json") {
    return Fail(Status::InvalidArgument("--format must be table or json, got \"" + format + "\""));
  }
  auto body = ReadBody(f.body);
  if (!body.ok()) return Fail(body.status());
  auto config = LoadEffectiveConfig(f.config, f.data);
  if (!config.ok()) return Fail(config.status());
  auto engine = OpenDataDirectory(*config, "POST /api/v1/query/" + kind);
  if (!engine.ok()) return Fail(engine.status());
  auto answer = (*engine)->Query(kind, *body);
  std::string text;
  if (answer.ok()) {
    std::optional<std::string> tables;
    if (format == "table") tables = RenderTables(kind, *answer, *body);
    // Personal data is tokenized at rest; the operator sees the plaintext.
    text = tables ? (*engine)->RevealPii(*tables, false, false)
                  : (*engine)->RevealPii(
                        answer->dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
  }
  Status closed = (*engine)->Close();
  if (!answer.ok()) return Fail(answer.status());
  if (!closed.ok()) return Fail(closed);
  std::fputs(text.c_str(), stdout);
}

}  // namespace

void RegisterQuery(CLI::App& app) {
  auto* q = app.add_subcommand("query", "Run an analytics query (docs/metrics.md)");
  q->require_subcommand(1);
  q->footer(kExitCodes);
  for (const std::string& kind : query::QueryKinds()) {
    auto f = std::make_shared<QueryFlags>();
    auto* cmd = q->add_subcommand(kind, "The " + kind + " query: the body of POST /api/v1/query/" +
                                            kind + " (docs/openapi.yaml, docs/metrics.md)");
    cmd->add_option("--data", f->data, "Data directory (or QUANYU_DATA)");
    cmd->add_option("--config", f->config, "quanyu.toml ([query] options)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--body", f->body, "The request JSON, @FILE, or @- for standard input");
    cmd->add_option("--format", f->format,
                    "table or json (default: table on a terminal, json otherwise)");
    cmd->footer("Example:\n  quanyu query " + kind + " --data ./data --body '" +
                Examples().at(kind) + "'\n\n" + kExitCodes);
    cmd->callback([kind, f] { RunQueryCommand(kind, *f); });
  }
}

}  // namespace quanyu::cli
