#!/bin/bash
# The host's own TLS files: made with the first configuration, renewed by the daemon (start-up, SIGHUP, daily)
# when the addresses its configurations advertise change or the certificate is no longer good, and left alone
# otherwise.
. "$(dirname "$0")/lib.sh"

new_daemon_root
old_cluster 15 main 5432
start_daemon
P=$R/etc/patroni
wait_for 'Generated /etc/patroni/15-main.yml' 1 10
expect_count "the first configuration: the TLS files are made with it" \
        '^patroni-debiand: Made /etc/patroni/tls/ca.pem, /etc/patroni/tls/host.pem, /etc/patroni/tls/host.key: ' 1
check "the configuration names them; the certificate verifies against the CA; the key is not for others" \
        "/etc/patroni/tls/host.pem /etc/patroni/tls/ca.pem $P/tls/host.pem: OK 640" \
        "$(yaml_get "$P/15-main.yml" "d['restapi']['certfile'], d['ctl']['cacert']" | tr -d "(),'") $(
        openssl verify -CAfile "$P/tls/ca.pem" "$P/tls/host.pem" 2>&1) $(stat -c %a "$P/tls/host.key")"
sum=$(md5sum <"$P/tls/host.pem")

kill -HUP "$DPID"
wait_for 'Reloaded settings' 1 5
quiet 300
check "SIGHUP with nothing changed: the certificate is kept" "$sum 0" "$(md5sum <"$P/tls/host.pem") $(count 'Made /etc/patroni/tls/.* again')"

# The configuration now advertises another address (an admin's edit): the next check covers it.
sed -i 's/^  connect_address: "\([0-9.]*\):8008"$/  connect_address: "192.0.2.77:8008"/' "$P/15-main.yml"
wait_for 'dry-run: reload patroni@15-main.service' 1 5
kill -HUP "$DPID"
wait_for 'Made /etc/patroni/tls/.* again' 1 5
expect_count "a new address advertised: made again, and said" \
        '^patroni-debiand: Made /etc/patroni/tls/host.pem, /etc/patroni/tls/host.key again \(new addresses, or near its end\); reloading Patroni to use it.$' 1
check "the new certificate names it, from the same CA" "IP Address:192.0.2.77 $P/tls/host.pem: OK" \
        "$(openssl x509 -in "$P/tls/host.pem" -noout -ext subjectAltName | grep -o 'IP Address:192.0.2.77') $(
        openssl verify -CAfile "$P/tls/ca.pem" "$P/tls/host.pem" 2>&1)"

# A certificate of someone else's in its place (an admin's): never overwritten, said.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=other \
        -keyout "$R/other.key" -out "$R/other.pem" >/dev/null 2>&1
cp "$R/other.pem" "$P/tls/host.pem"
kill -HUP "$DPID"
wait_for 'Cannot renew' 1 5
expect_count "a certificate of someone else's: kept, and said what to do" \
        "^patroni-debiand: error: Cannot renew this host's certificate: /etc/patroni/tls/host.pem is not one of this package's certificates \\(issued by other\\): move it away to have it made, or name your own files with the tls: setting" 1
check "... the file as it was" "yes" "$(cmp -s "$R/other.pem" "$P/tls/host.pem" && echo yes)"
rm "$P/tls/host.pem"
kill -HUP "$DPID"
wait_for 'Made /etc/patroni/tls/.* again' 2 5
check "moved away: made again from the CA" "$P/tls/host.pem: OK" \
        "$(openssl verify -CAfile "$P/tls/ca.pem" "$P/tls/host.pem" 2>&1)"
stop_daemon

# With the tls: setting, the admin's files are used and nothing is made.
new_daemon_root "tls: {ca: /etc/ssl/own/ca.pem, cert: /etc/ssl/own/db.pem, key: /etc/ssl/own/db.key}"
mkdir -p "$R/etc/ssl/own"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 300 -subj /CN=own-ca \
        -keyout "$R/etc/ssl/own/ca.key" -out "$R/etc/ssl/own/ca.pem" >/dev/null 2>&1
cp "$R/etc/ssl/own/ca.pem" "$R/etc/ssl/own/db.pem"
cp "$R/etc/ssl/own/ca.key" "$R/etc/ssl/own/db.key"
old_cluster 15 own 5433
P=$R/etc/patroni
start_daemon
wait_for 'Generated /etc/patroni/15-own.yml' 1 10
check "tls: set: the configuration names the admin's files, no TLS directory made" "/etc/ssl/own/db.pem /etc/ssl/own/ca.pem /etc/ssl/own/ca.pem no" \
        "$(yaml_get "$P/15-own.yml" "d['restapi']['certfile'], d['restapi']['cafile'], d['postgresql']['authentication']['replication']['sslrootcert']" | tr -d "(),'") $(
        [ -e "$R/etc/patroni/tls" ] && echo yes || echo no)"
rm "$R/etc/ssl/own/db.pem"
old_cluster 15 second 5434
wait_for 'Cannot generate /etc/patroni/15-second.yml' 1 10
expect_count "tls: a certificate that is missing: said, nothing written" \
        '^patroni-debiand: error: Cannot generate /etc/patroni/15-second.yml for 15/second: tls: cert /etc/ssl/own/db.pem: No such file or directory. ' 1
stop_daemon
finish
