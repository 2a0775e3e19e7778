// Independent pieces of one pass spread over the cores.
#ifndef PGMERGE_BASE_PARALLEL_H_
#define PGMERGE_BASE_PARALLEL_H_

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace pgmerge {

// How many threads a pass takes: the two-core machine it is built for
// (prod's side and dev's side), whatever the host has.
inline constexpr int kPassThreads = 2;

// Calls fn(i, worker) once for each i in [0, n), on `threads` threads (the
// caller's among them); worker in [0, threads) says which. Pieces are
// taken in index order as threads come free, so put the largest first.
// Returns when all are done. fn must not throw.
template <typename Fn>
void ParallelFor(size_t n, int threads, Fn fn) {
  std::atomic<size_t> next{0};
  auto work = [&](int worker) {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i, worker);
  };
  std::vector<std::thread> helpers;
  for (int w = 1; w < threads && static_cast<size_t>(w) < n; ++w) helpers.emplace_back(work, w);
  work(0);
  for (std::thread& t : helpers) t.join();
}

}  // namespace pgmerge

#endif  // PGMERGE_BASE_PARALLEL_H_
