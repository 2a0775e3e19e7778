// Test-only: `pgmerge swap` with test knobs injected. Links the swap library
// and runs Swap() with an after_step hook that kills the process with
// SIGKILL right after the named step, as a crash or `kill -9` would (STEP
// "none": no crash), and with the drift check's ctid ranges as small as
// asked. The product binary has no such hooks; tests/swap_test.cc runs this
// one to crash a swap, then the real pgmerge to --resume or roll it back.
//
//   swap_crash_driver STEP --server S --main M --shadow SH --report R --state F
//                     [--grace G] [--jobs N] [--check-range-blocks B]
//
// Exit: 0 swapped, 4 drift (each table on stderr), 1 error, 3 no crash at STEP.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "swap/swap.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: swap_crash_driver STEP [swap flags]\n");
    return 2;
  }
  const std::string crash_at = argv[1];
  pgmerge::swap::SwapOptions o;
  std::string report_path, grace, jobs, range_blocks;
  std::map<std::string, std::string*> flags = {
      {"--server", &o.server}, {"--main", &o.main},         {"--shadow", &o.shadow},
      {"--report", &report_path}, {"--state", &o.state_path}, {"--grace", &grace},
      {"--jobs", &jobs},         {"--check-range-blocks", &range_blocks}};
  for (int i = 2; i + 1 < argc; i += 2) {
    auto f = flags.find(argv[i]);
    if (f == flags.end()) {
      std::fprintf(stderr, "swap_crash_driver: unknown flag %s\n", argv[i]);
      return 2;
    }
    *f->second = argv[i + 1];
  }
  std::ifstream in(report_path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  o.report_json = text.str();
  o.report_path = report_path;
  if (!grace.empty()) o.grace_seconds = std::atof(grace.c_str());
  if (!jobs.empty()) o.jobs = std::atoi(jobs.c_str());
  if (!range_blocks.empty()) o.check_range_blocks = std::atoll(range_blocks.c_str());
  o.log = [](std::string_view line) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  };
  o.after_step = [&](std::string_view step) {
    if (step == crash_at) raise(SIGKILL);
  };
  absl::StatusOr<pgmerge::swap::SwapResult> r = pgmerge::swap::Swap(o);
  if (!r.ok()) {
    std::fprintf(stderr, "swap_crash_driver: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  if (r->outcome == pgmerge::swap::SwapResult::Outcome::kDrift) {
    for (const std::string& d : r->drift) std::fprintf(stderr, "  %s\n", d.c_str());
    return 4;
  }
  if (crash_at == "none") return 0;
  std::fprintf(stderr, "swap_crash_driver: no crash at %s\n", crash_at.c_str());
  return 3;
}
