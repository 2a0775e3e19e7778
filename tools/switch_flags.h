// The flags swap and rollback share: where the server is, how main is
// closed, where the journal is.
#ifndef PGMERGE_TOOLS_SWITCH_FLAGS_H_
#define PGMERGE_TOOLS_SWITCH_FLAGS_H_

#include <optional>
#include <string>

#include "tools/cli.h"
#include "tools/exit_status.h"

namespace pgmerge::tools {

struct SwitchFlags {
  std::string server, maintenance_db = "postgres", main, shadow, report, state;
  bool json = false;  // The result as JSON on stdout too.
  std::string grace = "5", terminate_timeout = "10";
  bool dry_run = false;
  ConnectionFlags conn;
};

void AddSwitchFlags(CLI::App& app, SwitchFlags* f);

// Checks and converts: returns the exit status of a usage error it
// printed, or nullopt. Applies the connection flags.
std::optional<int> FinishSwitchFlags(const char* command, const SwitchFlags& f, double* grace,
                                     double* terminate_timeout);

// --report, when given: its text into `*json`. Returns the exit status of
// the failure it printed (the file cannot be read), or nullopt.
std::optional<int> ReadReportFlag(Command command, const SwitchFlags& f, std::string* json);

}  // namespace pgmerge::tools

#endif  // PGMERGE_TOOLS_SWITCH_FLAGS_H_
