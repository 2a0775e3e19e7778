#include "tools/switch_flags.h"

#include "absl/strings/str_cat.h"
#include "tools/exit_status.h"

namespace pgmerge::tools {

void AddSwitchFlags(CLI::App& app, SwitchFlags* f) {
  app.add_option("--main", f->main, "the live database (name, conninfo or URI)")
      ->type_name("NAME");
  app.add_option("--report", f->report, "the merge's JSON report")->type_name("FILE");
  app.add_option("-d,--dbname,--server,--db", f->server,
                 "the server: conninfo string or URI (default: libpq's, PG* variables)")
      ->type_name("CONNINFO");
  AddConnectionFlags(app, &f->conn);
  app.add_option("--maintenance-db", f->maintenance_db,
                 "where the renames run from (default postgres)")
      ->type_name("NAME");
  app.add_option("--grace", f->grace, "how long sessions on main may finish (default 5)")
      ->type_name("SECONDS");
  app.add_option("--terminate-timeout", f->terminate_timeout,
                 "how long terminated sessions may take to exit (default 10)")
      ->type_name("SECONDS");
  app.add_option("--state", f->state, "the journal (default $XDG_STATE_HOME/pgmerge/pgmerge-swap-MAIN.json, ~/.local/state/pgmerge/ without it)")
      ->type_name("FILE");
  app.add_flag("--dry-run", f->dry_run, "check every precondition; change nothing");
  app.add_flag("--json", f->json, "also print the result as JSON on stdout");
}

std::optional<int> FinishSwitchFlags(const char* command, const SwitchFlags& f, double* grace,
                                     double* terminate_timeout) {
  std::optional<double> g = ParseSeconds(f.grace);
  if (!g) return Usage(command, "--grace takes seconds");
  std::optional<double> t = ParseSeconds(f.terminate_timeout);
  if (!t) return Usage(command, "--terminate-timeout takes seconds");
  *grace = *g;
  *terminate_timeout = *t;
  Command c = std::string_view(command) == "swap" ? Command::kSwap : Command::kRollback;
  if (absl::Status s = ApplyConnectionFlags(f.conn); !s.ok()) return Fail(c, s);
  return std::nullopt;
}

std::optional<int> ReadReportFlag(Command command, const SwitchFlags& f, std::string* json) {
  if (f.report.empty()) return std::nullopt;
  std::optional<std::string> report = ReadWhole(f.report);
  if (!report) return Fail(command, absl::NotFoundError(absl::StrCat(f.report, ": cannot read")));
  *json = std::move(*report);
  return std::nullopt;
}

}  // namespace pgmerge::tools
