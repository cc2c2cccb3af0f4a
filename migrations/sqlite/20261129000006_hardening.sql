-- A webhook switched off by the delivery engine (too many failures, 410 Gone) keeps getting its new
-- deliveries, held, so nothing published meanwhile is lost to it; one switched off by a person does not.
ALTER TABLE webhooks ADD COLUMN hold_new INTEGER NOT NULL DEFAULT 0;

-- The bootstrap key is the operator's own WEBHOOK_ADMIN_TOKEN: no part of it is shown.
UPDATE api_keys SET prefix = '' WHERE name = 'bootstrap (WEBHOOK_ADMIN_TOKEN)';
