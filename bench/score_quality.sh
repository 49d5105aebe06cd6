#!/usr/bin/env bash
# How well the scoring ranks accounts, on demo worlds of several seeds: for each world, a
# backtest at several past dates (90-day horizon) of the current scoring setup, beside the
# naive ranking by activity count. Prints one line per (seed, date) and the means.
#
#   bench/score_quality.sh [SEEDS] [CONFIG]     e.g. bench/score_quality.sh "1 2 3 4" abm.toml
set -euo pipefail
seeds=${1:-"1 2 3 4"}
config=${2:-/nonexistent/abm.toml}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
target="${CARGO_TARGET_DIR:-$root/target}"
abm="$target/release/abm"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
today=$(date -u +%Y-%m-%d)
printf '%-6s %-10s %8s %8s %8s %8s %6s %6s %6s %6s\n' seed as_of auc lift10 naiveauc naivelift pos fit intent engage
for seed in $seeds; do
  db="sqlite://$work/world-$seed.db"
  "$abm" --config "$config" --database-url "$db" demo --seed "$seed" >/dev/null
  for back in 100 160 220 280; do
    day=$(date -u -d "$today - $back days" +%Y-%m-%d)
    "$abm" --config "$config" --database-url "$db" backtest --as-of "$day" --horizon 90d --format json \
      | python3 -c '
import json, sys
r = json.load(sys.stdin)[0]["backtest"]
print("%-6s %-10s %8.3f %8.2f %8.3f %8.2f %6d %6.3f %6.3f %6.3f" % (sys.argv[1], r["as_of"], r["priority"]["auc"], r["priority"]["lift_at_10"], r["activity_count"]["auc"], r["activity_count"]["lift_at_10"], r["priority"]["positives"], r["fit"]["auc"], r["intent"]["auc"], r["engagement"]["auc"]))
' "$seed"
  done
done | tee "$work/lines"
python3 - "$work/lines" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
n = len(rows)
mean = lambda i: sum(float(r[i]) for r in rows) / n
print("mean   %-10s %8.3f %8.2f %8.3f %8.2f %6s %6.3f %6.3f %6.3f" % ("", mean(2), mean(3), mean(4), mean(5), "", mean(7), mean(8), mean(9)))
PY
# abm tune on each world (as of today: validated at the latest complete 90-day horizon).
echo
printf '%-6s %-12s %8s %8s %8s %8s %8s %8s\n' seed validated auc lift10 tunedauc tunedlift naiveauc naivelift
for seed in $seeds; do
  db="sqlite://$work/world-$seed.db"
  "$abm" --config "$config" --database-url "$db" tune --out "$work/tuned-$seed.toml" > "$work/tune-$seed.txt"
  python3 - "$seed" "$work/tune-$seed.txt" <<'PY'
import re, sys
text = open(sys.argv[2]).read()
day = re.search(r"Validated as of (\S+)", text).group(1)
def row(label):
    m = re.search(r"^  " + label + r".*?\s([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)$", text, re.M)
    return float(m.group(1)), float(m.group(2))
(a, l), (ta, tl), (na, nl) = row("current"), row("tuned"), row("activity count")
print("%-6s %-12s %8.3f %8.2f %8.3f %8.2f %8.3f %8.2f" % (sys.argv[1], day, a, l, ta, tl, na, nl))
PY
done | tee "$work/tuned"
python3 - "$work/tuned" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
n = len(rows)
mean = lambda i: sum(float(r[i]) for r in rows) / n
print("mean   %-12s %8.3f %8.2f %8.3f %8.2f %8.3f %8.2f" % ("", mean(2), mean(3), mean(4), mean(5), mean(6), mean(7)))
PY
