#include "tools/exit_status.h"

#include <cstdio>
#include <string>

namespace pgmerge::tools {

int ExitFor(Command command, const absl::Status& status) {
  const bool switches = command == Command::kSwap || command == Command::kRollback;
  // dump and catch-up: 2 when refused before doing anything (usage, a
  // refusal, a bad report); 1 when the run itself failed (pg_dump, a
  // server unreachable or erring), as docs/live.md says.
  if ((command == Command::kDump || command == Command::kCatchUp) && !status.ok()) {
    switch (status.code()) {
      case absl::StatusCode::kFailedPrecondition:
      case absl::StatusCode::kInvalidArgument:
      case absl::StatusCode::kDataLoss:
      case absl::StatusCode::kNotFound:
        return kExitUsage;
      default:
        return kExitDifferences;
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitDone;
    // The merger refuses conflicts under --fail-on-conflict as Aborted; swap
    // and rollback stop with Aborted (interrupted, a step failed) or
    // Internal (the server failed mid-way) only after main was closed, and
    // have reopened it by then.
    case absl::StatusCode::kAborted:
      if (command == Command::kMerge) return kExitConflicts;
      return switches ? kExitDifferences : kExitUsage;
    case absl::StatusCode::kInternal:
      return switches ? kExitDifferences : kExitUsage;
    // Bad input (DataLoss is the shape of every FILE:LINE error), usage,
    // refused preconditions, unreachable servers, unreadable files.
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnauthenticated:
      return kExitUsage;
    case absl::StatusCode::kDoNotUseReservedForFutureExpansionUseDefaultInSwitchInstead_:
      break;
  }
  return kExitUsage;
}

int Fail(Command command, const absl::Status& status) {
  std::fprintf(stderr, "pgmerge: %s\n", std::string(status.message()).c_str());
  return ExitFor(command, status);
}

}  // namespace pgmerge::tools
