#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests (this machine kind runs one
# with trust authentication; a stopped cluster is started, a missing server installed from Debian's
# packages), then prints the URL the tests use: TEST_POSTGRES_URL=$(bash scripts/postgres.sh).
set -euo pipefail
URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
say() { printf '\033[1;34m[postgres]\033[0m %s\n' "$*" >&2; }
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    say "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    cluster_conf="$(ls -d /etc/postgresql/*/main | head -1)"
    # Local connections without a password, as on this machine kind.
    sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(local\s+all\s+\S+\s+)\S+/\1trust/' \
        "$cluster_conf/pg_hba.conf"
fi
if ! ready; then
    say "starting the PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 || true
fi
for _ in $(seq 1 60); do
    ready && break
    sleep 0.5
done
ready || { say "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1; }
# The database the URL names (the tests make one database per test beside it).
db="${URL##*/}"; db="${db%%\?*}"
if ! psql "$URL" -Atc 'SELECT 1' >/dev/null 2>&1; then
    say "creating the database $db"
    psql "${URL%/*}/postgres" -c "CREATE DATABASE \"$db\"" >&2
fi
echo "$URL"
