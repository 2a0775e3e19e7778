// The pgmerge command line: flags -> options -> stages. The only place that
// prints. Exit status: 0 done, 2 bad input or usage, 3 conflicts refused.
#include <mimalloc-new-delete.h>  // The binary allocates through mimalloc.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "parser/catalog.h"
#include "tools/inspect.h"
#include "tools/open_dump.h"

namespace pgmerge::tools {
namespace {

constexpr char kUsage[] =
    R"(pgmerge: merge two PostgreSQL dumps so production takes development's changes

Usage:
  pgmerge inspect DUMP [--json]
      Print the dump's catalog: per table the row count, the key kind
      (serial / identity / integer / composite / uuid / text / none),
      foreign keys, and sequences with their values.
      Example: pgmerge inspect prod.sql --json > prod-catalog.json

DUMP is a plain pg_dump file (pg_dump -Fp, PostgreSQL 12 to 17), or "-" for
standard input. Custom, tar and directory dumps are converted with pg_restore.

Exit status: 0 success; 2 bad input or usage (message "FILE:LINE: what").
)";

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "pgmerge: %s\n", std::string(status.message()).c_str());
  return 2;
}

int Usage(std::string_view message) {
  std::fprintf(stderr, "pgmerge: %.*s\n(see pgmerge --help)\n",
               static_cast<int>(message.size()), message.data());
  return 2;
}

bool WriteAll(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(STDOUT_FILENO, text.data(), text.size());
    if (n <= 0) return false;
    text.remove_prefix(n);
  }
  return true;
}

int Inspect(const std::vector<std::string>& args) {
  std::string path;
  bool json = false;
  for (const std::string& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage(absl::StrCat("inspect: unknown option ", a));
    } else if (path.empty()) {
      path = a;
    } else {
      return Usage("inspect takes one dump");
    }
  }
  if (path.empty()) return Usage("inspect: which dump?");
  absl::StatusOr<MappedFile> file = OpenDump(path);
  if (!file.ok()) return Fail(file.status());
  file->AdviseSequential();
  absl::StatusOr<parser::Catalog> catalog =
      parser::ReadCatalog(file->data(), file->name());
  if (!catalog.ok()) return Fail(catalog.status());
  std::string out = json ? CatalogJson(*catalog, file->name())
                         : CatalogText(*catalog, file->name());
  return WriteAll(out) ? 0 : 1;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" ||
      args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "inspect") {
    return Inspect(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  return Usage(absl::StrCat("unknown command ", args[0]));
}

}  // namespace
}  // namespace pgmerge::tools

int main(int argc, char** argv) { return pgmerge::tools::Main(argc, argv); }
