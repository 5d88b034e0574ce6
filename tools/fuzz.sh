#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (clang), ASan + UBSan (with float-cast-overflow) on.
#   tools/fuzz.sh [SECONDS_PER_TARGET] [--grow] [TARGET...]
# Builds the targets of tests/fuzz/fuzz.cmake in $KITE_FUZZ_BUILD (default build-fuzz/): a clang
# build of the same CMake libraries, so no source list is copied here. Each target then runs for
# SECONDS (default 60) over its checked-in corpus tests/fuzz/corpus/<target>/; what it finds
# that is new goes to $KITE_FUZZ_BUILD/new/<target>/, and --grow merges that into the checked-in
# corpus (libFuzzer -merge=1 keeps only inputs that add coverage). Exit 1 on any crash, leak,
# timeout or abort (the input is saved as $KITE_FUZZ_BUILD/crash-*, leak-*, timeout-*).
# ctest fuzz_ci runs `tools/fuzz.sh 10` in the default test run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=60 grow=0 only=()
for a in "$@"; do
  case "$a" in
    --grow) grow=1 ;;
    [0-9]*) secs=$a ;;
    *) only+=("$a") ;;
  esac
done
out="${KITE_FUZZ_BUILD:-build-fuzz}"
case "$out" in /*) ;; *) out="$root/$out" ;; esac
if ! command -v clang >/dev/null; then
  echo "fuzz: clang is not installed (tools/setup.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
  > "/tmp/kite_fuzz_probe_$$.c"
if ! clang -fsanitize=fuzzer,address "/tmp/kite_fuzz_probe_$$.c" -o "/tmp/kite_fuzz_probe_$$" 2>/dev/null; then
  rm -f "/tmp/kite_fuzz_probe_$$"*
  echo "fuzz: clang cannot link libFuzzer with ASan (install libclang-rt-14-dev)" >&2
  exit 1
fi
rm -f "/tmp/kite_fuzz_probe_$$"*

CC=clang cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
  -DKITE_SANITIZE="address;undefined;float-cast-overflow;fuzzer-no-link" -DKITE_FUZZ=ON \
  -DKITE_BUILD_TESTS=OFF -DKITE_INSTALL=OFF >/dev/null
cmake --build "$out" --target fuzz_all -j"$(nproc)" >&2

# Per target: the longest input, and options. Inputs that take models or specs run from the root.
declare -A max_len=(
  [fuzz_event_json]=4096 [fuzz_kafka_event]=4096 [fuzz_spec]=16384 [fuzz_profile]=32768
  [fuzz_config]=4096 [fuzz_model]=65536 [fuzz_csv]=8192 [fuzz_http_predict]=4096
)
targets=(fuzz_event_json fuzz_kafka_event fuzz_spec fuzz_profile fuzz_config fuzz_model fuzz_csv
         fuzz_http_predict)
[ ${#only[@]} -gt 0 ] && targets=("${only[@]}")
failed=0
for t in "${targets[@]}"; do
  corpus="$root/tests/fuzz/corpus/$t"
  new="$out/new/$t"
  mkdir -p "$corpus" "$new"
  echo "fuzz: $t for ${secs}s ($(ls "$corpus" | wc -l) corpus inputs)" >&2
  if ! (cd "$root" && "$out/$t" -max_total_time="$secs" -max_len="${max_len[$t]:-4096}" \
        -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 -artifact_prefix="$out/" \
        "$new" "$corpus" 2>"$out/$t.log"); then
    echo "fuzz: $t FAILED; the log's end ($out/$t.log):" >&2
    tail -40 "$out/$t.log" >&2
    failed=1
    continue
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added" "$out/$t.log" | tr '\n' ' ' >&2
  echo >&2
  if [ "$grow" = 1 ]; then
    (cd "$root" && "$out/$t" -merge=1 -max_len="${max_len[$t]:-4096}" -rss_limit_mb=2048 \
       "$corpus" "$new" 2>>"$out/$t.log")
    rm -rf "$new"
    echo "fuzz: $t corpus now $(ls "$corpus" | wc -l) inputs" >&2
  fi
done
if [ "$failed" = 1 ]; then
  echo "fuzz: a target failed (crash, leak, timeout or a failed assertion)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, no crash in ${secs}s each"
