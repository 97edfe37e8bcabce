#!/bin/bash
# The whole test suite, as CI runs it (README's test command):
#  1. build the tree as the README does, and make the release tarball;
#  2. the Debian package built from the tarball (with its unit and CLI tests),
#     and lintian on it; the system tests install that package;
#  2b. from the tarball, a build with -Werror, AddressSanitizer and
#     UndefinedBehaviorSanitizer, and "make check" on it;
#  2c. the three-host system scenarios ("make check-hosts": failover and an application's writes; "make
#      check-join": join; "make check-vip-failover": a virtual IP), slower, each on its own;
#  2d. the same "make check" built with clang, ASan and UBSan (no system tier);
#  3. "make distcheck" (a plain build and check from the tarball, out of tree,
#     install and uninstall);
#  4. each fuzz harness under libFuzzer for FUZZ_SECONDS (60);
#  5. the benchmarks, which print figures and are not counted.
# Ends with "N passed, N failed, N skipped", counting individual checks.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)

W=$(mktemp -d "${TMPDIR:-/tmp}/pdd-ci-XXXXXX")
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT

passed=0 failed=0 skipped=0
step() { echo; echo "=== $*"; }
# add_summary LINE: add a script's "# P passed, F failed, S skipped" to the totals (its F stays in $f)
add_summary() {
        read -r p f s < <(awk '{ print $2, $4, $6 }' <<<"$1")
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

step "build (as in README.md)"
{ [ -x configure ] || autoreconf -fi; } && { [ -f Makefile ] || ./configure --enable-werror; } && make -j"$jobs" && make dist \
        || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
tarball=$(ls -t patroni-debiand-*.tar.gz | head -1)

step "Debian package: dpkg-buildpackage -b from $tarball, then lintian"
mkdir "$W/deb" && tar -C "$W/deb" -xzf "$tarball"
if (cd "$W"/deb/patroni-debiand-* && dpkg-buildpackage -us -uc -b >"$W/deb/build.out" 2>&1); then
        passed=$((passed + 1))
        PDD_DEB=$(ls "$W"/deb/patroni-debiand_*.deb)
        export PDD_DEB # the system tests install this package
        echo "built ${PDD_DEB##*/}; its own build ran: $(grep -E '^# (PASS|FAIL):' "$W/deb/build.out" | tr '\n' ' ')"
        lintian --pedantic --display-experimental "$PDD_DEB" >"$W/deb/lintian.out" 2>/dev/null
        if grep -qE '^[EW]: ' "$W/deb/lintian.out"; then
                failed=$((failed + 1))
                echo "lintian: errors or warnings:"
                grep -E '^[EW]: ' "$W/deb/lintian.out"
        else
                passed=$((passed + 1))
                echo "lintian --pedantic: no error, no warning$(grep -qE '^[IPX]: ' "$W/deb/lintian.out" &&
                        printf '; other tags:\n%s' "$(grep -E '^[IPX]: ' "$W/deb/lintian.out")")"
        fi
else
        failed=$((failed + 1))
        echo "dpkg-buildpackage failed:"
        tail -30 "$W/deb/build.out"
fi

step "sanitizer build (ASan + UBSan, -Werror) from $tarball, make check"
tar -C "$W" -xzf "$tarball"
san=$(echo "$W"/patroni-debiand-*)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd "$san" && ./configure --enable-werror --enable-asan --enable-ubsan >configure.out 2>&1 && make -j"$jobs" >make.out 2>&1) \
        || { tail -30 "$san"/configure.out "$san"/make.out 2>/dev/null; failed=$((failed + 1)); }
(cd "$san" && make -j"$jobs" check >check.out 2>&1)
sed -n '/^Testsuite summary/,/^=====*$/p; /^# [A-Z]*: /p' "$san/check.out" | sort -u

# Count individual checks: Check's "Checks: N, Failures: F, Errors: E" and the
# CLI scripts' "# P passed, F failed, S skipped". A test that crashed or was
# stopped by a sanitizer without such a line counts as one failure.
for trs in $(find "$san/tests" -name '*.trs' | sort); do
        log=${trs%.trs}.log
        result=$(sed -n 's/^:global-test-result: //p' "$trs")
        name=${log#"$san"/}
        if line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log"); then
                n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
                f=$(sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/' <<<"$line")
                f=$((f))
                passed=$((passed + n - f)) failed=$((failed + f))
        elif line=$(grep -E '^# [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$log"); then
                add_summary "$line"
        elif [ "$result" = SKIP ]; then
                skipped=$((skipped + 1))
        else
                failed=$((failed + 1))
        fi
        if [ "$result" = FAIL ] || [ "$result" = ERROR ]; then
                echo "--- $name ($result)"
                grep -E '^not ok|:F:|:E:|ERROR|runtime error|Sanitizer' "$log" | head -20
                # a failing exit status with no failed check counted is a failure of its own (sanitizer, crash)
                if ! grep -qE '^not ok|:F:|:E:' "$log"; then failed=$((failed + 1)); fi
        fi
done

for scenario in "hosts:failover, rejoin, an attacker on the network, an application's writes" \
        "join:join by the DCS, no step per cluster" "vip-failover:a virtual IP, an application's writes through it"; do
        target=check-${scenario%%:*}
        step "system tier, three hosts: make $target (the package, three containers, etcd cluster: ${scenario#*:})"
        (cd "$san" && make "$target" >"$W/$target.out" 2>&1)
        rc=$?
        if line=$(grep -E '^# [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$W/$target.out" | tail -1); then
                add_summary "$line"
                grep -E '^not ok|^# (failover|rejoin|join) time|^# write gap|^# (etcd|pdd-[abc]: etcd|free space)|rewinding|wall time' "$W/$target.out"
                echo "$line"
                # an exit status that no failed check explains (a timeout, a crash) is a failure of its own
                if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); echo "make $target exited $rc"; fi
        else
                failed=$((failed + 1))
                echo "make $target exited $rc with no summary:"
                tail -30 "$W/$target.out"
        fi
done
# Whatever happened, it must leave nothing behind.
left=$(ip netns list 2>/dev/null | grep -E '^pdd[0-9]+(br|h[0-9]|x|y)'; grep -E ' /tmp/pdd-sys-[^ ]*/root ' /proc/mounts | cut -d' ' -f2)
if [ -z "$left" ]; then
        passed=$((passed + 1))
        echo "nothing left behind: no network namespace, no overlay mount"
else
        failed=$((failed + 1))
        echo "left behind (network namespaces, overlay mounts): $(tr '\n' ' ' <<<"$left")"
fi

step "clang sanitizer build (ASan + UBSan, -Werror) from $tarball, make check without the system tier"
# The same suite with the other compiler: clang links the sanitizer runtime statically and warns otherwise.
if command -v clang >/dev/null; then
        mkdir "$W/clang" && tar -C "$W/clang" -xzf "$tarball"
        cl=$(echo "$W"/clang/patroni-debiand-*)
        if (cd "$cl" && CC=clang ./configure --enable-werror --enable-asan --enable-ubsan >configure.out 2>&1 &&
                make -j"$jobs" >make.out 2>&1); then
                (cd "$cl" && PDD_SKIP_SYSTEM=1 make -j"$jobs" check >check.out 2>&1)
                grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR): ' "$cl/check.out"
                # make check's own counts (one per check of a script, one per unit-test program)
                p=$(sed -n 's/^# PASS: *//p' "$cl/check.out") s=$(sed -n 's/^# SKIP: *//p' "$cl/check.out")
                f=$(sed -n 's/^# FAIL: *//p' "$cl/check.out") e=$(sed -n 's/^# ERROR: *//p' "$cl/check.out")
                [ -n "$p" ] || { f=1; tail -30 "$cl/check.out"; }
                passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0} + ${e:-0})) skipped=$((skipped + ${s:-0}))
                grep -E '^(FAIL|ERROR):' "$cl/check.out" | head -20
        else
                failed=$((failed + 1))
                tail -30 "$cl"/configure.out "$cl"/make.out 2>/dev/null
        fi
else
        skipped=$((skipped + 1))
        echo "clang not installed"
fi

step "make distcheck"
# The system tier ran above (from the same tarball); here its scripts report themselves skipped.
if PDD_SKIP_SYSTEM=1 make -j"$jobs" distcheck >"$W/distcheck.out" 2>&1; then
        passed=$((passed + 1))
        grep -A3 "archives ready for distribution" "$W/distcheck.out"
else
        failed=$((failed + 1))
        tail -40 "$W/distcheck.out"
fi

step "the daemon under valgrind through the integration scenarios (plain build)"
if make check TESTS=tests/integration/valgrind.sh >"$W/valgrind.out" 2>&1; then :; fi
if line=$(grep -E '^# [0-9]+ passed, [0-9]+ failed' tests/integration/valgrind.log | tail -1); then
        echo "$line"
        add_summary "$line"
        grep -q '^:global-test-result: PASS' tests/integration/valgrind.trs 2>/dev/null ||
                { failed=$((failed + 1)); grep -E '^not ok' tests/integration/valgrind.log; }
else
        failed=$((failed + 1))
        tail -20 "$W/valgrind.out"
fi

step "fuzzing: each harness under libFuzzer with ASan and UBSan for ${FUZZ_SECONDS:-60} s"
if make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" >"$W/fuzz.out" 2>&1; then
        cat "$W/fuzz.out"
        passed=$((passed + $(grep -c '^fuzz-.*no crash' "$W/fuzz.out")))
else
        cat "$W/fuzz.out"
        passed=$((passed + $(grep -c '^fuzz-.*no crash' "$W/fuzz.out")))
        failed=$((failed + 1))
fi

step "benchmarks (figures, not counted)"
make bench 2>&1 || echo "benchmarks did not run"

echo
echo "tiers: unit (Check) and fuzz corpora, CLI, daemon integration (dry run) and system (real systemd, etcd, Patroni, PostgreSQL in a container) in make check; three hosts, fuzzing and distcheck above"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
