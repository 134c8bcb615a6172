#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and trials, from Debian's `postgresql` package.
#
#   scripts/postgres.sh start DIR     initdb a cluster in DIR (if new), start it on a free loopback
#                                     port, print its URL: postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/postgres.sh stop DIR      stop it (fast shutdown); DIR stays (rm -rf it yourself)
#   scripts/postgres.sh restart DIR   stop and start again on the same port (reconnect tests)
#   scripts/postgres.sh url DIR       print the URL of a started cluster
#
# Trust authentication, on 127.0.0.1 only; no Unix socket outside DIR. PostgreSQL refuses to run
# as root: as root, the cluster belongs to the `postgres` user and its commands run via runuser.
set -euo pipefail

usage() { echo "usage: $0 start|stop|restart|url DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
command="$1"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"

# The newest installed server version (Debian: /usr/lib/postgresql/<major>/bin).
bin="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "$0: no PostgreSQL server under /usr/lib/postgresql/*/bin; install Debian's postgresql package" >&2
    exit 1
fi

# As root, from `/`: the caller's working directory may be one the owner cannot enter (a clone in a
# `mktemp -d` directory is 0700 root), and the server's tools would then warn about it on the output
# that callers read the URL from.
as_owner() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Closes every descriptor above 2 that this shell inherited, so the server does not keep its
# caller's pipes open (a caller waiting for this script's end would wait for the server's).
close_inherited_fds() {
    local path fd
    for path in "/proc/$$/fd"/*; do
        fd=${path##*/}
        if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
}

url() { echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"; }

start() {
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
        cat >"$dir/data/pg_hba.conf" <<'EOF'
host all all 127.0.0.1/32 trust
EOF
        [ "$(id -u)" = 0 ] && chown postgres: "$dir/data/pg_hba.conf"
        free_port >"$dir/port"
    fi
    local port
    port="$(cat "$dir/port")"
    close_inherited_fds
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir/data' -c max_connections=300" \
        >/dev/null || { tail -20 "$dir/postgres.log" >&2; exit 1; }
    url
}

stop() {
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
}

case "$command" in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    url) url ;;
    *) usage ;;
esac
