# Shared by pg_createcluster_patroni and pg_clonecluster_patroni (POSIX sh).
# Patroni passes --scope=VERSION-CLUSTER --datadir=DIR, and for a clone
# --role= and --connstring=, in any order; other --key=value are ignored.

# shellcheck disable=SC2034 # the scripts that source this use them
PROG=${0##*/} SCOPE='' DATADIR='' ROLE='' CONNSTR=''

CONFROOT=${PG_CLUSTER_CONF_ROOT:-/etc/postgresql}
# shellcheck disable=SC2034
BINROOT=${PG_BINROOT:-/usr/lib/postgresql}

fail() {
        printf '%s: %s\n' "$PROG" "$*" >&2
        exit 1
}

parse_args() {
        for arg in "$@"; do
                case $arg in
                --scope=*) SCOPE=${arg#--scope=} ;;
                --datadir=*) DATADIR=${arg#--datadir=} ;;
                --role=*) ROLE=${arg#--role=} ;;
                --connstring=*) CONNSTR=${arg#--connstring=} ;;
                --*=*) ;;
                *) fail "unexpected argument \"$arg\"" ;;
                esac
        done
        [ -n "$SCOPE" ] || fail "--scope=VERSION-CLUSTER is required"
        [ -n "$DATADIR" ] || fail "--datadir=DIR is required"
        case $DATADIR in
        /?*) ;;
        *) fail "--datadir must be an absolute path, not \"$DATADIR\"" ;;
        esac

        # Split on the first separator: 15-rt-prj is version 15, cluster rt-prj.
        case $SCOPE in
        */*) VERSION=${SCOPE%%/*} CLUSTER=${SCOPE#*/} ;;
        *-*) VERSION=${SCOPE%%-*} CLUSTER=${SCOPE#*-} ;;
        *) fail "scope \"$SCOPE\" is not VERSION-CLUSTER" ;;
        esac
        # pg-common's names: version ^\d+\.?\d+$, cluster ^[-.\w]+$ (not starting with a dot)
        case $VERSION in
        *[!0-9.]* | .* | *. | *.*.* | [0-9]) fail "invalid version \"$VERSION\" in scope \"$SCOPE\"" ;;
        esac
        case $CLUSTER in
        '' | .* | *[!-._a-zA-Z0-9]*) fail "invalid cluster name \"$CLUSTER\" in scope \"$SCOPE\"" ;;
        esac
        CONFDIR=$CONFROOT/$VERSION/$CLUSTER
}

# A configuration left from an earlier life of this cluster (a failed
# bootstrap, a replica being re-cloned): forget it, with its stale
# postgresql.base.conf, so it cannot point the new cluster at old settings.
drop_stale_config() {
        [ -d "$CONFDIR" ] || return 0
        rm -f -- "$CONFDIR/postgresql.base.conf" || fail "cannot remove $CONFDIR/postgresql.base.conf"
        if [ -f "$CONFDIR/postgresql.conf" ]; then
                pg_dropcluster "$VERSION" "$CLUSTER" || fail "pg_dropcluster $VERSION $CLUSTER failed"
        fi
        if [ -d "$CONFDIR" ]; then
                rm -rf -- "$CONFDIR" || fail "cannot remove $CONFDIR"
        fi
}
