// Random numbers for the simulator: xoshiro256** seeded through splitmix64,
// plus the handful of distributions the world needs (exponential, gamma,
// beta, Poisson, normal). Written here rather than taken from <random> so the
// same seed gives the same world with every standard library: the
// std::*_distribution algorithms are implementation-defined.
//
// Thread-safety: an Rng is a plain value; give each thread (in practice each
// simulated person) its own.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace quanyu::sim::internal {

// splitmix64's finalizer: a bijective 64-bit mix.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A stable 64-bit hash of (seed, key, salt): used for per-person facts that
// other persons must be able to recompute (e.g. "is person q an advocate?").
inline uint64_t StableHash(uint64_t seed, uint64_t key, uint64_t salt) {
  return Mix64(Mix64(seed + 0x9E3779B97F4A7C15ull * (salt + 1)) ^ (key * 0xD6E8FEB86659FD93ull));
}

// StableHash mapped to [0, 1).
inline double StableUniform(uint64_t seed, uint64_t key, uint64_t salt) {
  return static_cast<double>(StableHash(seed, key, salt) >> 11) * 0x1.0p-53;
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { Reseed(seed); }

  void Reseed(uint64_t seed) {
    for (auto& word : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      word = Mix64(seed);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Uniform() < p; }
  // Uniform integer in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform integer in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }

  // Standard normal (Box–Muller, one value per call so the stream stays simple).
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1]
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  // Gamma(shape, scale) by Marsaglia–Tsang. REQUIRES: shape > 0, scale > 0.
  double Gamma(double shape, double scale) {
    if (shape < 1.0) {
      const double u = 1.0 - Uniform();
      return Gamma(shape + 1.0, scale) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = Normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = Uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * scale;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v * scale;
    }
  }

  double Beta(double a, double b) {
    const double x = Gamma(a, 1.0);
    const double y = Gamma(b, 1.0);
    return x / (x + y);
  }

  // Poisson(mean): inversion for the small means the world uses, a rounded
  // normal above 30 (only reached with extreme options).
  int64_t Poisson(double mean) {
    if (!(mean > 0.0)) return 0;
    if (mean < 30.0) {
      double p = std::exp(-mean);
      double cumulative = p;
      const double u = Uniform();
      int64_t k = 0;
      while (u > cumulative && k < 200) {
        ++k;
        p *= mean / static_cast<double>(k);
        cumulative += p;
      }
      return k;
    }
    return std::max<int64_t>(0, std::llround(mean + std::sqrt(mean) * Normal()));
  }

  // An index drawn from a cumulative weight table (non-decreasing, last entry
  // the total). REQUIRES: n > 0 and cdf[n-1] > 0.
  size_t FromCdf(const double* cdf, size_t n) {
    const double u = Uniform() * cdf[n - 1];
    const size_t i = static_cast<size_t>(std::upper_bound(cdf, cdf + n, u) - cdf);
    return std::min(i, n - 1);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace quanyu::sim::internal
