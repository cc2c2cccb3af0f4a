-- Hardening, second round. An audit entry may stand for several identical refusals (a key used from
-- outside its allowlist: one row per key and address per minute, with their count). The addresses
-- each key was used from (the last use from each), so that the last admin key that still works can
-- be told from one fenced off by its allowlist.
ALTER TABLE audit_log ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
CREATE TABLE key_addresses (
    key_id TEXT NOT NULL,
    ip TEXT NOT NULL,
    last_used_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, ip)
);
