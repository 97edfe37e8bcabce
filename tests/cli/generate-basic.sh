#!/bin/bash
# patroni-debianctl generate: what an admin sees on the happy paths.
. "$(dirname "$0")/lib.sh"

new_root
out=$("$CTL" --root "$R" generate --hostip=10.231.0.5 15 main)
check "generate prints what it wrote, and the TLS files it made" "Wrote /etc/patroni/15-main.yml (PostgreSQL port 5432, REST API port 8008)
Made /etc/patroni/tls/ca.pem, /etc/patroni/tls/host.pem, /etc/patroni/tls/host.key: this host's certificate, from the CA that /etc/patroni/env.conf's PATRONI_DEBIAND_CA_SEED derives (every host with the same env.conf trusts it)" "$out"
check "the host's certificate names the address given, verifies against the CA; its key is not for others" \
        "IP Address:10.231.0.5 $R/etc/patroni/tls/host.pem: OK 640" \
        "$(openssl x509 -in "$R/etc/patroni/tls/host.pem" -noout -ext subjectAltName | grep -o 'IP Address:10.231.0.5') $(
        openssl verify -CAfile "$R/etc/patroni/tls/ca.pem" "$R/etc/patroni/tls/host.pem") $(stat -c %a "$R/etc/patroni/tls/host.key")"
out=$("$CTL" --root "$R" generate --hostip=10.231.0.5 15 second)
check "a second configuration: the TLS files are in place, nothing more said" \
        "Wrote /etc/patroni/15-second.yml (PostgreSQL port 5432, REST API port 8009)" "$out"
rm "$R/etc/patroni/15-second.yml"
f=$R/etc/patroni/15-main.yml
check "scope" "15-main" "$(yaml_get "$f" "d['scope']")"
check "port is an integer where the template has @PORT@ alone" "10" "$(yaml_get "$f" "d['bootstrap']['dcs']['loop_wait']")"
check "listen" "*:5432" "$(yaml_get "$f" "d['postgresql']['listen']")"
check "restapi" "10.231.0.5:8008" "$(yaml_get "$f" "d['restapi']['connect_address']")"
check "bin_dir" "/usr/lib/postgresql/15/bin" "$(yaml_get "$f" "d['postgresql']['bin_dir']")"
check "pg_hba where Patroni reads it" "True" "$(yaml_get "$f" "d['postgresql']['pg_hba'] == d['bootstrap']['pg_hba']")"
check "header names the sources" "# from /etc/patroni/config.yml.in and /etc/patroni/dcs.yml." "$(sed -n 2p "$f")"

# --stdout writes nothing; a second generate refuses; --force replaces.
new_root
"$CTL" --root "$R" generate --stdout 15 main >"$R/out.yml"
check "--stdout prints the configuration" "15-main" "$(yaml_get "$R/out.yml" "d['scope']")"
check "--stdout writes nothing" "absent" "$([ -e "$R/etc/patroni/15-main.yml" ] && echo present || echo absent)"
"$CTL" --root "$R" generate --hostip=10.231.0.5 15 main >/dev/null
"$CTL" --root "$R" generate --hostip=10.231.0.6 15 main >/dev/null 2>&1
check "exists: exit 4" "4" "$?"
check "exists: old file kept" "10.231.0.5:8008" "$(yaml_get "$R/etc/patroni/15-main.yml" "d['restapi']['listen']")"
"$CTL" --root "$R" generate --hostip=10.231.0.6 --force 15 main >/dev/null
check "--force replaces" "10.231.0.6:8008" "$(yaml_get "$R/etc/patroni/15-main.yml" "d['restapi']['listen']")"
check "--force keeps mode 0640" "640" "$(stat -c %a "$R/etc/patroni/15-main.yml")"

# Options before, between and after the positional arguments (Debian's takes them only before).
new_root
"$CTL" generate 15 --root "$R" main --port 5440 --hostip 10.231.0.5 >/dev/null
check "options anywhere" "10.231.0.5:5440" "$(yaml_get "$R/etc/patroni/15-main.yml" "d['postgresql']['connect_address']")"

# /etc/default/patroni when dcs.yml is absent.
new_root; rm "$R/etc/patroni/dcs.yml"; mkdir -p "$R/etc/default"
printf 'DCS_TYPE=etcd3\nDCS_HOSTS=10.231.0.1:2379,10.231.0.2:2379\n' >"$R/etc/default/patroni"
"$CTL" --root "$R" generate --stdout 15 main >"$R/out.yml"
check "DCS from /etc/default/patroni" "['10.231.0.1:2379', '10.231.0.2:2379']" "$(yaml_get "$R/out.yml" "d['etcd3']['hosts']")"
check "... written without tags (no \"!<%21>\" before a quoted host)" "0" "$(grep -c '!' "$R/out.yml")"
# dcs.yml with a flow list of hosts, which must be quoted in the output: strings, with no tag either.
new_root; printf 'etcd3:\n  hosts: [10.231.0.1:2379, 10.231.0.2:2379]\n' >"$R/etc/patroni/dcs.yml"
"$CTL" --root "$R" generate --stdout 15 main >"$R/out.yml"
check "DCS hosts as a flow list in dcs.yml: the same strings, no tag" "['10.231.0.1:2379', '10.231.0.2:2379'] 0" \
        "$(yaml_get "$R/out.yml" "d['etcd3']['hosts']") $(grep -c '!' "$R/out.yml")"

# --vip: the environment of Debian's vip-manager@.service, with the leader key Patroni really uses.
# vipval FILE KEY: KEY's value as systemd's EnvironmentFile= reads it (double quotes, backslash escapes)
vipval() { /usr/bin/python3 - "$1" "$2" <<'PY'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r'^([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"$', line.rstrip("\n"))
    if m and m.group(1) == sys.argv[2]:
        print(re.sub(r"\\(.)", r"\1", m.group(2)))
PY
}
new_root
cp "$VIP_TEMPLATE" "$R/etc/patroni/vip.in"
sed -i -e 's|^namespace: .*|namespace: /ha/|' -e 's|^  listen: "\*:@PORT@"|  listen: "@HOSTIP@@LISTEN_VIP@,127.0.0.1:@PORT@"|' \
        "$R/etc/patroni/config.yml.in"
out=$("$CTL" --root "$R" generate --hostip=10.231.0.5 --vip=127.0.0.9 15 my-db)
check "--vip writes both files" "Wrote /etc/patroni/15-my-db.yml (PostgreSQL port 5432, REST API port 8008)
Wrote /etc/patroni/15-my-db.vip" "$(head -2 <<<"$out")"
v=$R/etc/patroni/15-my-db.vip
check "vip: key from namespace and scope" "/ha/15-my-db/leader" "$(vipval "$v" VIP_TRIGGER_KEY)"
check "vip: interface of the VIP's network" "lo 8" "$(vipval "$v" VIP_INTERFACE) $(vipval "$v" VIP_NETMASK)"
check "vip: endpoint from dcs.yml" "http://127.0.0.1:2379" "$(vipval "$v" VIP_DCS_ENDPOINTS)"
check "vip: etcd3 is etcd to vip-manager" "etcd" "$(vipval "$v" VIP_DCS_TYPE)"
check "vip: member name" "$(hostname)" "$(vipval "$v" VIP_TRIGGER_VALUE)"
check "vip: every line a comment or KEY=\"value\"" "0" "$(grep -cvE '^(#.*|[A-Z_]+=".*")$' "$v")"
check "vip: @LISTEN_VIP@ adds the VIP" "10.231.0.5,127.0.0.9,127.0.0.1:5432" \
        "$(yaml_get "$R/etc/patroni/15-my-db.yml" "d['postgresql']['listen']")"
check "vip file mode" "640" "$(stat -c %a "$v")"

# Debian's vip.in (the vip-manager package's, in part): its own names kept, placeholders filled, values quoted.
new_root
cat >"$R/etc/patroni/vip.in" <<'VIP'
# The following keys are mandatory
VIP_IP="@VIP_IP@"
VIP_MASK="@VIP_MASK@"
VIP_IFACE="@VIP_IFACE@"
VIP_KEY="@VIP_KEY@"
VIP_HOST="@VIP_HOST@"
VIP_TYPE="@VIP_TYPE@"
VIP_ENDPOINT="@VIP_ENDPOINT@"
#VIP_ETCD_USER=patroni
VIP
# The DCS over TLS with a user: its files and user go to vip-manager too, its password never.
printf 'etcd3:\n  hosts: 127.0.0.1:2379\n  protocol: https\n  cacert: /etc/patroni/etcd-tls/ca.pem\n  cert: /etc/patroni/etcd-tls/c.pem\n  key: /etc/patroni/etcd-tls/c.key\n  username: "pat\\"roni"\n' \
        >"$R/etc/patroni/dcs.yml"
"$CTL" --root "$R" generate --hostip=10.231.0.5 --vip=127.0.0.9 15 main >/dev/null
v=$R/etc/patroni/15-main.vip
check "Debian's vip.in: its names, the values filled in" "127.0.0.9 /postgresql-common/15-main/leader etcd https://127.0.0.1:2379" \
        "$(vipval "$v" VIP_IP) $(vipval "$v" VIP_KEY) $(vipval "$v" VIP_TYPE) $(vipval "$v" VIP_ENDPOINT)"
check "the DCS's TLS files and user added, a quote in a value escaped" \
        "/etc/patroni/etcd-tls/ca.pem /etc/patroni/etcd-tls/c.pem /etc/patroni/etcd-tls/c.key pat\"roni|VIP_ETCD_USER=\"pat\\\"roni\"" \
        "$(vipval "$v" VIP_ETCD_CA_FILE) $(vipval "$v" VIP_ETCD_CERT_FILE) $(vipval "$v" VIP_ETCD_KEY_FILE) $(vipval "$v" VIP_ETCD_USER)|$(grep '^VIP_ETCD_USER=' "$v")"
check "no password in the vip file" "0" "$(grep -ciE "^[^#]*password" "$v")"

# Debian 12's vip-manager (1.0.2) reads etcd through the v2 API: with etcd3, said; with a 2.x, not.
new_root
cp "$VIP_TEMPLATE" "$R/etc/patroni/vip.in"
mkdir -p "$R/var/lib/dpkg"
printf 'Package: vip-manager\nStatus: install ok installed\nVersion: 1.0.2-6+b2\n\n' >"$R/var/lib/dpkg/status"
out=$("$CTL" --root "$R" generate --hostip=10.231.0.5 --vip=127.0.0.9 15 main 2>&1 >/dev/null)
check "vip-manager 1.x with etcd3: a warning that says why and what to use" "1" \
        "$(grep -c '^patroni-debianctl: warning: the installed vip-manager (1.x) reads etcd through its v2 API, which does not see the leader key Patroni writes with etcd3: it will never raise 127.0.0.9; vip-manager 2 or later reads etcd3$' <<<"$out")"
new_root
cp "$VIP_TEMPLATE" "$R/etc/patroni/vip.in"
mkdir -p "$R/var/lib/dpkg"
printf 'Package: vip-manager\nStatus: install ok installed\nVersion: 2.1.0-1\n\n' >"$R/var/lib/dpkg/status"
check "... with vip-manager 2: none" "" "$("$CTL" --root "$R" generate --hostip=10.231.0.5 --vip=127.0.0.9 15 main 2>&1 >/dev/null)"

# A YAML vip.in (vip-manager's file keys, as this package's earlier one): turned into the environment.
new_root
printf 'ip: @VIP_IP@\nnetmask: @VIP_MASK@\ntrigger-key: "@VIP_KEY@"\ndcs-endpoints: ["@VIP_ENDPOINT@", "http://10.0.0.2:2379"]\nretry-num: 3\n' \
        >"$R/etc/patroni/vip.in"
"$CTL" --root "$R" generate --hostip=10.231.0.5 --vip=127.0.0.9 15 main >/dev/null
v=$R/etc/patroni/15-main.vip
check "YAML vip.in: VIP_ and the key in capitals, a list comma-separated" \
        "127.0.0.9 8 /postgresql-common/15-main/leader http://127.0.0.1:2379,http://10.0.0.2:2379 3" \
        "$(vipval "$v" VIP_IP) $(vipval "$v" VIP_NETMASK) $(vipval "$v" VIP_TRIGGER_KEY) $(vipval "$v" VIP_DCS_ENDPOINTS) $(vipval "$v" VIP_RETRY_NUM)"

# --help and --version
"$CTL" --help | grep -q "generate \[OPTIONS\] VERSION CLUSTER"; check "--help" "0" "$?"
"$CTL" generate --help | grep -q -- "--stdout"; check "generate --help" "0" "$?"
check "--version" "patroni-debianctl $(sed -n 's/^AC_INIT(\[patroni-debiand\], \[\([^]]*\)\].*/\1/p' "${top_srcdir:?}/configure.ac")" "$("$CTL" --version)"

# An unprivileged user can render (--stdout) from files it may read.
if is_root; then
        new_root; chmod 755 "$R"
        out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL" --root "$R" generate --stdout 15 main 2>&1)
        check "as nobody, --stdout works" "0" "$?"
fi

# The template: setting names a file below the root, and generate uses it as the daemon does.
new_root
new_cluster "$R" 15 main 5432
mkdir -p "$R/srv"
sed 's/ttl: 30/ttl: 31/' "$TEMPLATE" >"$R/srv/config.yml.in"
printf 'template: /srv/config.yml.in\n' >"$R/etc/patroni/patroni-debiand.yml"
out=$("$CTL" generate --root "$R" --hostip=10.0.0.5 --stdout 15 main 2>&1); rc=$?
check "generate uses the template: setting, below --root" "0 1" "$rc $(grep -c '^ *ttl: 31$' <<<"$out")"
printf 'template: /srv/missing.yml.in\n' >"$R/etc/patroni/patroni-debiand.yml"
out=$("$CTL" generate --root "$R" --hostip=10.0.0.5 --stdout 15 main 2>&1); rc=$?
check "a template: setting naming no file: said, as the daemon says it" \
        "5 patroni-debianctl: error: /srv/missing.yml.in (template: in /etc/patroni/patroni-debiand.yml): cannot read: No such file or directory" "$rc $out"
# The REST API's credentials: made once, before the first configuration, root's and 0600; an admin's lines
# kept byte for byte; never on stdout; never made for --stdout; refused into an env.conf others can read.
new_root
new_cluster "$R" 15 main 5432
new_cluster "$R" 15 other 5433
rm "$R/etc/patroni/env.conf"
"$CTL" generate --root "$R" --hostip=10.0.0.5 --stdout 15 main >/dev/null 2>&1
check "--stdout: no env.conf made" "no" "$([ -e "$R/etc/patroni/env.conf" ] && echo yes || echo no)"
out=$("$CTL" generate --root "$R" --hostip=10.0.0.5 15 main 2>&1); rc=$?
check "first generate: says which it added, never their values" \
        "0 Added PATRONI_RESTAPI_USERNAME, PATRONI_RESTAPI_PASSWORD to /etc/patroni/env.conf (root only): the REST API asks for them on every unsafe request. Every other host of the cluster needs the same file" \
        "$rc $(grep '^Added' <<<"$out")"
env_conf=$(cat "$R/etc/patroni/env.conf")
check "env.conf: the user, and a 32-character random password" "yes" \
        "$(grep -qx 'PATRONI_RESTAPI_USERNAME=patroni' <<<"$env_conf" && grep -qE '^PATRONI_RESTAPI_PASSWORD=[A-Za-z0-9_-]{32}$' <<<"$env_conf" && echo yes)"
check "env.conf: 0600$(is_root && echo ' root:root')" "600$(is_root && echo ' root root')" \
        "$(stat -c '%a' "$R/etc/patroni/env.conf")$(is_root && stat -c ' %U %G' "$R/etc/patroni/env.conf")"
check "the password is nowhere in what generate printed or wrote elsewhere" "0" \
        "$(pw=$(sed -n 's/^PATRONI_RESTAPI_PASSWORD=//p' "$R/etc/patroni/env.conf"); { echo "$out"; cat "$R/etc/patroni/15-main.yml"; } | grep -c -- "$pw")"
out=$("$CTL" generate --root "$R" --hostip=10.0.0.5 15 other 2>&1)
check "second generate: env.conf unchanged, nothing said of it" "yes 0" \
        "$([ "$(cat "$R/etc/patroni/env.conf")" = "$env_conf" ] && echo yes) $(grep -c '^Added' <<<"$out")"
new_root
new_cluster "$R" 15 main 5432
printf '# the admin'"'"'s\nPATRONI_SUPERUSER_PASSWORD="s p"\nPATRONI_RESTAPI_USERNAME=admin' >"$R/etc/patroni/env.conf"
chmod 600 "$R/etc/patroni/env.conf"
"$CTL" generate --root "$R" --hostip=10.0.0.5 15 main >/dev/null 2>&1
check "an admin's env.conf: kept byte for byte, its user kept, only the password and the CA's seed added" \
        "# the admin's|PATRONI_SUPERUSER_PASSWORD=\"s p\"|PATRONI_RESTAPI_USERNAME=admin|PATRONI_RESTAPI_PASSWORD=*|PATRONI_DEBIAND_CA_SEED=*|" \
        "$(sed 's/^\(PATRONI_RESTAPI_PASSWORD=\|PATRONI_DEBIAND_CA_SEED=\).*/\1*/' "$R/etc/patroni/env.conf" | tr '\n' '|')"
if is_root; then
        new_root
        new_cluster "$R" 15 main 5432
        rm "$R/etc/patroni/env.conf"
        printf 'PATRONI_SUPERUSER_PASSWORD=x\n' >"$R/etc/patroni/env.conf"
        chmod 644 "$R/etc/patroni/env.conf"
        out=$("$CTL" generate --root "$R" --hostip=10.0.0.5 15 main 2>&1); rc=$?
        check "env.conf readable by every user: nothing added, no configuration written, the fix named" \
                "6 patroni-debianctl: error: /etc/patroni/env.conf: not adding secrets to it: /etc/patroni/env.conf is readable by every user (mode 0644), and holds passwords: chmod 600 /etc/patroni/env.conf no" \
                "$rc $out $([ -e "$R/etc/patroni/15-main.yml" ] && echo yes || echo no)"
else
        skip "env.conf readable by others (needs root)"
fi
finish
