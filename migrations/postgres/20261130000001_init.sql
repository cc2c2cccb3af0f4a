-- Monay Webhooks, PostgreSQL schema: the SQLite schema's tables and columns, with the same types as
-- the code reads them (times are unix milliseconds in BIGINT, JSON is stored as TEXT), so both
-- backends give the same answers. Text compares byte-wise (COLLATE "C"), as in SQLite: identifiers
-- sort by the time they were made whatever the database's locale.

CREATE TABLE api_keys (
    id           TEXT COLLATE "C" PRIMARY KEY,
    key_hash     TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    tenant       TEXT COLLATE "C",
    role         TEXT NOT NULL CHECK (role IN ('admin', 'tenant')),
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    key_id     TEXT COLLATE "C" NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_key ON sessions (key_id);

CREATE TABLE event_types (
    name        TEXT COLLATE "C" PRIMARY KEY,
    category    TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    custom      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE webhooks (
    id                         TEXT COLLATE "C" PRIMARY KEY,
    tenant                     TEXT COLLATE "C" NOT NULL,
    url                        TEXT NOT NULL,
    events                     TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    secret                     TEXT NOT NULL,
    active                     BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason            TEXT,
    consecutive_failures       BIGINT NOT NULL DEFAULT 0,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at BIGINT,
    hold_new                   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant, id);

CREATE TABLE events (
    id                TEXT COLLATE "C" PRIMARY KEY,
    tenant            TEXT COLLATE "C",
    event             TEXT COLLATE "C" NOT NULL,
    data              TEXT NOT NULL,
    timestamp         BIGINT NOT NULL,
    idempotency_scope TEXT,
    idempotency_key   TEXT,
    request_hash      TEXT,
    deliveries        BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX events_by_idempotency_key ON events (idempotency_scope, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_by_tenant ON events (tenant, id);

CREATE TABLE deliveries (
    id               TEXT COLLATE "C" PRIMARY KEY,
    event_id         TEXT COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    webhook_id       TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    tenant           TEXT COLLATE "C" NOT NULL,
    event            TEXT COLLATE "C" NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed', 'held')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    lease_until      BIGINT,
    leased_by        TEXT,
    last_status_code BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'delivering';
CREATE INDEX deliveries_held ON deliveries (webhook_id) WHERE status = 'held';
CREATE INDEX deliveries_failed ON deliveries (updated_at) WHERE status = 'failed';
CREATE INDEX deliveries_by_tenant ON deliveries (tenant, id);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id);

CREATE TABLE attempts (
    id               TEXT COLLATE "C" PRIMARY KEY,
    delivery_id      TEXT COLLATE "C" NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    webhook_id       TEXT COLLATE "C" NOT NULL,
    tenant           TEXT COLLATE "C" NOT NULL,
    attempt          BIGINT NOT NULL,
    trigger          TEXT NOT NULL,
    started_at       BIGINT NOT NULL,
    duration_ms      BIGINT NOT NULL,
    request_headers  TEXT NOT NULL,
    response_status  BIGINT,
    response_headers TEXT,
    response_body    TEXT,
    error_kind       TEXT,
    error            TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, attempt);

CREATE TABLE audit_log (
    id           TEXT COLLATE "C" PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor_key_id TEXT COLLATE "C" NOT NULL,
    actor_name   TEXT NOT NULL,
    tenant       TEXT COLLATE "C",
    action       TEXT COLLATE "C" NOT NULL,
    target       TEXT,
    client_ip    TEXT
);
CREATE INDEX audit_by_tenant ON audit_log (tenant, id);

-- Statistics rollups (see src/store/tally.rs); `bucket` is the bucket's start in unix ms.
CREATE TABLE stats_attempts (
    bucket       BIGINT NOT NULL,
    tenant       TEXT COLLATE "C" NOT NULL,
    webhook_id   TEXT COLLATE "C" NOT NULL,
    attempts     BIGINT NOT NULL,
    succeeded    BIGINT NOT NULL,
    first        BIGINT NOT NULL,
    second       BIGINT NOT NULL,
    duration_sum BIGINT NOT NULL,
    PRIMARY KEY (bucket, tenant, webhook_id)
);

CREATE TABLE stats_latency (
    bucket     BIGINT NOT NULL,
    tenant     TEXT COLLATE "C" NOT NULL,
    webhook_id TEXT COLLATE "C" NOT NULL,
    class_ms   BIGINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (bucket, tenant, webhook_id, class_ms)
);

CREATE TABLE stats_deliveries (
    bucket     BIGINT NOT NULL,
    tenant     TEXT COLLATE "C" NOT NULL,
    webhook_id TEXT COLLATE "C" NOT NULL,
    event      TEXT COLLATE "C" NOT NULL,
    created    BIGINT NOT NULL,
    PRIMARY KEY (bucket, tenant, webhook_id, event)
);

CREATE TABLE stats_rollup (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    rolled_until BIGINT NOT NULL
);

-- Jobs that one node runs at a time (rollups, retention, alerts): the node holding the lease.
CREATE TABLE job_leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  BIGINT NOT NULL
);

-- Alerts that are on, per subject, with their start: whichever node evaluates next knows them.
CREATE TABLE alert_state (
    subject TEXT COLLATE "C" NOT NULL,
    kind    TEXT COLLATE "C" NOT NULL,
    since   BIGINT NOT NULL,
    PRIMARY KEY (subject, kind)
);

-- The database's clock in unix milliseconds: the one clock every node agrees on.
CREATE FUNCTION monay_now_ms() RETURNS BIGINT LANGUAGE SQL VOLATILE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT $$;
