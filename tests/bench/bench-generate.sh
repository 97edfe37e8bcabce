#!/bin/bash
# Figures for config generation (run by "make bench"; prints, never asserts):
#  1. bench-generate: 1,000 configs rendered, validated and written in-process.
#  2. Debian's pg_createconfig_patroni on 20 clusters, and patroni-debianctl
#     generate (one process per config, like the script) on the same 20, in a
#     private mount+UTS namespace over tmpfs, as the parity test does.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${top_builddir:-$(cd "$here/../.." && pwd)}
CTL=${CTL:-$build/patroni-debianctl}
TEMPLATE=${TEMPLATE:-$build/etc/config.yml.in}

"$build/tests/bench/bench-generate" "$TEMPLATE" 1000 || exit 1
# The same on tmpfs, where the script is measured below: a like-for-like ratio.
"$build/tests/bench/bench-generate" "$TEMPLATE" 1000 /dev/shm >"${TMPDIR:-/tmp}/pdd-bench-shm.txt" || exit 1
cat "${TMPDIR:-/tmp}/pdd-bench-shm.txt"

if [ "$(id -u)" -ne 0 ] || [ ! -x /usr/bin/pg_createconfig_patroni ] || ! command -v pg_lsclusters >/dev/null; then
        echo "pg_createconfig_patroni: skipped (needs root and Debian's patroni package)"
        exit 0
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/pdd-bench-XXXXXX")
trap 'rm -rf "$W" "${TMPDIR:-/tmp}/pdd-bench-shm.txt"' EXIT
cp /etc/patroni/config.yml.in "$W/config.yml.in"
cat >"$W/inside.sh" <<'INSIDE'
set -u
W=$1 CTL=$2 N=20
hostname benchnode
for d in /etc/patroni /etc/postgresql /etc/postgresql-common /usr/lib/postgresql /var/lib/postgresql; do
        mkdir -p "$d" && mount -t tmpfs tmpfs "$d" || exit 1
done
chmod 755 /var/lib/postgresql
cp "$W/config.yml.in" /etc/patroni/config.yml.in
printf 'etcd3:\n  hosts: 127.0.0.1:2379\n' >/etc/patroni/dcs.yml
mkdir -p /usr/lib/postgresql/15/bin /var/lib/postgresql/15 && touch /usr/lib/postgresql/15/bin/initdb && chmod +x /usr/lib/postgresql/15/bin/initdb
chmod 755 /var/lib/postgresql/15
for i in $(seq 1 $N); do
        mkdir -p "/etc/postgresql/15/c$i" "/var/lib/postgresql/15/c$i"
        printf "port = %d\ndata_directory = '/var/lib/postgresql/15/c%d'\n" $((5431 + i)) "$i" >"/etc/postgresql/15/c$i/postgresql.conf"
done
t0=$(date +%s%N)
for i in $(seq 1 $N); do pg_createconfig_patroni --hostip=10.231.0.5 --network=10.231.0.0/24 15 "c$i" >/dev/null 2>&1 || exit 2; done
t1=$(date +%s%N)
rm -f /etc/patroni/15-*.yml
for i in $(seq 1 $N); do "$CTL" generate --hostip=10.231.0.5 --network=10.231.0.0/24 15 "c$i" >/dev/null || exit 3; done
t2=$(date +%s%N)
echo "$N $(( (t1 - t0) / 1000 / N )) $(( (t2 - t1) / 1000 / N ))"
INSIDE
read -r n debian ours < <(unshare -mu bash "$W/inside.sh" "$W" "$CTL")
if [ -z "${ours:-}" ]; then
        echo "pg_createconfig_patroni: failed to run in the namespace"
        exit 1
fi
echo "pg_createconfig_patroni, $n clusters: $debian us per config"
echo "patroni-debianctl generate, same $n clusters, one process each: $ours us per config"
awk -v d="$debian" -v o="$ours" 'BEGIN { printf "  one process per config: %.0fx faster than the script\n", d / o }'
in_process=$(sed -n 's/.*render + validate + write, one by one: *\([0-9.]*\) us.*/\1/p' "${TMPDIR:-/tmp}/pdd-bench-shm.txt")
rm -f "${TMPDIR:-/tmp}/pdd-bench-shm.txt"
awk -v d="$debian" -v o="$in_process" 'BEGIN { printf "  in-process, one by one, both on tmpfs: %.0fx faster than the script\n", d / o }'
