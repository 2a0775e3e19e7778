#include "swap/result_json.h"

#include <nlohmann/json.hpp>

namespace pgmerge::swap {

using Json = nlohmann::ordered_json;

namespace {

std::string Dump(const Json& j) { return j.dump(2) + "\n"; }

// The fields every result starts with, in this order.
Json Head(std::string_view command, std::string_view outcome, int exit_code) {
  Json j;
  j["format"] = "pgmerge-" + std::string(command) + "-result";
  j["version"] = 1;
  j["outcome"] = std::string(outcome);
  j["exit_code"] = exit_code;
  return j;
}

void Names(const std::string& main, const std::string& shadow, const std::string& old_name,
           Json* j) {
  (*j)["main"] = main;
  (*j)["shadow"] = shadow;
  (*j)["old_name"] = old_name;
}

}  // namespace

std::string VerifyResultJson(const VerifyResult& r, int exit_code) {
  Json j;  // Its own order: "ok" before "exit_code".
  j["format"] = "pgmerge-verify-result";
  j["version"] = 1;
  j["ok"] = r.ok();
  j["exit_code"] = exit_code;
  j["tables_checked"] = r.tables_checked;
  j["rows_checked"] = r.rows_checked;
  j["problems"] = r.problems;
  return Dump(j);
}

std::string SwapResultJson(const SwapResult& r, int exit_code) {
  Json j = Head("swap",
                r.outcome == SwapResult::Outcome::kSwapped ? "swapped"
                : r.outcome == SwapResult::Outcome::kDrift ? "drift"
                                                           : "dry_run",
                exit_code);
  Names(r.main, r.shadow, r.old_name, &j);
  j["drift"] = r.drift;
  j["drift_seen_live"] = r.drift_seen_live;
  j["sessions_terminated"] = r.sessions_terminated;
  j["background_workers_terminated"] = r.background_workers_terminated;
  j["resumed_after_rename"] = r.resumed_after_rename;
  j["rows_checked"] = r.rows_checked;
  j["ms"] = {{"dark_window", r.dark_window_ms},
             {"closing", r.closing_ms},
             {"waiting", r.waiting_ms},
             {"drift_check", r.drift_check_ms},
             {"last_round", r.last_round_ms},
             {"cleanup", r.cleanup_ms},
             {"exit_wait", r.exit_wait_ms},
             {"renames", r.rename_ms}};
  // The live switch's figures (0 without --catch-up).
  j["dark_ms"] = r.dark_window_ms;
  j["tail_changes"] = r.tail_changes;
  if (r.caught_up) {
    j["catch_up"] = {{"slot", r.slot},
                     {"rounds", r.catch_up_rounds},
                     {"live_changes", r.live_changes},
                     {"live_ms", r.live_ms},
                     {"tail_changes", r.tail_changes},
                     {"tail_ms", r.tail_ms},
                     {"slot_dropped", r.slot_dropped}};
  }
  return Dump(j);
}

std::string RollbackResultJson(const RollbackResult& r, int exit_code) {
  Json j = Head("rollback",
                r.outcome == RollbackResult::Outcome::kRolledBack        ? "rolled_back"
                : r.outcome == RollbackResult::Outcome::kReopened        ? "reopened"
                : r.outcome == RollbackResult::Outcome::kWritesSinceSwap ? "writes_since_swap"
                                                                         : "dry_run",
                exit_code);
  Names(r.main, r.shadow, r.old_name, &j);
  j["writes_since_swap"] = r.writes_since_swap;
  j["ms"] = {{"dark_window", r.dark_window_ms}};
  return Dump(j);
}

std::string ErrorJson(std::string_view command, std::string_view message, int exit_code) {
  Json j = Head(command, "error", exit_code);
  j["error"] = std::string(message);
  return Dump(j);
}

}  // namespace pgmerge::swap
