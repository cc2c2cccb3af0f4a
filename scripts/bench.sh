#!/usr/bin/env bash
# Builds the release server and runs the benchmark (examples/bench.rs); prints its figures.
# Arguments go to the benchmark, e.g. scripts/bench.sh --events 50000 --webhooks 10 --backlog 0, or on
# PostgreSQL with two nodes: scripts/bench.sh --database postgres://postgres@127.0.0.1:5432/test --nodes 2
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --features ssr --bin monay-webhooks --example bench
target_dir="${CARGO_TARGET_DIR:-target}"
export MONAY_BIN="$target_dir/release/monay-webhooks"
exec "$target_dir/release/examples/bench" "$@"
