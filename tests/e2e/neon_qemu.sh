#!/bin/sh
# NEON kernel check without ARM hardware: cross-compile the kernels (scalar, NEON, dispatch)
# with aarch64-linux-gnu-gcc and run under qemu-aarch64 (1) the all-kernels equality test on
# random forests and (2) every golden model (images written by the x86 GOLDEN_DUMP, since the
# loaders' cJSON has no aarch64 copy here) against XGBoost's margins. The test fails unless the
# NEON kernel ran and matched scalar on every random forest and XGBoost on every golden model.
#   tests/e2e/neon_qemu.sh SOURCE_DIR WORK_DIR GOLDEN_DUMP KERNEL_SOURCE...   (run from SOURCE_DIR;
#   the baseline kernel sources, relative to SOURCE_DIR, as CMake's KITE_KERNEL_SOURCES)
set -eu
src=$1
work=$2
golden_dump=$3
shift 3
mkdir -p "$work"
cc=aarch64-linux-gnu-gcc
for tool in "$cc" qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "neon_qemu: $tool not installed (tools/setup.sh installs it)" >&2; exit 1; }
done
kernels="$src/kernels/traverse/traverse_neon.c"
incs="-I$src/tests/support"
for f in "$@"; do
  kernels="$kernels $src/$f"
  d=$(dirname "$src/$f")   # each library's folder (private headers) and its include/ (public)
  case " $incs " in *" -I$d "*) ;; *) incs="$incs -I$d -I$d/include" ;; esac
done

# build OUTPUT TEST_SOURCE: the test linked with the kernels for AArch64, static.
build() {
  # shellcheck disable=SC2086
  "$cc" -std=c11 -O2 -Wall -Wextra -Werror -ffp-contract=off -D_GNU_SOURCE -DKITE_HAVE_NEON=1 \
    $incs -static -o "$work/$1" "$src/tests/unit/$2" $kernels -lm -lpthread
}

# (1) random forests
build test_kernels_equal_neon test_kernels_equal.c
out=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$work/test_kernels_equal_neon" 120)
echo "$out"
echo "$out" | grep -Eq '^kernel neon: compared on 120 random forests and [0-9]+ limit cases$' || {
  echo "neon_qemu: the NEON kernel did not run" >&2; exit 1; }

# (2) golden models
build test_golden_neon test_golden_neon.c
rm -f "$work"/*.kgd
images=$("$golden_dump" "$work")
n=$(echo "$images" | wc -l)
# shellcheck disable=SC2086
out=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$work/test_golden_neon" $images)
echo "$out"
echo "$out" | grep -q "^kernel neon: $n of $n golden models equal XGBoost (margins and predictions)\$" || {
  echo "neon_qemu: the NEON kernel did not match XGBoost on all $n golden models" >&2; exit 1; }
