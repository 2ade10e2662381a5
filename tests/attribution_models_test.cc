// Attribution models (issue 6, docs/attribution.md): on ChannelAttribution's
// sample paths the heuristic models follow its definitions (recomputed here
// from the raw lines, without the library's parser), every model's credits
// sum to the total conversions and value, Markov removal effects equal
// hand-solved values on small chains and a Monte-Carlo walk on the sample,
// and the paths file round-trips.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "attribution/models.h"
#include "attribution/paths.h"

namespace quanyu::attribution {
namespace {

constexpr char kPaths[] = QUANYU_SOURCE_DIR "/../shared/data/channel-paths/paths.csv";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const PathSet& Sample() {
  static const PathSet* set = [] {
    auto read = ReadPathsCsv(ReadFile(kPaths));
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    return new PathSet(read.ok() ? *read : PathSet());
  }();
  return *set;
}

std::map<std::string, const ChannelCredit*> ByChannel(const ModelResult& r) {
  std::map<std::string, const ChannelCredit*> out;
  for (const auto& c : r.channels) out[c.channel] = &c;
  return out;
}

// ChannelAttribution's heuristic_models, recomputed from the file's lines:
// first_touch and last_touch give a path's conversions and value to its
// first / last channel, linear_touch 1/n to each of its n touches.
TEST(AttributionModels, HeuristicsFollowChannelAttribution) {
  std::map<std::string, double> first_c, first_v, last_c, last_v, lin_c, lin_v;
  std::istringstream in(ReadFile(kPaths));
  std::string line;
  std::getline(in, line);  // header
  size_t lines = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++lines;
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ';');) f.push_back(x);
    ASSERT_EQ(f.size(), 4u) << line;
    std::vector<std::string> ch;
    for (size_t at = 0;;) {
      const size_t gt = f[0].find(" > ", at);
      ch.push_back(f[0].substr(at, gt == std::string::npos ? std::string::npos : gt - at));
      if (gt == std::string::npos) break;
      at = gt + 3;
    }
    const double c = std::stod(f[1]), v = std::stod(f[2]);
    first_c[ch.front()] += c;
    first_v[ch.front()] += v;
    last_c[ch.back()] += c;
    last_v[ch.back()] += v;
    for (const auto& x : ch) {
      lin_c[x] += c / static_cast<double>(ch.size());
      lin_v[x] += v / static_cast<double>(ch.size());
    }
  }
  ASSERT_EQ(lines, 10000u);
  ASSERT_EQ(Sample().paths.size(), 10000u);
  ASSERT_EQ(Sample().channels.size(), 12u);
  const std::pair<const char*, std::pair<std::map<std::string, double>*, std::map<std::string, double>*>>
      want[] = {{"first", {&first_c, &first_v}}, {"last", {&last_c, &last_v}}, {"linear", {&lin_c, &lin_v}}};
  for (const auto& [model, maps] : want) {
    auto r = RunModel(model, Sample(), ModelOptions());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto got = ByChannel(*r);
    ASSERT_EQ(got.size(), 12u);
    for (const auto& [channel, credit] : got) {
      EXPECT_NEAR(credit->conversions, (*maps.first)[channel], 1e-9) << model << " " << channel;
      EXPECT_NEAR(credit->value, (*maps.second)[channel], 1e-9) << model << " " << channel;
    }
  }
}

TEST(AttributionModels, EveryModelCreditsTheTotals) {
  const double conversions = Sample().total_conversions(), value = Sample().total_value();
  EXPECT_GT(conversions, 0);
  for (const std::string& model : ModelNames()) {
    auto r = RunModel(model, Sample(), ModelOptions());
    if (model == "time_decay") {  // a file has no touch times
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("time of each touch"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(r.ok()) << model << ": " << r.status().ToString();
    double c = 0, v = 0;
    for (const auto& ch : r->channels) {
      EXPECT_GE(ch.conversions, 0) << model << " " << ch.channel;
      c += ch.conversions;
      v += ch.value;
    }
    EXPECT_NEAR(c, conversions, 1e-6 * conversions) << model;
    EXPECT_NEAR(v, value, 1e-6 * value) << model;
  }
}

// Hand-solved: paths "a > b" (1 conversion), "a" (1 null), "b" (1 + 1
// null). Order 1: start→a 2, start→b 2, a→b 1, a→null 1, b→conv 2,
// b→null 1. P(b) = 2/3, P(a) = P(b)/2 = 1/3, P(start) = 1/2. Without a:
// P = (0 + 2/3)/2 = 1/3, removal effect 1/3; without b: P = 0, effect 1.
// Credits: a 1/4 and b 3/4 of 2 conversions.
TEST(AttributionModels, MarkovRemovalEffectsOnAHandSolvedChain) {
  auto set = ReadPathsCsv("path;total_conversions;total_conversion_value;total_null\n"
                          "a > b;1;10;0\na;0;0;1\nb;1;30;1\n");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  auto r = RunModel("markov1", *set, ModelOptions());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(*r->conversion_probability, 0.5, 1e-12);
  auto got = ByChannel(*r);
  EXPECT_NEAR(*got["a"]->removal_effect, 1.0 / 3, 1e-12);
  EXPECT_NEAR(*got["b"]->removal_effect, 1.0, 1e-12);
  EXPECT_NEAR(got["a"]->conversions, 0.5, 1e-12);
  EXPECT_NEAR(got["b"]->conversions, 1.5, 1e-12);
  EXPECT_NEAR(got["a"]->value, 10, 1e-9);  // 1/4 of 40
  // Without null paths: only converting paths; removing a leaves "b" alone.
  ModelOptions no_nulls;
  no_nulls.use_nulls = false;
  auto rn = RunModel("markov1", *set, no_nulls);
  ASSERT_TRUE(rn.ok());
  EXPECT_NEAR(*rn->conversion_probability, 1.0, 1e-12);
  // start→a 1, start→b 1, a→b 1, b→conv 2: without a, P = 1/2; without b, 0.
  EXPECT_NEAR(*ByChannel(*rn)["a"]->removal_effect, 0.5, 1e-12);
  EXPECT_NEAR(*ByChannel(*rn)["b"]->removal_effect, 1.0, 1e-12);
}

// A loop: "a > a > b" (1 conversion), "a" (1 null). start→a 2, a→a 1,
// a→b 1, a→null 1, b→conv 1: P(a) = P(a)/3 + 1/3, so P(a) = 1/2.
TEST(AttributionModels, MarkovSolvesChainsWithLoops) {
  auto set = ReadPathsCsv("path;total_conversions;total_conversion_value;total_null\n"
                          "a > a > b;1;5;0\na;0;0;1\n");
  ASSERT_TRUE(set.ok());
  auto r = RunModel("markov1", *set, ModelOptions());
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(*r->conversion_probability, 0.5, 1e-12);
  // Order 2: states (a), (a,a), (a,b): start→(a) 2, (a)→(a,a) 1, (a)→null 1,
  // (a,a)→(a,b) 1, (a,b)→conv 1: P = 1/2 as well, and no loop.
  auto r2 = RunModel("markov2", *set, ModelOptions());
  ASSERT_TRUE(r2.ok());
  EXPECT_NEAR(*r2->conversion_probability, 0.5, 1e-12);

  // A channel repeated 100,000 times: a→a 99,999, a→conv 1, a→null 1, so
  // P(a) = (99,999 P(a) + 1) / 100,001 = 1/2. Iterating the loop would need
  // millions of sweeps; it is solved in closed form.
  std::string many = "path;total_conversions;total_conversion_value;total_null\na";
  for (int i = 1; i < 100'000; ++i) many += " > a";
  many += ";1;1;0\na;0;0;1\n";
  auto looped = ReadPathsCsv(many);
  ASSERT_TRUE(looped.ok());
  auto r3 = RunModel("markov1", *looped, ModelOptions());
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_NEAR(*r3->conversion_probability, 0.5, 1e-12);
}

TEST(AttributionModels, ExactMarkovAgreesWithMonteCarloOnTheSample) {
  for (int order : {1, 2, 3}) {
    const std::string name = "markov" + std::to_string(order);
    auto exact = RunModel(name, Sample(), ModelOptions());
    ASSERT_TRUE(exact.ok()) << exact.status().ToString();
    auto mc = MarkovMonteCarlo(Sample(), order, true, 200'000, 7);
    ASSERT_TRUE(mc.ok());
    const double p = *exact->conversion_probability;
    // 200,000 walks: a standard error of at most ~0.0011.
    EXPECT_NEAR(mc->conversion_probability, p, 0.006) << name;
    for (size_t c = 0; c < exact->channels.size(); ++c) {
      const double removed = p * (1 - *exact->channels[c].removal_effect);
      EXPECT_NEAR(mc->removed[c], removed, 0.006) << name << " without " << exact->channels[c].channel;
    }
  }
}

TEST(AttributionModels, PositionAndShapleyDefinitions) {
  auto set = ReadPathsCsv("path;total_conversions;total_conversion_value;total_null\n"
                          "a;1;1;0\na > b;1;1;0\na > b > c > d;1;1;0\nd;0;0;3\n");
  ASSERT_TRUE(set.ok());
  auto pos = RunModel("position", *set, ModelOptions());
  ASSERT_TRUE(pos.ok());
  auto p = ByChannel(*pos);
  // a: 1 + 0.5 + 0.4; b: 0.5 + 0.1; c: 0.1; d: 0.4.
  EXPECT_NEAR(p["a"]->conversions, 1.9, 1e-12);
  EXPECT_NEAR(p["b"]->conversions, 0.6, 1e-12);
  EXPECT_NEAR(p["c"]->conversions, 0.1, 1e-12);
  EXPECT_NEAR(p["d"]->conversions, 0.4, 1e-12);
  auto simple = RunModel("shapley_simple", *set, ModelOptions());
  ASSERT_TRUE(simple.ok());
  auto s = ByChannel(*simple);
  EXPECT_NEAR(s["a"]->conversions, 1 + 0.5 + 0.25, 1e-12);
  EXPECT_NEAR(s["d"]->conversions, 0.25, 1e-12);
  ModelOptions bad;
  bad.first_weight = 0.7;
  EXPECT_FALSE(RunModel("position", *set, bad).ok());
  EXPECT_EQ(RunModel("nope", *set, ModelOptions()).status().code(), StatusCode::kInvalidArgument);
}

// Two channels, exact Shapley by hand: v({a}) = rate of paths within {a}
// = 1/2, v({b}) = 0/1 = 0, v({a,b}) = (1 + 0 + 1)/(2 + 1 + 1) = 1/2.
// phi_a = (v(a) - 0 + v(ab) - v(b))/2 = 1/2, phi_b = (v(b) + v(ab) - v(a))/2 = 0.
TEST(AttributionModels, ObservedShapleyOnTwoChannels) {
  auto set = ReadPathsCsv("path;total_conversions;total_conversion_value;total_null\n"
                          "a;1;2;1\nb;0;0;1\na > b;1;2;0\n");
  ASSERT_TRUE(set.ok());
  auto r = RunModel("shapley_observed", *set, ModelOptions());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto got = ByChannel(*r);
  EXPECT_NEAR(got["a"]->conversions, 2, 1e-12);
  EXPECT_NEAR(got["b"]->conversions, 0, 1e-12);
}

TEST(AttributionPaths, RoundTripAndPreciseErrors) {
  const std::string text = WritePathsCsv(Sample());
  auto again = ReadPathsCsv(text);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->channels, Sample().channels);
  ASSERT_EQ(again->paths.size(), Sample().paths.size());
  for (size_t i = 0; i < Sample().paths.size(); ++i) {
    EXPECT_EQ(again->paths[i].touches, Sample().paths[i].touches);
    EXPECT_EQ(again->paths[i].conversions, Sample().paths[i].conversions);
    EXPECT_EQ(again->paths[i].value, Sample().paths[i].value);
    EXPECT_EQ(again->paths[i].nulls, Sample().paths[i].nulls);
  }
  const std::string header = "path;total_conversions;total_conversion_value;total_null\n";
  struct Case {
    std::string text, message;
  } cases[] = {
      {"", "empty"},
      {"path;conversions\n", "line 1"},
      {header + "a > > b;1;1;0\n", "line 2: path \"a > > b\" has an empty channel"},
      {header + "a;1;1\n", "line 2: expected 4 fields"},
      {header + "a;x;1;0\n", "line 2: total_conversions \"x\""},
      {header + "a;1;-3;0\n", "total_conversion_value \"-3\" is not a number >= 0"},
      {header + "a;1;1;nan\n", "total_null \"nan\""},
  };
  for (const Case& c : cases) {
    auto r = ReadPathsCsv(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().ToString();
  }
  auto collapsed = CollapseRepeats(*ReadPathsCsv(header + "a > a > b;1;2;0\na > b;1;1;1\n"));
  ASSERT_EQ(collapsed.paths.size(), 1u);
  EXPECT_EQ(collapsed.paths[0].conversions, 2);
  EXPECT_EQ(collapsed.paths[0].nulls, 1);
}

}  // namespace
}  // namespace quanyu::attribution

namespace quanyu::attribution {
namespace {

// Paths whose conversions and nulls are exactly what a known noisy-OR
// expects (baseline 0.05, a 0.1 and b 0.3 per touch): the fit must find it
// again, and shapley_response must split the mixed path by the hand-computed Shapley
// values of g(S) = (1-b)(1 - Π_S q): q_a = 0.9, q_b = 0.7, so
// φ_a = (1-b)(0.1 + 0.37 - 0.3)/2 = 0.085(1-b), φ_b = 0.285(1-b), and
// a gets 0.085 / 0.37 of "a > b".
TEST(AttributionModels, ResponseShapleyRecoversAKnownResponse) {
  const double b = 0.05, ea = 0.1, eb = 0.3;
  auto rate = [&](int na, int nb) { return 1 - (1 - b) * std::pow(1 - ea, na) * std::pow(1 - eb, nb); };
  struct Kind {
    const char* path;
    int na, nb;
    double persons;
  };
  const Kind kinds[] = {{"a", 1, 0, 40000}, {"b", 0, 1, 30000}, {"a > b", 1, 1, 20000}, {"a > a", 2, 0, 10000},
                        {"b > b > a", 1, 2, 5000}};
  std::string text = "path;total_conversions;total_conversion_value;total_null\n";
  for (const Kind& k : kinds) {
    const double c = k.persons * rate(k.na, k.nb);
    text += std::string(k.path) + ";" + std::to_string(c) + ";" + std::to_string(10 * c) + ";" +
            std::to_string(k.persons - c) + "\n";
  }
  auto set = ReadPathsCsv(text);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  const ResponseModel m = FitResponseModel(*set);
  EXPECT_NEAR(m.baseline, b, 1e-4);
  EXPECT_NEAR(m.effect[0], ea, 1e-4);
  EXPECT_NEAR(m.effect[1], eb, 1e-4);
  EXPECT_LT(m.iterations, 2000);

  auto r = RunModel("shapley_response", *set, ModelOptions());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto got = ByChannel(*r);
  const double c_ab = 20000 * rate(1, 1), c_bba = 5000 * rate(1, 2);
  // b > b > a: q_a = 0.9, q_b = 0.49; g(a) = 0.1, g(b) = 0.51, g(ab) = 0.559.
  const double bba_a = (0.1 + 0.559 - 0.51) / 2 / 0.559;
  const double want_a = 40000 * rate(1, 0) + 10000 * rate(2, 0) + c_ab * 0.085 / 0.37 + c_bba * bba_a;
  EXPECT_NEAR(got["a"]->conversions, want_a, 1e-3 * want_a);
  EXPECT_NEAR(got["a"]->conversions + got["b"]->conversions, set->total_conversions(), 1e-6);
  EXPECT_NEAR(got["a"]->value, 10 * got["a"]->conversions, 1e-6 * got["a"]->value);
  ASSERT_TRUE(got["b"]->touch_effect.has_value());
  EXPECT_NEAR(*got["b"]->touch_effect, eb, 1e-4);

  // A channel seen only on converting paths fits to e = 1; the fit must
  // still converge (its log-likelihood once turned NaN and ran 2,000 rounds).
  auto edge = ReadPathsCsv("path;total_conversions;total_conversion_value;total_null\na;10;100;90\na > b;5;50;0\n");
  ASSERT_TRUE(edge.ok());
  const ResponseModel fit = FitResponseModel(*edge);
  EXPECT_LT(fit.iterations, 2000);
  EXPECT_NEAR(fit.effect[1], 1, 1e-6);
  auto split = RunModel("shapley_response", *edge, ModelOptions());
  ASSERT_TRUE(split.ok());
  EXPECT_NEAR(split->channels[0].conversions + split->channels[1].conversions, 15, 1e-9);

  // No nulls: nothing to fit a rate against.
  auto converted = ReadPathsCsv("path;total_conversions;total_conversion_value;total_null\na;1;1;0\n");
  ASSERT_TRUE(converted.ok());
  EXPECT_EQ(RunModel("shapley_response", *converted, ModelOptions()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quanyu::attribution

namespace quanyu::attribution {
namespace {

// shapley on a chain solved by hand. Paths "a > b" (1 conversion),
// "a" (1 null), "b" (1 conversion, 1 null): start -> a 1/2, start -> b 1/2;
// a -> b 1/2, a -> null 1/2; b -> conversion 2/3, b -> null 1/3.
// v({a,b}) = 1/2 (1/2 · 2/3) + 1/2 · 2/3 = 1/2; v({a}) = 0 (a's only way to
// convert is through b); v({b}) = 1/2 · 2/3 = 1/3.
// φ_a = (v(a) + v(ab) - v(b)) / 2 = 1/12, φ_b = (v(b) + v(ab) - v(a)) / 2 = 5/12:
// of the 2 conversions a gets 1/3 and b 5/3.
TEST(AttributionModels, ChainShapleyOnAHandSolvedChain) {
  auto set = ReadPathsCsv("path;total_conversions;total_conversion_value;total_null\n"
                          "a > b;1;10;0\na;0;0;1\nb;1;20;1\n");
  ASSERT_TRUE(set.ok());
  auto r = RunModel("shapley", *set, ModelOptions());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto got = ByChannel(*r);
  EXPECT_NEAR(got["a"]->conversions, 1.0 / 3, 1e-12);
  EXPECT_NEAR(got["b"]->conversions, 5.0 / 3, 1e-12);
  EXPECT_NEAR(got["a"]->value, 30.0 / 6, 1e-12);
  // Without nulls the chain converts surely: v(ab) = 1, v(a) = 0 (a -> b
  // only), v(b) = 1/2 (start -> b half the time): φ_a = 1/4, φ_b = 3/4.
  ModelOptions no_nulls;
  no_nulls.use_nulls = false;
  auto without = RunModel("shapley", *set, no_nulls);
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_NEAR(ByChannel(*without)["a"]->conversions, 0.5, 1e-12);

  // The removal effects are the last step of the same chain: with one
  // channel, Shapley and markov1 agree.
  auto one = ReadPathsCsv("path;total_conversions;total_conversion_value;total_null\nx > x;3;3;5\n");
  ASSERT_TRUE(one.ok());
  EXPECT_NEAR(RunModel("shapley", *one, ModelOptions())->channels[0].conversions, 3, 1e-12);
}

}  // namespace
}  // namespace quanyu::attribution
