#!/usr/bin/env bash
# Report latency at scale: the score benchmark's database (50,000 accounts, 10 million
# activities, 1 million intent signals; built by bench/score.sh and reused), plus 20,000
# opportunities and an approved TAL of 5,000 accounts (20 1:1, 200 1:few, 4,780 1:many).
# `abm report refresh --rebuild` rolls the whole log up again (timed: what a first refresh
# after a bulk load costs); then `abm serve` answers each report 10 times over the API, for a quarter and for the whole
# year, and the weekly summary page; prints the median and the slowest.
# Target: every report under 300 ms.
#
#   bench/reports.sh [ROWS] [ACCOUNTS] [INTENT]     defaults: 10000000 50000 1000000
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
work=$(mktemp -d)
cp "$db" "$work/abm.db"
url="sqlite://$work/abm.db"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
python3 - "$data.accounts.csv" <<'EOF'
import csv, random, sys, datetime
random.seed(7)
domains = [row["domain"] for row in csv.DictReader(open(sys.argv[1]))]
with open("opportunities.csv", "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["Id", "Website", "Name", "StageName", "Amount", "CreatedDate", "CloseDate", "IsClosed", "IsWon"])
    start = datetime.date(2026, 1, 5)
    for i in range(20000):
        created = start + datetime.timedelta(days=random.randrange(0, 330))
        closed = random.random() < 0.6
        won = closed and random.random() < 0.35
        close = created + datetime.timedelta(days=random.randrange(7, 120))
        w.writerow([f"006B{i:07d}", random.choice(domains), f"Deal {i}",
                    "Closed Won" if won else ("Closed Lost" if closed else "Proposal"),
                    random.randrange(5, 300) * 1000, created.isoformat(),
                    close.isoformat() if closed else "", str(closed).lower(), str(won).lower()])
with open("tal.csv", "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["domain", "reason", "tier", "sales_owner", "marketing_owner"])
    for i, domain in enumerate(domains[:5000]):
        tier = "1:1" if i < 20 else ("1:few" if i < 220 else "1:many")
        w.writerow([domain, "benchmark TAL", tier, "sam@ourco.com", "mia@ourco.com"])
with open("tal-domains.txt", "w") as out:
    out.write("\n".join(domains[:5000]))
EOF
"$abm" --database-url "$url" import opportunities opportunities.csv --no-score > /dev/null
"$abm" --database-url "$url" tal import tal.csv > /dev/null
xargs -a tal-domains.txt "$abm" --database-url "$url" tal approve --reason "benchmark" > /dev/null
"$abm" --database-url "$url" score --as-of 2026-12-31 > /dev/null
/usr/bin/time -f "abm report refresh --rebuild (every rollup from the 10M-row log): %e s wall, peak RSS %M KiB" \
  "$abm" --database-url "$url" report refresh --rebuild
printf 'a long enough password\n' | "$abm" --database-url "$url" user add bench@ourco.com --role admin > /dev/null
token=$("$abm" --database-url "$url" token create bench@ourco.com --as bench@ourco.com)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$abm" --database-url "$url" serve --bind "127.0.0.1:$port" --insecure-cookies --run-every 0 2> "$work/serve.log" &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
measure() {
  local path=$1
  local times=()
  for _ in $(seq 1 10); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path")")
  done
  printf '%s\n' "${times[@]}" | sort -n | python3 -c '
import sys
t = [float(x) * 1000 for x in sys.stdin.read().split()]
print(f"{sys.argv[1]:<70} median {t[len(t)//2]:7.1f} ms   slowest {t[-1]:7.1f} ms")' "$path"
}
for name in coverage engagement buying-group match-rate pipeline velocity plays efficiency scoring; do
  measure "/api/v1/reports/$name?from=2026-10-01&to=2026-12-31"
  measure "/api/v1/reports/$name?from=2026-01-01&to=2026-12-31"
done
measure "/reports/pipeline?from=2026-01-01&to=2026-12-31"
measure "/reports/weekly?to=2026-12-31"
