// `pgmerge catch-up --main DB --shadow DB --report report.json`: the writes
// main got since `pgmerge dump` (y'), applied to the shadow from the slot.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "swap/catchup.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/exit_status.h"

namespace pgmerge::tools {
namespace {

struct CatchUpArgs {
  swap::CatchUpOptions o;
  std::string report, batch;
};

std::unique_ptr<CLI::App> CatchUpApp(CatchUpArgs* a) {
  auto app = NewApp(
      "catch-up",
      "Read the writes main got since `pgmerge dump` from its slot and apply\n"
      "them to the shadow with the merge's column mapping, exactly once (the\n"
      "applied LSN is kept in the shadow). Refuses, naming it, what it cannot\n"
      "apply: DDL since the dump, updates without a replica identity, a key a\n"
      "development row holds (merge with --key-headroom N).",
      "Exit: 0 caught up; 2 usage, a refusal or a bad report; 1 anything else\n"
      "(a database unreachable, a server error). See docs/live.md.");
  app->add_option("--main", a->o.main, "the live database")->type_name("DB");
  app->add_option("--shadow", a->o.shadow, "the restored, verified shadow")->type_name("DB");
  app->add_option("--report", a->report, "the merge's JSON report")->type_name("FILE");
  app->add_option("--server", a->o.server, "main's server (libpq's defaults if not given)")
      ->type_name("CONNINFO");
  app->add_option("--slot", a->o.slot, "the slot (default: the only pgmerge slot of main)")
      ->type_name("NAME");
  app->add_option("--batch", a->batch, "changes per shadow transaction (1000)")->type_name("N");
  app->add_flag("--drop-slot", a->o.drop_slot, "when caught up, drop the slot");
  return app;
}

}  // namespace

int CatchUpMain(const std::vector<std::string>& args) {
  CatchUpArgs a;
  std::unique_ptr<CLI::App> app = CatchUpApp(&a);
  if (std::optional<int> done = Parse(*app, args)) return *done;
  if (a.o.main.empty() || a.o.shadow.empty() || a.report.empty()) {
    return Usage("catch-up", "--main, --shadow and --report are required");
  }
  if (!a.batch.empty()) {
    std::optional<long> n = ParseCount(a.batch, 1, 100000000);
    if (!n) return Usage("catch-up", absl::StrCat("--batch takes a positive count, not ", a.batch));
    a.o.batch_changes = static_cast<int>(*n);
  }
  std::optional<std::string> report = ReadWhole(a.report);
  if (!report) return Usage("catch-up", absl::StrCat("cannot read ", a.report));
  a.o.report_json = *std::move(report);
  a.o.log = [](std::string_view line) {
    std::fprintf(stderr, "pgmerge catch-up: %.*s\n", static_cast<int>(line.size()), line.data());
  };
  absl::StatusOr<swap::CatchUpResult> r = swap::CatchUp(a.o);
  if (!r.ok()) {
    std::fprintf(stderr, "pgmerge catch-up: %s\n", std::string(r.status().message()).c_str());
    return ExitFor(Command::kCatchUp, r.status());
  }
  std::fprintf(stderr,
               "pgmerge catch-up: slot %s, %s -> %s: %lld transactions (%lld inserts, %lld "
               "updates, %lld deletes), %lld already applied, %d sequences advanced, %lld bytes "
               "of WAL written on main since%s\n",
               r->slot.c_str(), r->start_lsn.c_str(), r->applied_lsn.c_str(),
               static_cast<long long>(r->transactions), static_cast<long long>(r->inserts),
               static_cast<long long>(r->updates), static_cast<long long>(r->deletes),
               static_cast<long long>(r->skipped_transactions), r->sequences_advanced,
               static_cast<long long>(r->lag_bytes), r->slot_dropped ? "; slot dropped" : "");
  if (r->lost_values > 0) {
    std::fprintf(stderr,
                 "pgmerge catch-up: %lld values in columns development dropped were not kept\n",
                 static_cast<long long>(r->lost_values));
  }
  for (const std::string& t : r->dropped_tables) {
    std::fprintf(stderr,
                 "pgmerge catch-up: writes to %s (dropped by development, --allow-drop) not kept\n",
                 t.c_str());
  }
  return kExitDone;
}

std::string CatchUpHelp() {
  CatchUpArgs a;
  return CatchUpApp(&a)->help();
}

}  // namespace pgmerge::tools
