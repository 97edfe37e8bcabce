#!/bin/bash
# Takeover decisions in dry run: a cluster that has data when its configuration
# is generated is marked, and handed over by the takeover unit, not patroni@.
. "$(dirname "$0")/lib.sh"

# with_data NAME PORT: a settled cluster whose data directory holds a database
with_data() {
        old_cluster 15 "$1" "$2"
        mkdir -p "$R/var/lib/postgresql/15/$1"
        echo 15 >"$R/var/lib/postgresql/15/$1/PG_VERSION"
        echo "data_directory = '/var/lib/postgresql/15/$1'" >>"$R/etc/postgresql/15/$1/postgresql.conf"
        touch -d '1 hour ago' "$R/etc/postgresql/15/$1/postgresql.conf"
}

# mark_values FILE: the mark's KEY=VALUE lines on one line (what the takeover unit gets as its environment)
mark_values() {
        grep '^TAKEOVER_' "$1" | tr '\n' ' ' | sed 's/ $//'
}

new_daemon_root
with_data gamma 5433
old_cluster 15 empty 5434 # no data directory known: a plain start
start_daemon
wait_for '^dry-run: start ' 2 5
quiet 300
expect_count "start-up, cluster with data: the takeover unit is started" \
        '^dry-run: start patroni-debiand-takeover@15-gamma.service 15/gamma$' 1
expect_count "start-up, cluster with data: not patroni@" '^dry-run: start patroni@15-gamma.service' 0
expect_count "start-up, cluster without data: patroni@ as before" '^dry-run: start patroni@15-empty.service 15/empty$' 1
check "the mark exists, root only" "600" "$(stat -c %a "$R/var/lib/patroni-debiand/takeover/15-gamma")"
check "the mark holds the values the daemon validated, for the helper" \
        "TAKEOVER_VERSION=15 TAKEOVER_NAME=gamma TAKEOVER_PATRONI_UNIT=patroni@15-gamma.service TAKEOVER_START_CONF=manual TAKEOVER_PORT=5433 TAKEOVER_CONFIG=/etc/patroni/15-gamma.yml" \
        "$(mark_values "$R/var/lib/patroni-debiand/takeover/15-gamma")"
check "its directory is root only" "700" "$(stat -c %a "$R/var/lib/patroni-debiand/takeover")"
check "no mark for the cluster without data" "no" "$([ -e "$R/var/lib/patroni-debiand/takeover/15-empty" ] && echo yes || echo no)"

# A cluster made while running (settles), and a change in a marked cluster's directory: tried again.
mkdir -p "$R/var/lib/postgresql/15/delta"
echo 15 >"$R/var/lib/postgresql/15/delta/PG_VERSION"
new_cluster "$R" 15 delta 5435
echo "data_directory = '/var/lib/postgresql/15/delta'" >>"$R/etc/postgresql/15/delta/postgresql.conf"
wait_for 'start patroni-debiand-takeover@15-delta' 1 5
expect_count "new cluster with data: generated" 'Generated /etc/patroni/15-delta.yml' 1
expect_count "new cluster with data: handed over" '^dry-run: start patroni-debiand-takeover@15-delta.service 15/delta$' 1
# The helper recorded a step; the settings change (unit, start_conf): the next start gets the new values,
# and the step is kept.
echo TAKEOVER_STEP=roles >>"$R/var/lib/patroni-debiand/takeover/15-gamma"
printf 'unit: "pat@%%i.service"\nstart_conf: disabled\n' >>"$R/etc/patroni/patroni-debiand.yml"
kill -HUP "$DPID"
wait_for 'start patroni-debiand-takeover@15-gamma' 2 5
expect_count "a reload: the takeover is tried again" '^dry-run: start patroni-debiand-takeover@15-gamma.service' 2
check "the mark follows the settings, and keeps the helper's step" \
        "TAKEOVER_VERSION=15 TAKEOVER_NAME=gamma TAKEOVER_PATRONI_UNIT=pat@15-gamma.service TAKEOVER_START_CONF=disabled TAKEOVER_PORT=5433 TAKEOVER_CONFIG=/etc/patroni/15-gamma.yml TAKEOVER_STEP=roles" \
        "$(mark_values "$R/var/lib/patroni-debiand/takeover/15-gamma")"
echo manual >"$R/etc/postgresql/15/gamma/start.conf"
wait_for 'start patroni-debiand-takeover@15-gamma' 3 5
expect_count "a marked cluster that changes: the takeover is tried again" \
        '^dry-run: start patroni-debiand-takeover@15-gamma.service' 3
# The handover is done (the helper removes the mark): nothing more for it.
rm "$R/var/lib/patroni-debiand/takeover/15-gamma"
echo "# edited" >>"$R/etc/postgresql/15/gamma/start.conf"
quiet 600
expect_count "handed over: no further takeover" '^dry-run: start patroni-debiand-takeover@15-gamma.service' 3
expect_count "handed over: no start either (its unit was started by the handover)" '^dry-run: start pat@15-gamma' 0
stop_daemon

# A daemon restart during a handover: the mark survives, the takeover unit is started again.
start_daemon
wait_for 'start patroni-debiand-takeover@15-delta' 1 5
quiet 300
expect_count "restart: a pending handover is carried on" '^dry-run: start patroni-debiand-takeover@15-delta.service' 1
expect_count "restart: the handed-over one gets its unit as any configuration" '^dry-run: start pat@15-gamma.service' 1
stop_daemon

# takeover: false: generated, nothing started, said once.
new_daemon_root 'takeover: false'
with_data gamma 5433
start_daemon
quiet 300
check "takeover off: generated" "yes" "$([ -f "$R/etc/patroni/15-gamma.yml" ] && echo yes)"
expect_count "takeover off: nothing started" '^dry-run: ' 0
expect_count "takeover off: said once" 'Not handing 15/gamma over to Patroni \(takeover: false\)' 1
kill -HUP "$DPID"
wait_for 'Reloaded settings' 1 5
quiet 200
expect_count "takeover off: not said again on reload" 'Not handing 15/gamma over' 1
stop_daemon

# The CLI marks too.
new_daemon_root
with_data gamma 5433
out=$("$CTL" generate --root "$R" 15 gamma)
check "patroni-debianctl generate on a cluster with data: says it is marked" "yes" \
        "$(grep -q 'has data: marked for a handover' <<<"$out" && echo yes)"
check "patroni-debianctl generate: the mark, with the values from the settings" \
        "TAKEOVER_VERSION=15 TAKEOVER_NAME=gamma TAKEOVER_PATRONI_UNIT=patroni@15-gamma.service TAKEOVER_START_CONF=manual TAKEOVER_PORT=5433 TAKEOVER_CONFIG=/etc/patroni/15-gamma.yml" \
        "$(mark_values "$R/var/lib/patroni-debiand/takeover/15-gamma")"

finish
