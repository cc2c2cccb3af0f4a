-- Per-webhook delivery controls: deliveries per second, requests at once, and one at a time in publish
-- order (`ordering` 'fifo'). A webhook with any of them is `controlled`: its deliveries carry the
-- flag too and are claimed by their webhook's lane (which keeps the limits), never by the common
-- claim. `rate_tat_us` is when, in microseconds, its next delivery may start at the earliest.
ALTER TABLE webhooks ADD COLUMN rate_limit BIGINT;
ALTER TABLE webhooks ADD COLUMN max_in_flight BIGINT;
ALTER TABLE webhooks ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none';
ALTER TABLE webhooks ADD COLUMN controlled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE webhooks ADD COLUMN rate_tat_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN controlled BOOLEAN NOT NULL DEFAULT FALSE;
-- The common claim walks uncontrolled due deliveries only, in time order; a controlled webhook's
-- backlog is never in its way.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (controlled, next_attempt_at) WHERE status = 'pending';
-- A controlled webhook's deliveries under way, in publish order (its lane, and the head of a FIFO).
CREATE INDEX deliveries_controlled ON deliveries (webhook_id, id) WHERE controlled = TRUE AND status IN ('pending', 'delivering');
