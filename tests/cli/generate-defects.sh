#!/bin/bash
# Each defect of Debian's pg_createconfig_patroni that touches generation
# (see doc/generate.md), shown fixed on a relocated root.
. "$(dirname "$0")/lib.sh"

gen() { "$CTL" --root "$R" generate "$@"; }

# 1. sed substitution: '/' aborts it, '&' becomes the placeholder text.
new_root
printf 'etcd3:\n  hosts: 127.0.0.1:2379\n  protocol: https\n  cacert: /etc/ssl/certs/a&b.pem\n' >"$R/etc/patroni/dcs.yml"
mkdir -p "$R/etc/postgresql-common"
echo "data_directory = '/srv/R&D/%v/%c'" >"$R/etc/postgresql-common/createcluster.conf"
if gen --hostip=10.231.0.5 15 main >/dev/null; then
        f=$R/etc/patroni/15-main.yml
        check "slash and ampersand in dcs.yml" "/etc/ssl/certs/a&b.pem" "$(yaml_get "$f" "d['etcd3']['cacert']")"
        check "ampersand in the data directory" "/srv/R&D/15/main" "$(yaml_get "$f" "d['postgresql']['data_dir']")"
else
        not_ok "slash and ampersand: generate failed"
fi

# 2. A value with every character that breaks sed or YAML: : # ' " & / \ and unicode (Debian's script breaks
# on these in passwords; a DCS password no longer belongs in dcs.yml, so a user name carries them here).
new_root
printf 'etcd3:\n  hosts: 127.0.0.1:2379\n  username: "p: #'"'"'\\"&/\\\\ü"\n' >"$R/etc/patroni/dcs.yml"
if gen --hostip=10.231.0.5 15 main >/dev/null; then
        check "a value with : # ' \" & / \\ kept exactly" "p: #'\"&/\\ü" \
                "$(yaml_get "$R/etc/patroni/15-main.yml" "d['etcd3']['username']")"
else
        not_ok "hostile value: generate failed"
fi
printf 'etcd3:\n  hosts: 127.0.0.1:2379\n  username: patroni\n  password: x\n' >"$R/etc/patroni/dcs.yml"
out=$(gen --hostip=10.231.0.5 --force 15 main 2>&1); rc=$?
check "a DCS password in dcs.yml: refused, pointing at env.conf" "5 yes" \
        "$rc $(grep -q '^patroni-debianctl: error: /etc/patroni/dcs.yml:4:3: a password does not belong here: .* PATRONI_ETCD3_PASSWORD' <<<"$out" && echo yes)"

# 3. Dashes: 15-rt-prj is version 15, cluster rt-prj (split on the first dash).
new_root; new_cluster "$R" 15 rt-prj 5440
gen --hostip=10.231.0.5 15 rt-prj >/dev/null
f=$R/etc/patroni/15-rt-prj.yml
check "dashes: scope" "15-rt-prj" "$(yaml_get "$f" "d['scope']")"
check "dashes: data_dir" "/var/lib/postgresql/15/rt-prj" "$(yaml_get "$f" "d['postgresql']['data_dir']")"
check "dashes: config_dir" "/etc/postgresql/15/rt-prj" "$(yaml_get "$f" "d['postgresql']['config_dir']")"
check "dashes: port" "10.231.0.5:5440" "$(yaml_get "$f" "d['postgresql']['connect_address']")"

# 4. Port in use by substring: 15432 in use does not make 5432 "in use".
new_root; new_cluster "$R" 15 big 15432
if gen --hostip=10.231.0.5 --port=5432 15 small >/dev/null; then ok "port 5432 free while 15432 is used"; else not_ok "port 5432 refused"; fi
out=$(gen --port=15432 15 other 2>&1)
check "port 15432 refused, naming its owner" "patroni-debianctl: error: port 15432 is already used by cluster 15/big" "$out"

# 4b. Debian's script resets to 5432 when pg_lsclusters fails on any one cluster
#     (a missing data directory); we read each cluster's files.
new_root; new_cluster "$R" 15 main 5432; new_cluster "$R" 15 other 5433
gen --hostip=10.231.0.5 15 third >/dev/null
check "port detection survives a cluster without data directory" "10.231.0.5:5434" \
        "$(yaml_get "$R/etc/patroni/15-third.yml" "d['postgresql']['connect_address']")"

# 5. Non-atomic write: owner and mode before content, nothing partial on failure.
if command -v strace >/dev/null; then
        new_root
        strace -f -o "$R/trace" -e trace=openat,fchown,fchmod,write,renameat2,fsync "$CTL" --root "$R" generate \
                --hostip=10.231.0.5 15 main >/dev/null 2>&1
        order=$(awk '/openat\(.*\.15-main\.yml\..*\.tmp/ { match($0, /= [0-9]+$/); fd = substr($0, RSTART + 2) }
                     fd != "" && $0 ~ "(fchown|fchmod|write)\\(" fd "," { split($2, a, "("); printf "%s ", a[1] }' "$R/trace")
        if [ "$(id -u)" -eq 0 ]; then want="fchown fchmod write "; else want="fchmod write "; fi
        check "owner and mode are set before any content" "$want" "${order%%write *}write "

        for fault in fsync:error=EIO renameat2:error=EIO write:error=ENOSPC:when=1; do
                new_root
                host_tls
                strace -f -o /dev/null -e inject="$fault" "$CTL" --root "$R" generate --hostip=10.231.0.5 15 main \
                        >/dev/null 2>&1
                left=$(cd "$R/etc/patroni" && ls -A | tr '\n' ' ')
                check "injected $fault: no config and no temporary file" "config.yml.in dcs.yml env.conf tls " "$left"
        done

        # SIGKILL before the rename: no partial config; the next run succeeds and, once
        # the temporary file is stale, removes it.
        new_root
        host_tls
        (strace -f -o /dev/null -e inject=fsync:signal=KILL "$CTL" --root "$R" generate --hostip=10.231.0.5 15 main \
                >/dev/null 2>&1; true) 2>/dev/null
        if [ -e "$R/etc/patroni/15-main.yml" ]; then not_ok "SIGKILL left a config"; else ok "SIGKILL mid-write leaves no config"; fi
        touch -d '2 minutes ago' "$R"/etc/patroni/.15-main.yml.*.tmp
        gen --hostip=10.231.0.5 15 main >/dev/null 2>&1
        left=$(cd "$R/etc/patroni" && ls -A | tr '\n' ' ')
        check "after SIGKILL: the next run writes the config and removes the stale temporary file" \
                "15-main.yml config.yml.in dcs.yml env.conf tls " "$left"

        # The same for env.conf, when the CA's seed is added to it: a stale temporary file goes on the next run.
        new_root
        (strace -f -o /dev/null -e inject=fsync:signal=KILL "$CTL" --root "$R" generate --hostip=10.231.0.5 15 main \
                >/dev/null 2>&1; true) 2>/dev/null
        check "SIGKILL while env.conf is written: env.conf as it was, its temporary file root's alone" "0600 0" \
                "$(stat -c %a "$R"/etc/patroni/.env.conf.*.tmp | sed 's/^/0/') $(grep -c CA_SEED "$R/etc/patroni/env.conf")"
        touch -d '2 minutes ago' "$R"/etc/patroni/.env.conf.*.tmp
        gen --hostip=10.231.0.5 15 main >/dev/null 2>&1
        check "after SIGKILL: the next run adds the seed and removes the stale temporary file" \
                "15-main.yml config.yml.in dcs.yml env.conf tls 1" "$(cd "$R/etc/patroni" && ls -A | tr '\n' ' ')$(
                grep -c CA_SEED "$R/etc/patroni/env.conf")"
else
        skip "fault injection (strace not installed)"
fi

# 5a. A symlink or FIFO planted where the temporary file goes: never followed, never written through.
#     The name is random; a getrandom() that returns zeros makes it .15-main.yml.000000.tmp.
if command -v cc >/dev/null; then
        new_root
        printf '#include <string.h>\n#include <sys/types.h>\nssize_t getrandom(void *b, size_t n, unsigned f) { (void) f; memset(b, 0, n); return (ssize_t) n; }\n' >"$R/zero.c"
        if cc -shared -fPIC -o "$R/zero.so" "$R/zero.c" 2>/dev/null; then
                for kind in symlink fifo; do
                        rm -f "$R/etc/patroni/.15-main.yml.000000.tmp" "$R/victim"
                        echo "precious" >"$R/victim"
                        if [ $kind = symlink ]; then ln -s "$R/victim" "$R/etc/patroni/.15-main.yml.000000.tmp"
                        else mkfifo "$R/etc/patroni/.15-main.yml.000000.tmp"; fi
                        out=$(ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD="$R/zero.so" "$CTL" --root "$R" generate \
                                --hostip=10.231.0.5 15 main 2>&1)
                        check "$kind planted at the temporary file: refused" \
                                "6 patroni-debianctl: error: cannot write /etc/patroni/15-main.yml: every temporary file name tried is taken (something is in the way)" "$? $out"
                        check "$kind planted at the temporary file: nothing written through it, no config" "precious absent" \
                                "$(cat "$R/victim") $([ -e "$R/etc/patroni/15-main.yml" ] && echo present || echo absent)"
                done
        else
                skip "temporary-file planting (cannot build the getrandom shim)"
        fi
else
        skip "temporary-file planting (no C compiler)"
fi

# 5b. Mode 0640, owner root:postgres (Debian's: 0660 postgres:postgres, chmod after the secrets).
new_root; gen --hostip=10.231.0.5 15 main >/dev/null
check "mode 0640" "640" "$(stat -c %a "$R/etc/patroni/15-main.yml")"
if is_root; then check "owner root:postgres" "root:postgres" "$(stat -c %U:%G "$R/etc/patroni/15-main.yml")"; fi

# 6. No shared weak passwords: the generated file holds no password at all.
if grep -qi 'password' "$R/etc/patroni/15-main.yml" | grep -v '^#'; then not_ok "a password in the config"; else ok "no password in the generated config"; fi
check "superuser has no null password" "False" "$(yaml_get "$R/etc/patroni/15-main.yml" "'password' in d['postgresql']['authentication']['superuser']")"

# 7. Host address without a default route, IPv6, loopback only: network namespaces of our own.
if is_root && command -v ip >/dev/null; then
        netns_gen() { # SETUP -> stdout of generate --stdout, stderr to $R/err
                unshare -n bash -c "ip link set lo up; $1"' && exec "$@"' _ "$CTL" --root "$R" generate --stdout 15 main 2>"$R/err"
        }
        new_root
        netns_gen 'ip link add v0 type veth peer name v1 && ip addr add 10.231.0.5/24 dev v0 && ip link set v0 up && ip link set v1 up' >"$R/out.yml"
        check "no default route: the interface's address" "10.231.0.5:8008" "$(yaml_get "$R/out.yml" "d['restapi']['connect_address']")"
        check "no default route: its network in pg_hba" "True" "$(yaml_get "$R/out.yml" "any('10.231.0.0/24' in l for l in d['postgresql']['pg_hba'])")"

        netns_gen 'ip link add v0 type veth peer name v1 && ip -6 addr add fd00:231::5/64 dev v0 nodad && ip link set v0 up && ip link set v1 up' >"$R/out.yml"
        check "IPv6 only: bracketed host:port" "[fd00:231::5]:5432" "$(yaml_get "$R/out.yml" "d['postgresql']['connect_address']")"
        check "IPv6 only: network" "True" "$(yaml_get "$R/out.yml" "any('fd00:231::/64' in l for l in d['postgresql']['pg_hba'])")"

        netns_gen 'ip link add v0 type veth peer name v1 && ip addr add 10.231.0.5/24 dev v0 && ip addr add 10.231.1.9/24 dev v0 && ip link set v0 up && ip link set v1 up && ip route add default via 10.231.1.1' >"$R/out.yml"
        check "default route: the address on its interface and subnet" "10.231.0.5:8008" "$(yaml_get "$R/out.yml" "d['restapi']['listen']")"

        netns_gen 'true' >"$R/out.yml"
        check "loopback only: loopback address" "127.0.0.1:5432" "$(yaml_get "$R/out.yml" "d['postgresql']['connect_address']")"
        check "loopback only: a warning says why it will not work" \
                "patroni-debianctl: warning: only a loopback address was found for 15/main: Patroni rejects loopback connect addresses, pass --hostip or set HOSTIP= in /etc/default/patroni" \
                "$(cat "$R/err")"

        mkdir -p "$R/etc/default"; printf 'HOSTIP=10.231.7.7\nNETWORK=10.231.0.0/16\n' >"$R/etc/default/patroni"
        netns_gen 'true' >"$R/out.yml"
        check "HOSTIP= in /etc/default/patroni" "10.231.7.7:5432" "$(yaml_get "$R/out.yml" "d['postgresql']['connect_address']")"
else
        skip "network namespaces (needs root and iproute2)"
fi

finish
