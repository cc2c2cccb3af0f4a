-- Which process holds a delivery's lease (it renews the leases it holds while it lives).
ALTER TABLE deliveries ADD COLUMN leased_by TEXT;

-- Jobs that one node runs at a time (rollups, retention, alerts): the holder of the lease.
CREATE TABLE job_leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  INTEGER NOT NULL
);

-- Alerts that are on, per subject, with their start (so a restart announces nothing twice).
CREATE TABLE alert_state (
    subject TEXT NOT NULL,
    kind    TEXT NOT NULL,
    since   INTEGER NOT NULL,
    PRIMARY KEY (subject, kind)
) WITHOUT ROWID;
