#!/bin/bash
# The test harness itself: cleanup steps run once each, last registered first,
# even when a step assigns a variable named like a loop index, as net_teardown's
# "for i in ..." did (bash's dynamic scoping reached the cleanup loop's own index).
. "$(dirname "$0")/lib.sh"

log=$(mktemp)
CLEANUP+=("rm -f '$log'")
timeout 5 bash -c '
        . "$1/lib.sh"
        step() { for i in 1 2 3; do :; done; echo "step $1" >>"$2"; }
        CLEANUP+=("step 0 $2" "step 1 $2" "step 2 $2" "step 3 $2" "step 4 $2")
' _ "$(cd "$(dirname "$0")" && pwd)" "$log"
rc=$?
check "cleanup: each step once, last first, and it ends" "0 step 4 step 3 step 2 step 1 step 0" "$rc $(head -n 6 "$log" | tr "\n" " " | sed "s/ $//")"
finish

