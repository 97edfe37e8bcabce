# shellcheck shell=bash
# Helpers for the daemon's integration tests: the real patroni-debiand on a
# root made with mktemp, real inotify, units in dry run (one "dry-run: VERB
# UNIT CLUSTER" line each on stderr, which these tests count).
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"
: "${DAEMON:?DAEMON must point at the patroni-debiand binary}"

DPID=
LOG=

# new_daemon_root [SETTINGS...]: a root with template, DCS, PostgreSQL 15 and short settle times.
new_daemon_root() {
        new_root
        LOG=$R/daemon.log
        printf 'settle_ms: 300\nconfig_settle_ms: 100\nremoval_settle_ms: 500\n' >"$R/etc/patroni/patroni-debiand.yml"
        for s in "$@"; do echo "$s" >>"$R/etc/patroni/patroni-debiand.yml"; done
}

# An existing cluster, settled long ago.
old_cluster() { # VERSION NAME PORT
        new_cluster "$R" "$1" "$2" "$3"
        touch -d '1 hour ago' "$R/etc/postgresql/$1/$2/postgresql.conf"
}

# old_clusters N FIRST_PORT [EVERY]: clusters 15/c0000... in $R, settled long ago, ports from
# FIRST_PORT; with EVERY, every EVERY-th one (from the first) has a configuration already.
old_clusters() {
        /usr/bin/python3 - "$R" "$1" "$2" "${3:-0}" <<'PY'
import os, sys, time
root, n, port, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
old = time.time() - 3600
for i in range(n):
    d = os.path.join(root, "etc/postgresql/15/c%04d" % i)
    os.makedirs(d)
    p = os.path.join(d, "postgresql.conf")
    with open(p, "w") as f:
        f.write("port = %d\n" % (port + i))
    os.utime(p, (old, old))
    if every and i % every == 0:
        with open(os.path.join(root, "etc/patroni/15-c%04d.yml" % i), "w") as f:
            f.write("scope: c%04d\n" % i)
PY
}

# DAEMON_WRAPPER, e.g. valgrind with --error-exitcode, runs the daemon under a checker.
launch_daemon() {
        # shellcheck disable=SC2086 # the wrapper is a command line
        ${DAEMON_WRAPPER:-} "$DAEMON" --root "$R" --print-units --log-target=stderr "$@" 2>"$LOG" &
        DPID=$!
        CLEANUP+=("kill -9 $DPID")
}
# start_daemon: launched, and through its start-up
start_daemon() {
        launch_daemon "$@"
        if ! wait_for 'Watching [0-9]+ clusters' 1 60; then
                not_ok "the daemon did not start: $(cat "$LOG")"
                finish
        fi
}

# Stop it, and check it exits cleanly with no sanitizer report (a crash or a leak fails here).
stop_daemon() {
        local rc
        kill -TERM "$DPID" 2>/dev/null
        wait "$DPID"
        rc=$?
        check "the daemon exits with status 0 on SIGTERM" "0" "$rc"
        check "no sanitizer report from the daemon" "0" "$(grep -cE 'Sanitizer|runtime error' "$LOG")"
        return "$rc"
}

# sanitized BINARY: built with a sanitizer, whose allocator keeps freed memory (gcc links ASan as a shared
# library, clang statically: look for the runtime's entry point in the binary itself, not at what ldd says).
sanitized() { grep -qaE '__(asan|tsan|msan|hwasan)_init' "$1"; }

# count PATTERN: lines of the daemon's stderr matching an extended regex
count() { grep -cE "$1" "$LOG"; }

# wait_for PATTERN N SECONDS: until at least N lines match
wait_for() {
        local end=$((SECONDS + $3))
        while [ "$SECONDS" -le "$end" ]; do
                [ "$(count "$1")" -ge "$2" ] && return 0
                sleep 0.05
        done
        return 1
}

# quiet MS: let timers and settling run out
quiet() { sleep "$(awk -v ms="$1" 'BEGIN { print ms / 1000 }')"; }

expect_count() { # NAME PATTERN N
        check "$1" "$3" "$(count "$2")"
}

# local_etcd_setup: free loopback ports and a directory for an etcd of the test's own; start_etcd starts it
# (again after a kill of $EPID, on the same data), ectl talks to it, EP is its URL, CPORT its client port.
local_etcd_setup() {
        read -r CPORT PPORT < <(/usr/bin/python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
        ETCD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pdd-etcd-XXXXXX")
        CLEANUP+=("rm -rf '$ETCD_DIR'")
        EP=http://127.0.0.1:$CPORT
        EPID=
}
start_etcd() {
        etcd --name t --data-dir "$ETCD_DIR/data" --listen-client-urls "$EP" --advertise-client-urls "$EP" \
                --listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
                --initial-cluster "t=http://127.0.0.1:$PPORT" >>"$ETCD_DIR/etcd.log" 2>&1 &
        EPID=$!
        CLEANUP+=("kill -9 $EPID")
        for _ in $(seq 100); do ectl endpoint health >/dev/null 2>&1 && return 0; sleep 0.1; done
        return 1
}
ectl() { ETCDCTL_API=3 etcdctl --endpoints="$EP" "$@"; }
