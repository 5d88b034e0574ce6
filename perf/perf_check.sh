#!/bin/sh
# Perf-regression check: callgrind instruction counts of the scalar and AVX2 kernels on fixed
# models (perf/perf_kernels.c), compared with the committed baseline. Fails when any count is
# more than 3% above its baseline. Counts are exact and repeatable for one compiler and flags;
# after an intended change (or a new compiler), refresh the baseline with --update and commit it.
#
#   perf/perf_check.sh PERF_KERNELS_BIN [--baseline FILE] [--update] [--scale S]
# --scale S multiplies every baseline count by S (the self-test uses 0.95 to prove it trips).
set -eu
bin=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
baseline=$here/baseline.txt
update=0
scale=1
while [ $# -gt 0 ]; do
  case $1 in
    --baseline) baseline=$2; shift 2 ;;
    --update) update=1; shift ;;
    --scale) scale=$2; shift 2 ;;
    *) echo "perf_check: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || { echo "perf_check: valgrind is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() { # kernel model -> instructions executed inside kite_margins_<kernel>
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" --collect-atstart=no \
    --toggle-collect="kite_margins_$1" --toggle-collect="kite__margins_$1" "$bin" "$1" "$2" >"$tmp/run.log" 2>&1 ||
    { cat "$tmp/run.log" >&2; echo "perf_check: $1 $2 failed under valgrind" >&2; exit 1; }
  awk '/^(summary|totals):/ { print $2; exit }' "$tmp/cg.out"
}

status=0
if [ "$update" = 1 ]; then
  : >"$tmp/new"
  for k in scalar avx2; do
    for m in d6_t100 d8_t50 deep_t20; do
      echo "$k $m $(count $k $m)" >>"$tmp/new"
    done
  done
  { echo "# kernel model instructions (callgrind Ir inside kite_margins_<kernel>; perf/perf_check.sh --update)"
    cat "$tmp/new"; } >"$baseline"
  cat "$baseline"
  exit 0
fi
printf '%-8s %-10s %14s %14s %8s\n' kernel model baseline now change
while read -r k m base; do
  case $k in ''|'#'*) continue ;; esac
  base=$(awk -v b="$base" -v s="$scale" 'BEGIN { printf "%d", b * s }')
  now=$(count "$k" "$m")
  verdict=$(awk -v b="$base" -v n="$now" 'BEGIN {
    c = (n - b) * 100.0 / b; printf "%+7.2f%% %s", c, (n > b * 1.03 ? "REGRESSION" : "ok") }')
  printf '%-8s %-10s %14s %14s %s\n' "$k" "$m" "$base" "$now" "$verdict"
  case $verdict in *REGRESSION) status=1 ;; esac
done <"$baseline"
[ $status = 0 ] || echo "perf_check: an instruction count grew more than 3% over $baseline" >&2
exit $status
