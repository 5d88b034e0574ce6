#!/usr/bin/env bash
# Soak: keyed air-quality events through kite serve on a real 3-node Kafka cluster at half the
# measured maximum rate, one fault a minute (kill -9 / SIGSTOP a broker, SIGTERM / kill -9
# kite, in turn), for MINUTES; a table of kite's RSS, open files, outputs, duplicates and lag on
# stdout and an SVG plot; exit 1 on a lost event, unbounded duplicates or growth. The driver is
# tests/e2e/soak.py (its --help lists the options); ctest soak_3min runs 3 minutes.
#
#   tools/soak.sh MINUTES [--kafka-dir D] [--kite PATH] [--out DIR] [tests/e2e/soak.py options]
#
# Without --kafka-dir it starts a cluster in /tmp/kite-soak-$UID and stops it at the end.
# --max-rate N skips the drain that measures the maximum; --rate N sets the rate itself.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -ge 1 ] && [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
minutes=$1; shift
kafka_dir="" kite="$root/build/kite" out="/tmp/kite-soak-$(id -u)-out" rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kafka-dir) kafka_dir="$2"; shift 2 ;;
    --kite) kite="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) rest+=("$1"); shift ;;
  esac
done
[ -x "$kite" ] || { echo "soak: no kite binary at $kite (build first, or --kite PATH)" >&2; exit 2; }
if [ -z "$kafka_dir" ]; then
  kafka_dir="/tmp/kite-soak-$(id -u)"
  "$root/tools/kafka-cluster.sh" start --brokers 3 --dir "$kafka_dir" >/dev/null
  trap '"$root/tools/kafka-cluster.sh" stop --dir "$kafka_dir" >/dev/null || true' EXIT
fi
# What bounds kite's memory through a fault (docs/real-kafka.md "Soak"): librdkafka's consumer prefetch
# (default 64 MiB) and producer queue (default 1 GiB) fill during a broker outage, and glibc
# keeps the pages after. Capped at 2 MiB and 4 MiB, any fault of the rotation fills them (the
# warm-up passes the first one), and two malloc arenas keep the freed pages few. The caller's
# -X / --kite-env come after these and win.
bounds=(-X consumer.queued.max.messages.kbytes=2048 -X consumer.queued.min.messages=5000
        -X producer.queue.buffering.max.kbytes=4096 --kite-env MALLOC_ARENA_MAX=2)
rm -rf "$out"
# Debian's python3 has confluent-kafka (on the system librdkafka, as kite).
"${KITE_SOAK_PYTHON:-/usr/bin/python3}" "$root/tests/e2e/soak.py" --kite "$kite" --root "$root" \
  --kafka-dir "$kafka_dir" --workdir "$out" --minutes "$minutes" --svg "$out/soak.svg" "${bounds[@]}" ${rest[@]+"${rest[@]}"}
