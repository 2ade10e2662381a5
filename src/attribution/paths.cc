#include "attribution/paths.h"

#include <charconv>
#include <cmath>
#include <map>

namespace quanyu::attribution {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == sep) {
      out.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// A count or value: a finite number >= 0.
bool ParseAmount(std::string_view text, double* out) {
  text = Trim(text);
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*out) && *out >= 0;
}

std::string FormatAmount(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return ec == std::errc() ? std::string(buf, end) : "0";
}

}  // namespace

uint32_t PathSet::Channel(std::string_view name) {
  for (size_t i = 0; i < channels.size(); ++i) {
    if (channels[i] == name) return static_cast<uint32_t>(i);
  }
  channels.emplace_back(name);
  return static_cast<uint32_t>(channels.size() - 1);
}

double PathSet::total_conversions() const {
  double t = 0;
  for (const Path& p : paths) t += p.conversions;
  return t;
}

double PathSet::total_value() const {
  double t = 0;
  for (const Path& p : paths) t += p.value;
  return t;
}

double PathSet::total_nulls() const {
  double t = 0;
  for (const Path& p : paths) t += p.nulls;
  return t;
}

void PathSet::Aggregate() {
  std::map<std::vector<uint32_t>, size_t> index;
  std::vector<Path> out;
  for (Path& p : paths) {
    auto [it, fresh] = index.emplace(p.touches, out.size());
    if (fresh) {
      out.push_back(std::move(p));
      continue;
    }
    Path& into = out[it->second];
    if (into.age_us != p.age_us) into.age_us.clear();
    into.conversions += p.conversions;
    into.value += p.value;
    into.nulls += p.nulls;
  }
  paths = std::move(out);
}

Result<PathSet> ReadPathsCsv(std::string_view text, size_t max_paths) {
  PathSet set;
  size_t line_no = 0;
  char sep = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // a BOM
    if (Trim(line).empty()) continue;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (sep == 0) {  // the header
      sep = line.find(';') != std::string_view::npos ? ';' : ',';
      auto names = Split(line, sep);
      const char* want[] = {"path", "total_conversions", "total_conversion_value", "total_null"};
      if (names.size() != 4) {
        return Status::InvalidArgument(where + "expected the header "
                                       "\"path;total_conversions;total_conversion_value;total_null\"");
      }
      for (size_t i = 0; i < 4; ++i) {
        if (Trim(names[i]) != want[i]) {
          return Status::InvalidArgument(where + "header field " + std::to_string(i + 1) + " is \"" +
                                         std::string(Trim(names[i])) + "\", expected \"" + want[i] + "\"");
        }
      }
      continue;
    }
    auto fields = Split(line, sep);
    if (fields.size() != 4) {
      return Status::InvalidArgument(where + "expected 4 fields separated by '" + std::string(1, sep) +
                                     "', found " + std::to_string(fields.size()));
    }
    if (set.paths.size() >= max_paths) {
      return Status::InvalidArgument(where + "more than " + std::to_string(max_paths) + " paths");
    }
    Path p;
    for (std::string_view channel : Split(fields[0], '>')) {
      channel = Trim(channel);
      if (channel.empty()) {
        return Status::InvalidArgument(where + "path \"" + std::string(Trim(fields[0])) +
                                       "\" has an empty channel");
      }
      p.touches.push_back(set.Channel(channel));
    }
    const char* names[] = {"total_conversions", "total_conversion_value", "total_null"};
    double* targets[] = {&p.conversions, &p.value, &p.nulls};
    for (int i = 0; i < 3; ++i) {
      if (!ParseAmount(fields[i + 1], targets[i])) {
        return Status::InvalidArgument(where + names[i] + " \"" + std::string(Trim(fields[i + 1])) +
                                       "\" is not a number >= 0");
      }
    }
    set.paths.push_back(std::move(p));
  }
  if (sep == 0) return Status::InvalidArgument("no header: the file is empty");
  return set;
}

std::string WritePathsCsv(const PathSet& set) {
  std::string out = "path;total_conversions;total_conversion_value;total_null\n";
  for (const Path& p : set.paths) {
    for (size_t i = 0; i < p.touches.size(); ++i) {
      if (i) out += " > ";
      out += set.channels[p.touches[i]];
    }
    out += ";" + FormatAmount(p.conversions) + ";" + FormatAmount(p.value) + ";" +
           FormatAmount(p.nulls) + "\n";
  }
  return out;
}

PathSet CollapseRepeats(const PathSet& set, bool aggregate) {
  PathSet out;
  out.channels = set.channels;
  out.untouched_conversions = set.untouched_conversions;
  out.untouched_value = set.untouched_value;
  for (const Path& p : set.paths) {
    Path q;
    q.conversions = p.conversions;
    q.value = p.value;
    q.nulls = p.nulls;
    for (size_t i = 0; i < p.touches.size(); ++i) {
      const bool repeat = !q.touches.empty() && q.touches.back() == p.touches[i];
      if (repeat) {
        if (!p.age_us.empty()) q.age_us.back() = p.age_us[i];
        continue;
      }
      q.touches.push_back(p.touches[i]);
      if (!p.age_us.empty()) q.age_us.push_back(p.age_us[i]);
    }
    out.paths.push_back(std::move(q));
  }
  if (aggregate) out.Aggregate();
  return out;
}

}  // namespace quanyu::attribution
