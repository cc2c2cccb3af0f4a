-- Traffic controls. A webhook's own headers, sent with every delivery (a JSON object, name → value).
ALTER TABLE webhooks ADD COLUMN headers TEXT NOT NULL DEFAULT '{}';
-- A key's own request rate (requests per second; NULL: the server's default, 0: unlimited) and the
-- addresses it may be used from (a JSON list of CIDRs; NULL: anywhere).
ALTER TABLE api_keys ADD COLUMN rate_limit INTEGER;
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
