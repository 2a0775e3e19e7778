#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 60) from its seeds in testdata/fuzz/<target>/.
# A crash fails the run; its reproducer is left in $FUZZ_DIR/<target>/ and
# belongs in testdata/fuzz/<target>/ as a regression seed once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
work=${FUZZ_DIR:-$(mktemp -d)}
launcher=""
if command -v ccache >/dev/null; then  # As scripts/build.sh: clones share hits.
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  launcher="-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
fi
# shellcheck disable=SC2086
CC=clang CXX=clang++ cmake -G Ninja -B "$build" -S . -DPGMERGE_FUZZ=ON \
  -DPGMERGE_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo $launcher >/dev/null
targets=(parser_segmenter parser_copy_text parser_catalog merger_merge)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/%/_fuzzer}"
status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus" "$work/$t/crashes"
  cp testdata/fuzz/"$t"/* "$work/$t/corpus/" 2>/dev/null || true
  echo "fuzz: $t for ${seconds}s"
  if ! "$build/fuzz/${t}_fuzzer" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$work/$t/crashes/" \
      -print_final_stats=1 "$work/$t/corpus" >"$work/$t/log" 2>&1; then
    echo "fuzz: $t FAILED; reproducer in $work/$t/crashes/"
    tail -40 "$work/$t/log"
    status=1
  else
    grep -E "stat::number_of_executed_units" "$work/$t/log" || true
  fi
done
exit $status
