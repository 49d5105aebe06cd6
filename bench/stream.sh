#!/usr/bin/env bash
# Scale-out throughput: N generated activities published to NATS JetStream
# (`abm import activities --stream`), then stored and scored by one `abm worker`, then by two
# side by side, each time into a fresh PostgreSQL database. Prints activities per second.
#
#   bench/stream.sh [ROWS] [ACCOUNTS]     defaults: 1000000 20000
# ABM_BENCH_RESCORE_EVERY=MS sets the workers' --rescore-every (default 1000; 0 re-scores
# after every batch, as workers did before re-scoring was coalesced).
# Needs nats-server -js on 127.0.0.1:4222 and PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
rows=${1:-1000000}
accounts=${2:-20000}
root=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
abm="$target/release/abm"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
dir="$target/bench/stream"
mkdir -p "$dir"
data="$dir/activities-$rows-$accounts.csv"
[ -f "$data" ] || python3 "$root/bench/gen_activities.py" --rows "$rows" --accounts "$accounts" --out "$data"
server=${ABM_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
run() {
  local workers=$1 tag="$$_$(date +%s%N)"
  local db="abm_bench_stream_$tag"
  psql "$server/postgres" -qc "CREATE DATABASE $db"
  local url="$server/$db"
  export ABM_STREAM_NAME="ABM_BENCH_$tag" ABM_STREAM_PREFIX="abmbench.$tag"
  "$abm" --database-url "$url" import accounts "$data.accounts.csv" --no-score > /dev/null
  "$abm" --database-url "$url" import contacts "$data.contacts.csv" --no-score > /dev/null
  local start end
  start=$(date +%s.%N)
  "$abm" import activities "$data" --stream nats://127.0.0.1:4222 > /dev/null
  end=$(date +%s.%N)
  python3 -c "print(f'publish: {$rows / ($end - $start):,.0f} activities/s ({$end - $start:.1f} s)')"
  start=$(date +%s.%N)
  local pids=()
  for _ in $(seq 1 "$workers"); do
    "$abm" --database-url "$url" worker --stream nats://127.0.0.1:4222 --batch 5000 --idle-exit 3 --rescore-every "${ABM_BENCH_RESCORE_EVERY:-1000}" > /dev/null 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  end=$(date +%s.%N)
  local stored
  stored=$("$abm" --database-url "$url" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["activities"])')
  python3 -c "print(f'$workers worker(s): {$stored:,} stored, {$stored / ($end - $start - 3):,.0f} activities/s (store, resolve, score; the 3 s idle exit taken off)')"
  psql "$server/postgres" -qc "DROP DATABASE $db"
}
run 1
run 2
