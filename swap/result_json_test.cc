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

TEST(ResultJson, SwapCatchUpFigures) {
  SwapResult r;
  r.dark_window_ms = 512;
  nlohmann::json j = nlohmann::json::parse(SwapResultJson(r, 0));
  EXPECT_EQ(j["dark_ms"], 512);
  EXPECT_EQ(j["tail_changes"], 0);
  EXPECT_FALSE(j.contains("catch_up"));
  r.caught_up = true;
  r.slot = "pgmerge_x";
  r.catch_up_rounds = 2;
  r.live_changes = 900;
  r.tail_changes = 7;
  r.tail_ms = 3;
  r.slot_dropped = true;
  r.closing_ms = 1;
  r.waiting_ms = 500;
  r.last_round_ms = 6;
  r.cleanup_ms = 4;
  r.exit_wait_ms = 2;
  j = nlohmann::json::parse(SwapResultJson(r, 0));
  // The dark window's parts, each under its name.
  EXPECT_EQ(j["ms"]["closing"], 1);
  EXPECT_EQ(j["ms"]["waiting"], 500);
  EXPECT_EQ(j["ms"]["last_round"], 6);
  EXPECT_EQ(j["ms"]["cleanup"], 4);
  EXPECT_EQ(j["ms"]["exit_wait"], 2);
  EXPECT_EQ(j["tail_changes"], 7);
  EXPECT_EQ(j["catch_up"]["slot"], "pgmerge_x");
  EXPECT_EQ(j["catch_up"]["rounds"], 2);
  EXPECT_EQ(j["catch_up"]["live_changes"], 900);
  EXPECT_EQ(j["catch_up"]["tail_ms"], 3);
  EXPECT_EQ(j["catch_up"]["slot_dropped"], true);
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
