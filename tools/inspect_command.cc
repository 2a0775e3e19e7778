// `pgmerge inspect DUMP [--json]`: a dump's catalog.
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "parser/catalog.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/exit_status.h"
#include "tools/inspect.h"
#include "tools/open_dump.h"

namespace pgmerge::tools {
namespace {

struct InspectArgs {
  std::vector<std::string> dumps;
  bool json = false;
};

std::unique_ptr<CLI::App> InspectApp(InspectArgs* a) {
  auto app = NewApp("inspect",
                    "Print the dump's catalog: per table the row count, the key kind (serial /\n"
                    "identity / integer / composite / uuid / text / none), foreign keys, and\n"
                    "sequences with their values. DUMP is read as a merge reads it.",
                    "Example: pgmerge inspect prod.sql --json > prod-catalog.json");
  app->add_option("dump", a->dumps, "the dump")->type_name("DUMP");
  app->add_flag("--json", a->json, "JSON (docs/inspect-json.md) instead of text");
  return app;
}

}  // namespace

int InspectMain(const std::vector<std::string>& args) {
  InspectArgs a;
  std::unique_ptr<CLI::App> app = InspectApp(&a);
  if (std::optional<int> done = Parse(*app, args)) return *done;
  if (a.dumps.empty()) return Usage("inspect", "which dump?");
  if (a.dumps.size() > 1) return Usage("inspect", "inspect takes one dump");
  absl::StatusOr<Dump> dump = OpenDump(a.dumps[0]);
  if (!dump.ok()) return Fail(Command::kInspect, dump.status());
  dump->file.AdviseSequential();
  absl::StatusOr<parser::Catalog> catalog =
      parser::ReadCatalog(dump->data(), dump->name, &dump->file);
  if (!catalog.ok()) return Fail(Command::kInspect, catalog.status());
  std::string out = a.json ? CatalogJson(*catalog, dump->name) : CatalogText(*catalog, dump->name);
  std::string_view rest = out;
  while (!rest.empty()) {
    ssize_t n = write(STDOUT_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(Command::kInspect, absl::UnavailableError("cannot write to standard output"));
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return kExitDone;
}

std::string InspectHelp() {
  InspectArgs a;
  return InspectApp(&a)->help();
}

}  // namespace pgmerge::tools
