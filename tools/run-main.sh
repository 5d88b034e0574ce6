#!/usr/bin/env bash
# The main job: set up (install, configure, build), score the bundled data, then stream it
# through kite serve on the embedded Kafka broker and print the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build
echo "== kite: scoring the bundled Titanic passengers with the bundled model =="
build/kite info | sed -n '1p;5p'
build/kite score --model models/titanic.json --input data/titanic_features.csv \
  --label Survived --output build/titanic_predictions.csv
echo "predictions written to build/titanic_predictions.csv ($(($(wc -l < build/titanic_predictions.csv) - 1)) rows)"

# --- stream (issue 5) ---
# The raw Titanic rows (891 x 40) as JSON events through the embedded mock broker: replay into
# 4 partitions, warm-up (consumer-group join), predictions / alerts / dead letters, metrics.
echo
echo "== kite: streaming raw Titanic events through the embedded Kafka broker =="
build/kite serve --model models/titanic.json --encode 'Sex=male:0,female:1' \
  --replay data/titanic.csv --replay-key PassengerId --replay-repeat 40 --replay-rate 20000 \
  --exit-on-eof --metrics-addr 127.0.0.1:0 --metrics-dump build/stream_metrics.txt \
  --workers 2 --batch-size 256 -X consumer.session.timeout.ms=6000
echo "metrics at exit (build/stream_metrics.txt; promtool check metrics: $(promtool check metrics \
  < build/stream_metrics.txt 2>&1 | wc -l) problems):"
grep -E '^kite_(events_consumed|events_scored|dead_letters|alerts|kafka_errors)_total|^kite_event_latency_seconds_count' \
  build/stream_metrics.txt | sed 's/^/  /'
