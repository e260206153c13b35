#!/usr/bin/env bash
# How many event-producing commits a second PostgreSQL takes: pgbench, 32 clients, one article
# insert a transaction, on the schema the migrations build, in three variants:
#
#   plain      the articles table without the live-events trigger (its count triggers stay)
#   locked     the trigger as migration 20261203 wrote it (advisory lock until commit, NOTIFY)
#   pending    the trigger as migration 20261204 wrote it (one insert into
#              live_events_pending), with the sequencer (live_events_sequence()) called back to
#              back by one more client
#   current    every migration (the count triggers insert changes, 20261207), with the
#              sequencer calling live_events_sequence() and counts_fold() back to back
#
#   scripts/event-commits.sh            # 20 s a variant
#   scripts/event-commits.sh 5          # a quick look
#
# Needs Docker and pgbench (Debian: postgresql-client). The server (CONDUIT_TEST_PG_IMAGE, default
# postgres:15) runs with production's durability (fsync and synchronous_commit on, data on disk),
# since what the lock serialised is the commit and its flush; FAST=1 runs it as the tests do
# instead (durability off, data in memory), which measures the database's work alone.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
image=${CONDUIT_TEST_PG_IMAGE:-postgres:15}
migrations=crates/persistence/migrations/postgres
name=conduit-event-commits-$$

if [ "${FAST:-0}" = 1 ]; then
  settings=(--tmpfs /var/lib/postgresql/data "$image" -c fsync=off -c full_page_writes=off
    -c synchronous_commit=off)
else
  settings=("$image")
fi
# On the host's network, on a free loopback port: a published port goes through docker-proxy,
# a process that copies every byte and took as much CPU as PostgreSQL's own work here.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
docker run -d --rm --name "$name" -e POSTGRES_PASSWORD=postgres --network host \
  "${settings[@]}" -c max_connections=200 -c listen_addresses=127.0.0.1 -c port="$port" >/dev/null
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD=postgres
for _ in $(seq 1 60); do
  if psql -d postgres -qAtc 'SELECT 1' >/dev/null 2>&1; then break; fi
  sleep 1
done

work=$(mktemp -d)
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cat >"$work/insert.sql" <<'SQL'
\set author random(1, 50)
INSERT INTO articles (slug, author_id, title, description, body, created_at, updated_at)
VALUES (md5(random()::text || clock_timestamp()::text), :author, 'A title', 'A description',
        'A body', now(), now());
SQL
echo 'SELECT live_events_sequence(10000);' >"$work/sequence.sql"
printf 'SELECT live_events_sequence(10000);\nSELECT counts_fold();\n' >"$work/settle.sql"

# A database with the migrations up to and including $2, and 50 authors.
database() {
  psql -d postgres -qAtc "CREATE DATABASE $1" >/dev/null
  for migration in "$migrations"/*.sql; do
    psql -d "$1" -q -v ON_ERROR_STOP=1 -f "$migration" >/dev/null
    if [[ $(basename "$migration") == "$2"* ]]; then break; fi
  done
  psql -d "$1" -qAtc "INSERT INTO users (username, username_key, email, password_hash, created_at, updated_at)
    SELECT 'u' || i, 'u' || i, 'u' || i || '@example.com', 'x', now(), now()
    FROM generate_series(1, 50) i" >/dev/null
}

# Transactions a second of the 32 inserting clients.
tps() {
  pgbench -n -c 32 -j 2 -T "$seconds" -f "$work/insert.sql" "$1" 2>/dev/null |
    sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1
}

database plain 20261202
database locked 20261203
database pending 20261204
database current 99999999

echo "| variant | event-producing commits a second (32 clients, ${seconds} s) |"
echo "|---|---|"
echo "| plain (no live-events trigger; the count triggers stay) | $(tps plain) |"
echo "| locked (advisory lock and NOTIFY, migration 20261203) | $(tps locked) |"
pgbench -n -c 1 -j 1 -T "$seconds" -f "$work/sequence.sql" pending >"$work/sequencer.log" 2>&1 &
sequencer=$!
echo "| pending (migration 20261204, the sequencer running) | $(tps pending) |"
wait "$sequencer"
pgbench -n -c 1 -j 1 -T "$seconds" -f "$work/settle.sql" current >/dev/null 2>&1 &
settler=$!
echo "| current (every migration, the sequencer folding the counts too) | $(tps current) |"
wait "$settler"
sequenced=$(psql -d pending -qAtc "SELECT live_events_sequence(1000000)" >/dev/null &&
  psql -d pending -qAtc "SELECT (SELECT count(*) FROM live_events) || ' sequenced, ' ||
    (SELECT count(*) FROM live_events_pending) || ' pending, ' ||
    (SELECT count(*) FROM articles) || ' articles'")
calls=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/sequencer.log")
echo
echo "pending: $sequenced after one last call; the sequencer ran $calls times"
