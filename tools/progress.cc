#include "tools/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "base/read_progress.h"

namespace pgmerge::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct State {
  std::mutex mu;
  // Per input, how far the pass over it is; an offset below it starts a
  // new pass, whose bytes count again (they are read again).
  absl::flat_hash_map<const MappedFile*, size_t> reached;
  double total = 0;
  Clock::time_point start = Clock::now();
  Clock::time_point drawn{};
  bool on_screen = false;
};

State& state() {
  static State* s = new State;  // Outlives every pass thread.
  return *s;
}

void Report(const MappedFile& file, size_t offset) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  size_t& reached = s.reached[&file];
  s.total += static_cast<double>(offset >= reached ? offset - reached : offset);
  reached = offset;
  const Clock::time_point now = Clock::now();
  if (now - s.drawn < std::chrono::milliseconds(200)) return;
  s.drawn = now;
  const double seconds = std::chrono::duration<double>(now - s.start).count();
  const double mb = s.total / 1e6;
  std::fprintf(stderr, "\rpgmerge: %.1f MB read, %.1f MB/s\033[K", mb,
               seconds > 0 ? mb / seconds : 0.0);
  std::fflush(stderr);
  s.on_screen = true;
}

}  // namespace

void StartProgress(bool quiet) {
  if (quiet || !isatty(STDERR_FILENO)) return;
  state();
  SetReadProgressHook(&Report);
}

void ClearProgress() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.on_screen) return;
  std::fputs("\r\033[K", stderr);
  s.on_screen = false;
}

}  // namespace pgmerge::tools
