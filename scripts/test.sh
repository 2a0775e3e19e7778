#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, and runs every unit
# and integration test (each integration test starts its own throwaway
# PostgreSQL 15). Exit status is the suite's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j"$(nproc)" --timeout 900
