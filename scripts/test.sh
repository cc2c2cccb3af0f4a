#!/usr/bin/env bash
# Runs every check and test of Monay Webhooks: formatting, clippy (server and browser builds), unit
# and integration tests (real server, real HTTP) on SQLite and again on PostgreSQL with the
# multi-node tests, the end-to-end tests in Chromium, and a bounded pass of the OpenAPI fuzzer
# (scripts/fuzz.sh). Installs whatever is missing first (see scripts/setup.sh; PostgreSQL is
# reached, or started, by scripts/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

step "cargo fmt --check"
cargo fmt --check

step "layers (no import circle, no upward arrow, api/ and app/ through service/)"
bash scripts/layers.sh

step "clippy (server build)"
cargo clippy --features ssr --all-targets -- -D warnings

step "clippy (browser build)"
cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

# Every test process has a deadline: a hang fails the run instead of stalling it (the servers the
# tests start are killed with them).
step "unit and integration tests (SQLite)"
timeout --kill-after=30 1500 cargo test --features ssr

step "integration tests and multi-node tests (PostgreSQL)"
TEST_POSTGRES_URL="$(bash scripts/postgres.sh)"
export TEST_POSTGRES_URL
timeout --kill-after=30 1500 cargo test --features ssr --test api
unset TEST_POSTGRES_URL

step "end-to-end tests (release build, Chromium)"
cargo leptos build --release --precompress --split
# The bundle's hashed names go with the site folder too, so a copy of the binary and target/site runs.
cp "${CARGO_TARGET_DIR:-target}/release/hash.txt" target/site/hash.txt
export MONAY_BIN="$PWD/${CARGO_TARGET_DIR:-target}/release/monay-webhooks"
case "${CARGO_TARGET_DIR:-}" in /*) MONAY_BIN="$CARGO_TARGET_DIR/release/monay-webhooks" ;; esac
(cd end2end && timeout --kill-after=30 1200 npx playwright test)

step "end-to-end tests on PostgreSQL"
pg_server="$(bash scripts/postgres.sh)"
psql "$pg_server" -q -c 'DROP DATABASE IF EXISTS monay_e2e WITH (FORCE)'
(cd end2end && E2E_DATABASE_URL="${pg_server%/*}/monay_e2e" timeout --kill-after=30 1200 npx playwright test)

step "OpenAPI fuzzing (schemathesis: every check, admin and tenant keys, a bounded pass)"
MONAY_BIN="$MONAY_BIN" timeout --kill-after=30 900 bash scripts/fuzz.sh
