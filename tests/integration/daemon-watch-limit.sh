#!/bin/bash
# inotify watch limit reached: the failed inotify_add_watch is logged, retried
# with backoff, and once it succeeds a rescan brings the state right. The
# daemon runs as "nobody" so that only its own watches count against the
# per-user limit, which the test lowers and restores (even on failure). That
# limit is the whole machine's: the test holds the test lock exclusively, so
# no other test's daemon runs meanwhile.
PDD_TEST_LOCK=exclusive
. "$(dirname "$0")/lib.sh"

if ! is_root || ! id nobody >/dev/null 2>&1; then
        skip "watch limit (needs root to lower fs.inotify.max_user_watches)"
        finish
fi
limit=/proc/sys/fs/inotify/max_user_watches
saved=$(cat "$limit")
CLEANUP+=("echo $saved >$limit")

new_daemon_root
old_cluster 15 a 5432
old_cluster 15 b 5433
host_tls # env.conf's seed and the TLS files: nobody may not add to a root file
chown -R nobody:nogroup "$R"
chmod 755 "$R"

# /etc/patroni, /etc/postgresql and 15 fit; the two clusters do not: exactly two directories unwatchable
# (a count of two failures once read as -ENOENT, and the retry said every directory was watched).
echo 3 >"$limit"
LOG=$R/daemon.log
setpriv --reuid=nobody --regid=nogroup --clear-groups "$DAEMON" --root "$R" --print-units --log-target=stderr 2>"$LOG" &
DPID=$!
CLEANUP+=("kill -9 $DPID")
wait_for 'Watching [0-9]+ clusters' 1 10
wait_for 'Cannot watch /etc/postgresql/15/' 1 5
check "a failed add is logged with the retry time" "1" \
        "$(grep -cE '^patroni-debiand: warning: Cannot watch /etc/postgresql/15/[ab]: No space left on device, will retry in 1s.$' "$LOG")"
expect_count "the clusters are still handled from the scan" '^dry-run: start patroni@15-(a|b).service' 2
wait_for 'will retry in 2s' 1 10 # the first retry, which fails again
check "while the limit holds, the retry does not say all is watched, and backs off" "0 1" \
        "$(count 'Watching every directory again') $(count 'will retry in 2s')"

echo "$saved" >"$limit"
wait_for 'Watching every directory again' 1 70
expect_count "once possible, the watches are added" 'Watching every directory again' 1
mkdir -p "$R/etc/postgresql/15/a/conf.d"; chown nobody:nogroup "$R/etc/postgresql/15/a/conf.d"
rm "$R/etc/patroni/15-a.yml"
mkdir -p "$R/etc/postgresql/15/d"; echo "port = 5440" >"$R/etc/postgresql/15/d/postgresql.conf"; chown -R nobody:nogroup "$R/etc/postgresql/15/d"
wait_for 'dry-run: start patroni@15-d.service' 1 5
wait_for 'dry-run: stop patroni@15-a.service' 1 5
expect_count "and events are seen again" '^dry-run: start patroni@15-d.service' 1
expect_count "removing a config still stops its unit" '^dry-run: stop patroni@15-a.service' 1
stop_daemon
finish
