#!/bin/bash
# The bootstrap and clone helpers, with stub pg_createcluster, pg_dropcluster,
# pg_basebackup and initdb that record their arguments one per line.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/pdd-helpers-XXXXXX")
CLEANUP+=("rm -rf '$T'")
mkdir -p "$T/bin" "$T/lib/15/bin" "$T/etc"
for h in pg_createcluster_patroni pg_clonecluster_patroni; do
        sed "s|%PKGLIBEXECDIR%|$top_srcdir/src/helpers|" "$top_srcdir/src/helpers/$h.in" >"$T/$h"
        chmod +x "$T/$h"
done
stub() { # NAME [EXIT]
        cat >"$2" <<STUB
#!/bin/sh
{ echo "\$(basename "\$0")"; for a in "\$@"; do echo "  [\$a]"; done; } >>"$T/calls"
exit ${3:-0}
STUB
        chmod +x "$2"
}
stub pg_createcluster "$T/bin/pg_createcluster"
stub pg_dropcluster "$T/bin/pg_dropcluster"
stub initdb "$T/lib/15/bin/initdb"
stub pg_basebackup "$T/lib/15/bin/pg_basebackup"
# like the real one, pg_basebackup creates its --pgdata directory
sed -i 's|^exit 0$|for a in "$@"; do case $a in --pgdata=*) mkdir -p "${a#--pgdata=}" ;; esac; done; exit 0|' "$T/lib/15/bin/pg_basebackup"
export PATH="$T/bin:$PATH" PG_CLUSTER_CONF_ROOT="$T/etc" PG_BINROOT="$T/lib"

run() { # HELPER ARGS... -> exit status in $rc, stderr in $err, calls in $calls
        rm -f "$T/calls"
        err=$("$T/$1" "${@:2}" 2>&1 >/dev/null)
        rc=$?
        calls=$(cat "$T/calls" 2>/dev/null)
}

run pg_createcluster_patroni --datadir="$T/data/15 x" --frob=1 --scope=15-rt-prj
check "bootstrap: any order, first dash, quoted path, start.conf manual" "0 pg_createcluster
  [--start-conf=manual]
  [--datadir=$T/data/15 x]
  [15]
  [rt-prj]" "$rc $calls"
run pg_createcluster_patroni --scope=15/main --datadir="$T/d"
check "bootstrap: VERSION/CLUSTER scope" "0 [15] [main]" "$rc $(echo "$calls" | grep -E '^  \[(15|main)\]$' | tr -d '\n' | sed 's/  / /g;s/^ //')"
run pg_createcluster_patroni --scope=x --datadir=/d
check "bad scope" "1 pg_createcluster_patroni: scope \"x\" is not VERSION-CLUSTER" "$rc $err"
run pg_createcluster_patroni --scope=9-main --datadir=/d
check "bad version" "1 pg_createcluster_patroni: invalid version \"9\" in scope \"9-main\"" "$rc $err"
run pg_createcluster_patroni --scope=15-.x --datadir=/d
check "bad cluster name" "1 pg_createcluster_patroni: invalid cluster name \".x\" in scope \"15-.x\"" "$rc $err"
run pg_createcluster_patroni --scope='15-a;b' --datadir=/d
check "cluster name with a shell character" "1 pg_createcluster_patroni: invalid cluster name \"a;b\" in scope \"15-a;b\"" "$rc $err"
run pg_createcluster_patroni --scope=15-main
check "missing --datadir" "1 pg_createcluster_patroni: --datadir=DIR is required" "$rc $err"
run pg_createcluster_patroni --scope=15-main --datadir=data
check "relative --datadir" "1 pg_createcluster_patroni: --datadir must be an absolute path, not \"data\"" "$rc $err"
run pg_createcluster_patroni --scope=16-main --datadir=/d
check "version not installed" "1 pg_createcluster_patroni: PostgreSQL 16 is not installed ($T/lib/16/bin/initdb)" "$rc $err"
run pg_createcluster_patroni --scope=15-main --datadir=/d stray
check "stray argument" "1 pg_createcluster_patroni: unexpected argument \"stray\"" "$rc $err"

mkdir -p "$T/etc/15/old" && echo "port = 1" >"$T/etc/15/old/postgresql.conf" && echo stale >"$T/etc/15/old/postgresql.base.conf"
run pg_createcluster_patroni --scope=15-old --datadir="$T/data/old"
check "stale config: base conf removed, dropped, then created" "0 absent pg_dropcluster [15] [old]pg_createcluster [15] [old]" \
        "$rc $([ -e "$T/etc/15/old/postgresql.base.conf" ] && echo present || echo absent) $(echo "$calls" | grep -vE 'start-conf|datadir' | tr -d '\n' | sed 's/  / /g')"
mkdir -p "$T/data/has"; echo 15 >"$T/data/has/PG_VERSION"
run pg_createcluster_patroni --scope=15-has --datadir="$T/data/has"
check "never initialise over a cluster" "1 pg_createcluster_patroni: $T/data/has already holds a cluster; refusing to initialise over it" "$rc $err"
stub pg_createcluster "$T/bin/pg_createcluster" 3
run pg_createcluster_patroni --scope=15-main --datadir="$T/data/m"
check "pg_createcluster failing: exit 1 with a message" "1 pg_createcluster_patroni: pg_createcluster 15 main failed" "$rc $err"
stub pg_createcluster "$T/bin/pg_createcluster"

# --- clone ---
cs="host=10.231.0.1 port=5432 user=replicator application_name='a b'"
mkdir -p "$T/etc/15/my-db" && echo "port = 1" >"$T/etc/15/my-db/postgresql.conf" && echo stale >"$T/etc/15/my-db/postgresql.base.conf"
run pg_clonecluster_patroni --role=replica --connstring="$cs" --datadir="$T/data/my db" --scope=15-my-db
check "clone: stale config dropped, base backup, then pg_createcluster adopts it; no initdb" "0 pg_dropcluster
  [15]
  [my-db]
pg_basebackup
  [--pgdata=$T/data/my db]
  [--wal-method=stream]
  [--checkpoint=fast]
  [--dbname=$cs]
pg_createcluster
  [--start-conf=manual]
  [--datadir=$T/data/my db]
  [15]
  [my-db]" "$rc $calls"
check "clone: the stale postgresql.base.conf is gone (Debian's removed a relative path)" "absent" \
        "$([ -e "$T/etc/15/my-db/postgresql.base.conf" ] && echo present || echo absent)"
check "clone: placeholder configuration files for pg_createcluster to move" "3" \
        "$(ls "$T/data/my db" | grep -cE '^(postgresql|pg_hba|pg_ident)\.conf$')"
mkdir -p "$T/data/full"; echo x >"$T/data/full/file"
run pg_clonecluster_patroni --scope=15-full --datadir="$T/data/full" --connstring=host=x
check "clone refuses a non-empty data directory" "1 pg_clonecluster_patroni: $T/data/full is not empty; refusing to clone over it" "$rc $err"
run pg_clonecluster_patroni --scope=15-x --datadir="$T/data/x"
check "clone needs --connstring" "1 pg_clonecluster_patroni: --connstring= is required" "$rc $err"
stub pg_basebackup "$T/lib/15/bin/pg_basebackup" 1
run pg_clonecluster_patroni --scope=15-y --datadir="$T/data/y" --connstring=host=x
check "pg_basebackup failing: no pg_createcluster, exit 1" "1 pg_clonecluster_patroni: pg_basebackup into $T/data/y failed 0" \
        "$rc $err $(echo "$calls" | grep -c '^pg_createcluster')"

if command -v shellcheck >/dev/null; then
        out=$(cd "$T" && shellcheck -s sh -x -P "$top_srcdir/src/helpers" pg_createcluster_patroni pg_clonecluster_patroni 2>&1 &&
                shellcheck -s sh "$top_srcdir/src/helpers/common.sh" 2>&1)
        check "shellcheck-clean" "0 " "$? $out"
else
        skip "shellcheck not installed"
fi
finish
