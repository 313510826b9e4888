#!/usr/bin/env bash
# compose-e2e.sh: bring up compose.yaml (PostgreSQL and the collector service, built from the
# local base images), upload a recorded run with `tcup upload`, read it back, take it down.
#
#   1. start a container engine and the local base images (the shared container scripts);
#   2. docker-compose build (BASE_IMAGE=local/python:3.11, PG_BASE_IMAGE=local/debian:bookworm);
#      the service image runs as a non-root user and carries no Tempest;
#   3. docker-compose up -d: db, then the one-off migrate, then server; wait for /readyz;
#   4. tcup upload tests/data/recorded-run/refstack.json (host venv), then GET it back and
#      compare every passed test; /healthz, /metrics; restart the server: the run is still there;
#   5. docker-compose down -v; print both images' sizes.
#
# Usage: scripts/compose-e2e.sh            (as root, like the container scripts)
# Env:   TCUP_CONTAINER_TOOLS  the container scripts (default: ../shared/tools/container)
#        PYTHON                host interpreter with tcup installed (default .venv/bin/python)
# Exit:  0 passed; 1 failed; 0 with a "SKIP" line when ../shared is absent (nothing to build with).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SHARED=$(cd "$ROOT/.." && pwd)/shared
TOOLS=${TCUP_CONTAINER_TOOLS:-$SHARED/tools/container}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
RUN_FILE=$ROOT/tests/data/recorded-run/refstack.json

say() { echo "compose-e2e: $*"; }
die() { echo "compose-e2e: FAILED: $*" >&2; exit 1; }
# shellcheck source=scripts/lib/engine.sh
. "$ROOT/scripts/lib/engine.sh"

if [[ ! -d "$SHARED" && -z "${TCUP_CONTAINER_TOOLS:-}" ]]; then
    say "SKIP: $SHARED is absent (the container scripts live there); set TCUP_CONTAINER_TOOLS"
    exit 0
fi
[[ -f "$TOOLS/engine-up.sh" ]] || die "no engine-up.sh in $TOOLS (set TCUP_CONTAINER_TOOLS)"
[[ -x "$PYTHON" ]] || die "$PYTHON not found: run scripts/bootstrap first, or set PYTHON"
[[ $(id -u) == 0 ]] || die "run as root (the container engine scripts need it)"
command -v docker-compose >/dev/null || die "docker-compose is not installed (scripts/bootstrap installs it: scripts/apt-packages.txt)"

WORK=$(mktemp -d /tmp/tcup-compose-e2e.XXXXXX)
PROJECT=tcup-e2e-$$
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export BASE_IMAGE=local/python:3.11 PG_BASE_IMAGE=local/debian:bookworm TCUP_HOST_PORT=127.0.0.1:$PORT
POSTGRES_PASSWORD=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(18))')
export POSTGRES_PASSWORD
URL=http://127.0.0.1:$PORT
compose() { docker-compose -p "$PROJECT" -f "$ROOT/compose.yaml" "$@"; }
UP=0
cleanup() {
    set +e
    if ((UP)); then
        compose logs --no-color >"$WORK/compose.log" 2>&1
        compose down -v --remove-orphans >/dev/null 2>&1
    fi
    engine_down
    rm -rf "$WORK"
}
trap cleanup EXIT

# -- 1. engine and base images ---------------------------------------------------------------
t0=$SECONDS
engine_up
say "engine and base images ready in $((SECONDS - t0)) s"

# -- 2. build ----------------------------------------------------------------------------------
t0=$SECONDS
compose build >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log"; die "docker-compose build failed"; }
say "images built in $((SECONDS - t0)) s"
[[ "$(docker run --rm --entrypoint id tcup-server:local -u)" != 0 ]] || die "the service image runs as root"
[[ "$(docker run --rm --entrypoint id tcup-postgres:local -u)" != 0 ]] || die "the postgres image runs as root"
if docker run --rm --entrypoint python tcup-server:local -c "import tempest" >/dev/null 2>&1; then
    die "the service image carries Tempest"
fi

# -- 3. up -----------------------------------------------------------------------------------
t0=$SECONDS
UP=1
compose up -d >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log"; compose logs --no-color | tail -n 40; die "docker-compose up failed"; }
ready() { "$PYTHON" -c 'import sys, requests; sys.exit(requests.get(sys.argv[1], timeout=3).status_code != 200)' "$1" 2>/dev/null; }
for _ in $(seq 120); do ready "$URL/readyz" && break; sleep 1; done
ready "$URL/readyz" || { compose logs --no-color | tail -n 60; die "the service is not ready on $URL/readyz"; }
say "stack up and ready in $((SECONDS - t0)) s on $URL"
[[ "$(compose ps -q migrate | xargs docker inspect -f '{{.State.ExitCode}}')" == 0 ]] || die "the migrate container failed"

# -- 4. upload a recorded run and read it back -------------------------------------------------
"$PYTHON" -m tcup upload "$RUN_FILE" --server "$URL" >"$WORK/upload.log" 2>&1 || { cat "$WORK/upload.log"; die "tcup upload failed"; }
cat "$WORK/upload.log"
"$PYTHON" - "$URL" "$RUN_FILE" "$POSTGRES_PASSWORD" <<'EOF' || die "the run does not read back as uploaded"
import json, sys
import requests
url, run_file, password = sys.argv[1], sys.argv[2], sys.argv[3]
sent = json.load(open(run_file))
listing = requests.get(f"{url}/v1/results", timeout=10).json()
assert len(listing["results"]) == 1, listing
run_id = listing["results"][0]["id"]
got = requests.get(f"{url}/v1/results/{run_id}", timeout=10).json()
assert sorted(got["results"]) == sorted(r["name"] for r in sent["results"]), "the passed tests differ"
assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
metrics = requests.get(f"{url}/metrics", timeout=5).text
assert "tcup_uploads_total" in metrics and 'outcome="accepted"' in metrics, metrics[:2000]
assert password not in metrics
print(f"compose-e2e: run {run_id}: {len(got['results'])} passed tests read back as sent")
EOF
compose restart server >/dev/null 2>&1 || die "docker-compose restart failed"
for _ in $(seq 60); do ready "$URL/readyz" && break; sleep 1; done
n=$("$PYTHON" -c 'import sys, requests; print(len(requests.get(sys.argv[1] + "/v1/results", timeout=10).json()["results"]))' "$URL")
[[ $n == 1 ]] || die "after a restart of the server the run list has $n runs"
compose logs --no-color >"$WORK/compose.log" 2>&1
! grep -qF "$POSTGRES_PASSWORD" "$WORK/compose.log" || die "the database password is in the logs"
grep -q '"request_id"' "$WORK/compose.log" || die "no structured request log in the server's output"
say "the run survives a restart of the server; no secret in the logs"

# -- 5. down, sizes ----------------------------------------------------------------------------
compose down -v --remove-orphans >/dev/null 2>&1 || die "docker-compose down failed"
UP=0
size() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1e6}'; }
say "image sizes: tcup-server:local $(size tcup-server:local), tcup-postgres:local $(size tcup-postgres:local)"
say "PASSED"
