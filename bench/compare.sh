#!/usr/bin/env bash
# abm against DuckDB and polars on the same files: the score benchmark's 10 million activities,
# 50,000 accounts and 250,000 contacts (bench/score.sh builds them and abm's database).
#
# - abm: a full re-score from its store (`abm score`: every account's fit, intent, engagement
#   and priority, the log read back from SQLite), the median of three runs;
# - DuckDB and polars (installed from PyPI into a virtual environment under the target
#   directory): read the CSV files, resolve each activity to its account as abm does, and sum
#   the engagement points per account (bench/compare_engines.py), two runs each, the faster.
#
# Prints each time, the ratios, and the matched-activity counts (which must agree: the
# engines resolve as abm does). Target: abm at least as fast as DuckDB; aim at polars.
#
#   bench/compare.sh [ROWS] [ACCOUNTS] [INTENT]     defaults: 10000000 50000 1000000
set -euo pipefail
rows=${1:-10000000}
accounts=${2:-50000}
intent=${3:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
abm="$target/release/abm"
dir="$target/bench/score"
db="$dir/score-$rows-$accounts-$intent.db"
data="$dir/activities-$rows-$accounts.csv"
if [ ! -f "$db" ]; then
  "$root/bench/score.sh" "$rows" "$accounts" "$intent" > /dev/null
fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
venv="$target/bench/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet duckdb polars
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$db" "$work/abm.db"
url="sqlite://$work/abm.db"
abm_times=()
for run in 1 2 3; do
  start=$(date +%s.%N)
  "$abm" --database-url "$url" score --as-of 2026-12-31 > /dev/null
  end=$(date +%s.%N)
  abm_times+=("$(python3 -c "print(round($end - $start, 2))")")
done
abm_s=$(printf '%s\n' "${abm_times[@]}" | sort -n | sed -n 2p)
matched=$("$abm" --database-url "$url" status --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["activities"] - d["unmatched_activities"])')
best() {
  local engine=$1 out best_line=""
  for _ in 1 2; do
    out=$("$venv/bin/python" "$root/bench/compare_engines.py" --engine "$engine" \
      --activities "$data" --accounts "$data.accounts.csv" --contacts "$data.contacts.csv")
    if [ -z "$best_line" ] || python3 -c "import json,sys; sys.exit(0 if json.loads('''$out''')['seconds'] < json.loads('''$best_line''')['seconds'] else 1)"; then
      best_line=$out
    fi
  done
  echo "$best_line"
}
duck=$(best duckdb)
polar=$(best polars)
python3 - "$abm_s" "$matched" "$duck" "$polar" "${abm_times[*]}" <<'PY'
import json, sys
abm, matched, duck, polar, runs = float(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
print(f"abm score (full re-score from its store): {abm:6.2f} s  (runs: {runs}; matched activities {matched:,})")
for e in (duck, polar):
    print(f"{e['engine']:<7} read + resolve + aggregate: {e['seconds']:6.2f} s  (accounts {e['accounts']:,}, matched activities {e['matched_activities']:,})")
    print(f"        abm / {e['engine']}: {abm / e['seconds']:.2f}  (below 1: abm is faster)")
for e in (duck, polar):
    if e["matched_activities"] != matched:
        print(f"MISMATCH: {e['engine']} matched {e['matched_activities']:,} activities, abm {matched:,}", file=sys.stderr)
        sys.exit(1)
PY
