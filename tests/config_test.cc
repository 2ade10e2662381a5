// quanyu.toml's [query] table: defaults, parsing, validation (in the config
// for what common can check, at Engine::Open for the time zone and the idle
// gap), environment overrides, and the engine passing them to queries.
#include "common/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "test_util.h"

namespace quanyu {
namespace {

// Sets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(QueryConfigTest, Defaults) {
  Config c;
  EXPECT_EQ(c.query_timezone, "UTC");
  EXPECT_EQ(c.query_session_idle, "30m");
  EXPECT_EQ(c.query_threads, 2);
  EXPECT_EQ(c.query_workers, 2);
  EXPECT_TRUE(c.query_stages.empty());
  auto parsed = ParseConfig("");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->query_timezone, "UTC");
}

TEST(QueryConfigTest, ParsesEveryKey) {
  auto c = ParseConfig(R"(
[query]
timezone = "Asia/Shanghai"
session_idle = "45m"
threads = 4
workers = 3

[query.stages]
"Landing" = "awareness"
"Order Completed" = "conversion"
"NPS Survey Answered" = "advocacy"
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->query_timezone, "Asia/Shanghai");
  EXPECT_EQ(c->query_session_idle, "45m");
  EXPECT_EQ(c->query_threads, 4);
  EXPECT_EQ(c->query_workers, 3);
  EXPECT_EQ(c->query_stages,
            (std::map<std::string, std::string>{{"Landing", "awareness"},
                                                {"Order Completed", "conversion"},
                                                {"NPS Survey Answered", "advocacy"}}));
  auto seconds = ParseConfig("[query]\nsession_idle = 600\n");
  ASSERT_TRUE(seconds.ok());
  EXPECT_EQ(seconds->query_session_idle, "600");
}

TEST(QueryConfigTest, RefusesBadValuesNamingTheKey) {
  struct Case {
    const char* toml;
    const char* fragment;
  };
  for (const Case& c : {
           Case{"[query]\ntimezon = \"UTC\"\n", "query.timezon"},
           Case{"[query]\ntimezone = 8\n", "[query] timezone"},
           Case{"[query]\nthreads = 0\n", "[query] threads must be in 1..64"},
           Case{"[query]\nthreads = \"2\"\n", "[query] threads must be an integer"},
           Case{"[query]\nworkers = 65\n", "[query] workers"},
           Case{"[query]\nsession_idle = true\n", "[query] session_idle"},
           Case{"[query.stages]\n\"Landing\" = \"awarenes\"\n", "\"Landing\" must be one of"},
           Case{"[query]\nstages = 1\n", "[query.stages] must be a table"},
       }) {
    auto parsed = ParseConfig(c.toml);
    ASSERT_FALSE(parsed.ok()) << c.toml;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(c.fragment), std::string::npos)
        << parsed.status().message();
  }
}

TEST(QueryConfigTest, EnvironmentOverridesTheFile) {
  auto c = ParseConfig("[query]\ntimezone = \"UTC\"\nthreads = 4\n");
  ASSERT_TRUE(c.ok());
  {
    ScopedEnv tz("QUANYU_QUERY_TIMEZONE", "+08:00");
    ScopedEnv threads("QUANYU_QUERY_THREADS", "1");
    Config env = *c;
    ApplyEnvironment(&env);
    EXPECT_EQ(env.query_timezone, "+08:00");
    EXPECT_EQ(env.query_threads, 1);
  }
  ScopedEnv threads("QUANYU_QUERY_THREADS", "many");
  Config env = *c;
  ApplyEnvironment(&env);
  EXPECT_EQ(env.query_threads, 0) << "left for Engine::Open to refuse";
}

TEST(QueryConfigTest, EngineChecksAndAppliesTheOptions) {
  testing::TempDir dir;
  Config c;
  c.data_dir = dir.path();
  c.query_timezone = "Asia/Shanghai";
  c.query_session_idle = "1h";
  c.query_threads = 3;
  c.query_stages = {{"Landing", "awareness"}};
  {
    auto engine = Engine::Open(c);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    const query::QueryOptions& o = (*engine)->query_options();
    EXPECT_EQ(o.timezone.offset_us, 8 * 3600 * int64_t{1000000});
    EXPECT_EQ(o.session_idle_us, 3600 * int64_t{1000000});
    EXPECT_EQ(o.threads, 3);
    EXPECT_EQ(o.stages, c.query_stages);
  }
  struct Case {
    void (*set)(Config*);
    const char* fragment;
  };
  for (const Case& bad : {
           Case{[](Config* x) { x->query_timezone = "Mars/Olympus"; }, "[query] timezone"},
           Case{[](Config* x) { x->query_session_idle = "soon"; }, "session_idle"},
           Case{[](Config* x) { x->query_session_idle = "0"; }, "session_idle"},
           Case{[](Config* x) { x->query_threads = 0; }, "QUANYU_QUERY_THREADS"},
       }) {
    Config b = c;
    bad.set(&b);
    auto engine = Engine::Open(b);
    ASSERT_FALSE(engine.ok());
    EXPECT_EQ(engine.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(engine.status().message().find(bad.fragment), std::string::npos)
        << engine.status().message();
  }
}

}  // namespace
}  // namespace quanyu
