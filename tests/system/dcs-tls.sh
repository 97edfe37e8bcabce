#!/bin/bash
# System tier, the DCS over TLS: etcd that requires client certificates from a
# CA this test makes, configured through Patroni's own keys in dcs.yml, then
# through DCS_PROTOCOL/DCS_CACERT/DCS_CERT/DCS_KEY in /etc/default/patroni. A
# cluster made the usual way is handed over with each, and nothing reaches
# etcd without a certificate; then etcd authentication on top, the password in
# env.conf only.
. "$(dirname "$0")/lib.sh"

if ! system_available || ! command -v openssl >/dev/null; then
        skip "system tier, DCS over TLS (PDD_SKIP_SYSTEM is set, or it needs root, systemd-nspawn, patroni, etcd-server, postgresql-15, openssl)"
        finish
fi
t0=$SECONDS
t_lap=$SECONDS
lap() { echo "# $1: $((SECONDS - t_lap)) s"; t_lap=$SECONDS; }

container_prepare pdd-sys5 || { not_ok "cannot prepare the container"; finish; }
r=$SYS_D/root

# A CA, etcd's server certificate (127.0.0.1, localhost) and Patroni's client certificate, with openssl.
tls=$r/etc/patroni/etcd-tls
mkdir -p "$tls" "$r/etc/etcd-tls"
(
        cd "$tls" || exit 1
        ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
        openssl req -x509 "${ec[@]}" -days 30 -subj /CN=pdd-test-ca -keyout ca.key -out ca.pem
        for who in server client; do
                # No CommonName in the client's: with authentication on, etcd's JSON gateway, which Patroni
                # talks to, refuses every /v3 request whose client certificate has one ("CommonName of client
                # sending a request against gateway will be ignored and not used as expected").
                if [ $who = server ]; then subj=/CN=pdd-etcd-server; else subj=/O=pdd-patroni; fi
                openssl req "${ec[@]}" -subj "$subj" -keyout "$who.key" -out "$who.csr"
                # etcd's JSON gateway connects to etcd itself with the server certificate: it must allow both.
                if [ $who = server ]; then ext='subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth'
                else ext='extendedKeyUsage=clientAuth'; fi
                openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
                        -extfile <(printf "$ext\n") -out "$who.pem"
        done
) >"$SYS_D/openssl.log" 2>&1 || { not_ok "openssl: $(tail -3 "$SYS_D/openssl.log")"; finish; }
mv "$tls/server.pem" "$tls/server.key" "$r/etc/etcd-tls/"
cp "$tls/ca.pem" "$r/etc/etcd-tls/"
rm -f "$tls/ca.key" "$tls"/*.csr
cat >"$r/etc/default/etcd" <<'EOF'
ETCD_LISTEN_CLIENT_URLS=https://127.0.0.1:2379
ETCD_ADVERTISE_CLIENT_URLS=https://127.0.0.1:2379
ETCD_CLIENT_CERT_AUTH=true
ETCD_TRUSTED_CA_FILE=/etc/etcd-tls/ca.pem
ETCD_CERT_FILE=/etc/etcd-tls/server.pem
ETCD_KEY_FILE=/etc/etcd-tls/server.key
EOF
printf 'etcd3:\n  hosts: 127.0.0.1:2379\n  protocol: https\n  cacert: /etc/patroni/etcd-tls/ca.pem\n  cert: /etc/patroni/etcd-tls/client.pem\n  key: /etc/patroni/etcd-tls/client.key\n' \
        >"$r/etc/patroni/dcs.yml"
container_boot || { not_ok "the container did not boot: $(tail -5 "$SYS_D/console.log")"; finish; }
# Keys: etcd's for etcd, the client key for Patroni (postgres) and root only.
inside sh -c 'chown -R etcd: /etc/etcd-tls && chmod 600 /etc/etcd-tls/server.key &&
        chown root:postgres /etc/patroni/etcd-tls/client.key && chmod 640 /etc/patroni/etcd-tls/client.key'
inside systemctl restart etcd
inside systemctl enable --now patroni-debiand >/dev/null 2>&1
check "etcd and patroni-debiand are active" "active active" \
        "$(inside systemctl is-active etcd) $(inside systemctl is-active patroni-debiand)"
lap "boot"

# etcd_status [CERT]: what etcd's v3 gateway answers over TLS, with the client certificate named or none.
etcd_status() {
        inside /usr/bin/python3 -c '
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile="/etc/patroni/etcd-tls/ca.pem")
if len(sys.argv) > 1:
    ctx.load_cert_chain("/etc/patroni/etcd-tls/client.pem", "/etc/patroni/etcd-tls/client.key")
try:
    c = http.client.HTTPSConnection("127.0.0.1", 2379, context=ctx, timeout=5)
    c.request("POST", "/v3/kv/range", body=b"{\"key\": \"Lw==\", \"range_end\": \"MA==\"}")
    print(c.getresponse().status)
except (OSError, ssl.SSLError) as e:
    print("refused")' "$@" 2>/dev/null
}
answered() { [ "$(etcd_status cert)" = 200 ]; }
wait_until 30 answered # etcd elects itself after its restart
check "etcd: without a client certificate, refused" "refused" "$(etcd_status)"
check "etcd: plain http, refused" "refused" \
        "$(inside /usr/bin/python3 -c '
import http.client
try:
    c = http.client.HTTPConnection("127.0.0.1", 2379, timeout=5); c.request("POST", "/v3/kv/range", body=b"{}")
    print(c.getresponse().status)
except OSError:
    print("refused")' 2>/dev/null)"
check "etcd: with Patroni's client certificate, answered" "200" "$(etcd_status cert)"

handed_over() { # CLUSTER
        is_leader "15-$1" && ! inside test -e "/var/lib/patroni-debiand/takeover/15-$1"
}
psql_in() { # CLUSTER SQL
        inside runuser -u postgres -- psql -X -A -t -q -p "$(inside pg_conftool -s 15 "$1" show port)" \
                -h /var/run/postgresql -d postgres -c "$2"
}

# 1. dcs.yml with Patroni's keys: a running cluster handed over, its data there.
inside pg_createcluster 15 main --start >/dev/null 2>&1
psql_in main 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000)'
if wait_until 90 handed_over main; then ok "dcs.yml over TLS: 15/main handed over"; else
        not_ok "15/main not handed over: $(member_state 15-main); $(inside journalctl -q -o cat PGCLUSTER=15/main | tail -5)"; fi
check "15/main: the generated configuration reaches etcd with the client certificate" \
        "https /etc/patroni/etcd-tls/ca.pem /etc/patroni/etcd-tls/client.pem /etc/patroni/etcd-tls/client.key" \
        "$(yaml_get "$r/etc/patroni/15-main.yml" "' '.join(d['etcd3'][k] for k in ('protocol', 'cacert', 'cert', 'key'))")"
check "15/main: all rows there" "1000" "$(psql_in main 'SELECT count(*) FROM t')"
check "patroni-debianctl list: Leader running" "generated active Leader running" \
        "$(inside "$CTL_INSIDE" list | awk '$2 == "main" { print $4, $5, $6, $7 }')"
check "patroni-debianctl ctl: patronictl reaches etcd too" "Leader running" \
        "$(inside timeout 30 "$CTL_INSIDE" ctl 15/main list -f json | /usr/bin/python3 -c 'import json,sys; print(" ".join(m["Role"]+" "+m["State"] for m in json.load(sys.stdin)))')"
lap "handover with dcs.yml"

# 2. The same DCS from /etc/default/patroni: a second cluster.
inside rm /etc/patroni/dcs.yml
inside sh -c 'cat >/etc/default/patroni' <<'EOF'
DCS_TYPE=etcd3
DCS_HOSTS=127.0.0.1:2379
DCS_PROTOCOL=https
DCS_CACERT=/etc/patroni/etcd-tls/ca.pem
DCS_CERT=/etc/patroni/etcd-tls/client.pem
DCS_KEY=/etc/patroni/etcd-tls/client.key
EOF
inside systemctl reload patroni-debiand
inside pg_createcluster 15 second --start >/dev/null 2>&1
if wait_until 90 handed_over second; then ok "/etc/default/patroni over TLS: 15/second handed over"; else
        not_ok "15/second not handed over: $(member_state 15-second); $(inside journalctl -q -o cat PGCLUSTER=15/second | tail -5)"; fi
check "15/second: the DCS section from /etc/default/patroni, with TLS" \
        "https /etc/patroni/etcd-tls/ca.pem /etc/patroni/etcd-tls/client.pem /etc/patroni/etcd-tls/client.key" \
        "$(yaml_get "$r/etc/patroni/15-second.yml" "' '.join(d['etcd3'][k] for k in ('protocol', 'cacert', 'cert', 'key'))")"
check "15/main still leads" "Leader running" "$(member_state 15-main)"
lap "handover with /etc/default/patroni"

# 3. etcd authentication on top: a user with a password (in env.conf only) and a role limited to the namespace.
ectl() { inside etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/patroni/etcd-tls/ca.pem \
        --cert=/etc/patroni/etcd-tls/client.pem --key=/etc/patroni/etcd-tls/client.key "$@"; }
rootpw=root-$RANDOM$RANDOM
etcdpw=etcd-$RANDOM$RANDOM$RANDOM
{
        ectl user add "root:$rootpw" && ectl user grant-role root root &&
                ectl user add "patroni:$etcdpw" && ectl role add patroni &&
                ectl role grant-permission patroni --prefix=true readwrite /postgresql-common/ &&
                ectl user grant-role patroni patroni && ectl auth enable
} >"$SYS_D/etcd-auth.log" 2>&1 || not_ok "etcd auth setup: $(tail -3 "$SYS_D/etcd-auth.log")"
# Patroni 3.0.2 applies the password only next to another PATRONI_ETCD3_ setting (check says so).
inside sh -c "printf 'PATRONI_ETCD3_PASSWORD=%s\nPATRONI_ETCD3_PROTOCOL=https\n' '$etcdpw' >>/etc/patroni/env.conf"
inside sh -c 'printf "DCS_USERNAME=patroni\n" >>/etc/default/patroni'
inside systemctl reload patroni-debiand
inside pg_createcluster 15 third --start >/dev/null 2>&1
# patronictl needs env.conf's password now: ask through patroni-debianctl ctl, which passes it.
ctl_state() { inside timeout 30 "$CTL_INSIDE" ctl "$1" list -f json 2>/dev/null |
        /usr/bin/python3 -c 'import json,sys; print(" ".join(m["Role"]+" "+m["State"] for m in json.load(sys.stdin)))'; }
handed_over_auth() { [ "$(ctl_state 15/third)" = "Leader running" ] && ! inside test -e /var/lib/patroni-debiand/takeover/15-third; }
if wait_until 90 handed_over_auth; then ok "etcd with authentication too: 15/third handed over"; else
        not_ok "15/third not handed over: $(member_state 15-third); $(inside journalctl -q -o cat PGCLUSTER=15/third | tail -5)"; fi
check "15/third: the user in the configuration, the password not" "patroni no" \
        "$(yaml_get "$r/etc/patroni/15-third.yml" "d['etcd3'].get('username')") $(grep -q "$etcdpw" "$r/etc/patroni/15-third.yml" && echo yes || echo no)"
check "patroni-debianctl ctl: patronictl authenticates with env.conf's password" "Leader running" "$(ctl_state 15/third)"
check "etcd: a client certificate without a user's password reads nothing now" "yes" \
        "$(ectl get --prefix /postgresql-common/ 2>&1 | grep -q 'user name is empty\|permission denied\|invalid auth' && echo yes)"
check "the password is in no log" "0" "$(inside journalctl -q -o cat | grep -c "$etcdpw")"
lap "handover with etcd authentication"

check "no key of ours readable by other users" "0" \
        "$(inside find /etc/patroni /etc/etcd-tls -name '*.key' -perm -o=r | wc -l)"
echo "# system tier, DCS over TLS, wall time: $((SECONDS - t0)) s"
finish
