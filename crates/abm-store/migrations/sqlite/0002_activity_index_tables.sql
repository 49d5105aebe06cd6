-- abm schema, version 2, SQLite. Never edit once released: add a new migration instead.
--
-- The activity log's id and account indexes become tables that abm writes itself. SQLite
-- builds an index by passing every entry through its generic record sorter, about 1 µs an
-- entry on our 2-core machines; abm sorts the same entries in memory and appends them in
-- order in well under half that, which is what lets a bulk import reach its target. Outside
-- bulk imports the store writes both tables row by row, and triggers keep the account index
-- right when re-resolution moves an activity to an account.
DROP INDEX activities_id;
DROP INDEX activities_account;

-- key: the activity id hashed (xxh3, seeded per database, 63 bits). Two ids with the same
-- hash take the next free key (linear probing; nothing is ever deleted from the log, so a
-- lookup walks key, key+1, … until it finds the id or a free key).
-- WITHOUT ROWID: written in key order, it costs about two thirds of a rowid table's time.
CREATE TABLE activity_ids (
    key         INTEGER PRIMARY KEY,
    fingerprint INTEGER NOT NULL,
    seq         INTEGER NOT NULL
) WITHOUT ROWID;

-- Every activity tied to an account, by account and time.
CREATE TABLE activity_timeline (
    account_id  INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (account_id, occurred_at, seq)
) WITHOUT ROWID;
INSERT INTO activity_timeline (account_id, occurred_at, seq)
    SELECT account_id, occurred_at, seq FROM activities WHERE account_id IS NOT NULL;

CREATE TRIGGER activity_timeline_insert AFTER INSERT ON activities
    WHEN NEW.account_id IS NOT NULL
BEGIN
    INSERT INTO activity_timeline (account_id, occurred_at, seq)
        VALUES (NEW.account_id, NEW.occurred_at, NEW.seq);
END;

CREATE TRIGGER activity_timeline_update AFTER UPDATE OF account_id ON activities
    WHEN OLD.account_id IS NOT NEW.account_id
BEGIN
    DELETE FROM activity_timeline
        WHERE account_id = OLD.account_id AND occurred_at = OLD.occurred_at AND seq = OLD.seq;
    INSERT INTO activity_timeline (account_id, occurred_at, seq)
        SELECT NEW.account_id, NEW.occurred_at, NEW.seq WHERE NEW.account_id IS NOT NULL;
END;

-- The per-database seed of the id hash; abm writes it once, right after this migration.
CREATE TABLE store_settings (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
