// The segment language (audience/language.h, docs/segment-language.md).
//
// Golden files tests/golden/audience/language/*.test, one definition each
// (sections start with a line "== NAME"; "#" lines before the first section
// are comments):
//   == text    a definition in the text form (may span lines)
//   == json    the expected PrintJson of it (compared as parsed JSON)
//   == print   the expected canonical PrintText
// or
//   == text    (or == json)  an input that must be rejected
//   == error   a substring of the expected InvalidArgument message
// For a valid case the test checks text -> tree -> JSON equals `json`,
// JSON -> tree equals the text's tree, PrintText equals `print`, and the
// printed text parses back to the same tree. QUANYU_UPDATE_GOLDEN=1 rewrites
// `json` and `print` from the actual output (review the diff by hand).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "audience/language.h"
#include "test_util.h"

namespace quanyu::audience {
namespace {

namespace fs = std::filesystem;

struct GoldenCase {
  std::string path, preamble;
  std::map<std::string, std::string> sections;
  std::vector<std::string> order;
};

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

GoldenCase ReadCase(const std::string& path) {
  GoldenCase c;
  c.path = path;
  std::ifstream in(path);
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind("== ", 0) == 0) {
      current = line.substr(3);
      c.order.push_back(current);
      continue;
    }
    (current.empty() ? c.preamble : c.sections[current]) += line + "\n";
  }
  for (auto& [name, text] : c.sections) text = Trimmed(text);
  return c;
}

void WriteCase(const GoldenCase& c) {
  std::string out = c.preamble;
  for (const auto& name : c.order) out += "== " + name + "\n" + c.sections.at(name) + "\n";
  testing::WriteFile(c.path, out);
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  for (const auto& e :
       fs::directory_iterator(QUANYU_SOURCE_DIR "/tests/golden/audience/language")) {
    if (e.path().extension() == ".test") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class LanguageGolden : public ::testing::TestWithParam<std::string> {};

void CheckError(const GoldenCase& c) {
  const std::string& expected = c.sections.at("error");
  Status status;
  if (c.sections.count("text")) {
    auto parsed = ParseText(c.sections.at("text"));
    ASSERT_FALSE(parsed.ok()) << "parsed as " << PrintText(*parsed);
    status = parsed.status();
  } else {
    auto parsed = ParseJson(Json::parse(c.sections.at("json")));
    ASSERT_FALSE(parsed.ok()) << "parsed as " << PrintText(*parsed);
    status = parsed.status();
  }
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(expected), std::string::npos)
      << "message: " << status.message() << "\nexpected to contain: " << expected;
}

TEST_P(LanguageGolden, ParsesAndPrintsBothForms) {
  GoldenCase c = ReadCase(GetParam());
  ASSERT_TRUE(c.sections.count("text") || c.sections.count("json")) << c.path;
  if (c.sections.count("error")) return CheckError(c);

  auto tree = ParseText(c.sections.at("text"));
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  const Json json = PrintJson(*tree);
  const std::string print = PrintText(*tree);
  if (testing::UpdateGolden()) {
    for (const char* name : {"json", "print"}) {
      if (!c.sections.count(name)) c.order.push_back(name);
    }
    c.sections["json"] = json.dump(2);
    c.sections["print"] = print;
    WriteCase(c);
  }
  const Json expected_json = Json::parse(c.sections.at("json"));
  EXPECT_EQ(json, expected_json) << "actual: " << json.dump(2);
  auto from_json = ParseJson(expected_json);
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
  EXPECT_TRUE(*from_json == *tree) << "JSON gives " << PrintText(*from_json);
  EXPECT_EQ(print, c.sections.at("print"));
  auto reparsed = ParseText(print);
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().ToString();
  EXPECT_TRUE(*reparsed == *tree) << "reparsed as " << PrintText(*reparsed);
}

INSTANTIATE_TEST_SUITE_P(Files, LanguageGolden, ::testing::ValuesIn(GoldenFiles()),
                         [](const auto& info) { return fs::path(info.param).stem().string(); });

TEST(LanguageTest, IssueExampleBuildsTheExpectedTree) {
  auto tree = ParseText(
      "trait.city = \"上海\" AND did(\"Order Completed\", count >= 2, within 30d) AND NOT "
      "did(\"Refund Requested\", within 30d) AND rfm.segment IN (\"Champions\", \"Loyal\")");
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  ASSERT_EQ(tree->kind, Node::kAnd);
  ASSERT_EQ(tree->children.size(), 4u);
  const Node& city = tree->children[0];
  EXPECT_EQ(city.kind, Node::kAttribute);
  EXPECT_EQ(city.ns, Namespace::kTrait);
  EXPECT_EQ(city.name, "city");
  EXPECT_EQ(city.values, std::vector<Literal>{Literal{"上海"}});
  const Node& orders = tree->children[1];
  EXPECT_EQ(orders.kind, Node::kEvent);
  EXPECT_EQ(orders.event, "Order Completed");
  EXPECT_EQ(orders.count, (Bound{">=", 2}));
  EXPECT_EQ(orders.window.kind, Window::kLast);
  EXPECT_EQ(orders.window.seconds, 2592000);
  const Node& refunds = tree->children[2];
  ASSERT_EQ(refunds.kind, Node::kNot);
  EXPECT_EQ(refunds.children[0].count, (Bound{">=", 1}));
  const Node& rfm = tree->children[3];
  EXPECT_EQ(rfm.ns, Namespace::kRfm);
  EXPECT_EQ(rfm.op, CmpOp::kIn);
  EXPECT_EQ(rfm.values.size(), 2u);
  EXPECT_EQ(ReferencedEvents(*tree),
            (std::vector<std::string>{"Order Completed", "Refund Requested"}));
  EXPECT_TRUE(ReferencedAudiences(*tree).empty());
}

TEST(LanguageTest, IntegersStayIntegersAndAgoIsSeconds) {
  auto tree = ParseText("trait.n = 2 OR trait.x = 2.5 OR trait.t > ago(12h)");
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_TRUE(tree->children[0].values[0].value.is_number_integer());
  EXPECT_EQ(tree->children[0].values[0].value.dump(), "2");
  EXPECT_TRUE(tree->children[1].values[0].value.is_number_float());
  EXPECT_EQ(tree->children[2].values[0].ago_seconds, 12 * 3600);
  EXPECT_TRUE(tree->children[2].values[0].value.is_null());
  EXPECT_EQ(PrintJson(*tree)["or"][0]["value"].dump(), "2");
}

TEST(LanguageTest, ReferencesAreSortedAndUnique) {
  auto tree = ParseText(
      "audience(\"vip\") OR (audience(\"churned\") AND NOT audience(\"vip\")) OR "
      "sequence(\"B\", step(\"A\", where x = 1)) OR did(\"B\")");
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(ReferencedAudiences(*tree), (std::vector<std::string>{"churned", "vip"}));
  EXPECT_EQ(ReferencedEvents(*tree), (std::vector<std::string>{"A", "B"}));
}

std::string ErrorOf(std::string_view text) {
  auto tree = ParseText(text);
  return tree.ok() ? "parsed: " + PrintText(*tree) : tree.status().message();
}

TEST(LanguageTest, ErrorsPointAtLineAndCodePointColumn) {
  EXPECT_EQ(ErrorOf("trait.city = \"上海\"\n  AND trait.等级 = 1"),
            "line 2, column 13: expected a name after \"trait.\", found \"等\"");
  EXPECT_EQ(ErrorOf("trait.a = 1 AND\n  trait.\"城市\" = \"上海\" AND trait.b = AND"),
            "line 2, column 35: expected a value after \"=\", found \"AND\"");
  EXPECT_EQ(ErrorOf("trait.a = 1 OR"),
            "line 1, column 15: expected a condition (trait.NAME ..., "
            "did(...), sequence(...), audience(...), NOT or \"(\"), "
            "found end of input");
  EXPECT_EQ(ErrorOf("trait.\"a\xff\" = 1"), "line 1, column 9: invalid UTF-8");
  EXPECT_EQ(ErrorOf(" \n "),
            "line 2, column 2: expected a condition (trait.NAME ..., did(...), "
            "sequence(...), audience(...), NOT or \"(\"), found end of input");
}

TEST(LanguageTest, LimitsAreEnforced) {
  std::string big = "trait.a = \"" + std::string(70000, 'x') + "\"";
  EXPECT_NE(ErrorOf(big).find("the limit is 65536"), std::string::npos);

  std::string conditions = "trait.a = 0";
  for (int i = 1; i < 256; ++i) conditions += " OR trait.a = " + std::to_string(i);
  EXPECT_TRUE(ParseText(conditions).ok());
  EXPECT_NE(ErrorOf(conditions + " OR trait.a = 256").find("more than 256 conditions"),
            std::string::npos);

  std::string nots;
  for (int i = 0; i < 63; ++i) nots += "NOT ";
  EXPECT_TRUE(ParseText(nots + "trait.a EXISTS").ok());  // depth 64
  EXPECT_NE(ErrorOf("NOT " + nots + "trait.a EXISTS").find("deeper than 64"), std::string::npos);

  std::string deep = "{\"trait\": \"a\", \"op\": \"exists\"}";
  for (int i = 0; i < 64; ++i) deep = "{\"not\": " + deep + "}";
  auto json = ParseJson(Json::parse(deep));
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("deeper than 64"), std::string::npos);
}

TEST(LanguageTest, JsonErrorsNameThePath) {
  auto bad = ParseJson(Json::parse(R"({"and": [{"trait": "a", "op": "exists"},
      {"trait": "city", "op": "=>", "value": 1}]})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("and[1].op: unknown operator \"=>\"", 0), 0u)
      << bad.status().message();
  auto root = ParseJson(Json::array());
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().message().rfind("(root): ", 0), 0u);
}

// Random trees that the parsers could produce (flattened, valid), for the
// round-trip property: ParseText(PrintText(n)) == n, ParseJson(PrintJson(n)) == n.
class TreeGenerator {
 public:
  explicit TreeGenerator(uint32_t seed) : rng_(seed) {}

  Node Tree(int depth) {
    const int pick = Uniform(0, depth > 0 ? 9 : 5);
    if (pick <= 5) return Condition();
    Node n;
    n.kind = pick == 9 ? Node::kNot : (pick % 2 ? Node::kAnd : Node::kOr);
    const int count = n.kind == Node::kNot ? 1 : Uniform(2, 4);
    while (static_cast<int>(n.children.size()) < count) {
      Node child = Tree(depth - 1);
      if (child.kind != n.kind || n.kind == Node::kNot) n.children.push_back(std::move(child));
    }
    return n;
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Uniform(0, static_cast<int>(v.size()) - 1)];
  }

  std::string Name() {
    return Pick<std::string>({"city", "address.city", "会员等级", "a b", "x.y", "in", "AND",
                              "2fa-enabled", "with\"quote", "a..b", ".lead", "_"});
  }
  Json Value() {
    switch (Uniform(0, 7)) {
      case 0:
        return Pick<std::string>({"上海", "", "tab\there", "quote\"\\", "\x01", "🎉"});
      case 1:
        return Uniform(-1000000, 1000000);
      case 2:
        return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
      case 3:
        return Uniform(0, 1) == 1;
      case 4:
        return nullptr;
      case 5:
        return 1e-300 * Uniform(1, 9);
      case 6:
        return 18446744073709551615ull;
      default:
        return -0.5;
    }
  }
  Literal Lit() {
    if (Uniform(0, 5) == 0)
      return Literal{Json(), Uniform(1, 100000) * Pick<int64_t>({1, 60, 86400})};
    return Literal{Value()};
  }
  int64_t Duration() { return Uniform(1, 5000) * Pick<int64_t>({1, 60, 3600, 86400, 604800}); }
  Window RandomWindow() {
    Window w;
    const int kind = Uniform(0, 2);
    if (kind == 1) w.kind = Window::kLast, w.seconds = Duration();
    if (kind == 2) w.kind = Window::kBetween, w.from_date = "2024-02-29", w.to_date = "2026-12-31";
    return w;
  }
  std::vector<Json> Where() {
    std::vector<Json> where;
    for (int i = Uniform(0, 2); i > 0; --i) {
      const std::string op =
          Pick<std::string>({"=", "!=", ">", ">=", "<", "<=", "contains", "not_contains", "in",
                             "not_in", "is_set", "is_not_set"});
      Json f{{"property", Name()}, {"op", op}};
      if (op == "in" || op == "not_in")
        f["value"] = Json::array({Value(), Value()});
      else if (op != "is_set" && op != "is_not_set")
        f["value"] = Value();
      where.push_back(std::move(f));
    }
    return where;
  }
  Node Condition() {
    Node n;
    switch (Uniform(0, 3)) {
      case 0:
        return Attribute();
      case 1:
        n.kind = Node::kEvent;
        n.event = Name();
        n.where = Where();
        if (Uniform(0, 1))
          n.count = Bound{Pick<std::string>({"=", "!=", "<", ">="}), double(Uniform(0, 9))};
        if (Uniform(0, 1))
          n.sum_property = Name(), n.sum = Bound{"<=", Value().is_number_float() ? 99.25 : -3};
        n.window = RandomWindow();
        return n;
      case 2:
        n.kind = Node::kSequence;
        for (int i = Uniform(2, 4); i > 0; --i) {
          Node step;
          step.kind = Node::kEvent;
          step.event = Name();
          step.where = Where();
          n.steps.push_back(std::move(step));
        }
        n.max_gap_seconds = Uniform(0, 1) ? Duration() : 0;
        n.window = RandomWindow();
        return n;
      default:
        n.kind = Node::kAudience;
        n.audience = Name();
        return n;
    }
  }
  Node Attribute() {
    Node n;
    n.kind = Node::kAttribute;
    n.ns = Pick<Namespace>({Namespace::kTrait, Namespace::kComputed, Namespace::kRfm,
                            Namespace::kPredicted, Namespace::kConsent});
    n.name =
        n.ns == Namespace::kRfm ? Pick<std::string>({"segment", "r", "f", "m", "score"}) : Name();
    if (n.ns == Namespace::kConsent) {
      n.op = Pick<CmpOp>({CmpOp::kEq, CmpOp::kNe, CmpOp::kIn, CmpOp::kExists});
      for (int i = n.op == CmpOp::kExists ? 0 : n.op == CmpOp::kIn ? 2 : 1; i > 0; --i) {
        n.values.push_back(Literal{Uniform(0, 1) == 1});
      }
      return n;
    }
    n.op = static_cast<CmpOp>(Uniform(0, 9));
    const int arity = n.op == CmpOp::kExists    ? 0
                      : n.op == CmpOp::kBetween ? 2
                      : n.op == CmpOp::kIn      ? Uniform(1, 3)
                                                : 1;
    for (int i = 0; i < arity; ++i) n.values.push_back(Lit());
    return n;
  }

  std::mt19937 rng_;
};

TEST(LanguageTest, RandomTreesRoundTripThroughBothForms) {
  TreeGenerator generator(20260501);
  for (int i = 0; i < 2000; ++i) {
    const Node tree = generator.Tree(4);
    const std::string text = PrintText(tree);
    auto from_text = ParseText(text);
    ASSERT_TRUE(from_text.ok()) << "tree " << i << ": " << text << "\n"
                                << from_text.status().ToString();
    ASSERT_TRUE(*from_text == tree)
        << "tree " << i << ": " << text << "\nreparsed as " << PrintText(*from_text);
    const Json json = PrintJson(tree);
    auto from_json = ParseJson(Json::parse(json.dump()));
    ASSERT_TRUE(from_json.ok()) << "tree " << i << ": " << json.dump() << "\n"
                                << from_json.status().ToString();
    ASSERT_TRUE(*from_json == tree) << "tree " << i << ": " << json.dump();
  }
}

}  // namespace
}  // namespace quanyu::audience
