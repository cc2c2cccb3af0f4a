-- Statistics rollups: five-minute aggregates, filled in the background for buckets that can no longer
-- change (src/store/rollup.rs). `bucket` is the bucket's start in unix ms.
CREATE TABLE stats_attempts (
    bucket       INTEGER NOT NULL,
    tenant       TEXT NOT NULL,
    webhook_id   TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    succeeded    INTEGER NOT NULL,
    first        INTEGER NOT NULL,  -- first attempts of a delivery
    second       INTEGER NOT NULL,  -- second attempts: the delivery needed a retry
    duration_sum INTEGER NOT NULL,
    PRIMARY KEY (bucket, tenant, webhook_id)
) WITHOUT ROWID;

-- Attempt durations in classes of two significant digits (exact under 100 ms), for the p95.
CREATE TABLE stats_latency (
    bucket     INTEGER NOT NULL,
    tenant     TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    class_ms   INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (bucket, tenant, webhook_id, class_ms)
) WITHOUT ROWID;

CREATE TABLE stats_deliveries (
    bucket     INTEGER NOT NULL,
    tenant     TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    event      TEXT NOT NULL,
    created    INTEGER NOT NULL,
    PRIMARY KEY (bucket, tenant, webhook_id, event)
) WITHOUT ROWID;

-- Everything before `rolled_until` is in the tables above; statistics read the rest from the log.
CREATE TABLE stats_rollup (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    rolled_until INTEGER NOT NULL
);

-- Deliveries that gave up, by when: few rows, so the index costs nothing on the hot path.
CREATE INDEX deliveries_failed ON deliveries (updated_at) WHERE status = 'failed';
