#!/usr/bin/env bash
# Scale-out on the real cluster (issue 11, deliverable 5): 1, 2 and 3 kite serve instances (one
# worker each) in one consumer group drain N events preloaded into a 12-partition topic (a fresh
# topic per count). Per count: events/s (all events / wall time from the first instance's start
# to the last one's exit: group joins and the rebalances as members join and leave included) and
# CPU per event (each instance's process CPU, first event -> final commit, weighted by the events
# it consumed), and each instance's own share and rate. Instance i pins its worker to core
# (i - 1) mod nproc: with --cores auto every instance would pin its worker 0 to core 0.
# On a 2-core machine three JVM brokers, the instances and the load share two cores: more
# instances add consumers, not cores, so the figure shows what the machine limits, not kite.
#   bench/scaleout.sh [--broker real|mock] [--kafka-dir D] [--events N]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=real kdir=/tmp/kite-bench-kafka events=100000
while [ $# -gt 0 ]; do
  case "$1" in
    --broker) kind="$2"; shift 2 ;;
    --kafka-dir) kdir="$2"; shift 2 ;;
    --events) events="$2"; shift 2 ;;
    *) echo "usage: $0 [--broker real|mock] [--kafka-dir D] [--events N]" >&2; exit 2 ;;
  esac
done
[ -x build/kite ] || tools/setup.sh build
. bench/broker_env.sh
bench_broker_up "$kind" "$kdir" 12 so1 so2 so3 predictions alerts dead-letters
for k in 1 2 3; do
  build/kite produce -b "$B" -t "so$k" -i data/titanic.csv -k PassengerId --repeat 1000 \
    --limit "$events" -q
  t0=$(date +%s.%N)
  pids=()
  for i in $(seq "$k"); do
    build/kite serve --brokers "$B" --topics "so$k" --model models/titanic.json \
      --encode 'Sex=male:0,female:1' --exit-on-eof --workers 1 --cores $(((i - 1) % $(nproc))) \
      --metrics-addr '' \
      --group-id "scaleout-$k" -X consumer.session.timeout.ms=6000 \
      > "$bench_tmp/so$k.$i" 2>/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  t1=$(date +%s.%N)
  awk -v k="$k" -v n="$events" -v wall="$(echo "$t1 - $t0" | bc)" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
    /^events consumed/ { c[FILENAME] = $3 }
    /^throughput/ { r[FILENAME] = $2 }
    /^cpu / { u[FILENAME] = $2 }
    END {
      tot = 0; cpu = 0; per = ""
      for (f in c) { tot += c[f]; cpu += c[f] * u[f]; per = per sprintf(" %d@%d/s,%.2fus", c[f], r[f], u[f]) }
      printf "%d instance(s): %d of %d events in %.2f s = %.0f events/s; CPU %.2f us/event; per instance:%s; load %s\n",
             k, tot, n, wall, tot / wall, tot ? cpu / tot : 0, per, load
    }' "$bench_tmp"/so$k.*
done
