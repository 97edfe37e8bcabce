#!/bin/bash
# 10,000 create/remove cycles of a cluster directory and of a configuration
# file leave the daemon's RSS, open file descriptors and inotify watches where
# they were (after a warm-up of 200 cycles, so first-use allocations count in
# the baseline). Settle times are 0, so the daemon decides on every cycle.
. "$(dirname "$0")/lib.sh"

new_daemon_root
printf 'settle_ms: 0\nconfig_settle_ms: 0\n' >"$R/etc/patroni/patroni-debiand.yml"
old_cluster 15 steady 5432
start_daemon

resources() { # RSS (KiB), open fds, inotify watches
        local rss fds watches=0 f
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")
        fds=$(ls "/proc/$DPID/fd" | wc -l)
        for f in /proc/"$DPID"/fdinfo/*; do
                watches=$((watches + $(grep -c '^inotify wd:' "$f")))
        done
        echo "$rss $fds $watches"
}
cycles() { # N
        /usr/bin/python3 - "$R" "$1" <<'PY'
import os, shutil, sys
root, n = sys.argv[1], int(sys.argv[2])
c = os.path.join(root, "etc/postgresql/15/churn")
y = os.path.join(root, "etc/patroni/15-churny.yml")
for i in range(n):
    os.mkdir(c)
    with open(os.path.join(c, "postgresql.conf"), "w") as f:
        f.write("port = 5999\n")
    shutil.rmtree(c)
    with open(y, "w") as f:
        f.write("scope: x%d\n" % i)
    os.unlink(y)
PY
        # the daemon's own configuration for 15/churn, if it got to write one
        rm -f "$R/etc/patroni/15-churn.yml"
        quiet 1500
}

cycles 200
read -r rss0 fds0 w0 < <(resources)
cycles 10000
# A daemon slowed by a sanitizer may still be working through the queue: let it catch up.
for _ in $(seq 40); do
        read -r rss1 fds1 w1 < <(resources)
        [ "$w1" = "$w0" ] && [ "$fds1" = "$fds0" ] && break
        sleep 0.5
done
echo "# before: RSS $rss0 KiB, $fds0 fds, $w0 watches; after 10,000 cycles: RSS $rss1 KiB, $fds1 fds, $w1 watches"
echo "# the daemon acted $(count '^dry-run: ') times, generated $(count 'Generated /etc/patroni/15-churn.yml') configurations"
check "open file descriptors unchanged" "$fds0" "$fds1"
check "inotify watches unchanged" "$w0" "$w1"
if sanitized "$DAEMON"; then
        # ASan keeps freed memory in quarantine (256 MiB): RSS says nothing there. distcheck's plain build checks it.
        skip "RSS comparison under a sanitizer's allocator (measured on plain builds)"
else
        check "RSS grew by less than 1 MiB" "yes" "$([ $((rss1 - rss0)) -lt 1024 ] && echo yes || echo "no ($((rss1 - rss0)) KiB)")"
fi
check "the daemon still acts on the steady cluster's configuration" "yes" \
        "$(printf 'scope: z\n' >>"$R/etc/patroni/15-steady.yml"; wait_for 'dry-run: reload patroni@15-steady.service' 1 30 && echo yes)"
stop_daemon
finish
