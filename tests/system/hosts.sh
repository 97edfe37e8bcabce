#!/bin/bash
# System tier, three hosts: one etcd cluster (a member per host) that requires
# client certificates from a CA the test makes, a cluster taken over on host
# A, replicas on B and C cloned by the project's helper, an attacker on the
# same network (a fourth namespace, no daemon) trying what the network allows,
# failover when A goes down, and A rejoining; then the leader's host lost
# outright and back; for 15/main and 15/my-db. An application's host (a fifth
# namespace, no daemon) writes through the multi-host connection string that
# patroni-debianctl connstr prints, across two switchovers and the crash; the
# daemons keep pg_service.conf's members as they come and go.
. "$(dirname "$0")/lib.sh"

if ! system_available || ! command -v ip >/dev/null || ! command -v etcdctl >/dev/null || ! command -v openssl >/dev/null ||
        ! command -v curl >/dev/null || ! command -v psql >/dev/null; then
        skip "system tier, three hosts (PDD_SKIP_SYSTEM is set, or it needs root, systemd-nspawn, ip, etcd-server, etcd-client, patroni, postgresql-15, openssl, curl)"
        finish
fi
t0=$SECONDS
t_lap=$SECONDS
lap() { echo "# $1: $((SECONDS - t_lap)) s"; t_lap=$SECONDS; }
names=(- pdd-a pdd-b pdd-c)

net_setup 3 || { not_ok "cannot set up the network namespaces"; finish; }
# The attacker: a fourth address on the same network, no container, no daemon, no certificate, no env.conf.
X=${NETNS}x
netns_extra x 10.231.0.9 || { not_ok "cannot set up the attacker's namespace"; finish; }
attacker() { ip netns exec "$X" "$@"; }
# The application's host: the one address client_networks names, no container, no daemon.
Y=${NETNS}y
netns_extra y 10.231.0.20 || { not_ok "cannot set up the application's namespace"; finish; }
client() { ip netns exec "$Y" "$@"; }
etcd_host_hook() { # I ROOT: the settings every host has; an admin's own service on B
        echo 'client_networks: [10.231.0.20/32]' >"$2/etc/patroni/patroni-debiand.yml"
        if [ "$1" = 2 ]; then printf '# mine\n[reports]\nhost=reports.example.org\ndbname=reports\n' >>"$2/etc/postgresql-common/pg_service.conf"; fi
}

etcd_hosts_up 3 || finish
lap "three hosts and etcd"

declare -A PORT=([main]=5432 [my-db]=5433) # on every host (generate --port on B and C)
psql_on() { # HOST CLUSTER SQL
        on "$1" runuser -u postgres -- psql -X -A -t -q -p "${PORT[$2]}" -h /var/run/postgresql -d postgres -c "$3"
}
# role HOST CLUSTER: this host's member as "Leader running", "Replica streaming", ...
role() { on "$1" patroni-debianctl list --json | /usr/bin/python3 -c 'import json,sys
print(next((r["patroni"] for r in json.load(sys.stdin) if r["cluster"] == sys.argv[1]), None))' "$2"; }
is_role() { [ "$(role "$1" "$2")" = "$3" ]; }
# handed_over HOST CLUSTER: Leader running, and no handover pending (Patroni leads before the postmaster moves)
handed_over() { [ "$(on "$1" patroni-debianctl list --json | /usr/bin/python3 -c 'import json,sys
print(next(("%s|%s" % (r["patroni"], r["handover"]) for r in json.load(sys.stdin) if r["cluster"] == sys.argv[1]), ""))' \
        "$2")" = "Leader running|None" ]; }
# members HOST CLUSTER: "name role state lag" per member, as patronictl on HOST sees them
members() { on "$1" patroni-debianctl ctl "15/$2" list -f json 2>/dev/null | /usr/bin/python3 -c 'import json,sys
print(" ".join(sorted("%s:%s:%s:%s" % (m["Member"], m["Role"], m["State"], m.get("Lag in MB", "")) for m in json.load(sys.stdin))))'; }
leader_of() { on "$1" patroni-debianctl ctl "15/$2" list -f json 2>/dev/null | /usr/bin/python3 -c 'import json,sys
print(next((m["Member"] for m in json.load(sys.stdin) if m["Role"] == "Leader"), ""))'; }

# writes_on_leader CLUSTER ID HOST...: one of HOSTs leads CLUSTER (as the first of them sees it) and commits row ID
# (again after a retry: a commit whose answer was lost in the failover counts)
writes_on_leader() {
        local c=$1 id=$2 l i
        shift 2
        l=$(leader_of "$1" "$c")
        for i in "$@"; do
                [ "$l" = "${names[i]}" ] && psql_on "$i" "$c" "INSERT INTO t VALUES ($id) ON CONFLICT DO NOTHING" && return 0
        done
        return 1
}
# replica_with HOST CLUSTER ID: HOST's member is a running replica and has row ID
replica_with() { is_role "$1" "$2" "Replica running" && [ "$(psql_on "$1" "$2" "SELECT count(*) FROM t WHERE id = $3")" = 1 ]; }
# daemon_actions [JOURNALCTL ARGS]: what the daemon of the host in use did, as
# "units started, configurations generated, units stopped, handovers"
daemon_actions() {
        local j
        j=$(djournal "$@")
        echo "$(grep -c 'Starting patroni@15-' <<<"$j") $(grep -c 'Generated ' <<<"$j") $(grep -c 'Stopping ' <<<"$j") $(
                grep -c 'takeover@' <<<"$j")"
}

# 1. Host A: clusters made the usual way, with data, taken over.
# pg-common's postgresql@ unit cannot start a cluster with a dash in its name (%I makes 15-my-db
# 15/my/db), so "pg_createcluster --start" leaves 15/my-db stopped; the handover starts it.
# The table, in one transaction that can be retried: the handover, which may begin at once, restarts
# PostgreSQL once (about a second without connections).
make_table='CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10000) ON CONFLICT DO NOTHING'
on 1 pg_createcluster 15 main --start >/dev/null 2>&1
wait_until 30 psql_on 1 main "$make_table"
on 1 pg_createcluster 15 my-db --start >/dev/null 2>&1
for c in main my-db; do
        if wait_until 90 handed_over 1 "$c"; then ok "A: 15/$c taken over, Leader, the handover done"; else
                not_ok "A: 15/$c is $(role 1 "$c"): $(on 1 journalctl -q -o cat PGCLUSTER="15/$c" | tail -5)"; fi
done
wait_until 30 psql_on 1 my-db "$make_table"
for c in main my-db; do check "A: 15/$c has its 10000 rows" "10000" "$(psql_on 1 "$c" 'SELECT count(*) FROM t' 2>&1)"; done
check "A: 15/my-db (stopped by pg-common's unit) was started by the handover" "yes" \
        "$(on 1 journalctl -q -o cat PGCLUSTER=15/my-db | grep -q 'is not running; starting it as pg-common does' && echo yes)"
lap "scenario 1 (takeover on A)"

# 2. B and C: the same env.conf, a configuration each; Patroni clones through our helper.
envf=$(mktemp)
CLEANUP+=("rm -f '$envf'")
on 1 cat /etc/patroni/env.conf >"$envf"
for i in 2 3; do
        on "$i" sh -c 'umask 077; cat >/etc/patroni/env.conf' <"$envf"
done
streaming() { # CLUSTER: both replicas running with no lag, both streaming as the leader sees it
        [ "$(members 1 "$1" | tr ' ' '\n' | grep -c ':Replica:running:0$')" = 2 ] &&
                [ "$(psql_on 1 "$1" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 2 ]
}
# One cluster at a time, as an admin would.
for c in main my-db; do
        t_clone=$SECONDS
        for i in 2 3; do on "$i" patroni-debianctl generate --port="${PORT[$c]}" 15 "$c" >/dev/null; done
        if wait_until 120 streaming "$c"; then ok "15/$c: B and C stream with zero lag ($((SECONDS - t_clone)) s)"; else
                not_ok "15/$c replicas: $(members 1 "$c"); B: $(on 2 journalctl -q -o cat -u "patroni@15-$c" | tail -5); C: $(
                        on 3 journalctl -q -o cat -u "patroni@15-$c" | tail -5)"
        fi
done
for i in 2 3; do
        use_host "$i"
        check "${names[i]}: the clone made pg-common clusters" "15 main 15 my-db" \
                "$(on "$i" pg_lsclusters -h | awk '{ print $1, $2 }' | sort | tr '\n' ' ' | sed 's/ $//')"
        check "${names[i]}: the clone's drop and create led to no action (one start each, nothing generated or stopped)" \
                "2 0 0 0" "$(daemon_actions)"
done
# Replication from the network is TLS only: the replicas' connections use it, and a login without it is refused.
for c in main my-db; do
        check "15/$c: both replicas stream over TLS (pg_stat_ssl)" "2" \
                "$(psql_on 1 "$c" 'SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl')"
done
rpw=$(sed -n 's/^PATRONI_REPLICATION_PASSWORD=//p' "$envf")
repl_login() { # SSLMODE: a replication login from B to A's 15/main with the right password
        on 2 runuser -u postgres -- env PGPASSWORD="$rpw" psql -w -X -A -t \
                "host=10.231.0.1 port=5432 user=replicator dbname=replication replication=true sslmode=$1" \
                -c 'IDENTIFY_SYSTEM' 2>&1
}
check "a replication login from the network without TLS, with the right password: refused" "yes" \
        "$(grep -q 'no encryption' <<<"$(repl_login disable)" && echo yes)"
check "... and with TLS: accepted" "1" "$(repl_login require | grep -c '|')"
for c in main my-db; do
        check "15/$c: the replicas verify the leader's certificate (sslmode=verify-full in their primary_conninfo)" \
                "verify-full verify-full" "$(for i in 2 3; do psql_on "$i" "$c" 'SHOW primary_conninfo' |
                        grep -o 'sslmode=[a-z-]*' | cut -d= -f2; done | tr '\n' ' ' | sed 's/ $//')"
done
lap "scenario 2 (replicas on B and C)"

# 2a. The attacker on the same network: each attempt, and what it got. The replication password is given to
#     it (the worst case: leaked); the REST API's and the certificates are not.
pid_before=$(on 1 head -1 /var/lib/postgresql/15/main/postmaster.pid)
http_code() { attacker curl -s -k -o /dev/null -m 10 -w '%{http_code}' "$@"; }
attack() { # NAME EXPECTED RESULT
        echo "# attack: $1 -> $3"
        check "attacker: $1" "$2" "$3"
}
attack "POST /restart to the REST API (https, no credentials)" 401 "$(http_code -X POST https://10.231.0.1:8008/restart)"
attack "POST /failover (https, no credentials)" 401 \
        "$(http_code -X POST -d '{"leader": "pdd-a", "candidate": "pdd-b"}' https://10.231.0.1:8008/failover)"
attack "PATCH /config with archive_command (https, no credentials)" 401 \
        "$(http_code -X PATCH -d '{"postgresql": {"parameters": {"archive_command": "touch /tmp/owned"}}}' https://10.231.0.1:8008/config)"
attack "POST /restart over plain http" 000 "$(http_code -X POST http://10.231.0.1:8008/restart)"
attack "etcd: write the cluster's config key without a client certificate" 000 \
        "$(http_code -X POST -d '{"key": "L3Bvc3RncmVzcWwtY29tbW9uLzE1LW1haW4vY29uZmln", "value": "e30="}' https://10.231.0.1:2379/v3/kv/put)"
attack "etcd: the same over plain http" 000 \
        "$(http_code -X POST -d '{"key": "L3Bvc3RncmVzcWwtY29tbW9uLzE1LW1haW4vY29uZmln", "value": "e30="}' http://10.231.0.1:2379/v3/kv/put)"
pg_attack() { # CONNINFO [PASSWORD]: psql's first error line, or "connected"
        attacker env PGPASSWORD="${2:-}" PGCONNECT_TIMEOUT=10 psql -w -X -A -t "$1" -c 'SELECT 1' 2>&1 >/dev/null |
                head -1 | sed 's/^psql: error: connection to server at "10.231.0.1", port 5432 failed: //'
        [ "${PIPESTATUS[0]}" = 0 ] && echo connected
}
attack "replication login without TLS, with the leaked password" "yes" \
        "$(pg_attack "host=10.231.0.1 port=5432 user=replicator dbname=replication replication=true sslmode=disable" "$rpw" |
                grep -q 'no pg_hba.conf entry .* no encryption' && echo yes)"
attack "superuser login from the network, no password, over TLS" "yes" \
        "$(pg_attack "host=10.231.0.1 port=5432 user=postgres dbname=postgres sslmode=require" |
                grep -qE 'no pg_hba.conf entry|password authentication failed|fe_sendauth: no password supplied' && echo yes)"
attack "a database login from the network as the replication user" "yes" \
        "$(pg_attack "host=10.231.0.1 port=5432 user=replicator dbname=postgres sslmode=require" "$rpw" |
                grep -q 'no pg_hba.conf entry' && echo yes)"
check "after the attempts: A's postmaster was not restarted, no archive_command set" "$pid_before off" \
        "$(on 1 head -1 /var/lib/postgresql/15/main/postmaster.pid) $(psql_on 1 main 'SHOW archive_mode')"
lap "scenario 2a (an attacker on the network)"

# 2b. The application: a role and a table, the connection string from any host, the CA copied. libpq finds
#     the leader among the members; the daemons keep the same members in pg_service.conf.
app_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
wait_until 30 psql_on 1 main "DO \$\$BEGIN CREATE ROLE app LOGIN PASSWORD '$app_pw'; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$;
        CREATE TABLE IF NOT EXISTS w (id int PRIMARY KEY); GRANT SELECT, INSERT ON w TO app"
cadir=$(mktemp -d)
CLEANUP+=("rm -rf '$cadir'")
on 1 cat /etc/patroni/tls/ca.pem >"$cadir/ca.pem"
connstr=$(on 3 patroni-debianctl connstr 15/main)
check "connstr 15/main on C: every member, TLS verified" \
        "host=10.231.0.1,10.231.0.2,10.231.0.3 port=5432,5432,5432 target_session_attrs=read-write sslmode=verify-full sslrootcert=/etc/patroni/tls/ca.pem" \
        "$connstr"
connstr=${connstr//\/etc\/patroni\/tls\/ca.pem/$cadir/ca.pem}
app_sql() { # CONNINFO SQL: as the application, from its host
        client env PGPASSWORD="$app_pw" PGCONNECT_TIMEOUT=2 psql -w -X -A -t -q "$1 dbname=postgres user=app" -c "$2"
}
check "the application's host, through the connection string: the leader (A), over TLS" "10.231.0.1|f|t" \
        "$(app_sql "$connstr" "SELECT host(inet_server_addr()), pg_is_in_recovery(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")"
svc_section() { # HOST NAME: that section of HOST's pg_service.conf, lines joined by "|"
        on "$1" awk -v s="[$2]" '$0 == s { on = 1; next } /^\[|^#/ { on = 0 } on' /etc/postgresql-common/pg_service.conf | paste -sd'|'
}
for i in 1 2 3; do
        check "${names[i]}: pg_service.conf [15-main]: every member from the DCS" \
                "host=10.231.0.1,10.231.0.2,10.231.0.3|port=5432,5432,5432|target_session_attrs=read-write|sslmode=verify-full|sslrootcert=/etc/patroni/tls/ca.pem" \
                "$(svc_section "$i" 15-main)"
done
check "B: the admin's own service is kept, byte for byte, before ours" "$(printf '# mine\n[reports]\nhost=reports.example.org\ndbname=reports')" \
        "$(on 2 head -n 4 /etc/postgresql-common/pg_service.conf)"
svcfile=$cadir/pg_service.conf
on 2 cat /etc/postgresql-common/pg_service.conf | sed "s|/etc/patroni/tls/ca.pem|$cadir/ca.pem|" >"$svcfile"
check "service=15-main (B's file, on the application's host): the leader" "10.231.0.1|f" \
        "$(PGSERVICEFILE=$svcfile app_sql "service=15-main" "SELECT host(inet_server_addr()), pg_is_in_recovery()")"
check "service=15-main-ro: a standby" "t" "$(PGSERVICEFILE=$svcfile app_sql "service=15-main-ro" "SELECT pg_is_in_recovery()")"

app_insert() { app_sql "$connstr" "INSERT INTO w VALUES ($1) ON CONFLICT DO NOTHING"; }
# loop_report LOG WHAT HOST...: the longest time without an acknowledged write, in ms; the acknowledged ids
# missing on the leader (as the first HOST sees it), which must be 0 unless the leader's host was lost.
loop_report() {
        local log=$1 what=$2 gap ids missing l i
        shift 2
        gap=$(app_loop_gap "$log")
        ids=$(app_loop_ids "$log")
        l=$(leader_of "$1" main)
        for i in "$@"; do [ "${names[i]}" = "$l" ] && missing=$(psql_on "$i" main "SELECT count(*) FROM unnest('{$ids}'::int[]) a(id) WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.id = a.id)"); done
        echo "# write gap, $what: ${gap} ms ($(wc -l <"$log") writes acknowledged, ${missing:-?} of them missing on the new leader)"
        LOOP_MISSING=${missing:-?}
}
wloop=$cadir/writes
replicas_running() { [ "$(members 1 main | tr ' ' '\n' | grep -c ':Replica:running:')" = 2 ]; }
first=1
for to in pdd-b pdd-a; do
        from=$(leader_of 1 main)
        app_loop_start "$wloop" "$first"
        first=100001
        app_loop_wait "$wloop" 10
        on 1 patroni-debianctl ctl 15/main switchover --leader "$from" --candidate "$to" --force >/dev/null 2>&1
        wait_until 30 eval '[ "$(leader_of 1 main)" = "$to" ]'
        app_loop_wait "$wloop" 10
        app_loop_stop "$wloop"
        loop_report "$wloop" "switchover $from to $to, multi-host connection string" 1 2 3
        check "switchover $from -> $to: the leader is $to, every acknowledged write is there" "$to 0" "$(leader_of 1 main) $LOOP_MISSING"
        wait_until 60 replicas_running
done
wait_until 60 streaming main
lap "scenario 2b (the application: connection string, services, two switchovers)"

# 3. Every host agrees on who leads.
for c in main my-db; do
        # Patroni 3.0.2 reports a streaming replica as "running" (the leader's pg_stat_replication said streaming above)
        check "15/$c: patroni-debianctl list, A B C" "Leader running|Replica running|Replica running" \
                "$(role 1 "$c")|$(role 2 "$c")|$(role 3 "$c")"
        check "15/$c: the same leader seen from every host" "pdd-a pdd-a pdd-a" \
                "$(leader_of 1 "$c") $(leader_of 2 "$c") $(leader_of 3 "$c")"
done
lap "scenario 3 (agreement)"

# 4. Host A goes down: a replica takes over; writes succeed there.
t_down=$SECONDS
host_halt 1
for c in main my-db; do
        if wait_until 60 writes_on_leader "$c" 20001 2 3; then
                ok "15/$c: $(leader_of 2 "$c") leads and takes writes $((SECONDS - t_down)) s after A went down (ttl 30, loop_wait 10)"
        else
                not_ok "15/$c after A went down: $(members 2 "$c")"
        fi
done
echo "# failover time (A halted to a committed write on the new leader): $((SECONDS - t_down)) s for both clusters"
lap "scenario 4 (failover)"

# 5. A comes back: it rejoins as a replica, its daemon does nothing destructive, nothing is lost.
t_up=$SECONDS
host_boot 1 || not_ok "host A did not boot again"
for c in main my-db; do
        if wait_until 120 replica_with 1 "$c" 20001; then ok "15/$c: A rejoined as a streaming replica with the new leader's write ($((SECONDS - t_up)) s)"; else
                not_ok "15/$c on A: $(role 1 "$c"); $(on 1 journalctl -q -o cat -b 0 -u "patroni@15-$c" | tail -5)"; fi
        check "15/$c: every row there on A" "10001" "$(psql_on 1 "$c" 'SELECT count(*) FROM t')"
done
echo "# rejoin time (A booted to streaming again): $((SECONDS - t_up)) s"
use_host 1
check "A's daemon after the reboot: starts only, generates, stops and hands over nothing" "2 0 0 0" "$(daemon_actions -b 0)"
lap "scenario 5 (A rejoins)"
# 6. The leader's host is lost outright: nobody releases the lock, so it expires (ttl 30) and a replica
#    is promoted at its next loop (loop_wait 10); the lost host boots again and rejoins (pg_rewind if its
#    timeline diverged), and every committed row is there.
host_index() { local i; for i in 1 2 3; do [ "${names[i]}" = "$1" ] && echo "$i"; done; }
declare -A led_by
for c in main my-db; do led_by[$c]=$(host_index "$(leader_of 1 "$c")"); done
lost=${led_by[main]} # the host leading 15/main (and 15/my-db too, or not: both cases are covered)
if [ -z "$lost" ] || [ -z "${led_by[my-db]}" ]; then
        not_ok "no leader before the crash: main $(leader_of 1 main), my-db $(leader_of 1 my-db)"
else
        for c in main my-db; do psql_on "${led_by[$c]}" "$c" 'INSERT INTO t VALUES (30001)'; done
        survivors=()
        for i in 1 2 3; do [ "$i" != "$lost" ] && survivors+=("$i"); done
        # Replication is asynchronous: only a row the replicas have is owed after the crash.
        replicated() { local i; for i in 1 2 3; do
                [ "$(psql_on "$i" "$1" 'SELECT count(*) FROM t WHERE id = 30001')" = 1 ] || return 1; done; }
        for c in main my-db; do wait_until 15 replicated "$c" || not_ok "15/$c: the replicas never got row 30001"; done
        app_loop_start "$wloop" 200001
        app_loop_wait "$wloop" 10
        t_crash=$SECONDS
        host_crash "$lost"
        for c in main my-db; do
                if [ "${led_by[$c]}" != "$lost" ]; then
                        if wait_until 30 writes_on_leader "$c" 30002 "${survivors[@]}"; then ok "15/$c: its leader ${names[led_by[$c]]} was not lost, and still takes writes"; else
                                not_ok "15/$c after ${names[lost]} was lost: $(members "${survivors[0]}" "$c")"; fi
                elif wait_until 90 writes_on_leader "$c" 30002 "${survivors[@]}"; then
                        ok "15/$c: $(leader_of "${survivors[0]}" "$c") leads and takes writes $((SECONDS - t_crash)) s after its leader ${names[lost]} was lost (ttl 30 + loop_wait 10 = 40)"
                        echo "# failover time after a crash, 15/$c (leader's host killed to a committed write on the new leader): $((SECONDS - t_crash)) s"
                else
                        not_ok "15/$c after ${names[lost]} was lost: $(members "${survivors[0]}" "$c")"
                fi
        done
        app_loop_wait "$wloop" 10
        app_loop_stop "$wloop"
        loop_report "$wloop" "15/main's leader host lost (ttl 30 + loop_wait 10 + 5 = 45 s at most), multi-host connection string" \
                "${survivors[@]}"
        lost_addr=10.231.0.$lost
        left=$(for i in 1 2 3; do [ "$i" != "$lost" ] && printf '10.231.0.%s,' "$i"; done | sed 's/,$//')
        wait_until 15 eval '[ "$(svc_section "${survivors[0]}" 15-main | cut -d"|" -f1)" = "host=$left" ]'
        check "${names[survivors[0]]}: pg_service.conf [15-main] without the lost member ($lost_addr)" "host=$left" \
                "$(svc_section "${survivors[0]}" 15-main | cut -d'|' -f1)"
        rows() { echo "$(psql_on 1 "$1" 'SELECT count(*) FROM t') $(psql_on 2 "$1" 'SELECT count(*) FROM t') $(
                psql_on 3 "$1" 'SELECT count(*) FROM t')"; }
        t_up=$SECONDS
        host_boot "$lost" || not_ok "host ${names[lost]} did not boot again"
        for c in main my-db; do
                if wait_until 120 replica_with "$lost" "$c" 30002; then
                        ok "15/$c: ${names[lost]} back as a streaming replica with the write made after the crash ($((SECONDS - t_up)) s)"
                else
                        not_ok "15/$c on ${names[lost]}: $(role "$lost" "$c"); $(on "$lost" journalctl -q -o cat -b 0 -u "patroni@15-$c" | tail -5)"
                fi
                wait_until 15 eval '[ "$(rows "$c")" = "10003 10003 10003" ]'
                check "15/$c: every row committed before and after the crash, on all three hosts" "10003 10003 10003" "$(rows "$c")"
        done
        echo "# rejoin time after a crash (booted to streaming again): $((SECONDS - t_up)) s"
        wait_until 15 eval '[ "$(svc_section "${survivors[0]}" 15-main | cut -d"|" -f1)" = "host=10.231.0.1,10.231.0.2,10.231.0.3" ]'
        check "${names[survivors[0]]}: pg_service.conf [15-main] with the member back" "host=10.231.0.1,10.231.0.2,10.231.0.3" \
                "$(svc_section "${survivors[0]}" 15-main | cut -d'|' -f1)"
        check "B: the admin's own service still there after every rewrite" "[reports]" "$(on 2 sed -n 2p /etc/postgresql-common/pg_service.conf)"
        for c in main my-db; do
                echo "# 15/$c on ${names[lost]}, Patroni on rewinding: $(on "$lost" journalctl -q -o cat -b 0 -u "patroni@15-$c" |
                        grep -iE 'rewind|crash recovery' | sed 's/^[0-9-]* [0-9:,]* //' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
        done
        use_host "$lost"
        check "${names[lost]}'s daemon after the crash: starts only, generates, stops and hands over nothing" "2 0 0 0" \
                "$(daemon_actions -b 0)"
fi
lap "scenario 6 (the leader's host lost, then back)"
echo "# system tier, three hosts, wall time: $((SECONDS - t0)) s"
for i in 3 2 1; do host_stop "$i"; done
net_teardown 3
finish
