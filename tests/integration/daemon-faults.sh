#!/bin/bash
# Faults while the daemon runs: disk full, read-only /etc/patroni, a FIFO or a
# directory where a configuration goes, SIGKILL in the middle of a write,
# 1,000 SIGHUPs in a second, 10,000 file events in a second. Each asserts what
# the daemon did, and that it still works afterwards.
. "$(dirname "$0")/lib.sh"

# still_works NAME: a new configuration is started within 5 s
n_works=0
still_works() {
        n_works=$((n_works + 1))
        printf 'scope: w%d\n' "$n_works" >"$R/etc/patroni/15-works$n_works.yml"
        if wait_for "dry-run: start patroni@15-works$n_works.service" 1 5; then ok "$1: the daemon still works"; else
                not_ok "$1: the daemon no longer acts: $(tail -3 "$LOG")"; fi
}
temps() { find "$1" -name '.*.tmp' | wc -l; }

# --- FIFO and directory where a configuration would go; a symlink to a real file ---
new_daemon_root
start_daemon
mkfifo "$R/etc/patroni/15-fifo.yml"
mkdir "$R/etc/patroni/15-dir.yml"
printf 'scope: elsewhere\n' >"$R/elsewhere.yml" && ln -s /elsewhere.yml "$R/etc/patroni/15-link.yml"
for c in fifo dir link; do mkdir -p "$R/etc/postgresql/15/$c"; echo "port = 54${#c}0" >"$R/etc/postgresql/15/$c/postgresql.conf"; done
wait_for 'refusing to replace it' 2 5
quiet 300
expect_count "FIFO at the config path: not read (no hang), said once" \
        '^patroni-debiand: warning: Cannot read /etc/patroni/15-fifo.yml: not a regular file; ignoring it until it changes.$' 1
expect_count "FIFO at the config path: not replaced" 'Cannot generate /etc/patroni/15-fifo.yml for 15/fifo: /etc/patroni/15-fifo.yml is not a regular file, refusing to replace it' 1
expect_count "directory at the config path: not replaced" 'Cannot generate /etc/patroni/15-dir.yml for 15/dir: /etc/patroni/15-dir.yml is a directory, refusing to replace it' 1
expect_count "an admin's symlink is the configuration: started, nothing generated" '^dry-run: start patroni@15-link.service' 1
check "the symlink's target is untouched" "scope: elsewhere" "$(cat "$R/elsewhere.yml")"
still_works "after FIFO, directory, symlink"

# --- 1,000 SIGHUPs in a second ---
for _ in $(seq 1000); do kill -HUP "$DPID"; done
quiet 1500
kill -0 "$DPID"; check "1,000 SIGHUPs: still running" "0" "$?"
check "1,000 SIGHUPs: reloads never restart or regenerate" "1" "$(count '^dry-run: start patroni@15-link.service')"
still_works "after 1,000 SIGHUPs"

# --- 10,000 file events in a second, in a cluster directory and in /etc/patroni ---
before=$(count '^dry-run: ')
/usr/bin/python3 - "$R/etc/postgresql/15/link" "$R/etc/patroni" <<'PY'
import os, sys, time
t = time.monotonic()
for d in sys.argv[1:]:
    for i in range(1700):  # create, close_write, delete: 3 events each, 5,100 per directory
        p = os.path.join(d, "junk%d" % i)
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o600))
        os.unlink(p)
print("# 10,200 events in %.2f s" % (time.monotonic() - t))
PY
quiet 1500
check "10,000 events on nothing that matters: no action" "$before" "$(count '^dry-run: ')"
still_works "after 10,000 events"
stop_daemon

# --- SIGKILL in the middle of a write: nothing partial; after a restart, no temporary file ---
if command -v strace >/dev/null; then
        new_daemon_root
        old_cluster 15 killed 5432
        (strace -f -o /dev/null -e inject=fsync:signal=KILL "$DAEMON" --root "$R" --print-units --log-target=stderr \
                2>"$LOG"; true) 2>/dev/null
        check "killed at the fsync of the first configuration: no configuration" "absent" \
                "$([ -e "$R/etc/patroni/15-killed.yml" ] && echo present || echo absent)"
        check "killed: its temporary file is there" "1" "$(temps "$R/etc/patroni")"
        start_daemon
        check "restarted: the temporary file is gone" "0" "$(temps "$R/etc/patroni")"
        expect_count "restarted: the configuration is written whole" 'Generated /etc/patroni/15-killed.yml' 1
        check "restarted: it parses" "15-killed" "$(yaml_get "$R/etc/patroni/15-killed.yml" "d['scope']")"
        stop_daemon
else
        skip "SIGKILL mid-write (strace not installed)"
fi

# --- disk full and read-only /etc/patroni, in a mount namespace of the daemon's own ---
if is_root; then
        new_daemon_root
        host_tls # made before: what fails here is the configuration's write
        cp -a "$R/etc/patroni" "$R/keep"
        printf '#!/bin/bash\nmount -t tmpfs -o size=64k tmpfs "%s/etc/patroni" && cp -a "%s/keep/." "%s/etc/patroni/" && exec "$@"\n' \
                "$R" "$R" "$R" >"$R/wrap"
        chmod +x "$R/wrap"
        DAEMON_WRAPPER="unshare -m --propagation private $R/wrap" start_daemon
        ns() { nsenter -t "$DPID" -m "$@"; }
        ns sh -c "head -c 1M /dev/zero >'$R/etc/patroni/fill' 2>/dev/null; true"
        mkdir -p "$R/etc/postgresql/15/full" && echo "port = 5450" >"$R/etc/postgresql/15/full/postgresql.conf"
        wait_for 'Cannot generate /etc/patroni/15-full.yml' 1 5
        expect_count "disk full: said, with the file and the cause" \
                'Cannot generate /etc/patroni/15-full.yml for 15/full: cannot write /etc/patroni/15-full.yml: No space left on device. Will retry when the cluster or the settings change.' 1
        check "disk full: no configuration, no temporary file" "0 0" \
                "$(ns sh -c "ls '$R/etc/patroni' | grep -c 15-full; find '$R/etc/patroni' -name '.*.tmp' | wc -l" | tr '\n' ' ' | sed 's/ $//')"
        ns rm "$R/etc/patroni/fill"
        touch "$R/etc/postgresql/15/full/postgresql.conf"
        wait_for 'dry-run: start patroni@15-full.service' 1 5
        expect_count "space again and the cluster touched: generated and started" '^dry-run: start patroni@15-full.service' 1

        ns mount -o remount,ro "$R/etc/patroni"
        mkdir -p "$R/etc/postgresql/15/ro" && echo "port = 5451" >"$R/etc/postgresql/15/ro/postgresql.conf"
        wait_for 'Cannot generate /etc/patroni/15-ro.yml' 1 5
        expect_count "read-only: said" 'cannot write /etc/patroni/15-ro.yml: Read-only file system' 1
        ns mount -o remount,rw "$R/etc/patroni"
        touch "$R/etc/postgresql/15/ro/postgresql.conf"
        wait_for 'dry-run: start patroni@15-ro.service' 1 5
        expect_count "writable again: generated and started" '^dry-run: start patroni@15-ro.service' 1
        stop_daemon
else
        skip "disk full and read-only (needs root for a mount namespace)"
fi
# --- a handover whose mark cannot be written (read-only state directory): retried with backoff ---
if is_root; then
        new_daemon_root
        old_cluster 15 g 5460
        mkdir -p "$R/var/lib/postgresql/15/g" && echo 15 >"$R/var/lib/postgresql/15/g/PG_VERSION"
        echo "data_directory = '/var/lib/postgresql/15/g'" >>"$R/etc/postgresql/15/g/postgresql.conf"
        touch -d '1 hour ago' "$R/etc/postgresql/15/g/postgresql.conf"
        mkdir -p "$R/var/lib/patroni-debiand"
        printf '#!/bin/bash\nmount -t tmpfs tmpfs "%s/var/lib/patroni-debiand" && exec "$@"\n' "$R" >"$R/wrap"
        chmod +x "$R/wrap"
        DAEMON_WRAPPER="unshare -m --propagation private $R/wrap" start_daemon
        ns() { nsenter -t "$DPID" -m "$@"; }
        wait_for '^dry-run: start patroni-debiand-takeover@15-g.service' 1 5
        ns mount -o remount,ro "$R/var/lib/patroni-debiand"
        kill -HUP "$DPID"
        wait_for 'Cannot write /var/lib/patroni-debiand/takeover/15-g: Read-only file system; not starting' 1 5
        quiet 3500
        n=$(count 'Cannot write /var/lib/patroni-debiand/takeover/15-g')
        check "read-only state: the takeover unit not started, tried again with backoff (1 s, 2 s, ...)" "yes 1" \
                "$([ "$n" -ge 2 ] && [ "$n" -le 3 ] && echo yes || echo "no: $n tries") $(count '^dry-run: start patroni-debiand-takeover@15-g.service')"
        ns mount -o remount,rw "$R/var/lib/patroni-debiand"
        wait_for '^dry-run: start patroni-debiand-takeover@15-g.service' 2 10
        expect_count "writable again: the values written, the takeover unit started" \
                '^dry-run: start patroni-debiand-takeover@15-g.service' 2
        stop_daemon
else
        skip "read-only state directory (needs root for a mount namespace)"
fi
finish
