#!/usr/bin/env bash
# PostgreSQL for the tests (issue 17), from Debian's packages.
#   postgres.sh            installs the server and openssl (does nothing when they are there)
#   postgres.sh start DIR  starts a throwaway cluster on loopback, TLS on with a test CA made
#                          now, and writes DIR/env: the URL and the CA files the tests use
#   postgres.sh start DIR durable
#                          the same with fsync on (bench/run): commits reach the disk within a
#                          moment, as with SQLite's synchronous = "normal"
#   postgres.sh stop DIR   stops it and removes its data
# The cluster runs as the unprivileged user `postgres` when started as root (the tests are),
# with fsync off: it lives for one test run.
set -euo pipefail

install() {
    if server_bin >/dev/null && command -v openssl >/dev/null; then
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql openssl >/dev/null
}

# The newest installed server's programs (initdb, pg_ctl, postgres, psql).
server_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

certificates() {
    local tls=$1
    mkdir -p "$tls"
    openssl_quiet() { openssl "$@" 2>/dev/null; }
    for ca in ca wrong-ca; do
        openssl_quiet req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -subj "/CN=adthread test $ca" -keyout "$tls/$ca.key" -out "$tls/$ca.crt"
    done
    openssl_quiet req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr"
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
        'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1' >"$tls/server.ext"
    openssl_quiet x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
        -CAcreateserial -days 2 -extfile "$tls/server.ext" -out "$tls/server.crt"
}

start() {
    local dir=$1 durable=${2:-} bin data port password fsync=off
    bin=$(server_bin) || { echo "postgres.sh: PostgreSQL is not installed; run it with no arguments first" >&2; exit 1; }
    [ "$durable" != durable ] || fsync=on
    stop "$dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # The data directory must be the owner's and reachable by it, which $dir may not be.
    data=$(mktemp -d /tmp/adthread-postgres.XXXXXX)
    echo "$data" >"$dir/data-directory"
    certificates "$dir/tls"
    cp "$dir/tls/server.crt" "$dir/tls/server.key" "$data/"
    chmod 600 "$data/server.key"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$data"
    as_owner "$bin/initdb" --no-sync --auth-local=peer --auth-host=scram-sha-256 \
        --username=postgres --encoding=UTF8 --locale=C.UTF-8 -D "$data/cluster" >/dev/null
    cat >>"$data/cluster/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$data'
ssl = on
ssl_cert_file = '$data/server.crt'
ssl_key_file = '$data/server.key'
fsync = $fsync
synchronous_commit = off
full_page_writes = $fsync
max_connections = 200
EOF
    # A random port; another one when it is taken.
    for _ in 1 2 3 4 5; do
        port=$(shuf -i 20000-59999 -n 1)
        if as_owner "$bin/pg_ctl" -D "$data/cluster" -o "-p $port" -l "$data/log" -w start >/dev/null; then
            break
        fi
        port=
    done
    if [ -z "$port" ]; then
        echo "postgres.sh: the cluster did not start:" >&2
        tail -n 20 "$data/log" >&2
        exit 1
    fi
    echo "$port" >"$dir/port"
    password=$(openssl rand -hex 16)
    as_owner "$bin/psql" -q -h "$data" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE adthread LOGIN CREATEDB PASSWORD '$password'" \
        -c "CREATE DATABASE adthread OWNER adthread" >/dev/null
    cat >"$dir/env" <<EOF
ADTHREAD_TEST_POSTGRES_URL=postgres://adthread:$password@127.0.0.1:$port/adthread
ADTHREAD_TEST_POSTGRES_CA=$dir/tls/ca.crt
ADTHREAD_TEST_POSTGRES_WRONG_CA=$dir/tls/wrong-ca.crt
EOF
}

stop() {
    local dir=$1 data
    [ -f "$dir/data-directory" ] || return 0
    data=$(cat "$dir/data-directory")
    if [ -d "$data/cluster" ]; then
        as_owner "$(server_bin)/pg_ctl" -D "$data/cluster" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$data" "$dir/env" "$dir/data-directory" "$dir/port" "$dir/tls"
}

case "${1:-install}" in
    install) install ;;
    start) start "${2:?usage: postgres.sh start DIR [durable]}" "${3:-}" ;;
    stop) stop "${2:?usage: postgres.sh stop DIR}" ;;
    *) echo "usage: postgres.sh [install | start DIR [durable] | stop DIR]" >&2; exit 2 ;;
esac
