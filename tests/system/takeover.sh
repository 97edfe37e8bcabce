#!/bin/bash
# System tier, takeover: pg-common clusters created the usual way end up as
# Patroni leaders, with no data lost, under a real systemd with etcd, Patroni
# 3.0.2 and PostgreSQL 15 in a throwaway container.
. "$(dirname "$0")/lib.sh"

if ! system_available; then
        skip "system tier, takeover (PDD_SKIP_SYSTEM is set, or it needs root, systemd-nspawn, patroni, etcd-server, postgresql-15)"
        finish
fi
t0=$SECONDS
t_lap=$SECONDS
lap() { echo "# $1: $((SECONDS - t_lap)) s"; t_lap=$SECONDS; }

container_prepare pdd-sys2 || { not_ok "cannot prepare the container"; finish; }
# No replication or rewind password yet: the handover generates and stores them.
printf 'PATRONI_SUPERUSER_PASSWORD=su-%s\n' "$RANDOM$RANDOM" >"$SYS_D/root/etc/patroni/env.conf"
printf 'settle_ms: 500\nexclude: ["15/load"]\n' >"$SYS_D/root/etc/patroni/patroni-debiand.yml"
container_boot || { not_ok "the container did not boot: $(tail -5 "$SYS_D/console.log")"; finish; }
inside systemctl enable --now etcd >/dev/null 2>&1
inside systemctl enable --now patroni-debiand >/dev/null 2>&1
check "patroni-debiand is active" "active" "$(inside systemctl is-active patroni-debiand)"
lap "boot"

psql_in() { # CLUSTER SQL: as postgres over the local socket
        local port
        port=$(inside pg_conftool -s 15 "$1" show port 2>/dev/null)
        inside runuser -u postgres -- psql -X -A -t -q -p "$port" -h /var/run/postgresql -d postgres -c "$2"
}
postmaster_unit() { # CLUSTER: the unit whose cgroup holds the postmaster
        local pid
        pid=$(inside head -1 "/var/lib/postgresql/15/$1/postmaster.pid" 2>/dev/null)
        [ -n "$pid" ] && inside cat "/proc/$pid/cgroup" | sed -n 's|^0::.*/||p'
}
handed_over() { # CLUSTER
        is_leader "15-$1" && [ "$(postmaster_unit "$1")" = "patroni@15-$1.service" ] &&
                ! inside test -e "/var/lib/patroni-debiand/takeover/15-$1"
}
# verify CLUSTER ROWS LABEL: everything the handover promises
verify() {
        local c=$1 rows=$2 what=$3 port pw
        check "$what: Leader running" "Leader running" "$(member_state "15-$c")"
        check "$what: all $rows rows are there" "$rows" "$(psql_in "$c" 'SELECT count(*) FROM t')"
        check "$what: the postmaster runs in patroni@15-$c.service" "patroni@15-$c.service" "$(postmaster_unit "$c")"
        check "$what: postgresql@15-$c is inactive" "inactive" "$(inside systemctl is-active "postgresql@15-$c")"
        check "$what: start.conf says manual" "manual" "$(inside grep -v '^#' "/etc/postgresql/15/$c/start.conf" | tr -d ' \n')"
        port=$(inside pg_conftool -s 15 "$c" show port)
        pw=$(inside sh -c '. /etc/patroni/env.conf && printf %s "$PATRONI_REPLICATION_PASSWORD"')
        inside rm -rf "/var/lib/postgresql/bb-$c"
        if inside runuser -u postgres -- env PGPASSWORD="$pw" pg_basebackup -w -h 127.0.0.1 -p "$port" -U replicator \
                -D "/var/lib/postgresql/bb-$c" -X stream -c fast >"$SYS_D/bb.log" 2>&1; then
                ok "$what: pg_basebackup as replicator with the stored password"
        else
                not_ok "$what: pg_basebackup failed: $(tail -3 "$SYS_D/bb.log")"
        fi
        inside rm -rf "/var/lib/postgresql/bb-$c"
}

# 1. pg_createcluster --start, 10,000 rows: within 90 s a Patroni leader.
inside pg_createcluster 15 gamma --start >/dev/null 2>&1
psql_in gamma 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10000)'
t_start=$SECONDS
if wait_until 90 handed_over gamma; then ok "15/gamma handed over in $((SECONDS - t_start)) s"; else
        not_ok "15/gamma not handed over: $(member_state 15-gamma) $(postmaster_unit gamma); $(inside journalctl -q -o cat SYSLOG_IDENTIFIER=patroni-debiand-takeover | tail -5)"; fi
verify gamma 10000 "created with --start"
check "env.conf: root only" "600 root" "$(inside stat -c '%a %U' /etc/patroni/env.conf)"
check "env.conf: passwords generated" "2" "$(inside grep -cE '^PATRONI_(REPLICATION|REWIND)_PASSWORD=.{24,}' /etc/patroni/env.conf)"
check "the journal says other nodes need env.conf" "1" \
        "$(inside journalctl -q -o cat MESSAGE_ID=c94f7a2e1b3d4c6a8f0e5b2d7a9c1e38 | grep -c 'Every other node of this cluster needs the same file')"
check "each step logged with the cluster's field" "yes" \
        "$(inside journalctl -q -o cat PGCLUSTER=15/gamma SYSLOG_IDENTIFIER=patroni-debiand-takeover | grep -q 'Step 2: start.conf says manual' && echo yes)"
downtime=$(inside journalctl -q -o cat PGCLUSTER=15/gamma MESSAGE_ID=a6c2e9f14d7b4a3c8e5f1d0b9a2c7e64 | sed -n 's/.*(\([0-9.]*\) s without connections).*/\1/p' | tail -1)
echo "# handover downtime, 15/gamma (idle): ${downtime:-?} s without connections"
check "patroni-debianctl ctl 15/gamma list: patronictl on the right configuration" "Leader running" \
        "$(inside "$CTL_INSIDE" ctl 15/gamma list -f json | /usr/bin/python3 -c 'import json,sys; print(" ".join(m["Role"]+" "+m["State"] for m in json.load(sys.stdin)))')"
check "patroni-debianctl list: 15/gamma's configuration, unit and member" "generated active Leader running" \
        "$(inside "$CTL_INSIDE" list | awk '$2 == "gamma" { print $4, $5, $6, $7 }')"
# The REST API is https only, with the host's certificate from the hosts' CA, and asks for the credentials
# in env.conf on its unsafe endpoints.
api_post() { # SCHEME CLUSTER PATH [USER:PASSWORD]: the HTTP status of POST PATH, or the error
        inside /usr/bin/python3 -c '
import base64, ssl, sys, urllib.error, urllib.request, yaml
api = yaml.safe_load(open("/etc/patroni/" + sys.argv[2] + ".yml"))["restapi"]["connect_address"]
req = urllib.request.Request("%s://%s%s" % (sys.argv[1], api, sys.argv[3]), data=b"{}", method="POST")
if len(sys.argv) > 4:
    req.add_header("Authorization", "Basic " + base64.b64encode(sys.argv[4].encode()).decode())
ctx = ssl.create_default_context(cafile="/etc/patroni/tls/ca.pem")
try:
    print(urllib.request.urlopen(req, timeout=10, context=ctx if sys.argv[1] == "https" else None).status)
except urllib.error.HTTPError as e:
    print(e.code)
except (OSError, urllib.error.URLError) as e:
    print("error")' "$@"
}
pid_before=$(inside head -1 /var/lib/postgresql/15/gamma/postmaster.pid)
check "REST API: POST /restart without credentials is refused" "401" "$(api_post https 15-gamma /restart)"
check "REST API: ... and with wrong ones" "401" "$(api_post https 15-gamma /restart patroni:wrong)"
check "REST API: POST /failover without credentials is refused" "401" "$(api_post https 15-gamma /failover)"
check "REST API: no plain-http listener" "error" "$(api_post http 15-gamma /restart)"
check "REST API: its certificate verifies against the hosts' CA and names the address" "OK" \
        "$(inside /usr/bin/python3 -c '
import socket, ssl, yaml
host, port = yaml.safe_load(open("/etc/patroni/15-gamma.yml"))["restapi"]["connect_address"].rsplit(":", 1)
ctx = ssl.create_default_context(cafile="/etc/patroni/tls/ca.pem")
with socket.create_connection((host, int(port)), timeout=10) as s, ctx.wrap_socket(s, server_hostname=host):
    print("OK")' 2>&1 | tail -1)"
sleep 1
check "REST API: PostgreSQL was not restarted" "$pid_before" "$(inside head -1 /var/lib/postgresql/15/gamma/postmaster.pid)"
check "env.conf holds the REST API's credentials" "2" \
        "$(inside grep -cE '^PATRONI_RESTAPI_(USERNAME=patroni|PASSWORD=.{32})$' /etc/patroni/env.conf)"
lap "scenario 1 (pg_createcluster --start)"

# 2. Without --start: the handover starts it, then hands it over.
inside pg_createcluster 15 eps >/dev/null 2>&1
t_start=$SECONDS
if wait_until 90 handed_over eps; then ok "15/eps (created stopped) handed over in $((SECONDS - t_start)) s"; else
        not_ok "15/eps not handed over: $(member_state 15-eps); $(inside journalctl -q -o cat PGCLUSTER=15/eps | tail -5)"; fi
psql_in eps 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10000)'
verify eps 10000 "created without --start"
lap "scenario 2 (pg_createcluster without --start)"

# 3. Under load: pgbench writes while the cluster is handed over; no committed transaction is lost.
inside pg_createcluster 15 load --start >/dev/null 2>&1
psql_in load 'CREATE TABLE t (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())'
lport=$(inside pg_conftool -s 15 load show port)
inside sh -c 'echo "INSERT INTO t DEFAULT VALUES;" >/var/lib/postgresql/pgbench-insert.sql'
# Short pgbench runs back to back for 40 s, so that writing carries on after the restart.
inside runuser -u postgres -- sh -c "end=\$((\$(date +%s) + 40)); while [ \$(date +%s) -lt \$end ]; do
        pgbench -n -c 4 -T 2 -h /var/run/postgresql -p $lport -f /var/lib/postgresql/pgbench-insert.sql postgres 2>&1 |
        sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p'; done" >"$SYS_D/pgbench.out" 2>&1 &
bench=$!
# and a probe that notes each refused connection
inside runuser -u postgres -- sh -c "end=\$((\$(date +%s) + 40)); while [ \$(date +%s) -lt \$end ]; do
        psql -X -q -h /var/run/postgresql -p $lport -d postgres -c 'SELECT 1' >/dev/null 2>&1 && echo up || echo down; sleep 0.05; done" \
        >"$SYS_D/probe.out" 2>&1 &
probe=$!
sleep 5
inside sh -c 'printf "settle_ms: 500\n" >/etc/patroni/patroni-debiand.yml'
inside systemctl reload patroni-debiand
t_start=$SECONDS
if wait_until 90 handed_over load; then ok "15/load handed over under load in $((SECONDS - t_start)) s"; else
        not_ok "15/load not handed over: $(member_state 15-load); $(inside journalctl -q -o cat PGCLUSTER=15/load | tail -5)"; fi
wait "$bench" "$probe"
committed=$(awk '{ s += $1 } END { print s + 0 }' "$SYS_D/pgbench.out")
rows=$(psql_in load 'SELECT count(*) FROM t')
echo "# pgbench: $committed transactions committed during the handover, $rows rows in the table"
check "under load: transactions committed on both sides of the handover" "yes" \
        "$(awk -v c="$committed" 'BEGIN { print (c > 100) ? "yes" : "no" }')"
check "under load: no committed transaction lost (rows >= committed)" "yes" \
        "$(awk -v c="$committed" -v r="$rows" 'BEGIN { print (r >= c && c > 0) ? "yes" : "no" }')"
down=$(grep -c down "$SYS_D/probe.out")
echo "# probe: $down of $(wc -l <"$SYS_D/probe.out") connection attempts refused (one every 50 ms plus psql's start-up)"
downtime=$(inside journalctl -q -o cat PGCLUSTER=15/load MESSAGE_ID=a6c2e9f14d7b4a3c8e5f1d0b9a2c7e64 | sed -n 's/.*(\([0-9.]*\) s without connections).*/\1/p' | tail -1)
echo "# handover downtime, 15/load (pgbench writing): ${downtime:-?} s without connections"
verify load "$rows" "under load"
lap "scenario 3 (pgbench during the handover)"

# 4. The daemon and the handover killed after step 2: started again, it completes the handover.
inside pg_createcluster 15 kappa --start >/dev/null 2>&1
psql_in kappa 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10000)'
if wait_until 60 sh -c "nsenter -t $PID1 -a grep -qx manual /etc/postgresql/15/kappa/start.conf"; then
        inside systemctl kill -s KILL patroni-debiand 'patroni-debiand-takeover@15-kappa.service'
        ok "killed the daemon and the handover after step 2 (start.conf set)"
else
        not_ok "15/kappa: start.conf never became manual"
fi
sleep 1
inside systemctl reset-failed 'patroni-debiand-takeover@15-kappa.service' 2>/dev/null
inside systemctl restart patroni-debiand
if wait_until 90 handed_over kappa; then ok "after SIGKILL and a restart, 15/kappa is handed over"; else
        not_ok "15/kappa after SIGKILL: $(member_state 15-kappa) $(postmaster_unit kappa); $(inside journalctl -q -o cat PGCLUSTER=15/kappa | tail -5)"; fi
check "after SIGKILL: the next run resumed after the step the first one recorded" "yes" \
        "$(inside journalctl -q -o cat PGCLUSTER=15/kappa SYSLOG_IDENTIFIER=patroni-debiand-takeover | grep -q 'over to Patroni from after step ' && echo yes)"
verify kappa 10000 "after SIGKILL"
lap "scenario 4 (SIGKILL after step 2)"

# 5. The DCS is down during step 3: PostgreSQL stays up under pg-common, the journal says what to do;
#    etcd back and a reload complete the handover.
inside systemctl stop etcd
inside pg_createcluster 15 lam --start >/dev/null 2>&1
psql_in lam 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10000)'
if wait_until 120 sh -c "nsenter -t $PID1 -a journalctl -q -o cat PGCLUSTER=15/lam MESSAGE_ID=5b8e0d3a6f2c4e19b7a4c1d8e3f60a95 | grep -q 'failed'"; then
        ok "DCS down: the handover failed, and said so"
else
        not_ok "DCS down: no failure message: $(inside journalctl -q -o cat PGCLUSTER=15/lam | tail -5)"
fi
msg=$(inside journalctl -q -o cat PGCLUSTER=15/lam MESSAGE_ID=5b8e0d3a6f2c4e19b7a4c1d8e3f60a95 | tail -1)
echo "# $msg"
check "DCS down: the message names the cause and what to do" "yes" \
        "$(grep -q 'cannot reach its DCS' <<<"$msg" && grep -q 'systemctl reload patroni-debiand' <<<"$msg" && echo yes)"
check "DCS down: PostgreSQL still runs, under postgresql@15-lam" "active postgresql@15-lam.service f" \
        "$(inside systemctl is-active postgresql@15-lam) $(postmaster_unit lam) $(psql_in lam 'SELECT pg_is_in_recovery()')"
check "DCS down: patroni@15-lam was never started" "inactive" "$(inside systemctl is-active patroni@15-lam)"
inside systemctl start etcd
inside systemctl reload patroni-debiand
t_start=$SECONDS
if wait_until 90 handed_over lam; then ok "etcd back and SIGHUP: 15/lam handed over in $((SECONDS - t_start)) s"; else
        not_ok "15/lam after etcd is back: $(member_state 15-lam) $(postmaster_unit lam); $(inside journalctl -q -o cat PGCLUSTER=15/lam | tail -5)"; fi
verify lam 10000 "after the DCS came back"
lap "scenario 5 (DCS down during the handover)"

# 6. No secret in the journal, anywhere.
check "no password in the journal" "0" \
        "$(inside sh -c '. /etc/patroni/env.conf; journalctl -q -o cat | grep -cF -e "$PATRONI_SUPERUSER_PASSWORD" -e "$PATRONI_REPLICATION_PASSWORD" -e "$PATRONI_REWIND_PASSWORD"')"

# 7. Reboot: every cluster comes back under Patroni only, not twice.
for c in gamma eps load kappa lam; do wait_until 60 is_leader "15-$c"; done
if container_reboot; then ok "the container rebooted"; else not_ok "the container did not reboot"; fi
in_patroni() { [ "$(postmaster_unit "$1")" = "patroni@15-$1.service" ]; }
for c in gamma eps kappa lam; do
        if wait_until 90 is_leader "15-$c" && wait_until 30 in_patroni "$c"; then ok "after reboot: 15/$c Leader running"; else
                not_ok "after reboot: 15/$c $(member_state "15-$c") $(postmaster_unit "$c")"; fi
        check "after reboot: 15/$c runs in patroni@ only" "patroni@15-$c.service inactive 1" \
                "$(postmaster_unit "$c") $(inside systemctl is-active "postgresql@15-$c") $(inside pgrep -c -f "^/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/$c( |$)")"
done
check "after reboot: the rows are there" "10000" "$(psql_in kappa 'SELECT count(*) FROM t')"
check "after reboot: no handover run again" "0" \
        "$(inside journalctl -b 0 -q -o cat SYSLOG_IDENTIFIER=patroni-debiand-takeover | grep -c 'Handing')"
lap "scenario 7 (reboot)"
echo "# system tier, takeover, wall time: $((SECONDS - t0)) s"
container_stop
finish
