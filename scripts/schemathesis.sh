#!/usr/bin/env bash
# The contract check: schemathesis, pinned, against a conduit binary's own /api/openapi.json (the
# release build unless CONDUIT_BINARY names another), on a fresh SQLite database, every phase, a
# fixed seed and a bounded number of examples.
#
#   scripts/schemathesis.sh            # builds the release binary if needed
#   CONDUIT_BINARY=PATH scripts/schemathesis.sh   # runs that build instead (CI: the instrumented one)
#
# Exits non-zero on any failure. Reports go to target/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
PORT=${SCHEMATHESIS_PORT:-18080}
SEED=${SCHEMATHESIS_SEED:-20261201}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-25}
out=target/schemathesis
venv=target/schemathesis-venv
mkdir -p "$out"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
binary=${CONDUIT_BINARY:-}
if [ -z "$binary" ]; then
  cargo build --quiet --release --locked --bin conduit
  binary=target/release/conduit
fi
binary=$(realpath "$binary")

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A secret of its own, so that no developer's .env is read, and logs kept for a failed run.
(cd "$work" && APP_ENV=development DATABASE_URL="sqlite://$work/conduit.db" BIND_ADDR="127.0.0.1:$PORT" \
  JWT_SECRET=schemathesis-secret-of-at-least-32-bytes RUST_LOG=warn \
  LOGIN_MAX_FAILURES=1000000 LOGIN_MAX_FAILURES_PER_ADDRESS=1000000 \
  exec "$binary") >"$out/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
  curl -sf "$base/health/ready" >/dev/null && break
  sleep 0.1
done
curl -sf "$base/health/ready" >/dev/null || { echo "the server did not start" >&2; cat "$out/server.log" >&2; exit 1; }

# An authenticated user, so that the operations behind authentication reach their logic, and an
# article and a profile for the operations that need one to exist.
token=$(curl -sf "$base/api/users" -H 'content-type: application/json' \
  -d '{"user":{"username":"schemathesis","email":"schemathesis@example.com","password":"a long enough passphrase"}}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["token"])')
curl -sf "$base/api/articles" -H 'content-type: application/json' -H "authorization: Token $token" \
  -d '{"article":{"title":"A first article","description":"About it","body":"Text","tagList":["dragons"]}}' >/dev/null

# Logout and logout-all would end the session the rest of the run authenticates with; the
# end-to-end suite covers them.
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$base/api/openapi.json" \
  --header "Authorization: Token $token" \
  --phases examples,coverage,fuzzing,stateful \
  --checks all \
  --seed "$SEED" --max-examples "$EXAMPLES" --generation-deterministic \
  --exclude-path /users/logout --exclude-path /users/logout-all \
  --workers 1 --no-color \
  --report junit --report-dir "$out"
