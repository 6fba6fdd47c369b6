# A throwaway PostgreSQL server on loopback for examples/postgres_rotator, sourced by .ci/run:
#
#   source .ci/postgres.sh && start_postgres
#
# start_postgres installs PostgreSQL when this machine has none (Debian's package, as root), creates
# a cluster in a temporary directory, starts it on 127.0.0.1 only, waits until it accepts
# connections, exports ROTATION_TESTKIT_POSTGRES_DSN and ROTATION_TESTKIT_REQUIRE_POSTGRES=1, and
# sets an EXIT trap that stops the server and deletes the directory. Any failure ends the run with
# exit code 1 and says why.
#
# Authentication: the admin role `postgres` is trusted (it only creates and drops the test roles);
# every other role must give its password (scram-sha-256), so the tests prove that a rotation really
# changed the password the server checks.
#
# Settings: ROTATION_TESTKIT_POSTGRES_PORT (default 54329).

POSTGRES_PORT=${ROTATION_TESTKIT_POSTGRES_PORT:-54329}
POSTGRES_BIN=
POSTGRES_DIR=
POSTGRES_OS_USER=

postgres_fail() {
    echo "PostgreSQL: $*" >&2
    if [ -n "$POSTGRES_DIR" ] && [ -f "$POSTGRES_DIR/server.log" ]; then
        echo "---- last lines of the server log ($POSTGRES_DIR/server.log) ----" >&2
        tail -n 30 "$POSTGRES_DIR/server.log" >&2 || true
    fi
    exit 1
}

# The directory holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin.
find_postgres_bin() {
    local initdb dir
    if initdb=$(command -v initdb) && command -v pg_ctl >/dev/null; then
        dirname "$(readlink -f "$initdb")"
        return 0
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

install_postgres() {
    [ "$(id -u)" -eq 0 ] || postgres_fail "initdb and pg_ctl were not found, and installing PostgreSQL needs root. Install it (Debian: apt-get install postgresql) or put its bin directory on PATH."
    command -v apt-get >/dev/null || postgres_fail "initdb and pg_ctl were not found, and this machine has no apt-get to install PostgreSQL with."
    echo "initdb and pg_ctl not found: installing PostgreSQL with apt-get"
    # Only the binaries are needed: no cluster of the package's own, and no service started.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/rotation-testkit.conf
    DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
        postgres_fail "apt-get update failed."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql ||
        postgres_fail "apt-get install postgresql failed."
}

# Run a command as the server's owner: PostgreSQL refuses to run as root.
as_postgres() {
    if [ -n "$POSTGRES_OS_USER" ]; then
        (cd / && runuser -u "$POSTGRES_OS_USER" -- "$@")
    else
        "$@"
    fi
}

stop_postgres() {
    if [ -n "$POSTGRES_DIR" ] && [ -f "$POSTGRES_DIR/data/postmaster.pid" ]; then
        as_postgres "$POSTGRES_BIN/pg_ctl" -D "$POSTGRES_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            echo "PostgreSQL: could not stop the server in $POSTGRES_DIR" >&2
    fi
    [ -z "$POSTGRES_DIR" ] || rm -rf "$POSTGRES_DIR"
}

start_postgres() {
    POSTGRES_BIN=$(find_postgres_bin) || {
        install_postgres
        POSTGRES_BIN=$(find_postgres_bin) ||
            postgres_fail "PostgreSQL was installed but initdb and pg_ctl are still not found (looked on PATH and in /usr/lib/postgresql/*/bin)."
    }
    if [ "$(id -u)" -eq 0 ]; then
        POSTGRES_OS_USER=postgres
        id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres ||
            postgres_fail "could not create the 'postgres' OS user to run the server as."
    fi
    "$POSTGRES_BIN/postgres" --version

    POSTGRES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rotation-testkit-postgres.XXXXXX") ||
        postgres_fail "could not create a temporary directory."
    trap stop_postgres EXIT
    [ -z "$POSTGRES_OS_USER" ] || chown "$POSTGRES_OS_USER" "$POSTGRES_DIR" ||
        postgres_fail "could not give $POSTGRES_DIR to the '$POSTGRES_OS_USER' OS user."

    as_postgres "$POSTGRES_BIN/initdb" --pgdata="$POSTGRES_DIR/data" --username=postgres \
        --auth=trust --encoding=UTF8 --locale=C --no-sync >"$POSTGRES_DIR/initdb.log" 2>&1 || {
        cat "$POSTGRES_DIR/initdb.log" >&2
        postgres_fail "initdb failed."
    }
    # initdb trusted everyone; now only the admin role is trusted, every other role gives its password.
    as_postgres tee "$POSTGRES_DIR/data/pg_hba.conf" >/dev/null <<EOF
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 trust
host    all       postgres  127.0.0.1/32   trust
local   all       all                      scram-sha-256
host    all       all       127.0.0.1/32   scram-sha-256
EOF
    # Loopback only, on a fixed unusual port; durability is not needed for a throwaway cluster.
    as_postgres tee -a "$POSTGRES_DIR/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '$POSTGRES_DIR'
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    as_postgres "$POSTGRES_BIN/pg_ctl" --pgdata="$POSTGRES_DIR/data" --log="$POSTGRES_DIR/server.log" \
        --wait --timeout=60 start >/dev/null ||
        postgres_fail "the server did not start on 127.0.0.1:$POSTGRES_PORT (is the port taken? set ROTATION_TESTKIT_POSTGRES_PORT to another)."

    local attempt
    for attempt in $(seq 1 30); do
        if "$POSTGRES_BIN/pg_isready" --host=127.0.0.1 --port="$POSTGRES_PORT" --username=postgres \
            --dbname=postgres --timeout=2 >/dev/null; then
            break
        fi
        [ "$attempt" -lt 30 ] || postgres_fail "the server on 127.0.0.1:$POSTGRES_PORT did not accept connections within 30 seconds."
        sleep 1
    done

    export ROTATION_TESTKIT_POSTGRES_DSN="postgresql://postgres@127.0.0.1:$POSTGRES_PORT/postgres"
    export ROTATION_TESTKIT_REQUIRE_POSTGRES=1
    echo "PostgreSQL is up: ROTATION_TESTKIT_POSTGRES_DSN=$ROTATION_TESTKIT_POSTGRES_DSN"
}
