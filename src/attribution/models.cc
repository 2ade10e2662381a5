#include "attribution/models.h"

#include <algorithm>
#include <cmath>
#include <limits>
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
  for (const std::string& c : set.channels) r.channels.push_back({c, 0, 0, std::nullopt, std::nullopt});
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

// A state's channels packed 16 bits each (channel + 1, the newest lowest),
// so the window slides by a shift; at most kMaxMarkovChannels channels.
constexpr size_t kMaxMarkovChannels = 0xfffe;

// Adds `w` to the transition to `to` (states have few successors: a scan).
void AddTransition(std::vector<std::pair<uint32_t, double>>* out, uint32_t to, double w) {
  for (auto& [t, x] : *out) {
    if (t == to) {
      x += w;
      return;
    }
  }
  out->emplace_back(to, w);
}

Chain BuildChain(const PathSet& set, int order, bool use_nulls) {
  Chain c;
  c.state = {{}, {}, {}};
  c.out.resize(3);
  const size_t n = set.channels.size();
  const uint64_t mask = order >= 4 ? ~uint64_t{0} : (uint64_t{1} << (16 * order)) - 1;
  // Order 1: the state of channel ch is ch + 3, made up front.
  std::unordered_map<uint64_t, uint32_t> index;
  if (order == 1) {
    for (uint32_t ch = 0; ch < n; ++ch) c.state.push_back({ch});
    c.out.resize(c.state.size());
  }
  auto state_of = [&](uint64_t key) -> uint32_t {
    if (order == 1) return static_cast<uint32_t>(key - 1 + 3);
    auto [it, fresh] = index.emplace(key, static_cast<uint32_t>(c.state.size()));
    if (fresh) {
      std::vector<uint32_t> channels;  // oldest first
      for (uint64_t k = key; k != 0; k >>= 16) channels.insert(channels.begin(), static_cast<uint32_t>((k & 0xffff) - 1));
      c.state.push_back(std::move(channels));
      c.out.emplace_back();
    }
    return it->second;
  };
  for (const Path& p : set.paths) {
    const double nulls = use_nulls ? p.nulls : 0;
    const double weight = p.conversions + nulls;
    if (p.touches.empty() || weight <= 0) continue;
    uint32_t from = kStart;
    uint64_t key = 0;
    for (uint32_t ch : p.touches) {
      key = ((key << 16) | (ch + 1)) & mask;
      const uint32_t to = state_of(key);
      AddTransition(&c.out[from], to, weight);
      from = to;
    }
    if (p.conversions > 0) AddTransition(&c.out[from], kConversion, p.conversions);
    if (nulls > 0) AddTransition(&c.out[from], kNull, nulls);
  }
  c.total.assign(c.state.size(), 0);
  for (size_t st = 0; st < c.state.size(); ++st) {
    // Fixed order, whatever order the paths came in.
    std::sort(c.out[st].begin(), c.out[st].end());
    for (const auto& [to, w] : c.out[st]) c.total[st] += w;
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
  if (set.channels.size() > kMaxMarkovChannels) {
    return Status::InvalidArgument(std::string(name) + ": " + std::to_string(set.channels.size()) +
                                   " channels; Markov chains take at most " + std::to_string(kMaxMarkovChannels));
  }
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
    r.channels.push_back({set.channels[ch], conversions * share, value * share, effect[ch], std::nullopt});
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

// Shapley values of the game v over n players (v indexed by coalition
// bitmask, v[0] the empty one): φ_j = Σ_{S ∌ j} |S|!(n-|S|-1)!/n! · (v(S+j) - v(S)).
std::vector<double> ShapleyOfGame(size_t n, const std::vector<double>& v) {
  const size_t full = size_t{1} << n;
  std::vector<double> weight(n, 0);  // for a coalition of k others
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
  return phi;
}

// The set's conversions and value split in proportion to the positive φ.
Result<ModelResult> SplitByShapley(std::string_view name, const PathSet& set, const std::vector<double>& phi) {
  double positive = 0;
  for (double f : phi) positive += std::max(0.0, f);
  if (!(positive > 0)) {
    return Status::InvalidArgument(std::string(name) + ": no channel raises the conversion rate");
  }
  ModelResult r;
  r.model = std::string(name);
  const double conversions = set.total_conversions(), value = set.total_value();
  for (size_t j = 0; j < phi.size(); ++j) {
    const double share = std::max(0.0, phi[j]) / positive;
    r.channels.push_back({set.channels[j], conversions * share, value * share, std::nullopt, std::nullopt});
  }
  return r;
}

Status CheckShapley(std::string_view name, const PathSet& set, bool needs_nulls) {
  if (set.channels.size() > kMaxShapleyChannels) {
    return Status::InvalidArgument(std::string(name) + ": " + std::to_string(set.channels.size()) +
                                   " channels; exact Shapley values take at most " +
                                   std::to_string(kMaxShapleyChannels) +
                                   " (use shapley_response, shapley_simple or coarser channels)");
  }
  if (needs_nulls && !(set.total_nulls() > 0)) {
    return Status::InvalidArgument(std::string(name) +
                                   ": needs paths that did not convert (total_null), since a coalition's "
                                   "worth is its conversion rate");
  }
  return Status::OK();
}

// shapley_observed: v(S) = the observed conversion rate of the paths whose
// channels all lie in S (0 when there are none).
Result<ModelResult> ShapleyObserved(const PathSet& set) {
  RETURN_IF_ERROR(CheckShapley("shapley_observed", set, /*needs_nulls=*/true));
  const size_t n = set.channels.size();
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
  return SplitByShapley("shapley_observed", set, ShapleyOfGame(n, v));
}

// shapley: v(S) = P(conversion from the start) of the first-order chain
// with the channels outside S sent to null, for every coalition: the
// removal effect's chain, asked of every coalition rather than only of
// "all but one". Each v(S) solves (I - Q_S) x = r_S exactly by elimination
// (Q_S the transitions among S's states, r_S theirs to conversion).
Result<ModelResult> ShapleyChain(const PathSet& set, bool use_nulls) {
  RETURN_IF_ERROR(CheckShapley("shapley", set, /*needs_nulls=*/false));
  const size_t n = set.channels.size();
  const Chain chain = BuildChain(set, 1, use_nulls);  // state of channel c: c + 3
  std::vector<double> q(n * n, 0), r(n, 0), start(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const double total = chain.total[i + 3];
    if (!(total > 0)) continue;
    for (const auto& [to, w] : chain.out[i + 3]) {
      if (to == kConversion) r[i] = w / total;
      if (to >= 3) q[i * n + (to - 3)] = w / total;
    }
  }
  for (const auto& [to, w] : chain.out[kStart]) {
    if (to >= 3) start[to - 3] = w / chain.total[kStart];
  }
  const size_t full = size_t{1} << n;
  std::vector<double> v(full, 0);
  std::vector<size_t> members;
  std::vector<double> a, x;
  for (size_t s = 1; s < full; ++s) {
    members.clear();
    for (size_t i = 0; i < n; ++i) {
      if (s >> i & 1) members.push_back(i);
    }
    const size_t k = members.size();
    a.assign(k * (k + 1), 0);  // [I - Q_S | r_S], row-major
    for (size_t i = 0; i < k; ++i) {
      for (size_t j = 0; j < k; ++j) a[i * (k + 1) + j] = (i == j) - q[members[i] * n + members[j]];
      a[i * (k + 1) + k] = r[members[i]];
    }
    // Gaussian elimination with partial pivoting. I - Q_S is nonsingular:
    // every observed path ends, so from each state some path leaves S or
    // absorbs (never-seen channels have rows of the identity).
    for (size_t col = 0; col < k; ++col) {
      size_t pivot = col;
      for (size_t i = col + 1; i < k; ++i) {
        if (std::abs(a[i * (k + 1) + col]) > std::abs(a[pivot * (k + 1) + col])) pivot = i;
      }
      if (pivot != col) {
        for (size_t j = 0; j <= k; ++j) std::swap(a[col * (k + 1) + j], a[pivot * (k + 1) + j]);
      }
      const double d = a[col * (k + 1) + col];
      if (d == 0) return Status::Internal("shapley: a singular chain for a coalition");
      for (size_t i = col + 1; i < k; ++i) {
        const double f = a[i * (k + 1) + col] / d;
        if (f == 0) continue;
        for (size_t j = col; j <= k; ++j) a[i * (k + 1) + j] -= f * a[col * (k + 1) + j];
      }
    }
    x.assign(k, 0);
    for (size_t i = k; i-- > 0;) {
      double sum = a[i * (k + 1) + k];
      for (size_t j = i + 1; j < k; ++j) sum -= a[i * (k + 1) + j] * x[j];
      x[i] = sum / a[i * (k + 1) + i];
    }
    for (size_t i = 0; i < k; ++i) v[s] += start[members[i]] * x[i];
  }
  return SplitByShapley("shapley", set, ShapleyOfGame(n, v));
}

// ---- Shapley values on a fitted response model ---------------------------------------

// A path as channel -> touch count, with its weights.
struct CountPath {
  std::vector<std::pair<uint32_t, double>> counts;
  double conversions = 0, nulls = 0, value = 0;
};

std::vector<CountPath> CountPaths(const PathSet& set) {
  std::map<std::vector<std::pair<uint32_t, double>>, CountPath> by_counts;
  std::vector<std::pair<uint32_t, double>> counts;
  for (const Path& p : set.paths) {
    if (p.touches.empty()) continue;
    std::vector<uint32_t> sorted(p.touches);
    std::sort(sorted.begin(), sorted.end());
    counts.clear();
    for (uint32_t ch : sorted) {
      if (!counts.empty() && counts.back().first == ch) {
        counts.back().second += 1;
      } else {
        counts.push_back({ch, 1});
      }
    }
    CountPath& c = by_counts[counts];
    c.counts = counts;
    c.conversions += p.conversions;
    c.nulls += p.nulls;
    c.value += p.value;
  }
  std::vector<CountPath> out;
  out.reserve(by_counts.size());
  for (auto& [key, c] : by_counts) out.push_back(std::move(c));
  return out;
}

// EM for the noisy-OR (models.h, FitResponseModel): the E step lays each
// converting path's conversions on the baseline and its touches in
// proportion to their chance of having triggered one; the M step sets each
// rate to its expected triggers over its exposures.
ResponseModel FitResponse(const std::vector<CountPath>& paths, size_t channels) {
  ResponseModel m;
  m.effect.assign(channels, 0.01);
  m.baseline = 0.01;
  std::vector<double> exposure(channels, 0);
  double persons = 0;
  for (const CountPath& p : paths) {
    persons += p.conversions + p.nulls;
    for (auto [ch, n] : p.counts) exposure[ch] += (p.conversions + p.nulls) * n;
  }
  std::vector<double> active(channels);
  std::vector<double> log_fail(channels);
  double last_ll = -std::numeric_limits<double>::infinity();
  for (m.iterations = 1; m.iterations <= 2000; ++m.iterations) {
    for (size_t c = 0; c < channels; ++c) log_fail[c] = std::log1p(-m.effect[c]);
    std::fill(active.begin(), active.end(), 0);
    double base_active = 0, ll = 0;
    for (const CountPath& p : paths) {
      double log_q = std::log1p(-m.baseline);
      for (auto [ch, n] : p.counts) log_q += n * log_fail[ch];
      const double q = std::exp(log_q), prob = 1 - q;
      // (A channel that only ever touched converting paths reaches e = 1,
      // log_q = -inf: its paths have no nulls to weigh it.)
      if (p.nulls > 0) ll += p.nulls * log_q;
      if (p.conversions > 0) ll += p.conversions * std::log(std::max(prob, 1e-300));
      if (!(p.conversions > 0) || !(prob > 0)) continue;
      const double w = p.conversions / prob;
      base_active += w * m.baseline;
      for (auto [ch, n] : p.counts) active[ch] += w * n * m.effect[ch];
    }
    m.baseline = persons > 0 ? base_active / persons : 0;
    for (size_t c = 0; c < channels; ++c) m.effect[c] = exposure[c] > 0 ? active[c] / exposure[c] : 0;
    if (std::abs(ll - last_ll) <= 1e-10 * std::abs(ll)) break;
    last_ll = ll;
  }
  return m;
}

// Shapley values of the path game g(S) = P(S) - P(∅) = (1-b)(1 - Π_{c∈S} q_c),
// q_c = (1-e_c)^n_c: φ_c = (1-b)(1-q_c) Σ_s s!(k-1-s)!/k! · E_s(q without c),
// E_s the elementary symmetric polynomials — exact, in O(k^3).
void PathShapley(const CountPath& p, const ResponseModel& m, std::vector<double>* phi) {
  const size_t k = p.counts.size();
  std::vector<double> q(k);
  for (size_t i = 0; i < k; ++i) q[i] = std::pow(1 - m.effect[p.counts[i].first], p.counts[i].second);
  std::vector<double> weight(k);  // s!(k-1-s)!/k!
  for (size_t s = 0; s < k; ++s) {
    weight[s] = std::exp(std::lgamma(static_cast<double>(s) + 1) + std::lgamma(static_cast<double>(k - s)) -
                         std::lgamma(static_cast<double>(k) + 1));
  }
  phi->assign(k, 0);
  std::vector<double> e(k);
  for (size_t c = 0; c < k; ++c) {
    std::fill(e.begin(), e.end(), 0);
    e[0] = 1;
    size_t used = 0;
    for (size_t i = 0; i < k; ++i) {
      if (i == c) continue;
      ++used;
      for (size_t s = used; s > 0; --s) e[s] += e[s - 1] * q[i];
    }
    double sum = 0;
    for (size_t s = 0; s < k; ++s) sum += weight[s] * e[s];
    (*phi)[c] = (1 - m.baseline) * (1 - q[c]) * sum;
  }
}

Result<ModelResult> ShapleyResponse(const PathSet& set) {
  if (!(set.total_nulls() > 0)) {
    return Status::InvalidArgument("shapley_response: needs paths that did not convert (total_null) to fit "
                                   "each channel's conversion rate");
  }
  const std::vector<CountPath> paths = CountPaths(set);
  const ResponseModel m = FitResponse(paths, set.channels.size());
  ModelResult r;
  r.model = "shapley_response";
  for (size_t c = 0; c < set.channels.size(); ++c) {
    r.channels.push_back({set.channels[c], 0, 0, std::nullopt, m.effect[c]});
  }
  std::vector<double> phi;
  for (const CountPath& p : paths) {
    if (!(p.conversions > 0) && !(p.value > 0)) continue;
    PathShapley(p, m, &phi);
    double sum = 0;
    for (double f : phi) sum += f;
    for (size_t i = 0; i < p.counts.size(); ++i) {
      // Channels the model gives no effect at all: equal parts.
      const double share = sum > 0 ? phi[i] / sum : 1.0 / static_cast<double>(p.counts.size());
      r.channels[p.counts[i].first].conversions += p.conversions * share;
      r.channels[p.counts[i].first].value += p.value * share;
    }
  }
  return r;
}

}  // namespace

ResponseModel FitResponseModel(const PathSet& set) {
  return FitResponse(CountPaths(set), set.channels.size());
}

const std::vector<std::string>& ModelNames() {
  static const std::vector<std::string> names = {
      "first",   "last",    "last_non_direct", "linear",  "position",       "time_decay",
      "markov1", "markov2", "markov3",         "markov4", "shapley_simple", "shapley", "shapley_response", "shapley_observed"};
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
  if (name == "shapley") return ShapleyChain(set, o.use_nulls);
  if (name == "shapley_response") return ShapleyResponse(set);
  if (name == "shapley_observed") return ShapleyObserved(set);
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
