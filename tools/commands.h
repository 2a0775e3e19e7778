// The subcommands, one file each (merge.cc, inspect.cc ... under tools/),
// and the table main.cc dispatches through. Each builds its flag table as a
// CLI::App once, for parsing and for `--help` alike.
#ifndef PGMERGE_TOOLS_COMMANDS_H_
#define PGMERGE_TOOLS_COMMANDS_H_

#include <string>
#include <string_view>
#include <vector>

namespace pgmerge::tools {

struct CommandSpec {
  std::string_view name;
  std::string_view summary;  // One line for `pgmerge --help`.
  int (*run)(const std::vector<std::string>& args);
  std::string (*help)();
};

// merge first: it is also what `pgmerge PROD DEV` runs.
const std::vector<CommandSpec>& Commands();

int MergeMain(const std::vector<std::string>& args);
int DefaultMergeMain(const std::vector<std::string>& args);  // pgmerge PROD DEV
std::string MergeHelp();
std::string DefaultMergeHelp();
int InspectMain(const std::vector<std::string>& args);
std::string InspectHelp();
int VerifyMain(const std::vector<std::string>& args);
std::string VerifyHelp();
int SwapMain(const std::vector<std::string>& args);
std::string SwapHelp();
int RollbackMain(const std::vector<std::string>& args);
std::string RollbackHelp();
int MirrorMain(const std::vector<std::string>& args);
std::string MirrorHelp();
int DumpMain(const std::vector<std::string>& args);
std::string DumpHelp();
int CatchUpMain(const std::vector<std::string>& args);
std::string CatchUpHelp();

}  // namespace pgmerge::tools

#endif  // PGMERGE_TOOLS_COMMANDS_H_
