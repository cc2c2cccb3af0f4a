-- The audit log of management actions. Never holds secrets or keys: targets are identifiers.
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor_key_id TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    tenant       TEXT,
    action       TEXT NOT NULL,
    target       TEXT,
    client_ip    TEXT
);
CREATE INDEX audit_by_tenant ON audit_log (tenant, id);
