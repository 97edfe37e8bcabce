#!/bin/bash
# pg_service.conf: the daemon keeps a libpq service per configured cluster (VERSION-CLUSTER reaches the leader,
# VERSION-CLUSTER-ro prefers a standby), every member from a real etcd's watch (on loopback, started here) or,
# for a scope not in the DCS, the configuration's own member; the admin's bytes are kept; a member that joins
# or leaves changes the file within seconds; a broken file is reported and left alone; libpq reads what is
# written; pg_service: false takes the block out. patroni-debianctl connstr prints the same members.
. "$(dirname "$0")/lib.sh"

if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
        skip "pg_service.conf against etcd (needs etcd-server and etcd-client)"
        finish
fi

local_etcd_setup
NS=/postgresql-common
member() { # SCOPE NAME HOST PORT: a member as Patroni writes it
        ectl put "$NS/$1/members/$2" "{\"conn_url\": \"postgres://$3:$4/postgres\", \"api_url\": \"https://$3:8008/patroni\", \"state\": \"running\", \"role\": \"replica\", \"version\": \"3.0.2\"}" >/dev/null
}
start_etcd || { not_ok "etcd did not start: $(tail -3 "$ETCD_DIR/etcd.log")"; finish; }

new_daemon_root
printf 'etcd3:\n  hosts: 127.0.0.1:%s\n' "$CPORT" >"$R/etc/patroni/dcs.yml"
touch -d '1 hour ago' "$R/etc/patroni/dcs.yml"
mkdir -p "$R/etc/postgresql-common"
SVC=$R/etc/postgresql-common/pg_service.conf
ADMIN=$'# the admin\'s own services\n[app]\nhost=db.example.org\n  dbname = app\n'
printf '%s' "$ADMIN" >"$SVC"
chmod 644 "$SVC"
old_cluster 15 main 5432
old_cluster 15 solo 5440 # its scope is not in the DCS: the service names its own member
member 15-main pdd-a 127.0.0.1 1
member 15-main pdd-b 127.0.0.2 2
ectl put "$NS/15-main/leader" pdd-a >/dev/null

section() { # NAME: that section's lines, joined by "|"
        awk -v s="[$1]" '$0 == s { on = 1; next } /^\[|^#/ { on = 0 } on' "$SVC" | paste -sd'|'
}
start_daemon
if wait_for 'Updated /etc/postgresql-common/pg_service.conf' 1 10; then ok "pg_service.conf written at start-up"; else
        not_ok "pg_service.conf not written: $(tail -5 "$LOG")"; fi
admin_head() { [ "$(head -c ${#ADMIN} "$SVC" | md5sum)" = "$(printf '%s' "$ADMIN" | md5sum)" ] && echo same; }
check "the admin's bytes come first, unchanged" "same" "$(admin_head)"
check "[15-main]: every member from the DCS, the leader's service" \
        "host=127.0.0.1,127.0.0.2|port=1,2|target_session_attrs=read-write|sslmode=verify-full|sslrootcert=/etc/patroni/tls/ca.pem" \
        "$(section 15-main)"
check "[15-main-ro]: the same members, a standby preferred" \
        "host=127.0.0.1,127.0.0.2|port=1,2|target_session_attrs=prefer-standby|sslmode=verify-full|sslrootcert=/etc/patroni/tls/ca.pem" \
        "$(section 15-main-ro)"
solo_host=$(yaml_get "$R/etc/patroni/15-solo.yml" 'd["postgresql"]["connect_address"].rsplit(":", 1)[0]')
check "[15-solo]: not in the DCS: its configuration's own member" "host=$solo_host|port=5440" \
        "$(section 15-solo | cut -d'|' -f1,2)"
check "mode kept (0644: no secret in it, every client reads it)" "644" "$(stat -c %a "$SVC")"
if PGSERVICEFILE=$SVC PGCONNECT_TIMEOUT=2 psql -X "service=15-main" -c 'SELECT 1' >"$R/psql.out" 2>&1; then
        not_ok "psql connected to a member that does not exist"
else
        check "libpq reads the file: it tries each member of service=15-main" "yes yes no" \
                "$(grep -q '"127.0.0.1", port 1 failed' "$R/psql.out" && echo yes) $(grep -q '"127.0.0.2", port 2 failed' "$R/psql.out" && echo yes) $(grep -qi 'syntax error\|service file' "$R/psql.out" && echo yes || echo no)"
fi

# A member joins, one leaves: the file follows within seconds, with no polling (the watch says it).
t0=$(date +%s%N)
member 15-main pdd-c 127.0.0.3 3
for _ in $(seq 100); do [ "$(section 15-main | cut -d'|' -f1)" = "host=127.0.0.1,127.0.0.2,127.0.0.3" ] && break; sleep 0.05; done
check "a member joins: listed" "host=127.0.0.1,127.0.0.2,127.0.0.3|port=1,2,3" "$(section 15-main | cut -d'|' -f1,2)"
echo "# a member joined to pg_service.conf updated: $((($(date +%s%N) - t0) / 1000000)) ms"
ectl del "$NS/15-main/members/pdd-b" >/dev/null
for _ in $(seq 100); do [ "$(section 15-main | cut -d'|' -f1)" = "host=127.0.0.1,127.0.0.3" ] && break; sleep 0.05; done
check "a member leaves: gone from the list" "host=127.0.0.1,127.0.0.3|port=1,3" "$(section 15-main | cut -d'|' -f1,2)"

# The admin adds a section after ours, and one named like ours: theirs are kept, and theirs wins.
printf '[later]\nport=7\n[15-solo]\nhost=solo.example.org\n' >>"$SVC"
before=$(cat "$SVC")
member 15-main pdd-b 127.0.0.2 2
wait_for 'No service 15-solo in /etc/postgresql-common/pg_service.conf: a section of that name' 1 5
check "the admin's own [15-solo] wins: ours left out, said" "host=solo.example.org" "$(section 15-solo)"
check "... and the admin's sections after ours are kept, byte for byte" "$(printf '[later]\nport=7\n[15-solo]\nhost=solo.example.org')" \
        "$(tail -n 4 "$SVC")"
check "... and the admin's head too" "same" "$(admin_head)"
[ "$before" != "$(cat "$SVC")" ] && ok "... while the member came back into [15-main]" || not_ok "[15-main] not updated: $(section 15-main)"

# A broken file: reported with its line, never rewritten; fixed, written again.
printf 'no equals sign here\n' >>"$SVC"
broken=$(cat "$SVC")
member 15-main pdd-d 127.0.0.4 4
if wait_for 'Cannot bring the libpq services up to date: /etc/postgresql-common/pg_service.conf:[0-9]+: neither a comment' 1 5; then
        ok "a line libpq would refuse: said with the file and the line"; else not_ok "not said: $(tail -3 "$LOG")"; fi
check "... and the file is left as it is" "$broken" "$(cat "$SVC")"
check "... and the daemon runs on" "yes" "$(kill -0 "$DPID" && echo yes)"
sed -i '$d' "$SVC"
member 15-main pdd-e 127.0.0.5 5
for _ in $(seq 100); do section 15-main | grep -q '127.0.0.5' && break; sleep 0.05; done
check "fixed: written again, with the members since" "host=127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5" \
        "$(section 15-main | cut -d'|' -f1)"

# A symlink in its place: not followed.
mv "$SVC" "$R/real.conf"
ln -s "$R/real.conf" "$SVC"
member 15-main pdd-f 127.0.0.6 6
wait_for 'pg_service.conf: is a symbolic link, not followed' 1 5
check "a symlink: not followed, said" "1 no" \
        "$(count 'pg_service.conf: is a symbolic link, not followed') $(grep -q 127.0.0.6 "$R/real.conf" && echo yes || echo no)"
rm "$SVC" && mv "$R/real.conf" "$SVC"

# patroni-debianctl connstr: the same members, for hosts that run no daemon.
check "connstr 15/main" "host=127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6 port=1,2,3,4,5,6 target_session_attrs=read-write sslmode=verify-full sslrootcert=/etc/patroni/tls/ca.pem" \
        "$("$CTL" --root "$R" connstr 15/main 2>&1)"
check "connstr --read-only --format=uri" "postgresql://127.0.0.1:1,127.0.0.2:2,127.0.0.3:3,127.0.0.4:4,127.0.0.5:5,127.0.0.6:6/?target_session_attrs=prefer-standby&sslmode=verify-full&sslrootcert=/etc/patroni/tls/ca.pem" \
        "$("$CTL" --root "$R" connstr --read-only --format=uri 15/main 2>&1)"
check "connstr of a cluster not in the DCS: its own member, with a warning" "1 host=$solo_host port=5440" \
        "$("$CTL" --root "$R" connstr 15/solo 2>"$R/err" | cut -d' ' -f1,2 | sed 's/^/1 /')"
check "... the warning" "patroni-debianctl: warning: connstr: 15-solo: only this host's member ($solo_host:5440): its scope is not in the DCS" \
        "$(cat "$R/err")"
"$CTL" --root "$R" connstr 15/nowhere >/dev/null 2>"$R/err"
check "connstr of an unknown cluster: an error, exit status 5" "5 patroni-debianctl: error: connstr: 15-nowhere: no member with a host and port in the DCS, and no configuration here" \
        "$? $(cat "$R/err")"
"$CTL" --root "$R" connstr --format=json 15/main >/dev/null 2>"$R/err"
check "connstr --format=json: a usage error" "2 patroni-debianctl: error: connstr: --format=json: keyword or uri" "$? $(cat "$R/err")"

# pg_service: false: the block goes, the admin's bytes stay.
echo 'pg_service: false' >>"$R/etc/patroni/patroni-debiand.yml"
kill -HUP "$DPID"
for _ in $(seq 100); do grep -q 'BEGIN patroni-debiand' "$SVC" || break; sleep 0.05; done
check "pg_service: false: our block is taken out, the admin's sections stay" \
        "$(printf '%s[later]\nport=7\n[15-solo]\nhost=solo.example.org' "$ADMIN")" "$(cat "$SVC")"

stop_daemon
finish
