-- Paused by a person: new deliveries are queued held (not dropped) until the webhook is resumed.
ALTER TABLE webhooks ADD COLUMN paused BOOLEAN NOT NULL DEFAULT FALSE;
