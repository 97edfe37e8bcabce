#!/bin/bash
# Files that users other than root can write, built to make the root daemon
# work hard or act on a half-written state: the work is bounded, other
# clusters are handled meanwhile, and a stop signal is answered. (How long
# these take is printed by make bench, not asserted here.)
. "$(dirname "$0")/lib.sh"

# Each timeout below is generous: before the work was bounded, each case ran for minutes or hours.
new_daemon_root
start_daemon

# 1. A tool writes postgresql.conf in two steps with a pause longer than settle_ms: nothing is decided on the
#    half-written file, however long the pause; the port is the one of the closed file.
C=$R/etc/postgresql/15/slow
mkdir -p "$C"
/usr/bin/python3 - "$C/postgresql.conf" <<'PY' &
import sys, time
with open(sys.argv[1], "w") as f:
    f.write("port = 54")
    f.flush()
    time.sleep(1.2)  # settle_ms is 300
    f.write("99\n")
PY
writer=$!
sleep 0.9
check "half-written (modified, not closed): nothing generated yet" "0" "$(count 'Generated /etc/patroni/15-slow.yml')"
wait "$writer"
wait_for 'dry-run: start patroni@15-slow.service' 1 10
expect_count "once closed: generated once" 'Generated /etc/patroni/15-slow.yml' 1
check "... with the port of the whole file" "5499" \
        "$(yaml_get "$R/etc/patroni/15-slow.yml" "d['postgresql']['connect_address'].rsplit(':', 1)[1]")"

# 2. include_dir fan-out in a postgres-owned postgresql.conf: W files a level, each including its level's
#    directory and the next, 10 levels: W^10 reads unless each file is read once.
fanout() { # NAME WIDTH PORT
        /usr/bin/python3 - "$R/etc/postgresql/15/$1" "$2" "$3" <<'PY'
import os, sys
d, width, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(d)
for level in range(10):
    ld = os.path.join(d, "l%d" % level)
    os.makedirs(ld)
    for i in range(width):
        with open(os.path.join(ld, "f%d.conf" % i), "w") as f:
            f.write("include_dir '.'\n")
            if level < 9:
                f.write("include_dir '../l%d'\n" % (level + 1))
            f.write("work_mem = '%dMB'\n" % (i + 1))
with open(os.path.join(d, "postgresql.conf"), "w") as f:
    f.write("port = %s\ninclude_dir 'l0'\n" % port)
PY
}
fanout fan 5 5501
mkdir -p "$R/etc/postgresql/15/after"; echo "port = 5502" >"$R/etc/postgresql/15/after/postgresql.conf"
wait_for 'dry-run: start patroni@15-after.service' 1 30
expect_count "include_dir fan-out: the other cluster is handled" 'dry-run: start patroni@15-after.service' 1
wait_for 'Not generating a configuration for 15/fan' 1 30
expect_count "... and the fan-out is refused at once: each file read once, 50 of them in a chain past 10 levels" \
        "Not generating a configuration for 15/fan: /etc/postgresql/15/fan/[^ ]*.conf:1: includes nested too deeply" 1
# 3. Many files, however shallow: refused past 64, naming the bound.
mkdir -p "$R/etc/postgresql/15/wide/conf.d"
for i in $(seq 1 70); do echo "work_mem = '${i}MB'" >"$R/etc/postgresql/15/wide/conf.d/$i.conf"; done
printf "port = 5505\ninclude_dir 'conf.d'\n" >"$R/etc/postgresql/15/wide/postgresql.conf"
wait_for 'Not generating a configuration for 15/wide' 1 30
expect_count "70 included files: refused, naming the bound" \
        "Not generating a configuration for 15/wide: /etc/postgresql/15/wide/conf.d: holds more than 64 configuration files" 1

# 4. An alias bomb in the template (10 levels of 9): SIGHUP is answered, and a new cluster is generated with it.
{
        cat "$TEMPLATE"
        echo 'tags:'
        echo '  l0: &l0 [lol]'
        for i in 1 2 3 4 5 6 7 8 9 10; do
                printf '  l%d: &l%d [' "$i" "$i"
                for j in 1 2 3 4 5 6 7 8 9; do printf '*l%d%s' $((i - 1)) "$([ "$j" -lt 9 ] && echo ', ')"; done
                echo ']'
        done
} >"$R/etc/patroni/config.yml.in.new" && mv "$R/etc/patroni/config.yml.in.new" "$R/etc/patroni/config.yml.in"
kill -HUP "$DPID"
wait_for 'Reloaded settings|Invalid configuration' 1 30
mkdir -p "$R/etc/postgresql/15/bomb"; echo "port = 5503" >"$R/etc/postgresql/15/bomb/postgresql.conf"
wait_for 'dry-run: start patroni@15-bomb.service' 1 30
expect_count "alias bomb in the template: generated, each node checked once" 'dry-run: start patroni@15-bomb.service' 1

# 5. An admin's configuration nested 200,000 deep: read at once (refused by libyaml's bound), no stall.
/usr/bin/python3 -c 'import sys; n = 200000; open(sys.argv[1], "w").write("scope: " + "[" * n + "]" * n + "\n")' \
        "$R/etc/patroni/15-deep.yml"
mkdir -p "$R/etc/postgresql/15/last"; echo "port = 5504" >"$R/etc/postgresql/15/last/postgresql.conf"
wait_for 'dry-run: start patroni@15-last.service' 1 30
expect_count "a deeply nested configuration does not stall the daemon" 'dry-run: start patroni@15-last.service' 1

# 6. SIGTERM while the daemon reads the worst of these again (a reload rescans everything): it ends.
kill -HUP "$DPID"
sleep 0.05
kill -TERM "$DPID"
waited=0
while kill -0 "$DPID" 2>/dev/null && [ "$waited" -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
check "SIGTERM during a rescan of hostile files: the daemon ends" "gone" "$(kill -0 "$DPID" 2>/dev/null || echo gone)"
stop_daemon
finish
