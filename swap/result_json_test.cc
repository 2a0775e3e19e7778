#include "swap/result_json.h"

#include <nlohmann/json.hpp>

#include "gtest/gtest.h"

namespace pgmerge::swap {
namespace {

TEST(ResultJson, SwapDriftAndTimings) {
  SwapResult r;
  r.outcome = SwapResult::Outcome::kDrift;
  r.main = "app";
  r.shadow = "app_shadow";
  r.drift = {"public.tags: 4 rows, expected 3 (+1)"};
  r.background_workers_terminated = {"pid 7 (pg_cron)"};
  r.dark_window_ms = 12;
  nlohmann::json j = nlohmann::json::parse(SwapResultJson(r, 4));
  EXPECT_EQ(j["format"], "pgmerge-swap-result");
  EXPECT_EQ(j["outcome"], "drift");
  EXPECT_EQ(j["exit_code"], 4);
  EXPECT_EQ(j["drift"][0], "public.tags: 4 rows, expected 3 (+1)");
  EXPECT_EQ(j["background_workers_terminated"][0], "pid 7 (pg_cron)");
  EXPECT_EQ(j["ms"]["dark_window"], 12);
}

TEST(ResultJson, VerifyRollbackAndErrors) {
  VerifyResult v;
  v.tables_checked = 3;
  v.problems = {"sequence public.s is at 3, behind public.t.id = 5"};
  nlohmann::json j = nlohmann::json::parse(VerifyResultJson(v, 1));
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["problems"].size(), 1u);
  RollbackResult b;
  b.outcome = RollbackResult::Outcome::kWritesSinceSwap;
  j = nlohmann::json::parse(RollbackResultJson(b, 4));
  EXPECT_EQ(j["outcome"], "writes_since_swap");
  j = nlohmann::json::parse(ErrorJson("swap", "database x does not exist", 2));
  EXPECT_EQ(j["format"], "pgmerge-swap-result");
  EXPECT_EQ(j["error"], "database x does not exist");
}

}  // namespace
}  // namespace pgmerge::swap
