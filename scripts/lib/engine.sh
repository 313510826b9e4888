# engine.sh: sourced by the container end-to-end scripts (docker-e2e.sh, compose-e2e.sh).
#
# engine_up starts a container engine, or reuses one that already answers, then makes the local
# base images, with the shared container scripts in $TOOLS; logs go to $WORK. It sets
# ENGINE_STARTED=1 only when it started the engine itself, and engine_down stops only that one,
# so that parallel users of the same engine are not disturbed. The caller defines die().

ENGINE_STARTED=0

engine_up() {
    if ! { [[ -f /tmp/ctr/env.sh ]] && (. /tmp/ctr/env.sh && docker info >/dev/null 2>&1); }; then
        ENGINE_STARTED=1
    fi
    bash "$TOOLS/engine-up.sh" >"$WORK/engine.log" 2>&1 || { tail -n 20 "$WORK/engine.log"; die "engine-up.sh failed"; }
    # shellcheck disable=SC1091
    . "${CTR_ROOT:-/tmp/ctr}/env.sh"
    bash "$TOOLS/base-image.sh" >"$WORK/base.log" 2>&1 || { tail -n 20 "$WORK/base.log"; die "base-image.sh failed"; }
}

engine_down() {
    if ((ENGINE_STARTED)); then
        bash "$TOOLS/engine-down.sh" >/dev/null 2>&1
    fi
}
