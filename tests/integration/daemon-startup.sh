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

# --check-config
out=$("$DAEMON" --root "$R" --check-config 2>&1); rc=$?
check "--check-config on valid inputs" "0 Settings, template and DCS inputs are valid." "$rc $out"
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
        check "real pg_createcluster: marked for the handover" "15/realtest" \
                "$(cat "$R/var/lib/patroni-debiand/takeover/15-realtest")"
        check "with its port" "5499" "$(yaml_get "$R/etc/patroni/15-realtest.yml" "d['postgresql']['listen'].rsplit(':', 1)[1]")"
        stop_daemon
else
        skip "real pg_createcluster (needs root and postgresql-15)"
fi
finish
