-- abm schema, version 1, SQLite. Never edit once released: add a new migration instead.
-- Times are INTEGER microseconds since the Unix epoch (UTC); dates are TEXT YYYY-MM-DD;
-- lists and attribute maps are JSON text. Every large table carries account_id.

CREATE TABLE imports (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    files        TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    rows_read    INTEGER NOT NULL DEFAULT 0,
    inserted     INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    unchanged    INTEGER NOT NULL DEFAULT 0,
    unmatched    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    crm_id        TEXT UNIQUE,
    domain        TEXT NOT NULL UNIQUE,
    name          TEXT,
    industry      TEXT,
    employees     INTEGER,
    revenue       REAL,
    country       TEXT,
    region        TEXT,
    technologies  TEXT NOT NULL DEFAULT '[]',
    account_type  TEXT,
    owner         TEXT,
    parent_id     INTEGER REFERENCES accounts(id),
    parent_crm_id TEXT,
    parent_domain TEXT,
    attributes    TEXT NOT NULL DEFAULT '{}'
);

-- Every domain that identifies an account, its primary domain included.
CREATE TABLE account_domains (
    domain     TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    is_primary INTEGER NOT NULL
);
CREATE INDEX account_domains_account ON account_domains(account_id);

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    crm_id       TEXT UNIQUE,
    email        TEXT NOT NULL UNIQUE,
    first_name   TEXT,
    last_name    TEXT,
    title        TEXT,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    opted_out    INTEGER NOT NULL DEFAULT 0,
    lawful_basis TEXT,
    attributes   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX contacts_account ON contacts(account_id);

CREATE TABLE leads (
    id           INTEGER PRIMARY KEY,
    crm_id       TEXT UNIQUE,
    email        TEXT NOT NULL UNIQUE,
    first_name   TEXT,
    last_name    TEXT,
    title        TEXT,
    company      TEXT,
    website      TEXT,
    origin       TEXT NOT NULL,
    account_id   INTEGER REFERENCES accounts(id),
    account_key  TEXT,
    opted_out    INTEGER NOT NULL DEFAULT 0,
    lawful_basis TEXT,
    attributes   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX leads_unmatched ON leads(account_key) WHERE account_id IS NULL;

CREATE TABLE opportunities (
    id             INTEGER PRIMARY KEY,
    crm_id         TEXT NOT NULL UNIQUE,
    account_id     INTEGER REFERENCES accounts(id),
    account_crm_id TEXT,
    account_domain TEXT,
    name           TEXT,
    amount         REAL,
    stage          TEXT,
    created_on     TEXT NOT NULL,
    close_date     TEXT,
    closed         INTEGER NOT NULL,
    won            INTEGER NOT NULL
);
CREATE INDEX opportunities_account ON opportunities(account_id);

CREATE TABLE intent_signals (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER REFERENCES accounts(id),
    domain       TEXT NOT NULL,
    topic        TEXT NOT NULL,
    date         TEXT NOT NULL,
    score        INTEGER NOT NULL,
    source       TEXT NOT NULL,
    company_name TEXT,
    UNIQUE (domain, topic, date, source)
);
CREATE INDEX intent_signals_account ON intent_signals(account_id, date);

-- The activity log: append-only, one row per activity id.
CREATE TABLE activities (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    occurred_at  INTEGER NOT NULL,
    account_id   INTEGER REFERENCES accounts(id),
    contact_id   INTEGER REFERENCES contacts(id),
    email        TEXT,
    account_key  TEXT,
    url          TEXT,
    topic        TEXT,
    campaign     TEXT,
    channel      TEXT,
    fingerprint  INTEGER NOT NULL,
    import_id    INTEGER,
    source_file  INTEGER,
    source_line  INTEGER
);
-- The indexes of the activity log: the SQLite backend drops and rebuilds them around a bulk
-- import (see ACTIVITY_INDEXES in sqlite.rs, which must stay identical to these lines).
CREATE UNIQUE INDEX activities_id ON activities(id);
CREATE INDEX activities_account ON activities(account_id, occurred_at);
CREATE INDEX activities_unmatched ON activities(account_key) WHERE account_id IS NULL;
CREATE INDEX activities_without_contact ON activities(email) WHERE contact_id IS NULL AND email IS NOT NULL;
