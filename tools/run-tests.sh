#!/usr/bin/env bash
# The whole test suite: set up, build, run ctest; then an ASan+UBSan build of the tests (with
# float-cast-overflow, which GCC leaves out of -fsanitize=undefined), then a
# ThreadSanitizer build of the threaded tests.
#   tools/run-tests.sh            everything (what CI runs)
#   KITE_TEST_QUICK=1 tools/run-tests.sh   the Release build's tests only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

tools/setup.sh build
echo "== tests: Release build =="
(cd build && ctest --output-on-failure -j"$jobs")

if [ "${KITE_TEST_QUICK:-0}" != "1" ]; then
  echo "== tests: ASan + UBSan build =="
  tools/setup.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
    -DKITE_SANITIZE="address;undefined;float-cast-overflow"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs" -LE no_asan)

  # Threaded tests (label tsan) under ThreadSanitizer; tests/support/tsan.supp and
  # tests/support/tsan_c11_threads.c explain what it takes to run librdkafka under TSan.
  echo "== tests: ThreadSanitizer build (label tsan) =="
  tools/setup.sh build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKITE_SANITIZE=thread
  (cd build-tsan && ctest --output-on-failure -j"$jobs" -L tsan)
fi
