#!/usr/bin/env bash
# Configures and builds pgmerge into $BUILD_DIR (default: build).
# Extra CMake arguments may come in $CMAKE_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
# ccache, when present, makes rebuilds in other clones and build dirs cheap;
# paths are taken relative to this checkout so clones share hits.
launcher=""
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  launcher="-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
fi
# shellcheck disable=SC2086
cmake -G Ninja -B "$build" -S . -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  $launcher ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
