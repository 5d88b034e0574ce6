#!/bin/sh
# NEON kernel check without ARM hardware: cross-compile the kernels (scalar, NEON, dispatch)
# and the all-kernels equality test with aarch64-linux-gnu-gcc, then run it under
# qemu-aarch64. The test fails unless the NEON kernel was available and matched scalar.
#   tests/neon_qemu.sh SOURCE_DIR WORK_DIR
set -eu
src=$1
work=$2
mkdir -p "$work"
cc=aarch64-linux-gnu-gcc
for tool in "$cc" qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "neon_qemu: $tool not installed (tools/setup.sh installs it)" >&2; exit 1; }
done
k="$src/kernels"
"$cc" -std=c11 -O2 -Wall -Wextra -Werror -ffp-contract=off -D_GNU_SOURCE -DKITE_HAVE_NEON=1 \
  -I"$k" -I"$src/tests" -static -o "$work/test_kernels_equal_neon" \
  "$src/tests/test_kernels_equal.c" "$k/kite_error.c" "$k/model.c" "$k/forest.c" "$k/perfect.c" \
  "$k/traverse_scalar.c" "$k/traverse_row.c" "$k/traverse_neon.c" "$k/dispatch.c" -lm -lpthread
out=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$work/test_kernels_equal_neon" 120)
echo "$out"
echo "$out" | grep -q '^kernel neon: compared on 120 random forests$' || {
  echo "neon_qemu: the NEON kernel did not run" >&2; exit 1; }
