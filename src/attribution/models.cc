#include "attribution/models.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <unordered_map>

namespace quanyu::attribution {
namespace {

constexpr uint32_t kStart = 0, kConversion = 1, kNull = 2;
constexpr size_t kMaxShapleyChannels = 20;

// ---- Heuristics -------------------------------------------------------------------

// Splits each path's conversions and value over its touches by weights
// summing to 1 (weights(path, out) fills one weight per touch).
template <typename Weights>
ModelResult Split(std::string_view name, const PathSet& set, Weights weights) {
  ModelResult r;
  r.model = std::string(name);
  for (const std::string& c : set.channels) r.channels.push_back({c, 0, 0, std::nullopt});
  std::vector<double> w;
  for (const Path& p : set.paths) {
    if (p.touches.empty() || (p.conversions == 0 && p.value == 0)) continue;
    w.assign(p.touches.size(), 0);
    weights(p, &w);
    for (size_t i = 0; i < p.touches.size(); ++i) {
      r.channels[p.touches[i]].conversions += p.conversions * w[i];
      r.channels[p.touches[i]].value += p.value * w[i];
    }
  }
  return r;
}

// ---- Markov chains ----------------------------------------------------------------------

// The chain of order k: a state is the last (up to) k channels touched;
// 0 start, 1 conversion, 2 null. Transitions are counted over the paths,
// each weighted by how often the path occurred.
struct Chain {
  std::vector<std::vector<uint32_t>> state;              // channels of each state
  std::vector<std::vector<std::pair<uint32_t, double>>> out;  // (to, weight)
  std::vector<double> total;                              // sum of out weights
};

Chain BuildChain(const PathSet& set, int order, bool use_nulls) {
  Chain c;
  c.state = {{}, {}, {}};
  c.out.resize(3);
  std::map<std::vector<uint32_t>, uint32_t> index;
  std::vector<std::map<uint32_t, double>> counts(3);
  auto state_of = [&](const std::vector<uint32_t>& key) {
    auto [it, fresh] = index.emplace(key, static_cast<uint32_t>(c.state.size()));
    if (fresh) {
      c.state.push_back(key);
      counts.emplace_back();
    }
    return it->second;
  };
  std::vector<uint32_t> key;
  for (const Path& p : set.paths) {
    const double nulls = use_nulls ? p.nulls : 0;
    const double weight = p.conversions + nulls;
    if (p.touches.empty() || weight <= 0) continue;
    uint32_t from = kStart;
    for (size_t i = 0; i < p.touches.size(); ++i) {
      const size_t lo = i + 1 >= static_cast<size_t>(order) ? i + 1 - order : 0;
      key.assign(p.touches.begin() + static_cast<ptrdiff_t>(lo), p.touches.begin() + static_cast<ptrdiff_t>(i) + 1);
      const uint32_t to = state_of(key);
      counts[from][to] += weight;
      from = to;
    }
    if (p.conversions > 0) counts[from][kConversion] += p.conversions;
    if (nulls > 0) counts[from][kNull] += nulls;
  }
  c.out.resize(c.state.size());
  c.total.assign(c.state.size(), 0);
  for (size_t s = 0; s < counts.size(); ++s) {
    for (const auto& [to, w] : counts[s]) {
      c.out[s].emplace_back(to, w);
      c.total[s] += w;
    }
  }
  return c;
}

// P(conversion) from the start, with the states in `removed` leading to
// null: Gauss-Seidel on x = P x (x = 1 at conversion, 0 at null and removed
// states) until no value moves by more than 1e-15. A state's transitions to
// itself are solved in closed form (x(s) = Σ_{t≠s} w x(t) / (total - w_ss)),
// so a channel repeated many times in a row does not slow it down.
// Internal if it has not converged after kMaxSweeps sweeps.
Result<double> SolveChain(const Chain& c, const std::vector<char>& removed) {
  constexpr int kMaxSweeps = 100'000;
  const size_t n = c.state.size();
  std::vector<double> x(n, 0);
  x[kConversion] = 1;
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    double moved = 0;
    for (size_t s = 0; s < n; ++s) {
      if (s == kConversion || s == kNull || removed[s] || c.total[s] == 0) continue;
      double v = 0, stay = 0;
      for (const auto& [to, w] : c.out[s]) {
        if (to == s) {
          stay += w;
        } else {
          v += w * x[to];
        }
      }
      v = c.total[s] > stay ? v / (c.total[s] - stay) : 0;  // never leaving: never converting
      moved = std::max(moved, std::abs(v - x[s]));
      x[s] = v;
    }
    if (moved <= 1e-15) return x[kStart];
  }
  return Status::Internal("the Markov chain did not converge in " + std::to_string(kMaxSweeps) +
                          " sweeps (" + std::to_string(n) + " states)");
}

std::vector<char> StatesWith(const Chain& c, uint32_t channel) {
  std::vector<char> removed(c.state.size(), 0);
  for (size_t s = 3; s < c.state.size(); ++s) {
    removed[s] = std::find(c.state[s].begin(), c.state[s].end(), channel) != c.state[s].end();
  }
  return removed;
}

Result<ModelResult> Markov(std::string_view name, const PathSet& set, int order, bool use_nulls) {
  const Chain chain = BuildChain(set, order, use_nulls);
  ASSIGN_OR_RETURN(const double p, SolveChain(chain, std::vector<char>(chain.state.size(), 0)));
  if (!(p > 0)) return Status::InvalidArgument(std::string(name) + ": no path converts");
  ModelResult r;
  r.model = std::string(name);
  r.conversion_probability = p;
  double sum = 0;
  std::vector<double> effect(set.channels.size(), 0);
  for (uint32_t ch = 0; ch < set.channels.size(); ++ch) {
    ASSIGN_OR_RETURN(const double without, SolveChain(chain, StatesWith(chain, ch)));
    effect[ch] = std::max(0.0, 1 - without / p);
    sum += effect[ch];
  }
  const double conversions = set.total_conversions(), value = set.total_value();
  for (uint32_t ch = 0; ch < set.channels.size(); ++ch) {
    const double share = sum > 0 ? effect[ch] / sum : 0;
    r.channels.push_back({set.channels[ch], conversions * share, value * share, effect[ch]});
  }
  return r;
}

// ---- Shapley ------------------------------------------------------------------------------

// Zhao et al. 2018, simplified: the conversions of the paths whose channel
// set is exactly S go in equal parts to the members of S.
ModelResult ShapleySimple(const PathSet& set) {
  return Split("shapley_simple", set, [](const Path& p, std::vector<double>* w) {
    std::vector<uint32_t> unique(p.touches);
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    // Each distinct channel's share goes to its first occurrence.
    for (uint32_t ch : unique) {
      const size_t at = static_cast<size_t>(std::find(p.touches.begin(), p.touches.end(), ch) - p.touches.begin());
      (*w)[at] = 1.0 / static_cast<double>(unique.size());
    }
  });
}

// Exact Shapley values of v(S) = the conversion rate of the paths whose
// channels all lie in S (0 when there are none), over all 2^n coalitions;
// the conversions and value are split in proportion to the positive values.
Result<ModelResult> ShapleyExact(const PathSet& set) {
  const size_t n = set.channels.size();
  if (n > kMaxShapleyChannels) {
    return Status::InvalidArgument("shapley: " + std::to_string(n) + " channels; exact Shapley values take at most " +
                                   std::to_string(kMaxShapleyChannels) + " (use shapley_simple or coarser channels)");
  }
  if (!(set.total_nulls() > 0)) {
    return Status::InvalidArgument("shapley: needs paths that did not convert (total_null), "
                                   "since a coalition's worth is its conversion rate");
  }
  const size_t full = size_t{1} << n;
  std::vector<double> conv(full, 0), all(full, 0);
  for (const Path& p : set.paths) {
    size_t mask = 0;
    for (uint32_t ch : p.touches) mask |= size_t{1} << ch;
    if (mask == 0) continue;
    conv[mask] += p.conversions;
    all[mask] += p.conversions + p.nulls;
  }
  // Sums over subsets (the zeta transform): conv[S] = conversions of the
  // paths within S.
  for (size_t b = 0; b < n; ++b) {
    for (size_t s = 0; s < full; ++s) {
      if (s >> b & 1) {
        conv[s] += conv[s ^ (size_t{1} << b)];
        all[s] += all[s ^ (size_t{1} << b)];
      }
    }
  }
  std::vector<double> v(full, 0);
  for (size_t s = 1; s < full; ++s) v[s] = all[s] > 0 ? conv[s] / all[s] : 0;
  // weight(k) = k! (n - k - 1)! / n! for a coalition of k others.
  std::vector<double> weight(n, 0);
  for (size_t k = 0; k < n; ++k) {
    weight[k] = std::exp(std::lgamma(static_cast<double>(k) + 1) +
                         std::lgamma(static_cast<double>(n - k)) - std::lgamma(static_cast<double>(n) + 1));
  }
  std::vector<double> phi(n, 0);
  for (size_t s = 0; s < full; ++s) {
    const size_t k = static_cast<size_t>(__builtin_popcountll(s));
    for (size_t j = 0; j < n; ++j) {
      if (s >> j & 1) continue;
      phi[j] += weight[k] * (v[s | (size_t{1} << j)] - v[s]);
    }
  }
  double positive = 0;
  for (double f : phi) positive += std::max(0.0, f);
  if (!(positive > 0)) return Status::InvalidArgument("shapley: no channel raises the conversion rate");
  ModelResult r;
  r.model = "shapley";
  const double conversions = set.total_conversions(), value = set.total_value();
  for (size_t j = 0; j < n; ++j) {
    const double share = std::max(0.0, phi[j]) / positive;
    r.channels.push_back({set.channels[j], conversions * share, value * share, std::nullopt});
  }
  return r;
}

}  // namespace

const std::vector<std::string>& ModelNames() {
  static const std::vector<std::string> names = {
      "first",   "last",    "last_non_direct", "linear",  "position",       "time_decay",
      "markov1", "markov2", "markov3",         "markov4", "shapley_simple", "shapley"};
  return names;
}

Result<ModelResult> RunModel(std::string_view name, const PathSet& set, const ModelOptions& o) {
  if (!(set.total_conversions() > 0)) {
    return Status::InvalidArgument(std::string(name) + ": the paths have no conversions");
  }
  if (name == "first") {
    return Split(name, set, [](const Path&, std::vector<double>* w) { w->front() = 1; });
  }
  if (name == "last") {
    return Split(name, set, [](const Path&, std::vector<double>* w) { w->back() = 1; });
  }
  if (name == "last_non_direct") {
    std::vector<char> direct(set.channels.size(), 0);
    for (size_t c = 0; c < set.channels.size(); ++c) {
      direct[c] = std::find(o.direct_channels.begin(), o.direct_channels.end(), set.channels[c]) !=
                  o.direct_channels.end();
    }
    return Split(name, set, [&](const Path& p, std::vector<double>* w) {
      size_t at = p.touches.size() - 1;  // all direct: the last touch
      for (size_t i = p.touches.size(); i-- > 0;) {
        if (!direct[p.touches[i]]) {
          at = i;
          break;
        }
      }
      (*w)[at] = 1;
    });
  }
  if (name == "linear") {
    return Split(name, set, [](const Path& p, std::vector<double>* w) {
      std::fill(w->begin(), w->end(), 1.0 / static_cast<double>(p.touches.size()));
    });
  }
  if (name == "position") {
    if (o.first_weight < 0 || o.last_weight < 0 || o.first_weight + o.last_weight > 1) {
      return Status::InvalidArgument("position: first and last weights must be >= 0 and sum to at most 1");
    }
    return Split(name, set, [&](const Path& p, std::vector<double>* w) {
      const size_t n = p.touches.size();
      if (n == 1) {
        (*w)[0] = 1;
      } else if (n == 2) {  // no middle: the middle share is split between the two
        const double middle = 1 - o.first_weight - o.last_weight;
        (*w)[0] = o.first_weight + middle / 2;
        (*w)[1] = o.last_weight + middle / 2;
      } else {
        const double middle = (1 - o.first_weight - o.last_weight) / static_cast<double>(n - 2);
        std::fill(w->begin(), w->end(), middle);
        (*w)[0] = o.first_weight;
        (*w)[n - 1] = o.last_weight;
      }
    });
  }
  if (name == "time_decay") {
    if (!(o.half_life_days > 0)) return Status::InvalidArgument("time_decay: the half-life must be > 0 days");
    for (const Path& p : set.paths) {
      if (p.conversions > 0 && p.age_us.size() != p.touches.size()) {
        return Status::InvalidArgument(
            "time_decay: needs the time of each touch — paths built from the store, not read from a file");
      }
    }
    const double half_life_us = o.half_life_days * 86400e6;
    return Split(name, set, [&](const Path& p, std::vector<double>* w) {
      double sum = 0;
      for (size_t i = 0; i < p.touches.size(); ++i) {
        (*w)[i] = std::exp2(-static_cast<double>(std::max<int64_t>(0, p.age_us[i])) / half_life_us);
        sum += (*w)[i];
      }
      for (double& x : *w) x /= sum;
    });
  }
  if (name.size() == 7 && name.starts_with("markov") && name[6] >= '1' && name[6] <= '4') {
    return Markov(name, set, name[6] - '0', o.use_nulls);
  }
  if (name == "shapley_simple") return ShapleySimple(set);
  if (name == "shapley") return ShapleyExact(set);
  std::string known;
  for (const auto& m : ModelNames()) known += (known.empty() ? "" : ", ") + m;
  return Status::InvalidArgument("unknown model \"" + std::string(name) + "\"; known: " + known);
}

Result<MarkovEstimate> MarkovMonteCarlo(const PathSet& set, int order, bool use_nulls, uint64_t walks,
                                        uint64_t seed) {
  if (order < 1 || order > 4) return Status::InvalidArgument("order must be 1 to 4");
  const Chain chain = BuildChain(set, order, use_nulls);
  std::mt19937_64 rng(seed);
  auto estimate = [&](const std::vector<char>& removed) {
    uint64_t converted = 0;
    for (uint64_t w = 0; w < walks; ++w) {
      uint32_t s = kStart;
      while (s != kConversion && s != kNull && !removed[s] && chain.total[s] > 0) {
        double pick = std::uniform_real_distribution<double>(0, chain.total[s])(rng);
        uint32_t next = chain.out[s].back().first;
        for (const auto& [to, weight] : chain.out[s]) {
          if (pick < weight) {
            next = to;
            break;
          }
          pick -= weight;
        }
        s = next;
      }
      converted += s == kConversion;
    }
    return static_cast<double>(converted) / static_cast<double>(walks);
  };
  MarkovEstimate out;
  out.conversion_probability = estimate(std::vector<char>(chain.state.size(), 0));
  for (uint32_t ch = 0; ch < set.channels.size(); ++ch) out.removed.push_back(estimate(StatesWith(chain, ch)));
  return out;
}

}  // namespace quanyu::attribution
