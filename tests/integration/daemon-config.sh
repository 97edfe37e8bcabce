#!/bin/bash
# Admin-written configurations: one start, one reload per real change (vim's
# probe file, backup rename and new write included), one stop on removal.
. "$(dirname "$0")/lib.sh"

new_daemon_root
start_daemon
P=$R/etc/patroni

printf 'scope: "15-admin"\n# v1\n' >"$P/15-admin.yml"
wait_for 'dry-run: start patroni@15-admin.service' 1 5
quiet 300
expect_count "admin config appears: one start" '^dry-run: start patroni@15-admin.service 15/admin$' 1

vim_save() { # FILE CONTENT: what vim does with the default backupcopy=auto
        local f=$1 dir
        dir=$(dirname "$f")
        echo x >"$dir/4913" && rm -f "$dir/4913"
        mv "$f" "$f~"
        printf '%s' "$2" >"$f"
        rm -f "$f~"
        echo "swap" >"$dir/.$(basename "$f").swp" && rm -f "$dir/.$(basename "$f").swp"
}
vim_save "$P/15-admin.yml" $'scope: "15-admin"\n# v2\n'
wait_for 'dry-run: reload patroni@15-admin.service' 1 5
quiet 400
expect_count "vim save with a change: one reload" '^dry-run: reload patroni@15-admin.service 15/admin$' 1
expect_count "vim save: no stop in between" '^dry-run: stop' 0
expect_count "vim save: no second start" '^dry-run: start patroni@15-admin.service' 1

vim_save "$P/15-admin.yml" $'scope: "15-admin"\n# v2\n'
quiet 500
expect_count "saved without a change: no reload" '^dry-run: reload patroni@15-admin.service' 1

printf 'scope: "15-admin"\n# v3\n' >"$P/15-admin.yml"
wait_for 'dry-run: reload patroni@15-admin.service' 2 5
quiet 300
expect_count "second real change: second reload" '^dry-run: reload patroni@15-admin.service 15/admin$' 2

# Written in place in two steps within the quiet period: one reload.
printf 'scope: "15-admin"\n' >"$P/15-admin.yml"; printf '# v4\n' >>"$P/15-admin.yml"
wait_for 'dry-run: reload patroni@15-admin.service' 3 5
quiet 400
expect_count "two writes in quick succession: one reload" '^dry-run: reload patroni@15-admin.service' 3

# Moved in from elsewhere (an atomic write by a tool): a start.
printf 'scope: "15-other"\n' >"$R/staged.yml" && mv "$R/staged.yml" "$P/15-other.yml"
wait_for 'dry-run: start patroni@15-other.service' 1 5
expect_count "moved in: one start" '^dry-run: start patroni@15-other.service 15/other$' 1

# An admin's symlink, made where the configuration goes: started (a symlink has no close-write).
case ${DAEMON_WRAPPER:-} in
valgrind*)
        # valgrind 3.19 does not implement openat2(); the fallback refuses symlinks altogether, by design
        skip "a symlinked configuration is started (valgrind lacks openat2)" ;;
*)
        printf 'scope: "15-linked"\n' >"$R/linked.yml" && ln -s /linked.yml "$P/15-linked.yml"
        wait_for 'dry-run: start patroni@15-linked.service' 1 5
        expect_count "a symlinked configuration is started" '^dry-run: start patroni@15-linked.service' 1
        rm "$P/15-linked.yml"
        wait_for 'dry-run: stop patroni@15-linked.service' 1 5 ;;
esac

# A configuration readable by everyone is reported (it may hold secrets).
printf 'scope: "15-open"\n' >"$P/15-open.yml" && chmod 644 "$P/15-open.yml"
wait_for 'dry-run: start patroni@15-open.service' 1 5
expect_count "world-readable configuration reported" \
        '^patroni-debiand: warning: /etc/patroni/15-open.yml is readable by every user \(mode 0644\); a Patroni configuration may hold secrets: chmod o-r it' 1
rm "$P/15-open.yml"
wait_for 'dry-run: stop patroni@15-open.service' 1 5

# Files that are not configurations: nothing.
before=$(count '^dry-run: ')
for f in dcs.yml config.yml.in 4913 15-x.yml.swp 15-x.yml~ .#15-x.yml notes.txt 15x.yml; do echo junk >>"$P/$f"; done
quiet 500
check "editor probes, backups, dcs.yml, the template: no action" "$before" "$(count '^dry-run: ')"
check "nothing generated for them" "0" "$(count 'Generated')"

rm "$P/15-admin.yml"
wait_for 'dry-run: stop patroni@15-admin.service' 1 5
quiet 300
expect_count "removed: one stop" '^dry-run: stop patroni@15-admin.service 15/admin$' 1
mv "$P/15-other.yml" "$P/15-other.yml.disabled"
wait_for 'dry-run: stop patroni@15-other.service' 1 5
expect_count "renamed away: one stop" '^dry-run: stop patroni@15-other.service 15/other$' 1

# A config the admin removed for an existing cluster is not generated again.
old_cluster 15 kept 5440
wait_for 'dry-run: start patroni@15-kept.service' 1 10
quiet 800 # the new cluster has settled: removing its configuration is the only change left
rm "$P/15-kept.yml"
wait_for 'dry-run: stop patroni@15-kept.service' 1 10
quiet 800
check "config removed by the admin stays removed" "absent" "$([ -e "$P/15-kept.yml" ] && echo present || echo absent)"
# ... whatever rescans the tree: a new version directory, SIGHUP, a restart (the removal is kept on disk)
mkdir -p "$R/etc/postgresql/16"
wait_for 'Rescanning: a version directory appeared' 1 5
kill -HUP "$DPID"
wait_for 'Reloaded settings' 1 5
quiet 800
check "... after a rescan and a reload it stays removed" "absent 1" \
        "$([ -e "$P/15-kept.yml" ] && echo present || echo absent) $(count 'dry-run: start patroni@15-kept.service')"
stop_daemon
mv "$LOG" "$LOG.1"
cp "$TEMPLATE" "$P/config.yml.in" && printf 'etcd3:\n  hosts: 127.0.0.1:2379\n' >"$P/dcs.yml" # junk was added above
start_daemon
quiet 500
check "... and after a restart" "absent 0" \
        "$([ -e "$P/15-kept.yml" ] && echo present || echo absent) $(count 'dry-run: start patroni@15-kept.service')"
echo "max_connections = 50" >>"$R/etc/postgresql/15/kept/postgresql.conf"
wait_for 'dry-run: start patroni@15-kept.service' 1 5
check "... until the cluster's files change" "present" "$([ -e "$P/15-kept.yml" ] && echo present || echo absent)"

# An editor that leaves the file away for a moment (shorter than removal_settle_ms): no stop, no start.
printf 'scope: "15-brief"\n' >"$P/15-brief.yml"
wait_for 'dry-run: start patroni@15-brief.service' 1 5
mv "$P/15-brief.yml" "$R/brief.bak"; sleep 0.3; mv "$R/brief.bak" "$P/15-brief.yml"
quiet 800
check "a configuration away for 300 ms (removal_settle_ms 500): neither stopped nor started again" "0 1" \
        "$(count 'dry-run: stop patroni@15-brief.service') $(count 'dry-run: start patroni@15-brief.service')"

# An admin's copy of a configuration: never a second Patroni on the same data.
printf 'scope: "15-orig"\npostgresql:\n  data_dir: /var/lib/postgresql/15/orig\n  listen: "*:5460"\n' >"$P/15-orig.yml"
wait_for 'dry-run: start patroni@15-orig.service' 1 5
cp "$P/15-orig.yml" "$P/15-orig.bak.yml"
wait_for 'Not starting patroni@15-orig.bak.service' 1 5
quiet 300
expect_count "a copy (same scope and data directory) is not started" 'dry-run: start patroni@15-orig.bak.service' 0
expect_count "... and both files are named" \
        'Not starting patroni@15-orig.bak.service: /etc/patroni/15-orig.bak.yml has the same data directory /var/lib/postgresql/15/orig as /etc/patroni/15-orig.yml' 1
printf 'scope: "15-port"\npostgresql:\n  listen: "*:5460"\n' >"$P/15-port.yml"
wait_for 'Not starting patroni@15-port.service' 1 5
expect_count "another configuration on the same port is not started" 'dry-run: start patroni@15-port.service' 0
rm "$P/15-orig.yml"
wait_for 'dry-run: stop patroni@15-orig.service' 1 5
wait_for 'dry-run: start patroni@15-(orig.bak|port).service' 1 5
quiet 300
expect_count "the original gone: one of the two that waited takes its place, not both" \
        'dry-run: start patroni@15-(orig.bak|port).service' 1

stop_daemon
finish
