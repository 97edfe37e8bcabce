#!/bin/bash
# The man pages format without a warning; the shipped settings file, every key
# uncommented, is valid, and every key is in it and in patroni-debiand.yml(5).
. "$(dirname "$0")/lib.sh"
: "${DAEMON:?DAEMON must point at the patroni-debiand binary}"

if command -v man >/dev/null; then
        for page in "$top_srcdir"/doc/*.[0-9]; do
                err=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
                check "man --warnings -l ${page##*/}: no warning" "" "$err"
        done
else
        skip "man pages (man-db not installed)"
fi

new_root
sed 's/^#\([a-z_]*:\)/\1/' "$top_srcdir/etc/patroni-debiand.yml" >"$R/etc/patroni/patroni-debiand.yml"
out=$("$DAEMON" --root "$R" --check-config 2>&1); rc=$?
check "the shipped settings, uncommented: valid" "0 Settings, template and DCS inputs are valid." "$rc $out"
# The keys the daemon knows, as it lists them for an unknown one: every one but tls (a mapping of files) is
# in the shipped file, and every one is in patroni-debiand.yml(5).
printf 'no_such_key: 1\n' >"$R/etc/patroni/patroni-debiand.yml"
known=$("$DAEMON" --root "$R" --check-config 2>&1 | sed -n 's/.*(known: \(.*\))$/\1/p' | tr -d ',')
check "the daemon lists the keys it knows" "yes" "$([ "$(wc -w <<<"$known")" -ge 15 ] && echo yes)"
check "every key of the settings (but tls) is in the shipped file" \
        "$(tr ' ' '\n' <<<"$known" | grep -vx tls | sort | tr '\n' ' ')" \
        "$(sed -n 's/^#\([a-z_]*\):.*/\1/p' "$top_srcdir/etc/patroni-debiand.yml" | sort | tr '\n' ' ')"
check "and every key is documented in patroni-debiand.yml(5)" "" \
        "$(for k in $known; do grep -q "^\.BR $k " "$top_srcdir/doc/patroni-debiand.yml.5" || echo "$k"; done)"
finish
