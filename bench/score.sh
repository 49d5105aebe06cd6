#!/usr/bin/env bash
# Full re-score benchmark: 50,000 accounts, 10 million activities and 1 million intent
# signals stored in SQLite; times `abm score` (wall seconds and peak RSS) five times (this
# machine's timings vary by ±20% from run to run: read the median).
#
#   bench/score.sh [ROWS] [ACCOUNTS] [INTENT]     defaults: 10000000 50000 1000000
#
# Data goes to target/bench/score/ and is reused when present (generation and import take a
# few minutes; the imports skip the rescore with --no-score, the figure measured is the score).
set -euo pipefail
rows=${1:-10000000}
accounts=${2:-50000}
intent=${3:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
target="${CARGO_TARGET_DIR:-$root/target}"
abm="$target/release/abm"
dir="$target/bench/score"
mkdir -p "$dir"
data="$dir/activities-$rows-$accounts.csv"
db="$dir/score-$rows-$accounts-$intent.db"
if [ ! -f "$data.intent.csv" ] || [ ! -f "$data" ]; then
  python3 "$root/bench/gen_activities.py" --rows "$rows" --accounts "$accounts" --intent "$intent" --out "$data"
fi
if [ ! -f "$db" ]; then
  url="sqlite://$db.partial"
  rm -f "$db.partial"*
  "$abm" --database-url "$url" import accounts "$data.accounts.csv" --no-score > /dev/null
  "$abm" --database-url "$url" import contacts "$data.contacts.csv" --no-score > /dev/null
  "$abm" --database-url "$url" import intent "$data.intent.csv" --no-score > /dev/null
  "$abm" --database-url "$url" import activities "$data" --no-score > /dev/null
  rm -f "$db.partial-wal" "$db.partial-shm"
  mv "$db.partial" "$db"
fi
"$abm" --database-url "sqlite://$db" status | sed -n '1,8p'
for run in 1 2 3 4 5; do
  /usr/bin/time -f "run $run: %e s wall, %U s user, peak RSS %M KiB" \
    "$abm" --database-url "sqlite://$db" score --as-of 2026-12-31 > "$dir/score-output.txt"
  sed -n '1,4p' "$dir/score-output.txt"
done
