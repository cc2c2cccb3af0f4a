#!/usr/bin/env bash
# Builds (release) and runs Monay Webhooks on http://127.0.0.1:3001 with embedded SQLite under ./data/.
# Installs whatever is missing first (see scripts/setup.sh). Extra settings come from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
cargo leptos build --release --precompress --split
# The bundle's hashed names go with the site folder too, so a copy of the binary and target/site runs.
cp "${CARGO_TARGET_DIR:-target}/release/hash.txt" target/site/hash.txt
exec "${CARGO_TARGET_DIR:-target}/release/monay-webhooks"
