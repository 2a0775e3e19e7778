// `pgmerge rollback --main NAME`: undoes a swap.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "swap/swap.h"
#include "swap/result_json.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/exit_status.h"
#include "tools/switch_flags.h"

namespace pgmerge::tools {
namespace {

struct RollbackArgs {
  SwitchFlags f;
  std::string old_name;
  bool force = false;
};

std::unique_ptr<CLI::App> RollbackApp(RollbackArgs* a) {
  auto app = NewApp(
      "rollback",
      "Undo a swap: main -> the shadow's name, the old main -> main, in one\n"
      "transaction, after closing main the way swap does. Refuses (exit 4) when main\n"
      "was written since the swap, unless --force. After a swap interrupted before\n"
      "its renames it reopens main.",
      "Without a state file, --shadow NAME and --old NAME say which databases.\n"
      "Example: pgmerge rollback --main app");
  AddSwitchFlags(*app, &a->f);
  app->add_option("--shadow", a->f.shadow, "the merged database's name afterwards (from the journal)")
      ->type_name("NAME");
  app->add_option("--old", a->old_name, "the old main to bring back (from the journal)")
      ->type_name("NAME");
  app->add_flag("--force", a->force, "roll back even though main was written since the swap");
  return app;
}

}  // namespace

int RollbackMain(const std::vector<std::string>& args) {
  RollbackArgs a;
  std::unique_ptr<CLI::App> app = RollbackApp(&a);
  if (std::optional<int> done = Parse(*app, args)) return *done;
  if (a.f.main.empty()) return Usage("rollback", "rollback takes --main NAME");
  swap::RollbackOptions o;
  if (std::optional<int> bad =
          FinishSwitchFlags("rollback", a.f, &o.grace_seconds, &o.terminate_timeout_seconds)) {
    return *bad;
  }
  o.server = a.f.server;
  o.maintenance_db = a.f.maintenance_db;
  o.main = a.f.main;
  o.shadow = a.f.shadow;
  o.old_name = a.old_name;
  o.state_path = a.f.state;
  o.force = a.force;
  o.dry_run = a.f.dry_run;
  if (std::optional<int> bad = ReadReportFlag(Command::kRollback, a.f, &o.report_json)) {
    return *bad;
  }
  o.log = LogLine;
  o.interrupted = Interrupted;
  CatchInterrupts();
  absl::StatusOr<swap::RollbackResult> r = swap::Rollback(o);
  if (!r.ok()) return Fail(Command::kRollback, r.status());
  using Outcome = swap::RollbackResult::Outcome;
  if (a.f.json) {
    std::fputs(swap::RollbackResultJson(*r, r->outcome == Outcome::kWritesSinceSwap ? kExitWritesSince
                                                                                    : kExitDone)
                   .c_str(),
               stdout);
  }
  switch (r->outcome) {
    case Outcome::kWritesSinceSwap:
      std::fprintf(stderr,
                   "rollback: %s was written since the swap; rolling back would leave these "
                   "writes behind in %s:\n",
                   r->main.c_str(), r->shadow.c_str());
      for (const std::string& d : r->writes_since_swap) std::fprintf(stderr, "  %s\n", d.c_str());
      std::fprintf(stderr, "rollback: nothing renamed; --force rolls back anyway\n");
      return kExitWritesSince;
    case Outcome::kReopened:
      std::fprintf(stderr,
                   "rollback: the swap had stopped before its renames; %s (the original) is "
                   "open again\n",
                   r->main.c_str());
      return kExitDone;
    case Outcome::kDryRun:
      std::fprintf(stderr, "rollback: --dry-run: would rename %s -> %s and %s -> %s\n",
                   r->main.c_str(), r->shadow.c_str(), r->old_name.c_str(), r->main.c_str());
      return kExitDone;
    case Outcome::kRolledBack:
      std::fprintf(stderr,
                   "rollback: done: %s is the original again; the merged database is %s "
                   "(dark window %lld ms)\n",
                   r->main.c_str(), r->shadow.c_str(), static_cast<long long>(r->dark_window_ms));
      return kExitDone;
  }
  return kExitDifferences;
}

std::string RollbackHelp() {
  RollbackArgs a;
  return RollbackApp(&a)->help();
}

}  // namespace pgmerge::tools
