#!/bin/bash
# join: the daemon watches a real etcd (on loopback, started here) and takes a replica of each scope its
# globs name: the configuration generated with the leader's port (or the next free one), the unit started;
# nothing for a scope without a leader, of an uninstalled version, outside the globs, or whose name a
# local cluster has; nothing removed when a leader or etcd goes away; the watch recovers after a restart.
. "$(dirname "$0")/lib.sh"

if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
        skip "join against etcd (needs etcd-server and etcd-client)"
        finish
fi

local_etcd_setup
NS=/postgresql-common
member() { # SCOPE NAME PORT: a member as Patroni writes it
        ectl put "$NS/$1/members/$2" "{\"conn_url\": \"postgres://10.0.0.$((RANDOM % 200 + 2)):$3/postgres\", \"api_url\": \"https://10.0.0.2:8008/patroni\", \"state\": \"running\", \"role\": \"primary\", \"version\": \"3.0.2\"}" >/dev/null
}
leader() { ectl put "$NS/$1/leader" "$2" >/dev/null; }

start_etcd || { not_ok "etcd did not start: $(tail -3 "$ETCD_DIR/etcd.log")"; finish; }

new_daemon_root 'join: ["15-a*", "15-g*", "15-main", "16-*", "15-late*", "15-n*", "15-w*"]'
printf 'etcd3:\n  hosts: 127.0.0.1:%s\n' "$CPORT" >"$R/etc/patroni/dcs.yml"
old_cluster 15 main 5432 # the fresh host's 15/main, in the way of the scope 15-main
# 15/wait: an empty cluster (only what initdb made) whose scope join: names, not in the DCS yet
old_cluster 15 wait 5490
echo "data_directory = '/var/lib/postgresql/15/wait'" >>"$R/etc/postgresql/15/wait/postgresql.conf"
touch -d '1 hour ago' "$R/etc/postgresql/15/wait/postgresql.conf"
mkdir -p "$R/var/lib/postgresql/15/wait/base/1" "$R/var/lib/postgresql/15/wait/base/5"
echo 15 >"$R/var/lib/postgresql/15/wait/PG_VERSION"
touch "$R/var/lib/postgresql/15/wait/base/5/1259"
touch -d '1 hour ago' "$R/etc/patroni/dcs.yml"

# Scopes there before the daemon starts.
member 15-alpha pdd-a 5440
leader 15-alpha pdd-a
member 15-main pdd-a 5432
leader 15-main pdd-a
member 15-zeta pdd-a 5450 # not in join:
leader 15-zeta pdd-a
member 16-old pdd-a 5460 # PostgreSQL 16 is not installed here
leader 16-old pdd-a
member 15-noleader pdd-a 5470
ectl put "$NS/15-alpha/config" '{"ttl": 30}' >/dev/null

start_daemon
if wait_for 'dry-run: start patroni@15-alpha.service' 1 10; then ok "15-alpha joined at start-up"; else
        not_ok "15-alpha not joined: $(cat "$LOG")"; fi
check "15-alpha: a replica's configuration with the leader's port" "15-alpha /postgresql-common/ 10.0.0.* 5440" \
        "$(yaml_get "$R/etc/patroni/15-alpha.yml" 'd["scope"], d["namespace"], "10.0.0.*", d["postgresql"]["listen"].rsplit(":", 1)[1]' |
                tr -d "(),'")"
check "15-alpha: root:postgres 0640 (or the test's user), not world-readable" "0" \
        "$(($(stat -c %a "$R/etc/patroni/15-alpha.yml") % 10))"
expect_count "the decision said with PGCLUSTER" 'DCS: 15-alpha, leader pdd-a: joins' 1
wait_for 'Not joining 15-main' 1 5
expect_count "15-main: a local cluster 15/main is in the way: said, with what to do" \
        'Not joining 15-main \(leader pdd-a in the DCS\): the pg-common cluster 15/main is here already.*pg_dropcluster --stop 15 main' 1
check "... and it is neither joined nor handed over" "no" "$([ -e "$R/etc/patroni/15-main.yml" ] && echo yes || echo no)"
expect_count "15/wait: empty, its scope named by join: but not in the DCS: not handed over, said why" \
        'Not handing 15/wait over to Patroni: join: names its scope 15-wait, which has no leader in the DCS' 1
check "... no configuration for it" "no" "$([ -e "$R/etc/patroni/15-wait.yml" ] && echo yes || echo no)"
expect_count "16-old: PostgreSQL 16 not installed: said, not joined" 'DCS: 16-old, leader pdd-a: PostgreSQL version not installed' 1
check "15-zeta (no glob), 16-old, 15-noleader: no configuration" "" \
        "$(ls "$R/etc/patroni" | grep -E '15-zeta|16-old|15-noleader')"

# list shows the DCS's scopes and what this host does with each; check says whether 15/main is in the way
# with data of its own or only what initdb made.
out=$("$CTL" --root "$R" list 2>&1)
echo "$out" | sed 's/^/# /'
row() { awk -v c="$1" '$2 == c { $1 = $1; print }' <<<"$out"; }
check "list: the header has the DCS column" "Ver Cluster Port Config Unit Patroni DCS" "$(head -1 <<<"$out" | tr -s ' ')"
check "list: 15/main here, in the way of the DCS's 15-main" "15 main 5432 none - - pdd-a: blocked by a local cluster" "$(row main)"
check "list: a scope with no configuration here (its leader's port)" "15 zeta 5450 none - - pdd-a: not in join" "$(row zeta)"
check "list: a scope without a leader" "15 noleader - none - - no leader" "$(row noleader)"
check "list: 15-alpha, joined" "15 alpha 5440 generated - - pdd-a: configured here" "$(row alpha)"
check "list --json: the scope's leader and what this host does" "pdd-a|PostgreSQL version not installed" \
        "$("$CTL" --root "$R" list --json | /usr/bin/python3 -c 'import json,sys
r = next(r for r in json.load(sys.stdin) if r["cluster"] == "old")
print(r["dcs"]["leader"], r["dcs"]["join"], sep="|")')"
echo "data_directory = '/var/lib/postgresql/15/main'" >>"$R/etc/postgresql/15/main/postgresql.conf"
mkdir -p "$R/var/lib/postgresql/15/main/base/1" "$R/var/lib/postgresql/15/main/base/5" "$R/var/lib/postgresql/15/main/pg_tblspc"
echo 15 >"$R/var/lib/postgresql/15/main/PG_VERSION"
touch "$R/var/lib/postgresql/15/main/base/5/1259" "$R/var/lib/postgresql/15/main/base/5/2619_fsm"
check "check 15/main: in the way, holding only what initdb made: drop it" "yes" \
        "$("$CTL" --root "$R" check 15/main 2>&1 | grep -q 'in the way; it holds nothing but what initdb made: drop it (pg_dropcluster --stop 15 main)' && echo yes)"
touch "$R/var/lib/postgresql/15/main/base/5/16385"
check "check 15/main: in the way, with a relation of its own: neither replaced nor joined" "yes" \
        "$("$CTL" --root "$R" check 15/main 2>&1 | grep -q 'holds data of its own (a relation of its own (/var/lib/postgresql/15/main/base/5/16385)), so it is neither replaced nor joined' && echo yes)"

# patroni-debianctl join 15/main: the admin's opt-in. pg-common's tools are stubs here (they would act on this
# machine's clusters, not on the test's root): pg_ctlcluster says the cluster is stopped, pg_dropcluster removes
# it below the root and says so.
mkdir -p "$R/bin"
printf '#!/bin/sh\necho "pg_ctlcluster $*" >>"%s/tools.log"\n[ "$3" = status ] && exit 3\nexit 0\n' "$R" >"$R/bin/pg_ctlcluster"
printf '#!/bin/sh\necho "pg_dropcluster $*" >>"%s/tools.log"\nrm -rf "%s/etc/postgresql/$1/$2" "%s/var/lib/postgresql/$1/$2"\n' "$R" "$R" "$R" \
        >"$R/bin/pg_dropcluster"
chmod +x "$R/bin/pg_ctlcluster" "$R/bin/pg_dropcluster"
out=$(PATH=$R/bin:$PATH "$CTL" --root "$R" join 15/main 2>&1); rc=$?
check "join 15/main, which has a relation of its own: refused, nothing dropped" "5 yes 0" \
        "$rc $(grep -q 'holds data of its own (a relation of its own (/var/lib/postgresql/15/main/base/5/16385)): it is not replaced' <<<"$out" && echo yes) $(grep -c pg_dropcluster "$R/tools.log")"
rm "$R/var/lib/postgresql/15/main/base/5/16385"
out=$(PATH=$R/bin:$PATH "$CTL" --root "$R" join 15/main 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
check "join 15/main, pristine: dropped, and the configuration of a replica written (the leader's port)" \
        "0 yes pg_dropcluster 15 main 15-main /postgresql-common/ 5432" \
        "$rc $(grep -q '^Dropped 15/main, which held nothing but what initdb made' <<<"$out" && echo yes) $(tail -1 "$R/tools.log") $(
                yaml_get "$R/etc/patroni/15-main.yml" 'd["scope"], d["namespace"], d["postgresql"]["listen"].rsplit(":", 1)[1]' | tr -d "(),'")"
if wait_for 'dry-run: start patroni@15-main.service' 1 10; then ok "... and the daemon starts it: Patroni clones"; else
        not_ok "15-main after join: $(tail -3 "$LOG")"; fi
out=$("$CTL" --root "$R" join 15/zeta-none 2>&1); rc=$?
check "join of a scope the DCS does not have: refused" "5 patroni-debianctl: error: join: the DCS has no scope 15-zeta-none in /postgresql-common/: nothing to join" "$rc $out"

# A scope that appears later; its leader's port is taken here (15-alpha's): the next free one.
member 15-gamma pdd-b 5440
leader 15-gamma pdd-b
if wait_for 'dry-run: start patroni@15-gamma.service' 1 10; then ok "15-gamma, new in the DCS, joined"; else
        not_ok "15-gamma not joined: $(tail -5 "$LOG")"; fi
check "15-gamma: the leader's port 5440 is 15-alpha's here: the next free one" "5441" \
        "$(yaml_get "$R/etc/patroni/15-gamma.yml" 'd["postgresql"]["listen"].rsplit(":", 1)[1]')"

# A scope without a leader is joined once it has one.
leader 15-noleader pdd-a
if wait_for 'dry-run: start patroni@15-noleader.service' 1 10; then ok "15-noleader joined once it has a leader"; else
        not_ok "15-noleader: $(tail -5 "$LOG")"; fi

# Never destructive: the leader key gone, members gone, etcd gone: nothing removed or stopped.
ectl del "$NS/15-alpha/leader" >/dev/null
ectl del --prefix "$NS/15-gamma/" >/dev/null
wait_for 'DCS: 15-alpha, leader none' 1 5
kill -TERM "$EPID"
wait "$EPID" 2>/dev/null
if wait_for 'DCS watch: .*trying again in' 1 10; then ok "etcd stopped: said, with when the watch tries again"; else
        not_ok "etcd stopped, nothing said: $(tail -5 "$LOG")"; fi
quiet 1500
expect_count "... and nothing is stopped" 'dry-run: stop' 0
check "... nor removed" "15-alpha.yml 15-gamma.yml 15-main.yml 15-noleader.yml" \
        "$(cd "$R/etc/patroni" && ls 15-*.yml | tr '\n' ' ' | sed 's/ $//')"

# etcd back: the watch recovers by itself (backoff), reads the namespace again and joins what appeared.
start_etcd || not_ok "etcd did not start again"
member 15-later pdd-c 5480
leader 15-later pdd-c
if wait_for 'dry-run: start patroni@15-later.service' 1 30; then ok "etcd restarted: the watch recovered, 15-later joined"; else
        not_ok "after etcd's restart: $(tail -5 "$LOG")"; fi
expect_count "the watch said it is up again" 'DCS watch: .*watching /postgresql-common/ from revision' 2

# An admin removes a joined configuration: stopped, and not joined again.
rm "$R/etc/patroni/15-noleader.yml"
if wait_for 'dry-run: stop patroni@15-noleader.service' 1 5; then ok "a joined configuration removed: its unit stopped"; else
        not_ok "removal: $(tail -5 "$LOG")"; fi
leader 15-noleader pdd-b # the scope changes in the DCS
quiet 1000
check "... and it is not joined again" "no" "$([ -e "$R/etc/patroni/15-noleader.yml" ] && echo yes || echo no)"
expect_count "... which is said" 'DCS: 15-noleader, leader pdd-b: not joined again, its configuration was removed here' 1

# join: with a DCS other than etcd3 is a configuration error: SIGHUP keeps the old settings, --check-config says it.
cp "$R/etc/patroni/dcs.yml" "$R/dcs.yml.good"
printf 'consul:\n  host: 127.0.0.1:8500\n' >"$R/etc/patroni/dcs.yml"
kill -HUP "$DPID"
if wait_for 'Invalid configuration, keeping the previous one: .*join: only etcd3 is supported, and /etc/patroni/dcs.yml says consul' 1 5; then
        ok "SIGHUP with join: and consul: refused, the old settings kept"
else
        not_ok "SIGHUP with consul: $(tail -3 "$LOG")"
fi
out=$("$DAEMON" --root "$R" --check-config 2>&1); rc=$?
check "--check-config: join: with consul is an error" "1 yes" \
        "$rc $(grep -q 'join: only etcd3 is supported' <<<"$out" && echo yes)"
cp "$R/dcs.yml.good" "$R/etc/patroni/dcs.yml"
stop_daemon
finish
