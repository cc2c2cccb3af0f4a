#!/usr/bin/env bash
# Property-based fuzzing of the REST API against its own OpenAPI document: schemathesis generates
# requests from `GET /api/openapi.json` (valid and invalid ones, every check it has), sends them
# with an admin key and then a tenant key, and fails on any answer the document does not promise
# (a 5xx, an undocumented status, a body off its schema, bad data accepted, …).
#   scripts/fuzz.sh              a bounded pass (what the test command runs)
#   FUZZ_EXAMPLES=200 scripts/fuzz.sh   a longer one
# Uses the release build ($MONAY_BIN, else target/release/monay-webhooks) on its own database.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${MONAY_BIN:-${CARGO_TARGET_DIR:-target}/release/monay-webhooks}"
EXAMPLES="${FUZZ_EXAMPLES:-20}"
SCHEMATHESIS=.tools/venv/bin/schemathesis
PY=.tools/venv/bin/python
ADMIN=fuzz-admin-token-0123456789abcdef

dir=$(mktemp -d)
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Sign-in throttling off (the fuzzer sends wrong keys on purpose); no retries (its webhooks point
# nowhere); http allowed so that generated http:// URLs are valid.
LEPTOS_SITE_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$dir/fuzz.db" WEBHOOK_ADMIN_TOKEN=$ADMIN \
  WEBHOOK_AUTH_FAILURE_LIMIT=0 WEBHOOK_MAX_RETRIES=0 WEBHOOK_TIMEOUT=1000 RUST_LOG=error \
  WEBHOOK_ALLOW_HTTP=true WEBHOOK_ALLOWED_SUBNETS=127.0.0.0/8 \
  "$BIN" >"$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  curl -sf "$base/readyz" >/dev/null && break
  sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || { cat "$dir/server.log"; echo "the server did not start" >&2; exit 1; }

# Real objects for the operations on one object (`{id}`), made afresh for each pass (the one before
# may have deleted them): a webhook of the tenant `fuzz` (its receiver refuses connections), an
# event, its failed delivery. scripts/fuzz.toml hands their ids out.
api() { curl -sf -X "$1" "$base/api$2" -H "Authorization: Bearer $ADMIN" ${3:+-d "$3"}; }
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
export FUZZ_WEBHOOK_ID FUZZ_EVENT_ID FUZZ_DELIVERY_ID
seed() {
  FUZZ_WEBHOOK_ID=$(api POST /webhooks '{"url": "http://127.0.0.1:9/fuzz", "events": ["*"], "tenant": "fuzz"}' | field '["id"]')
  FUZZ_EVENT_ID=$(api POST /events '{"event": "user.created", "data": {"n": 1}, "tenant": "fuzz"}' | field '["id"]')
  for _ in $(seq 50); do
    FUZZ_DELIVERY_ID=$(api GET "/deliveries?webhookId=$FUZZ_WEBHOOK_ID&status=failed" | field '["data"][0]["id"]' 2>/dev/null) && break
    sleep 0.1
  done
}

status=0
for who in admin tenant; do
  seed
  key=$ADMIN
  if [ "$who" = tenant ]; then
    # Made now: the admin pass may revoke every key it can list.
    key=$(curl -sf -X POST "$base/api/keys" -H "Authorization: Bearer $ADMIN" \
      -d '{"tenant": "fuzz", "role": "tenant", "name": "fuzzer"}' | field '["key"]')
  fi
  printf '\n\033[1;34m==> schemathesis, %s key, %s examples per operation\033[0m\n' "$who" "$EXAMPLES"
  "$SCHEMATHESIS" --config-file scripts/fuzz.toml run "$base/api/openapi.json" \
    --header "Authorization: Bearer $key" --max-examples "$EXAMPLES" --seed "${FUZZ_SEED:-20261129}" \
    --exclude-path /api/stream --report junit --report-dir "$dir/report-$who" || status=1
done
if [ $status -ne 0 ]; then
  echo "--- server log (last 50 lines)"; tail -50 "$dir/server.log"
fi
exit $status
