// Segmenter and reader throughput over an in-memory dump.
#include <string>

#include "benchmark/benchmark.h"
#include "parser/dump_reader.h"
#include "parser/segmenter.h"

namespace {

std::string MakeDump(int rows, bool inserts) {
  std::string s = "SET standard_conforming_strings = on;\nCREATE TABLE public.t (id integer, a text, b text);\n";
  if (!inserts) s += "COPY public.t (id, a, b) FROM stdin;\n";
  for (int i = 0; i < rows; ++i) {
    std::string id = std::to_string(i);
    if (inserts) {
      s += "INSERT INTO public.t VALUES (" + id + ", 'name " + id +
           "', 'some longer text with a tab\\there and more words');\n";
    } else {
      s += id + "\tname " + id + "\tsome longer text with a tab\\there and more words\n";
    }
  }
  if (!inserts) s += "\\.\n";
  return s;
}

void BM_Segmenter(benchmark::State& state) {
  std::string dump = MakeDump(100000, state.range(0));
  for (auto _ : state) {
    pgmerge::parser::DumpSegmenter seg(dump, "bench.sql");
    pgmerge::parser::Segment s;
    int64_t n = 0;
    while (*seg.Next(&s)) ++n;
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(state.iterations() * dump.size());
}
BENCHMARK(BM_Segmenter)->Arg(0)->Arg(1)->ArgName("inserts");

void BM_DumpReaderRows(benchmark::State& state) {
  std::string dump = MakeDump(100000, state.range(0));
  for (auto _ : state) {
    pgmerge::parser::DumpReader reader(dump, "bench.sql");
    pgmerge::parser::DumpEvent ev;
    int64_t fields = 0;
    while (*reader.Next(&ev)) {
      if (ev.kind == pgmerge::parser::EventKind::kRow) fields += ev.fields->size();
    }
    benchmark::DoNotOptimize(fields);
  }
  state.SetBytesProcessed(state.iterations() * dump.size());
}
BENCHMARK(BM_DumpReaderRows)->Arg(0)->Arg(1)->ArgName("inserts");

}  // namespace
