#!/bin/bash
# Parity with Debian's pg_createconfig_patroni: on Debian's own config.yml.in
# and dcs.yml, for many clusters, our output parses to the same YAML as the
# script's made secure (TLS, verified peers, hostssl, no secret: modelled
# below), given the same --hostip/--network/--port. The script writes only
# under the real /etc, so both run in a private mount and UTS namespace with
# tmpfs over /etc/patroni, /etc/postgresql, /etc/postgresql-common,
# /usr/lib/postgresql and /var/lib/postgresql (pg_lsclusters needs each
# cluster's data directory): the machine's own files are never touched.
. "$(dirname "$0")/lib.sh"

if ! is_root; then
        skip "parity (needs root for a mount namespace)"
        finish
fi
if [ ! -x /usr/bin/pg_createconfig_patroni ] || [ ! -f /etc/patroni/config.yml.in ] || ! command -v pg_lsclusters >/dev/null; then
        skip "parity (Debian's patroni and postgresql-common packages are not installed)"
        finish
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/pdd-parity-XXXXXX")
CLEANUP+=("rm -rf '$W'")
cp /etc/patroni/config.yml.in "$W/config.yml.in"
cp /etc/patroni/dcs.yml "$W/debian-dcs.yml"

cat >"$W/inside.sh" <<'INSIDE'
set -u
W=$1 CTL=$2
hostname paritynode
for d in /etc/patroni /etc/postgresql /etc/postgresql-common /usr/lib/postgresql /var/lib/postgresql; do
        mkdir -p "$d" && mount -t tmpfs tmpfs "$d" || exit 99
done
cp "$W/config.yml.in" /etc/patroni/config.yml.in

reset() {
        rm -rf /etc/postgresql/* /etc/postgresql-common/* /etc/patroni/*.yml /var/lib/postgresql/*
        chmod 755 /var/lib/postgresql
        cp "$W/debian-dcs.yml" /etc/patroni/dcs.yml
}
cluster() { # VERSION NAME PORT
        mkdir -p "/etc/postgresql/$1/$2" "/usr/lib/postgresql/$1/bin" "/var/lib/postgresql/$1/$2"
        chmod 755 "/var/lib/postgresql/$1"
        printf "port = %s\ndata_directory = '/var/lib/postgresql/%s/%s'\n" "$3" "$1" "$2" >"/etc/postgresql/$1/$2/postgresql.conf"
        touch "/usr/lib/postgresql/$1/bin/initdb" && chmod +x "/usr/lib/postgresql/$1/bin/initdb"
}
version() { mkdir -p "/usr/lib/postgresql/$1/bin" && touch "/usr/lib/postgresql/$1/bin/initdb" && chmod +x "/usr/lib/postgresql/$1/bin/initdb"; }

n=0
compare() { # NAME ARGS... (options then VERSION CLUSTER)
        local name=$1
        shift
        local args=("$@") v=${*: -2:1} c=${*: -1}
        n=$((n + 1))
        if ! pg_createconfig_patroni "${args[@]}" >"$W/debian.out" 2>&1; then
                echo "not ok - $name: Debian's script failed: $(cat "$W/debian.out")"
                return
        fi
        mv "/etc/patroni/$v-$c.yml" "$W/debian.yml"
        if ! "$CTL" generate --stdout "${args[@]}" >"$W/ours.yml" 2>"$W/ours.err"; then
                echo "not ok - $name: ours failed: $(cat "$W/ours.err")"
                return
        fi
        if /usr/bin/python3 - "$W/debian.yml" "$W/ours.yml" <<'PY'
import ipaddress, re, sys, yaml
a = yaml.safe_load(open(sys.argv[1]))
b = yaml.safe_load(open(sys.argv[2]))

# What ours does on top of Debian's output, modelled here independently (harden.h says it in words):
# TLS for the REST API and PostgreSQL with the hosts' own files, peers verified, no secret in the file,
# network pg_hba rules hostssl with scram-sha-256.
CA, CERT, KEY = "/etc/patroni/tls/ca.pem", "/etc/patroni/tls/host.pem", "/etc/patroni/tls/host.key"

def local(addr, mask):
    if addr.lower() in ("localhost", "samehost"):
        return True
    try:
        net = ipaddress.ip_network(addr + ("/" + mask if mask else ""), strict=False)
    except ValueError:
        return False
    loop = ipaddress.ip_network("127.0.0.0/8") if net.version == 4 else ipaddress.ip_network("::1/128")
    return net.subnet_of(loop)

def rule(r):
    parts = re.split(r"(\s+)", r)   # words at even indexes, blanks kept
    w = parts[0::2]
    if len(w) >= 4 and w[0] == "local":
        if w[3] == "trust":
            w[3] = "peer"
    elif len(w) >= 5 and w[0] in ("host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"):
        m = 5 if len(w) >= 6 and "/" not in w[3] and re.fullmatch(r"[0-9.]+", w[3]) else 4
        if not local(w[3], w[4] if m == 5 else None) and w[0] in ("host", "hostnossl", "hostnogssenc"):
            w[0] = "hostssl"
        if w[m].lower() in ("trust", "password", "md5", "ident"):
            w[m] = "scram-sha-256"
    parts[0::2] = w
    return "".join(parts)

def secure(d):
    pg = d.setdefault("postgresql", {})
    auth = pg.get("authentication") or {}
    for role in ("superuser", "replication", "rewind"):
        if isinstance(auth.get(role), dict):
            auth[role].pop("password", None)
    for dcs in ("etcd3", "etcd"):
        if isinstance(d.get(dcs), dict):
            d[dcs].pop("password", None)
    d.setdefault("restapi", {}).update(certfile=CERT, keyfile=KEY, cafile=CA)
    ctl = d.setdefault("ctl", {})
    ctl["cacert"] = CA
    ctl.pop("insecure", None)
    pg.setdefault("parameters", {}).update(ssl="on", ssl_cert_file=CERT, ssl_key_file=KEY)
    for role in ("replication", "rewind"):
        if isinstance(auth.get(role), dict):
            auth[role].update(sslmode="verify-full", sslrootcert=CA)
    boot = d.get("bootstrap") or {}
    for holder in (pg, boot, (boot.get("dcs") or {}).get("postgresql") or {}):
        if isinstance(holder.get("pg_hba"), list):
            holder["pg_hba"] = [rule(r) for r in holder["pg_hba"]]
    return d

a = secure(a)
if a != b:
    def diff(x, y, path=""):
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y), key=str):
                diff(x.get(k), y.get(k), path + "." + str(k))
        elif x != y:
            print("   %s: debian=%r ours=%r" % (path, x, y))
    diff(a, b)
    sys.exit(1)
PY
        then
                echo "ok - $name ($v/$c, port $(grep -o 'connect_address: [^ ]*' "$W/debian.yml" | tail -1))"
        else
                echo "not ok - $name: parsed YAML differs"
        fi
}

H=(--hostip=10.231.0.5 --network=10.231.0.0/24)

reset; version 15
compare "first cluster on the host gets 5432" "${H[@]}" 15 main
reset; cluster 15 main 5433
compare "existing cluster keeps its port" "${H[@]}" 15 main
reset; cluster 15 main 5432; cluster 15 other 5433; version 15
compare "name with dashes, highest port + 1" "${H[@]}" 15 my-db
reset; cluster 15 rt-prj 5440
compare "existing cluster with dashes" "${H[@]}" 15 rt-prj
reset; cluster 9.6 old 5434
compare "version with a dot" "${H[@]}" 9.6 old
reset; cluster 15 main 5432; version 16
compare "name with a dot, new version" "${H[@]}" 16 db.1
reset; version 13
compare "explicit --port" "${H[@]}" --port=6000 13 a_b
reset; cluster 15 main 5432; cluster 15 x-y-z 15432; version 15
compare "highest port compared as numbers" "${H[@]}" 15 next
reset; version 15; printf "data_directory = '/srv/pg/%%v/%%c'\n" >/etc/postgresql-common/createcluster.conf
compare "createcluster.conf data_directory" "${H[@]}" 15 srv
reset; version 15; printf "# local layout\ncreate_main_cluster = false\ndata_directory = '/data/postgresql/%%v/%%c/'\n" >/etc/postgresql-common/createcluster.conf
compare "createcluster.conf with comments and a trailing slash" "${H[@]}" 15 data
reset; version 15
compare "another address and network" --hostip=192.0.2.77 --network=192.0.2.0/25 15 main
reset; version 15; printf 'etcd:\n  host: 127.0.0.1:2379\n' >/etc/patroni/dcs.yml
compare "etcd in dcs.yml" "${H[@]}" 15 main
reset; version 15; printf '#etcd:\n#  host: 127.0.0.1:2379\n\nconsul:\n  host: 127.0.0.1:8500\n  register_service: true\n' >/etc/patroni/dcs.yml
compare "consul in dcs.yml, with comments" "${H[@]}" 15 main
reset; version 15; printf 'etcd3:\n  hosts:\n  - 127.0.0.1:2379\n  - 127.0.0.2:2379\n' >/etc/patroni/dcs.yml
compare "etcd3 with a host list" "${H[@]}" 15 main
INSIDE

out=$(unshare -mu bash "$W/inside.sh" "$W" "$CTL" 2>&1)
rc=$?
echo "$out"
if [ $rc -eq 99 ]; then
        not_ok "parity: could not set up the namespace"
fi
PASSED=$((PASSED + $(grep -c '^ok' <<<"$out")))
FAILED=$((FAILED + $(grep -c '^not ok' <<<"$out")))
finish
