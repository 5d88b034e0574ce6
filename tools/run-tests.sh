#!/usr/bin/env bash
# The whole test suite: set up, build, run ctest; then an ASan+UBSan build of the tests (with
# float-cast-overflow, which GCC leaves out of -fsanitize=undefined), then a
# ThreadSanitizer build of the threaded tests.
#   tools/run-tests.sh            everything (what CI runs)
#   KITE_TEST_QUICK=1 tools/run-tests.sh   the Release build's tests only
#
# The Release build's `kafka` tier (the real 3-node cluster: one test at a time, since its
# fault tests kill brokers, and mostly waiting on the cluster) runs in the background beside
# everything else: the Release build's other tests, then the sanitizer builds and their tests.
# Its output goes to build/kafka-tier.log and is printed when it ends. Every pass runs even when
# an earlier one failed; the exit status is non-zero when any failed, and the last lines name
# them.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
failed=()
t_start=$SECONDS

phase() { echo "== tests: $1 (+$((SECONDS - t_start)) s) =="; }

tools/setup.sh build || exit 1

kafka_pid=
# A run that is interrupted takes the background tier (and its ctest's children) with it.
trap '[ -n "$kafka_pid" ] && kill -- -"$kafka_pid" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
if [ "${KITE_TEST_QUICK:-0}" != "1" ] && (cd build && ctest -N -L kafka | grep -q 'Total Tests: [1-9]'); then
  phase "Release build, label kafka (real cluster), in the background"
  set -m  # its own process group, so the trap above can stop all of it
  (cd build && exec ctest --output-on-failure -L kafka > kafka-tier.log 2>&1) &
  kafka_pid=$!
  set +m
  phase "Release build, all but label kafka"
  (cd build && ctest --output-on-failure -j"$jobs" -LE kafka) || failed+=("Release")
else
  phase "Release build"
  (cd build && ctest --output-on-failure -j"$jobs") || failed+=("Release")
fi

if [ "${KITE_TEST_QUICK:-0}" != "1" ]; then
  phase "ASan + UBSan build"
  if tools/setup.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
      -DKITE_SANITIZE="address;undefined;float-cast-overflow"; then
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs" -LE no_asan) ||
      failed+=("ASan+UBSan")
  else
    failed+=("ASan+UBSan build")
  fi

  # Threaded tests (label tsan) under ThreadSanitizer; tests/support/tsan.supp and
  # tests/support/tsan_c11_threads.c explain what it takes to run librdkafka under TSan.
  phase "ThreadSanitizer build (label tsan)"
  if tools/setup.sh build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKITE_SANITIZE=thread; then
    (cd build-tsan && ctest --output-on-failure -j"$jobs" -L tsan) || failed+=("TSan")
  else
    failed+=("TSan build")
  fi
fi

if [ -n "$kafka_pid" ]; then
  phase "waiting for the Release build's label kafka"
  wait "$kafka_pid"
  kafka_rc=$?
  kafka_pid=
  phase "Release build, label kafka (real cluster): build/kafka-tier.log"
  cat build/kafka-tier.log
  [ "$kafka_rc" = 0 ] || failed+=("Release label kafka")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "== tests FAILED in: ${failed[*]} (after $((SECONDS - t_start)) s) =="
  exit 1
fi
echo "== tests: all passed in $((SECONDS - t_start)) s =="
