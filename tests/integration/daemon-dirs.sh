#!/bin/bash
# Directories that do not exist at start-up, or go away and come back; an
# overflowing inotify queue; SIGHUP with broken and fixed settings.
. "$(dirname "$0")/lib.sh"

# --- /etc/patroni and /etc/postgresql created after start, removed, recreated ---
R=$(mktemp -d "${TMPDIR:-/tmp}/pdd-int-XXXXXX"); CLEANUP+=("rm -rf '$R'"); LOG=$R/daemon.log
mkdir -p "$R/etc/default" "$R/usr/lib/postgresql/15/bin"
printf 'DCS_TYPE=etcd3\nDCS_HOSTS=127.0.0.1:2379\n' >"$R/etc/default/patroni"
mkdir -p "$R/srv" && cp "$TEMPLATE" "$R/srv/config.yml.in" # template: names a file on the host, below --root
printf 'template: /srv/config.yml.in\nsettle_ms: 300\nconfig_settle_ms: 100\nremoval_settle_ms: 500\n' >"$R/etc/pdd.yml"
start_daemon --config /etc/pdd.yml
expect_count "starts with neither directory" 'Watching 0 clusters and 0 configurations' 1

mkdir "$R/etc/patroni"; sleep 0.2
printf 'scope: x\n' >"$R/etc/patroni/15-a.yml"
check "/etc/patroni created after start: picked up" "0" "$(wait_for 'dry-run: start patroni@15-a.service' 1 5; echo $?)"

mkdir -p "$R/etc/postgresql/15/b"; echo "port = 5433" >"$R/etc/postgresql/15/b/postgresql.conf"
check "/etc/postgresql created after start: the cluster is found and generated" "0" \
        "$(wait_for 'dry-run: start patroni@15-b.service' 1 5; echo $?)"
check "its configuration is in /etc/patroni" "yes" "$([ -f "$R/etc/patroni/15-b.yml" ] && echo yes)"

mv "$R/etc/patroni" "$R/etc/patroni.old"
wait_for 'dry-run: stop patroni@15-b.service' 1 5
expect_count "/etc/patroni moved away: its configurations' units stop" '^dry-run: stop patroni@15-(a|b).service' 2
echo "port = 5436" >"$R/etc/postgresql/15/b/postgresql.conf.new" && rm "$R/etc/postgresql/15/b/postgresql.conf.new"
mkdir -p "$R/etc/postgresql/15/d"; echo "port = 5437" >"$R/etc/postgresql/15/d/postgresql.conf"
wait_for '15/d' 1 5; quiet 600
check "/etc/patroni moved away: not made again, nothing regenerated" "absent 1" \
        "$([ -e "$R/etc/patroni" ] && echo present || echo absent) $(count 'Generated /etc/patroni/15-b.yml')"
expect_count "... and said why, once (and once at start-up)" '/etc/patroni does not exist: nothing is generated' 2
mkdir "$R/etc/patroni"; sleep 0.2
printf 'scope: c\n' >"$R/etc/patroni/15-c.yml"
check "/etc/patroni recreated: watched again" "0" "$(wait_for 'dry-run: start patroni@15-c.service' 1 5; echo $?)"
wait_for 'dry-run: start patroni@15-d.service' 1 5
expect_count "... a cluster made while it was away is generated now" '^dry-run: start patroni@15-d.service' 1
check "... the admin's removed configuration of an unchanged cluster is not" "absent 1" \
        "$([ -e "$R/etc/patroni/15-b.yml" ] && echo present || echo absent) $(count 'Generated /etc/patroni/15-b.yml')"
stop_daemon

# --- overflow: the daemon is stopped while far more events than the queue holds happen ---
new_daemon_root
old_cluster 15 busy 5432
printf 'scope: x\n' >"$R/etc/patroni/15-gone.yml"
start_daemon
wait_for 'dry-run: start patroni@15-gone.service' 1 5
max=$(cat /proc/sys/fs/inotify/max_queued_events)
kill -STOP "$DPID"
/usr/bin/python3 - "$R/etc/postgresql/15/busy" "$max" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n // 3 + 1000):  # create, close_write, delete: 3 events each
    p = os.path.join(d, "f%d" % i)
    os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o600))
    os.unlink(p)
PY
printf 'scope: y\n' >"$R/etc/patroni/15-new.yml"
rm "$R/etc/patroni/15-gone.yml"
mkdir -p "$R/etc/postgresql/15/fresh"; echo "port = 5440" >"$R/etc/postgresql/15/fresh/postgresql.conf"
touch -d '1 hour ago' "$R/etc/postgresql/15/fresh/postgresql.conf"
mkdir -p "$R/etc/postgresql/16/late" "$R/usr/lib/postgresql/16/bin" # watched only if the rescan adds watches
kill -CONT "$DPID"
wait_for 'Rescanning: the inotify queue overflowed' 1 10
wait_for 'dry-run: start patroni@15-fresh.service' 1 10
quiet 500
expect_count "overflow: a rescan" 'Rescanning: the inotify queue overflowed' 1
expect_count "overflow: the new configuration is started" '^dry-run: start patroni@15-new.service' 1
expect_count "overflow: the removed one is stopped" '^dry-run: stop patroni@15-gone.service' 1
expect_count "overflow: the new cluster is generated and started" '^dry-run: start patroni@15-fresh.service' 1
expect_count "overflow: nothing twice" '^dry-run: start patroni@15-busy.service' 1
echo "port = 5441" >"$R/etc/postgresql/16/late/postgresql.conf"
wait_for 'dry-run: start patroni@16-late.service' 1 5
expect_count "overflow: directories made during it are watched from then on" '^dry-run: start patroni@16-late.service' 1
stop_daemon

# --- SIGHUP: all or nothing ---
new_daemon_root
start_daemon
S=$R/etc/patroni/patroni-debiand.yml
printf 'settle_ms: 300\nconfig_settle_ms: 100\nsettle_ms: soon\n' >"$S"
kill -HUP "$DPID"
wait_for 'Invalid configuration' 1 5
expect_count "broken settings: rejected, saying why" \
        '^patroni-debiand: error: Invalid configuration, keeping the previous one: /etc/patroni/patroni-debiand.yml:3:1: settle_ms is set twice$' 1
printf 'settle_ms: 300\nconfig_settle_ms: 100\nexclude: ["15/skip*"]\n' >"$S"
printf 'scope: @NOPE@\n' >"$R/etc/patroni/config.yml.in.new"; mv "$R/etc/patroni/config.yml.in" "$R/config.yml.in.good"
mv "$R/etc/patroni/config.yml.in.new" "$R/etc/patroni/config.yml.in"
kill -HUP "$DPID"
wait_for 'Invalid configuration' 2 5
expect_count "broken template: the whole reload is rejected" 'Invalid configuration, keeping the previous one: /etc/patroni/config.yml.in:1: unknown placeholder @NOPE@' 1
kill -HUP "$DPID" # still broken: the old settings (no exclude) hold
wait_for 'Invalid configuration' 3 5
mkdir -p "$R/etc/postgresql/15/skipnot"; echo "port = 5434" >"$R/etc/postgresql/15/skipnot/postgresql.conf"
wait_for 'dry-run: start patroni@15-skipnot.service' 1 5
expect_count "old behaviour holds: a new cluster still generated with the old settle time" '^dry-run: start patroni@15-skipnot.service' 1
kill -0 "$DPID"; check "the daemon is still running" "0" "$?"
mv "$R/config.yml.in.good" "$R/etc/patroni/config.yml.in"
kill -HUP "$DPID"
wait_for 'Reloaded settings' 1 5
quiet 300
expect_count "fixed: reloaded" '^patroni-debiand: Reloaded settings from /etc/patroni/patroni-debiand.yml.$' 1
mkdir -p "$R/etc/postgresql/15/skipme"; echo "port = 5433" >"$R/etc/postgresql/15/skipme/postgresql.conf"
wait_for 'Leaving 15/skipme alone' 1 5
quiet 300
expect_count "the new exclude applies" 'Leaving 15/skipme alone' 1
expect_count "excluded: not generated" 'Generated /etc/patroni/15-skipme.yml' 0
expect_count "reload does not restart or regenerate what exists" '^dry-run: start patroni@15-skipnot.service' 1
stop_daemon
finish
