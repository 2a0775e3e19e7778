// `pgmerge verify --db SHADOW --report report.json`: the restored shadow
// against the merge's manifest.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "swap/verify.h"
#include "swap/result_json.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/exit_status.h"

namespace pgmerge::tools {
namespace {

struct VerifyArgs {
  std::string db, report, jobs = "2";
  bool json = false;
  ConnectionFlags conn;
};

std::unique_ptr<CLI::App> VerifyApp(VerifyArgs* a) {
  auto app = NewApp(
      "verify",
      "Check a restored shadow database against the merge's report: per table the\n"
      "row count and content hash of what the merge wrote, every sequence past its\n"
      "keys, no constraint NOT VALID, no invalid index. Exit 0 only when all hold;\n"
      "1 with each difference named.",
      "SHADOW is a database name, a conninfo string or a URI; -h/-p/-U fill in\n"
      "what it leaves out, as in psql, and PG* variables, the service file and\n"
      ".pgpass apply.\n"
      "Example: pgmerge verify -d shadow -h /run/postgresql --report report.json");
  app->add_option("-d,--db,--dbname", a->db, "the shadow: name, conninfo string or URI")
      ->type_name("SHADOW");
  app->add_option("--report", a->report, "the merge's JSON report")->type_name("FILE");
  app->add_option("--jobs", a->jobs,
                  "sessions that read the tables at once; large tables are shared (default 2)")
      ->type_name("N");
  app->add_flag("--json", a->json, "also print the result as JSON on stdout");
  AddConnectionFlags(*app, &a->conn);
  return app;
}

}  // namespace

int VerifyMain(const std::vector<std::string>& args) {
  VerifyArgs a;
  std::unique_ptr<CLI::App> app = VerifyApp(&a);
  if (std::optional<int> done = Parse(*app, args)) return *done;
  if (a.db.empty() || a.report.empty()) {
    return Usage("verify", "verify takes --db SHADOW --report report.json");
  }
  std::optional<long> jobs = ParseCount(a.jobs, 1, 64);
  if (!jobs) return Usage("verify", "--jobs takes a number from 1 to 64");
  std::optional<std::string> report = ReadWhole(a.report);
  if (!report) return Fail(Command::kVerify, absl::NotFoundError(absl::StrCat(a.report, ": cannot read")));
  if (absl::Status s = ApplyConnectionFlags(a.conn); !s.ok()) return Fail(Command::kVerify, s);
  absl::StatusOr<swap::VerifyResult> result = swap::VerifyShadow(swap::ConnInfoFor(a.db), *report,
                                                                  static_cast<int>(*jobs));
  if (!result.ok()) return Fail(Command::kVerify, result.status());
  if (a.json) {
    std::fputs(swap::VerifyResultJson(*result, result->ok() ? kExitDone : kExitDifferences).c_str(),
               stdout);
  }
  for (const std::string& p : result->problems) std::fprintf(stderr, "verify: %s\n", p.c_str());
  std::fprintf(stderr, "verify: %d tables, %lld rows checked: %s\n", result->tables_checked,
               static_cast<long long>(result->rows_checked),
               result->ok() ? "the shadow holds what the merge wrote" : "DIFFERENCES (see above)");
  return result->ok() ? kExitDone : kExitDifferences;
}

std::string VerifyHelp() {
  VerifyArgs a;
  return VerifyApp(&a)->help();
}

}  // namespace pgmerge::tools
