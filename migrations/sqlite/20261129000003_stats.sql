-- Queue size without a scan: held deliveries get a partial index like pending ones have.
CREATE INDEX deliveries_held ON deliveries (webhook_id) WHERE status = 'held';
