#!/bin/bash
# Stop signals during a long start-up: the reconcile ends after the write in
# hand (no configuration is ever half-written), and a second signal ends the
# process at once.
. "$(dirname "$0")/lib.sh"

N=4000
# N clusters, every other one with its configuration: start-up logs a start for
# those as it goes, and renders the others, written as one batch at its end.
many_clusters() {
        new_daemon_root
        old_clusters "$N" 10000 2
}
# complete: how many of the configurations the daemon generated parse, with their REST API section
complete() {
        /usr/bin/python3 - "$R/etc/patroni" <<'PY'
import glob, os, sys, yaml
n = 0
for p in glob.glob(os.path.join(sys.argv[1], "15-c*.yml")):
    d = yaml.safe_load(open(p))
    n += isinstance(d, dict) and "restapi" in d and "postgresql" in d
print(n)
PY
}
# 1. One SIGTERM while start-up goes through the clusters.
many_clusters
launch_daemon
if wait_for '^dry-run: start ' 20 120; then
        kill -TERM "$DPID"
        wait "$DPID"
        rc=$?
        starts=$(count '^dry-run: start ')
        gen=$(count '^patroni-debiand: Generated ')
        check "SIGTERM during start-up: exit status 0, said so" "0 1" "$rc $(count 'Received Terminated, stopping')"
        check "SIGTERM during start-up: it stopped going through the clusters ($starts starts, not $N)" "yes" \
                "$([ "$starts" -lt "$N" ] && echo yes)"
        check "SIGTERM during start-up: start-up never finished, nothing stopped" "0 0" \
                "$(count 'Watching [0-9]+ clusters') $(count '^dry-run: stop ')"
        check "SIGTERM during start-up: the write in hand finished ($gen configurations), each one whole" "$gen" \
                "$(complete)"
        check "SIGTERM during start-up: as many new files as configurations generated, no temporary file" "$gen 0" \
                "$(($(find "$R/etc/patroni" -name '15-c*.yml' | wc -l) - N / 2)) $(find "$R/etc/patroni" -name '.*.tmp' | wc -l)"
        check "no sanitizer report from the daemon" "0" "$(grep -cE 'Sanitizer|runtime error' "$LOG")"
else
        not_ok "SIGTERM during start-up: no start logged: $(tail -3 "$LOG")"
fi

# 2. Two signals at once: the second ends the process there and then.
many_clusters
launch_daemon
if wait_for '^dry-run: start ' 20 120; then
        kill -TERM "$DPID"
        kill -INT "$DPID"
        wait "$DPID"
        rc=$?
        check "SIGTERM then SIGINT during start-up: the second ends the process (killed by a signal)" "yes" \
                "$(case $rc in 130 | 143) echo yes ;; *) echo "no, exit status $rc" ;; esac)"
        check "SIGTERM then SIGINT: no configuration half-written" "$(($(find "$R/etc/patroni" -name '15-c*.yml' | wc -l) - N / 2))" \
                "$(complete)"
        # What an interrupted write leaves is only ever a temporary file; the next start completes the work.
        "$DAEMON" --root "$R" --print-units --once 2>"$LOG.2"
        check "the next start generates the rest: $((N / 2)) configurations, all whole" "$((N / 2))" "$(complete)"
else
        not_ok "two signals during start-up: no start logged: $(tail -3 "$LOG")"
fi
finish
