-- Native partitioning of the large tables by a hash of the account (issue 8's scale-out path).
--
-- Every table that grows with activity is split into 16 partitions by HASH (account_id), so
-- an account's rows live in one partition: its timeline, scores and rollups are read from
-- one partition's indexes, and old or hot partitions can be moved, vacuumed or re-indexed
-- one at a time. The same keys let Citus distribute these tables on account_id (see
-- docs/SCALING.md). Small tables (accounts, contacts, the TAL, users, plays) stay whole.
--
-- A unique index of a partitioned table must contain the partition key, so the log can no
-- longer hold a unique index on `id`. The de-duplication of activities moves to
-- `activity_ids` (id → seq and content fingerprint), as SQLite already has it. Unmatched
-- activities (account_id NULL) hash to the partition of remainder 0.
--
-- Existing rows are copied into the new tables in this migration's transaction.

CREATE SEQUENCE activity_seq AS BIGINT;
SELECT setval('activity_seq', COALESCE((SELECT MAX(seq) FROM activities), 0) + 1, false);

ALTER TABLE activities RENAME TO activities_whole;
DROP INDEX activities_id;
DROP INDEX activities_account;
DROP INDEX activities_unmatched;
DROP INDEX activities_without_contact;
DROP INDEX activities_anonymous_visitor;

-- Ids compare bytewise (COLLATE "C"): equality is the same in every collation, and sorting
-- them for the id key is several times faster than through the locale's rules.
CREATE TABLE activities (
    seq          BIGINT NOT NULL DEFAULT nextval('activity_seq'),
    id           TEXT COLLATE "C" NOT NULL,
    kind         TEXT NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    account_id   BIGINT,
    contact_id   BIGINT,
    email        TEXT,
    account_key  TEXT,
    url          TEXT,
    topic        TEXT,
    campaign     TEXT,
    channel      TEXT,
    fingerprint  BIGINT NOT NULL,
    import_id    BIGINT,
    source_file  INTEGER,
    source_line  BIGINT,
    visitor      TEXT
) PARTITION BY HASH (account_id);
ALTER SEQUENCE activity_seq OWNED BY activities.seq;

-- One row per activity id: the log's de-duplication (stored once per id; the same id with
-- other content is found by its fingerprint).
CREATE TABLE activity_ids (
    id           TEXT COLLATE "C" NOT NULL,
    seq          BIGINT NOT NULL,
    fingerprint  BIGINT NOT NULL,
    CONSTRAINT activity_ids_pkey PRIMARY KEY (id)
);

-- Intent signals are unique by (domain, topic, date, source) and carry the account their
-- domain resolves to (NULL until it does; re-resolution fills it for every row of the domain
-- at once), so a signal's copies always share a partition and the key can include the
-- account. NULLS NOT DISTINCT keeps the unmatched ones unique too.
ALTER TABLE intent_signals RENAME TO intent_signals_whole;
ALTER INDEX intent_signals_pkey RENAME TO intent_signals_whole_pkey;
ALTER TABLE intent_signals_whole DROP CONSTRAINT intent_signals_domain_topic_date_source_key;
DROP INDEX intent_signals_account;
CREATE SEQUENCE intent_signal_id AS BIGINT;
SELECT setval('intent_signal_id', COALESCE((SELECT MAX(id) FROM intent_signals_whole), 0) + 1, false);
CREATE TABLE intent_signals (
    id           BIGINT NOT NULL DEFAULT nextval('intent_signal_id'),
    account_id   BIGINT REFERENCES accounts(id),
    domain       TEXT NOT NULL,
    topic        TEXT NOT NULL,
    date         DATE NOT NULL,
    score        SMALLINT NOT NULL CHECK (score BETWEEN 0 AND 100),
    source       TEXT NOT NULL,
    company_name TEXT,
    CONSTRAINT intent_signals_key UNIQUE NULLS NOT DISTINCT (account_id, domain, topic, date, source)
) PARTITION BY HASH (account_id);
ALTER SEQUENCE intent_signal_id OWNED BY intent_signals.id;

ALTER TABLE account_scores RENAME TO account_scores_whole;
ALTER INDEX account_scores_pkey RENAME TO account_scores_whole_pkey;
DROP INDEX account_scores_priority;
CREATE TABLE account_scores (
    account_id    BIGINT NOT NULL REFERENCES accounts(id),
    scored_at     BIGINT NOT NULL,
    fit           DOUBLE PRECISION NOT NULL,
    intent        DOUBLE PRECISION NOT NULL,
    engagement    DOUBLE PRECISION NOT NULL,
    priority      DOUBLE PRECISION NOT NULL,
    stage         TEXT NOT NULL,
    stage_reason  TEXT NOT NULL,
    PRIMARY KEY (account_id)
) PARTITION BY HASH (account_id);

ALTER TABLE stage_changes RENAME TO stage_changes_whole;
ALTER INDEX stage_changes_pkey RENAME TO stage_changes_whole_pkey;
DROP INDEX stage_changes_account;
CREATE TABLE stage_changes (
    id          BIGINT NOT NULL DEFAULT nextval('stage_changes_id_seq'),
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    changed_at  BIGINT NOT NULL,
    from_stage  TEXT,
    to_stage    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (account_id, id)
) PARTITION BY HASH (account_id);

ALTER TABLE rollup_account_weeks RENAME TO rollup_account_weeks_whole;
ALTER INDEX rollup_account_weeks_pkey RENAME TO rollup_account_weeks_whole_pkey;
CREATE TABLE rollup_account_weeks (
    account_id  BIGINT NOT NULL,
    week        BIGINT NOT NULL,
    activities  BIGINT NOT NULL,
    points      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, week)
) PARTITION BY HASH (account_id);

ALTER TABLE rollup_people_weeks RENAME TO rollup_people_weeks_whole;
ALTER INDEX rollup_people_weeks_pkey RENAME TO rollup_people_weeks_whole_pkey;
CREATE TABLE rollup_people_weeks (
    account_id  BIGINT NOT NULL,
    week        BIGINT NOT NULL,
    contact_id  BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (account_id, week, contact_id)
) PARTITION BY HASH (account_id);

ALTER TABLE rollup_item_weeks RENAME TO rollup_item_weeks_whole;
ALTER INDEX rollup_item_weeks_pkey RENAME TO rollup_item_weeks_whole_pkey;
CREATE TABLE rollup_item_weeks (
    account_id  BIGINT NOT NULL,
    week        BIGINT NOT NULL,
    dimension   TEXT NOT NULL,
    item        TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (account_id, week, dimension, item)
) PARTITION BY HASH (account_id);

-- 16 partitions of each (the names: activities_p00 … activities_p15, and so on).
DO $$
DECLARE
    parent TEXT;
    remainder INTEGER;
BEGIN
    FOREACH parent IN ARRAY ARRAY['activities', 'intent_signals', 'account_scores', 'stage_changes',
        'rollup_account_weeks', 'rollup_people_weeks', 'rollup_item_weeks']
    LOOP
        FOR remainder IN 0..15 LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS 16, REMAINDER %s)',
                parent || '_p' || lpad(remainder::text, 2, '0'), parent, remainder);
        END LOOP;
    END LOOP;
END
$$;

INSERT INTO activities (seq, id, kind, occurred_at, account_id, contact_id, email, account_key, url,
        topic, campaign, channel, fingerprint, import_id, source_file, source_line, visitor)
    SELECT seq, id, kind, occurred_at, account_id, contact_id, email, account_key, url,
        topic, campaign, channel, fingerprint, import_id, source_file, source_line, visitor
    FROM activities_whole;
INSERT INTO activity_ids (id, seq, fingerprint) SELECT id, seq, fingerprint FROM activities_whole;
DROP TABLE activities_whole;

INSERT INTO intent_signals (id, account_id, domain, topic, date, score, source, company_name)
    SELECT id, account_id, domain, topic, date, score, source, company_name FROM intent_signals_whole;
DROP TABLE intent_signals_whole;
INSERT INTO account_scores SELECT * FROM account_scores_whole;
DROP TABLE account_scores_whole;
ALTER SEQUENCE stage_changes_id_seq OWNED BY stage_changes.id;
INSERT INTO stage_changes (id, account_id, changed_at, from_stage, to_stage, reason)
    SELECT id, account_id, changed_at, from_stage, to_stage, reason FROM stage_changes_whole;
DROP TABLE stage_changes_whole;
INSERT INTO rollup_account_weeks SELECT * FROM rollup_account_weeks_whole;
DROP TABLE rollup_account_weeks_whole;
INSERT INTO rollup_people_weeks SELECT * FROM rollup_people_weeks_whole;
DROP TABLE rollup_people_weeks_whole;
INSERT INTO rollup_item_weeks SELECT * FROM rollup_item_weeks_whole;
DROP TABLE rollup_item_weeks_whole;

-- The log's indexes, built after the copy. A bulk load keeps the seq index (rows arrive in
-- seq order) and drops and rebuilds the others: the list in postgres.rs must match these
-- lines, a test checks.
CREATE INDEX activities_seq ON activities(seq);
CREATE INDEX activities_account ON activities(account_id, occurred_at);
CREATE INDEX activities_unmatched ON activities(account_key) WHERE account_id IS NULL;
CREATE INDEX activities_without_contact ON activities(email) WHERE contact_id IS NULL AND email IS NOT NULL;
CREATE INDEX activities_anonymous_visitor ON activities(visitor) WHERE visitor IS NOT NULL AND contact_id IS NULL;
CREATE INDEX intent_signals_domain ON intent_signals(domain, topic, date, source);
CREATE INDEX intent_signals_account ON intent_signals(account_id, date);
CREATE INDEX account_scores_priority ON account_scores(priority DESC);
CREATE INDEX stage_changes_account ON stage_changes(account_id, changed_at);
