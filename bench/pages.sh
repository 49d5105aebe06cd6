#!/usr/bin/env bash
# Page and API latency at scale: `abm serve` on the score benchmark's database (50,000
# accounts, 10 million activities, 1 million intent signals; built by bench/score.sh and
# reused), then each page fetched 20 times with curl; prints the median and the slowest.
# Target: every page under 200 ms.
#
#   bench/pages.sh [ROWS] [ACCOUNTS] [INTENT]     defaults: 10000000 50000 1000000
set -euo pipefail
rows=${1:-10000000}
accounts=${2:-50000}
intent=${3:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
abm="$target/release/abm"
dir="$target/bench/score"
db="$dir/score-$rows-$accounts-$intent.db"
if [ ! -f "$db" ]; then
  "$root/bench/score.sh" "$rows" "$accounts" "$intent" > /dev/null
fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
work=$(mktemp -d)
cp "$db" "$work/abm.db"
url="sqlite://$work/abm.db"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
"$abm" --database-url "$url" score > /dev/null
printf 'a long enough password\n' | "$abm" --database-url "$url" user add bench@ourco.com --role admin > /dev/null
token=$("$abm" --database-url "$url" token create bench@ourco.com --as bench@ourco.com)
top=$("$abm" --database-url "$url" accounts --top 1 --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["domain"])')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$abm" --database-url "$url" serve --bind "127.0.0.1:$port" --insecure-cookies 2> "$work/serve.log" &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
measure() {
  local path=$1
  local times=()
  for _ in $(seq 1 20); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path")")
  done
  printf '%s\n' "${times[@]}" | sort -n | python3 -c '
import sys
t = [float(x) * 1000 for x in sys.stdin.read().split()]
print(f"{sys.argv[1]:<45} median {t[len(t)//2]:7.1f} ms   slowest {t[-1]:7.1f} ms")' "$path"
}
for path in /accounts "/accounts?q=a" "/accounts/$top" /tal /my-day /settings \
    "/api/v1/accounts?limit=50" "/api/v1/accounts/$top" "/api/v1/accounts/$top/timeline" \
    "/api/v1/accounts/$top/trend"; do
  measure "$path"
done
