#!/usr/bin/env bash
# Measures the console's first load on a throttled "slow 4G" network in Chromium (bytes, first
# paint, time to interactive; first and repeat visits, compressed and not) and prints the figures.
# Uses the release build (scripts/test.sh or scripts/run.sh make it) and the end-to-end packages.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
bin="${MONAY_BIN:-${CARGO_TARGET_DIR:-target}/release/monay-webhooks}"
[ -x "$bin" ] || { echo "no release build at $bin: run scripts/run.sh or scripts/test.sh first" >&2; exit 1; }
dir="$(mktemp -d)"
port=3102
LEPTOS_SITE_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$dir/first-load.db" \
  WEBHOOK_ADMIN_TOKEN=first-load-admin-token-0123456789 RUST_LOG=warn "$bin" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
(cd end2end && node first-load.mjs "http://127.0.0.1:$port/login" first-load-admin-token-0123456789)
