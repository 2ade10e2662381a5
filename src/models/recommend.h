// Next-best product (docs/models.md, "Next-best product"): item-to-item
// cosine similarity over who viewed and bought what, and for each person the
// products most similar to theirs that they have not bought.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/store_data.h"

namespace quanyu::models {

struct RecommendOptions {
  double view_weight = 0.3;           // a view counts this much, a purchase 1
  size_t neighbours = 50;             // most similar products kept per product
  size_t top = 5;                     // products recommended per person
  size_t max_items_per_person = 100;  // the person's strongest interactions used
};

struct ItemSimilarity {
  std::vector<std::string> products;
  std::vector<double> popularity;  // buyers per product
  // Per product: its most similar products (index, cosine), best first.
  std::vector<std::vector<std::pair<uint32_t, double>>> neighbours;
};
ItemSimilarity FitItemSimilarity(const Interactions& data, const RecommendOptions& options);

struct Recommendation {
  uint32_t one_id = 0;
  std::vector<uint32_t> products;  // indexes, best first
};
// For every person in `data`: the `top` products with the highest summed
// similarity to the person's products, leaving out the ones they bought;
// products the similarity does not reach are filled in by popularity.
// Sorted by one_id.
std::vector<Recommendation> Recommend(const ItemSimilarity& sim, const Interactions& data,
                                      const RecommendOptions& options);
// The `top` most bought products for every person, leaving out the ones
// they bought: the baseline Recommend is measured against.
std::vector<Recommendation> RecommendPopular(const ItemSimilarity& sim, const Interactions& data,
                                             const RecommendOptions& options);

// Of the persons with recommendations who bought a product in `later` they
// had not bought in `data`, the share whose recommendations contain one of
// those products (the hit rate at `top`). `later` is matched to `sim` by
// product name, so it may come from another scan. NaN when nobody did.
struct HitRate {
  double rate = 0;
  size_t persons = 0;  // persons with a new purchase in `later`
};
HitRate MeasureHitRate(const std::vector<Recommendation>& recommendations,
                       const ItemSimilarity& sim, const Interactions& data,
                       const Interactions& later);

}  // namespace quanyu::models
