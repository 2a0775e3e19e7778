// `--json` results of verify, swap and rollback: one JSON object each, for
// scripts and CI. The CLI prints it on stdout (and its usual lines on
// stderr); the shape is documented in docs/swap.md.
#ifndef PGMERGE_SWAP_RESULT_JSON_H_
#define PGMERGE_SWAP_RESULT_JSON_H_

#include <string>

#include "swap/rollback.h"
#include "swap/swap.h"
#include "swap/verify.h"

namespace pgmerge::swap {

// Each ends in a newline. `exit_code` is the status the CLI exits with.
std::string VerifyResultJson(const VerifyResult& r, int exit_code);
std::string SwapResultJson(const SwapResult& r, int exit_code);
std::string RollbackResultJson(const RollbackResult& r, int exit_code);
// A run that ended in an error (refused, unreachable, stopped): its message.
std::string ErrorJson(std::string_view command, std::string_view message, int exit_code);

}  // namespace pgmerge::swap

#endif  // PGMERGE_SWAP_RESULT_JSON_H_
