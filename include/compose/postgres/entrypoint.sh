#!/bin/sh
# First start: create the cluster in $PGDATA with POSTGRES_USER (password POSTGRES_PASSWORD)
# and the database POSTGRES_DB; password logins from any address. Then run Postgres in front
# as the postgres user (setpriv execs, so signals reach the server directly).
set -eu

: "${POSTGRES_USER:=airflow}"
: "${POSTGRES_DB:=airflow}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 0700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "handoff-postgres: creating the cluster in $PGDATA"
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    chown postgres "$pwfile"
    as_postgres "$BIN/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" \
        -E UTF8 --no-locale --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    # As postgres, who owns the file: root has no DAC_OVERRIDE here (compose drops it).
    as_postgres sh -c 'echo "host all all all scram-sha-256" >>"$1"' sh "$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\";" |
            as_postgres "$BIN/postgres" --single -D "$PGDATA" postgres >/dev/null
    fi
fi

exec setpriv --reuid=postgres --regid=postgres --init-groups \
    "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*' -c max_connections=200
