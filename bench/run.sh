#!/bin/sh
# The benchmark in one command: builds build-bench/ with KITE_BUILD_BENCH=ON (training the
# benchmark models with python3-xgboost the first time, about a minute), then prints the peer
# table: kite's kernels beside XGBoost 3.4 (Python inplace_predict and C API), XGBoost 1.7.4's
# C API, Treelite/TL2cgen compiled -O3 -march=native and ONNX Runtime, on the depth-6, depth-8
# and 255-leaf lossguide models (500 trees each), batch 1/16/256/4096, one thread and all,
# with every engine's margins checked against XGBoost 3.4 first (bench/peers.py). The first
# run also compiles the TL2cgen predictors (cached in build-bench/bench_models/peers/).
#   bench/run.sh [peers.py options, e.g. --models d6_t500 --reps 9 --json out.json]
#   bench/run.sh kernels [Google Benchmark options]   kite's kernels vs XGBoost 1.7.4 only
#                                                      (bench/bench_kernels.cc, all six models)
#   bench/run.sh --benchmark_filter='d6_t500/batch:4096'   (any --benchmark_* option: the same)
set -eu
cd "$(dirname "$0")/.."
# Its own build directory, so the test build (build/) does not start building the bench too.
tools/setup.sh build-bench -DKITE_BUILD_BENCH=ON
case "${1:-}" in
  kernels) shift; exec build-bench/kite_bench --benchmark_min_time=0.2 "$@" ;;
  --benchmark*) exec build-bench/kite_bench --benchmark_min_time=0.2 "$@" ;;
esac
venv_python=$(tools/venv.sh)
exec "$venv_python" bench/peers.py --harness build-bench/kite_bench_peers \
  --models-dir build-bench/bench_models "$@"
