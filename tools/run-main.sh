#!/usr/bin/env bash
# The main job: set up (install, configure, build), score the bundled data, then stream it
# through kite serve on the embedded Kafka broker and print the summary.
#   KITE_BUILD_DIR  build directory (default build)
#   KITE_OUT_DIR    where the predictions and metrics files go (default: the build directory)
#   KITE_BROKERS   stream through this Kafka cluster instead of the embedded broker (its
#                  "events" topic: one partition keeps the hours in order)
#   KITE_SKIP_SETUP=1  no install/configure/build: run the kite already in KITE_BUILD_DIR
#                  (ctest main_job runs the job this way, on the binary under test, without
#                  apt-get or a rebuild racing the test run)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${KITE_BUILD_DIR:-build}"
out="${KITE_OUT_DIR:-$build}"
if [ "${KITE_SKIP_SETUP:-0}" = 1 ]; then
  [ -x "$build/kite" ] || { echo "run-main: KITE_SKIP_SETUP=1 but no $build/kite (build it first, or unset KITE_SKIP_SETUP)" >&2; exit 1; }
else
  tools/setup.sh "$build"
fi
mkdir -p "$out"
kite="$build/kite"
echo "== kite: scoring the bundled Titanic passengers with the bundled model =="
"$kite" info | sed -n '1p;5p'
"$kite" score --model models/titanic.json --input data/titanic_features.csv \
  --label Survived --output "$out/titanic_predictions.csv"
echo "predictions written to $out/titanic_predictions.csv ($(($(wc -l < "$out/titanic_predictions.csv") - 1)) rows)"

# --- stream (issue 5) ---
# AirQualityUCI.csv's hourly readings as JSON events through the embedded mock Kafka broker:
# replay (one partition: one time-ordered stream), warm-up (the spec's 168 hours of lags and
# rolling windows), predictions of CO(GT), alerts (CO >= 4 mg/m3), metrics, summary.
echo
echo "== kite: streaming AirQualityUCI.csv through the embedded Kafka broker =="
"$kite" serve --model models/airquality.json --feature-spec models/airquality.spec.json \
  --replay data/AirQualityUCI.csv --replay-delimiter ';' --replay-decimal-comma \
  --replay-rate 20000 --partitions 1 --alert-threshold 4 \
  --exit-on-eof --metrics-addr 127.0.0.1:0 --metrics-dump "$out/stream_metrics.txt" \
  --batch-size 256 -X consumer.session.timeout.ms=6000 ${KITE_BROKERS:+--brokers "$KITE_BROKERS"}
echo "metrics at exit ($out/stream_metrics.txt; promtool check metrics: $(promtool check metrics \
  < "$out/stream_metrics.txt" 2>&1 | wc -l) problems):"
grep -E '^kite_(events_consumed|events_scored|events_warming_up|dead_letters|alerts|kafka_errors)_total|^kite_event_latency_seconds_count' \
  "$out/stream_metrics.txt" | sed 's/^/  /'
