-- abm schema, version 4, SQLite: the account team's view. Never edit once released.
-- The same tables as PostgreSQL's migration 3, written in types both share (BIGINT times in
-- microseconds, TEXT, INTEGER 0/1 for booleans), so their queries are written once.

-- The people who act on the data. CLI actions name one with --as; the web adds passwords.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT,
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    -- argon2 (PHC string); NULL for a user who acts only through the CLI.
    password_hash TEXT
);

-- API tokens: only a SHA-256 of each token is kept; the token itself is shown once.
CREATE TABLE api_tokens (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Web sessions: a SHA-256 of the cookie's value, its user, its CSRF token, its expiry.
CREATE TABLE sessions (
    session_hash TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

-- The target account list: one row per account ever proposed, with its current state.
CREATE TABLE tal_entries (
    account_id      BIGINT PRIMARY KEY REFERENCES accounts(id),
    status          TEXT NOT NULL,
    tier            TEXT,
    tier_override   TEXT,
    tier_reason     TEXT,
    strategic       INTEGER NOT NULL DEFAULT 0,
    sales_owner     TEXT,
    marketing_owner TEXT,
    source          TEXT NOT NULL,
    reason          TEXT NOT NULL,
    proposed_by     TEXT NOT NULL,
    proposed_at     BIGINT NOT NULL,
    updated_by      TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX tal_entries_status ON tal_entries(status, tier);

-- Every change to the TAL: who, when, why, on whose authority. Append-only.
CREATE TABLE tal_audit (
    id           INTEGER PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    authority    TEXT NOT NULL,
    action       TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    tier         TEXT,
    reason       TEXT NOT NULL
);
CREATE INDEX tal_audit_account ON tal_audit(account_id, at);

-- Clusters of 1:few accounts sharing traits; an account belongs to at most one.
CREATE TABLE clusters (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    traits      TEXT NOT NULL,
    origin      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE cluster_members (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts(id),
    cluster_id  BIGINT NOT NULL REFERENCES clusters(id),
    added_by    TEXT NOT NULL,
    added_at    BIGINT NOT NULL
);
CREATE INDEX cluster_members_cluster ON cluster_members(cluster_id);

-- A contact's buying role set by hand ('none' for no role), kept over the title dictionary.
CREATE TABLE contact_roles (
    contact_id  BIGINT PRIMARY KEY REFERENCES contacts(id),
    role        TEXT NOT NULL,
    set_by      TEXT NOT NULL,
    set_at      BIGINT NOT NULL
);

-- Trigger events, detected or imported, with their evidence; once per (account, kind, key).
CREATE TABLE triggers (
    id           INTEGER PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    kind         TEXT NOT NULL,
    at           BIGINT NOT NULL,
    evidence     TEXT NOT NULL,
    source       TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    UNIQUE (account_id, kind, dedupe_key)
);
CREATE INDEX triggers_account ON triggers(account_id, at);

-- Account plans (the document as JSON) and every version before the current one.
CREATE TABLE account_plans (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts(id),
    body        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE TABLE account_plan_history (
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    version     BIGINT NOT NULL,
    body        TEXT NOT NULL,
    changes     TEXT NOT NULL,
    changed_by  TEXT NOT NULL,
    changed_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, version)
);

-- Advocacy flags (reference, case_study, advisory_board), mostly of customers.
CREATE TABLE account_flags (
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    flag        TEXT NOT NULL,
    set_by      TEXT NOT NULL,
    set_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, flag)
);

-- Every other change of the team's data that is not the TAL's (users, clusters, buying roles,
-- flags, imported events): who, when, what, on which subject. Append-only.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
