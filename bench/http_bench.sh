#!/usr/bin/env bash
# /predict throughput and latency, kite vs the FastAPI + XGBoost anchor, in one go (wrk on
# loopback). Single-row requests, 100 trees depth 6, 32 features (trained by http_train.py).
# The anchor runs twice, the same app (bench/http_fastapi_seed.py) on two sets of packages:
# Debian's (python3-fastapi, uvicorn, XGBoost 1.7.4) and the project venv's (tools/venv.sh:
# FastAPI, uvicorn with uvloop + httptools, XGBoost 3.4).
#   bench/http_bench.sh [BUILD_DIR]        env: DUR (seconds per run, 10), CONNS (16),
#                                          KITE_THREADS (2)
# Prints each wrk run and a summary: max req/s of both, the ratio, and kite's p99 at half its
# maximum rate (wrk paced by a per-connection delay; wrk measures from send to response).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
DUR="${DUR:-10}"; CONNS="${CONNS:-16}"; KITE_THREADS="${KITE_THREADS:-2}"
out=$(mktemp -d /tmp/kite-http-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT
# The load generator and the FastAPI anchor are Debian packages too: install what is missing.
missing=()
for p in wrk python3-fastapi python3-uvicorn curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "http_bench: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
command -v wrk >/dev/null || { echo "http_bench: wrk is not installed" >&2; exit 1; }

/usr/bin/python3 bench/http_train.py "$out"
export KITE_BENCH_BODY="$out/body.json"

"$build/kite" serve --http 127.0.0.1:0 --model "$out/model.json" --threads "$KITE_THREADS" 2>"$out/kite.log" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$out/kite.log" && break; sleep 0.05; done
kport=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$out/kite.log" | grep -o '[0-9]*$')

fport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
KITE_BENCH_MODEL="$out/model.json" /usr/bin/python3 -m uvicorn --app-dir bench http_fastapi_seed:app \
  --host 127.0.0.1 --port "$fport" --workers 1 --log-level warning &
pids+=($!)
venv_python=$(tools/venv.sh)
vport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
KITE_BENCH_MODEL="$out/model.json" "$venv_python" -m uvicorn --app-dir bench http_fastapi_seed:app \
  --host 127.0.0.1 --port "$vport" --workers 1 --log-level warning &
pids+=($!)
for port in "$fport" "$vport"; do
  for _ in $(seq 200); do curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data @"$out/body.json" "http://127.0.0.1:$port/predict" && break; sleep 0.1; done
done
versions() { "$1" -c 'import fastapi, uvicorn, xgboost, importlib.util as u
print("fastapi %s, uvicorn %s (%s, %s), xgboost %s" % (fastapi.__version__, uvicorn.__version__,
      "uvloop" if u.find_spec("uvloop") else "asyncio", "httptools" if u.find_spec("httptools") else "h11",
      xgboost.__version__))'; }
deb_versions=$(versions /usr/bin/python3)
venv_versions=$(versions "$venv_python")

echo "== same answer from both =="
curl -s -X POST -H 'Content-Type: application/json' --data @"$out/body.json" "http://127.0.0.1:$kport/predict"
curl -s -X POST -H 'Content-Type: application/json' --data @"$out/body.json" "http://127.0.0.1:$fport/predict"; echo
curl -s -X POST -H 'Content-Type: application/json' --data @"$out/body.json" "http://127.0.0.1:$vport/predict"; echo

run() { # name url conns [delay_ms]
  KITE_BENCH_DELAY_MS="${4:-0}" wrk -t2 -c"$3" -d"${DUR}s" -s bench/http_post.lua --latency "$2" | tee "$out/$1.txt"
}
rps() { awk '/Requests\/sec/ {print $2}' "$out/$1.txt"; }
p99() { awk '$1 == "99%" {print $2}' "$out/$1.txt"; }
errs() { awk '/Non-2xx|Socket errors/ {print}' "$out/$1.txt"; }

echo "== FastAPI + XGBoost, Debian: $deb_versions (1 uvicorn worker), $CONNS connections =="
run fastapi "http://127.0.0.1:$fport/predict" "$CONNS"
echo "== FastAPI + XGBoost, venv: $venv_versions (1 uvicorn worker), $CONNS connections =="
run fastapi3 "http://127.0.0.1:$vport/predict" "$CONNS"
echo "== kite ($KITE_THREADS threads), $CONNS connections =="
run kite "http://127.0.0.1:$kport/predict" "$CONNS"
kmax=$(rps kite)
# Half the maximum rate: wrk is closed-loop, so each connection pauses 1 ms (wrk's timer
# granularity) after each answer and offers about 1 / (pause + latency) requests per second.
# Connections are calibrated with 3-second runs until the achieved rate is within 10% of kmax/2.
delay=1
target=$(awk -v r="$kmax" 'BEGIN { printf "%d", r / 2 }')
HALF_CONNS=$(awk -v t="$target" 'BEGIN { c = int(t / 1000 + 0.5); print (c < 1 ? 1 : c) }')
for _ in 1 2 3 4; do
  got=$(KITE_BENCH_DELAY_MS=$delay wrk -t2 -c"$HALF_CONNS" -d3s -s bench/http_post.lua \
        "http://127.0.0.1:$kport/predict" | awk '/Requests\/sec/ {print $2}')
  echo "calibration: $HALF_CONNS connections -> $got req/s (target $target)"
  ok=$(awk -v g="$got" -v t="$target" 'BEGIN { print (g > 0.9 * t && g < 1.1 * t) ? 1 : 0 }')
  [ "$ok" = 1 ] && break
  HALF_CONNS=$(awk -v c="$HALF_CONNS" -v g="$got" -v t="$target" \
               'BEGIN { n = int(c * t / (g > 1 ? g : 1) + 0.5); print (n > 1000 ? 1000 : (n < 1 ? 1 : n)) }')
done
echo "== kite at about half its maximum rate: $HALF_CONNS connections, ${delay} ms pause each =="
run kite_half "http://127.0.0.1:$kport/predict" "$HALF_CONNS" "$delay"

echo "== summary ($(nproc) cores, wrk -t2 on the same machine; load average $(cut -d' ' -f1-3 /proc/loadavg)) =="
printf "%-34s %12s %10s\n" "" "req/s" "p99"
xgb_version() { "$1" -c 'import xgboost; print(xgboost.__version__)'; }
printf "%-34s %12s %10s\n" "FastAPI+XGBoost $(xgb_version /usr/bin/python3), ${CONNS} conns" \
  "$(rps fastapi)" "$(p99 fastapi)"
printf "%-34s %12s %10s\n" "FastAPI+XGBoost $(xgb_version "$venv_python"), ${CONNS} conns" \
  "$(rps fastapi3)" "$(p99 fastapi3)"
printf "%-34s %12s %10s\n" "kite, ${CONNS} conns" "$kmax" "$(p99 kite)"
printf "%-34s %12s %10s\n" "kite, paced (target $target)" "$(rps kite_half)" "$(p99 kite_half)"
awk -v a="$kmax" -v b="$(rps fastapi)" 'BEGIN { printf "kite / FastAPI (Debian, XGBoost 1.7): %.1fx\n", a / b }'
awk -v a="$kmax" -v b="$(rps fastapi3)" 'BEGIN { printf "kite / FastAPI (venv, XGBoost 3.4): %.1fx\n", a / b }'
for n in fastapi fastapi3 kite kite_half; do e=$(errs $n); [ -n "$e" ] && echo "$n: $e"; done
true
