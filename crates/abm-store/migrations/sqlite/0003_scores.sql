-- abm schema, version 3, SQLite: the scores. Never edit once released.

-- The latest scores of each account (their contributions are recomputed when asked for:
-- `abm account DOMAIN --why` scores that account as of scored_at).
CREATE TABLE account_scores (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts(id),
    scored_at     INTEGER NOT NULL,
    fit           REAL NOT NULL,
    intent        REAL NOT NULL,
    engagement    REAL NOT NULL,
    priority      REAL NOT NULL,
    stage         TEXT NOT NULL,
    stage_reason  TEXT NOT NULL
);
CREATE INDEX account_scores_priority ON account_scores(priority DESC);

-- Every journey stage change with its time and reason: velocity and waterfalls read this.
CREATE TABLE stage_changes (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    changed_at  INTEGER NOT NULL,
    from_stage  TEXT,
    to_stage    TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX stage_changes_account ON stage_changes(account_id, changed_at);
