-- abm schema, version 4, PostgreSQL: first-party tracking. Never edit once released.

-- The first-party visitor id an activity came with (tracked website events only; imports
-- leave it empty). Indexed only while the activity has no contact: when the visitor
-- identifies, exactly these rows join the contact and the account, without a scan of the log.
ALTER TABLE activities ADD COLUMN visitor TEXT;
CREATE INDEX activities_anonymous_visitor ON activities(visitor)
    WHERE visitor IS NOT NULL AND contact_id IS NULL;

-- One row per first-party visitor id: who it turned out to be (identify: an email from a
-- form; reverse_ip: the company its network belongs to, with a confidence). Times are
-- microseconds since the epoch, as in the team tables.
CREATE TABLE visitors (
    id            TEXT PRIMARY KEY,
    first_seen    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    events        BIGINT NOT NULL DEFAULT 0,
    account_id    BIGINT REFERENCES accounts(id),
    contact_id    BIGINT REFERENCES contacts(id),
    email         TEXT,
    identified_by TEXT,
    confidence    DOUBLE PRECISION,
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
