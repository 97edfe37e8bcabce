#!/bin/bash
# System tier, vip-manager: Debian's vip-manager@.service for a cluster, from the file "generate --vip"
# writes (Debian's vip.in, its environment format), against etcd that requires client certificates and a
# user's password; the password reaches vip-manager from env.conf only. Debian 12's vip-manager 1.0.2 reads
# etcd through the v2 API, which does not see Patroni's etcd3 leader key: that is said, and checked to be the
# only reason no address comes up. The host is a container in a network
# namespace of its own, so the virtual address exists only there.
. "$(dirname "$0")/lib.sh"

if ! system_available || ! command -v ip >/dev/null || ! command -v openssl >/dev/null || ! [ -x /usr/bin/vip-manager ] ||
        ! [ -e /lib/systemd/system/vip-manager@.service ]; then
        skip "system tier, vip-manager (PDD_SKIP_SYSTEM is set, or it needs root, systemd-nspawn, ip, openssl, vip-manager, patroni, etcd-server, postgresql-15)"
        finish
fi
t0=$SECONDS
net_setup 1 || { not_ok "cannot set up the network namespace"; finish; }
pki=$(mktemp -d)
CLEANUP+=("rm -rf '$pki'")
(
        cd "$pki" || exit 1
        ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
        openssl req -x509 "${ec[@]}" -days 30 -subj /CN=pdd-vip-ca -keyout ca.key -out ca.pem
        openssl req "${ec[@]}" -subj /CN=etcd -keyout server.key -out server.csr
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -out server.pem \
                -extfile <(printf 'subjectAltName=IP:10.231.0.1,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n')
        openssl req "${ec[@]}" -subj /O=patroni -keyout client.key -out client.csr # no CommonName: see README
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -out client.pem \
                -extfile <(printf 'extendedKeyUsage=clientAuth\n')
) >"$pki/openssl.log" 2>&1 || { not_ok "openssl: $(tail -3 "$pki/openssl.log")"; finish; }

host_prepare 1 pdd-vip || { not_ok "cannot prepare the host"; finish; }
r=${H_SYS[1]}/root
check "Debian's vip.in (the vip-manager package's, environment format) is the template" "yes" \
        "$(grep -q '^VIP_IP="@VIP_IP@"' "$r/etc/patroni/vip.in" && echo yes)"
rm -rf "$r"/var/lib/etcd/*
mkdir -p "$r/etc/etcd-tls" "$r/etc/patroni/etcd-tls"
cp "$pki/ca.pem" "$pki/server.pem" "$r/etc/etcd-tls/" && install -m 600 "$pki/server.key" "$r/etc/etcd-tls/"
cp "$pki/ca.pem" "$pki/client.pem" "$r/etc/patroni/etcd-tls/" && install -m 640 "$pki/client.key" "$r/etc/patroni/etcd-tls/"
cat >"$r/etc/default/etcd" <<'ETCD'
ETCD_LISTEN_CLIENT_URLS=https://10.231.0.1:2379,https://127.0.0.1:2379
ETCD_ADVERTISE_CLIENT_URLS=https://10.231.0.1:2379
ETCD_CLIENT_CERT_AUTH=true
ETCD_TRUSTED_CA_FILE=/etc/etcd-tls/ca.pem
ETCD_CERT_FILE=/etc/etcd-tls/server.pem
ETCD_KEY_FILE=/etc/etcd-tls/server.key
ETCD
printf 'etcd3:\n  hosts: 10.231.0.1:2379\n  protocol: https\n  cacert: /etc/patroni/etcd-tls/ca.pem\n  cert: /etc/patroni/etcd-tls/client.pem\n  key: /etc/patroni/etcd-tls/client.key\n  username: patroni\n' \
        >"$r/etc/patroni/dcs.yml"
etcdpw=etcd-$RANDOM$RANDOM$RANDOM
printf 'PATRONI_ETCD3_PASSWORD=%s\nPATRONI_ETCD3_PROTOCOL=https\n' "$etcdpw" >>"$r/etc/patroni/env.conf"
host_boot 1 || { not_ok "the host did not boot"; finish; }
use_host 1
on 1 sh -c 'chown -R etcd: /etc/etcd-tls && chown root:postgres /etc/patroni/etcd-tls/client.key && systemctl restart etcd'
ectl() { on 1 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/patroni/etcd-tls/ca.pem \
        --cert=/etc/patroni/etcd-tls/client.pem --key=/etc/patroni/etcd-tls/client.key "$@"; }
wait_until 30 ectl endpoint health
rootpw=root-$RANDOM$RANDOM
{
        ectl user add "root:$rootpw" && ectl user grant-role root root && ectl user add "patroni:$etcdpw" &&
                ectl role add patroni && ectl role grant-permission patroni --prefix=true readwrite /postgresql-common/ &&
                ectl user grant-role patroni patroni && ectl auth enable
} >"${H_SYS[1]}/etcd-auth.log" 2>&1 || not_ok "etcd auth setup: $(tail -3 "${H_SYS[1]}/etcd-auth.log")"
on 1 systemctl enable --now patroni-debiand >/dev/null 2>&1
echo "# boot, etcd with TLS and authentication: $((SECONDS - t0)) s"

# A new cluster with a virtual address: the configuration, the .vip, Patroni bootstraps.
on 1 patroni-debianctl generate --vip=10.231.0.100 15 main >/dev/null
ctl_state() { on 1 timeout 30 patroni-debianctl ctl 15/main list -f json 2>/dev/null |
        /usr/bin/python3 -c 'import json,sys; print(" ".join(m["Role"]+" "+m["State"] for m in json.load(sys.stdin)))'; }
leads() { [ "$(ctl_state)" = "Leader running" ]; }
if wait_until 90 leads; then ok "15/main: Leader running"; else
        not_ok "15/main: $(ctl_state); $(on 1 journalctl -q -o cat -u patroni@15-main | tail -5)"; fi
vip=$r/etc/patroni/15-main.vip
check "the .vip: Debian's names filled in, the DCS's TLS files and user added, no password" \
        "VIP_IP=\"10.231.0.100\" VIP_IFACE=\"eth0\" VIP_ETCD_CA_FILE=\"/etc/patroni/etcd-tls/ca.pem\" VIP_ETCD_USER=\"patroni\" 0" \
        "$(grep -E '^(VIP_IP|VIP_IFACE|VIP_ETCD_CA_FILE|VIP_ETCD_USER)=' "$vip" | tr '\n' ' ')$(grep -c "$etcdpw" "$vip")"

# vip-manager@15-main, as Debian ships it, with the package's drop-in.
on 1 systemctl start vip-manager@15-main
sleep 5
pid=$(on 1 systemctl show -p MainPID --value vip-manager@15-main)
check "vip-manager's environment: the password as VIP_ETCD_PASSWORD, nothing of env.conf else; its command line without it" \
        "1 0 0" "$(on 1 cat "/proc/$pid/environ" | tr '\0' '\n' | grep -c "^VIP_ETCD_PASSWORD=$etcdpw\$") $(
        on 1 cat "/proc/$pid/environ" | tr '\0' '\n' | grep -c '^PATRONI_') $(on 1 cat "/proc/$pid/cmdline" | grep -c "$etcdpw")"
check "vip-manager reaches etcd over TLS with the client certificate (no certificate or TLS error)" "0" \
        "$(on 1 journalctl -q -o cat -u vip-manager@15-main | grep -ciE 'x509|certificate|tls:|handshake')"
check "the password is in no log" "0" "$(on 1 journalctl -q -o cat | grep -c "$etcdpw")"
# Debian 12's vip-manager (1.0.2) reads etcd through the v2 API only, which does not see the leader key Patroni
# writes through v3 (etcd3): its requests are answered, but not with what it expects. Said, not hidden.
has_vip() { on 1 ip -o addr show dev eth0 | grep -q ' 10.231.0.100/'; }
if has_vip; then ok "vip-manager@15-main: 10.231.0.100 on the leader's eth0"; else
        echo "# vip-manager $(on 1 vip-manager --version 2>&1 | head -1): no address: $(on 1 journalctl -q -o cat -u vip-manager@15-main |
                grep -m1 -o 'etcd error: .*')"
        check "... and the reason is its etcd v2 client (the v3 leader key is not visible to it), not TLS or the password" "yes" \
                "$(on 1 journalctl -q -o cat -u vip-manager@15-main | grep -q 'response is invalid json' && echo yes)"
fi
on 1 systemctl stop vip-manager@15-main
echo "# system tier, vip-manager, wall time: $((SECONDS - t0)) s"
host_stop 1
net_teardown 1
finish
