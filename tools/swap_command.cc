// `pgmerge swap --main NAME --shadow NAME --report report.json`: the
// verified shadow replaces the live database.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "swap/rehearse.h"
#include "swap/swap.h"
#include "swap/result_json.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/exit_status.h"
#include "tools/switch_flags.h"

namespace pgmerge::tools {
namespace {

struct SwapArgs {
  SwitchFlags f;
  std::string old_name, jobs = "2";
  bool resume = false;
  bool catch_up = false;
  bool rehearse = false;
  bool leave_replication = false;
  std::string slot, catch_up_lag = "1000", catch_up_rounds = "20", catch_up_timeout = "300";
};

std::unique_ptr<CLI::App> SwapApp(SwapArgs* a) {
  auto app = NewApp(
      "swap",
      "Replace the live database by the verified shadow: check every precondition\n"
      "(shadow verified against the report, nobody on it, the role may rename both,\n"
      "main unchanged since the dump), close main to new connections, block writes,\n"
      "give sessions --grace seconds, then terminate them; check main again against\n"
      "production's dump (writes since the dump, y', stop the swap: exit 4, main\n"
      "reopened untouched); then rename main -> MAIN_old_<UTC time> and shadow ->\n"
      "main in one transaction and reopen. Prints the dark window in milliseconds.\n"
      "Each step is journaled in a state file for --resume and rollback.",
      "NAME may also be a conninfo string or URI. -h/-p/-U fill in what the server's\n"
      "conninfo leaves out, as in psql; PG* variables, the service file and .pgpass\n"
      "apply.\n"
      "Example: pgmerge swap -h /run/postgresql --main app --shadow shadow --report report.json");
  AddSwitchFlags(*app, &a->f);
  app->add_option("--shadow", a->f.shadow, "the restored, verified shadow")->type_name("NAME");
  app->add_option("--old-name", a->old_name, "main's name afterwards (default MAIN_old_<UTC time>)")
      ->type_name("NAME");
  app->add_option("--jobs", a->jobs,
                  "sessions the shadow's verify and the drift check read with (default 2)")
      ->type_name("N");
  app->add_flag("--resume", a->resume, "finish or restart an interrupted swap");
  app->add_flag("--leave-replication", a->leave_replication,
                "swap although main has logical replication slots or subscriptions of its\n"
                "own: they stay with the old database (slots holding WAL, subscriptions\n"
                "applying there) until dropped; create them again on the new main");
  app->add_flag("--catch-up", a->catch_up,
                "the live switch: apply main's writes since `pgmerge dump` from its slot\n"
                "(live rounds, then the tail with main closed) instead of refusing them");
  app->add_flag("--rehearse", a->rehearse,
                "the live switch (--catch-up) played against copies: a copy of the shadow\n"
                "caught up from a copy of the slot, an empty stand-in renamed for main;\n"
                "prints the catch-up rate and the dark window it would have had. Main is\n"
                "only read, the shadow only copied, the real slot untouched; the copies are\n"
                "dropped afterwards, on failure too (docs/live.md)");
  app->add_option("--slot", a->slot, "with --catch-up: the dump's slot (default: main's only one)")
      ->type_name("NAME");
  app->add_option("--catch-up-lag", a->catch_up_lag,
                  "with --catch-up: close main once a live round applies fewer changes\n"
                  "(default 1000); if none does, main is not closed (below)")
      ->type_name("N");
  app->add_option("--catch-up-rounds", a->catch_up_rounds,
                  "with --catch-up: stop, main never closed, exit 2, when this many live\n"
                  "rounds ran without one under --catch-up-lag (default 20), or when the lag\n"
                  "is not shrinking: 3 rounds in a row applied no fewer changes than the\n"
                  "smallest before them. The slot is kept; run the swap again later")
      ->type_name("N");
  app->add_option("--catch-up-timeout", a->catch_up_timeout,
                  "with --catch-up: the same stop after this many seconds of live rounds\n"
                  "(default 300)")
      ->type_name("SECONDS");
  return app;
}

std::string Absolute(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

int Rehearse(const swap::SwapOptions& o, bool json) {
  if (o.resume || o.dry_run) return Usage("swap", "--rehearse takes neither --resume nor --dry-run");
  absl::StatusOr<swap::RehearsalResult> r = swap::Rehearse(o);
  if (!r.ok()) return Fail(Command::kSwap, r.status());
  const int64_t changes = r->live_changes + r->tail_changes;
  const int64_t rate = changes * 1000 / std::max<int64_t>(1, r->live_ms + r->tail_ms);
  const int64_t tail_rate = r->tail_changes * 1000 / std::max<int64_t>(1, r->tail_ms);
  if (json) {
    std::fputs(absl::StrCat("{\"rehearsal\": true, \"slot\": \"", r->slot, "\", \"rounds\": ",
                            r->rounds, ", \"live_changes\": ", r->live_changes,
                            ", \"live_ms\": ", r->live_ms, ", \"tail_changes\": ",
                            r->tail_changes, ", \"tail_ms\": ", r->tail_ms,
                            ", \"grace_ms\": ", r->grace_ms, ", \"rename_ms\": ", r->rename_ms,
                            ", \"dark_ms\": ", r->dark_window_ms, ", \"changes_per_s\": ", rate,
                            ", \"sessions_on_main\": ", r->sessions_on_main, "}\n")
                   .c_str(),
               stdout);
  }
  std::fprintf(stderr,
               "swap: --rehearse: catch-up applied %lld change(s) live in %d round(s) (%lld ms) "
               "and a tail of %lld in %lld ms: %lld changes/s (tail %lld/s)\n"
               "swap: --rehearse: the dark window would have been about %lld ms (grace %lld "
               "ms, tail %lld ms, renames %lld ms); %d session(s) on %s now would get the "
               "grace, then be terminated\n"
               "swap: --rehearse: nothing live changed; dropped again: %s\n",
               static_cast<long long>(r->live_changes), r->rounds,
               static_cast<long long>(r->live_ms), static_cast<long long>(r->tail_changes),
               static_cast<long long>(r->tail_ms), static_cast<long long>(rate),
               static_cast<long long>(tail_rate), static_cast<long long>(r->dark_window_ms),
               static_cast<long long>(r->grace_ms), static_cast<long long>(r->tail_ms),
               static_cast<long long>(r->rename_ms), r->sessions_on_main, r->main.c_str(),
               absl::StrJoin(r->temporaries, ", ").c_str());
  return kExitDone;
}

}  // namespace

int SwapMain(const std::vector<std::string>& args) {
  SwapArgs a;
  std::unique_ptr<CLI::App> app = SwapApp(&a);
  if (std::optional<int> done = Parse(*app, args)) return *done;
  swap::SwapOptions o;
  std::optional<long> jobs = ParseCount(a.jobs, 1, 64);
  if (!jobs) return Usage("swap", "--jobs takes a number from 1 to 64");
  o.jobs = static_cast<int>(*jobs);
  if (a.f.main.empty() || (!a.resume && (a.f.shadow.empty() || a.f.report.empty()))) {
    return Usage("swap", "swap takes --main NAME --shadow NAME --report report.json");
  }
  if (std::optional<int> bad =
          FinishSwitchFlags("swap", a.f, &o.grace_seconds, &o.terminate_timeout_seconds)) {
    return *bad;
  }
  o.server = a.f.server;
  o.maintenance_db = a.f.maintenance_db;
  o.main = a.f.main;
  o.shadow = a.f.shadow;
  o.state_path = a.f.state;
  o.old_name = a.old_name;
  o.dry_run = a.f.dry_run;
  o.resume = a.resume;
  o.catch_up = a.catch_up;
  o.leave_replication = a.leave_replication;
  o.slot = a.slot;
  std::optional<long> lag = ParseCount(a.catch_up_lag, 1, 1000000000);
  if (!lag) return Usage("swap", "--catch-up-lag takes a positive number");
  o.catch_up_lag = *lag;
  std::optional<long> rounds = ParseCount(a.catch_up_rounds, 1, 1000000);
  if (!rounds) return Usage("swap", "--catch-up-rounds takes a positive number");
  o.catch_up_rounds = static_cast<int>(*rounds);
  std::optional<long> timeout = ParseCount(a.catch_up_timeout, 1, 86400 * 7);
  if (!timeout) return Usage("swap", "--catch-up-timeout takes a number of seconds");
  o.catch_up_timeout_seconds = static_cast<double>(*timeout);
  if (std::optional<int> bad = ReadReportFlag(Command::kSwap, a.f, &o.report_json)) return *bad;
  if (!a.f.report.empty()) o.report_path = Absolute(a.f.report);
  o.log = LogLine;
  o.interrupted = Interrupted;
  CatchInterrupts();
  if (a.rehearse) return Rehearse(o, a.f.json);
  absl::StatusOr<swap::SwapResult> r = swap::Swap(o);
  if (!r.ok()) return Fail(Command::kSwap, r.status());
  using Outcome = swap::SwapResult::Outcome;
  if (a.f.json) {
    std::fputs(swap::SwapResultJson(*r, r->outcome == Outcome::kDrift ? kExitWritesSince : kExitDone)
                   .c_str(),
               stdout);
  }
  if (r->outcome == Outcome::kDrift) {
    std::fprintf(stderr,
                 "swap: DRIFT (y'): %s was written after production's dump, so the shadow "
                 "lacks those writes:\n",
                 r->main.c_str());
    for (const std::string& d : r->drift) std::fprintf(stderr, "  %s\n", d.c_str());
    std::fprintf(stderr,
                 "swap: nothing was renamed; %s is open and unchanged%s. Dump it again, "
                 "merge again, restore, then swap.\n",
                 r->main.c_str(),
                 r->drift_seen_live ? " (found before closing it)"
                                    : absl::StrCat(" (closed for ", r->dark_window_ms, " ms)")
                                          .c_str());
    return kExitWritesSince;
  }
  if (r->outcome == Outcome::kDryRun) {
    std::fprintf(stderr,
                 "swap: --dry-run: every precondition holds; a swap would rename %s -> %s "
                 "and %s -> %s\n",
                 r->main.c_str(), r->old_name.c_str(), r->shadow.c_str(), r->main.c_str());
    return kExitDone;
  }
  if (r->resumed_after_rename) {
    std::fprintf(stderr, "swap: done: %s is the merged database; the old one is %s\n",
                 r->main.c_str(), r->old_name.c_str());
    return kExitDone;
  }
  // The dark window's parts: a --catch-up swap's last round and cleanup
  // where a plain one has its exact drift check.
  const std::string checked =
      r->caught_up
          ? absl::StrFormat("last round %d ms; cleanup %d ms", r->last_round_ms, r->cleanup_ms)
          : absl::StrFormat("drift check %d ms over %d rows", r->drift_check_ms,
                            r->rows_checked);
  std::fprintf(stderr,
               "swap: done: %s is the merged database (was %s); the old one is %s, closed to "
               "connections (pgmerge rollback --main %s undoes the swap)\n"
               "swap: dark window %lld ms (closing %lld ms; sessions %lld ms, %d terminated; "
               "%s; our sessions' exit %lld ms; renames %lld ms)\n",
               r->main.c_str(), r->shadow.c_str(), r->old_name.c_str(), r->main.c_str(),
               static_cast<long long>(r->dark_window_ms), static_cast<long long>(r->closing_ms),
               static_cast<long long>(r->waiting_ms), r->sessions_terminated, checked.c_str(),
               static_cast<long long>(r->exit_wait_ms), static_cast<long long>(r->rename_ms));
  if (r->caught_up) {
    std::fprintf(stderr,
                 "swap: caught up from slot %s: %lld change(s) live in %d round(s) (%lld ms), "
                 "%lld in the dark window (%lld ms)%s\n",
                 r->slot.c_str(), static_cast<long long>(r->live_changes), r->catch_up_rounds,
                 static_cast<long long>(r->live_ms), static_cast<long long>(r->tail_changes),
                 static_cast<long long>(r->tail_ms), r->slot_dropped ? "; slot dropped" : "");
  }
  return kExitDone;
}

std::string SwapHelp() {
  SwapArgs a;
  return SwapApp(&a)->help();
}

}  // namespace pgmerge::tools
