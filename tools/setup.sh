#!/usr/bin/env bash
# Installs what is missing (Debian packages), configures and builds kite.
#   tools/setup.sh [BUILD_DIR] [extra cmake args...]
# Idempotent: installs only packages that are not installed, reuses an existing build dir.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build and runtime dependencies. python3-* train models and check results in tests; prometheus
# gives promtool; haproxy and chromium serve the HTTP tests; qemu-user + gcc-aarch64-linux-gnu
# run the NEON kernel in the test suite.
KITE_PACKAGES=(
  build-essential cmake pkg-config
  libcjson-dev libxxhash-dev libhwloc-dev librdkafka-dev libmicrohttpd-dev libbenchmark-dev
  libxgboost-dev python3-xgboost python3-numpy python3-pandas python3-scipy python3-sklearn
  prometheus kcat valgrind gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  # --- http: tests put haproxy in front of kite and drive the form page in chromium ---
  haproxy chromium
  # --- stream: the seed-style baseline consumer in bench/stream_bench.sh ---
  python3-confluent-kafka
  # --- ops: the alert rules fire through Alertmanager (tests/e2e/ops_alerts.py); YAML in the tests ---
  prometheus-alertmanager python3-yaml
  # --- install (issue 15): the man page from kite --help; tests/e2e/install_deb.sh checks the unit
  # (systemd-analyze, man for its Documentation=) and the status page (curl) ---
  help2man man-db curl
  # --- kafka: the real Apache Kafka cluster of the `kafka` tests (tools/kafka-cluster.sh) ---
  openjdk-17-jre-headless maven
  # --- fuzz (issue 12): ctest fuzz_ci builds the libFuzzer targets with clang (tools/fuzz.sh) ---
  clang libclang-rt-14-dev
)

missing=()
for p in "${KITE_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "kite setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The pinned test peers (XGBoost 3.4, Treelite, ONNX Runtime, Evidently, ...) in a venv outside
# the repo; KITE_NO_VENV=1 builds without it (tests that need it then fail, they do not skip).
venv_python=""
if [ "${KITE_NO_VENV:-0}" != "1" ]; then
  venv_python=$(tools/venv.sh)
fi

# The pinned Apache Kafka broker's jars (tools/kafka/pom.xml), fetched once into the same cache
# as the venv, so the `kafka` tests start a real cluster without downloading anything.
if [ "${KITE_NO_KAFKA:-0}" != "1" ]; then
  tools/kafka/fetch.sh >/dev/null
fi

build_dir="${1:-build}"
shift || true
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DKITE_VENV_PYTHON="$venv_python" "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)" >&2
