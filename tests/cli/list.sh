#!/bin/bash
# patroni-debianctl list: clusters and configurations, who wrote each
# configuration, and each member's role and state from its REST API.
. "$(dirname "$0")/lib.sh"

new_root
new_cluster "$R" 15 main 5432
new_cluster "$R" 15 my-db 5433
new_cluster "$R" 15 bare 5434
new_cluster "$R" 16 skipped 5435
printf 'exclude: ["16/*"]\n' >"$R/etc/patroni/patroni-debiand.yml"

# The generated configuration serves its REST API over https with the host's own certificate (made now).
"$CTL" generate --root "$R" --hostip=127.0.0.1 15 main >/dev/null
# An impostor: https on loopback with a certificate of its own, not from the hosts' CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=impostor \
        -addext "subjectAltName=IP:127.0.0.1" -keyout "$R/impostor.key" -out "$R/impostor.pem" >/dev/null 2>&1

# Fake Patroni REST APIs on loopback: a leader (https, the host's certificate), a replica, one that accepts
# and never answers, and the impostor (https, the same answer as the leader).
/usr/bin/python3 - "$R" <<'PY' &
import http.server, json, socket, ssl, sys, threading
root = sys.argv[1]
answers = {
    "leader": {"state": "running", "role": "master", "replication": [{"usename": "replicator", "state": "streaming"}],
               "patroni": {"version": "3.0.2", "scope": "15-main"}},
    "replica": {"state": "running", "role": "replica", "replication_state": "streaming", "patroni": {"scope": "15-my-db"}},
}
ports = {}
# Any local user can answer on a stopped member's port: control characters to forge the table.
answers["forger"] = {"state": "running\u001b[2J", "role": "master\r\n15  main    5432  generated active Leader running\u009b"}
answers["impostor"] = answers["leader"]
def serve(kind, cert=None, key=None):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(answers[kind]).encode() if self.path == "/patroni" else b"{}"
            if kind == "forger":  # raw bytes too, as a hostile peer would send them
                body = b'{"role": "master\x1b]0;owned\x07\r\nx", "state": "running\x1b[2J"}' 
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass
    s = http.server.HTTPServer(("127.0.0.1", 0), H)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        s.socket = ctx.wrap_socket(s.socket, server_side=True)
    ports[kind] = s.server_address[1]
    threading.Thread(target=s.serve_forever, daemon=True).start()
serve("leader", root + "/etc/patroni/tls/host.pem", root + "/etc/patroni/tls/host.key")
serve("replica")
serve("forger")
serve("impostor", root + "/impostor.pem", root + "/impostor.key")
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(8)
ports["silent"] = silent.getsockname()[1]
with open(root + "/ports", "w") as f:
    f.write("%d %d %d %d %d\n" % (ports["leader"], ports["replica"], ports["silent"], ports["forger"], ports["impostor"]))
threading.Event().wait(60)
PY
CLEANUP+=("kill $!")
for _ in $(seq 100); do [ -s "$R/ports" ] && break; sleep 0.05; done
read -r p_leader p_replica p_silent p_forger p_impostor <"$R/ports"
sed -i "s/127.0.0.1:8008/127.0.0.1:$p_leader/" "$R/etc/patroni/15-main.yml"
# An admin's configuration, and one for a replica that has no cluster yet (before its clone).
printf 'scope: 15-my-db\nrestapi:\n  listen: "*:%s"\npostgresql:\n  listen: "*:5433"\n' "$p_replica" >"$R/etc/patroni/15-my-db.yml"
printf 'scope: 15-clone\nrestapi:\n  connect_address: "127.0.0.1:%s"\npostgresql:\n  listen: "*:5440"\n' "$p_silent" \
        >"$R/etc/patroni/15-clone.yml"

printf 'scope: 15-forged\nrestapi:\n  connect_address: "127.0.0.1:%s"\npostgresql:\n  listen: "*:5441"\n' "$p_forger" \
        >"$R/etc/patroni/15-forged.yml"
sed "s/127.0.0.1:$p_leader/127.0.0.1:$p_impostor/; s/^scope: .*/scope: 15-impostor/; s/5432/5442/" "$R/etc/patroni/15-main.yml" \
        >"$R/etc/patroni/15-impostor.yml"
out=$("$CTL" --root "$R" list); rc=$?
echo "$out" | sed 's/^/# /'
row() { awk -v v="$1" -v c="$2" '$1 == v && $2 == c { $1 = $1; print }' <<<"$out"; }
check "list: exit 0" "0" "$rc"
check "list: header" "Ver Cluster Port Config Unit Patroni" "$(head -1 <<<"$out" | tr -s ' ')"
check "generated configuration, leader over https, its certificate verified" "15 main 5432 generated - Leader running" \
        "$(row 15 main)"
check "a member over https whose certificate is not from the CA: not believed" "15 impostor 5442 generated - -" \
        "$(row 15 impostor)"
check "an admin's configuration, replica streaming (wildcard listen address)" "15 my-db 5433 admin - Replica streaming" \
        "$(row 15 my-db)"
check "a cluster without configuration" "15 bare 5434 none - -" "$(row 15 bare)"
check "an excluded cluster" "16 skipped 5435 excluded - -" "$(row 16 skipped)"
check "a configuration without a cluster; a REST API that does not answer shows -" "15 clone 5440 admin - -" \
        "$(row 15 clone)"
check "a member answering with control characters: escaped, no line forged" \
        '15 forged 5441 admin - master\x1b]0;owned\x07\x0d\x0ax running\x1b[2J' "$(row 15 forged)"
check "no control character reaches the terminal but the line ends" "0" \
        "$(tr -d '\n' <<<"$out" | LC_ALL=C grep -c '[[:cntrl:]]')"
check "sorted by version, then name" "15/bare 15/clone 15/forged 15/impostor 15/main 15/my-db 16/skipped " \
        "$(tail -n +2 <<<"$out" | awk '{ printf "%s/%s ", $1, $2 }')"

json=$("$CTL" --root "$R" list --json)
check "--json: why a member is not believed, and why one did not answer" "yes yes None" \
        "$(/usr/bin/python3 -c 'import json,sys
rows = {r["cluster"]: r for r in json.load(sys.stdin)}
print("yes" if "certificate" in (rows["impostor"]["patroni_error"] or "") else rows["impostor"]["patroni_error"],
      "yes" if rows["clone"]["patroni_error"] else "no", rows["main"]["patroni_error"])' <<<"$json")"
check "--json: the same rows" "15 main 5432 generated None Leader running|15 my-db 5433 admin None Replica streaming|" \
        "$(/usr/bin/python3 -c 'import json,sys
for r in json.load(sys.stdin):
    if r["cluster"] in ("main", "my-db"):  # (15/forged: json.dumps escapes it)
        print(r["version"], r["cluster"], r["port"], r["config"], r["unit"], r["patroni"], end="|")' <<<"$json")"
# A handover pending for 15/my-db (the mark as the daemon writes it, at the helper's step "roles"): Patroni
# may already say Leader, the cluster is not Patroni's yet.
mkdir -p -m 700 "$R/var/lib/patroni-debiand" "$R/var/lib/patroni-debiand/takeover"
printf 'TAKEOVER_VERSION=15\nTAKEOVER_NAME=my-db\nTAKEOVER_STEP=roles\n' >"$R/var/lib/patroni-debiand/takeover/15-my-db"
check "a handover pending: +handover in the table, its last step in --json" "15 my-db 5433 admin+handover - Replica streaming|roles None" \
        "$(row() { "$CTL" --root "$R" list | awk '$2 == "my-db" { $1 = $1; print }'; }; row)|$("$CTL" --root "$R" list --json |
                /usr/bin/python3 -c 'import json,sys
rows = {r["cluster"]: r for r in json.load(sys.stdin)}
print(rows["my-db"]["handover"], rows["main"]["handover"])')"
out=$("$CTL" --root "$R" list --frob 2>&1); rc=$?
check "list: an unknown option" "2 patroni-debianctl: error: list: unexpected argument \"--frob\" (only --json)" "$rc $out"

if is_root && id nobody >/dev/null 2>&1; then
        chmod 755 "$R"
        out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL" --root "$R" list 2>&1); rc=$?
        check "as an unprivileged user: what it may read" "0 15 main 5432 present - -" "$rc $(awk '$2 == "main" { $1 = $1; print }' <<<"$out")"
        check "... and no handover (root's mark)" "15 my-db 5433 admin - Replica streaming" "$(awk '$2 == "my-db" { $1 = $1; print }' <<<"$out")"
else
        skip "list as an unprivileged user (needs root to switch)"
fi
finish
