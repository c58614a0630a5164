#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for Herald's tests, started from Debian's postgresql package
# (any version) without touching the system's own cluster or service.
#
#   eval "$(scripts/postgres_test_cluster.sh start)"   # exports HERALD_TEST_POSTGRES_URL and HERALD_TEST_POSTGRES_DIR
#   swift test
#   scripts/postgres_test_cluster.sh stop "$HERALD_TEST_POSTGRES_DIR"
#
# The cluster lives in a temporary folder, listens on 127.0.0.1 only (port $HERALD_TEST_POSTGRES_PORT, default
# 55432, or the next free one), runs as an unprivileged user (the invoking user, or `postgres` / a `herald-pg`
# user created for it when run as root), and trades durability for speed (fsync off): it is for tests only.
set -euo pipefail

command=${1:-}
case "$command" in
start | stop) ;;
*)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac

find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ]; then
            echo "$dir"
            return
        fi
    done
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return
    fi
    echo "PostgreSQL's server programs (initdb, pg_ctl) are not installed; on Debian: apt-get install postgresql" >&2
    exit 1
}

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$owner" = "$(id -un)" ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$owner" -- "$@"
    else
        su -s /bin/sh "$owner" -c "$(printf '%q ' "$@")"
    fi
}

if [ "$command" = stop ]; then
    dir=${2:?usage: $0 stop DIR}
    [ -d "$dir" ] || exit 0
    owner=$(stat -c %U "$dir")
    bindir=$(cat "$dir/bindir" 2>/dev/null || find_bindir)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    exit 0
fi

bindir=$(find_bindir)
owner=$(id -un)
if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: use the package's own user, or one made for this.
    if id postgres >/dev/null 2>&1; then
        owner=postgres
    else
        id herald-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin herald-pg
        owner=herald-pg
    fi
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/herald-pg.XXXXXX")
chmod 755 "$dir"
echo "$bindir" >"$dir/bindir"
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$password" >"$dir/pwfile"
chown -R "$owner" "$dir"
chmod 600 "$dir/pwfile"

port=${HERALD_TEST_POSTGRES_PORT:-55432}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
while port_in_use "$port"; do port=$((port + 1)); done

as_owner "$bindir/initdb" -D "$dir/data" -U herald --pwfile="$dir/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}
rm -f "$dir/pwfile"
# Many test engines run at once, each with its own pool: allow plenty of connections.
as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
    "-h 127.0.0.1 -p $port -k $dir -c max_connections=400 -c shared_buffers=128MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
}
as_owner "$bindir/createdb" -h "$dir" -p "$port" -U herald herald

echo "export HERALD_TEST_POSTGRES_URL='postgres://herald:$password@127.0.0.1:$port/herald?sslmode=disable'"
echo "export HERALD_TEST_POSTGRES_DIR='$dir'"
