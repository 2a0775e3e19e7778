// `pgmerge dump -d DB -f FILE [--dev DB --dev-file FILE] [pg_dump options]`:
// pg_dump on a logical slot's snapshot (swap/dump.h). Our flags come from
// the table; every other argument goes to pg_dump unchanged, in order.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "swap/dump.h"
#include "swap/secrets.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/exit_status.h"

namespace pgmerge::tools {
namespace {

struct DumpArgs {
  swap::DumpOptions o;
  ConnectionFlags conn;
};

std::unique_ptr<CLI::App> DumpApp(DumpArgs* a) {
  auto app = NewApp(
      "dump",
      "pg_dump on a logical replication slot's snapshot. With wal_level=logical: a\n"
      "slot with an exported snapshot, pg_dump --snapshot on it, and\n"
      "FILE.pgmerge.json naming the slot and its LSN, so `pgmerge catch-up` can\n"
      "later apply what main got since. Without it: a plain pg_dump and how to\n"
      "turn it on. Every option not listed here is pg_dump's, passed on as given.",
      "--dev dumps development at the same time (a plain pg_dump, the same\n"
      "options, no slot; a name alone is on the same server, a conninfo string\n"
      "or URI names its own); both dumps succeed or the slot is dropped.\n"
      "Exit: 0 dumped; 2 usage or a refusal (no REPLICATION, no free slot); 1 a\n"
      "pg_dump or the server failed. See docs/live.md.\n"
      "Example: pgmerge dump -d app -f prod.sql --dev app_dev --dev-file dev.sql");
  app->add_option("-d,--dbname", a->o.dbname, "production: name, conninfo string or URI")
      ->type_name("DB");
  app->add_option("-f,--file", a->o.file, "where pg_dump writes (the slot is recorded beside it)")
      ->type_name("FILE");
  app->add_option("--dev", a->o.dev, "development's database, dumped at the same time")
      ->type_name("DB");
  app->add_option("--dev-file", a->o.dev_file, "where development's dump goes")
      ->type_name("FILE");
  AddConnectionFlags(*app, &a->conn);
  app->allow_extras();
  return app;
}

}  // namespace

int DumpMain(const std::vector<std::string>& args) {
  DumpArgs a;
  std::unique_ptr<CLI::App> app = DumpApp(&a);
  if (std::optional<int> done = Parse(*app, args)) return *done;
  a.o.pg_dump_args = app->remaining();
  for (const std::string& extra : a.o.pg_dump_args) {
    if (extra.rfind("--snapshot", 0) == 0) return Usage("dump", "--snapshot is pgmerge's to set");
  }
  if (a.o.file.empty()) return Usage("dump", "-f FILE is required (the slot is recorded beside it)");
  if (a.o.dev.empty() != a.o.dev_file.empty()) {
    return Usage("dump", "--dev and --dev-file go together");
  }
  if (!a.o.dev_file.empty() && a.o.dev_file == a.o.file) {
    return Usage("dump", "--dev-file must differ from -f");
  }
  // -h/-p/-U (and -W's password) reach libpq and both pg_dump processes
  // as PG* variables: a conninfo string still says what it says.
  if (absl::Status s = ApplyConnectionFlags(a.conn); !s.ok()) return Fail(Command::kDump, s);
  if (const char* p = std::getenv("PGMERGE_PG_DUMP"); p != nullptr && *p) a.o.pg_dump = p;
  a.o.log = [](std::string_view line) {
    std::fprintf(stderr, "pgmerge dump: %.*s\n", static_cast<int>(line.size()), line.data());
  };
  absl::StatusOr<swap::DumpResult> r = swap::Dump(a.o);
  if (!r.ok()) {
    std::fprintf(stderr, "pgmerge dump: %s\n", std::string(r.status().message()).c_str());
    return ExitFor(Command::kDump, r.status());
  }
  for (const swap::StaleSlot& s : r->stale_slots) {
    std::fprintf(stderr,
                 "pgmerge dump: warning: slot %s (database %s%s) from an earlier "
                 "pgmerge dump holds %s of WAL; drop it when no catch-up needs it: "
                 "SELECT pg_drop_replication_slot('%s')\n",
                 s.name.c_str(), s.database.c_str(), s.active ? ", in use" : "",
                 s.retained.c_str(), s.name.c_str());
  }
  if (r->dev_dumped) {
    std::fprintf(stderr, "pgmerge dump: development's %s dumped to %s, at the same time\n",
                 swap::RedactPasswords(a.o.dev).c_str(), a.o.dev_file.c_str());
  }
  if (!r->logical) {
    std::fprintf(stderr, "pgmerge dump: %s\n", r->why_plain.c_str());
    return kExitDone;
  }
  std::fprintf(stderr,
               "pgmerge dump: %s dumped at %s; slot %s streams every write after it "
               "(recorded in %s). It keeps WAL until `pgmerge catch-up --drop-slot` "
               "or a swap drops it.\n",
               r->database.c_str(), r->consistent_lsn.c_str(), r->slot.c_str(),
               r->sidecar.c_str());
  return kExitDone;
}

std::string DumpHelp() {
  DumpArgs a;
  return DumpApp(&a)->help();
}

}  // namespace pgmerge::tools
