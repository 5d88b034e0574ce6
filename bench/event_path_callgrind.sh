#!/usr/bin/env bash
# Instructions per event of `kite serve`'s own event path (issue 13), deterministic enough to
# compare builds on a shared machine: Titanic raw events (891 x REPEAT) preloaded into the
# embedded broker, then one kite serve drains them under callgrind; callgrind_annotate's
# inclusive counts of the worker's functions, divided by the events, say where kite's share
# goes (parse + map: worker_take; scoring and outputs: worker_score; the number parser and the
# formatter inside them). Only the worker thread is counted; the rd_kafka_* lines are
# librdkafka's part of it (consume, produce), the rest is kite's own share.
#   bench/event_path_callgrind.sh [KITE_BINARY] [REPEAT]   (default build/kite, 5)
#   ALL_THREADS=1 bench/event_path_callgrind.sh ...        (every thread, start-up included)
set -euo pipefail
cd "$(dirname "$0")/.."
kite="${1:-build/kite}"
repeat="${2:-5}"
events=$((891 * repeat))
tmp=$(mktemp -d)
"$kite" broker --partitions 1 --topics events,predictions,alerts,dead-letters > "$tmp/broker" 2>/dev/null &
broker_pid=$!
trap 'kill $broker_pid 2>/dev/null || true; [ -n "${KEEP_CG:-}" ] && cp "$tmp/cg.out" "$KEEP_CG"; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do [ -s "$tmp/broker" ] && break; sleep 0.1; done
B=$(cat "$tmp/broker")
"$kite" produce -b "$B" -t events -i data/titanic.csv -k PassengerId --repeat "$repeat" -q
# Only the worker thread's loop is collected (not model loading, not librdkafka's own threads);
# ALL_THREADS=1 collects the whole process (compare two REPEATs to take start-up out).
toggle=--toggle-collect=kite__worker_main
[ "${ALL_THREADS:-0}" = 1 ] && toggle=--collect-atstart=yes
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$toggle" \
  "$kite" serve --brokers "$B" --model models/titanic.json --encode 'Sex=male:0,female:1' \
  --exit-on-eof --workers 1 --cores none --batch-size 1024 --batch-wait-us 1000 --metrics-addr '' \
  --group-id cg -X consumer.session.timeout.ms=6000 >"$tmp/serve.log" 2>&1 ||
  { cat "$tmp/serve.log" >&2; exit 1; }
# Divide by what this run consumed (a rebalance under load can deliver some events twice).
consumed=$(sed -n 's/^events consumed *\([0-9]*\).*/\1/p' "$tmp/serve.log")
[ -n "$consumed" ] && [ "$consumed" -gt 0 ] && events=$consumed
echo "== instructions per event ($events events consumed; inclusive, callgrind) =="
callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg.out" 2>/dev/null |
  awk -v n="$events" '
    /^ *[0-9,]+ / {
      c = $1; gsub(",", "", c); f = $0; sub(/^ *[0-9,]+ *(\([^)]*\))? */, "", f)
      if (f ~ /PROGRAM TOTALS/ || f ~ /(worker_take|worker_score|kite__worker_main|cJSON_ParseWithLength|kite__event_map_row|kite__output_prediction|kite__sink_produce|rd_kafka_producev|rd_kafka_consume_batch_queue|rd_kafka_consume_queue|rd_kafka_message_destroy|rd_kafka_offsets_store|strtod|__strtod_internal|____strtod_l_internal|localeconv|kite_num_parse|kite_num_format|__printf_fp|vsnprintf|kite_forest_predict|kite__json_|kite_event_fields)/)
        printf "%10.0f  %s\n", c / n, f
    }
    /PROGRAM TOTALS/ { c = $1; gsub(",", "", c); printf "%10.0f  total (the worker thread)\n", c / n }' |
  sort -k2 -u | sort -rn
