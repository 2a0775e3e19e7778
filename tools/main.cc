// The pgmerge command line: a subcommand's flags -> its options -> the
// stages. The only place that prints. Each subcommand is its own file
// (tools/*_command.cc) with one flag table for parsing and --help; exit
// statuses come from tools/exit_status.h.
#ifndef PGMERGE_NO_MIMALLOC
#include <mimalloc-new-delete.h>  // The binary allocates through mimalloc.
#endif
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "swap/secrets.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/exit_status.h"
#include "tools/output_files.h"

#ifndef PGMERGE_VERSION
#define PGMERGE_VERSION "unknown"
#endif

namespace pgmerge::tools {



const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"merge", "merge two dumps into one SQL stream (also: pgmerge PROD DEV)", MergeMain,
       MergeHelp},
      {"verify", "check a restored shadow against the merge's manifest", VerifyMain, VerifyHelp},
      {"swap", "replace the live database by the verified shadow", SwapMain, SwapHelp},
      {"rollback", "undo a swap", RollbackMain, RollbackHelp},
      {"mirror", "copy the objects production's store lacks", MirrorMain, MirrorHelp},
      {"inspect", "print a dump's catalog", InspectMain, InspectHelp},
      {"dump", "pg_dump on a logical slot's snapshot, for catch-up (docs/live.md)",
       DumpMain, DumpHelp},
      {"catch-up", "apply what main got since its dump (y') to the shadow (docs/live.md)",
       CatchUpMain, CatchUpHelp},
  };
  return kCommands;
}

namespace {

const CommandSpec* Find(std::string_view name) {
  for (const CommandSpec& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string Overview() {
  std::string text =
      "pgmerge " PGMERGE_VERSION
      ": merge two PostgreSQL dumps so production takes development's changes\n\n"
      "Usage: pgmerge PROD DEV [OPTION...]     (the merge; see below)\n"
      "       pgmerge COMMAND [OPTION...]\n"
      "       pgmerge help COMMAND | pgmerge COMMAND --help\n"
      "       pgmerge --version\n\nCommands:\n";
  for (const CommandSpec& c : Commands()) {
    absl::StrAppend(&text, "  ", std::string(c.name), std::string(10 - c.name.size(), ' '), std::string(c.summary), "\n");
  }
  absl::StrAppend(&text,
                  "\nExit status: 0 done; 1 verify found differences, or a swap stopped after\n"
                  "main was closed (main reopened), or mirror objects failed; 2 bad input, usage\n"
                  "or a refused precondition (one message, \"FILE:LINE: what\" for dumps, and\n"
                  "nothing restorable written); 3 conflicts refused by --fail-on-conflict; 4\n"
                  "main was written since the dump (swap) or since the swap (rollback).\n\n"
                  "The merge (pgmerge merge --help):\n\n",
                  DefaultMergeHelp());
  return text;
}

// "verfy" -> "verify": a first word that is no file and close to a command.
std::string NearCommand(const std::string& word) {
  struct stat st;
  if (word.empty() || word[0] == '-' || word.find('/') != std::string::npos ||
      stat(word.c_str(), &st) == 0) {
    return "";
  }
  std::string best;
  size_t best_d = word.size() < 4 ? 2 : 3;  // At most 1 edit for short words, else 2.
  for (const CommandSpec& c : Commands()) {
    size_t d = EditDistance(word, c.name);
    if (d < best_d) best_d = d, best = std::string(c.name);
  }
  if (EditDistance(word, "help") < std::min<size_t>(best_d, 2)) best = "help";
  return best;
}

// Inputs are memory-mapped: a file truncated by someone else while it is
// read raises SIGBUS. Say so plainly instead of dying of a signal.
void OnBusError(int) {
  static const char kMessage[] =
      "pgmerge: an input file changed size while it was being read; "
      "dump to a file nobody else writes, then run again\n";
  ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
  _exit(kExitUsage);
}

int Main(int argc, char** argv) {
  struct sigaction bus = {};
  bus.sa_handler = OnBusError;
  sigaction(SIGBUS, &bus, nullptr);
  RememberUmask();
  std::vector<std::string> args(argv + 1, argv + argc);
  swap::ScrubPasswordsFromArgv(argc, argv);  // `args` keeps them; `ps` no longer shows them.
  if (args.empty()) {
    std::fputs(Overview().c_str(), stderr);
    return kExitUsage;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-?" || first == "-h") {
    std::fputs(Overview().c_str(), stdout);
    return kExitDone;
  }
  if (first == "--version" || first == "-V") {
    std::printf("pgmerge %s\n", PGMERGE_VERSION);
    return kExitDone;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (first == "help") {
    if (rest.empty()) {
      std::fputs(Overview().c_str(), stdout);
      return kExitDone;
    }
    if (const CommandSpec* c = Find(rest[0])) {
      std::fputs(c->help().c_str(), stdout);
      return kExitDone;
    }
    return Usage("help", absl::StrCat("no command ", rest[0]));
  }
  if (const CommandSpec* c = Find(first)) return c->run(rest);
  if (std::string near = NearCommand(first); !near.empty()) {
    return Usage("", absl::StrCat("unknown command ", first, "; did you mean ", near, "?"));
  }
  return DefaultMergeMain(args);
}

}  // namespace
}  // namespace pgmerge::tools

int main(int argc, char** argv) { return pgmerge::tools::Main(argc, argv); }
