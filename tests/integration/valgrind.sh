#!/bin/bash
# Run the daemon's integration scenarios with the daemon under valgrind:
# any memory error, or memory definitely or indirectly lost, makes the
# daemon's exit status 97, which the scenarios' stop_daemon reports.
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v valgrind >/dev/null; then
        echo "# 0 passed, 0 failed, 1 skipped (valgrind not installed)"
        echo "1..0 # SKIP valgrind not installed"
        exit 77
fi
export DAEMON_WRAPPER="valgrind -q --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=no"
rc=0
for t in daemon-cluster daemon-config daemon-dirs; do
        echo "## $t under valgrind"
        bash "$here/$t.sh" || rc=1
done >"${TMPDIR:-/tmp}/pdd-valgrind.$$"
grep -vE '^1\.\.[0-9]+$' "${TMPDIR:-/tmp}/pdd-valgrind.$$" # one TAP stream: its plan comes once, below
read -r p f k < <(awk '/^# [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4; k += $6 } END { print p + 0, f + 0, k + 0 }' \
        "${TMPDIR:-/tmp}/pdd-valgrind.$$")
rm -f "${TMPDIR:-/tmp}/pdd-valgrind.$$"
echo "# $p passed, $f failed, $k skipped"
echo "1..$((p + f + k))"
[ "$f" -eq 0 ] && [ "$rc" -eq 0 ]
