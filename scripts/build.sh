#!/usr/bin/env bash
# Configures and builds pgmerge into $BUILD_DIR (default: build).
# Extra CMake arguments may come in $CMAKE_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -G Ninja -B "$build" -S . -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
