#!/bin/bash
# The catalogue of bad inputs to "patroni-debianctl generate": each case sets
# up one fault in a fresh root, and asserts the exit status, the exact error
# line, and that nothing new (no config, no temporary file) is left behind.
# doc/generate.md has the same table for people.
. "$(dirname "$0")/lib.sh"

R=
# The host's TLS files (tls/) are made before the first configuration is written, as env.conf's secrets are.
listing() { (cd "$R/etc/patroni" 2>/dev/null && find . -mindepth 1 -path ./tls -prune -o -print | LC_ALL=C sort); }

# bad NAME EXIT "MESSAGE" [NEEDS_ROOT] -- ARGS...   (setup is done by the caller in $R)
bad() {
        local name=$1 code=$2 msg=$3 needs=$4
        shift 5
        if [ "$needs" = root ] && ! is_root; then
                skip "$name (needs root)"
                return
        fi
        local before after out rc
        before=$(listing)
        out=$("${RUN[@]}" "$CTL" --root "$R" generate "$@" 2>&1 >/dev/null)
        rc=$?
        after=$(listing)
        if [ "$rc" -ne "$code" ]; then
                not_ok "$name: exit $rc, expected $code ($out)"
        elif [ "$out" != "patroni-debianctl: error: $msg" ] && [ "$out" != "patroni-debianctl: $msg" ]; then
                not_ok "$name: message [$out], expected [patroni-debianctl: error: $msg]"
        elif [ "$before" != "$after" ]; then
                not_ok "$name: files changed: [$before] -> [$after]"
        else
                ok "$name"
        fi
}
RUN=()

# --- arguments ------------------------------------------------------------------------
new_root
bad "no arguments" 2 'generate needs VERSION and CLUSTER, e.g. "generate 15 main" (see --help)' - --
bad "one argument" 2 'generate needs VERSION and CLUSTER, e.g. "generate 15 main" (see --help)' - -- 15
bad "three arguments" 2 'generate needs VERSION and CLUSTER, e.g. "generate 15 main" (see --help)' - -- 15 main x
bad "bad version" 2 'invalid version "15beta"' - -- 15beta main
bad "single-digit version" 2 'invalid version "9"' - -- 9 main
bad "cluster name with slash" 2 "invalid cluster name \"a/b\" (letters, digits, '-', '_', '.'; not starting with '.')" - -- 15 a/b
bad "cluster name dot-dot" 2 "invalid cluster name \"..\" (letters, digits, '-', '_', '.'; not starting with '.')" - -- 15 ..
bad "cluster name hidden" 2 "invalid cluster name \".x\" (letters, digits, '-', '_', '.'; not starting with '.')" - -- 15 .x
bad "cluster name with space" 2 "invalid cluster name \"my db\" (letters, digits, '-', '_', '.'; not starting with '.')" - -- 15 "my db"
bad "port not a number" 2 'invalid port "54x" (1-65535)' - -- --port=54x 15 main
bad "port zero" 2 'invalid port "0" (1-65535)' - -- --port=0 15 main
bad "port too high for the API port" 2 'port 63000 is out of range (1-62959)' - -- --port=63000 15 main
bad "bad host address" 2 'invalid host address "10.0.0.300"' - -- --hostip=10.0.0.300 15 main
bad "bad network" 2 'invalid network "10.0.0.0" (expected ADDRESS/PREFIX)' - -- --network=10.0.0.0 15 main
bad "bad VIP" 2 'invalid VIP address "vip"' - -- --vip=vip --endpoint=http://127.0.0.1:2379 15 main
bad "unknown option" 2 "unrecognized option '--frobnicate'" - -- --frobnicate 15 main

# --- versions and clusters ---------------------------------------------------------------
bad "no binaries for version" 3 'no PostgreSQL 16 binaries (/usr/lib/postgresql/16/bin not found)' - -- 16 main
new_root; new_cluster "$R" 15 main 5432; new_cluster "$R" 15 big 15432
bad "port used by another cluster" 5 'port 15432 is already used by cluster 15/big' - -- --port=15432 15 new
new_root; mkdir -p "$R/etc/postgresql/15/main"; echo "port = 'x" >"$R/etc/postgresql/15/main/postgresql.conf"
bad "broken postgresql.conf" 5 '/etc/postgresql/15/main/postgresql.conf:1: invalid value' - -- 15 main
new_root; new_cluster "$R" 15 main 5432; echo "sometimes" >"$R/etc/postgresql/15/main/start.conf"
bad "bad start.conf" 5 '/etc/postgresql/15/main/start.conf: invalid mode "sometimes", must be one of auto, manual, disabled' - -- 15 main
new_root; mkdir -p "$R/etc/postgresql/15/main"; ln -s /etc/shadow "$R/etc/postgresql/15/main/postgresql.conf"
bad "postgresql.conf is a symlink" 5 '/etc/postgresql/15/main/postgresql.conf: cannot read: is a symbolic link, not followed' - -- 15 main
new_root; mkdir -p "$R/etc/postgresql-common"; echo "data_directory = /srv/%v" >"$R/etc/postgresql-common/createcluster.conf"
bad "bad createcluster.conf" 5 '/etc/postgresql-common/createcluster.conf:1: invalid value' - -- 15 main

# --- template ----------------------------------------------------------------------------
new_root; printf 'scope: x\nname: @HOST@\n' >"$R/etc/patroni/config.yml.in"
bad "unknown placeholder" 5 '/etc/patroni/config.yml.in:2: unknown placeholder @HOST@ (known: @VERSION@ @CLUSTER@ @HOSTNAME@ @HOSTIP@ @NETWORK@ @PORT@ @API_PORT@ @DATADIR_BASE@ @LISTEN_VIP@ @DCS_CONFIG@)' - -- 15 main
new_root; printf 'scope: x\n  name: y\n' >"$R/etc/patroni/config.yml.in"
bad "malformed template" 5 '/etc/patroni/config.yml.in:2:7: mapping values are not allowed in this context' - -- 15 main
new_root; printf -- '- scope\n- name\n' >"$R/etc/patroni/config.yml.in"
bad "template not a mapping" 5 '/etc/patroni/config.yml.in:1:1: the template must be a YAML mapping' - -- 15 main
new_root; printf 'scope: x\nname: @DCS_CONFIG@\n' >"$R/etc/patroni/config.yml.in"
bad "DCS placeholder inside a value" 5 '/etc/patroni/config.yml.in:2:7: @DCS_CONFIG@ must stand alone on its line, where a mapping key could be' - -- 15 main
new_root; printf 'scope: "@VERSION@-@CLUSTER@"\n@DCS_CONFIG@\n' >"$R/etc/patroni/config.yml.in"
bad "template missing required keys" 5 '/etc/patroni/config.yml.in: the rendered configuration for 15/main is invalid: "name" is missing or empty' - -- 15 main
new_root; sed 's/^scope:.*/&\nscope: again/' "$TEMPLATE" >"$R/etc/patroni/config.yml.in"
bad "template with a duplicate key" 5 '/etc/patroni/config.yml.in: the rendered configuration for 15/main is invalid: line 2, column 1: duplicate key "scope": Patroni would read only the last; keep one' - -- 15 main
new_root; rm "$R/etc/patroni/config.yml.in"; mkdir "$R/etc/patroni/config.yml.in"
bad "template is a directory" 5 '/etc/patroni/config.yml.in: cannot read: is a directory' - -- 15 main
new_root; rm "$R/etc/patroni/config.yml.in"; mkfifo "$R/etc/patroni/config.yml.in"
bad "template is a FIFO" 5 '/etc/patroni/config.yml.in: cannot read: not a regular file' - -- 15 main
new_root
bad "--template that does not exist" 5 '/nonexistent.yml.in: cannot read template: No such file or directory' - -- --template=/nonexistent.yml.in 15 main

# --- DCS ---------------------------------------------------------------------------------
new_root; printf -- '- etcd3\n' >"$R/etc/patroni/dcs.yml"
bad "dcs.yml not a mapping" 5 '/etc/patroni/dcs.yml:1:1: expected a mapping such as "etcd3: {hosts: ...}"' - -- 15 main
new_root; printf 'etcd3:\n  hosts: [a\n' >"$R/etc/patroni/dcs.yml"
bad "dcs.yml malformed" 5 "/etc/patroni/dcs.yml:3:1: did not find expected ',' or ']' while parsing a flow sequence" - -- 15 main
new_root; printf '# etcd3:\n#   hosts: x\n' >"$R/etc/patroni/dcs.yml"
bad "DCS not configured" 5 'DCS not configured: edit /etc/patroni/dcs.yml, or set DCS_TYPE and DCS_HOSTS in /etc/default/patroni' - -- 15 main
new_root; rm "$R/etc/patroni/dcs.yml"; mkdir -p "$R/etc/default"; printf 'DCS_TYPE=etcd3\nDCS_HOSTS=a:1,b\n' >"$R/etc/default/patroni"
bad "/etc/default/patroni bad host" 5 '/etc/default/patroni:2: DCS_HOSTS entry "b" is not host:port' - -- 15 main
new_root; rm "$R/etc/patroni/dcs.yml"; mkdir -p "$R/etc/default"; printf 'DCS_TYPE=etcd3\nDCS_HOST=a:1\n' >"$R/etc/default/patroni"
bad "/etc/default/patroni unknown key" 5 '/etc/default/patroni:2: unknown key DCS_HOST (known: DCS_TYPE, DCS_HOSTS, DCS_PROTOCOL, DCS_CACERT, DCS_CERT, DCS_KEY, DCS_USERNAME, HOSTIP, NETWORK)' - -- 15 main
new_root; rm "$R/etc/patroni/dcs.yml"; mkdir -p "$R/etc/default"; printf 'DCS_TYPE=etcd3\nDCS_HOSTS=a:1\nDCS_KEY=/etc/k\261y\n' >"$R/etc/default/patroni"
bad "/etc/default/patroni value not UTF-8" 5 '/etc/default/patroni:3: the value of DCS_KEY is not valid UTF-8' - -- 15 main
new_root; mkdir -p "$R/etc/default"; printf 'HOSTIP=not-an-ip\n' >"$R/etc/default/patroni"
bad "HOSTIP= not an address" 5 'invalid host address "not-an-ip" (HOSTIP= in /etc/default/patroni)' - -- 15 main
new_root; chmod 000 "$R/etc/patroni/dcs.yml"
RUN=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
chmod 755 "$R"
bad "unreadable dcs.yml" 5 '/etc/patroni/dcs.yml: cannot read: Permission denied' root -- --stdout 15 main
RUN=()

# --- the target --------------------------------------------------------------------------
new_root; echo "mine" >"$R/etc/patroni/15-main.yml"
bad "config exists" 4 '/etc/patroni/15-main.yml already exists (use --force to replace it)' - -- 15 main
new_root; ln -s /etc/passwd "$R/etc/patroni/15-main.yml"
bad "symlink planted at the target" 4 '/etc/patroni/15-main.yml already exists (use --force to replace it)' - -- 15 main
bad "symlink at the target, --force" 6 '/etc/patroni/15-main.yml is a symbolic link, refusing to replace it' - -- --force 15 main
new_root; mkdir "$R/etc/patroni/15-main.yml"
bad "target is a directory" 6 '/etc/patroni/15-main.yml is a directory, refusing to replace it' - -- --force 15 main
new_root; mkfifo "$R/etc/patroni/15-main.yml"
bad "target is a FIFO" 6 '/etc/patroni/15-main.yml is not a regular file, refusing to replace it' - -- --force 15 main
new_root; echo "x" >"$R/etc/patroni/15-main.vip"; printf 'ip: @VIP_IP@\n' >"$R/etc/patroni/vip.in"
bad "VIP file exists" 4 '/etc/patroni/15-main.vip already exists (use --force to replace it)' - -- --vip=127.0.0.2 --endpoint=http://127.0.0.1:2379 15 main
new_root; printf 'ip: @VIP_IP@\nport: @PORT@\n' >"$R/etc/patroni/vip.in"
bad "VIP template with a config placeholder" 5 '/etc/patroni/vip.in:2: unknown placeholder @PORT@ (known: @VIP_IP@ @VIP_MASK@ @VIP_IFACE@ @VIP_KEY@ @VIP_HOST@ @VIP_TYPE@ @VIP_ENDPOINT@)' - -- --vip=127.0.0.2 --endpoint=http://127.0.0.1:2379 15 main
new_root; printf 'zookeeper:\n  hosts: 127.0.0.1:2181\n' >"$R/etc/patroni/dcs.yml"; printf 'ip: @VIP_IP@\n' >"$R/etc/patroni/vip.in"
bad "VIP with zookeeper" 5 'vip-manager supports etcd and consul, not "zookeeper"' - -- --vip=127.0.0.2 15 main

# Faults that need mounts: a private mount namespace, so nothing outside changes.
# The directory is listed from inside the namespace, where the mount is.
mounted() {
        local name=$1 code=$2 msg=$3 expect=$4 setup=$5
        if ! is_root; then
                skip "$name (needs root)"
                return
        fi
        local out rc inside
        out=$(unshare -m bash -c "$setup"' && "$@"; rc=$?; (cd "$0/etc/patroni" && ls -A | LC_ALL=C sort | tr "\n" " ") >"$0/inside"; exit $rc' \
                "$R" "$CTL" --root "$R" generate 15 main 2>&1 >/dev/null)
        rc=$?
        inside=$(cat "$R/inside" 2>/dev/null)
        if [ "$rc" -ne "$code" ]; then
                not_ok "$name: exit $rc, expected $code ($out)"
        elif [ "$out" != "patroni-debianctl: error: $msg" ]; then
                not_ok "$name: message [$out]"
        elif [ "$inside" != "$expect" ]; then
                not_ok "$name: left [$inside], expected [$expect]"
        else
                ok "$name"
        fi
}
new_root
mounted "read-only /etc/patroni, before its first configuration: the CA's seed cannot be added" 6 \
        '/etc/patroni/env.conf: cannot add PATRONI_DEBIAND_CA_SEED: Read-only file system' \
        "config.yml.in dcs.yml env.conf " \
        'mount --bind "$0/etc/patroni" "$0/etc/patroni" && mount -o remount,bind,ro "$0/etc/patroni"'
# With the host's TLS files in place (an earlier configuration made them), the configuration's own write fails.
new_root
host_tls
mounted "read-only /etc/patroni" 6 'cannot write /etc/patroni/15-main.yml: Read-only file system' \
        "config.yml.in dcs.yml env.conf tls " \
        'mount --bind "$0/etc/patroni" "$0/etc/patroni" && mount -o remount,bind,ro "$0/etc/patroni"'
new_root
host_tls
mounted "disk full (small tmpfs)" 6 'cannot write /etc/patroni/15-main.yml: No space left on device' \
        "config.yml.in dcs.yml env.conf fill tls " \
        'cp -a "$0/etc/patroni" "$0/keep" && mount -t tmpfs -o size=64k tmpfs "$0/etc/patroni" && cp -a "$0/keep/." "$0/etc/patroni/" && { head -c 1M /dev/zero >"$0/etc/patroni/fill" 2>/dev/null; true; }'

finish
