#!/bin/bash
# A cluster created file by file, as pg_createcluster does, gives exactly one
# generated configuration after settling and one start; a burst is one action.
. "$(dirname "$0")/lib.sh"

new_daemon_root
old_cluster 15 main 5432
start_daemon
expect_count "start-up: the existing cluster gets a configuration" '^patroni-debiand: Generated /etc/patroni/15-main.yml' 1
expect_count "start-up: and its unit is started" '^dry-run: start patroni@15-main.service 15/main$' 1

# pg_createcluster's order: the directory, environment and pg_ctl.conf, then
# postgresql.conf written several times with the port near the end, pg_hba,
# pg_ident, start.conf, conf.d.
C=$R/etc/postgresql/15/gamma
mkdir -p "$C"; sleep 0.05
echo "# environment" >"$C/environment"; sleep 0.05
echo "# pg_ctl" >"$C/pg_ctl.conf"; sleep 0.05
printf "#port = 5432\n" >"$C/postgresql.conf"; sleep 0.05
printf "data_directory = '/var/lib/postgresql/15/gamma'\n" >>"$C/postgresql.conf"; sleep 0.05
echo "local all all peer" >"$C/pg_hba.conf"; sleep 0.05
echo "# ident" >"$C/pg_ident.conf"; sleep 0.05
mv "$C/postgresql.conf" "$C/postgresql.conf.tmp" && sed 's/^#port = 5432/port = 5433/' "$C/postgresql.conf.tmp" >"$C/postgresql.conf" && rm "$C/postgresql.conf.tmp"; sleep 0.05
echo "auto" >"$C/start.conf"; sleep 0.05
mkdir -p "$C/conf.d"

wait_for 'dry-run: start patroni@15-gamma.service' 1 5
quiet 1000
expect_count "one configuration generated for the new cluster" '^patroni-debiand: Generated /etc/patroni/15-gamma.yml' 1
expect_count "one start for it" '^dry-run: start patroni@15-gamma.service 15/gamma$' 1
check "generated with the cluster's port" "5433" \
        "$(yaml_get "$R/etc/patroni/15-gamma.yml" "d['postgresql']['connect_address'].rsplit(':', 1)[1]")"
check "mode 0640" "640" "$(stat -c %a "$R/etc/patroni/15-gamma.yml")"

# A cluster without a port yet is not acted on, however long it waits.
mkdir -p "$R/etc/postgresql/15/noport"
echo "# being made" >"$R/etc/postgresql/15/noport/postgresql.conf"
quiet 800
expect_count "no port yet: nothing" 'noport' 0

# The clone helper drops and recreates a cluster while Patroni runs: no action.
before=$(count '^dry-run: ')
rm -rf "$R/etc/postgresql/15/gamma"; sleep 0.05
mkdir -p "$R/etc/postgresql/15/gamma"; echo "port = 5433" >"$R/etc/postgresql/15/gamma/postgresql.conf"
quiet 1000
check "cluster directory removed and recreated within the settle window: no action" "$before" "$(count '^dry-run: ')"
expect_count "and no second configuration" '^patroni-debiand: Generated /etc/patroni/15-gamma.yml' 1

# Removed for good: logged, nothing else.
rm -rf "$R/etc/postgresql/15/gamma"
wait_for 'Cluster directory /etc/postgresql/15/gamma is gone' 1 5
check "cluster directory removed: logged, no unit action" "$before" "$(count '^dry-run: ')"

# A version without binaries: the message names the file it would have written.
mkdir -p "$R/etc/postgresql/17/nobin" && echo "port = 5470" >"$R/etc/postgresql/17/nobin/postgresql.conf"
wait_for 'Cannot generate /etc/patroni/17-nobin.yml' 1 5
expect_count "no binaries for the version: the file and the cause are named" \
        'Cannot generate /etc/patroni/17-nobin.yml for 17/nobin: no PostgreSQL 17 binaries \(/usr/lib/postgresql/17/bin not found\)' 1

stop_daemon
expect_count "SIGTERM leaves units running (no stop)" '^dry-run: stop' 0
finish
