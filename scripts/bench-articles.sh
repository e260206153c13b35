#!/usr/bin/env bash
# Measures GET /api/articles?limit=20 on loopback with wrk, over a server seeded with
# $ARTICLES articles (default 1,000), built in release mode.
#
#   scripts/bench-articles.sh                                        # embedded SQLite
#   DATABASE_URL=postgres://user:pass@127.0.0.1/db scripts/bench-articles.sh
#
# Needs wrk (`apt-get install wrk`), curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

articles=${ARTICLES:-1000}
port=${PORT:-18080}
duration=${DURATION:-20s}
connections=${CONNECTIONS:-16}
scratch=$(mktemp -d)
database_url=${DATABASE_URL:-sqlite://$scratch/bench.db}

cargo build --release --quiet --package conduit-server
APP_ENV=development BIND_ADDR="127.0.0.1:$port" DATABASE_URL="$database_url" RUST_LOG=warn \
    JWT_SECRET=bench-secret-bench-secret-bench-secret target/release/conduit &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$scratch"' EXIT

# Wait for readiness: curl retries until the server answers (at most 30 s).
curl --silent --fail --retry 30 --retry-connrefused --retry-delay 1 \
    "http://127.0.0.1:$port/health/ready" >/dev/null

python3 scripts/seed.py "http://127.0.0.1:$port" "$articles"
statements=2 # counted per list request by tests/statements.rs, whatever the page size
echo "GET /api/articles?limit=20 over $articles articles ($statements SQL statements a request):"
wrk --threads 2 --connections "$connections" --duration "$duration" --latency \
    "http://127.0.0.1:$port/api/articles?limit=20"
