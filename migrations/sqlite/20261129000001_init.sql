-- Monay Webhooks, SQLite schema. Times are unix milliseconds (INTEGER); JSON is stored as TEXT.

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    key_hash     TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    tenant       TEXT,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'tenant')),
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE event_types (
    name        TEXT PRIMARY KEY,
    category    TEXT NOT NULL,
    description TEXT NOT NULL,
    custom      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE webhooks (
    id                   TEXT PRIMARY KEY,
    tenant               TEXT NOT NULL,
    url                  TEXT NOT NULL,
    events               TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    secret               TEXT NOT NULL,
    active               INTEGER NOT NULL DEFAULT 1,
    disabled_reason      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant, id);

CREATE TABLE events (
    id                TEXT PRIMARY KEY,
    tenant            TEXT,
    event             TEXT NOT NULL,
    data              TEXT NOT NULL,
    timestamp         INTEGER NOT NULL,
    idempotency_scope TEXT,
    idempotency_key   TEXT,
    request_hash      TEXT,
    deliveries        INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX events_by_idempotency_key ON events (idempotency_scope, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_by_tenant ON events (tenant, id);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    webhook_id       TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    tenant           TEXT NOT NULL,
    event            TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed', 'held')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    lease_until      INTEGER,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'delivering';
CREATE INDEX deliveries_by_tenant ON deliveries (tenant, id);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id);

CREATE TABLE attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    webhook_id       TEXT NOT NULL,
    tenant           TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    trigger          TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    request_headers  TEXT NOT NULL,
    response_status  INTEGER,
    response_headers TEXT,
    response_body    TEXT,
    error_kind       TEXT,
    error            TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, attempt);
