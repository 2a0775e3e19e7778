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

// A 256 KiB stretch of text as the reader checks it: ASCII, Latin with an
// accent a word, and Cyrillic and Japanese (every character multi-byte);
// against the code-point-at-a-time loop of machines without SSSE3.
void BM_IsValidUtf8(benchmark::State& state) {
  static const char* kWords[][4] = {{"rows", "merge", "shadow", "keys"},
                                    {"caf\xc3\xa9", "na\xc3\xafve", "rows", "d\xc3\xa9j\xc3\xa0"},
                                    {"\xd0\xbc\xd0\xb8\xd1\x80", "\xe6\x97\xa5\xe6\x9c\xac",
                                     "\xd0\xb4\xd0\xb0", "\xe8\xaa\x9e"}};
  std::string text;
  for (int i = 0; text.size() < (size_t{256} << 10); ++i) {
    text += kWords[state.range(0)][i % 4];
    text += i % 9 == 8 ? '\n' : ' ';
  }
  const bool scalar = state.range(1) != 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(scalar ? pgmerge::parser::internal::IsValidUtf8Scalar(text)
                                    : pgmerge::parser::IsValidUtf8(text));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_IsValidUtf8)->ArgsProduct({{0, 1, 2}, {0, 1}})->ArgNames({"script", "scalar"});

}  // namespace
