// The exit statuses pgmerge documents (README "Exit status") and the one map
// from an absl::Status to them. Every command returns through here.
#ifndef PGMERGE_TOOLS_EXIT_STATUS_H_
#define PGMERGE_TOOLS_EXIT_STATUS_H_

#include "absl/status/status.h"

namespace pgmerge::tools {

enum ExitStatus : int {
  kExitDone = 0,
  // verify found differences; a swap stopped after main was closed (main
  // reopened); mirror: some objects failed after retries.
  kExitDifferences = 1,
  // Bad input, a usage error or a refused precondition: one message, and
  // nothing restorable written.
  kExitUsage = 2,
  kExitConflicts = 3,     // Conflicts refused by --fail-on-conflict.
  kExitWritesSince = 4,   // Writes since the dump (swap) or the swap (rollback).
};

enum class Command { kMerge, kInspect, kVerify, kSwap, kRollback, kMirror, kDump, kCatchUp };

// What a failed stage of `command` exits with. Every absl code is mapped
// explicitly (a new one does not compile silently into a wrong status).
int ExitFor(Command command, const absl::Status& status);

// Prints "pgmerge: MESSAGE" (one line) and returns ExitFor(command, status).
int Fail(Command command, const absl::Status& status);

}  // namespace pgmerge::tools

#endif  // PGMERGE_TOOLS_EXIT_STATUS_H_
