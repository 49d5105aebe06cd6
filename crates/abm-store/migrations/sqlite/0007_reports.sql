-- Reports: weekly rollups of the activity log, kept up to date incrementally (see
-- `rollup.rs`), so a report reads rollups instead of the ten million rows of the log.
-- `week` counts weeks from Monday 1969-12-29 (epoch day -3): (epoch day + 3) / 7.
-- `account_id` 0 holds what is not matched to an account yet.

-- Activities and engagement points (the `[engagement.weights]` of the refresh) per account
-- and week.
CREATE TABLE rollup_account_weeks (
    account_id  BIGINT NOT NULL,
    week        BIGINT NOT NULL,
    activities  BIGINT NOT NULL,
    points      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, week)
) WITHOUT ROWID;

-- All activities per week, matched or not: the match rate's denominator.
CREATE TABLE rollup_weeks (
    week        BIGINT PRIMARY KEY,
    activities  BIGINT NOT NULL
);

-- Known people active per account and week: engaged people per account.
CREATE TABLE rollup_people_weeks (
    account_id  BIGINT NOT NULL,
    week        BIGINT NOT NULL,
    contact_id  BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (account_id, week, contact_id)
) WITHOUT ROWID;

-- Topics and content consumed per account and week; for account 0, the unmatched domains.
CREATE TABLE rollup_item_weeks (
    account_id  BIGINT NOT NULL,
    week        BIGINT NOT NULL,
    dimension   TEXT NOT NULL,
    item        TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (account_id, week, dimension, item)
) WITHOUT ROWID;

-- How far the rollups have read the log (by seq) and with which weights; accounts whose
-- older rows moved (re-resolution, a visitor identified) and must be rolled up again.
CREATE TABLE rollup_state (
    name         TEXT PRIMARY KEY,
    seq          BIGINT NOT NULL,
    weights      TEXT NOT NULL,
    refreshed_at BIGINT NOT NULL
);
INSERT INTO rollup_state (name, seq, weights, refreshed_at) VALUES ('activities', 0, '', 0);
CREATE TABLE rollup_dirty (
    account_id  BIGINT PRIMARY KEY
);

-- The lead-to-account match rate as each day's first refresh found it: leads carry no date,
-- so their match rate over time is kept as it is observed.
CREATE TABLE lead_match_days (
    day         BIGINT PRIMARY KEY,
    leads       BIGINT NOT NULL,
    matched     BIGINT NOT NULL
);

-- Every backtest run, append-only: the scoring's own quality report reads the latest.
CREATE TABLE backtest_runs (
    id           INTEGER PRIMARY KEY,
    run_at       BIGINT NOT NULL,
    as_of        BIGINT NOT NULL,
    horizon_days BIGINT NOT NULL,
    config       TEXT NOT NULL,
    auc          DOUBLE PRECISION,
    body         TEXT NOT NULL
);
