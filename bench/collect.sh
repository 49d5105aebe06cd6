#!/usr/bin/env bash
# Collect endpoint load benchmark: `abm serve` on a fresh SQLite file (durable commits:
# synchronous=FULL, batched), wrk posting one page view per request as the snippet does, then
# a count of the stored events against the 204 answers (nothing lost, nothing twice).
#
#   bench/collect.sh [SECONDS] [CONNECTIONS] [DATABASE_URL]   defaults: 20 128 a fresh SQLite file
#
# Each request waits for the commit that stores it, so one commit holds at most CONNECTIONS
# events: like a website's many visitors, the benchmark needs many connections. More than 128
# keeps the throughput but lengthens the queue behind each commit (the p99 grows with it);
# bench/README.md has figures at 128, 192 and 256.
#
# ABM_BENCH_STREAM=nats://127.0.0.1:4222 runs the scale-out collector instead (`abm serve
# --stream`: each 204 means the event is on the JetStream stream), then one `abm worker`
# drains the stream into the database before the count.
#
# Needs wrk (apt-get install wrk). Target on a 2-core machine: >= 20,000 events/s, p99 < 25 ms.
set -euo pipefail
seconds=${1:-20}
connections=${2:-128}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
target="${CARGO_TARGET_DIR:-$root/target}"
abm="$target/release/abm"
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
url=${3:-"sqlite://$dir/abm.db"}
cd "$dir"
"$abm" --database-url "$url" init > /dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
stream_args=()
if [ -n "${ABM_BENCH_STREAM:-}" ]; then
  tag="$$_$(date +%s%N)"
  export ABM_STREAM_NAME="ABM_BENCH_COLLECT_$tag" ABM_STREAM_PREFIX="abmbenchcollect.$tag"
  stream_args=(--stream "$ABM_BENCH_STREAM")
fi
"$abm" --database-url "$url" serve --bind "127.0.0.1:$port" --insecure-cookies "${stream_args[@]}" 2> "$dir/serve.log" &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
before=$("$abm" --database-url "$url" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["activities"])')
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$root/bench/collect.lua" "http://127.0.0.1:$port/t/collect" | tee "$dir/wrk.txt"
sleep 1
if [ -n "${ABM_BENCH_STREAM:-}" ]; then
  start=$(date +%s.%N)
  "$abm" --database-url "$url" worker --stream "$ABM_BENCH_STREAM" --batch 5000 --idle-exit 3
  end=$(date +%s.%N)
  python3 -c "print(f'the worker drained the stream in {$end - $start - 3:.1f} s (the 3 s idle exit taken off)')"
fi
after=$("$abm" --database-url "$url" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["activities"])')
answered=$(sed -n 's/^answered 204: \([0-9]*\),.*/\1/p' "$dir/wrk.txt")
stored=$((after - before))
echo "stored: $stored events; answered 204: $answered"
# Every 204 is a stored event. Requests still in flight when wrk stops (at most one per
# connection) are committed after wrk has hung up: stored, never answered.
if [ "$stored" -lt "$answered" ] || [ "$stored" -gt "$((answered + connections))" ]; then
  echo "MISMATCH: every 204 must be one stored event (and at most $connections in flight at the end)" >&2
  exit 1
fi
