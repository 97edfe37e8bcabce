#!/bin/bash
# System tier, the package: installed with apt on a host where a pg-common
# cluster already runs and Patroni is configured for etcd, that cluster is a
# Patroni leader within a minute; upgrade restarts the daemon, removal stops it,
# and neither touches Patroni; purge removes only what the package made.
. "$(dirname "$0")/lib.sh"

if ! system_available; then
        skip "system tier, package (PDD_SKIP_SYSTEM is set, or it needs root, systemd-nspawn, patroni, etcd-server, postgresql-15)"
        finish
fi
t0=$SECONDS

container_prepare pdd-sys3 --no-package || { not_ok "cannot prepare the container"; finish; }
container_boot || { not_ok "the container did not boot: $(tail -5 "$SYS_D/console.log")"; finish; }
inside systemctl enable --now etcd >/dev/null 2>&1
# An existing cluster with data, before the package: Patroni configured for etcd (dcs.yml, env.conf).
inside pg_createcluster 15 main --start >/dev/null 2>&1
inside runuser -u postgres -- psql -X -q -p 5432 -h /var/run/postgresql -d postgres \
        -c 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10000)'
check "before: 15/main runs under pg-common" "active" "$(inside systemctl is-active postgresql@15-main)"
rm -f "$SYS_D/root/etc/patroni/patroni-debiand.yml" # the package brings its own

t_install=$SECONDS
if inside apt-get install -y -q /root/patroni-debiand.deb >"$SYS_D/apt.log" 2>&1; then ok "apt-get install of the package"; else
        not_ok "apt-get install failed: $(tail -5 "$SYS_D/apt.log")"; fi
check "the service is enabled and started by the package" "enabled active" \
        "$(inside systemctl is-enabled patroni-debiand) $(inside systemctl is-active patroni-debiand)"
check "the settings file is the package's conffile, every key commented" "0" \
        "$(inside grep -c '^[a-z]' /etc/patroni/patroni-debiand.yml)"
handed_over() {
        is_leader 15-main &&
                [ "$(inside sh -c 'cat /proc/$(head -1 /var/lib/postgresql/15/main/postmaster.pid)/cgroup' | sed -n 's|^0::.*/||p')" = \
                        patroni@15-main.service ]
}
if wait_until 60 handed_over; then ok "within a minute of apt-get install, 15/main is a Patroni leader ($((SECONDS - t_install)) s)"; else
        not_ok "15/main after install: $(member_state 15-main); $(inside journalctl -q -o cat PGCLUSTER=15/main | tail -5)"; fi
check "its data is all there" "10000" \
        "$(inside runuser -u postgres -- psql -X -A -t -p 5432 -h /var/run/postgresql -d postgres -c 'SELECT count(*) FROM t')"
check "postgresql@15-main inactive" "inactive" "$(inside systemctl is-active postgresql@15-main)"
# (the DCS column: etcd3 is read; this host's leader, and no join: set)
check "patroni-debianctl list agrees" "15 main 5432 generated active Leader running pdd-sys3: not in join" \
        "$(inside patroni-debianctl list | awk '$2 == "main" { $1 = $1; print }')"

# Upgrade (the same version again): the daemon is restarted, Patroni is not.
patroni_pid=$(inside systemctl show -p MainPID --value patroni@15-main)
daemon_pid=$(inside systemctl show -p MainPID --value patroni-debiand)
inside apt-get install -y -q --reinstall /root/patroni-debiand.deb >"$SYS_D/apt.log" 2>&1
check "upgrade: the daemon restarted" "active yes" \
        "$(inside systemctl is-active patroni-debiand) $([ "$(inside systemctl show -p MainPID --value patroni-debiand)" != "$daemon_pid" ] && echo yes)"
check "upgrade: Patroni untouched" "$patroni_pid" "$(inside systemctl show -p MainPID --value patroni@15-main)"

# Removal: the daemon stops; Patroni and the generated configuration stay.
inside apt-get remove -y -q patroni-debiand >"$SYS_D/apt.log" 2>&1
state=$(inside systemctl is-active patroni-debiand)
check "remove: the daemon is gone" "inactive" "$state$([ "$state" = inactive ] || { echo; inside journalctl -q -u patroni-debiand | tail -8; })"
check "remove: Patroni untouched, its configuration kept" "$patroni_pid yes" \
        "$(inside systemctl show -p MainPID --value patroni@15-main) $(inside test -f /etc/patroni/15-main.yml && echo yes)"
check "remove: the conffile stays until purge" "yes" "$(inside test -f /etc/patroni/patroni-debiand.yml && echo yes)"

# Purge: only what the package made.
inside apt-get purge -y -q patroni-debiand >"$SYS_D/apt.log" 2>&1
check "purge: settings and state removed" "no no" \
        "$(inside test -e /etc/patroni/patroni-debiand.yml && echo yes || echo no) $(inside test -e /var/lib/patroni-debiand && echo yes || echo no)"
check "purge: generated configuration, env.conf and dcs.yml kept; Patroni still leads" "yes yes yes Leader running" \
        "$(for f in 15-main.yml env.conf dcs.yml; do inside test -f "/etc/patroni/$f" && printf 'yes '; done)$(member_state 15-main)"
echo "# system tier, package, wall time: $((SECONDS - t0)) s"
container_stop
finish
