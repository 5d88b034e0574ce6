# Sourced by bench/latency.sh and bench/scaleout.sh: the broker a benchmark runs on.
#   bench_broker_up mock|real KAFKA_DIR PARTITIONS TOPIC...
# mock: `kite broker` (librdkafka's mock cluster) in its own process; real: the 3-node Apache
# Kafka cluster tools/kafka-cluster.sh runs in KAFKA_DIR (started here if none runs there, and
# then stopped on exit), every non-internal topic deleted and TOPIC... created with PARTITIONS.
# Sets B (bootstrap list) and bench_tmp (a temporary directory removed on exit).
bench_tmp=$(mktemp -d)
bench_broker_pid= bench_started= bench_kdir=
bench_cleanup() {
  [ -n "$bench_broker_pid" ] && kill "$bench_broker_pid" 2>/dev/null || true
  [ -n "$bench_started" ] && tools/kafka-cluster.sh stop --dir "$bench_kdir" >/dev/null 2>&1 || true
  rm -rf "$bench_tmp"
}
trap bench_cleanup EXIT
bench_broker_up() {
  local kind=$1 parts=$3
  bench_kdir=$2
  shift 3
  if [ "$kind" = real ]; then
    # (grep reads all of it: with pipefail, grep -q's early exit would fail the status.)
    if ! tools/kafka-cluster.sh status --dir "$bench_kdir" 2>/dev/null | grep 'pid [0-9]* state [RS]' >/dev/null; then
      tools/kafka-cluster.sh start --brokers 3 --dir "$bench_kdir" >/dev/null
      bench_started=1
    fi
    tools/kafka-cluster.sh topics --partitions "$parts" "$@" --dir "$bench_kdir" >/dev/null
    B=$(tools/kafka-cluster.sh bootstrap --dir "$bench_kdir")
    echo "== real Apache Kafka 4.1.1, 3 brokers ($B); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg) =="
  else
    build/kite broker --partitions "$parts" --topics "$(echo "$@" | tr ' ' ,)" > "$bench_tmp/broker" 2>/dev/null &
    bench_broker_pid=$!
    for _ in $(seq 100); do [ -s "$bench_tmp/broker" ] && break; sleep 0.1; done
    B=$(cat "$bench_tmp/broker")
    echo "== librdkafka mock cluster ($B); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg) =="
  fi
}
