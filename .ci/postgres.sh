#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the store tests and print the shell lines that point
# the tests at it:
#
#   eval "$(bash .ci/postgres.sh)"      # exports SWEEPNB_TEST_POSTGRES=postgresql://user:pass@127.0.0.1:PORT/db
#   bash .ci/postgres.sh --stop         # stops it again and removes its files
#
# Installs Debian's postgresql when no initdb is found. The cluster lives in a temp dir owned by
# the `postgres` user (PostgreSQL refuses to run as root), listens on 127.0.0.1 on a free port,
# and has a database and a user with a password (password auth over TCP, like a real server).
# Everything but the export lines goes to stderr. With SWEEPNB_PG_WATCH_PID=PID set, the cluster
# also stops by itself once process PID has exited (the pytest fixture uses this).
set -euo pipefail

STATE_FILE="${TMPDIR:-/tmp}/sweepnb-postgres.current"

log() { echo "postgres.sh: $*" >&2; }

as_owner() {
    # run a command as the cluster owner: `postgres` when we are root, else ourselves
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

find_bin() {
    local initdb
    initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$initdb" ] && dirname "$initdb"
}

install_postgres() {
    log "no PostgreSQL binaries found; installing Debian's postgresql"
    if [ "$(id -u)" != 0 ]; then
        log "cannot install PostgreSQL without root"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y postgresql >&2 || { apt-get update >&2 && apt-get install -y postgresql >&2; }
}

stop_cluster() {
    local dir="${1:-${SWEEPNB_TEST_POSTGRES_DIR:-}}"
    if [ -z "$dir" ] && [ -f "$STATE_FILE" ]; then
        dir=$(cat "$STATE_FILE")
    fi
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
        log "no cluster to stop"
        return 0
    fi
    local bin
    bin=$(find_bin)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    if [ -f "$STATE_FILE" ] && [ "$(cat "$STATE_FILE")" = "$dir" ]; then
        rm -f "$STATE_FILE"
    fi
    log "stopped and removed $dir"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_cluster() {
    local bin dir port password
    bin=$(find_bin) || true
    if [ -z "${bin:-}" ]; then
        install_postgres
        bin=$(find_bin)
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/sweepnb-pg.XXXXXX")
    chmod 755 "$dir"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
        chown postgres: "$dir"
    fi
    port=$(free_port)
    password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')

    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
        start >&2 || { cat "$dir/server.log" >&2; exit 1; }

    as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >&2 <<SQL
CREATE USER sweepnb WITH PASSWORD '$password' CREATEDB;
CREATE DATABASE sweepnb OWNER sweepnb;
SQL
    if [ -n "${SWEEPNB_PG_WATCH_PID:-}" ]; then
        # stop the cluster once that process (e.g. a pytest session) is gone, even if killed
        setsid bash -c "while kill -0 $SWEEPNB_PG_WATCH_PID 2>/dev/null; do sleep 2; done; \
            exec bash '$0' --stop '$dir'" </dev/null >/dev/null 2>&1 &
    fi
    echo "$dir" >"$STATE_FILE"
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (files in $dir)"
    echo "export SWEEPNB_TEST_POSTGRES=postgresql://sweepnb:$password@127.0.0.1:$port/sweepnb"
    echo "export SWEEPNB_TEST_POSTGRES_DIR=$dir"
}

case "${1:-}" in
    --stop) stop_cluster "${2:-}" ;;
    "") start_cluster ;;
    *) log "usage: postgres.sh [--stop [DIR]]"; exit 2 ;;
esac
