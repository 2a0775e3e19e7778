#!/usr/bin/env bash
# Installs what pgmerge needs to build and test on Debian 12, from Debian's
# own packages. Quick and silent when everything is already there.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
  libpg-query-dev libpq-dev libabsl-dev libxxhash-dev libmimalloc-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
  zlib1g-dev libzstd-dev liblz4-dev
  libcurl4-openssl-dev libssl-dev postgresql-15 postgresql-client-15 util-linux time bc curl
  python3
  # Extension configuration tables' rows (tests/extension_config_test.cc).
  postgresql-15-postgis-3
  # bench/into's reference for how fast this server loads in parallel.
  pgcopydb
)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# The mirror tests run against moto_server (an S3 server in Python; not a
# Debian package, installed with pip). Checked and reported here; under
# CI=true a missing one stops the script, as the tests would fail.
if moto=$(command -v moto_server) && "$moto" --help >/dev/null 2>&1; then
  :
else
  echo "install-deps: moto_server not found or not working: the mirror tests need it" \
       "(python3 -m pip install 'moto[server]')" >&2
  [ "${CI:-}" = true ] && exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
# The server is only used by tests, started on demand in a temp dir: keep
# the package's own cluster from being created and started.
$sudo mkdir -p /etc/postgresql-common
if [ ! -f /etc/postgresql-common/createcluster.conf ]; then
  echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
