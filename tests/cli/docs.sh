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
check "every key of the settings is in the shipped file" \
        "autostart config_settle_ms exclude include join reload_on_change removal_settle_ms settle_ms start_conf takeover template unit " \
        "$(sed -n 's/^#\([a-z_]*\):.*/\1/p' "$top_srcdir/etc/patroni-debiand.yml" | sort | tr '\n' ' ')"
check "and every key is documented in patroni-debiand.yml(5)" "12" \
        "$(for k in autostart config_settle_ms exclude include join reload_on_change removal_settle_ms settle_ms start_conf takeover template unit; do
                grep -q "^\.BR $k " "$top_srcdir/doc/patroni-debiand.yml.5" && echo "$k"; done | wc -l)"
finish
