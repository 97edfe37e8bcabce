#!/bin/bash
# System tier, three hosts, a virtual IP: Debian 12's vip-manager (1.0.2) reads etcd through its v2 API, so
# Patroni uses etcd's v2 API here too ("etcd:" in dcs.yml; the etcd cluster requires client certificates).
# A cluster made with "generate --vip" on A, replicas on B and C the same way; the daemon starts
# vip-manager@15-main beside Patroni on every host, and the address is on the leader's host only. An
# application's host (a fourth namespace, no daemon) writes through the virtual IP across a switchover and
# the leader's host lost outright: the write gaps and the acknowledged writes missing are printed.
. "$(dirname "$0")/lib.sh"

if ! system_available || ! command -v ip >/dev/null || ! command -v etcdctl >/dev/null || ! command -v openssl >/dev/null ||
        ! command -v psql >/dev/null || ! [ -x /usr/bin/vip-manager ] || ! [ -e /lib/systemd/system/vip-manager@.service ]; then
        skip "system tier, virtual IP on three hosts (PDD_SKIP_SYSTEM is set, or it needs root, systemd-nspawn, ip, etcd-server, etcd-client, patroni, postgresql-15, openssl, vip-manager)"
        finish
fi
t0=$SECONDS
t_lap=$SECONDS
lap() { echo "# $1: $((SECONDS - t_lap)) s"; t_lap=$SECONDS; }
names=(- pdd-a pdd-b pdd-c)
VIP=10.231.0.100

rnd() { head -c 24 /dev/urandom | base64 | tr -d '/+='; }
envconf=$(mktemp)
CLEANUP+=("rm -f '$envconf'")
printf 'PATRONI_RESTAPI_USERNAME=patroni\nPATRONI_RESTAPI_PASSWORD=%s\nPATRONI_DEBIAND_CA_SEED=%s%s\nPATRONI_REPLICATION_USERNAME=replicator\nPATRONI_REPLICATION_PASSWORD=%s\nPATRONI_REWIND_USERNAME=rewind\nPATRONI_REWIND_PASSWORD=%s\n' \
        "$(rnd)" "$(rnd)" "$(rnd)" "$(rnd)" "$(rnd)" >"$envconf"
etcd_host_hook() { # I ROOT: etcd's v2 API on, Patroni on it, the application's network let in
        echo 'ETCD_ENABLE_V2=true' >>"$2/etc/default/etcd"
        printf 'etcd:\n  hosts: [10.231.0.1:2379, 10.231.0.2:2379, 10.231.0.3:2379]\n  protocol: https\n  cacert: /etc/patroni/etcd-tls/ca.pem\n  cert: /etc/patroni/etcd-tls/client.pem\n  key: /etc/patroni/etcd-tls/client.key\n' \
                >"$2/etc/patroni/dcs.yml"
        echo 'client_networks: [10.231.0.20/32]' >"$2/etc/patroni/patroni-debiand.yml"
        install -m 600 "$envconf" "$2/etc/patroni/env.conf"
}

net_setup 3 || { not_ok "cannot set up the network namespaces"; finish; }
Y=${NETNS}y
netns_extra y 10.231.0.20 || { not_ok "cannot set up the application's namespace"; finish; }
client() { ip netns exec "$Y" "$@"; }
etcd_hosts_up 3 || finish
echo "# three hosts and etcd: $((SECONDS - t0)) s"

role() { on "$1" patroni-debianctl list --json | /usr/bin/python3 -c 'import json,sys
print(next((r["patroni"] for r in json.load(sys.stdin) if r["cluster"] == "main"), None))'; }
leader_of() { on "$1" timeout 20 patroni-debianctl ctl 15/main list -f json 2>/dev/null | /usr/bin/python3 -c 'import json,sys
print(next((m["Member"] for m in json.load(sys.stdin) if m["Role"] == "Leader"), ""))'; }
psql_on() { on "$1" runuser -u postgres -- psql -X -A -t -q -h /var/run/postgresql -d postgres -c "$2"; }
has_vip() { [ -n "${H_PID1[$1]}" ] && on "$1" ip -o addr show dev eth0 | grep -q " $VIP/"; }
vip_hosts() { local i; for i in 1 2 3; do has_vip "$i" && printf '%s ' "${names[i]}"; done; }

# 1. A: a new cluster with a virtual IP; B and C: its replicas, with the same .vip. The daemon starts
#    vip-manager@15-main with each.
on 1 patroni-debianctl generate --vip="$VIP" 15 main >/dev/null
if wait_until 90 eval '[ "$(role 1)" = "Leader running" ]'; then ok "A: 15/main bootstrapped, Leader"; else
        not_ok "A: 15/main is $(role 1): $(on 1 journalctl -q -o cat -u patroni@15-main | tail -5)"; fi
for i in 2 3; do on "$i" patroni-debianctl generate --vip="$VIP" --port=5432 15 main >/dev/null; done
replicas() { [ "$(role 2)|$(role 3)" = "Replica running|Replica running" ]; }
if wait_until 120 replicas; then ok "B and C: replicas of 15/main"; else
        not_ok "replicas: B $(role 2), C $(role 3); $(on 2 journalctl -q -o cat -u patroni@15-main | tail -3)"; fi
for i in 1 2 3; do
        check "${names[i]}: the daemon started vip-manager@15-main beside Patroni" "active 1" \
                "$(on "$i" systemctl is-active vip-manager@15-main) $(on "$i" journalctl -q -o cat -u patroni-debiand | grep -c '^Starting vip-manager@15-main.service for 15/main')"
done
wait_until 30 eval '[ "$(vip_hosts)" = "pdd-a " ]'
check "the virtual IP is on the leader's host only" "pdd-a " "$(vip_hosts)"

# 2. The application: a role, a table, the CA. The certificate names the hosts' addresses, not the virtual
#    one: sslmode=verify-ca (the CA is checked, the name cannot be).
app_pw=$(rnd)
wait_until 30 psql_on 1 "DO \$\$BEGIN CREATE ROLE app LOGIN PASSWORD '$app_pw'; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$;
        CREATE TABLE IF NOT EXISTS w (id int PRIMARY KEY); GRANT SELECT, INSERT ON w TO app"
# Both replicas stream and have the table before anything moves: a switchover may promote a replica that is
# within maximum_lag_on_failover without having received the last bytes.
streams() { [ "$(psql_on 1 "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 2 ] &&
        [ "$(psql_on 2 "SELECT to_regclass('w') IS NOT NULL")|$(psql_on 3 "SELECT to_regclass('w') IS NOT NULL")" = "t|t" ]; }
if wait_until 60 streams; then ok "B and C stream from A, the application's table is there"; else
        not_ok "B and C: $(psql_on 1 "SELECT application_name, state FROM pg_stat_replication")"; fi
cadir=$(mktemp -d)
CLEANUP+=("rm -rf '$cadir'")
on 1 cat /etc/patroni/tls/ca.pem >"$cadir/ca.pem"
conn="host=$VIP port=5432 sslmode=verify-ca sslrootcert=$cadir/ca.pem dbname=postgres user=app"
app_sql() { client env PGPASSWORD="$app_pw" PGCONNECT_TIMEOUT=2 psql -w -X -A -t -q "$conn" -c "$1"; }
check "the application's host, through the virtual IP: the leader (A), over TLS" "f|t" \
        "$(app_sql "SELECT pg_is_in_recovery(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")"

app_insert() { app_sql "INSERT INTO w VALUES ($1) ON CONFLICT DO NOTHING"; }
loop_report() { # LOG WHAT LEADER_HOST
        local gap ids missing
        gap=$(app_loop_gap "$1")
        ids=$(app_loop_ids "$1")
        missing=$(psql_on "$3" "SELECT count(*) FROM unnest('{$ids}'::int[]) a(id) WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.id = a.id)")
        echo "# write gap, $2, virtual IP: ${gap} ms ($(wc -l <"$1") writes acknowledged, $missing of them missing on the new leader)"
        LOOP_MISSING=$missing
}
wloop=$cadir/writes

# 3. A switchover to B: the address moves with the leader; no acknowledged write is lost.
app_loop_start "$wloop" 1
app_loop_wait "$wloop" 10
on 1 patroni-debianctl ctl 15/main switchover --leader pdd-a --candidate pdd-b --force >/dev/null 2>&1
wait_until 30 eval '[ "$(leader_of 1)" = pdd-b ]'
wait_until 30 eval '[ "$(vip_hosts)" = "pdd-b " ]'
app_loop_wait "$wloop" 10
app_loop_stop "$wloop"
loop_report "$wloop" "switchover pdd-a to pdd-b" 2
check "switchover: B leads and holds the address alone, every acknowledged write is there" "pdd-b pdd-b  0" \
        "$(leader_of 1) $(vip_hosts) $LOOP_MISSING"

# 4. The leader's host (B) lost outright: the lock expires (ttl 30), a replica is promoted, its vip-manager
#    takes the address.
wait_until 60 eval '[ "$(role 1)" = "Replica running" ]'
app_loop_start "$wloop" 100001
app_loop_wait "$wloop" 10
host_crash 2
new_leader() { local l; l=$(leader_of 1); [ -n "$l" ] && [ "$l" != pdd-b ]; }
if wait_until 90 new_leader; then ok "B lost: $(leader_of 1) leads"; else not_ok "B lost: no new leader: $(role 1) $(role 3)"; fi
wait_until 30 eval '[ "$(vip_hosts)" = "$(leader_of 1) " ]'
app_loop_wait "$wloop" 10
app_loop_stop "$wloop"
l=$(leader_of 1)
for i in 1 3; do [ "${names[i]}" = "$l" ] && li=$i; done
loop_report "$wloop" "the leader's host lost (ttl 30 + loop_wait 10 + 5 = 45 s at most)" "${li:-1}"
check "after the crash: the address is on the new leader's host" "$l " "$(vip_hosts)"

echo "# system tier, virtual IP on three hosts, wall time: $((SECONDS - t0)) s"
for i in 3 1; do host_stop "$i"; done
host_stop 2
net_teardown 3
finish
