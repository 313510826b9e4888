#!/usr/bin/env bash
# docker-e2e.sh: build the tcup image and run it, for real, against a loopback devcloud.
#
#   1. start a container engine and the local base image (the shared container scripts);
#   2. docker build --network host --build-arg BASE_IMAGE=local/python:3.11 -t tcup:ci .
#   3. docker run --network none tcup:ci --self-check          (no cloud needed)
#   4. tcup devcloud up --services platform (host venv: Nova, Neutron and Cinder beside Swift), then
#      docker run --network host tcup:ci run --guideline 2020.06 --target object against it,
#      non-admin with the devcloud's accounts file, as the image's non-root user, with the guideline
#      files mounted read-only, and an upload to the collector (served from the host venv) when
#      webapp is importable: it must say YES and exit 0;
#   5. the same cloud, from the image: --target compute --environment devcloud (the servers,
#      volumes attached to them and networks of the fake hypervisor): YES and exit 0, with its two
#      environment exemptions named and the RefStack-compatible verdict NO beside tcup's;
#   6. check the outputs on the host (counts, no password in any file), stop what was started.
#
# Usage: scripts/docker-e2e.sh            (as root, like the container scripts)
# Env:   TCUP_CONTAINER_TOOLS  the container scripts (default: ../shared/tools/container)
#        TCUP_INTEROP_DIR      guideline files (default: ../shared/interop)
#        TCUP_E2E_PORT_BASE    devcloud ports (default 28000; below the ephemeral range)
#        TCUP_E2E_CAPABILITIES capability globs of the object run (default: none, the whole object target)
#        TCUP_E2E_COMPUTE      0 to skip the compute-target run (default 1)
#        TCUP_E2E_DEVCLOUD_DIR a platform devcloud that already runs there: used as is, never stopped
#        PYTHON                host interpreter with tcup installed (default .venv/bin/python)
# Exit:  0 passed; 1 failed; 0 with a "SKIP" line when ../shared is absent (nothing to build with).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SHARED=$(cd "$ROOT/.." && pwd)/shared
TOOLS=${TCUP_CONTAINER_TOOLS:-$SHARED/tools/container}
INTEROP=${TCUP_INTEROP_DIR:-$SHARED/interop}
PORT_BASE=${TCUP_E2E_PORT_BASE:-28000}
CAPS=${TCUP_E2E_CAPABILITIES:-}
COMPUTE=${TCUP_E2E_COMPUTE:-1}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
IMAGE=tcup:ci

say() { echo "docker-e2e: $*"; }
die() { echo "docker-e2e: FAILED: $*" >&2; exit 1; }
# shellcheck source=scripts/lib/engine.sh
. "$ROOT/scripts/lib/engine.sh"

if [[ ! -d "$SHARED" && -z "${TCUP_CONTAINER_TOOLS:-}" ]]; then
    say "SKIP: $SHARED is absent (container scripts and guideline files live there); set TCUP_CONTAINER_TOOLS and TCUP_INTEROP_DIR"
    exit 0
fi
[[ -f "$TOOLS/engine-up.sh" ]] || die "no engine-up.sh in $TOOLS (set TCUP_CONTAINER_TOOLS)"
[[ -f "$INTEROP/2020.06.json" ]] || die "no 2020.06.json in $INTEROP (set TCUP_INTEROP_DIR)"
[[ -x "$PYTHON" ]] || die "$PYTHON not found: run scripts/bootstrap first, or set PYTHON"
[[ $(id -u) == 0 ]] || die "run as root (the container engine scripts need it)"

WORK=$(mktemp -d /tmp/tcup-docker-e2e.XXXXXX)
DEVCLOUD=${TCUP_E2E_DEVCLOUD_DIR:-$WORK/devcloud}
OWN_DEVCLOUD=$([[ -n "${TCUP_E2E_DEVCLOUD_DIR:-}" ]] && echo 0 || echo 1)
COLLECTOR_PID=""
cleanup() {
    set +e
    [[ -n "$COLLECTOR_PID" ]] && kill "$COLLECTOR_PID" 2>/dev/null && wait "$COLLECTOR_PID" 2>/dev/null
    ((OWN_DEVCLOUD)) && [[ -d "$DEVCLOUD" ]] && "$PYTHON" -m tcup devcloud down --dir "$DEVCLOUD" >/dev/null 2>&1
    engine_down
    rm -rf "$WORK"
}
trap cleanup EXIT

# -- 1. engine and base image ----------------------------------------------------------------
t0=$SECONDS
engine_up
say "engine and base image ready in $((SECONDS - t0)) s"

# -- 2. build ----------------------------------------------------------------------------------
t0=$SECONDS
docker build --network host --build-arg BASE_IMAGE=local/python:3.11 -t "$IMAGE" . >"$WORK/build.log" 2>&1 \
    || { tail -n 40 "$WORK/build.log"; die "docker build failed"; }
say "image built in $((SECONDS - t0)) s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
[[ "$(docker run --rm --entrypoint id "$IMAGE" -u)" != 0 ]] || die "the image runs as root"
if docker run --rm --entrypoint python "$IMAGE" -c "import flask" >/dev/null 2>&1; then
    die "the image carries Flask (only the base package, the runner, belongs in it)"
fi

# -- 3. self-check without any network ---------------------------------------------------------
docker run --rm --network none "$IMAGE" --self-check || die "self-check failed in the image"
docker run --rm --network none --user 12345:12345 "$IMAGE" --self-check >/dev/null \
    || die "self-check failed as an arbitrary uid (docker run --user)"

# -- 4. a real run against the devcloud --------------------------------------------------------
t0=$SECONDS
if ((OWN_DEVCLOUD)); then
    # NOTE: one platform cloud serves both runs (it has Swift too): a second devcloud would cost more
    "$PYTHON" -m tcup devcloud up --services platform --dir "$DEVCLOUD" --port-base "$PORT_BASE" \
        >"$WORK/devcloud.log" 2>&1 || { tail -n 30 "$WORK/devcloud.log"; die "tcup devcloud up failed"; }
    say "platform devcloud up in $((SECONDS - t0)) s"
else
    "$PYTHON" -m tcup devcloud status --dir "$DEVCLOUD" >"$WORK/devcloud.log" 2>&1 \
        || { tail -n 30 "$WORK/devcloud.log"; die "the devcloud in $DEVCLOUD does not run"; }
    say "using the running devcloud in $DEVCLOUD"
fi
# The image's user (uid 1000) must read the accounts file (passwords: mode 0600, in $WORK only)
# and write the output folder.
install -m 0600 -o 1000 -g 1000 "$DEVCLOUD/etc/accounts.yaml" "$WORK/accounts.yaml"
install -d -m 0755 -o 1000 -g 1000 "$WORK/out"
set -a
# shellcheck disable=SC1091
. "$DEVCLOUD/etc/demo-openrc"
set +a

UPLOAD=()
if "$PYTHON" -c "import webapp, werkzeug" 2>/dev/null; then
    COLLECTOR_PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$PYTHON" - "$WORK/collector.sqlite" "$COLLECTOR_PORT" >"$WORK/collector.log" 2>&1 <<'EOF' &
import sys
from werkzeug.serving import make_server
from webapp import create_app
app = create_app({"DATABASE_URL": f"sqlite:///{sys.argv[1]}"})
make_server("127.0.0.1", int(sys.argv[2]), app, threaded=True).serve_forever()
EOF
    COLLECTOR_PID=$!
    COLLECTOR_URL="http://127.0.0.1:$COLLECTOR_PORT"
    for _ in $(seq 100); do
        "$PYTHON" -c "import requests, sys; requests.get(sys.argv[1] + '/v1/results', timeout=2)" "$COLLECTOR_URL" \
            2>/dev/null && break
        sleep 0.2
    done
    UPLOAD=(--upload "$COLLECTOR_URL" -y)
    say "collector on $COLLECTOR_URL"
else
    say "webapp is not importable here: the run is not uploaded"
fi

SELECT=()
for cap in $CAPS; do SELECT+=(-c "$cap"); done
t0=$SECONDS
set +e
docker run --rm --network host \
    -e OS_AUTH_URL -e OS_USERNAME -e OS_PASSWORD -e OS_PROJECT_NAME -e OS_USER_DOMAIN_NAME \
    -e OS_PROJECT_DOMAIN_NAME -e OS_REGION_NAME -e OS_INTERFACE -e OS_IDENTITY_API_VERSION \
    -v "$INTEROP:/guidelines:ro" -v "$WORK/accounts.yaml:/run/tcup/accounts.yaml:ro" -v "$WORK/out:/out" \
    "$IMAGE" run --guideline 2020.06 --target object "${SELECT[@]}" \
    --accounts-file /run/tcup/accounts.yaml --output /out --no-progress "${UPLOAD[@]}" \
    >"$WORK/run.out" 2>"$WORK/run.log"
rc=$?
set -e
cat "$WORK/run.out"
case $rc in
    0) say "tcup run --target object in the container: compliant in $((SECONDS - t0)) s" ;;
    1) tail -n 40 "$WORK/run.log"; die "tcup run --target object: not compliant (exit status 1)" ;;
    *) tail -n 40 "$WORK/run.log"; die "tcup run could not run (exit status $rc)" ;;
esac
grep -q "^Verdict: YES" "$WORK/run.out" || die "the report on stdout does not say 'Verdict: YES'"

# the clouds.yaml variant of the README, as an arbitrary uid (the file is that user's, mode 0600)
install -d -m 0700 -o 4242 -g 4242 "$WORK/cfg" "$WORK/out-clouds"
install -m 0600 -o 4242 -g 4242 "$DEVCLOUD/etc/clouds.yaml" "$WORK/cfg/clouds.yaml"
install -m 0600 -o 4242 -g 4242 "$DEVCLOUD/etc/accounts.yaml" "$WORK/cfg/accounts.yaml"
docker run --rm --network host --user 4242:4242 -e OS_CLOUD=devcloud \
    -v "$WORK/cfg/clouds.yaml:/etc/openstack/clouds.yaml:ro" -v "$WORK/cfg/accounts.yaml:/run/tcup/accounts.yaml:ro" \
    -v "$INTEROP:/guidelines:ro" -v "$WORK/out-clouds:/out" \
    "$IMAGE" run --guideline 2020.06 -c identity-v3-tokens-create --accounts-file /run/tcup/accounts.yaml \
    --output /out --no-progress >"$WORK/run-clouds.log" 2>&1 \
    || { tail -n 30 "$WORK/run-clouds.log"; die "the clouds.yaml variant failed"; }
grep -q '"success": 1,' "$WORK/out-clouds/summary.json" || die "the clouds.yaml variant did not pass its test"
say "clouds.yaml variant as uid 4242: passed"

# -- 5. the compute target, from the image, against the same cloud ------------------------------
if ((COMPUTE)); then
    install -d -m 0755 -o 1000 -g 1000 "$WORK/out-compute"
    t0=$SECONDS
    set +e
    docker run --rm --network host \
        -e OS_AUTH_URL -e OS_USERNAME -e OS_PASSWORD -e OS_PROJECT_NAME -e OS_USER_DOMAIN_NAME \
        -e OS_PROJECT_DOMAIN_NAME -e OS_REGION_NAME -e OS_INTERFACE -e OS_IDENTITY_API_VERSION \
        -v "$INTEROP:/guidelines:ro" -v "$WORK/accounts.yaml:/run/tcup/accounts.yaml:ro" -v "$WORK/out-compute:/out" \
        "$IMAGE" run --guideline 2020.06 --target compute --environment devcloud \
        --accounts-file /run/tcup/accounts.yaml --output /out --no-progress \
        >"$WORK/run-compute.out" 2>"$WORK/run-compute.log"
    rc=$?
    set -e
    grep -E "^(Verdict|RefStack-compatible verdict):" "$WORK/run-compute.out" || true
    case $rc in
        0) say "tcup run --target compute in the container: compliant in $((SECONDS - t0)) s" ;;
        1) tail -n 60 "$WORK/run-compute.out"; die "tcup run --target compute: not compliant (exit status 1)" ;;
        *) tail -n 40 "$WORK/run-compute.log"; die "tcup run --target compute could not run (exit status $rc)" ;;
    esac
    grep -q "^Verdict: YES" "$WORK/run-compute.out" || die "the compute report does not say 'Verdict: YES'"
    "$PYTHON" - "$WORK/out-compute" <<'EOF' || die "the compute outputs are wrong"
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
summary = json.loads((out / "summary.json").read_text())
print(f"docker-e2e: compute: {summary['selected_tests']} tests: {summary['counts']}")
(report,) = json.loads((out / "compliance.json").read_text())["reports"]
assert report["target"] == "compute", report["target"]
assert report["verdicts"] == {"tcup": "YES", "refstack": "NO", "differ": True}, report["verdicts"]
states = report["required_states"]
assert all(states[s] == 0 for s in ("failed", "skipped", "needs-accounts", "missing", "not-run")), states
assert states["exempted"] == 2 and states["passed"] > 200, states
assert {(e["kind"], e["environment"]) for e in report["exemptions"]} == {("environment", "devcloud")}
EOF
fi

# -- 6. check the outputs ----------------------------------------------------------------------
"$PYTHON" - "$WORK/out" "$OS_PASSWORD" "${COLLECTOR_URL:-}" <<'EOF' || die "the outputs are wrong"
import json, pathlib, re, sys
import requests
out, password, collector = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
summary = json.loads((out / "summary.json").read_text())
counts = summary["counts"]
print(f"docker-e2e: {summary['selected_tests']} tests: {counts}")
assert summary["selected_tests"] > 0 and not summary["interrupted"], summary
assert counts["success"] >= summary["selected_tests"] - 1 and counts["fail"] == 0, counts
assert summary["tempest_version"] == "47.0.0", summary["tempest_version"]
(report,) = json.loads((out / "compliance.json").read_text())["reports"]
assert report["target"] == "object" and report["verdicts"]["tcup"] == "YES", report["verdicts"]
assert all(report["required_states"][s] == 0 for s in ("failed", "skipped", "needs-accounts", "missing")), report[
    "required_states"
]
for path in out.rglob("*"):
    data = path.read_bytes() if path.is_file() else b""
    assert password.encode() not in data, f"the password is in {path}"
    assert not re.search(rb"gAAAAA[A-Za-z0-9_=-]{60,}", data), f"a Keystone token is in {path}"
v1 = json.loads((out / "refstack.json").read_text())
assert len(v1["results"]) == counts["success"]
if collector:
    listing = requests.get(f"{collector}/v1/results", timeout=10).json()
    assert len(listing["results"]) == 1, listing
    print(f"docker-e2e: uploaded as {listing['results'][0]['id']}")
EOF
say "PASSED"
