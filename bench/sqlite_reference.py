#!/usr/bin/env python3
"""The yardstick the activity import figure is set against: Python's sqlite3 inserting the
benchmark's CSV file as it is (csv.reader → executemany into one table, one transaction,
no identity resolution, no de-duplication, no indexes).

Issue 3 sets abm's SQLite target (500,000 rows/s) on a machine where this inserted about
450,000 rows/s. Machines of the same kind differ by more than two to one from day to day, so
bench/import.sh runs this beside abm on the same file and reports abm's rate as a multiple
of it: the target is about 1.11 times this rate.

    python3 bench/sqlite_reference.py FILE.csv DATABASE
Prints one line: rows, seconds, rows per second.
"""
import csv
import os
import sqlite3
import sys
import time


def main():
    source, database = sys.argv[1], sys.argv[2]
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            os.remove(database + suffix)
        except FileNotFoundError:
            pass
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    connection.execute(
        "CREATE TABLE activities (id TEXT, occurred_at TEXT, type TEXT, email TEXT,"
        " domain TEXT, url TEXT, topic TEXT, campaign TEXT, channel TEXT)"
    )
    with open(source, newline="", encoding="utf-8") as file:
        rows = csv.reader(file)
        header = next(rows)
        if len(header) != 9:
            sys.exit(f"{source}: expected the 9 generic activity columns, found {header}")
        connection.executemany("INSERT INTO activities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    connection.commit()
    count = connection.execute("SELECT count(*) FROM activities").fetchone()[0]
    connection.close()
    elapsed = time.perf_counter() - started
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            os.remove(database + suffix)
        except FileNotFoundError:
            pass
    print(f"{count} {elapsed:.2f} {count / elapsed:.0f}")


if __name__ == "__main__":
    main()
