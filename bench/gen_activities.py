#!/usr/bin/env python3
"""Generates the activity-import benchmark's data: ROWS generic activity rows (about 110
bytes each, so 10 million rows is about 1.1 GB) and the accounts and contacts they belong to.

    bench/gen_activities.py --rows 10000000 --accounts 20000 --out target/bench/activities.csv

writes OUT, OUT.accounts.csv and OUT.contacts.csv. Deterministic (seeded). Ids are unique
and not sorted (a multiplicative permutation of the row number), like message ids.
Row mix: 60% a known contact's email, 25% an unknown person at a known account's domain,
10% only a domain (reverse-IP style), 5% free mail (never matched).
"""
import argparse
import random

KINDS = ["page_view"] * 6 + ["email_open", "email_click", "email_sent", "form_fill",
         "content_download", "ad_click", "webinar_attended", "meeting_held"]
PAGES = ["/pricing", "/product", "/blog/intent-data-101", "/compare/legacy-abm", "/demo", "/"]
CAMPAIGNS = ["Q3 ABM Tier 1", "Intent Data Webinar", "Nurture - Ops Leaders", ""]
CHANNELS = ["web", "email", "paid_social", "events"]
PRIME = 2_654_435_761  # odd, so i -> i * PRIME mod 2^32 is a permutation of 32-bit numbers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--intent", type=int, default=0,
                        help="also write OUT.intent.csv with this many weekly intent signals")
    args = parser.parse_args()
    rng = random.Random(20261123)
    with open(args.out + ".accounts.csv", "w") as out:
        out.write("domain,name,industry,employees,country\n")
        for a in range(args.accounts):
            out.write(f"company{a}.com,Company {a},Software,{rng.randrange(10, 50000)},United States\n")
    with open(args.out + ".contacts.csv", "w") as out:
        out.write("email,first_name,last_name,title,account_domain\n")
        for a in range(args.accounts):
            for c in range(5):
                out.write(f"p{c}@company{a}.com,P{c},Person,Director,company{a}.com\n")
    times = [f"2026-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"
             for m, d, h, mi, s in ((1 + i % 12, 1 + i % 28, i % 24, (i * 7) % 60, (i * 13) % 60) for i in range(4096))]
    if args.intent:
        topics = ["Intent Data", "Account Based Marketing", "Lead Scoring", "CRM Software",
                  "Revenue Operations", "Marketing Automation", "Data Enrichment",
                  "Web Personalization", "Customer Data Platform", "Sales Engagement"]
        weeks = max(1, args.intent // args.accounts)
        with open(args.out + ".intent.csv", "w", buffering=1 << 22) as out:
            out.write("Company Name,Domain,Topic Name,Composite Score,Date\n")
            written = 0
            for a in range(args.accounts):
                for w in range(weeks):
                    if written == args.intent:
                        break
                    day = 5 + 7 * w  # Mondays from 2026-01-05
                    month, mday = 1, day
                    for length in (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31):
                        if mday <= length:
                            break
                        mday -= length
                        month += 1
                    out.write(f"Company {a},company{a}.com,{topics[(a + w) % 10]},{rng.randrange(20, 100)},2026-{month:02d}-{mday:02d}\n")
                    written += 1
    with open(args.out, "w", buffering=1 << 22) as out:
        out.write("id,occurred_at,type,email,domain,url,topic,campaign,channel\n")
        lines = []
        rand = rng.random
        randrange = rng.randrange
        for i in range(args.rows):
            a = randrange(args.accounts)
            r = rand()
            if r < 0.60:
                who = f"p{i % 5}@company{a}.com,"
            elif r < 0.85:
                who = f"visitor{i % 997}@company{a}.com,"
            elif r < 0.95:
                who = f",company{a}.com"
            else:
                who = f"someone{i % 9973}@gmail.com,"
            lines.append(f"evt-{(i * PRIME) % 4294967296:010d}-{i // 4294967296},{times[i % 4096]},{KINDS[i % 14]},{who},"
                         f"https://www.example.com{PAGES[i % 6]},,{CAMPAIGNS[i % 4]},{CHANNELS[i % 4]}\n")
            if len(lines) == 100_000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)


if __name__ == "__main__":
    main()
