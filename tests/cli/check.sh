#!/bin/bash
# patroni-debianctl check: each finding on its own line, errors named by file,
# line and column, patroni --validate-config's verdict, exit 1 on any error.
. "$(dirname "$0")/lib.sh"

new_root
new_cluster "$R" 15 main 5432
B=$R/bin
mkdir -p "$B"
# A patroni whose --validate-config verdict the test sets.
cat >"$B/patroni" <<'SH'
#!/bin/sh
[ "$1" = --validate-config ] || exit 2
[ -r "$2" ] || { echo "cannot read $2"; exit 1; }
case ${PATRONI_VERDICT:-ok} in
ok) exit 0 ;;
port) echo "restapi.listen 10.0.0.1:8008 didn't pass validation: 'Port 8008 is already in use.'"; exit 1 ;;
crash) printf 'Traceback (most recent call last):\n  File "x", line 1, in <module>\nValueError: boom\n'; exit 1 ;;
debian) # what Patroni 3.0.2 says of a configuration from Debian's template on a fresh host
        echo "bootstrap.pg_hba  is not defined."
        echo "bootstrap.initdb  is not defined."
        echo "postgresql.authentication.superuser.password None is not a string"
        [ -n "${PATRONI_REWIND_USERNAME:-}" ] || echo "postgresql.authentication.rewind  is not defined."
        echo "etcd3.hosts 127.0.0.1:2379 didn't pass validation: '127.0.0.1:2379 is not reachable'"
        exit 1 ;;
esac
SH
chmod +x "$B/patroni"
run_check() { out=$(PATH=$B:$PATH "$CTL" --root "$R" check "$@" 2>&1); rc=$?; }

run_check 15/main
echo "$out" | sed 's/^/# /'
check "clean: exit 0" "0" "$rc"
check "clean: every finding on its own line, then the count" "ok ok ok ok ok info info ok 0 " \
        "$(awk '{ print $1 }' <<<"$out" | tr '\n' ' ')"
check "clean: Patroni validated the configuration that would be generated" "yes" \
        "$(grep -q '^ok  *patroni --validate-config (the configuration that would be generated)$' <<<"$out" && echo yes)"

"$CTL" generate --root "$R" --hostip=10.0.0.1 15 main >/dev/null
PATRONI_VERDICT=port run_check 15-main
check "an existing configuration Patroni rejects: exit 1, Patroni's words" "1 yes" \
        "$rc $(grep -q "^error  *patroni --validate-config /etc/patroni/15-main.yml: restapi.listen 10.0.0.1:8008 didn't pass validation: 'Port 8008 is already in use.'$" <<<"$out" && echo yes)"
PATRONI_VERDICT=crash run_check 15/main
check "a Patroni traceback: only its last line" "1 error    patroni --validate-config /etc/patroni/15-main.yml: ValueError: boom" \
        "$rc $(grep 'validate-config' <<<"$out")"

# Debian's template on a fresh host: every line means something. Validator quirks are info, with the reason;
# the unreachable DCS stays an error.
PATRONI_VERDICT=debian run_check 15/main
echo "$out" | sed 's/^/# /'
check "Debian's template: four notes, one error (the DCS), exit 1" "1 4 1 error, 0 warnings" \
        "$rc $(grep -c '^info  *patroni --validate-config .*(not a problem: ' <<<"$out") $(tail -1 <<<"$out")"
check "... the error is the DCS" "yes" "$(grep -q "^error  *patroni --validate-config .*127.0.0.1:2379 is not reachable" <<<"$out" && echo yes)"
printf 'PATRONI_REWIND_USERNAME=rewind\nPATRONI_REWIND_PASSWORD=secret-rw\n' >"$R/etc/patroni/env.conf"
chmod 600 "$R/etc/patroni/env.conf"
PATRONI_VERDICT=debian run_check 15/main
check "Patroni is asked with env.conf's variables, as its unit has them (no rewind finding)" "0 yes" \
        "$(grep -c 'rewind' <<<"$out") $(grep -q "^ok  */etc/patroni/env.conf: root's, readable by no other user" <<<"$out" && echo yes)"
check "... and no password is printed" "0" "$(grep -c 'secret-rw' <<<"$out")"
chmod 644 "$R/etc/patroni/env.conf"
run_check 15/main
check "env.conf readable by every user: a warning saying what to run" "yes" \
        "$(grep -q '^warning  */etc/patroni/env.conf is readable by every user (mode 0644), and holds passwords: chmod 600 /etc/patroni/env.conf$' <<<"$out" && echo yes)"
rm "$R/etc/patroni/env.conf"
run_check 15/main
check "no REST API credentials anywhere: a warning saying what anyone could do and what to do" "0 yes" \
        "$rc $(grep -q '^warning  */etc/patroni/15-main.yml: Patroni.s REST API at 10.0.0.1:8008 asks for no password, so anyone who reaches it may restart PostgreSQL, fail over or change any parameter: add PATRONI_RESTAPI_USERNAME and PATRONI_RESTAPI_PASSWORD to /etc/patroni/env.conf' <<<"$out" && echo yes)"
printf 'PATRONI_RESTAPI_USERNAME=patroni\nPATRONI_RESTAPI_PASSWORD=x\n' >"$R/etc/patroni/env.conf"
chmod 600 "$R/etc/patroni/env.conf"

# The DCS over plain http to another host: a warning; TLS, or loopback, none.
dcs_warning() { # DCS-SECTION: the plain-DCS warnings check gives for a configuration with that section
        sed '/^etcd3:/,/^[a-z]/{/^etcd3:/d;/^  /d}' "$R/etc/patroni/15-main.yml" >"$R/etc/patroni/15-dcs.yml"
        printf '%b' "$1" >>"$R/etc/patroni/15-dcs.yml"
        run_check 15/dcs
        grep -c 'the DCS is reached over plain http at' <<<"$out"
        rm "$R/etc/patroni/15-dcs.yml"
}
# Private keys the configuration names: readable or writable by others, a warning; root:postgres 0640, none.
mkdir -p "$R/etc/patroni/keys"
printf 'k' >"$R/etc/patroni/keys/ok.key"; chmod 640 "$R/etc/patroni/keys/ok.key"
printf 'k' >"$R/etc/patroni/keys/open.key"; chmod 644 "$R/etc/patroni/keys/open.key"
printf 'k' >"$R/etc/patroni/keys/gw.key"; chmod 660 "$R/etc/patroni/keys/gw.key"
key_warnings() { # the key warnings of a configuration whose DCS names KEY and whose REST API names KEYFILE
        sed '/^etcd3:/,/^[a-z]/{/^etcd3:/d;/^  /d}; s|^  keyfile: .*|  keyfile: '"$2"'|' \
                "$R/etc/patroni/15-main.yml" >"$R/etc/patroni/15-keys.yml"
        printf 'etcd3:\n  hosts: 127.0.0.1:2379\n  key: %s\n' "$1" >>"$R/etc/patroni/15-keys.yml"
        run_check 15/keys
        grep -E '^warning .*(private key|names the key)' <<<"$out" | sed 's/^warning  *//'
        rm "$R/etc/patroni/15-keys.yml"
}
check "keys: none said for root:postgres 0640" "" "$(key_warnings /etc/patroni/keys/ok.key /etc/patroni/keys/ok.key)"
check "keys: readable by every user, writable by the group, missing: each said with what to do" \
        "/etc/patroni/15-keys.yml: the private key /etc/patroni/keys/gw.key is writable by its group (mode 0660): chmod 640 /etc/patroni/keys/gw.key|/etc/patroni/15-keys.yml: the private key /etc/patroni/keys/open.key is readable by every user (mode 0644): chown root:postgres /etc/patroni/keys/open.key; chmod 640 /etc/patroni/keys/open.key|" \
        "$(key_warnings /etc/patroni/keys/open.key /etc/patroni/keys/gw.key | LC_ALL=C sort | tr '\n' '|')"
check "keys: a key that does not exist is said" "/etc/patroni/15-keys.yml names the key /etc/patroni/keys/none.key: No such file or directory" \
        "$(key_warnings /etc/patroni/keys/none.key /etc/patroni/keys/ok.key)"
# Certificates the configuration names: one that expires within 30 days, and a server certificate that
# does not name the address its peers connect to, are warnings; a good one is not.
if command -v openssl >/dev/null; then
        mkcert() { # FILE DAYS SAN
                openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$2" -subj /CN=t \
                        -addext "subjectAltName=$3" -keyout "$R/etc/patroni/keys/$1.key" -out "$R/etc/patroni/keys/$1.pem" \
                        >/dev/null 2>&1
                chmod 640 "$R/etc/patroni/keys/$1.key"
        }
        mkcert good 400 IP:10.0.0.1
        mkcert soon 10 IP:10.0.0.1
        mkcert other 400 IP:10.9.9.9
        cert_warnings() { # RESTAPI-CERT: the certificate warnings of a configuration whose REST API names it
                sed 's|^  certfile: .*|  certfile: '"$1"'|' "$R/etc/patroni/15-main.yml" >"$R/etc/patroni/15-certs.yml"
                run_check 15/certs
                grep -E '^warning .*certificate' <<<"$out" | sed 's/^warning  *//'
                rm "$R/etc/patroni/15-certs.yml"
        }
        check "certificates: none said for one that names the REST API's address and lasts" "" \
                "$(cert_warnings /etc/patroni/keys/good.pem)"
        check "certificates: one that expires within 30 days: said, with the date" \
                "/etc/patroni/15-certs.yml: the certificate /etc/patroni/keys/soon.pem expires on $(date -u -d '+10 days' +%F): renew it and reload Patroni" \
                "$(cert_warnings /etc/patroni/keys/soon.pem)"
        check "certificates: one that does not name the REST API's address: said" \
                "/etc/patroni/15-certs.yml: the certificate /etc/patroni/keys/other.pem does not name 10.0.0.1, which its peers connect to: a client that verifies it refuses the connection; add it to the certificate's subjectAltName" \
                "$(cert_warnings /etc/patroni/keys/other.pem)"
        check "certificates: a file that is none: said" \
                "/etc/patroni/15-certs.yml names the certificate /etc/patroni/keys/good.key: /etc/patroni/keys/good.key holds no PEM certificate" \
                "$(cert_warnings /etc/patroni/keys/good.key)"
else
        skip "certificates (openssl not installed)"
fi
rm -r "$R/etc/patroni/keys"

check "DCS: plain http to other hosts warned; https, loopback and an https url not" "1 1 1 0 0 0" \
        "$(dcs_warning 'etcd3:\n  hosts: 10.7.7.7:2379\n') $(dcs_warning 'etcd3:\n  hosts: [127.0.0.1:2379, 10.7.7.8:2379]\n') $(
        dcs_warning 'etcd3:\n  url: http://etcd.example:2379\n') $(dcs_warning 'etcd3:\n  protocol: https\n  hosts: 10.7.7.7:2379\n') $(
        dcs_warning 'etcd3:\n  hosts: 127.0.0.1:2379,[::1]:2379,localhost:2379\n') $(dcs_warning 'etcd3:\n  urls: [https://10.7.7.7:2379]\n')"

# A configuration in the form of an earlier version: one warning that says how to upgrade, then each change.
sed -e '/^restapi:/,/^[a-z]/{/^  \(certfile\|keyfile\|cafile\):/d}' -e 's/sslmode: verify-full/sslmode: require/' \
        -e 's/hostssl replication/host    replication/' -e 's/^scope: .*/scope: "15-old"/' -e 's/:8008"/:8118"/' \
        -e 's/5432/5542/' "$R/etc/patroni/15-main.yml" >"$R/etc/patroni/15-old.yml"
run_check 15/old
check "an earlier version's form: a warning naming upgrade, each change as info" "yes 1 1 1" \
        "$(grep -q '^warning  */etc/patroni/15-old.yml is not in the secure form that generate writes ([0-9]* changes): patroni-debianctl upgrade --dry-run 15/old lists them, without --dry-run makes them$' <<<"$out" && echo yes) $(
        grep -c '^info  *  restapi.certfile: set to /etc/patroni/tls/host.pem$' <<<"$out") $(
        grep -c '^info  *  postgresql.authentication.replication.sslmode: require -> verify-full$' <<<"$out") $(
        grep -c '^info  *  postgresql.pg_hba: "host    replication  replicator   10.0.0.1/32      scram-sha-256" -> "hostssl    replication  replicator   10.0.0.1/32      scram-sha-256"$' <<<"$out")"
rm "$R/etc/patroni/15-old.yml"

# An etcd password in env.conf alone: Patroni 3.0.2 would not use it for the DCS.
cp "$R/etc/patroni/env.conf" "$R/env.keep"
printf 'PATRONI_ETCD3_PASSWORD=pw\n' >>"$R/etc/patroni/env.conf"
run_check 15/main
check "env.conf: an etcd password alone is an error that says what to add" "1 1" \
        "$rc $(grep -c '^error  */etc/patroni/env.conf sets PATRONI_ETCD3_PASSWORD alone: Patroni then takes it for the password of a database role ETCD3 and reaches the DCS without it; add PATRONI_ETCD3_PROTOCOL= (http or https, as in the DCS configuration) next to it$' <<<"$out")"
printf 'PATRONI_ETCD3_PROTOCOL=https\n' >>"$R/etc/patroni/env.conf"
run_check 15/main
check "... with PATRONI_ETCD3_PROTOCOL beside it: none" "0" "$(grep -c 'PATRONI_ETCD3_PASSWORD alone' <<<"$out")"
cp "$R/env.keep" "$R/etc/patroni/env.conf"

# An admin's copy of a configuration: both files named.
cp "$R/etc/patroni/15-main.yml" "$R/etc/patroni/15-main.bak.yml"
run_check 15/main.bak
check "a copy of another configuration: an error naming both" "1 yes" \
        "$rc $(grep -q '^error  */etc/patroni/15-main.bak.yml has the same data directory /var/lib/postgresql/15/main as /etc/patroni/15-main.yml' <<<"$out" && echo yes)"
rm "$R/etc/patroni/15-main.bak.yml"

# The DCS moved since the configuration was generated: a warning, nothing rewritten.
before=$(md5sum <"$R/etc/patroni/15-main.yml")
printf 'etcd3:\n  hosts: 10.7.7.7:2379\n' >"$R/etc/patroni/dcs.yml"
run_check 15/main
check "a DCS section that no longer matches dcs.yml: a warning, the file untouched" "yes $before" \
        "$(grep -q "^warning  */etc/patroni/15-main.yml's DCS section differs from what /etc/patroni/dcs.yml gives now" <<<"$out" && echo yes) $(md5sum <"$R/etc/patroni/15-main.yml")"
printf 'etcd3:\n  hosts: 127.0.0.1:2379\n' >"$R/etc/patroni/dcs.yml"
touch -d '1 hour ago' "$R/etc/patroni/.15-x.yml.abcdef.tmp"
run_check 15/main
check "check changes nothing: a stale temporary file stays" "yes" "$([ -e "$R/etc/patroni/.15-x.yml.abcdef.tmp" ] && echo yes)"
rm "$R/etc/patroni/.15-x.yml.abcdef.tmp"

printf 'scope: [\n' >"$R/etc/patroni/15-broken.yml"
run_check 15/broken
check "a configuration that does not parse: line and column; Patroni not asked" "1 yes yes" \
        "$rc $(grep -q '^error  */etc/patroni/15-broken.yml: line 2, column 1: ' <<<"$out" && echo yes) $(
                grep -q '^skipped  *patroni --validate-config: /etc/patroni/15-broken.yml does not parse' <<<"$out" && echo yes)"

printf 'settle_ms: soon\n' >"$R/etc/patroni/patroni-debiand.yml"
run_check 15/main
check "broken settings: file:line:column" "1 yes" \
        "$rc $(grep -q '^error  */etc/patroni/patroni-debiand.yml:1:12: settle_ms: ' <<<"$out" && echo yes)"
printf 'exclude: ["15/main"]\n' >"$R/etc/patroni/patroni-debiand.yml"
run_check 15/main
check "excluded: a warning, not an error" "0 yes 0 errors, 1 warning" \
        "$rc $(grep -q '^warning  *15/main is excluded' <<<"$out" && echo yes) $(tail -1 <<<"$out")"
rm "$R/etc/patroni/patroni-debiand.yml"

printf 'oops: [\n' >"$R/etc/patroni/dcs.yml"
run_check 15/main
check "broken DCS input: named with line and column" "1 yes" \
        "$rc $(grep -q '^error  */etc/patroni/dcs.yml:2:1: ' <<<"$out" && echo yes)"
printf 'etcd3:\n  hosts: 127.0.0.1:2379\n' >"$R/etc/patroni/dcs.yml"

out=$(PATH=/nonexistent "$CTL" --root "$R" check 15/main 2>&1); rc=$?
check "without Patroni: skipped, not an error" "0 yes" \
        "$rc $(grep -q '^skipped  *patroni --validate-config: patroni is not installed' <<<"$out" && echo yes)"
run_check 'nope'
check "not VERSION/CLUSTER: usage error" "2" "$rc"
finish
