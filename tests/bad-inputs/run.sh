#!/bin/bash
# The bad-input catalogue for the daemon (the CLI's is tests/cli/generate-bad-inputs.sh):
#  - reload-cases.txt: settings, template, DCS sources, createcluster.conf. Each is
#    refused by --check-config (exit 1, the exact message) and, on a running
#    daemon, by SIGHUP (the same message; old settings kept; still running).
#  - cluster-cases.txt: a cluster's own files. The daemon says why it does not
#    generate, writes nothing, and runs on.
#  - names.txt: names in the watched trees that are neither: no message, no action.
# Every message must also appear in doc/bad-inputs.md.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
DOC=${top_srcdir:?}/doc/bad-inputs.md

cases() { grep -v -e '^#' -e '^$' "$here/$1"; }
in_doc() { # MESSAGE
        grep -qF -- "$(sed 's/|/\\|/g' <<<"$1")" "$DOC" || not_ok "not in doc/bad-inputs.md: $1"
}

new_daemon_root
start_daemon
n=0
while IFS='|' read -r file content msg; do
        saved=
        [ -e "$R$file" ] && saved=$(cat "$R$file")
        mkdir -p "$(dirname "$R$file")"
        # shellcheck disable=SC2059 # the content is a printf format on purpose
        printf -- "$content" >"$R$file"
        case $file in /etc/default/patroni) mv "$R/etc/patroni/dcs.yml" "$R/dcs.yml.aside" ;; esac

        out=$("$DAEMON" --root "$R" --check-config 2>&1)
        check "--check-config: $msg" "1 patroni-debiand: error: $msg" "$? $out"
        kill -HUP "$DPID"
        n=$((n + 1))
        wait_for 'Invalid configuration' "$n" 5
        check "SIGHUP: $msg" "patroni-debiand: error: Invalid configuration, keeping the previous one: $msg" \
                "$(grep 'Invalid configuration' "$LOG" | tail -1)"
        in_doc "$msg"

        if [ -n "$saved" ]; then printf '%s\n' "$saved" >"$R$file"; else rm -f "$R$file"; fi
        case $file in /etc/default/patroni) mv "$R/dcs.yml.aside" "$R/etc/patroni/dcs.yml" ;; esac
done < <(cases reload-cases.txt)
kill -HUP "$DPID"
wait_for 'Reloaded settings' 1 5
kill -0 "$DPID"; check "after $n rejected reloads the daemon runs, and a good reload is taken" "0 1" "$? $(count 'Reloaded settings')"

C=$R/etc/postgresql/15/bad
k=0
while IFS='|' read -r file content msg; do
        mkdir -p "$C"
        [ "$file" = postgresql.conf ] || echo "port = 5432" >"$C/postgresql.conf"
        # shellcheck disable=SC2059
        printf -- "$content" >"$C/$file"
        k=$((k + 1))
        wait_for 'Not generating a configuration for 15/bad' "$k" 5
        check "cluster file: $msg" "patroni-debiand: warning: Not generating a configuration for 15/bad: $msg" \
                "$(grep 'Not generating a configuration for 15/bad' "$LOG" | tail -1)"
        check "cluster file: nothing written for: $msg" "0" "$(find "$R/etc/patroni" -name '*15-bad*' | wc -l)"
        in_doc "$msg"
        rm -rf "$C"
        wait_for 'Cluster directory /etc/postgresql/15/bad is gone' "$k" 5
done < <(cases cluster-cases.txt)

before=$(wc -l <"$LOG")
while read -r path; do
        case $path in */) mkdir -p "$R$path" ;; *) echo "scope: x" >"$R$path" ;; esac
done < <(cases names.txt)
quiet 1000
check "$(cases names.txt | wc -l) names that are neither clusters nor configurations: no message, no action" "$before" "$(wc -l <"$LOG")"
while read -r path; do in_doc "$path"; done < <(cases names.txt)

kill -0 "$DPID"; check "nothing made the daemon exit" "0" "$?"
stop_daemon
finish
