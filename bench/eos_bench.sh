#!/usr/bin/env bash
# What guarantee=exactly_once costs beside at_least_once, on a real Kafka cluster
# (tools/kafka-cluster.sh): Titanic raw JSON events (the 891 rows repeated) preloaded into 4
# partitions, then kite serve (2 workers, exit_on_eof) drains them with each guarantee in turn,
# ROUNDS times alternating, each run a fresh consumer group over the same events: events/s and
# process CPU per event (kite serve's own throughput and cpu lines), and for exactly_once the
# transactions it committed.
#   bench/eos_bench.sh --dir D [--repeat R] [--rounds K] [--transaction-ms "100 1000"]
# D: a running cluster's --dir (deleted and recreated: every topic of that cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="" repeat=60 rounds=3 txn_ms="100 1000"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --transaction-ms) txn_ms="$2"; shift 2 ;;
    *) echo "eos_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$dir" ] || { echo "eos_bench.sh: --dir D of a running tools/kafka-cluster.sh cluster" >&2; exit 2; }
B=$(tools/kafka-cluster.sh bootstrap --dir "$dir")
tools/kafka-cluster.sh topics --dir "$dir" --partitions 4 events predictions alerts dead-letters >/dev/null
build/kite produce -b "$B" -t events -i data/titanic.csv -k PassengerId --repeat "$repeat" -q
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $((891 * repeat)) events, 4 partitions; load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs =="
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { # name, extra kite serve flags...
  local name="$1"; shift
  build/kite serve --brokers "$B" --model models/titanic.json --encode 'Sex=male:0,female:1' \
    --exit-on-eof --workers 2 --cores none --batch-size 1024 --batch-wait-us 1000 --metrics-addr '' \
    --group-id "bench-$name-$RANDOM$RANDOM" --metrics-dump "$tmp/m" "$@" > "$tmp/out" 2>/dev/null
  local tput cpu txns
  tput=$(sed -n 's/^throughput *\([0-9]*\) events.*/\1/p' "$tmp/out")
  cpu=$(sed -n 's/^cpu *\([0-9.]*\) us.*/\1/p' "$tmp/out")
  txns=$(sed -n 's/^kite_transactions_committed_total \([0-9]*\)/\1/p' "$tmp/m")
  printf '%-26s %8s events/s  %6s us CPU/event  transactions %s\n' "$name" "$tput" "$cpu" "${txns:-0}"
}
for r in $(seq "$rounds"); do
  echo "-- round $r"
  run at_least_once
  for t in $txn_ms; do
    run "exactly_once_${t}ms" --guarantee exactly_once --transaction-ms "$t" --transactional-id "bench-eos-$t"
  done
done
