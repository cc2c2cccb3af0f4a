#!/usr/bin/env bash
# Installs, once, whatever building and testing Monay Webhooks needs on a fresh Debian machine.
# Every step is skipped when its tool is already present. Nothing is downloaded from outside the
# package registries (crates.io, npm, Debian).
#   scripts/setup.sh          toolchain for building and running the service
#   scripts/setup.sh --test   plus Chromium and the end-to-end test packages
set -euo pipefail
cd "$(dirname "$0")/.."

# 0.3.10: the newest this rustc builds (0.3.11 wants 1.96). Its WASM splitter (0.2.3) knows
# wasm-bindgen 0.2.128's renamed type descriptors and it hashes split chunks' names correctly;
# 0.3.5's split bundles failed to load with our wasm-bindgen.
CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132
SCHEMATHESIS_VERSION=4.32.5
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 13 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Without --locked: its lock file wants a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if ! command -v npm >/dev/null; then
  say "installing Node.js and npm"
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  # npm's binaryen, not Debian's (108): the older one breaks hydration.
  say "installing binaryen@$BINARYEN_VERSION (wasm-opt) into .tools/"
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --prefix .tools "binaryen@$BINARYEN_VERSION"
fi

if [ "${1:-}" = "--test" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Chromium from Debian's packages"
    apt-get update -qq && apt-get install -y -qq chromium
  fi
  if ! command -v curl >/dev/null; then
    say "installing curl (the fuzzer's set-up talks to the server with it)"
    apt-get update -qq && apt-get install -y -qq curl
  fi
  if ! .tools/venv/bin/schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    say "installing schemathesis $SCHEMATHESIS_VERSION (the OpenAPI fuzzer) into .tools/venv"
    if ! python3 -m venv --help >/dev/null 2>&1; then
      apt-get update -qq && apt-get install -y -qq python3 python3-venv
    fi
    rm -rf .tools/venv
    python3 -m venv .tools/venv
    .tools/venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  if [ ! -d end2end/node_modules/@playwright/test ]; then
    say "installing the end-to-end test packages"
    (cd end2end && npm ci --silent --no-audit --no-fund)
  fi
fi
