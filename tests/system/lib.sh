# shellcheck shell=bash
# Throwaway containers with a real systemd, over an overlay of this machine's
# root (so the installed packages and the build are visible inside), with
# cleanup of the container, the overlay mount and the directory even on
# failure. Needs root, systemd-nspawn (systemd-container) and overlayfs.
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

BUILD=${top_builddir:?}
CTL_INSIDE= # the installed patroni-debianctl, wherever the prefix put it
CLONE_INSIDE= # and the installed clone helper
SYS_D=
NSPAWN=
PID1=

system_available() {
        is_root && command -v systemd-nspawn >/dev/null && command -v patroni >/dev/null &&
                command -v etcd >/dev/null && [ -x /usr/lib/postgresql/15/bin/postgres ]
}

# systemd-nspawn mounts a tmpfs on the container's /tmp, and the unit has PrivateTmp=yes: a build
# installed below /tmp (make distcheck's, when the tree is there) cannot run in the container.
prefix_usable() {
        case $(sed -n 's/^prefix = //p' "$BUILD/Makefile") in
        /tmp/* | /var/tmp/*) return 1 ;;
        esac
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
container_prepare() {
        SYS_D=$(mktemp -d /tmp/pdd-sys-XXXXXX)
        CLEANUP+=("container_stop")
        mkdir -p "$SYS_D/upper" "$SYS_D/work" "$SYS_D/root"
        mount -t overlay overlay -o "lowerdir=/,upperdir=$SYS_D/upper,workdir=$SYS_D/work" "$SYS_D/root" ||
                { echo "# cannot mount the overlay on $SYS_D/root"; return 1; }
        local r=$SYS_D/root
        echo "$1" >"$r/etc/hostname"
        make -C "$BUILD" -s install DESTDIR="$r" >"$SYS_D/install.log" 2>&1 ||
                { echo "# make install DESTDIR=$r failed:"; tail -20 "$SYS_D/install.log"; return 1; }
        # Whatever the prefix (distcheck's is a temporary directory), where systemd and journalctl look:
        local unit catalog prefix
        prefix=$(sed -n 's/^prefix = //p' "$BUILD/Makefile")
        CTL_INSIDE=$(find "$r$prefix" -type f -name patroni-debianctl -path '*/bin/*' | head -1)
        CTL_INSIDE=${CTL_INSIDE#"$r"}
        CLONE_INSIDE=$(find "$r$prefix" -type f -name pg_clonecluster_patroni | head -1)
        CLONE_INSIDE=${CLONE_INSIDE#"$r"}
        unit=$(find "$r$prefix" -name patroni-debiand.service | head -1)
        catalog=$(find "$r$prefix" -name patroni-debiand.catalog | head -1)
        [ -n "$unit" ] && [ -n "$catalog" ] && [ -n "$CTL_INSIDE" ] ||
                { echo "# the installed unit, catalog or patroni-debianctl is missing"; return 1; }
        cp "$unit" "$r/etc/systemd/system/patroni-debiand.service"
        unit=$(find "$r$prefix" -name 'patroni-debiand-takeover@.service' | head -1)
        [ -n "$unit" ] || { echo "# the installed takeover unit is missing"; return 1; }
        cp "$unit" "$r/etc/systemd/system/"
        mkdir -p "$r/usr/local/lib/systemd/catalog"
        [ "$catalog" -ef "$r/usr/local/lib/systemd/catalog/patroni-debiand.catalog" ] ||
                cp "$catalog" "$r/usr/local/lib/systemd/catalog/"
        # A clean host: no pg-common cluster, our template rather than Debian's, etcd as the DCS.
        rm -rf "$r"/etc/postgresql/* "$r"/var/lib/postgresql/[0-9]* "$r"/etc/patroni/*.yml "$r/etc/patroni/config.yml.in"
        printf 'etcd3:\n  hosts: 127.0.0.1:2379\n' >"$r/etc/patroni/dcs.yml"
        printf 'PATRONI_SUPERUSER_PASSWORD=%s\nPATRONI_REPLICATION_PASSWORD=%s\nPATRONI_REWIND_PASSWORD=%s\n' \
                "su-$RANDOM$RANDOM" "rep-$RANDOM$RANDOM" "rw-$RANDOM$RANDOM" >"$r/etc/patroni/env.conf"
        chmod 600 "$r/etc/patroni/env.conf"
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
        systemd-nspawn --register=no --keep-unit -D "$SYS_D/root" --private-network -b -- systemd.firstboot=off \
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
        inside patronictl -c "/etc/patroni/$1.yml" list -f json 2>/dev/null |
                /usr/bin/python3 -c 'import json,sys; m=json.load(sys.stdin); print(" ".join(x["Role"]+" "+x["State"] for x in m))'
}
is_leader() { [ "$(member_state "$1")" = "Leader running" ]; }

djournal() { inside journalctl -q -o cat -u patroni-debiand "$@"; }
