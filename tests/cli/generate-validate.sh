#!/bin/bash
# The project's template, rendered for a real host address, passes
# "patroni --validate-config" (Patroni 3.0.2 checks that the REST API port
# is free on that address, that the DCS hosts accept connections and that
# bin_dir holds PostgreSQL). Everything runs in a network namespace made
# here: a veth address that exists only inside it, and a TCP listener on
# its loopback standing in for etcd. Secrets come from the environment, as
# patroni@.service passes them from /etc/patroni/env.conf.
. "$(dirname "$0")/lib.sh"

if ! is_root; then
        skip "validate-config (needs root for a network namespace)"
        finish
fi
if ! command -v patroni >/dev/null || [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
        skip "validate-config (patroni or postgresql-15 not installed)"
        finish
fi

new_root
cat >"$R/inside.sh" <<'INSIDE'
set -u
R=$1 CTL=$2
ip link set lo up
ip link add v0 type veth peer name v1 && ip addr add 10.231.0.5/24 dev v0 && ip link set v0 up && ip link set v1 up || exit 99
/usr/bin/python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 2379)); s.listen(16); time.sleep(60)' &
listener=$!
trap 'kill $listener 2>/dev/null' EXIT
sleep 0.3
export PATRONI_SUPERUSER_PASSWORD='s3cret: #x' PATRONI_REPLICATION_PASSWORD='r3p' PATRONI_REWIND_PASSWORD='rw'

"$CTL" --root "$R" generate 15 validate >/dev/null || exit 98
if out=$(patroni --validate-config "$R/etc/patroni/15-validate.yml" 2>&1); then
        echo "ok - our template passes patroni --validate-config"
else
        echo "not ok - patroni --validate-config: $out"
fi

# The same check catches what is wrong with Debian's template (defect 8).
if [ -f /etc/patroni/config.yml.in ]; then
        "$CTL" --root "$R" generate --template=/etc/patroni/config.yml.in --stdout 15 debian >"$R/debian.yml" || exit 98
        if out=$(patroni --validate-config "$R/debian.yml" 2>&1); then
                echo "not ok - Debian's template unexpectedly passes validation"
        elif grep -q "rewind" <<<"$out"; then
                echo "ok - Debian's template fails validation: $(tr '\n' ';' <<<"$out")"
        else
                echo "not ok - Debian's template fails for another reason: $out"
        fi
fi
INSIDE
out=$(unshare -n bash "$R/inside.sh" "$R" "$CTL" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 99 ] && not_ok "validate-config: could not set up the network namespace"
[ $rc -eq 98 ] && not_ok "validate-config: generate failed"
PASSED=$((PASSED + $(grep -c '^ok' <<<"$out")))
FAILED=$((FAILED + $(grep -c '^not ok' <<<"$out")))
finish
