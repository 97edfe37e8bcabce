#!/bin/bash
# The vip-manager helper that patroni-debiand's drop-in runs for Debian's vip-manager@.service: the DCS
# password from env.conf reaches vip-manager as VIP_ETCD_PASSWORD, in its environment only, and no other
# variable of env.conf does; and the drop-in as systemd reads it.
. "$(dirname "$0")/lib.sh"

H=${top_builddir:?}/src/helpers/patroni-debiand-vip-manager
D=$(mktemp -d)
CLEANUP+=("rm -rf '$D'")
# A vip-manager that says what it got: its arguments and its environment.
printf '#!/bin/sh\necho "args: $*"\nenv | LC_ALL=C sort\n' >"$D/vip-manager"
chmod +x "$D/vip-manager"
run() { env -i PATH=/usr/bin:/bin PATRONI_DEBIAND_VIP_MANAGER="$D/vip-manager" VIP_IP=10.0.0.9 "$@" "$H"; }

out=$(run PATRONI_ETCD3_PASSWORD='s3cr"et $x' PATRONI_SUPERUSER_PASSWORD=su PATRONI_DEBIAND_CA_SEED=seed)
check "the etcd password as VIP_ETCD_PASSWORD, as it was" 'VIP_ETCD_PASSWORD=s3cr"et $x' "$(grep '^VIP_ETCD_PASSWORD=' <<<"$out")"
check "no other variable of env.conf, the .vip's kept" "0 VIP_IP=10.0.0.9" \
        "$(grep -c '^PATRONI_' <<<"$out") $(grep '^VIP_IP=' <<<"$out")"
check "nothing on the command line" "args: " "$(head -1 <<<"$out")"
check "PATRONI_ETCD_PASSWORD (etcd's v2 name) too" "VIP_ETCD_PASSWORD=v2" \
        "$(run PATRONI_ETCD_PASSWORD=v2 | grep '^VIP_ETCD_PASSWORD=')"
check "a VIP_ETCD_PASSWORD of the .vip's own wins" "VIP_ETCD_PASSWORD=own" \
        "$(run PATRONI_ETCD3_PASSWORD=pw VIP_ETCD_PASSWORD=own | grep '^VIP_ETCD_PASSWORD=')"
check "no password anywhere: none set" "0" "$(run | grep -c '^VIP_ETCD_PASSWORD=')"

if command -v systemd-analyze >/dev/null; then
        # The drop-in over a unit like Debian's vip-manager@.service, as systemd reads them.
        mkdir -p "$D/units/vip-manager@.service.d"
        printf '[Unit]\nDescription=vip\n[Service]\nEnvironmentFile=-/etc/patroni/%%i.vip\nExecStart=%s/vip-manager\n' "$D" \
                >"$D/units/vip-manager@.service"
        sed "s|^ExecStart=/.*|ExecStart=$H|" "${top_builddir}/etc/vip-manager@.service.d/patroni-debiand.conf" \
                >"$D/units/vip-manager@.service.d/patroni-debiand.conf"
        out=$(SYSTEMD_UNIT_PATH="$D/units:" systemd-analyze verify "$D/units/vip-manager@15-main.service" 2>&1 |
                grep -v 'Failed to .* bus\|Unit is bound to inactive unit\|Cannot add dependency' ); rc=$?
        check "systemd-analyze verify: the unit with the drop-in" "" "$out"
else
        skip "systemd-analyze verify (systemd not installed)"
fi
finish
