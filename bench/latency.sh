#!/usr/bin/env bash
# Latency, event timestamp -> the prediction's delivery report (issue 11, deliverable 6):
#   1. the maximum rate: kite serve (1 worker, 4 partitions) drains N preloaded events;
#   2. at 10%, 50% and 90% of it, kite serve live on a fresh topic while a separate process
#      (kite produce --rate) sends SECONDS of events; kite serve's summary after SIGTERM gives
#      p50 / p99 / p99.9 (its histogram: 1.25x buckets, each figure within 12%; the event
#      timestamps have 1 ms resolution).
# Latency-minded settings (what a user who cares about latency would set):
#   load producer  linger.ms=1 (kite produce's default 5 waits before sending);
#   kite consumer  fetch.wait.max.ms=10 (kite's default: a real broker answers as soon as
#                  fetch.min.bytes=1 is there, so this bounds only an idle fetch; the mock holds
#                  every fetch this long);
#   kite producer  linger.ms=1 (kite's default); batch_wait_us=1000 (default).
#   bench/latency.sh [--broker real|mock] [--kafka-dir D] [--seconds S] [--events N]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=real kdir=/tmp/kite-bench-kafka seconds=10 events=40000
while [ $# -gt 0 ]; do
  case "$1" in
    --broker) kind="$2"; shift 2 ;;
    --kafka-dir) kdir="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --events) events="$2"; shift 2 ;;
    *) echo "usage: $0 [--broker real|mock] [--kafka-dir D] [--seconds S] [--events N]" >&2; exit 2 ;;
  esac
done
[ -x build/kite ] || tools/setup.sh build
. bench/broker_env.sh
bench_broker_up "$kind" "$kdir" 4 events live10 live50 live90 predictions alerts dead-letters
lat_x=(-X consumer.fetch.wait.max.ms=10 -X producer.linger.ms=1 --batch-wait-us 1000)
build/kite produce -b "$B" -t events -i data/titanic.csv -k PassengerId --repeat 1000 \
  --limit "$events" -q
build/kite serve --brokers "$B" --model models/titanic.json --encode 'Sex=male:0,female:1' \
  --exit-on-eof --workers 1 --metrics-addr '' --group-id lat-max "${lat_x[@]}" \
  2>/dev/null > "$bench_tmp/max"
max=$(sed -n 's/^throughput *\([0-9]*\) events.*/\1/p' "$bench_tmp/max")
echo "max rate (drain of $events events, 1 worker): $max events/s; $(grep '^cpu' "$bench_tmp/max")"
for pct in 10 50 90; do
  rate=$((max * pct / 100))
  n=$((rate * seconds))
  build/kite serve --brokers "$B" --topics "live$pct" --model models/titanic.json \
    --encode 'Sex=male:0,female:1' --workers 1 --metrics-addr '' --group-id "lat-$pct" \
    "${lat_x[@]}" -X consumer.session.timeout.ms=6000 > "$bench_tmp/live$pct" 2>/dev/null &
  serve_pid=$!
  sleep 5 # the group join (mock ~3 s; real: immediate) and the first fetch
  build/kite produce -b "$B" -t "live$pct" -i data/titanic.csv -k PassengerId --repeat 1000 \
    --limit "$n" --rate "$rate" -X linger.ms=1 2> "$bench_tmp/prod$pct"
  sleep 2
  kill -TERM $serve_pid
  wait $serve_pid || true
  consumed=$(sed -n 's/^events consumed *\([0-9]*\).*/\1/p' "$bench_tmp/live$pct")
  echo "$pct% = $rate events/s for $seconds s ($(sed 's/^kite produce: //' "$bench_tmp/prod$pct")); consumed $consumed;" \
    "$(grep '^latency' "$bench_tmp/live$pct" | sed 's/^latency, event timestamp -> prediction delivered: //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
done
