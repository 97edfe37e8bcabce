#!/bin/bash
# patroni-debianctl ctl: patronictl with the cluster's configuration, by
# VERSION/CLUSTER or VERSION-CLUSTER, exit status kept; unknown clusters named.
. "$(dirname "$0")/lib.sh"

new_root
B=$R/bin
mkdir -p "$B"
# A patronictl that reports how it was called and exits with the status it is asked for.
cat >"$B/patronictl" <<'SH'
#!/bin/sh
printf '%s\n' "$@"
for a; do case $a in --exit=*) exit "${a#--exit=}" ;; esac; done
exit 0
SH
chmod +x "$B/patronictl"
"$CTL" generate --root "$R" --port=5432 15 main >/dev/null
"$CTL" generate --root "$R" --port=5433 15 my-db >/dev/null

out=$(PATH=$B:$PATH "$CTL" --root "$R" ctl 15/main list --format json); rc=$?
check "ctl 15/main list: patronictl -c the config, arguments kept" "0 -c|$R/etc/patroni/15-main.yml|list|--format|json|" \
        "$rc $(tr '\n' '|' <<<"$out")"
out=$(PATH=$B:$PATH "$CTL" --root "$R" ctl 15-my-db topology); rc=$?
check "ctl VERSION-CLUSTER with dashes in the name" "0 -c|$R/etc/patroni/15-my-db.yml|topology|" "$rc $(tr '\n' '|' <<<"$out")"
out=$(PATH=$B:$PATH "$CTL" --root "$R" ctl 15/my-db restart --exit=3 >/dev/null); rc=$?
check "ctl: patronictl's exit status is kept" "3" "$rc"
out=$(PATH=$B:$PATH "$CTL" --root "$R" ctl 15/nope list 2>&1); rc=$?
check "ctl: an unknown cluster is an error listing the known ones" \
        "2 patroni-debianctl: error: unknown cluster 15/nope: /etc/patroni/15-nope.yml: does not exist (clusters with a Patroni configuration: 15/main, 15/my-db)" \
        "$rc $out"
out=$(PATH=$B:$PATH "$CTL" --root "$R" ctl 'x/../main' list 2>&1); rc=$?
check "ctl: a name that is not VERSION/CLUSTER" \
        "2 patroni-debianctl: error: invalid cluster \"x/../main\": expected VERSION/CLUSTER or VERSION-CLUSTER" "$rc $out"
out=$("$CTL" --root "$R" ctl 2>&1); rc=$?
check "ctl without a cluster: usage error" "2" "$rc"
out=$(PATH=/nonexistent "$CTL" --root "$R" ctl 15/main list 2>&1); rc=$?
check "ctl without patronictl: 127, saying so" "127 yes" "$rc $(grep -q 'is the patroni package installed' <<<"$out" && echo yes)"
# env.conf's PATRONI_* variables reach patronictl in its environment (the REST API's credentials for its
# unsafe calls), over any of the same name the caller has, and never on its command line.
mkdir -p "$R/envbin"
printf '#!/bin/sh\nenv | grep "^PATRONI_RESTAPI_" | sort | tr "\\n" " "; echo "args: $*"\n' >"$R/envbin/patronictl"
chmod +x "$R/envbin/patronictl"
out=$(PATRONI_RESTAPI_USERNAME=caller PATH=$R/envbin:$PATH "$CTL" --root "$R" ctl 15/main restart 2>&1)
check "ctl: env.conf's credentials in patronictl's environment, not its arguments" \
        "PATRONI_RESTAPI_PASSWORD=not-a-secret-test-value PATRONI_RESTAPI_USERNAME=patroni args: -c $R/etc/patroni/15-main.yml restart" "$out"
finish
