#!/bin/bash
# Start-up with 1,000 clusters; --once; --check-config; a real pg_createcluster.
. "$(dirname "$0")/lib.sh"

new_daemon_root
old_clusters 1000 5432
start_daemon
expect_count "1,000 clusters at start-up: 1,000 configurations" '^patroni-debiand: Generated ' 1000
expect_count "and 1,000 starts" '^dry-run: start ' 1000
check "1,000 files" "1000" "$(find "$R/etc/patroni" -name '15-c*.yml' | wc -l)"
check "no temporary file left" "0" "$(find "$R/etc/patroni" -name '.*.tmp' | wc -l)"
check "distinct REST API ports" "1000" "$(grep -h -A1 '^restapi:' "$R"/etc/patroni/15-c*.yml | grep listen | sort -u | wc -l)"
stop_daemon

# --once: one reconcile, then exit.
new_daemon_root
old_cluster 15 main 5432
printf 'scope: x\n' >"$R/etc/patroni/15-admin.yml"
"$DAEMON" --root "$R" --print-units --once 2>"$LOG"
check "--once exits 0" "0" "$?"
expect_count "--once: generates" 'Generated /etc/patroni/15-main.yml' 1
expect_count "--once: starts both" '^dry-run: start ' 2

# --check-config, which changes nothing (a stale temporary file from an interrupted write stays)
touch -d '1 hour ago' "$R/etc/patroni/.15-x.yml.abcdef.tmp"
out=$("$DAEMON" --root "$R" --check-config 2>&1); rc=$?
check "--check-config on valid inputs" "0 Settings, template and DCS inputs are valid." "$rc $out"
check "--check-config removes nothing" "yes" "$([ -e "$R/etc/patroni/.15-x.yml.abcdef.tmp" ] && echo yes)"
rm -f "$R/etc/patroni/.15-x.yml.abcdef.tmp"

# A configuration whose DCS section is not what dcs.yml says now: said, never rewritten.
printf 'etcd3:\n  hosts: 10.9.9.9:2379\n' >"$R/etc/patroni/dcs.yml"
before=$(md5sum <"$R/etc/patroni/15-main.yml")
"$DAEMON" --root "$R" --print-units --once 2>"$LOG"
expect_count "a DCS moved since generating: a warning names the file" \
        "/etc/patroni/15-main.yml's DCS section differs from what /etc/patroni/dcs.yml gives now" 1
check "... and the file is not rewritten" "$before" "$(md5sum <"$R/etc/patroni/15-main.yml")"
printf 'etcd3:\n  hosts: 127.0.0.1:2379\n' >"$R/etc/patroni/dcs.yml"

# --dry-run changes nothing: it says what it would write, where, and the unit actions.
new_daemon_root
old_cluster 15 main 5432
mkdir -p "$R/var/lib/postgresql/15/main" && echo 15 >"$R/var/lib/postgresql/15/main/PG_VERSION"
echo "data_directory = '/var/lib/postgresql/15/main'" >>"$R/etc/postgresql/15/main/postgresql.conf"
touch -d '1 hour ago' "$R/etc/postgresql/15/main/postgresql.conf"
snapshot() { (cd "$R" && find . -path ./daemon.log -prune -o -printf '%p %m %s %T@\n' | sort | md5sum); }
: >"$LOG"
before=$(snapshot)
"$DAEMON" --root "$R" --dry-run --once 2>"$LOG"
check "--dry-run --once: exit 0, nothing written or removed below the root" "0 $before" "$? $(snapshot)"
expect_count "--dry-run: says what it would write, and where" \
        '^dry-run: would write /etc/patroni/15-main.yml \(mode 0640, root:postgres\) and the handover mark' 1
expect_count "--dry-run: ... and the content" '^scope: "?15-main' 1
expect_count "--dry-run: ... and the unit action that would follow" \
        '^dry-run: start patroni-debiand-takeover@15-main.service 15/main$' 1
launch_daemon --dry-run
wait_for 'Watching [0-9]+ clusters' 1 10
old_cluster 15 later 5433
before=$(snapshot)
wait_for 'dry-run: start patroni@15-later.service' 1 10
quiet 300
check "--dry-run running: a new cluster is shown, not written" "$before 1 1" \
        "$(snapshot) $(count 'would write /etc/patroni/15-later.yml') $(count 'dry-run: start patroni@15-later.service')"
kill -TERM "$DPID"; wait "$DPID"
printf 'autostart: perhaps\n' >"$R/etc/patroni/patroni-debiand.yml"
out=$("$DAEMON" --root "$R" --check-config 2>&1); rc=$?
check "--check-config on broken settings" "1 patroni-debiand: error: /etc/patroni/patroni-debiand.yml:1:12: autostart: expected true or false, got \"perhaps\"" "$rc $out"
printf 'unit: patroni@%%i.service\n' >"$R/etc/patroni/patroni-debiand.yml"
printf '[\n' >"$R/etc/patroni/dcs.yml"
out=$("$DAEMON" --root "$R" --check-config 2>&1); rc=$?
check "--check-config on a broken dcs.yml" "1 patroni-debiand: error: /etc/patroni/dcs.yml:2:1: did not find expected node content while parsing a flow node" "$rc $out"
out=$("$DAEMON" --root "$R" --print-units 2>&1); rc=$?
check "the daemon refuses to start on broken inputs, saying why" "1 patroni-debiand: error: /etc/patroni/dcs.yml:2:1: did not find expected node content while parsing a flow node" "$rc $out"
out=$("$DAEMON" --frobnicate 2>&1); rc=$?
check "unknown option" "2" "$rc"

# The real pg_createcluster, writing into the watched tree through a bind mount
# in a private mount namespace: one configuration, and (the cluster has data) one handover.
if is_root && command -v pg_createcluster >/dev/null && [ -x /usr/lib/postgresql/15/bin/initdb ]; then
        new_daemon_root
        mkdir -p "$R/var/lib/postgresql" "$R/var/log/postgresql"
        start_daemon
        unshare -m bash -c '
                mount --bind "$1/etc/postgresql" /etc/postgresql &&
                mount --bind "$1/var/lib/postgresql" /var/lib/postgresql &&
                mount --bind "$1/var/log/postgresql" /var/log/postgresql &&
                chown postgres:postgres /var/lib/postgresql /var/log/postgresql &&
                pg_createcluster -p 5499 15 realtest >/dev/null' _ "$R" 2>"$R/createcluster.err"
        check "pg_createcluster ran" "0" "$?"
        wait_for 'dry-run: start patroni-debiand-takeover@15-realtest.service' 1 10
        quiet 1500
        expect_count "real pg_createcluster: one configuration" 'Generated /etc/patroni/15-realtest.yml' 1
        expect_count "real pg_createcluster: one handover" \
                '^dry-run: start patroni-debiand-takeover@15-realtest.service 15/realtest$' 1
        expect_count "real pg_createcluster: no direct start of Patroni" '^dry-run: start patroni@' 0
        check "real pg_createcluster: marked for the handover" "TAKEOVER_PORT=5499" \
                "$(grep '^TAKEOVER_PORT=' "$R/var/lib/patroni-debiand/takeover/15-realtest")"
        check "with its port" "5499" "$(yaml_get "$R/etc/patroni/15-realtest.yml" "d['postgresql']['listen'].rsplit(':', 1)[1]")"
        stop_daemon
else
        skip "real pg_createcluster (needs root and postgresql-15)"
fi
# The REST API's credentials: added to env.conf before the first configuration is written, said once
# (names only); nothing in a dry run.
new_daemon_root
rm "$R/etc/patroni/env.conf"
old_cluster 15 first 5433
start_daemon --dry-run
wait_for 'Would generate' 1 10
check "dry run: env.conf left alone" "no" "$([ -e "$R/etc/patroni/env.conf" ] && echo yes || echo no)"
stop_daemon
start_daemon
wait_for 'Generated /etc/patroni/15-first.yml' 1 10
expect_count "credentials added, said once with the names" \
        'Added PATRONI_RESTAPI_USERNAME, PATRONI_RESTAPI_PASSWORD to /etc/patroni/env.conf \(root only\)' 1
check "env.conf: the user and a password, 0600" "yes 600" \
        "$(grep -qx 'PATRONI_RESTAPI_USERNAME=patroni' "$R/etc/patroni/env.conf" && grep -qE '^PATRONI_RESTAPI_PASSWORD=.{32}$' "$R/etc/patroni/env.conf" && echo yes) $(stat -c %a "$R/etc/patroni/env.conf")"
old_cluster 15 second 5434
touch "$R/etc/postgresql/15/second/postgresql.conf"
wait_for 'Generated /etc/patroni/15-second.yml' 1 10
expect_count "a second configuration: nothing added again" 'Added PATRONI_RESTAPI' 1
check "the password is not in the log" "0" \
        "$(grep -c -- "$(sed -n 's/^PATRONI_RESTAPI_PASSWORD=//p' "$R/etc/patroni/env.conf")" "$LOG")"
stop_daemon
finish
