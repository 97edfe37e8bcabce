#!/bin/bash
# The takeover helper (Python), function by function: the values it takes from the daemon, the steps it
# records in the mark, its lock, env.conf's trust and names, and the roles it makes in a real PostgreSQL
# (psycopg2 quotes the names and computes the SCRAM verifiers).
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/pdd-takeover-XXXXXX")
CLEANUP+=("rm -rf '$T'")
tk=$top_srcdir/src/helpers/patroni-debiand-takeover.in

out=$(/usr/bin/python3 "$tk" 2>&1); rc=$?
check "without a cluster: usage, exit 2" "2 usage: patroni-debiand-takeover VERSION-CLUSTER" "$rc $out"

# tk_python: the helper loaded as a module (its main not run), its directories in $T; the script on stdin.
tk_python() {
        /usr/bin/python3 -c "$(printf '%s\n%s' "$(cat <<'PY'
import importlib.machinery, importlib.util, os, sys
loader = importlib.machinery.SourceFileLoader("tk", sys.argv[1])
spec = importlib.util.spec_from_loader("tk", loader)
tk = importlib.util.module_from_spec(spec)
loader.exec_module(tk)
T = sys.argv[2]
tk.PATRONI_DIR = T + "/etc/patroni"
tk.ENV_CONF = T + "/etc/patroni/env.conf"
tk.STATE_DIR = T + "/takeover"
PARAMS = {"TAKEOVER_VERSION": "15", "TAKEOVER_NAME": "main", "TAKEOVER_PATRONI_UNIT": "pat@15-main.service",
          "TAKEOVER_START_CONF": "disabled", "TAKEOVER_PORT": "5439", "TAKEOVER_CONFIG": T + "/etc/patroni/15-main.yml"}
def show(f, *a):
    try:
        print(f(*a))
    except tk.Failure as e:
        print("Failure: " + str(e).replace(T, "$T"))
PY
)" "$(cat)")" "$tk" "$T"
}
mkdir -p "$T/etc/patroni" "$T/takeover"
printf 'scope: x\nname: n1\npostgresql:\n  authentication:\n    replication:\n      username: repl\n' \
        >"$T/etc/patroni/15-main.yml"

# The daemon's values, not its rules parsed again.
check "the values come from the environment the unit got from the mark" \
        "pat@15-main.service disabled 5439 15 main" \
        "$(tk_python <<'PY'
c = tk.Cluster("15-main", PARAMS)
print(c.patroni_unit, c.start_conf, c.port, c.version, c.name)
PY
)"
check "started without the daemon's values: refused, naming what is missing" \
        "Failure: started without the values patroni-debiand writes into \$T/takeover/15-main (TAKEOVER_PORT missing): let the daemon start it (systemctl reload patroni-debiand)" \
        "$(tk_python <<'PY'
show(tk.Cluster, "15-main", {k: v for k, v in PARAMS.items() if k != "TAKEOVER_PORT"})
PY
)"
check "an instance that is not the one the mark names: refused" \
        "Failure: '15-other' is not the cluster the mark names (15-main)" \
        "$(tk_python <<'PY'
show(tk.Cluster, "15-other", PARAMS)
PY
)"

# Steps recorded in the mark: the daemon's lines kept, one step line, resumed after it.
printf '# c\nTAKEOVER_VERSION=15\nTAKEOVER_STEP=running\n' >"$T/takeover/15-main"
check "a step recorded: the daemon's lines kept, the step replaced; done() follows the order" \
        "# c|TAKEOVER_VERSION=15|TAKEOVER_STEP=start-conf| True True False 600" \
        "$(tk_python <<'PY'
c = tk.Cluster("15-main", dict(PARAMS, TAKEOVER_STEP="running"))
c.record("roles")
c.record("start-conf")
print(open(tk.STATE_DIR + "/15-main").read().replace("\n", "|"), c.done("roles"), c.done("start-conf"),
      c.done("systemd-reload"), oct(os.stat(tk.STATE_DIR + "/15-main").st_mode & 0o777)[2:])
PY
)"
# A run cut short between writing start.conf and reloading systemd: the next one reloads.
check "resumed after start-conf: the write is skipped, systemd is reloaded, then the handover" \
        "running systemd-reload handover postmaster" \
        "$(tk_python <<'PY'
calls = []
tk.step_running = lambda c: calls.append("running")
tk.step_roles = lambda c: calls.append("roles")
tk.step_start_conf = lambda c: calls.append("start-conf")
tk.step_systemd_reload = lambda c: calls.append("systemd-reload")
tk.step_handover = lambda c: calls.append("handover")
c = tk.Cluster("15-main", dict(PARAMS, TAKEOVER_STEP="start-conf"))
tk.run_steps(c)
print(" ".join(calls), c.step)
PY
)"
check "start.conf as written: comments kept, the mode last, nothing parsed" \
        "['# managed', '', 'disabled'] ['disabled']" \
        "$(tk_python <<'PY'
print(tk.start_conf_lines(["# managed", "", "auto   # x"], "disabled"), tk.start_conf_lines([], "disabled"))
PY
)"
check "one run per cluster: a second one is refused while the first holds the lock" \
        "Failure: another handover of 15/main is running" \
        "$(tk_python <<'PY'
tk.CLUSTER = "15/main"
with tk.HandoverLock("15-main"):
    def second():
        with tk.HandoverLock("15-main"):
            return "locked twice"
    import subprocess
    pid = os.fork()
    if pid == 0:
        show(second)
        os._exit(0)
    os.waitpid(pid, 0)
PY
)"

# env.conf: values from systemd (the environment); here only its trust and which names it sets.
envconf() { # SETUP-SHELL-COMMANDS, PYTHON: run PYTHON after SETUP in $T/etc/patroni
        rm -rf "$T/etc/patroni/env.conf" && (cd "$T/etc/patroni" && eval "$1")
        tk_python <<<"$2" 2>&1
}
check "env.conf, root's and 0600: trusted" "None" "$(envconf "echo A=1 >env.conf && chmod 600 env.conf" 'show(tk.env_conf_trusted)')"
check "env.conf writable by others: refused" \
        "Failure: \$T/etc/patroni/env.conf is writable by others (mode 0666): its passwords are not used (chmod 600 \$T/etc/patroni/env.conf)" \
        "$(envconf "echo A=1 >env.conf && chmod 666 env.conf" 'show(tk.env_conf_trusted)')"
check "env.conf readable by every user: refused" \
        "Failure: \$T/etc/patroni/env.conf is readable by every user (mode 0644): chmod 600 \$T/etc/patroni/env.conf" \
        "$(envconf "echo A=1 >env.conf && chmod 644 env.conf" 'show(tk.env_conf_trusted)')"
check "env.conf names: set, indented, commented out, a longer name, no file" "True True False False False" \
        "$(envconf "printf 'K=1\n  L=\"x\"\n#M=1\nKK=2\n' >env.conf && chmod 600 env.conf" \
                'print(tk.env_conf_has("K"), tk.env_conf_has("L"), tk.env_conf_has("M"), tk.env_conf_has("KKK"), end=" "); os.unlink(tk.ENV_CONF); print(tk.env_conf_has("K"))')"
check "passwords: the environment first, then the configuration; the missing ones generated, names only" \
        "repl/env-pw/replication rewind/*/rewind | PATRONI_REWIND_USERNAME PATRONI_REWIND_PASSWORD" \
        "$(tk_python <<'PY'
c = tk.Cluster("15-main", PARAMS)
w, g = tk.wanted_roles(c, {"PATRONI_REPLICATION_PASSWORD": "env-pw"})
print(" ".join("%s/%s/%s" % (u, p if k == "replication" else "*", k) for u, p, k in w), "|", " ".join(k for k, _ in g))
PY
)"
if is_root; then
        check "a password stored by another handover since the unit started: run again (exit 75), nothing added" \
                "Again 1" \
                "$(envconf "echo PATRONI_REWIND_PASSWORD=other >env.conf && chmod 600 env.conf" '
c = tk.Cluster("15-main", dict(PARAMS, PATRONI_REWIND_USERNAME="rw"))
os.environ.pop("PATRONI_REWIND_PASSWORD", None)
os.environ["PATRONI_REPLICATION_PASSWORD"] = "x"
tk.create_roles = lambda *a: None
try:
    tk.step_roles(c)
except tk.Again:
    print("Again", len(open(tk.ENV_CONF).read().splitlines()))')"
        rm -f "$T/etc/patroni/env.conf"
        tk_python <<'PY'
pids = []
for i in range(8):  # eight handovers at once, each adding its own line
    pid = os.fork()
    if pid == 0:
        with tk.EnvConfLock():
            tk.append_env_conf(["K%d=v%d" % (i, i)])
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
PY
        check "eight handovers adding to env.conf at once: every line kept, 0600" "8 600" \
                "$(grep -c '^K[0-7]=v[0-7]$' "$T/etc/patroni/env.conf") $(stat -c %a "$T/etc/patroni/env.conf")"
else
        skip "env.conf changed meanwhile, and concurrent handovers (need root)"
fi

# The roles in a real PostgreSQL: hostile names and passwords, SCRAM verifiers, logins that work.
pgbin=/usr/lib/postgresql/15/bin
if is_root && [ -x "$pgbin/initdb" ] && id postgres >/dev/null 2>&1 && /usr/bin/python3 -c 'import psycopg2' 2>/dev/null; then
        D=$T/pg
        chmod 711 "$T" # postgres passes through to its own directories
        mkdir -p "$D/data" "$D/sock" && chown -R postgres: "$D"
        runuser -u postgres -- "$pgbin/initdb" -D "$D/data" -A peer >/dev/null 2>&1
        printf 'local all postgres peer\nlocal all all scram-sha-256\n' >"$D/data/pg_hba.conf"
        port=$((20000 + RANDOM % 20000))
        runuser -u postgres -- "$pgbin/pg_ctl" -D "$D/data" -l "$D/log" -w \
                -o "-c listen_addresses='' -c unix_socket_directories='$D/sock' -p $port -c log_statement=all" \
                start >/dev/null
        CLEANUP+=("runuser -u postgres -- '$pgbin/pg_ctl' -D '$D/data' -m immediate stop >/dev/null 2>&1")
        out=$(D=$D PORT=$port tk_python <<'PY' 2>&1
roles = [('re"pl; DROP ROLE postgres', "pa'ss\"word\\ ;--", "replication"), ("o'neil", "p2", "rewind")]
tk.create_roles(os.environ["D"] + "/sock", int(os.environ["PORT"]), roles)
tk.create_roles(os.environ["D"] + "/sock", int(os.environ["PORT"]), roles)  # again: nothing fails
print("ok")
PY
)
        check "roles made with hostile names and passwords, twice" "ok" "$out"
        q() { runuser -u postgres -- "$pgbin/psql" -X -A -t -h "$D/sock" -p "$port" -d postgres -c "$1"; }
        check "stored as SCRAM verifiers, replication only for the replication role" \
                "o'neil|false|SCRAM-SHA-256 re\"pl; DROP ROLE postgres|true|SCRAM-SHA-256 postgres" \
                "$(q "SELECT rolname || '|' || rolreplication || '|' || split_part(rolpassword, '\$', 1) FROM pg_authid WHERE rolname <> 'postgres' AND rolname !~ '^pg_' ORDER BY 1" | tr '\n' ' ')$(q "SELECT rolname FROM pg_roles WHERE rolname = 'postgres'")"
        check "the password logs in (SCRAM over the socket)" "re\"pl; DROP ROLE postgres" \
                "$(PGPASSWORD="pa'ss\"word\\ ;--" "$pgbin/psql" -X -A -t -h "$D/sock" -p "$port" -d postgres \
                        -U 're"pl; DROP ROLE postgres' -c 'SELECT current_user')"
        check "the rewind role may read files for pg_rewind" "t" \
                "$(q "SELECT has_function_privilege('o''neil', 'pg_catalog.pg_read_binary_file(text)', 'EXECUTE')")"
        check "no password nor verifier in the server log, though it logs every statement" "0" \
                "$(grep -c -e 'pa.ss' -e 'SCRAM-SHA-256\$' "$D/log")"
else
        skip "roles in a real PostgreSQL (need root, PostgreSQL 15 and python3-psycopg2)"
fi

# The units as systemd reads them: a setting it refuses makes the whole unit unusable.
if command -v systemd-analyze >/dev/null; then
        mkdir -p "$T/units"
        for u in patroni-debiand.service patroni-debiand-takeover@.service; do
                sed -e "s|%PKGLIBEXECDIR%|$top_srcdir/src/helpers|g" -e "s|%SBINDIR%|$top_builddir|g" \
                        "$top_srcdir/etc/$u.in" >"$T/units/$u"
        done
        out=$(cd "$T/units" && systemd-analyze verify --man=no ./patroni-debiand.service \
                ./patroni-debiand-takeover@15-main.service 2>&1 |
                grep -E 'Refusing|bad unit file|Unknown (key|section)|[Ii]nvalid|[Ff]ailed to parse')
        check "systemd-analyze verify: systemd takes every setting of both units" "" "$out"
else
        skip "systemd-analyze not installed"
fi

if command -v pyflakes3 >/dev/null; then
        out=$(pyflakes3 "$tk" 2>&1)
        check "pyflakes-clean" "0 " "$? $out"
else
        skip "pyflakes3 not installed"
fi
finish
