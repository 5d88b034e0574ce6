#!/bin/sh
# The benchmark in one command: builds with KITE_BUILD_BENCH=ON (training the benchmark models
# with python3-xgboost the first time, about a minute), then runs every model x batch x kernel
# beside XGBoost and prints the side-by-side table. Extra arguments go to Google Benchmark,
# e.g. bench/run.sh --benchmark_filter='d6_t500/batch:4096'
set -eu
cd "$(dirname "$0")/.."
# Its own build directory, so the test build (build/) does not start building the bench too.
tools/setup.sh build-bench -DKITE_BUILD_BENCH=ON
exec build-bench/kite_bench --benchmark_min_time=0.2 "$@"
