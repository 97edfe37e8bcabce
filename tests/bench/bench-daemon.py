#!/usr/bin/python3
"""Figures for patroni-debiand (printed, never asserted):
 1. start-up with 2,000 clusters: reconcile time (the daemon's own figure) and
    peak RSS, first with 2,000 configurations to generate, then with them there;
    generating is measured on tmpfs (/dev/shm) too, on a new journaled ext4 (a
    loop device over a file on this disk, when run as root: /etc as a Debian
    host has it, with no history of deleted files), and beside each disk figure
    the time that file system takes to create and write 2,000 files of that
    size at all, with no fsync;
 2. delay from a cluster settling to its action, past settle_ms (median of 20);
 3. context switches of the idle daemon over 60 s, no watchdog;
 4. files others can write, at their size limits: a postgresql.conf whose
    includes fill the bounds (63 files, 1 MiB), an admin's configuration of
    4 MiB nested past the depth bound and one of 4 MiB of keys, a template
    with an alias bomb at the alias bound; each the daemon's start-up time
    with --once, beside an ordinary root's; and the time from SIGTERM to exit
    while the daemon rescans 2,000 clusters that include such files;
 5. join, against an etcd on loopback: the delay from a scope's leader key to
    its configuration, and from a member's key to pg_service.conf listing it;
    the idle daemon's context switches with the watch open.
usage: bench-daemon.py DAEMON TEMPLATE [IDLE_SECONDS]"""
import contextlib, os, re, select, shutil, signal, statistics, subprocess, sys, tempfile, time

daemon, template = sys.argv[1], sys.argv[2]
idle_s = int(sys.argv[3]) if len(sys.argv) > 3 else 60
SETTLE_MS = 500
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the loop device is unmounted


def make_root(n, where=None):
    root = tempfile.mkdtemp(prefix="pdd-bench-", dir=where)
    for d in ("etc/patroni", "etc/postgresql/15", "usr/lib/postgresql/15/bin"):
        os.makedirs(os.path.join(root, d))
    shutil.copy(template, os.path.join(root, "etc/patroni/config.yml.in"))
    with open(os.path.join(root, "etc/patroni/dcs.yml"), "w") as f:
        f.write("etcd3:\n  hosts: 127.0.0.1:2379\n")
    with open(os.path.join(root, "etc/patroni/patroni-debiand.yml"), "w") as f:
        f.write("settle_ms: %d\nconfig_settle_ms: 100\n" % SETTLE_MS)
    old = time.time() - 3600
    for i in range(n):
        d = os.path.join(root, "etc/postgresql/15/c%04d" % i)
        os.makedirs(d)
        p = os.path.join(d, "postgresql.conf")
        with open(p, "w") as f:
            f.write("port = %d\n" % (5432 + i))
        os.utime(p, (old, old))
    os.sync()  # the set-up's own writeback is not part of what is measured
    return root


class Daemon:
    def __init__(self, root):
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
        self.p = subprocess.Popen([daemon, "--root", root, "--print-units", "--log-target=stderr"],
                                  stderr=subprocess.PIPE, env=env)
        self.buf = b""

    def line(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.p.stderr], [], [], left)[0]:
                return None, None
            chunk = os.read(self.p.stderr.fileno(), 65536)
            if not chunk:
                return None, None
            self.buf += chunk
        l, self.buf = self.buf.split(b"\n", 1)
        return l.decode(), time.monotonic()

    def wait_for(self, pattern, timeout=60):
        while True:
            l, t = self.line(timeout)
            if l is None:
                raise SystemExit("timed out waiting for %r" % pattern)
            if re.search(pattern, l):
                return l, t

    def status(self, key):
        with open("/proc/%d/status" % self.p.pid) as f:
            for l in f:
                if l.startswith(key + ":"):
                    return int(l.split()[1])

    def cpu_ms(self):
        """User and system CPU time so far, in ms (where the start-up's time went: this process or the kernel)."""
        with open("/proc/%d/stat" % self.p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) * 1000 // tick, int(fields[12]) * 1000 // tick

    def stop(self):
        self.p.terminate()
        self.p.wait()


def create_floor(directory, n, size):
    """Create, write and close n files of size bytes in a new directory: what any writer pays."""
    d = tempfile.mkdtemp(prefix="pdd-floor-", dir=directory)
    os.sync()
    try:
        t0 = time.monotonic()
        for i in range(n):
            fd = os.open(os.path.join(d, ".f%d.tmp" % i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, b"x" * size)
            os.close(fd)
        return (time.monotonic() - t0) * 1000
    finally:
        shutil.rmtree(d, ignore_errors=True)


def startup(root):
    os.sync()
    d = Daemon(root)
    l, _ = d.wait_for(r"Watching \d+ clusters")
    ms = float(re.search(r"start-up took ([0-9.]+) ms", l).group(1))
    d.cpu = "CPU: user %d ms, system %d ms" % d.cpu_ms()
    return d, ms, d.status("VmHWM") / 1024


@contextlib.contextmanager
def fresh_ext4():
    """Yield the mount point of a new 2 GiB ext4 on a loop device, or None; unmounted and removed after."""
    if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        yield None
        return
    base = tempfile.mkdtemp(prefix="pdd-bench-ext4-", dir="/var/tmp")
    img, mnt = os.path.join(base, "fs.img"), os.path.join(base, "mnt")
    mounted = False
    try:
        os.mkdir(mnt)
        with open(img, "wb") as f:
            f.truncate(2 << 30)
        ok = subprocess.run(["mkfs.ext4", "-q", "-F", img], stdout=subprocess.DEVNULL).returncode == 0
        mounted = ok and subprocess.run(["mount", "-o", "loop", img, mnt]).returncode == 0
        yield mnt if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-d", mnt])
        shutil.rmtree(base, ignore_errors=True)


def generating(root, label, size):
    """Start-up generating every configuration in ROOT, then the bare file-creation figure beside it."""
    d, ms, rss = startup(root)
    d.stop()
    floor = create_floor(os.path.dirname(root), 2000, size)  # after: its deleted files would weigh on the daemon's
    print("patroni-debiand start-up, 2,000 clusters, 2,000 configurations generated, on %s: %.0f ms, "
          "peak RSS %.1f MiB (%s)" % (label, ms, rss, d.cpu))
    print("  that file system alone: creating and writing 2,000 files of %d bytes takes %.0f ms" % (size, floor))


if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    shm = make_root(2000, "/dev/shm")
    try:
        d, ms, rss = startup(shm)
        d.stop()
        size = os.path.getsize(os.path.join(shm, "etc/patroni/15-c0000.yml"))
        print("patroni-debiand start-up, 2,000 clusters, 2,000 configurations generated, on tmpfs: %.0f ms, "
              "peak RSS %.1f MiB (%s)" % (ms, rss, d.cpu))
    finally:
        shutil.rmtree(shm, ignore_errors=True)
else:
    size = 2048
    print("patroni-debiand start-up on tmpfs: skipped, /dev/shm is not writable")

with fresh_ext4() as mnt:
    if mnt:
        ext4 = make_root(2000, mnt)
        try:
            generating(ext4, "a new journaled ext4 (loop device over /var/tmp)", size)
        finally:
            shutil.rmtree(ext4, ignore_errors=True)
    else:
        print("patroni-debiand start-up on a new ext4: skipped, needs root, mkfs.ext4 and a loop device")

root = make_root(2000)
try:
    generating(root, os.path.dirname(root), size)
    d, ms, rss = startup(root)
    print("patroni-debiand start-up, 2,000 clusters with their configurations: %.0f ms, peak RSS %.1f MiB (%s)"
          % (ms, rss, d.cpu))

    delays = []
    for i in range(20):
        c = os.path.join(root, "etc/postgresql/15/s%02d" % i)
        os.makedirs(c)
        with open(os.path.join(c, "postgresql.conf"), "w") as f:
            f.write("port = %d\n" % (9000 + i))
        t0 = time.monotonic()  # the last event in the cluster's directory
        _, t1 = d.wait_for(r"Generated /etc/patroni/15-s%02d.yml" % i, 10)
        delays.append((t1 - t0) * 1000 - SETTLE_MS)
    print("delay from a cluster settling to its action, past settle_ms=%d: median %.1f ms (min %.1f, max %.1f, n=20)"
          % (SETTLE_MS, statistics.median(delays), min(delays), max(delays)))

    time.sleep(1)
    before = d.status("voluntary_ctxt_switches") + d.status("nonvoluntary_ctxt_switches")
    time.sleep(idle_s)
    after = d.status("voluntary_ctxt_switches") + d.status("nonvoluntary_ctxt_switches")
    print("context switches of the idle daemon over %d s (no watchdog): %d" % (idle_s, after - before))
    d.stop()
finally:
    shutil.rmtree(root, ignore_errors=True)


def once_ms(root):
    """The daemon's own start-up figure with --once (reading and deciding everything once)."""
    p = subprocess.run([daemon, "--root", root, "--print-units", "--once", "--log-target=stderr"],
                       stderr=subprocess.PIPE, text=True, timeout=600)
    m = re.search(r"start-up took ([0-9.]+) ms", p.stderr)
    return float(m.group(1)) if m else float("nan")


def hostile_root():
    root = make_root(1)
    conf_d = os.path.join(root, "etc/postgresql/15/c0000/conf.d")
    os.makedirs(conf_d)
    line = "work_mem = '1MB'  # padding to the byte bound\n"
    per_file = (1024 * 1024 - 4096) // 63
    for i in range(63):
        with open(os.path.join(conf_d, "%02d.conf" % i), "w") as f:
            f.write(line * (per_file // len(line)))
    with open(os.path.join(root, "etc/postgresql/15/c0000/postgresql.conf"), "a") as f:
        f.write("include_dir 'conf.d'\n")
    return root


plain = make_root(1)
hostile = hostile_root()
try:
    print("hostile inputs at their limits (the daemon's start-up with --once; an ordinary root: %.1f ms):"
          % once_ms(plain))
    print("  postgresql.conf including 63 files, 1 MiB in all: %.1f ms" % once_ms(hostile))
    deep = os.path.join(plain, "etc/patroni/15-deep.yml")
    with open(deep, "w") as f:
        n = 2 * 1024 * 1024 - 8
        f.write("scope: " + "[" * n + "]" * n + "\n")
    print("  an admin's configuration of 4 MiB nested 2 million deep: %.1f ms" % once_ms(plain))
    os.unlink(deep)
    with open(os.path.join(plain, "etc/patroni/15-keys.yml"), "w") as f:
        f.write("scope: x\ntags:\n")
        i = 0
        while f.tell() < 4 * 1024 * 1024 - 64:
            f.write("  k%07d: %d\n" % (i, i))
            i += 1
    print("  an admin's configuration of 4 MiB of keys (%d): %.1f ms" % (i, once_ms(plain)))
    os.unlink(os.path.join(plain, "etc/patroni/15-keys.yml"))
    os.unlink(os.path.join(plain, "etc/patroni/15-c0000.yml"))  # so that the template is rendered
    with open(template) as t, open(os.path.join(plain, "etc/patroni/config.yml.in"), "w") as f:
        f.write(t.read() + "tags:\n  l0: &l0 [lol]\n")
        for lv in range(1, 11):  # 10 levels of 99 aliases: 990, under the bound of 1000
            f.write("  l%d: &l%d [%s]\n" % (lv, lv, ", ".join(["*l%d" % (lv - 1)] * 99)))
    print("  a template with an alias bomb (10 levels of 99 aliases), rendered and checked: %.1f ms" % once_ms(plain))
finally:
    shutil.rmtree(plain, ignore_errors=True)
    shutil.rmtree(hostile, ignore_errors=True)

root = make_root(200)
try:
    shared = os.path.join(root, "etc/postgresql/shared")
    os.makedirs(shared)
    for i in range(63):  # every cluster's includes at the bounds: 64 files, 1 MiB
        with open(os.path.join(shared, "%02d.conf" % i), "w") as f:
            f.write("work_mem = '1MB'\n" * ((1024 * 1024 - 4096) // 63 // 17))
    for i in range(200):
        with open(os.path.join(root, "etc/postgresql/15/c%04d/postgresql.conf" % i), "a") as f:
            f.write("include_dir '/etc/postgresql/shared'\n")
    d, ms, _ = startup(root)
    d.p.send_signal(signal.SIGHUP)  # a full rescan: every cluster's 64 files read again
    time.sleep(0.5)
    t0 = time.monotonic()
    d.p.send_signal(signal.SIGTERM)
    d.p.wait(60)
    print("SIGTERM during a rescan of 200 clusters whose includes are at the bounds (start-up took %.0f ms): "
          "exited after %.1f ms" % (ms, (time.monotonic() - t0) * 1000))
finally:
    shutil.rmtree(root, ignore_errors=True)

# 5. join: an etcd on loopback (when installed), 200 scopes there; the delay from a scope's leader key to its
#    configuration (past config_settle_ms, the daemon's own part: Patroni's clone comes after), from a member's
#    key to pg_service.conf listing it, and the idle daemon's context switches with the watch open and no DCS
#    traffic.
if shutil.which("etcd") and shutil.which("etcdctl"):
    import base64, json, socket, urllib.request
    socks = [socket.socket() for _ in range(2)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    cport, pport = (s.getsockname()[1] for s in socks)
    for s in socks:
        s.close()
    edir = tempfile.mkdtemp(prefix="pdd-bench-etcd-")
    ep = "http://127.0.0.1:%d" % cport
    etcd = subprocess.Popen(["etcd", "--name", "b", "--data-dir", edir + "/d", "--listen-client-urls", ep,
                             "--advertise-client-urls", ep, "--listen-peer-urls", "http://127.0.0.1:%d" % pport,
                             "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % pport,
                             "--initial-cluster", "b=http://127.0.0.1:%d" % pport],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def put(key, value):
        body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                           "value": base64.b64encode(value.encode()).decode()}).encode()
        urllib.request.urlopen(urllib.request.Request(ep + "/v3/kv/put", body), timeout=5).read()

    def member(scope, port):
        put("/postgresql-common/%s/members/m" % scope,
            json.dumps({"conn_url": "postgres://10.0.0.1:%d/postgres" % port, "state": "running"}))
        put("/postgresql-common/%s/leader" % scope, "m")

    root = make_root(0)
    os.makedirs(os.path.join(root, "etc/postgresql-common"))
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(ep + "/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        for i in range(200):
            member("16-s%03d" % i, 6000 + i)  # PostgreSQL 16 is not installed: seen, not joined
        with open(os.path.join(root, "etc/patroni/dcs.yml"), "w") as f:
            f.write("etcd3:\n  hosts: 127.0.0.1:%d\n" % cport)
        with open(os.path.join(root, "etc/patroni/patroni-debiand.yml"), "a") as f:
            f.write("join: ['15-*', '16-*']\n")
        d = Daemon(root)
        d.wait_for(r"DCS watch: .*watching /postgresql-common/", 30)
        delays = []
        for i in range(20):
            t0 = time.monotonic()
            member("15-j%02d" % i, 7000 + i)
            _, t1 = d.wait_for(r"Generated /etc/patroni/15-j%02d.yml" % i, 10)
            delays.append((t1 - t0) * 1000 - 100)
        print("join: delay from a scope's leader key in etcd to its configuration written, past config_settle_ms=100 "
              "(200 other scopes watched): median %.1f ms (min %.1f, max %.1f, n=20)"
              % (statistics.median(delays), min(delays), max(delays)))
        # pg_service.conf: a member joins a scope configured here; the time until the file lists it
        svc = os.path.join(root, "etc/postgresql-common/pg_service.conf")
        time.sleep(1)
        delays = []
        for i in range(20):
            t0 = time.monotonic()
            put("/postgresql-common/15-j%02d/members/m2" % i,
                json.dumps({"conn_url": "postgres://10.0.0.2:%d/postgres" % (7000 + i), "state": "running"}))
            want = "[15-j%02d]\nhost=10.0.0.1,10.0.0.2\n" % i
            while time.monotonic() - t0 < 10:
                with open(svc) as f:
                    if want in f.read():
                        break
                time.sleep(0.002)
            delays.append((time.monotonic() - t0) * 1000 - 200)
        print("pg_service.conf: delay from a member's key in etcd to the service listing it, past the two settles "
              "of 100 ms (20 services, 200 other scopes watched): median %.1f ms (min %.1f, max %.1f, n=20)"
              % (statistics.median(delays), min(delays), max(delays)))
        time.sleep(1)
        before = d.status("voluntary_ctxt_switches") + d.status("nonvoluntary_ctxt_switches")
        time.sleep(idle_s)
        after = d.status("voluntary_ctxt_switches") + d.status("nonvoluntary_ctxt_switches")
        print("context switches of the idle daemon over %d s with the DCS watch open (no DCS traffic): %d"
              % (idle_s, after - before))
        d.stop()
    finally:
        etcd.terminate()
        etcd.wait()
        shutil.rmtree(edir, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
else:
    print("join figures: skipped (etcd-server and etcd-client are not installed)")
