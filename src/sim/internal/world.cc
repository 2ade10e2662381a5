#include "sim/internal/world.h"

#include <cmath>
#include <string>

#include "common/time_util.h"
#include "sim/internal/random.h"

namespace quanyu::sim::internal {
namespace {

constexpr double kPersonsPerScaleUnit = 100'000.0;
constexpr double kLandingPerClick = 0.85;  // clicks that load the landing page

Status ValidateOptions(const SimOptions& o) {
  if (o.persons < 1 || o.persons > 100'000'000) {
    return Status::InvalidArgument("sim: persons must be in [1, 100000000], got " +
                                   std::to_string(o.persons));
  }
  if (o.days < 1 || o.days > 3660) {
    return Status::InvalidArgument("sim: days must be in [1, 3660], got " + std::to_string(o.days));
  }
  if (o.start_us < 0) return Status::InvalidArgument("sim: start_us must not be negative");
  if (o.threads < 0 || o.threads > 1024) {
    return Status::InvalidArgument("sim: threads must be in [0, 1024], got " +
                                   std::to_string(o.threads));
  }
  if (o.batch_events < 1) return Status::InvalidArgument("sim: batch_events must be >= 1");
  if (!(o.junk_identifier_rate >= 0.0 && o.junk_identifier_rate <= 1.0)) {
    return Status::InvalidArgument("sim: junk_identifier_rate must be in [0, 1]");
  }
  if (o.identity_truth_max_persons < 0) {
    return Status::InvalidArgument("sim: identity_truth_max_persons must not be negative");
  }
  return Status::OK();
}

bool CampaignRuns(const CampaignSpec& c, int day) {
  return c.flight_days == 0 || ((day + c.flight_phase) / c.flight_days) % 2 == 0;
}

// Daily multiplier per channel: a weekly rhythm (weekends +25%) times a slow
// wave whose period and phase differ by channel, so spend series are not
// collinear and a media-mix model can tell channels apart.
std::vector<double> ChannelRhythm(int channel, int days, int64_t first_day, Rng* rng) {
  std::vector<double> m(static_cast<size_t>(days));
  const double period = 20.0 + 7.0 * channel;
  const double phase = rng->Uniform() * 6.283185307179586;
  for (int d = 0; d < days; ++d) {
    const int weekday = static_cast<int>(((first_day + d) % 7 + 7 + 3) % 7);  // 0 = Monday
    const double week = weekday >= 5 ? 1.25 : 1.0;
    m[static_cast<size_t>(d)] =
        week * (1.0 + 0.35 * std::sin(6.283185307179586 * d / period + phase));
  }
  return m;
}

void AddSpendRows(World* w, Rng* rng) {
  const int days = w->options.days;
  const double persons = static_cast<double>(w->options.persons);
  for (int d = 0; d < days; ++d) {
    const std::string date = FormatDay(w->first_day + d);
    for (int k = 0; k < kCampaignCount; ++k) {
      const double spend = w->campaign_spend[static_cast<size_t>(k)][static_cast<size_t>(d)];
      if (spend <= 0) continue;
      const int c = static_cast<int>(kCampaigns[static_cast<size_t>(k)].channel);
      const ChannelSpec& spec = kChannels[static_cast<size_t>(c)];
      const double channel_spend = w->channel_spend[static_cast<size_t>(c)][static_cast<size_t>(d)];
      const double landings = persons * spec.platform_share *
                              w->paid_rate[static_cast<size_t>(c)][static_cast<size_t>(d)] * spend /
                              channel_spend;
      SpendRow row;
      row.date = date;
      row.channel = std::string(spec.name);
      row.campaign = std::string(kCampaigns[static_cast<size_t>(k)].name);
      row.spend = spend;
      row.impressions = std::llround(spend / spec.cpm * 1000.0 * std::exp(0.1 * rng->Normal()));
      row.clicks = std::llround(landings / kLandingPerClick * std::exp(0.1 * rng->Normal()));
      if (row.clicks > row.impressions) row.clicks = row.impressions;
      w->spend_rows.push_back(std::move(row));
    }
  }
}

}  // namespace

double Hill(double spend, double half_saturation, double shape) {
  if (spend <= 0 || half_saturation <= 0) return 0;
  const double x = std::pow(spend / half_saturation, shape);
  return x / (1.0 + x);
}

Result<World> BuildWorld(const SimOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  World w;
  w.options = options;
  w.end_us = options.start_us + static_cast<int64_t>(options.days) * kMicrosPerDay;
  w.first_day = DayOf(options.start_us);
  w.scale = static_cast<double>(options.persons) / kPersonsPerScaleUnit;
  const int days = options.days;
  const auto n_days = static_cast<size_t>(days);
  Rng rng(Mix64(options.seed ^ 0x51A1'3EED'0000'0001ull));

  std::array<std::vector<double>, kChannelCount> rhythm;
  for (int c = 0; c < kChannelCount; ++c) {
    rhythm[static_cast<size_t>(c)] = ChannelRhythm(c, days, w.first_day, &rng);
    w.channel_spend[static_cast<size_t>(c)].assign(n_days, 0.0);
  }
  w.campaign_spend.assign(kCampaigns.size(), std::vector<double>(n_days, 0.0));
  for (int k = 0; k < kCampaignCount; ++k) {
    const CampaignSpec& camp = kCampaigns[static_cast<size_t>(k)];
    const auto c = static_cast<size_t>(camp.channel);
    for (int d = 0; d < days; ++d) {
      const double noise = std::exp(0.2 * rng.Normal() - 0.02);
      if (!CampaignRuns(camp, d)) continue;
      double spend = kChannels[c].daily_budget * w.scale * camp.budget_share *
                     rhythm[c][static_cast<size_t>(d)] * noise;
      spend = std::round(spend * 100.0) / 100.0;
      if (spend < 0.01) spend = 0.01;
      w.campaign_spend[static_cast<size_t>(k)][static_cast<size_t>(d)] = spend;
      w.channel_spend[c][static_cast<size_t>(d)] += spend;
    }
  }
  for (int c = 0; c < kChannelCount; ++c) {
    const ChannelSpec& spec = kChannels[static_cast<size_t>(c)];
    auto& paid = w.paid_rate[static_cast<size_t>(c)];
    auto& cdf = w.touch_cdf[static_cast<size_t>(c)];
    paid.assign(n_days, 0.0);
    cdf.assign(n_days, 0.0);
    double total = 0;
    for (size_t d = 0; d < n_days; ++d) {
      paid[d] = spec.max_paid_rate * Hill(w.channel_spend[static_cast<size_t>(c)][d],
                                          spec.half_saturation * w.scale, spec.hill_shape);
      total += spec.organic_rate + paid[d];
      cdf[d] = total;
    }
  }
  AddSpendRows(&w, &rng);
  return w;
}

}  // namespace quanyu::sim::internal
