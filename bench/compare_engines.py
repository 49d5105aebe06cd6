#!/usr/bin/env python3
"""The account engagement aggregation of bench/compare.sh in DuckDB and in polars.

From the benchmark's files (activities, accounts, contacts), each engine resolves every
activity to its account as abm does (the contact's account by email, else the email's domain,
else the domain column; free mail never matches), then sums per account the activities and the
engagement points (abm's default [engagement.weights], halved every 30 days before --as-of).
Prints one JSON line per engine: seconds, accounts, matched activities, total points.
"""
import argparse, json, sys, time

WEIGHTS = {
    "page_view": 1, "form_fill": 8, "content_download": 5, "email_sent": 0, "email_open": 0.2,
    "email_click": 2, "email_reply": 10, "ad_impression": 0.05, "ad_click": 1.5,
    "webinar_registered": 4, "webinar_attended": 8, "meeting_held": 15, "call": 6,
    "direct_mail": 1, "chat": 5, "trial_signup": 12, "other": 0.5,
}
HALF_LIFE_DAYS = 30.0


def duckdb_run(args):
    import duckdb
    con = duckdb.connect()
    con.execute(f"PRAGMA threads={args.threads}")
    started = time.perf_counter()
    con.execute("CREATE TABLE weights (kind VARCHAR, weight DOUBLE)")
    con.executemany("INSERT INTO weights VALUES (?, ?)", list(WEIGHTS.items()))
    row = con.execute(f"""
        WITH acts AS (
            SELECT type, occurred_at, lower(email) AS email, lower(domain) AS domain
            FROM read_csv('{args.activities}', header = true, all_varchar = false,
                          columns = {{'id': 'VARCHAR', 'occurred_at': 'TIMESTAMPTZ', 'type': 'VARCHAR',
                                      'email': 'VARCHAR', 'domain': 'VARCHAR', 'url': 'VARCHAR',
                                      'topic': 'VARCHAR', 'campaign': 'VARCHAR', 'channel': 'VARCHAR'}})
        ),
        contacts AS (SELECT lower(email) AS email, lower(account_domain) AS account
                     FROM read_csv('{args.contacts}', header = true)),
        accounts AS (SELECT lower(domain) AS domain FROM read_csv('{args.accounts}', header = true)),
        resolved AS (
            SELECT a.type, a.occurred_at, COALESCE(c.account, d1.domain, d2.domain) AS account
            FROM acts a
            LEFT JOIN contacts c ON c.email = a.email
            LEFT JOIN accounts d1 ON d1.domain = split_part(a.email, '@', 2)
            LEFT JOIN accounts d2 ON d2.domain = a.domain
        ),
        per_account AS (
            SELECT account, count(*) AS activities,
                   sum(w.weight * pow(0.5, epoch(TIMESTAMPTZ '{args.as_of}' - r.occurred_at) / 86400.0 / {HALF_LIFE_DAYS})) AS points
            FROM resolved r JOIN weights w ON w.kind = r.type
            WHERE r.account IS NOT NULL AND r.occurred_at <= TIMESTAMPTZ '{args.as_of}'
            GROUP BY account
        )
        SELECT count(*), sum(activities), sum(points) FROM per_account
    """).fetchone()
    return time.perf_counter() - started, row


def polars_run(args):
    import polars as pl
    started = time.perf_counter()
    as_of = pl.lit(args.as_of).str.to_datetime(time_zone="UTC")
    acts = pl.scan_csv(args.activities, schema_overrides={
        "id": pl.Utf8, "occurred_at": pl.Utf8, "type": pl.Utf8, "email": pl.Utf8, "domain": pl.Utf8,
        "url": pl.Utf8, "topic": pl.Utf8, "campaign": pl.Utf8, "channel": pl.Utf8,
    }).select(
        pl.col("type"),
        pl.col("occurred_at").str.to_datetime(time_zone="UTC"),
        pl.col("email").str.to_lowercase(),
        pl.col("domain").str.to_lowercase(),
    ).with_columns(pl.col("email").str.split("@").list.get(1, null_on_oob=True).alias("email_domain"))
    contacts = pl.scan_csv(args.contacts).select(
        pl.col("email").str.to_lowercase(), pl.col("account_domain").str.to_lowercase().alias("by_contact"))
    accounts = pl.scan_csv(args.accounts).select(pl.col("domain").str.to_lowercase())
    weights = pl.LazyFrame({"type": list(WEIGHTS), "weight": [float(w) for w in WEIGHTS.values()]})
    resolved = (
        acts.join(contacts, on="email", how="left")
        .join(accounts.with_columns(pl.col("domain").alias("by_email_domain")),
              left_on="email_domain", right_on="domain", how="left")
        .join(accounts.with_columns(pl.col("domain").alias("by_domain")), on="domain", how="left")
        .with_columns(pl.coalesce("by_contact", "by_email_domain", "by_domain").alias("account"))
        .filter(pl.col("account").is_not_null() & (pl.col("occurred_at") <= as_of))
        .join(weights, on="type")
        .with_columns((pl.col("weight") * (0.5 ** ((as_of - pl.col("occurred_at")).dt.total_seconds() / 86400.0 / HALF_LIFE_DAYS))).alias("points"))
        .group_by("account")
        .agg(pl.len().alias("activities"), pl.col("points").sum())
        .select(pl.len(), pl.col("activities").sum(), pl.col("points").sum())
    )
    row = resolved.collect().row(0)
    return time.perf_counter() - started, row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--activities", required=True)
    parser.add_argument("--accounts", required=True)
    parser.add_argument("--contacts", required=True)
    parser.add_argument("--as-of", default="2026-12-31T23:59:59Z")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engine", choices=["duckdb", "polars"], required=True)
    args = parser.parse_args()
    seconds, (accounts, activities, points) = (duckdb_run if args.engine == "duckdb" else polars_run)(args)
    print(json.dumps({"engine": args.engine, "seconds": round(seconds, 2), "accounts": accounts,
                      "matched_activities": int(activities or 0), "points": round(float(points or 0), 1)}))


if __name__ == "__main__":
    sys.exit(main())
