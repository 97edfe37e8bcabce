#!/bin/bash
# vip-manager@V-C goes with the cluster's Patroni when /etc/patroni/V-C.vip exists: started with it (and when
# the .vip appears), restarted when the .vip changes, stopped when the .vip or the configuration goes; without
# vip-manager@.service, one warning and nothing else, however often the cluster is decided again.
. "$(dirname "$0")/lib.sh"

new_daemon_root
P=$R/etc/patroni
printf 'scope: "15-admin"\n' >"$P/15-admin.yml"
printf 'VIP_IP="10.0.0.100"\n' >"$P/15-admin.vip"
start_daemon
# No vip-manager: said once, nothing started for it, and not again on later decisions.
wait_for 'dry-run: start patroni@15-admin.service' 1 5
wait_for 'vip-manager is not installed' 1 5
expect_count "no vip-manager@.service: one warning naming the .vip and what to do" \
        '^patroni-debiand: warning: /etc/patroni/15-admin.vip is there, but vip-manager is not installed \(no vip-manager@.service\): 15/admin gets no virtual IP. Install vip-manager' 1
printf 'scope: "15-admin"\n# changed\n' >"$P/15-admin.yml"
wait_for 'dry-run: reload patroni@15-admin.service' 1 5
quiet 300
expect_count "... not said again when the cluster is decided again (no loop)" 'vip-manager is not installed' 1
expect_count "... and nothing asked of vip-manager@" 'dry-run: [a-z]+ vip-manager@' 0

# vip-manager installed (its unit file, as Debian's package ships it); SIGHUP: started beside Patroni.
mkdir -p "$R/lib/systemd/system"
printf '[Service]\nEnvironmentFile=-/etc/patroni/%%i.vip\nExecStart=/usr/bin/vip-manager\n' >"$R/lib/systemd/system/vip-manager@.service"
kill -HUP "$DPID"
if wait_for 'dry-run: start vip-manager@15-admin.service 15/admin' 1 5; then ok "installed, then reload: vip-manager@15-admin started"; else
        not_ok "vip-manager@15-admin not started: $(tail -5 "$LOG")"; fi

# The .vip changes: vip-manager reads it only at start: restarted (reload-or-restart), once.
printf 'VIP_IP="10.0.0.101"\n' >"$P/15-admin.vip"
wait_for 'dry-run: reload vip-manager@15-admin.service' 1 5
quiet 300
expect_count "the .vip changes: one restart of vip-manager@, Patroni untouched" \
        '^dry-run: reload vip-manager@15-admin.service 15/admin$' 1
expect_count "... and no reload of patroni@ for it" '^dry-run: reload patroni@15-admin.service' 1

# The .vip removed: vip-manager@ stopped, Patroni left running.
rm "$P/15-admin.vip"
wait_for 'dry-run: stop vip-manager@15-admin.service' 1 5
expect_count "the .vip removed: vip-manager@ stopped" '^dry-run: stop vip-manager@15-admin.service 15/admin$' 1
expect_count "... Patroni not stopped" '^dry-run: stop patroni@' 0

# A new configuration with its .vip written first (generate --vip): both start.
printf 'VIP_IP="10.0.0.102"\n' >"$P/15-other.vip"
printf 'scope: "15-other"\n' >"$P/15-other.yml"
wait_for 'dry-run: start vip-manager@15-other.service' 1 5
expect_count "a new configuration with a .vip: Patroni and vip-manager@ start" "^dry-run: start (patroni|vip-manager)@15-other.service 15/other$" 2

# The configuration removed for good: both stop (after removal_settle_ms); the .vip alone does not start it.
rm "$P/15-other.yml"
wait_for 'dry-run: stop patroni@15-other.service' 1 5
wait_for 'dry-run: stop vip-manager@15-other.service' 1 5
expect_count "the configuration removed: Patroni and vip-manager@ stopped" "^dry-run: stop (patroni|vip-manager)@15-other.service 15/other$" 2

# A symlink named like a .vip: not followed, nothing started.
ln -s /etc/passwd "$P/15-admin.vip"
quiet 600
expect_count "a .vip that is a symlink: ignored" '^dry-run: start vip-manager@15-admin.service' 1

stop_daemon
finish
