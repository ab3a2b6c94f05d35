#!/usr/bin/env python3
"""The production topology of docker-compose.yml, run natively on loopback, and its failures.

PostgreSQL (a cluster of its own, made with initdb), an S3-compatible object store for media
(moto's server), two `cit serve` nodes, `cit site`, `cit desk`, and nginx in front: each
partner's host name to the site, `/api/` to the two nodes, desk.cit.localhost to the desk.
Started by `tests/cluster/run` (see its header), which installs nginx and the object store
first. Python's standard library only.

Phases, each under load from reader and writer threads going through nginx:
  steady    both nodes up: nothing fails, and a write on one node is never read stale on the other
  kill      `kill -9` of node 1 mid-load, then started again: at most the requests in flight fail
  rolling   SIGTERM and restart of node 1, then node 2, each waiting for /readyz: nothing fails
  outage    PostgreSQL stopped for --outage seconds: /readyz 503, writes 503 with Retry-After and
            the `unavailable` problem, then everything recovers without restarting cit
  backup    the README's PostgreSQL recipe under write load (pg_dump, then pg_restore into a new
            database and a third node on it): every write acknowledged before the dump is there
Then every write that was acknowledged (201) is read back: none may be missing.

Prints the figures as a Markdown table (for bench/RESULTS.md) and exits non-zero when a check fails.
"""

import argparse
import glob
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ADMIN_EMAIL = "admin@cluster.test"
ADMIN_PASSWORD = "cluster-password-1"
BUCKET = "cit-media"
LOAD_TENANT = "lecce"
STALE_TENANT = "genova"
QUIET_TENANT = "avellino"


def log(msg):
    print(f"cluster: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body)


def request(port, method, path, body=None, token=None, headers=None, timeout=15):
    """One HTTP request on a new connection; None when the connection itself failed."""
    h = {"Connection": "close"}
    if headers:
        h.update(headers)
    if token:
        h["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        if isinstance(body, (bytes, bytearray)):
            data = body
        else:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        res = conn.getresponse()
        return Answer(res.status, res.getheaders(), res.read())
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def wait_until(what, check, within):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise SystemExit(f"cluster: {what} not within {within} s")


class Cluster:
    def __init__(self, root, cit_bin, s3_cmd, repo):
        self.root = root
        self.bin = cit_bin
        self.s3_cmd = s3_cmd
        self.repo = repo
        self.procs = {}
        self.logs = {}
        self.pg_port = free_port()
        self.s3_port = free_port()
        # Nodes 1 and 2 serve; node 3 serves the restored copy in the backup drill.
        self.node_ports = [free_port(), free_port(), free_port()]
        self.site_port = free_port()
        self.desk_port = free_port()
        self.nginx_port = free_port()
        self.secret = secrets.token_hex(32)
        self.use_replica = True
        pg_bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not pg_bins:
            raise SystemExit("cluster: no PostgreSQL server binaries under /usr/lib/postgresql")
        self.pg_bin = pg_bins[-1]
        self.pg_data = os.path.join(root, "pg", "data")
        self.pg_sock = os.path.join(root, "pg")
        self.db_url = f"postgres://postgres@127.0.0.1:{self.pg_port}/postgres"
        # A streaming replica of it (pg_basebackup), applying WAL with a delay so that a read that
        # went there too soon would show as stale.
        self.replica_port = free_port()
        self.replica_data = os.path.join(root, "pg", "replica")
        self.replica_url = f"postgres://postgres@127.0.0.1:{self.replica_port}/postgres"

    # PostgreSQL ---------------------------------------------------------------------------------

    def _as_postgres(self, argv):
        # initdb and postgres refuse to run as root: CI runs as root, a developer maybe not.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def init_pg(self):
        os.makedirs(self.pg_sock, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.pg_sock, "postgres", "postgres")
        subprocess.run(
            self._as_postgres([f"{self.pg_bin}/initdb", "-D", self.pg_data, "-A", "trust", "-U", "postgres"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def pg_ctl(self, data, *args):
        subprocess.run(
            self._as_postgres([f"{self.pg_bin}/pg_ctl", "-D", data, *args]), check=True, stdout=subprocess.DEVNULL
        )

    def start_pg(self):
        opts = (
            f"-p {self.pg_port} -k {self.pg_sock} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            "-c fsync=off -c full_page_writes=off"
        )
        self.pg_ctl(self.pg_data, "-o", opts, "-l", f"{self.pg_sock}/log", "-w", "start")

    def start_replica(self, delay_ms):
        subprocess.run(
            self._as_postgres(
                [f"{self.pg_bin}/pg_basebackup", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
                 "-D", self.replica_data, "-R", "-X", "stream"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        opts = (
            f"-p {self.replica_port} -k {self.pg_sock} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            f"-c hot_standby=on -c recovery_min_apply_delay={delay_ms}ms"
        )
        self.pg_ctl(self.replica_data, "-o", opts, "-l", f"{self.pg_sock}/replica.log", "-w", "start")

    def replica_scans(self):
        """Scans of the entries table on the replica: reads that were sent there."""
        out = subprocess.run(
            ["psql", "-qtA", "-d", self.replica_url, "-c",
             "SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables "
             "WHERE relname = 'entries'"],
            check=True, capture_output=True, text=True,
        )
        return int(out.stdout.strip() or 0)

    def stop_pg(self):
        self.pg_ctl(self.pg_data, "-m", "fast", "-w", "stop")

    # Processes ----------------------------------------------------------------------------------

    def spawn(self, name, argv, env=None):
        logf = open(os.path.join(self.root, f"{name}.log"), "ab")
        self.logs[name] = logf
        self.procs[name] = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, env=env, cwd=self.repo)

    def node_env(self, i, db_url=None):
        env = dict(os.environ)
        env.update(
            {
                "CIT_DATABASE_URL": db_url or self.db_url,
                **({"CIT_DATABASE_REPLICA_URL": self.replica_url} if db_url is None and self.use_replica else {}),
                "CIT_LISTEN": f"127.0.0.1:{self.node_ports[i]}",
                "CIT_DATA_DIR": os.path.join(self.root, f"node{i + 1}"),
                "CIT_MODE": "production",
                "CIT_JWT_SECRET": self.secret,
                "CIT_ADMIN_EMAIL": ADMIN_EMAIL,
                "CIT_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "CIT_LOG_FORMAT": "json",
                "CIT_WORKERS": "2",
                "CIT_SHUTDOWN_TIMEOUT_SECS": "10",
                "CIT_DB_ACQUIRE_TIMEOUT_SECS": "3",
                "CIT_MEDIA__S3_BUCKET": BUCKET,
                "CIT_MEDIA__S3_ENDPOINT": f"http://127.0.0.1:{self.s3_port}",
                "CIT_MEDIA__S3_REGION": "us-east-1",
                "CIT_MEDIA__S3_ACCESS_KEY_ID": "cluster",
                "CIT_MEDIA__S3_SECRET_ACCESS_KEY": "cluster-secret",
                "RUST_LOG": "warn",
            }
        )
        return env

    def cit(self, *args):
        """A one-off cit command against the cluster's database (as the compose file's loader runs)."""
        subprocess.run([self.bin, *args], env=self.node_env(0), cwd=self.repo, check=True, stdout=subprocess.DEVNULL)

    def ready(self, i):
        a = request(self.node_ports[i], "GET", "/readyz", timeout=3)
        return a is not None and a.status == 200

    def served(self, i):
        """Requests node i has answered about tenants (its /metrics)."""
        a = request(self.node_ports[i], "GET", "/metrics", timeout=3)
        if a is None or a.status != 200:
            return 0
        total = 0.0
        for line in a.body.decode().splitlines():
            if line.startswith("cit_tenant_http_requests_total{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def start_node(self, i, db_url=None):
        self.spawn(f"node{i + 1}", [self.bin, "serve"], env=self.node_env(i, db_url))
        wait_until(f"node {i + 1} ready", lambda: self.ready(i), 60)

    def stop_node(self, i, sig):
        p = self.procs[f"node{i + 1}"]
        p.send_signal(sig)
        try:
            return p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise SystemExit(f"cluster: node {i + 1} did not stop within 30 s of {sig.name}")

    def start_s3(self):
        self.spawn("s3", [*self.s3_cmd, "-H", "127.0.0.1", "-p", str(self.s3_port)])
        wait_until("the object store", lambda: request(self.s3_port, "GET", "/") is not None, 60)
        a = request(self.s3_port, "PUT", f"/{BUCKET}", body=b"")
        if a is None or a.status != 200:
            raise SystemExit(f"cluster: cannot create the bucket: {a and a.status}")

    def start_site(self):
        env = dict(os.environ)
        env.update(
            {
                "CIT_SITE_LISTEN": f"127.0.0.1:{self.site_port}",
                "CIT_SITE_API_URL": f"http://127.0.0.1:{self.nginx_port}",
                "CIT_THEMES_DIR": os.path.join(self.repo, "themes"),
                "CIT_SITE_SECRET": self.secret,
                "RUST_LOG": "warn",
            }
        )
        self.spawn("site", [self.bin, "site"], env=env)
        wait_until("the site", lambda: request(self.site_port, "GET", "/healthz") is not None, 60)

    def start_desk(self):
        env = dict(os.environ)
        env.update(
            {
                "CIT_DESK_LISTEN": f"127.0.0.1:{self.desk_port}",
                "CIT_DESK_API_URL": f"http://127.0.0.1:{self.nginx_port}",
                "CIT_THEMES_DIR": os.path.join(self.repo, "themes"),
                "RUST_LOG": "warn",
            }
        )
        self.spawn("desk", [self.bin, "desk"], env=env)
        wait_until("the desk", lambda: request(self.desk_port, "GET", "/healthz") is not None, 60)

    def start_nginx(self):
        prefix = os.path.join(self.root, "nginx")
        os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
        # The compose file's routing, with this machine's addresses in place of its services.
        with open(os.path.join(self.repo, "deploy", "nginx", "cit.conf")) as f:
            routing = f.read()
        for name, addr in {
            "api1:8080": f"127.0.0.1:{self.node_ports[0]}",
            "api2:8080": f"127.0.0.1:{self.node_ports[1]}",
            "site:8081": f"127.0.0.1:{self.site_port}",
            "desk:8082": f"127.0.0.1:{self.desk_port}",
            "listen 80": f"listen 127.0.0.1:{self.nginx_port}",
        }.items():
            if f"{name};" not in routing and f"{name} " not in routing:
                raise SystemExit(f"cluster: deploy/nginx/cit.conf no longer names {name}: keep it and this test in step")
            routing = routing.replace(name + " ", addr + " ").replace(name + ";", addr + ";")
        with open(os.path.join(prefix, "cit.conf"), "w") as f:
            f.write(routing)
        with open(os.path.join(self.repo, "tests", "cluster", "nginx.conf.in")) as f:
            conf = f.read()
        conf = conf.replace("@PREFIX@", prefix).replace("@USER@", "user root;" if os.geteuid() == 0 else "")
        path = os.path.join(prefix, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.spawn("nginx", [nginx, "-p", prefix, "-c", path, "-g", "daemon off;"])
        wait_until("nginx", lambda: request(self.nginx_port, "GET", "/api/v1/openapi.json") is not None, 30)

    def close(self):
        for name, p in self.procs.items():
            if p.poll() is None:
                p.kill()
                p.wait()
        for data in (self.replica_data, self.pg_data):
            try:
                if os.path.exists(os.path.join(data, "postmaster.pid")):
                    self.pg_ctl(data, "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
        for f in self.logs.values():
            f.close()


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.served = 0
        self.failed = 0
        self.unavailable = 0  # 503 with Retry-After and the `unavailable` problem
        self.stale = 0
        self.other = {}

    def add(self, field, n=1):
        with self.lock:
            setattr(self, field, getattr(self, field) + n)

    def odd(self, what):
        with self.lock:
            self.other[what] = self.other.get(what, 0) + 1
            self.failed += 1


def replica_reads(c, i):
    a = request(c.node_ports[i], "GET", "/metrics", timeout=3)
    for line in (a.body.decode().splitlines() if a is not None and a.status == 200 else []):
        if line.startswith('cit_db_replica_reads_total{to="replica"}'):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def is_unavailable(a):
    if a is None or a.status != 503 or "retry-after" not in a.headers:
        return False
    try:
        return a.json().get("code") == "unavailable"
    except ValueError:
        return False


class Threads:
    """A group of threads run as a `with` block: started on entry, stopped and joined on exit."""

    def targets(self):
        raise NotImplementedError

    def __enter__(self):
        self.stop.clear()
        self.threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in self.targets()]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


class Load(Threads):
    """Readers and writers through nginx until stopped; every 201 is remembered."""

    def __init__(self, cluster, token, readers, writers):
        self.c = cluster
        self.token = token
        self.readers = readers
        self.writers = writers
        self.counts = Counts()
        self.acked = []
        self.acked_lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = []
        self.seq = 0

    def classify(self, a, ok):
        if a is not None and a.status == ok:
            self.counts.add("served")
        elif is_unavailable(a):
            self.counts.add("unavailable")
        else:
            self.counts.odd("no answer" if a is None else str(a.status))

    def reader(self, n):
        port = self.c.nginx_port
        paths = [
            f"/api/v1/t/{LOAD_TENANT}/entries/notizia?sort=-published_at&limit=10",
            f"/api/v1/t/{LOAD_TENANT}/entries/servizio?limit=10",
            # A tenant nobody writes to: its reads may go to the replica.
            f"/api/v1/t/{QUIET_TENANT}/entries/notizia?limit=10",
        ]
        i = n
        while not self.stop.is_set():
            i += 1
            token = self.token if i % 2 else None  # half go past the read cache to the database
            self.classify(request(port, "GET", paths[i % 3], token=token), 200)

    def writer(self, n):
        port = self.c.nginx_port
        i = 0
        while not self.stop.is_set():
            i += 1
            title = f"Avviso {n}-{i}-{secrets.token_hex(3)}"
            a = request(
                port,
                "POST",
                f"/api/v1/t/{LOAD_TENANT}/entries/notizia",
                body={"status": "published", "data": {"title": title, "summary": "Sommario.", "body": "Testo."}},
                token=self.token,
            )
            self.classify(a, 201)
            if a is not None and a.status == 201:
                with self.acked_lock:
                    self.acked.append((a.json()["id"], title))
            elif a is not None and a.status == 503:
                time.sleep(0.2)

    def targets(self):
        self.counts = Counts()
        return [(self.reader, (n,)) for n in range(self.readers)] + [(self.writer, (n,)) for n in range(self.writers)]


def stale_check(cluster, token, counts, rounds, direct=True):
    """Change an entry on one node, read it at once from the other (anonymously, so through its
    read cache): the change must be there. Through nginx when `direct` is false."""
    ports = cluster.node_ports if direct else [cluster.nginx_port, cluster.nginx_port]
    a = request(
        ports[0],
        "POST",
        f"/api/v1/t/{STALE_TENANT}/entries/notizia",
        body={"status": "published", "data": {"title": "Prova 0", "summary": "S.", "body": "B."}},
        token=token,
    )
    if a is None or a.status != 201:
        raise SystemExit(f"cluster: cannot create the staleness probe: {a and a.status}")
    entry = a.json()["id"]
    one = f"/api/v1/t/{STALE_TENANT}/entries/notizia/{entry}"
    listing = f"/api/v1/t/{STALE_TENANT}/entries/notizia?sort=-updated_at&limit=1&fields=title"
    checked = 0
    for r in range(1, rounds + 1):
        writer, reader = ports[r % 2], ports[(r + 1) % 2]
        # Warm the reader's cache with the current answers, so a missed invalidation shows.
        request(reader, "GET", one)
        request(reader, "GET", listing)
        title = f"Prova {r}"
        w = request(writer, "PATCH", one, body={"data": {"title": title}}, token=token)
        if w is None or w.status != 200:
            counts.odd(f"stale probe write {w and w.status}")
            continue
        for path, pick in ((one, lambda b: b["data"]["title"]), (listing, lambda b: b["data"][0]["data"]["title"])):
            g = request(reader, "GET", path)
            if g is None or g.status != 200:
                counts.odd(f"stale probe read {g and g.status}")
                continue
            checked += 1
            if pick(g.json()) != title:
                counts.add("stale")
    return checked


class Probes(Threads):
    """While PostgreSQL is down: /readyz of each node, and writes through nginx, without pause."""

    def __init__(self, cluster, token):
        self.c = cluster
        self.token = token
        self.lock = threading.Lock()
        self.ready_503 = self.ready_all = self.write_503 = self.write_all = 0
        self.slowest = 0.0
        self.stop = threading.Event()

    def timed(self, *args, **kw):
        t = time.monotonic()
        a = request(*args, **kw)
        with self.lock:
            self.slowest = max(self.slowest, time.monotonic() - t)
        return a

    def ready(self, i):
        while not self.stop.is_set():
            a = self.timed(self.c.node_ports[i], "GET", "/readyz", timeout=10)
            with self.lock:
                self.ready_all += 1
                self.ready_503 += a is not None and a.status == 503
            time.sleep(0.2)

    def write(self):
        while not self.stop.is_set():
            a = self.timed(
                self.c.nginx_port,
                "POST",
                f"/api/v1/t/{STALE_TENANT}/entries/notizia",
                body={"data": {"title": "Durante", "summary": "S.", "body": "B."}},
                token=self.token,
                timeout=20,
            )
            with self.lock:
                self.write_all += 1
                self.write_503 += is_unavailable(a)
            time.sleep(0.2)

    def targets(self):
        return [(self.ready, (0,)), (self.ready, (1,)), (self.write, ())]


def backup_drill(c, load, media, failures):
    """The README's PostgreSQL recipe under write load: every write acknowledged before pg_dump
    started is in the restored database, served by a new node over the same bucket."""
    dump = os.path.join(c.root, "cit.dump")
    restored = f"postgres://postgres@127.0.0.1:{c.pg_port}/cit_restored"
    with load:
        time.sleep(2)
        with load.acked_lock:
            before = list(load.acked)
        t = time.monotonic()
        subprocess.run(["pg_dump", "-Fc", "--no-owner", "-d", c.db_url, "-f", dump], check=True)
        dumped = time.monotonic() - t
        time.sleep(1)
    served = load.counts.served
    subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(c.pg_port), "-U", "postgres", "cit_restored"], check=True)
    subprocess.run(["pg_restore", "--no-owner", "-d", restored, dump], check=True)
    c.start_node(2, db_url=restored)
    token = login(c.node_ports[2])
    missing = 0
    for entry, title in before:
        a = request(c.node_ports[2], "GET", f"/api/v1/t/{LOAD_TENANT}/entries/notizia/{entry}", token=token)
        if a is None or a.status != 200 or a.json()["data"]["title"] != title:
            missing += 1
    if missing:
        failures.append(f"backup drill: {missing} of {len(before)} writes acknowledged before pg_dump are missing")
    if load.counts.failed:
        failures.append(f"backup drill: {load.counts.failed} requests failed during pg_dump {load.counts.other}")
    if media:
        got = request(c.node_ports[2], "GET", f"/api/v1/t/{LOAD_TENANT}/media/{media[0]}/file")
        if got is None or got.status != 200 or got.body != media[1]:
            failures.append(f"backup drill: the restored node does not serve the uploaded file: {got and got.status}")
    c.stop_node(2, signal.SIGTERM)
    return (
        f"pg_dump took {dumped:.1f} s while {served} requests were served (none failed); "
        f"{len(before)} writes acknowledged before it started, {missing} missing from the restored database"
    )


def login(port):
    a = request(port, "POST", "/api/v1/auth/login", body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    if a is None or a.status != 200:
        raise SystemExit(f"cluster: cannot log in: {a and a.status}")
    return a.json()["access_token"]


def multipart(fields, file_name, mime, data):
    boundary = "cluster" + secrets.token_hex(8)
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()
    out += data + f"\r\n--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def check_topology(c, token, failures):
    """Media on the object store, shared by both nodes; the partner site behind nginx."""
    data = b"%PDF-1.4\n% cluster test\n" + secrets.token_bytes(2048)
    body, ctype = multipart({"title": "Delibera", "licence": "CC-BY-4.0"}, "delibera.pdf", "application/pdf", data)
    up = request(c.node_ports[0], "POST", f"/api/v1/t/{LOAD_TENANT}/media", body=body, token=token,
                 headers={"Content-Type": ctype})
    if up is None or up.status != 201:
        failures.append(f"media upload on node 1: {up and up.status} {up and up.body[:200]}")
        return None
    media = up.json()["id"]
    got = request(c.node_ports[1], "GET", f"/api/v1/t/{LOAD_TENANT}/media/{media}/file")
    if got is None or got.status != 200 or got.body != data:
        failures.append(f"the file uploaded on node 1 is not served the same by node 2: {got and got.status}")
    stored = request(c.s3_port, "GET", f"/{BUCKET}?list-type=2&prefix={LOAD_TENANT}/{media}/")
    if stored is None or f"{LOAD_TENANT}/{media}/original".encode() not in stored.body:
        failures.append("the original is not in the S3 bucket")
    page = request(c.nginx_port, "GET", "/", headers={"Host": f"{LOAD_TENANT}.cit.localhost"})
    if page is None or page.status != 200 or b"Lecce" not in page.body:
        failures.append(f"the Lecce site through nginx: {page and page.status}")
    other = request(c.nginx_port, "GET", "/", headers={"Host": f"{STALE_TENANT}.cit.localhost"})
    if other is None or other.status != 200 or b"Genova" not in other.body:
        failures.append(f"the Genova site through nginx: {other and other.status}")
    desk = request(c.nginx_port, "GET", "/login", headers={"Host": "desk.cit.localhost"})
    if desk is None or desk.status != 200 or b"<form" not in desk.body:
        failures.append(f"the desk's sign-in page through nginx: {desk and desk.status}")
    return media, data


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("CIT_BIN", "target/debug/cit"))
    ap.add_argument("--s3", default=os.environ.get("CIT_CLUSTER_S3", "moto_server"), help="S3 server command")
    ap.add_argument("--phase-secs", type=float, default=12, help="length of the steady and kill phases")
    ap.add_argument("--outage", type=float, default=20, help="seconds PostgreSQL stays down")
    ap.add_argument("--readers", type=int, default=4)
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--stale-rounds", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the working folder (logs) afterwards")
    ap.add_argument("--no-replica", action="store_true", help="run the nodes without the read replica")
    ap.add_argument("--replica-delay-ms", type=int, default=300, help="the replica's recovery_min_apply_delay")
    args = ap.parse_args()

    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    root = tempfile.mkdtemp(prefix="cit-cluster-")
    os.chmod(root, 0o755)
    c = Cluster(root, os.path.abspath(os.path.join(repo, args.bin)), args.s3.split(), repo)
    c.use_replica = not args.no_replica
    failures = []
    rows = []
    ok = False
    try:
        log(f"working in {root}")
        log(f"PostgreSQL on {c.pg_port} (initdb)")
        c.init_pg()
        c.start_pg()
        log(f"object store on {c.s3_port}")
        c.start_s3()
        log("migrations and the demo content (cit migrate; cit seed-bulk --entries 0)")
        c.cit("migrate")
        c.cit("seed-bulk", "--entries", "0")
        if c.use_replica:
            log(f"streaming replica on {c.replica_port} (pg_basebackup -R), applying WAL {args.replica_delay_ms} ms late")
            c.start_replica(args.replica_delay_ms)
        log(f"nodes on {c.node_ports[0]} and {c.node_ports[1]}, the site on {c.site_port}, nginx on {c.nginx_port}")
        c.start_node(0)
        c.start_node(1)
        c.start_nginx()
        c.start_site()
        c.start_desk()
        token = login(c.nginx_port)
        media = check_topology(c, token, failures)

        load = Load(c, token, args.readers, args.writers)

        log(f"steady: {args.phase_secs:.0f} s of load, and {args.stale_rounds} cross-node staleness rounds")
        with load:
            t0 = time.monotonic()
            checked = stale_check(c, token, load.counts, args.stale_rounds)
            time.sleep(max(0.0, args.phase_secs - (time.monotonic() - t0)))
        note = f"{checked} cross-node reads checked"
        if c.use_replica:
            scans = c.replica_scans()
            sent = sum(replica_reads(c, i) for i in (0, 1))
            note += f"; {sent} content reads sent to the replica ({scans} scans of entries there)"
            if scans == 0 or sent == 0:
                failures.append("steady: the replica was never read")
        rows.append(("steady (both nodes up)", load.counts, note))
        if load.counts.failed or load.counts.unavailable or load.counts.stale:
            failures.append(f"steady: failed {load.counts.failed} {load.counts.other}, stale {load.counts.stale}")

        log("kill: kill -9 of node 1 under load, started again")
        with load:
            time.sleep(args.phase_secs / 3)
            c.stop_node(0, signal.SIGKILL)
            time.sleep(args.phase_secs / 3)
            c.start_node(0)
            time.sleep(args.phase_secs / 3)
            checked = stale_check(c, token, load.counts, 20)
        in_flight = args.readers + args.writers
        rows.append(("kill -9 of node 1", load.counts, f"at most {in_flight} in flight"))
        if load.counts.failed > in_flight or load.counts.stale:
            failures.append(f"kill: failed {load.counts.failed} {load.counts.other} > {in_flight} in flight")

        log("rolling: SIGTERM and restart of node 1, then node 2, under load")
        with load:
            for i in (0, 1):
                time.sleep(1)
                code = c.stop_node(i, signal.SIGTERM)
                if code != 0:
                    failures.append(f"node {i + 1} exited {code} on SIGTERM")
                c.start_node(i)
                # nginx's checks are passive: a node that refused a connection is left out for
                # fail_timeout (2 s). Before the next node goes, this one must be back in use.
                before = c.served(i)
                wait_until(f"nginx sending requests to node {i + 1} again", lambda: c.served(i) > before + 10, 30)
            time.sleep(1)
            checked = stale_check(c, token, load.counts, 20)
        rows.append(("rolling restart of both nodes", load.counts, "graceful: none may fail"))
        if load.counts.failed or load.counts.stale:
            failures.append(f"rolling: failed {load.counts.failed} {load.counts.other}")

        log(f"outage: PostgreSQL stopped for {args.outage:.0f} s under load")
        probes = Probes(c, token)
        with load:
            time.sleep(2)
            c.stop_pg()
            with probes:
                time.sleep(args.outage)
            up = time.monotonic()
            c.start_pg()
            wait_until("both nodes ready after the outage", lambda: c.ready(0) and c.ready(1), 60)
            recovered = time.monotonic() - up
            w = request(
                c.nginx_port,
                "POST",
                f"/api/v1/t/{STALE_TENANT}/entries/notizia",
                body={"data": {"title": "Dopo", "summary": "S.", "body": "B."}},
                token=token,
            )
            if w is None or w.status != 201:
                failures.append(f"outage: a write after the outage answered {w and w.status}")
            time.sleep(2)
            checked = stale_check(c, token, load.counts, 20)
        rows.append(
            (
                f"PostgreSQL down {args.outage:.0f} s",
                load.counts,
                f"/readyz 503 {probes.ready_503}/{probes.ready_all}, "
                f"writes 503+Retry-After {probes.write_503}/{probes.write_all} "
                f"(slowest answer {probes.slowest:.1f} s), ready again {recovered:.1f} s after pg_ctl start",
            )
        )
        if probes.ready_503 != probes.ready_all or probes.write_503 != probes.write_all or not probes.write_all:
            failures.append(f"outage: /readyz {probes.ready_503}/{probes.ready_all} 503, writes "
                            f"{probes.write_503}/{probes.write_all} 503 unavailable")
        if load.counts.failed or load.counts.stale:
            failures.append(f"outage: failed {load.counts.failed} {load.counts.other} (not a clear 503)")
        for i in (0, 1):
            if c.procs[f"node{i + 1}"].poll() is not None:
                failures.append(f"node {i + 1} exited during the outage")

        log("backup drill: pg_dump under write load, pg_restore into a new database, a node on it")
        drill = backup_drill(c, load, media, failures)

        log(f"reading back {len(load.acked)} acknowledged writes")
        lost = 0
        for entry, title in load.acked:
            a = request(c.nginx_port, "GET", f"/api/v1/t/{LOAD_TENANT}/entries/notizia/{entry}", token=token)
            if a is None or a.status != 200 or a.json()["data"]["title"] != title:
                lost += 1
        if lost:
            failures.append(f"{lost} acknowledged writes are missing")

        print("| phase | served | failed | 503 unavailable | stale reads | notes |")
        print("|---|---:|---:|---:|---:|---|")
        for name, k, note in rows:
            extra = f" ({', '.join(f'{v}× {w}' for w, v in k.other.items())})" if k.other else ""
            print(f"| {name} | {k.served} | {k.failed}{extra} | {k.unavailable} | {k.stale} | {note} |")
        print(f"\nAcknowledged writes read back: {len(load.acked)}, missing: {lost}.")
        print(f"\nBackup drill: {drill}")
        ok = not failures
    finally:
        c.close()
        if failures:
            for f in failures:
                log(f"FAILED: {f}")
            log(f"logs kept in {root}")
        elif not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
