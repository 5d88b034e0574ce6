#!/bin/sh
# Self-test of the perf check: runs perf/perf_check.sh with the given arguments and succeeds only
# when the check fails *because of a regression* (non-zero exit and a REGRESSION row), not
# because valgrind or the workload broke.
#   perf/expect_regression.sh PERF_KERNELS_BIN [perf_check.sh args...]
here=$(cd "$(dirname "$0")" && pwd)
out=$(sh "$here/perf_check.sh" "$@" 2>&1)
status=$?
printf '%s\n' "$out"
if [ $status -ne 0 ] && printf '%s\n' "$out" | grep -q ' REGRESSION$'; then
  echo "expect_regression: the check tripped, as it must"
  exit 0
fi
echo "expect_regression: the check did not report a regression (exit $status)" >&2
exit 1
