// COPY row splitting and field decoding.
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "parser/copy_text.h"

namespace {

std::vector<std::string> Rows(bool escapes) {
  std::vector<std::string> rows;
  for (int i = 0; i < 10000; ++i) {
    rows.push_back(std::to_string(i) + "\t" + std::to_string(i * 7) + "\tuser name " +
                   std::to_string(i) + (escapes ? "\ta\\tb\\\\c\\nd" : "\tplain text body") +
                   "\t2024-01-01 00:00:00+00\t\\N");
  }
  return rows;
}

void BM_SplitCopyRow(benchmark::State& state) {
  std::vector<std::string> rows = Rows(state.range(0));
  std::vector<std::string_view> fields;
  size_t bytes = 0;
  for (const auto& r : rows) bytes += r.size();
  for (auto _ : state) {
    for (const auto& r : rows) {
      pgmerge::parser::SplitCopyRow(r, &fields);
      benchmark::DoNotOptimize(fields.data());
    }
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_SplitCopyRow)->Arg(0)->Arg(1)->ArgName("escapes");

void BM_DecodeCopyField(benchmark::State& state) {
  std::vector<std::string> rows = Rows(true);
  std::vector<std::string_view> fields;
  std::string scratch;
  size_t bytes = 0;
  for (const auto& r : rows) bytes += r.size();
  for (auto _ : state) {
    for (const auto& r : rows) {
      pgmerge::parser::SplitCopyRow(r, &fields);
      for (std::string_view f : fields) {
        benchmark::DoNotOptimize(pgmerge::parser::DecodeCopyField(f, &scratch).size());
      }
    }
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_DecodeCopyField);

}  // namespace
