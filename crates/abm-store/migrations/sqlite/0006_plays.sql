-- abm schema, version 6, SQLite: plays, the outbox and the guard. Never edit once released.

-- An account's run through a play: once per (play, account, trigger key), so the same
-- trigger never enrols an account twice. Times are microseconds since the epoch.
CREATE TABLE play_enrolments (
    id           INTEGER PRIMARY KEY,
    play         TEXT NOT NULL,
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    trigger_key  TEXT NOT NULL,
    topic        TEXT,
    why          TEXT NOT NULL,
    enrolled_at  BIGINT NOT NULL,
    status       TEXT NOT NULL,
    exit_reason  TEXT,
    ended_at     BIGINT,
    UNIQUE (play, account_id, trigger_key)
);
CREATE INDEX play_enrolments_account ON play_enrolments(account_id, play);
CREATE INDEX play_enrolments_status ON play_enrolments(status);

-- The outbox: every planned touch, its state (planned, held, sending, sent, suppressed,
-- skipped, dead) and when it is next due. `idem_key` is the touch's identity everywhere: the
-- email's Message-ID and the webhook's Idempotency-Key derive from it, so a touch retried
-- after a crash is recognised downstream.
CREATE TABLE play_touches (
    id            INTEGER PRIMARY KEY,
    enrolment_id  BIGINT NOT NULL REFERENCES play_enrolments(id),
    play          TEXT NOT NULL,
    step          INTEGER NOT NULL,
    channel       TEXT NOT NULL,
    task_kind     TEXT,
    account_id    BIGINT NOT NULL REFERENCES accounts(id),
    contact_id    BIGINT REFERENCES contacts(id),
    due_at        BIGINT NOT NULL,
    status        TEXT NOT NULL,
    idem_key      TEXT NOT NULL UNIQUE,
    attempts      INTEGER NOT NULL DEFAULT 0,
    rule          TEXT,
    reason        TEXT,
    message_id    TEXT,
    sent_at       BIGINT,
    last_error    TEXT
);
CREATE INDEX play_touches_due ON play_touches(status, due_at);
CREATE INDEX play_touches_enrolment ON play_touches(enrolment_id);
CREATE INDEX play_touches_account ON play_touches(account_id, sent_at);

-- Every decision of the guard, append-only: sent, held until, suppressed, with the rule.
CREATE TABLE guard_log (
    id          INTEGER PRIMARY KEY,
    touch_id    BIGINT NOT NULL REFERENCES play_touches(id),
    at          BIGINT NOT NULL,
    decision    TEXT NOT NULL,
    rule        TEXT,
    reason      TEXT,
    until_at    BIGINT
);
CREATE INDEX guard_log_touch ON guard_log(touch_id);

-- The suppression list: an email or a whole domain that no touch may reach.
CREATE TABLE suppressions (
    value      TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    added_by   TEXT NOT NULL,
    added_at   BIGINT NOT NULL
);

-- Hard and soft bounces by address; a hard bounce stops email to it.
CREATE TABLE bounces (
    email   TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    at      BIGINT NOT NULL,
    detail  TEXT NOT NULL
);

-- Do-not-contact and the owner's hold, per account.
CREATE TABLE account_holds (
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    kind        TEXT NOT NULL,
    until_at    BIGINT,
    reason      TEXT NOT NULL,
    set_by      TEXT NOT NULL,
    set_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind)
);

-- Sales tasks a play queued for an account's owner; one per touch.
CREATE TABLE tasks (
    id             INTEGER PRIMARY KEY,
    touch_id       BIGINT NOT NULL UNIQUE REFERENCES play_touches(id),
    play           TEXT NOT NULL,
    account_id     BIGINT NOT NULL REFERENCES accounts(id),
    contact_id     BIGINT REFERENCES contacts(id),
    owner          TEXT,
    kind           TEXT NOT NULL,
    title          TEXT NOT NULL,
    context        TEXT NOT NULL,
    due_at         BIGINT NOT NULL,
    status         TEXT NOT NULL,
    snoozed_until  BIGINT,
    outcome        TEXT,
    closed_by      TEXT,
    closed_at      BIGINT
);
CREATE INDEX tasks_owner ON tasks(owner, status, due_at);

-- Members of ad audiences and direct-mail lists; the export files are written from these.
CREATE TABLE audience_members (
    audience    TEXT NOT NULL,
    channel     TEXT NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    contact_id  BIGINT NOT NULL REFERENCES contacts(id),
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (audience, channel, contact_id)
);

-- What a person asked for on the preference page: at most this many emails in 30 days.
CREATE TABLE email_preferences (
    email          TEXT PRIMARY KEY,
    max_per_month  INTEGER NOT NULL,
    updated_at     BIGINT NOT NULL
);
