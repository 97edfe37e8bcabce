# shellcheck shell=bash
# Helpers for the CLI tests: a relocated root made with mktemp, checks, counters.
# Each test script sources this, runs its checks, and ends with "finish".

set -u
: "${CTL:?CTL must point at the patroni-debianctl binary}"
: "${TEMPLATE:?TEMPLATE must point at the built config.yml.in}"

# Tests run side by side (make -j): each holds the test lock shared; one that changes what the whole machine
# shares (the inotify limit) sets PDD_TEST_LOCK=exclusive and runs alone.
exec {PDD_LOCK_FD}>"${TMPDIR:-/tmp}/patroni-debiand-tests.lock"
if [ "${PDD_TEST_LOCK:-shared}" = exclusive ]; then flock -x "$PDD_LOCK_FD"; else flock -s "$PDD_LOCK_FD"; fi

PASSED=0
FAILED=0
SKIPPED=0
CLEANUP=()

# The index has a name no cleanup step uses: bash's scoping is dynamic, and a step
# that assigned it (a plain "for i in ...") would send the loop back and round forever.
cleanup() {
        local _cleanup_at
        for ((_cleanup_at = ${#CLEANUP[@]} - 1; _cleanup_at >= 0; _cleanup_at--)); do
                eval "${CLEANUP[_cleanup_at]}" >/dev/null 2>&1 || true
        done
}
trap cleanup EXIT
trap 'exit 143' TERM INT # so that cleanup runs when a timeout stops the test

ok() {
        PASSED=$((PASSED + 1))
        echo "ok - $*"
}
not_ok() {
        FAILED=$((FAILED + 1))
        echo "not ok - $*"
}
skip() {
        SKIPPED=$((SKIPPED + 1))
        echo "ok - $* # SKIP"
}

# R: a fresh root with our template, an etcd3 dcs.yml and PostgreSQL 15 "binaries",
# removed at exit. (Not in a $(...) subshell: the removal would not be registered.)
new_root() {
        R=$(mktemp -d "${TMPDIR:-/tmp}/pdd-cli-XXXXXX")
        CLEANUP+=("rm -rf '$R'")
        mkdir -p "$R/etc/patroni" "$R/etc/postgresql" "$R/usr/lib/postgresql/15/bin"
        cp "$TEMPLATE" "$R/etc/patroni/config.yml.in"
        printf 'etcd3:\n  hosts: 127.0.0.1:2379\n' >"$R/etc/patroni/dcs.yml"
        # As after the first generate on a host: the REST API's credentials (tests/cli/generate-basic.sh makes them).
        printf 'PATRONI_RESTAPI_USERNAME=patroni\nPATRONI_RESTAPI_PASSWORD=not-a-secret-test-value\n' \
                >"$R/etc/patroni/env.conf"
        chmod 600 "$R/etc/patroni/env.conf"
}

# new_cluster ROOT VERSION NAME [PORT]
new_cluster() {
        mkdir -p "$1/etc/postgresql/$2/$3" "$1/usr/lib/postgresql/$2/bin"
        if [ -n "${4:-}" ]; then
                echo "port = $4" >"$1/etc/postgresql/$2/$3/postgresql.conf"
        else
                echo "# no port yet" >"$1/etc/postgresql/$2/$3/postgresql.conf"
        fi
}

# yaml_get FILE EXPR: evaluate a Python expression over the parsed YAML "d".
yaml_get() {
        /usr/bin/python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# check NAME EXPECTED ACTUAL
check() {
        if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1: expected [$2], got [$3]"; fi
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# The summary, then the TAP plan: make check shows each check as PASS, FAIL or SKIP.
finish() {
        echo "# $PASSED passed, $FAILED failed, $SKIPPED skipped"
        echo "1..$((PASSED + FAILED + SKIPPED))"
        if [ "$FAILED" -gt 0 ]; then exit 1; fi
        if [ "$PASSED" -eq 0 ] && [ "$SKIPPED" -gt 0 ]; then exit 77; fi
        exit 0
}

# The host's TLS files and env.conf's CA seed, as the first configuration written makes them (then removed):
# a later generate then only writes its configuration.
host_tls() { "$CTL" --root "$R" generate --hostip=10.231.0.5 15 tls-prep >/dev/null 2>&1 && rm "$R/etc/patroni/15-tls-prep.yml"; }
