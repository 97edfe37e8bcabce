# shellcheck shell=bash
# Throwaway containers with a real systemd, over an overlay of this machine's
# root (so the installed packages are there), our Debian package installed, with
# cleanup of the container, the overlay mount and the directory even on
# failure. Needs root, systemd-nspawn (systemd-container) and overlayfs.
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

CTL_INSIDE= # the packaged patroni-debianctl
CLONE_INSIDE= # and the packaged clone helper
SYS_D=
NSPAWN=
PID1=

system_available() {
        # tests/run-all.sh runs the system tier once, in the sanitizer build's make check, not again in distcheck
        [ -z "${PDD_SKIP_SYSTEM:-}" ] && is_root && command -v systemd-nspawn >/dev/null && command -v patroni >/dev/null &&
                command -v etcd >/dev/null && [ -x /usr/lib/postgresql/15/bin/postgres ]
}

# The package under test: PDD_DEB (tests/run-all.sh builds it once), else built
# here from the source tree, without its own tests, into a directory removed at exit.
package_deb() {
        if [ -n "${PDD_DEB:-}" ] && [ -f "$PDD_DEB" ]; then
                echo "$PDD_DEB"
                return 0
        fi
        command -v dpkg-buildpackage >/dev/null || { echo "# dpkg-buildpackage is not installed" >&2; return 1; }
        local d
        d=$(mktemp -d /tmp/pdd-deb-XXXXXX)
        CLEANUP+=("rm -rf '$d'")
        mkdir "$d/src"
        (cd "${top_srcdir:?}" && tar --exclude='./patroni-debiand-*' --exclude=.git -cf - .) | tar -C "$d/src" -xf - &&
                (cd "$d/src" && { [ ! -f Makefile ] || make distclean >/dev/null 2>&1; } &&
                        DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b >"$d/build.log" 2>&1) ||
                { echo "# building the package failed:" >&2; tail -20 "$d/build.log" >&2; return 1; }
        PDD_DEB=$(ls "$d"/patroni-debiand_*.deb)
        export PDD_DEB
        echo "$PDD_DEB"
}

# inside COMMAND...: run inside the container
inside() { nsenter -t "$PID1" -a "$@"; }

container_stop() {
        if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
                kill -TERM "$NSPAWN"
                for _ in $(seq 100); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.2; done
                kill -KILL "$NSPAWN" 2>/dev/null
        fi
        NSPAWN=
        if [ -n "$SYS_D" ]; then
                mountpoint -q "$SYS_D/root" && umount -l "$SYS_D/root"
                rm -rf "$SYS_D"
        fi
        SYS_D=
}

# container_prepare HOSTNAME: overlay, the build installed, the host's own clusters hidden.
container_prepare() { # HOSTNAME [--no-package]
        SYS_D=$(mktemp -d /tmp/pdd-sys-XXXXXX)
        CLEANUP+=("container_stop")
        mkdir -p "$SYS_D/upper" "$SYS_D/work" "$SYS_D/root"
        mount -t overlay overlay -o "lowerdir=/,upperdir=$SYS_D/upper,workdir=$SYS_D/work" "$SYS_D/root" ||
                { echo "# cannot mount the overlay on $SYS_D/root"; return 1; }
        local r=$SYS_D/root deb
        echo "$1" >"$r/etc/hostname"
        CTL_INSIDE=/usr/bin/patroni-debianctl
        CLONE_INSIDE=/usr/libexec/patroni-debiand/pg_clonecluster_patroni
        # in this shell, not in $(...): the build (and the cleanup of its directory) is kept for the next host
        package_deb >/dev/null || return 1
        deb=$PDD_DEB
        cp "$deb" "$r/root/patroni-debiand.deb"
        # This machine's image forbids maintainer scripts to start services (policy-rc.d exits 101);
        # a real host does not, and the package's own start on install is under test.
        rm -f "$r/usr/sbin/policy-rc.d"
        # vip-manager's package enables a vip-manager.service of its own, unconfigured: not on these hosts.
        rm -f "$r/etc/systemd/system/multi-user.target.wants/vip-manager.service"
        # A clean host: no pg-common cluster, our template rather than Debian's, etcd as the DCS.
        rm -rf "$r"/etc/postgresql/* "$r"/var/lib/postgresql/[0-9]* "$r"/etc/patroni/*.yml "$r/etc/patroni/config.yml.in"
        printf 'etcd3:\n  hosts: 127.0.0.1:2379\n' >"$r/etc/patroni/dcs.yml"
        printf 'PATRONI_SUPERUSER_PASSWORD=%s\nPATRONI_REPLICATION_PASSWORD=%s\nPATRONI_REWIND_PASSWORD=%s\n' \
                "su-$RANDOM$RANDOM" "rep-$RANDOM$RANDOM" "rw-$RANDOM$RANDOM" >"$r/etc/patroni/env.conf"
        chmod 600 "$r/etc/patroni/env.conf"
        # The package, as apt would install it (its scripts see no running systemd: enabled, not started).
        if [ "${2:-}" != --no-package ]; then
                chroot "$r" dpkg -i /root/patroni-debiand.deb >"$SYS_D/install.log" 2>&1 ||
                        { echo "# dpkg -i failed:"; tail -20 "$SYS_D/install.log"; return 1; }
        fi
        printf 'settle_ms: 500\n' >"$r/etc/patroni/patroni-debiand.yml"
}

# container_reboot: shut the container down (its systemd stops every unit) and boot it again, same disk.
container_reboot() {
        kill -TERM "$NSPAWN"
        for _ in $(seq 150); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$NSPAWN" 2>/dev/null && return 1
        NSPAWN=
        container_boot
}

container_boot() {
        # shellcheck disable=SC2086 # NSPAWN_NET is options, split
        systemd-nspawn --register=no --keep-unit -D "$SYS_D/root" ${NSPAWN_NET:---private-network} -b -- systemd.firstboot=off \
                >"$SYS_D/console.log" 2>&1 &
        NSPAWN=$!
        for _ in $(seq 100); do
                PID1=$(pgrep -P "$NSPAWN" -x systemd | head -1)
                [ -n "$PID1" ] && break
                sleep 0.1
        done
        [ -n "$PID1" ] || return 1
        # Until systemd answers on its socket, is-system-running fails at once: ask again.
        local state
        for _ in $(seq 120); do
                state=$(timeout 60 nsenter -t "$PID1" -a systemctl is-system-running --wait 2>/dev/null)
                case $state in running | degraded) return 0 ;; esac
                sleep 0.5
        done
        return 1
}

# wait_until SECONDS COMMAND...: true once COMMAND succeeds
wait_until() {
        local end=$((SECONDS + $1))
        shift
        while [ "$SECONDS" -le "$end" ]; do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.5
        done
        return 1
}

# The member's role and state as "Leader running", from patronictl inside the container.
member_state() { # VERSION-CLUSTER
        inside timeout 30 patronictl -c "/etc/patroni/$1.yml" list -f json 2>/dev/null |
                /usr/bin/python3 -c 'import json,sys; m=json.load(sys.stdin); print(" ".join(x["Role"]+" "+x["State"] for x in m))'
}
is_leader() { [ "$(member_state "$1")" = "Leader running" ]; }

djournal() { inside journalctl -q -o cat -u patroni-debiand "$@"; }

# ---- several hosts ---------------------------------------------------------------------------
# Each host a container in a network namespace of its own, joined by a bridge in
# another namespace, addresses 10.231.0.N/24 that exist only in these namespaces.
H_SYS=() H_NSPAWN=() H_PID1=() H_NET=()
NETNS=pdd$$

net_setup() { # N
        local i
        ip netns add "${NETNS}br" || return 1
        CLEANUP+=("net_teardown $1")
        ip -n "${NETNS}br" link add br0 type bridge && ip -n "${NETNS}br" link set br0 up || return 1
        for i in $(seq "$1"); do
                ip netns add "${NETNS}h$i" &&
                        ip -n "${NETNS}br" link add "vh$i" type veth peer name eth0 netns "${NETNS}h$i" &&
                        ip -n "${NETNS}br" link set "vh$i" master br0 up &&
                        ip -n "${NETNS}h$i" addr add "10.231.0.$i/24" dev eth0 &&
                        ip -n "${NETNS}h$i" link set eth0 up && ip -n "${NETNS}h$i" link set lo up || return 1
                # the host's own network namespace: its root may change it (vip-manager adds an address)
                H_NET[i]="--network-namespace-path=/run/netns/${NETNS}h$i --capability=CAP_NET_ADMIN"
        done
}
net_teardown() { # N
        local i
        for i in $(seq "$1"); do ip netns del "${NETNS}h$i" 2>/dev/null; done
        ip netns del "${NETNS}br" 2>/dev/null
}

# use_host I: "inside", member_state, djournal ... act on host I
use_host() { SYS_D=${H_SYS[$1]} NSPAWN=${H_NSPAWN[$1]} PID1=${H_PID1[$1]}; }
# on I COMMAND...: run inside host I
on() { local i=$1; shift; nsenter -t "${H_PID1[i]}" -a "$@"; }

host_prepare() { # I HOSTNAME
        container_prepare "$2" || return 1
        H_SYS[$1]=$SYS_D
        CLEANUP+=("host_stop $1")
}
host_boot() { # I
        SYS_D=${H_SYS[$1]}
        NSPAWN_NET=${H_NET[$1]} container_boot || return 1
        H_NSPAWN[$1]=$NSPAWN H_PID1[$1]=$PID1
}
# host_halt I: shut host I down (its systemd stops every unit), keeping its disk
host_halt() {
        local pid=${H_NSPAWN[$1]}
        [ -n "$pid" ] || return 0
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null
        H_NSPAWN[$1]= H_PID1[$1]=
}
# host_crash I: every process of host I killed at once, as a power loss would (no unit is stopped,
# PostgreSQL and Patroni get no chance to shut down or release their leader lock); its disk is kept.
# Killing init of a PID namespace takes the whole namespace.
host_crash() {
        [ -n "${H_PID1[$1]}" ] && kill -KILL "${H_PID1[$1]}" 2>/dev/null
        host_halt "$1"
}
host_stop() { # I: halted, unmounted, removed
        [ "$NSPAWN" = "${H_NSPAWN[$1]}" ] && NSPAWN= # use_host's copies must not outlive the host
        [ "$SYS_D" = "${H_SYS[$1]}" ] && SYS_D=
        host_halt "$1"
        local d=${H_SYS[$1]}
        if [ -n "$d" ]; then
                mountpoint -q "$d/root" && umount -l "$d/root"
                rm -rf "$d"
        fi
        H_SYS[$1]=
}

# ---- an etcd cluster over TLS, a member per host -----------------------------------------------
# names[I]: the hosts' names (pdd-a ...). etcd_hosts_up N: hosts 1..N prepared (etcd_host_hook I ROOT, if the
# test defines it, adds its files before the first boot) and booted, an etcd member each that requires client
# certificates from a CA made here; /etc/patroni/dcs.yml and the client's files in /etc/patroni/etcd-tls.
etcd_endpoints() { local i; for i in $(seq "$1"); do printf '%shttps://10.231.0.%s:2379' "$([ "$i" = 1 ] || echo ,)" "$i"; done; }
etcdctl_on() { # HOST ARGS...: etcdctl with the client certificate
        local i=$1
        shift
        on "$i" etcdctl --endpoints="${ETCD_ENDPOINTS:?}" --cacert=/etc/patroni/etcd-tls/ca.pem \
                --cert=/etc/patroni/etcd-tls/client.pem --key=/etc/patroni/etcd-tls/client.key "$@"
}
etcd_journals() { # N: each member's state and its last lines, as comments (when etcd did not come up)
        local i
        for i in $(seq "$1"); do
                echo "# ${names[i]}: etcd $(on "$i" systemctl is-active etcd): $(on "$i" journalctl -q -o cat -u etcd | tail -8 | tr '\n' ' ')"
        done
        echo "# free space under the hosts' roots: $(df -h --output=avail "${H_SYS[1]}" | tail -1)"
}
etcd_hosts_up() { # N
        ETCD_ENDPOINTS=$(etcd_endpoints "$1")
        # etcd's CA (the test's, made here), a server certificate per host (serverAuth and clientAuth: peers and the
        # JSON gateway use it as a client too) and Patroni's client certificate.
        local i r pki
        pki=$(mktemp -d)
        CLEANUP+=("rm -rf '$pki'")
        (
                cd "$pki" || exit 1
                ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
                openssl req -x509 "${ec[@]}" -days 30 -subj /CN=pdd-etcd-ca -keyout ca.key -out ca.pem
                for i in $(seq "$1") client; do
                        # Patroni's without a CommonName (etcd's gateway with authentication on refuses one, see README)
                        if [ "$i" = client ]; then subj=/O=patroni; else subj=/CN=etcd-$i; fi
                        openssl req "${ec[@]}" -subj "$subj" -keyout "$i.key" -out "$i.csr"
                        if [ "$i" = client ]; then ext='extendedKeyUsage=clientAuth'; else
                                ext="subjectAltName=IP:10.231.0.$i,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth"; fi
                        openssl x509 -req -in "$i.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile <(printf "$ext\n") \
                                -out "$i.pem"
                done
        ) >"$pki/openssl.log" 2>&1 || { not_ok "openssl: $(tail -3 "$pki/openssl.log")"; return 1; }
        for i in $(seq "$1"); do
                host_prepare "$i" "${names[i]}" || { not_ok "cannot prepare host ${names[i]}"; return 1; }
                r=${H_SYS[i]}/root
                rm -rf "$r"/var/lib/etcd/*
                # Not at boot: a first member alone waits for its peers until systemd gives up on it.
                rm -f "$r/etc/systemd/system/multi-user.target.wants/etcd.service"
                mkdir -p "$r/etc/etcd-tls" "$r/etc/patroni/etcd-tls"
                cp "$pki/ca.pem" "$r/etc/etcd-tls/" && cp "$pki/$i.pem" "$r/etc/etcd-tls/server.pem" &&
                        install -m 600 "$pki/$i.key" "$r/etc/etcd-tls/server.key"
                cp "$pki/ca.pem" "$pki/client.pem" "$r/etc/patroni/etcd-tls/" && install -m 640 "$pki/client.key" "$r/etc/patroni/etcd-tls/"
                cat >"$r/etc/default/etcd" <<ETCD
ETCD_NAME=${names[i]}
ETCD_LISTEN_PEER_URLS=https://10.231.0.$i:2380
ETCD_LISTEN_CLIENT_URLS=https://10.231.0.$i:2379,https://127.0.0.1:2379
ETCD_ADVERTISE_CLIENT_URLS=https://10.231.0.$i:2379
ETCD_INITIAL_ADVERTISE_PEER_URLS=https://10.231.0.$i:2380
ETCD_INITIAL_CLUSTER=pdd-a=https://10.231.0.1:2380,pdd-b=https://10.231.0.2:2380,pdd-c=https://10.231.0.3:2380
ETCD_INITIAL_CLUSTER_STATE=new
ETCD_INITIAL_CLUSTER_TOKEN=pdd-hosts
ETCD_HEARTBEAT_INTERVAL=200
ETCD_ELECTION_TIMEOUT=2000
ETCD_CLIENT_CERT_AUTH=true
ETCD_TRUSTED_CA_FILE=/etc/etcd-tls/ca.pem
ETCD_CERT_FILE=/etc/etcd-tls/server.pem
ETCD_KEY_FILE=/etc/etcd-tls/server.key
ETCD_PEER_CLIENT_CERT_AUTH=true
ETCD_PEER_TRUSTED_CA_FILE=/etc/etcd-tls/ca.pem
ETCD_PEER_CERT_FILE=/etc/etcd-tls/server.pem
ETCD_PEER_KEY_FILE=/etc/etcd-tls/server.key
ETCD
                printf 'etcd3:\n  hosts: [10.231.0.1:2379, 10.231.0.2:2379, 10.231.0.3:2379]\n  protocol: https\n  cacert: /etc/patroni/etcd-tls/ca.pem\n  cert: /etc/patroni/etcd-tls/client.pem\n  key: /etc/patroni/etcd-tls/client.key\n' \
                        >"$r/etc/patroni/dcs.yml"
                if declare -F etcd_host_hook >/dev/null; then etcd_host_hook "$i" "$r"; fi
                host_boot "$i" || { not_ok "host ${names[i]} did not boot"; return 1; }
                on "$i" sh -c 'chown -R etcd: /etc/etcd-tls && chown root:postgres /etc/patroni/etcd-tls/client.key'
                on "$i" systemctl enable etcd >/dev/null 2>&1
                on "$i" systemctl start --no-block etcd
                lap "host ${names[i]}: prepared and booted"
        done
        if wait_until 60 etcdctl_on 1 endpoint health; then
                ok "etcd: three members, healthy, over TLS with client certificates"
        else
                not_ok "etcd is not healthy: $(etcdctl_on 1 endpoint health 2>&1 | tail -3 | tr '\n' ' ')"
                etcd_journals "$1"
                return 1
        fi
}

# ---- beside the hosts: namespaces without a container, an application's writes --------------------------
# netns_extra NAME ADDRESS: a network namespace ${NETNS}NAME on the hosts' bridge with ADDRESS/24 (no container,
# no daemon), removed at the end.
netns_extra() {
        local n=${NETNS}$1
        ip netns add "$n" && CLEANUP+=("ip netns del $n") &&
                ip -n "${NETNS}br" link add "v$1" type veth peer name eth0 netns "$n" &&
                ip -n "${NETNS}br" link set "v$1" master br0 up &&
                ip -n "$n" addr add "$2/24" dev eth0 && ip -n "$n" link set eth0 up && ip -n "$n" link set lo up
}
# The application's write loop, in the background (a connection per write, as a pool's new connection
# would): app_insert ID, which the test defines, commits row ID; each acknowledged one is logged with the
# time in ms; a failed one is tried again after 0.1 s. app_loop_gap LOG: the longest time without an
# acknowledged write, in ms. app_loop_ids LOG: the acknowledged ids, comma-separated.
app_write_loop() { # LOG FIRST_ID
        local i=$2
        while [ ! -e "$1.stop" ]; do
                if app_insert "$i" >/dev/null 2>&1; then
                        echo "$i $(date +%s%3N)" >>"$1"
                        i=$((i + 1))
                else
                        sleep 0.1
                fi
        done
}
app_loop_start() { rm -f "$1" "$1.stop"; app_write_loop "$1" "$2" & APP_LOOP_PID=$!; CLEANUP+=("kill $APP_LOOP_PID 2>/dev/null"); }
app_loop_stop() { touch "$1.stop"; wait "$APP_LOOP_PID" 2>/dev/null; }
app_loop_wait() { # LOG N: until N more writes are acknowledged (at most 60 s)
        local log=$1 target
        target=$(($(wc -l 2>/dev/null <"$log" || echo 0) + $2))
        wait_until 60 eval '[ "$(wc -l 2>/dev/null <"$log" || echo 0)" -ge "$target" ]'
}
app_loop_gap() { awk 'NR > 1 { d = $2 - p; if (d > m) m = d } { p = $2 } END { print m + 0 }' "$1"; }
app_loop_ids() { cut -d' ' -f1 "$1" | paste -sd,; }
