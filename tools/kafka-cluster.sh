#!/usr/bin/env bash
# A real Apache Kafka cluster (KRaft, no ZooKeeper) on loopback, for the `kafka` tests and the
# benchmarks: 1 or 3 nodes, each a combined broker + controller JVM (`kafka.Kafka`) run from the
# jars tools/kafka/fetch.sh cached (the pinned version in tools/kafka/pom.xml).
#
#   tools/kafka-cluster.sh start [--brokers 1|3] [--dir D]   format, start, wait, print bootstrap
#   tools/kafka-cluster.sh stop [NODE|all] [--dir D]         SIGTERM (SIGKILL after 30 s); data kept
#   tools/kafka-cluster.sh kill NODE|all [--dir D]           SIGKILL node NODE (1..N)
#   tools/kafka-cluster.sh restart NODE|all [--dir D]        stop if running, start again, wait
#   tools/kafka-cluster.sh pause|resume NODE [--dir D]       SIGSTOP / SIGCONT (NODE may be "all")
#   tools/kafka-cluster.sh bootstrap [--dir D]               the bootstrap list (host:port,...)
#   tools/kafka-cluster.sh leader TOPIC PARTITION [--dir D]  the node leading that partition
#   tools/kafka-cluster.sh status [--dir D]                  one line per node: pid, state
#   tools/kafka-cluster.sh topics [--partitions N] [--replication R] NAME... [--dir D]
#                      delete every non-internal topic, create NAME... (tools/kafka/topics.py)
#
# D (default $KITE_KAFKA_DIR or /tmp/kite-kafka-$UID) holds cluster.env (node count, ports),
# bootstrap, and nodeN/{server.properties,pid,server.log,data}. `start` wipes D's old data and
# picks new ports; `stop` then `restart all` brings the same cluster back (same data, ports).
# Ports are free ports picked at start (two per node), kept across restarts of a node.
# 3 nodes: default.replication.factor=3, min.insync.replicas=2, the offsets and transaction
# logs 3/2; 1 node: all 1. Group joins are immediate (group.initial.rebalance.delay.ms=0) and
# session timeouts down to 1 s are accepted, so tests can fail members over quickly.
# Environment: KITE_KAFKA_HEAP (default -Xmx384m -Xms128m: 3 JVMs on a 2-core machine),
# KITE_KAFKA_JVM_OPTS (default serial GC, C1 only: less JIT CPU at start; a benchmark that wants
# the broker's peak throughput sets it to ""), KITE_KAFKA_START_TIMEOUT (s, default 120).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

cmd="${1:-}"
[ $# -gt 0 ] && shift
brokers=3
dir="${KITE_KAFKA_DIR:-/tmp/kite-kafka-$(id -u)}"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) brokers="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
die() { echo "kafka-cluster: $*" >&2; exit 1; }
usage() { sed -n '5,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

node_pid() { cat "$dir/node$1/pid" 2>/dev/null || true; }
node_alive() { local p; p=$(node_pid "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
load_env() {
  [ -f "$dir/cluster.env" ] || die "no cluster in $dir (run: $0 start --dir $dir)"
  # shellcheck disable=SC1091
  . "$dir/cluster.env"
}
nodes_of() { # NODE or "all" -> node numbers
  if [ "$1" = all ]; then seq 1 "$KC_NODES"; return; fi
  [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le "$KC_NODES" ] ||
    die "node \"$1\": expected 1..$KC_NODES or all"
  echo "$1"
}

# Brokers the cluster's metadata lists (unfenced ones), asked of one listener or the bootstrap.
metadata_brokers() {
  kcat -b "$1" -L -m 3 2>/dev/null | sed -n 's/^ *\([0-9]*\) brokers:$/\1/p' | head -1
}

# Each address in $1 (comma-separated) must list $2 brokers: a node's own metadata cache can
# lag the controller's for a moment after it starts.
wait_metadata() { # $1: addresses to ask, $2: brokers wanted, $3: what for the message
  local deadline=$((SECONDS + ${KITE_KAFKA_START_TIMEOUT:-120})) n a ok
  while [ $SECONDS -lt $deadline ]; do
    ok=1
    for a in ${1//,/ }; do
      n=$(metadata_brokers "$a" || true)
      [ "${n:-0}" -ge "$2" ] || { ok=0; break; }
    done
    [ $ok = 1 ] && return 0
    for i in $(seq 1 "$KC_NODES"); do
      [ -f "$dir/node$i/expect" ] && ! node_alive "$i" &&
        die "node $i exited while starting; its log: $dir/node$i/server.log"
    done
    sleep 0.3
  done
  die "$3: metadata from $1 lists ${n:-0} of $2 brokers after ${KITE_KAFKA_START_TIMEOUT:-120} s"
}

launch() { # node number
  local n=$1 libs
  libs=$("$root/tools/kafka/fetch.sh")
  # setsid, stdio to files: the node outlives the shell (and ctest's pipes) that started it.
  # shellcheck disable=SC2086
  setsid java ${KITE_KAFKA_HEAP:--Xmx384m -Xms128m} \
    ${KITE_KAFKA_JVM_OPTS--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k} \
    -Dlog4j2.configurationFile="$root/tools/kafka/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$dir/node$n/server.properties" \
    </dev/null >>"$dir/node$n/server.log" 2>&1 &
  echo $! >"$dir/node$n/pid"
  touch "$dir/node$n/expect"
}

stop_node() { # node number, signal
  local p; p=$(node_pid "$1")
  [ -n "$p" ] || return 0
  kill -CONT "$p" 2>/dev/null || true
  kill "-$2" "$p" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; sleep 0.2; fi
  rm -f "$dir/node$1/pid" "$dir/node$1/expect"
}

cmd_start() {
  [ "$brokers" = 1 ] || [ "$brokers" = 3 ] || die "--brokers must be 1 or 3 (got $brokers)"
  if [ -f "$dir/cluster.env" ]; then
    load_env
    # A cluster left running in this directory (an interrupted test run) is stopped first, so a
    # fresh start always works.
    for i in $(seq 1 "$KC_NODES"); do
      if node_alive "$i"; then echo "kafka-cluster: stopping node $i left running in $dir" >&2; stop_node "$i" TERM; fi
    done
  fi
  local libs; libs=$("$root/tools/kafka/fetch.sh")
  rm -rf "$dir"; mkdir -p "$dir"
  # Two free loopback ports per node (bound together, so all distinct).
  local ports
  ports=$(/usr/bin/python3 - "$brokers" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(2 * int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
  read -r -a p <<<"$ports"
  local rf=$brokers isr=$((brokers == 3 ? 2 : 1)) voters="" bootstrap=""
  for i in $(seq 1 "$brokers"); do
    voters+="${voters:+,}$i@127.0.0.1:${p[$((2 * i - 1))]}"
    bootstrap+="${bootstrap:+,}127.0.0.1:${p[$((2 * i - 2))]}"
  done
  {
    echo "KC_NODES=$brokers"
    echo "KC_BOOTSTRAP=$bootstrap"
    for i in $(seq 1 "$brokers"); do echo "KC_PORT_$i=${p[$((2 * i - 2))]}"; done
  } >"$dir/cluster.env"
  echo "$bootstrap" >"$dir/bootstrap"
  for i in $(seq 1 "$brokers"); do
    mkdir -p "$dir/node$i"
    cat >"$dir/node$i/server.properties" <<EOF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${p[$((2 * i - 2))]},CONTROLLER://127.0.0.1:${p[$((2 * i - 1))]}
advertised.listeners=PLAINTEXT://127.0.0.1:${p[$((2 * i - 2))]}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/node$i/data
num.partitions=4
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
auto.create.topics.enable=true
delete.topic.enable=true
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
# Failover in seconds, not the defaults' tens: a stopped follower leaves the ISR after 5 s
# (acks=all producers wait for it until then), a silent broker is fenced after 6 s.
replica.lag.time.max.ms=5000
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
num.network.threads=2
num.io.threads=2
num.replica.fetchers=1
num.recovery.threads.per.data.dir=1
background.threads=2
log.cleaner.threads=1
EOF
  done
  local id; id=$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  [ -n "$id" ] || die "kafka.tools.StorageTool random-uuid gave no cluster id"
  local pids=()
  for i in $(seq 1 "$brokers"); do
    java -Xmx256m -XX:TieredStopAtLevel=1 -cp "$libs/*" \
      -Dlog4j2.configurationFile="$root/tools/kafka/log4j2.properties" kafka.tools.StorageTool \
      format -t "$id" -c "$dir/node$i/server.properties" >"$dir/node$i/format.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || die "formatting node $((i + 1)) failed: $dir/node$((i + 1))/format.log"
  done
  KC_NODES=$brokers
  for i in $(seq 1 "$brokers"); do launch "$i"; done
  wait_metadata "$bootstrap" "$brokers" "start"
  echo "$bootstrap"
}

cmd_stop() {
  [ -f "$dir/cluster.env" ] || return 0
  load_env
  if [ ${#args[@]} -eq 1 ] && [ "${args[0]}" != all ]; then stop_node "$(nodes_of "${args[0]}")" TERM; return; fi
  for i in $(seq 1 "$KC_NODES"); do
    local p; p=$(node_pid "$i")
    [ -n "$p" ] && { kill -CONT "$p" 2>/dev/null || true; kill -TERM "$p" 2>/dev/null || true; }
  done
  for i in $(seq 1 "$KC_NODES"); do stop_node "$i" TERM; done
}

cmd_leader() { # topic partition
  [ ${#args[@]} -eq 2 ] || usage
  kcat -b "$KC_BOOTSTRAP" -L -t "${args[0]}" 2>/dev/null |
    sed -n "s/^ *partition ${args[1]}, leader \([0-9-]*\),.*/\1/p" | head -1
}

case "$cmd" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  bootstrap) load_env; echo "$KC_BOOTSTRAP" ;;
  status)
    load_env
    for i in $(seq 1 "$KC_NODES"); do
      st=down; node_alive "$i" && st=$(ps -o state= -p "$(node_pid "$i")" | tr -d ' ')
      echo "node $i port $(eval echo "\$KC_PORT_$i") pid $(node_pid "$i") state $st"
    done ;;
  kill|restart|pause|resume)
    [ ${#args[@]} -eq 1 ] || usage
    load_env
    targets=$(nodes_of "${args[0]}")
    for n in $targets; do
      case "$cmd" in
        kill) stop_node "$n" KILL ;;
        pause) node_alive "$n" || die "node $n is not running"; kill -STOP "$(node_pid "$n")" ;;
        resume) node_alive "$n" || die "node $n is not running"; kill -CONT "$(node_pid "$n")" ;;
        restart) node_alive "$n" && stop_node "$n" TERM; launch "$n" ;;
      esac
    done
    if [ "$cmd" = restart ]; then
      # All launched before any wait: a lone node of a stopped 3-voter quorum cannot elect a
      # controller. Up when each one's own listener and every node list all the brokers.
      addrs=""
      for n in $targets; do port_var="KC_PORT_$n"; addrs+="${addrs:+,}127.0.0.1:${!port_var}"; done
      wait_metadata "$addrs" "$KC_NODES" "restart ${args[0]}"
      wait_metadata "$KC_BOOTSTRAP" "$KC_NODES" "restart ${args[0]}"
    fi ;;
  leader) load_env; cmd_leader ;;
  topics) load_env; exec /usr/bin/python3 "$root/tools/kafka/topics.py" "$KC_BOOTSTRAP" "${args[@]}" ;;
  *) usage ;;
esac
