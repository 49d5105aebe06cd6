-- abm schema, version 5, SQLite: first-party tracking. Never edit once released.

-- The first-party visitor id an activity came with (tracked website events only; imports
-- leave it empty). Indexed only while the activity has no contact: when the visitor
-- identifies, exactly these rows join the contact and the account, without a scan of the log.
ALTER TABLE activities ADD COLUMN visitor TEXT;
CREATE INDEX activities_anonymous_visitor ON activities(visitor)
    WHERE visitor IS NOT NULL AND contact_id IS NULL;

-- One row per first-party visitor id: who it turned out to be (identify: an email from a
-- form; reverse_ip: the company its network belongs to, with a confidence).
CREATE TABLE visitors (
    id            TEXT PRIMARY KEY,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    events        INTEGER NOT NULL DEFAULT 0,
    account_id    INTEGER REFERENCES accounts(id),
    contact_id    INTEGER REFERENCES contacts(id),
    email         TEXT,
    identified_by TEXT,
    confidence    REAL,
    organization  TEXT
);
CREATE INDEX visitors_account ON visitors(account_id);

-- Server secrets shared by every abm node: `link` signs tracked email links (open pixel,
-- click redirect); `webhook:NAME` verifies a source's signed webhook calls. Created on
-- first use; `abm webhook create NAME` prints a source's secret once.
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
