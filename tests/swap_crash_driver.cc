// Test-only: `pgmerge swap` with a crash injected. Links the swap library
// and runs Swap() with an after_step hook that kills the process with
// SIGKILL right after the named step, as a crash or `kill -9` would. The
// product binary has no such hook; tests/swap_test.cc runs this one to crash
// a swap, then the real pgmerge to --resume or roll it back.
//
//   swap_crash_driver STEP --server S --main M --shadow SH --report R --state F [--grace G]
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
  std::string report_path, grace;
  std::map<std::string, std::string*> flags = {
      {"--server", &o.server}, {"--main", &o.main},         {"--shadow", &o.shadow},
      {"--report", &report_path}, {"--state", &o.state_path}, {"--grace", &grace}};
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
  std::fprintf(stderr, "swap_crash_driver: no crash at %s\n", crash_at.c_str());
  return 3;
}
