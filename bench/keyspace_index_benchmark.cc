// Key index insert and lookup, and fingerprinting a row's fields.
#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "keyspace/key_index.h"

namespace {

using pgmerge::keyspace::SideIndex;

void BM_IndexInsertFinalize(benchmark::State& state) {
  const int64_t n = state.range(0);
  for (auto _ : state) {
    SideIndex index(0, 0);
    index.Reserve(n);
    // Mostly ascending with a few out of order, as pg_dump writes heaps.
    for (int64_t k = 1; k <= n; ++k) {
      int64_t key = (k % 1000 == 0) ? n + k : k;
      index.AddRow(static_cast<uint64_t>(key), static_cast<uint64_t>(k) * 31);
    }
    benchmark::DoNotOptimize(index.Finalize());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_IndexInsertFinalize)->Arg(1 << 20);

void BM_IndexLookup(benchmark::State& state) {
  const int64_t n = 1 << 20;
  SideIndex index(0, 0);
  for (int64_t k = 1; k <= n; ++k) {
    index.AddRow(static_cast<uint64_t>(state.range(0) ? k * 3 : k), 0);
  }
  index.Finalize();
  uint64_t x = 1;
  for (auto _ : state) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    benchmark::DoNotOptimize(index.Find(x % (3 * n)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexLookup)->Arg(0)->Arg(1)->ArgName("sparse");

void BM_FingerprintRow(benchmark::State& state) {
  std::vector<std::string> fields = {"12345", "user12345@example.org", "a name",
                                     std::string(200, 'x'), "2024-01-01 00:00:00+00"};
  size_t bytes = 0;
  for (const auto& f : fields) bytes += f.size();
  for (auto _ : state) {
    uint64_t h = pgmerge::keyspace::kHashSeed;
    for (const auto& f : fields) h = pgmerge::keyspace::HashField(f, h);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_FingerprintRow);

}  // namespace
