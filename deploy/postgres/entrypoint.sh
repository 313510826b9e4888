#!/bin/sh
# First start: initdb, a password-protected role and database from POSTGRES_USER, POSTGRES_PASSWORD
# and POSTGRES_DB, scram-sha-256 from other hosts. Then run the server in the foreground.
set -eu
: "${POSTGRES_USER:=tcup}" "${POSTGRES_DB:=tcup}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "tcup-postgres: set POSTGRES_PASSWORD" >&2; exit 1; }
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$POSTGRES_DB" != postgres ]; then
        createdb -U "$POSTGRES_USER" "$POSTGRES_DB"
    fi
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "tcup-postgres: initialised $PGDATA (database $POSTGRES_DB, role $POSTGRES_USER)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
