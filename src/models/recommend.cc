#include "models/recommend.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

namespace quanyu::models {
namespace {

// Calls fn(begin, end) for each person's rows of `data` (sorted by one_id).
template <typename Fn>
void ForEachPerson(const Interactions& data, Fn fn) {
  for (size_t i = 0; i < data.rows.size();) {
    size_t j = i;
    while (j < data.rows.size() && data.rows[j].one_id == data.rows[i].one_id) ++j;
    fn(data.rows.data() + i, data.rows.data() + j);
    i = j;
  }
}

// The products by popularity, most bought first (ties: index).
std::vector<uint32_t> ByPopularity(const ItemSimilarity& sim) {
  std::vector<uint32_t> order(sim.products.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return sim.popularity[a] > sim.popularity[b]; });
  return order;
}

// Appends to `picked` products of `order` the person has not bought and
// that are not picked yet, up to `top`.
void FillFrom(const std::vector<uint32_t>& order, const std::vector<char>& bought, size_t top,
              std::vector<uint32_t>* picked) {
  for (uint32_t p : order) {
    if (picked->size() >= top) return;
    if (bought[p] || std::find(picked->begin(), picked->end(), p) != picked->end()) continue;
    picked->push_back(p);
  }
}

}  // namespace

ItemSimilarity FitItemSimilarity(const Interactions& data, const RecommendOptions& options) {
  const size_t n = data.products.size();
  ItemSimilarity sim;
  sim.products = data.products;
  sim.popularity.assign(n, 0);
  sim.neighbours.resize(n);
  std::vector<double> norm(n, 0);
  std::unordered_map<uint64_t, double> dots;  // (lower index << 32 | higher) -> sum of w_i w_j
  std::vector<std::pair<double, uint32_t>> items;
  ForEachPerson(data, [&](const Interactions::Row* begin, const Interactions::Row* end) {
    items.clear();
    for (const auto* r = begin; r != end; ++r) {
      items.push_back({r->bought ? 1.0 : options.view_weight, r->product});
      if (r->bought) sim.popularity[r->product] += 1;
    }
    if (items.size() > options.max_items_per_person) {
      std::partial_sort(items.begin(),
                        items.begin() + static_cast<ptrdiff_t>(options.max_items_per_person),
                        items.end(), [](const auto& a, const auto& b) {
                          return a.first != b.first ? a.first > b.first : a.second < b.second;
                        });
      items.resize(options.max_items_per_person);
    }
    for (size_t a = 0; a < items.size(); ++a) {
      norm[items[a].second] += items[a].first * items[a].first;
      for (size_t b = a + 1; b < items.size(); ++b) {
        const uint32_t lo = std::min(items[a].second, items[b].second);
        const uint32_t hi = std::max(items[a].second, items[b].second);
        dots[uint64_t{lo} << 32 | hi] += items[a].first * items[b].first;
      }
    }
  });
  for (const auto& [key, dot] : dots) {
    const auto lo = static_cast<uint32_t>(key >> 32), hi = static_cast<uint32_t>(key);
    const double cosine = dot / std::sqrt(norm[lo] * norm[hi]);
    sim.neighbours[lo].push_back({hi, cosine});
    sim.neighbours[hi].push_back({lo, cosine});
  }
  for (auto& list : sim.neighbours) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (list.size() > options.neighbours) list.resize(options.neighbours);
  }
  return sim;
}

std::vector<Recommendation> Recommend(const ItemSimilarity& sim, const Interactions& data,
                                      const RecommendOptions& options) {
  const size_t n = sim.products.size();
  const std::vector<uint32_t> popular = ByPopularity(sim);
  std::vector<double> score(n, 0);
  std::vector<char> bought(n, 0);
  std::vector<uint32_t> touched;
  std::vector<Recommendation> out;
  ForEachPerson(data, [&](const Interactions::Row* begin, const Interactions::Row* end) {
    for (const auto* r = begin; r != end; ++r) bought[r->product] = r->bought;
    for (const auto* r = begin; r != end; ++r) {
      const double w = r->bought ? 1.0 : options.view_weight;
      for (const auto& [other, cosine] : sim.neighbours[r->product]) {
        if (score[other] == 0) touched.push_back(other);
        score[other] += w * cosine;
      }
    }
    std::vector<uint32_t> candidates;
    for (uint32_t p : touched) {
      if (!bought[p]) candidates.push_back(p);
    }
    std::sort(candidates.begin(), candidates.end(), [&](uint32_t a, uint32_t b) {
      if (score[a] != score[b]) return score[a] > score[b];
      if (sim.popularity[a] != sim.popularity[b]) return sim.popularity[a] > sim.popularity[b];
      return a < b;
    });
    if (candidates.size() > options.top) candidates.resize(options.top);
    FillFrom(popular, bought, options.top, &candidates);
    out.push_back({begin->one_id, std::move(candidates)});
    for (uint32_t p : touched) score[p] = 0;
    touched.clear();
    for (const auto* r = begin; r != end; ++r) bought[r->product] = 0;
  });
  return out;
}

std::vector<Recommendation> RecommendPopular(const ItemSimilarity& sim, const Interactions& data,
                                             const RecommendOptions& options) {
  const std::vector<uint32_t> popular = ByPopularity(sim);
  std::vector<char> bought(sim.products.size(), 0);
  std::vector<Recommendation> out;
  ForEachPerson(data, [&](const Interactions::Row* begin, const Interactions::Row* end) {
    for (const auto* r = begin; r != end; ++r) bought[r->product] = r->bought;
    Recommendation rec{begin->one_id, {}};
    FillFrom(popular, bought, options.top, &rec.products);
    out.push_back(std::move(rec));
    for (const auto* r = begin; r != end; ++r) bought[r->product] = 0;
  });
  return out;
}

HitRate MeasureHitRate(const std::vector<Recommendation>& recommendations,
                       const ItemSimilarity& sim, const Interactions& data,
                       const Interactions& later) {
  std::map<std::string, uint32_t, std::less<>> index;
  for (uint32_t i = 0; i < sim.products.size(); ++i) index.emplace(sim.products[i], i);
  // Products each person bought before, as (one_id, product) pairs.
  std::vector<std::pair<uint32_t, uint32_t>> before;
  for (const auto& r : data.rows) {
    if (r.bought) before.push_back({r.one_id, r.product});
  }
  HitRate out;
  double hits = 0;
  ForEachPerson(later, [&](const Interactions::Row* begin, const Interactions::Row* end) {
    const uint32_t person = begin->one_id;
    auto rec = std::lower_bound(recommendations.begin(), recommendations.end(), person,
                                [](const Recommendation& r, uint32_t id) { return r.one_id < id; });
    if (rec == recommendations.end() || rec->one_id != person) return;  // unknown before
    bool counted = false, hit = false;
    for (const auto* r = begin; r != end; ++r) {
      if (!r->bought) continue;
      auto it = index.find(later.products[r->product]);
      if (it != index.end() &&
          std::binary_search(before.begin(), before.end(), std::make_pair(person, it->second))) {
        continue;  // bought before: not a new purchase
      }
      counted = true;
      if (it != index.end() && std::find(rec->products.begin(), rec->products.end(), it->second) !=
                                   rec->products.end()) {
        hit = true;
      }
    }
    if (counted) {
      ++out.persons;
      hits += hit;
    }
  });
  out.rate = out.persons ? hits / static_cast<double>(out.persons)
                         : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace quanyu::models
