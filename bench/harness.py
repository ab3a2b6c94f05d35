#!/usr/bin/env python3
"""The benchmark harness behind bench/run (see bench/README.md). Standard library only.

For each database: a fresh database, `cit seed-bulk`, start-up time (3 restarts on the seeded
data), `cit serve` and `cit site` on free loopback ports, resident memory, then one wrk run per
scenario. Prints a Markdown table per database and writes bench/out/<timestamp>-<db>.{json,md}.
Exits 1 when a scenario had errors (non-2xx answers or socket errors) or a server did not
start, 2 on bad usage. Every process it starts is stopped on the way out, Ctrl-C included.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
LUA = os.path.join(BENCH, "lua")
OUT = os.path.join(BENCH, "out")

SIZES = {
    "tiny": (2, 200),
    "default": (5, 10_000),
    "large": (100, 10_000),
}
DEMO_TENANTS = ["lecce", "genova", "avellino", "potenza", "brescia"]
PG_DATABASE = "cit_bench"
# Seconds a single request may take while checking a scenario's paths before its wrk run.
PREFLIGHT_TIMEOUT = 30
# Seconds all of them may take; the paths not reached by then are left to wrk.
PREFLIGHT_BUDGET = 60

# The read filter: `author_name` takes four values, "Redazione CIT" on about 70% of the
# generated news items (see crates/cit/src/bulk.rs).
LIST_QUERY = "limit=20&filter%5Bauthor_name%5D%5Beq%5D=Redazione%20CIT&sort=-published_at"
GRAPHQL_QUERY = (
    "{ notiziaList(first: 20) { nodes { title slug publishedAt argomenti { title } "
    "relatedServices { title office { title } argomenti { title } } } } }"
)
# Words the generated text uses (crates/cit/src/bulk.rs: SUBJECTS, OBJECTS, COMPLEMENTS, FACTS).
SEARCH_WORDS = [
    "pagamenti", "sicurezza informatica", "formazione", "comuni", "digitale", "sportello",
    "cloud", "webinar", "anagrafe", "tributi", "conservazione", "protocollo", "open data",
    "fondi", "regione", "imprese",
]

# name: (what it measures, the target as text)
SCENARIOS = {
    "ceiling": ("GET /healthz: a fixed body from the same server, the most it can answer", ""),
    "rest_list": ("GET …/entries/notizia, 20 a page, filtered on author_name, sorted by -published_at", "≥ 40%, p99 ≤ 5 ms"),
    "rest_slug": ("GET …/entries/notizia/{slug}, over ~100 real slugs", "≥ 50%"),
    "graphql_list": ("GET …/graphql?query=: 20 notizia with argomenti and relatedServices { office argomenti }", "≥ 25%"),
    "graphql_post": ("POST …/graphql, anonymous: the same query in a JSON body, as GraphQL clients send it", "≥ 50% (#18)"),
    "site_home": ("GET /{tenant}/ on cit site: the partner's home page", ""),
    "site_article": ("GET /{tenant}/notizie/{slug} on cit site: a news article page", "≥ 15%"),
    "create": ("POST …/entries/notizia: a new draft per request, with a write token of lecce", ""),
    # Last: a slow search keeps the server busy after wrk gives up on it (see bench/README.md).
    "search": ("GET …/search?q=: Italian words found in the data", ""),
}


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class Failed(Exception):
    """A failure that ends the run (a server that did not start, a build that failed)."""


# ---- processes ------------------------------------------------------------------------------

class Processes:
    """Every process the harness starts, so that all of them are stopped on the way out."""

    def __init__(self):
        self.running = []

    def start(self, argv, env, log_path, cwd=ROOT, stdout=None, show=False):
        """Starts a process whose standard error goes to `log_path` (and, with `show`, to ours
        as well, line by line)."""
        # A session of its own: Ctrl-C reaches the harness only, which then stops it in order.
        with open(log_path, "ab") as logf:
            p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=stdout or logf,
                                 stderr=subprocess.PIPE if show else logf, start_new_session=True)
        p.log_path = log_path
        if show:
            threading.Thread(target=tee, args=(p.stderr, log_path), daemon=True).start()
        self.running.append(p)
        return p

    def stop(self, p, timeout=10):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.running:
            self.running.remove(p)

    def stop_all(self):
        for p in reversed(list(self.running)):
            try:
                self.stop(p, timeout=5)
            except Exception:  # best effort on the way out
                pass


PROCS = Processes()


def tee(pipe, log_path):
    with open(log_path, "ab") as logf:
        for line in pipe:
            logf.write(line)
            sys.stderr.buffer.write(line)
            sys.stderr.flush()


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, headers=None, timeout=10.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def http_post(port, path, body, headers, timeout=10.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def wait_ready(p, port, path, limit=60.0, every=0.005):
    """Polls until `path` answers 200; returns the seconds since `p` was spawned (approximately:
    since this call, which follows the spawn at once)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if p.poll() is not None:
            raise Failed(f"{' '.join(p.args[:2])} exited with {p.returncode}:\n{tail(p.log_path)}")
        try:
            status, _ = http_get(port, path, timeout=1.0)
            if status == 200:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(every)
    raise Failed(f"{' '.join(p.args[:2])} did not answer 200 on {path} within {limit:.0f} s:\n{tail(p.log_path)}")


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def run(argv, **kw):
    log("$ " + " ".join(argv))
    return subprocess.run(argv, check=True, **kw)


# ---- preparation ----------------------------------------------------------------------------

def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("wrk is missing: installing it with apt-get")
    if os.geteuid() != 0:
        raise Failed("wrk is missing and this is not root: apt-get install -y wrk")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, stdout=subprocess.DEVNULL)


def ensure_assets():
    """The sites serve Bootstrap Italia from themes/base/node_modules (as ./run does)."""
    base = os.path.join(ROOT, "themes", "base")
    modules = os.path.join(base, "node_modules")
    lock = os.path.join(base, "package-lock.json")
    stamp = os.path.join(modules, ".package-lock.json")
    if not os.path.isdir(modules) or (os.path.exists(stamp) and os.path.getmtime(lock) > os.path.getmtime(stamp)):
        run(["npm", "ci", "--no-audit", "--no-fund"], cwd=base, stdout=subprocess.DEVNULL)


def build(debug):
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    target = os.path.join(ROOT, target)  # a relative CARGO_TARGET_DIR is relative to the repository
    argv = ["cargo", "build", "-p", "cit"] + ([] if debug else ["--release"])
    run(argv, cwd=ROOT)
    binary = os.path.join(target, "debug" if debug else "release", "cit")
    if not os.access(binary, os.X_OK):
        raise Failed(f"no binary at {binary} after {' '.join(argv)}")
    return binary


def ensure_postgres():
    def ready():
        return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0

    if ready():
        return
    log("PostgreSQL is not running: starting the local cluster")
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        raise Failed("PostgreSQL is not running and there is no cluster in /etc/postgresql")
    run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"])
    for _ in range(60):
        if ready():
            return
        time.sleep(0.5)
    raise Failed("PostgreSQL did not come up on 127.0.0.1:5432 within 30 s")


def psql(server, *sql):
    argv = ["psql", f"{server}/postgres", "-q", "-v", "ON_ERROR_STOP=1"]
    for s in sql:
        argv += ["-c", s]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gb": mem_gb, "kernel": platform.release()}


def git_commit():
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def wrk_version():
    r = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return (r.stdout + r.stderr).strip().splitlines()[0] if (r.stdout + r.stderr).strip() else "wrk"


# ---- one database ---------------------------------------------------------------------------

class Bench:
    def __init__(self, args, binary, db, stamp):
        self.args = args
        self.binary = binary
        self.db = db
        self.stamp = stamp
        self.tenants, self.entries = SIZES[args.size]
        self.dir = tempfile.mkdtemp(prefix=f"cit-bench-{db}-")
        self.logs = os.path.join(self.dir, "logs")
        os.makedirs(self.logs)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CIT_")}
        self.env.update({"CIT_DATA_DIR": os.path.join(self.dir, "data"), "CIT_LOG": "warn"})
        if db == "postgres":
            self.env["CIT_DATABASE_URL"] = f"{args.pg}/{PG_DATABASE}"
        for kv in args.env:
            k, _, v = kv.partition("=")
            self.env[k] = v
        self.result = {"db": db, "errors": []}
        self.servers = []

    def cit(self, *argv, **kw):
        return subprocess.run([self.binary, *argv], env=self.env, cwd=ROOT, **kw)

    def serve(self, port, name="serve"):
        env = dict(self.env, CIT_LISTEN=f"127.0.0.1:{port}")
        return PROCS.start([self.binary, "serve"], env, os.path.join(self.logs, f"{name}.log"))

    def fresh_database(self):
        if self.db == "postgres":
            ensure_postgres()
            log(f"fresh database {PG_DATABASE} on {self.args.pg}")
            psql(self.args.pg, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)", f"CREATE DATABASE {PG_DATABASE}")
        else:
            log(f"fresh SQLite database in {self.env['CIT_DATA_DIR']}")

    def seed(self):
        argv = [self.binary, "seed-bulk", "--tenants", str(self.tenants), "--entries", str(self.entries),
                "--jobs", str(self.args.jobs)]
        log("$ " + " ".join(argv[1:]))
        start = time.monotonic()
        p = PROCS.start(argv, self.env, os.path.join(self.logs, "seed.log"), stdout=subprocess.PIPE, show=True)
        out = p.stdout.read()
        p.wait()
        PROCS.stop(p)
        secs = time.monotonic() - start
        if p.returncode != 0:
            raise Failed(f"cit seed-bulk failed ({p.returncode}):\n{tail(p.log_path)}")
        summary = json.loads(out.decode().strip().splitlines()[-1])
        summary["wall_secs"] = round(secs, 1)
        self.result["seeding"] = summary
        log(f"seeded {summary['created']} entries in {summary['seed_secs']} s: {summary['entries_per_sec']} entries/s")

    def startup(self):
        """Three restarts of `cit serve` on the seeded data: spawn to the first 200 of /readyz."""
        times = []
        for n in range(3):
            port = free_port()
            start = time.monotonic()
            p = self.serve(port, f"startup-{n + 1}")
            wait_ready(p, port, "/readyz")
            times.append((time.monotonic() - start) * 1000)
            PROCS.stop(p)
        self.result["startup_ms"] = {
            "runs": [round(t, 1) for t in times],
            "best": round(min(times), 1),
            "median": round(statistics.median(times), 1),
        }
        log(f"start-up: {', '.join(f'{t:.0f}' for t in times)} ms")

    def token(self):
        r = self.cit("token", "create", "--tenant", "lecce", "--name", "bench", "--scopes", "read,preview,write",
                     capture_output=True, text=True)
        if r.returncode != 0:
            raise Failed(f"cit token create failed: {r.stderr}")
        return r.stdout.strip()

    def run(self):
        self.fresh_database()
        self.seed()
        self.startup()
        token = self.token()
        api_port, site_port = free_port(), free_port()
        api = self.serve(api_port)
        self.servers = [("cit serve", api)]
        wait_ready(api, api_port, "/readyz")
        site_env = dict(self.env, CIT_SITE_API_URL=f"http://127.0.0.1:{api_port}",
                        CIT_SITE_LISTEN=f"127.0.0.1:{site_port}", CIT_THEMES_DIR=os.path.join(ROOT, "themes"))
        site = PROCS.start([self.binary, "site"], site_env, os.path.join(self.logs, "site.log"),
                           stdout=subprocess.DEVNULL)
        self.servers.append(("cit site", site))
        wait_ready(site, site_port, "/healthz")
        time.sleep(1)
        self.result["rss_mb"] = {"api_idle": rss_mb(api.pid), "site_idle": rss_mb(site.pid)}
        log(f"listening: API 127.0.0.1:{api_port}, sites 127.0.0.1:{site_port}; RSS idle {self.result['rss_mb']['api_idle']} MB")

        plan = self.plan(api_port, site_port, token)
        self.result["scenarios"] = {}
        for name in self.args.scenarios:
            self.result["scenarios"][name] = self.scenario(name, plan[name])
            if any(p.poll() is not None for _, p in self.servers):
                raise Failed(f"a server stopped during {name}")
        self.check_servers()
        time.sleep(1)
        self.result["rss_mb"]["api_after_load"] = rss_mb(api.pid)
        self.result["rss_mb"]["site_after_load"] = rss_mb(site.pid)
        PROCS.stop(site)
        PROCS.stop(api)

    def check_servers(self):
        """Records a server that is gone (its log is kept with the others)."""
        for which, p in self.servers:
            if p.poll() is not None:
                self.result["errors"].append(f"{which} exited with {p.returncode} during the run: {p.log_path}")

    # -- what each scenario requests --

    def read_tenants(self):
        return DEMO_TENANTS[: self.tenants] + [f"bench-{n:03}" for n in range(6, self.tenants + 1)]

    def plan(self, api_port, site_port, token):
        tenants = self.read_tenants()
        sites = [t for t in tenants if t in DEMO_TENANTS]
        per = max(1, math.ceil(100 / len(tenants)))
        slugs = []  # (tenant, slug), about 100 of them over every tenant
        for t in tenants:
            status, body = http_get(api_port, f"/api/v1/t/{t}/entries/notizia?limit={min(per, 100)}&fields=title")
            if status != 200:
                raise Failed(f"cannot list the news of {t}: {status} {body[:200]!r}")
            slugs += [(t, e["slug"]) for e in json.loads(body)["data"]]
        words = SEARCH_WORDS
        gql = urllib.parse.quote(GRAPHQL_QUERY)
        api = lambda paths: {"port": api_port, "method": "GET", "paths": paths}  # noqa: E731
        site = lambda paths: {"port": site_port, "method": "GET", "paths": paths}  # noqa: E731
        return {
            "ceiling": api(["/healthz"]),
            "rest_list": api([f"/api/v1/t/{t}/entries/notizia?{LIST_QUERY}" for t in tenants]),
            "rest_slug": api([f"/api/v1/t/{t}/entries/notizia/{s}" for t, s in slugs]),
            "graphql_list": api([f"/api/v1/t/{t}/graphql?query={gql}" for t in tenants]),
            "graphql_post": {"port": api_port, "method": "POST", "paths": [f"/api/v1/t/{t}/graphql" for t in tenants],
                             "body": json.dumps({"query": GRAPHQL_QUERY}), "script": "post.lua"},
            "search": api([f"/api/v1/t/{t}/search?q={urllib.parse.quote(w)}" for t in tenants for w in words][:500]),
            "site_home": site([f"/{t}/" for t in sites]),
            "site_article": site([f"/{t}/notizie/{s}" for t, s in slugs if t in sites]),
            "create": {"port": api_port, "method": "POST", "paths": ["/api/v1/t/lecce/entries/notizia"],
                       "token": token},
        }

    def preflight(self, name, spec):
        """Every path once (the site's cache warms up too), within PREFLIGHT_BUDGET: a non-2xx
        answer or a timeout here is reported at once and the scenario is not run."""
        if spec["method"] == "POST" and "body" in spec:
            for path in spec["paths"]:
                status, answer = http_post(spec["port"], path, spec["body"], {"Content-Type": "application/json"})
                if status != 200 or b'"errors"' in answer:
                    return f"POST {path}: {status} {answer[:300]!r}"
            return None
        if spec["method"] == "POST":
            body = json.dumps({"data": {"title": f"Bozza di controllo {self.stamp}"}})
            status, answer = http_post(spec["port"], spec["paths"][0], body, {
                "Authorization": f"Bearer {spec['token']}", "Content-Type": "application/json"})
            return None if 200 <= status < 300 else f"POST {spec['paths'][0]}: {status} {answer[:300]!r}"
        start = time.monotonic()
        for path in spec["paths"]:
            if time.monotonic() - start > PREFLIGHT_BUDGET:
                log(f"{name}: checked the first paths only (they took over {PREFLIGHT_BUDGET} s)")
                break
            try:
                status, answer = http_get(spec["port"], path, timeout=PREFLIGHT_TIMEOUT)
            except OSError as e:
                return f"GET {path}: no answer within {PREFLIGHT_TIMEOUT} s ({e or type(e).__name__})"
            if not 200 <= status < 300:
                return f"GET {path}: {status} {answer[:300]!r}"
        return None

    def scenario(self, name, spec):
        paths_file = os.path.join(self.dir, f"{name}.paths")
        with open(paths_file, "w") as f:
            f.write("\n".join(spec["paths"]) + "\n")
        out = {
            "method": spec["method"],
            "url": f"http://127.0.0.1:{spec['port']}{spec['paths'][0]}",
            "distinct_paths": len(spec["paths"]),
        }
        problem = self.preflight(name, spec)
        if problem:
            out["error"] = problem
            self.result["errors"].append(f"{name}: {problem}")
            log(f"{name}: {problem}")
            return out
        script = spec.get("script") or ("create.lua" if spec["method"] == "POST" else "get.lua")
        conns = self.args.connections
        argv = ["wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{self.args.duration}s", "--latency",
                "-s", os.path.join(LUA, script), f"http://127.0.0.1:{spec['port']}"]
        env = dict(os.environ, BENCH_LUA=LUA, BENCH_PATHS=paths_file, BENCH_PATH=spec["paths"][0],
                   BENCH_TOKEN=spec.get("token", ""), BENCH_BODY=spec.get("body", ""), BENCH_RUN=f"{self.stamp}-{self.db}")
        log(f"{name}: " + " ".join(argv[:-1]) + f" {out['url']}")
        wrk_log = os.path.join(self.logs, f"wrk-{name}.log")
        p = PROCS.start(argv, env, wrk_log, stdout=subprocess.PIPE)
        try:
            text, _ = p.communicate(timeout=self.args.duration + 60)
        except subprocess.TimeoutExpired:
            PROCS.stop(p)
            out["error"] = "wrk did not finish"
            self.result["errors"].append(f"{name}: wrk did not finish")
            return out
        PROCS.stop(p)
        text = text.decode(errors="replace")
        with open(wrk_log, "a") as f:
            f.write(text)
        line = next((l for l in reversed(text.splitlines()) if l.startswith("{")), None)
        if p.returncode != 0 or line is None:
            out["error"] = f"wrk failed ({p.returncode}): {tail(wrk_log)}"
            self.result["errors"].append(f"{name}: wrk failed")
            return out
        out.update(json.loads(line))
        errors = out["non2xx"] + out["socket_errors"]
        if errors:
            self.result["errors"].append(f"{name}: {out['non2xx']} non-2xx answers, {out['socket_errors']} socket errors")
        if out["requests"] < self.args.connections:
            # Fewer answers than connections: requests hung. wrk does not always count the
            # requests it gave up on (after 2 s) as timeouts.
            out["error"] = (f"{out['requests']} answers in {self.args.duration} s over {self.args.connections} "
                            f"connections: requests hung")
            self.result["errors"].append(f"{name}: {out['error']}")
        log(f"{name}: {out['rps']:.0f} req/s, p50 {out['p50_ms']:.2f} ms, p99 {out['p99_ms']:.2f} ms, {errors} errors")
        return out


# ---- the report -----------------------------------------------------------------------------

def fmt(x, digits=1):
    return "–" if x is None else f"{x:,.{digits}f}"


def verdicts(result, meta):
    """Each of the issue's targets that this run can say something about: (what, target, value, met)."""
    sc = result.get("scenarios", {})
    ceiling = sc.get("ceiling", {}).get("rps")
    pct = lambda name: sc[name]["rps"] / ceiling * 100 if ceiling and sc.get(name, {}).get("rps") is not None else None  # noqa: E731
    out = []
    if pct("rest_list") is not None:
        p99_limit = 20 if meta["size"] == "large" and result["db"] == "postgres" else 5
        out.append(("REST list of 20", f"≥ 40% of the ceiling, p99 ≤ {p99_limit} ms",
                    f"{pct('rest_list'):.0f}%, p99 {sc['rest_list']['p99_ms']:.2f} ms",
                    pct("rest_list") >= 40 and sc["rest_list"]["p99_ms"] <= p99_limit))
    for name, what, limit in (("rest_slug", "REST one by slug", 50), ("graphql_list", "GraphQL list with references", 25),
                              ("site_article", "site article page", 15)):
        if pct(name) is not None:
            out.append((what, f"≥ {limit}% of the ceiling", f"{pct(name):.0f}%", pct(name) >= limit))
    if pct("graphql_post") is not None:
        out.append(("GraphQL list by POST, read cache on (#18)", "≥ 50% of the ceiling", f"{pct('graphql_post'):.0f}%",
                    pct("graphql_post") >= 50))
    if sc.get("create", {}).get("rps") is not None:
        limit = 1000 if result["db"] == "postgres" else 500
        out.append(("creating entries", f"≥ {limit:,}/s", f"{sc['create']['rps']:,.0f}/s", sc["create"]["rps"] >= limit))
    rss = result.get("rss_mb", {})
    if rss.get("api_idle") is not None and meta["size"] == "default":
        out.append(("memory idle, demo data", "≤ 30 MB", f"{rss['api_idle']} MB", rss["api_idle"] <= 30))
    if rss.get("api_after_load") is not None:
        out.append(("memory after load", "≤ 100 MB", f"{rss['api_after_load']} MB", rss["api_after_load"] <= 100))
    if result.get("startup_ms") and result["db"] == "sqlite":
        best = result["startup_ms"]["median"]
        out.append(("start-up on SQLite, existing data (median)", "≤ 300 ms", f"{best:.0f} ms", best <= 300))
    return out


def markdown(result, meta):
    sc = result.get("scenarios", {})
    ceiling = sc.get("ceiling", {}).get("rps")
    seeding = result.get("seeding", {})
    lines = [
        f"## {result['db']}: {meta['size']} ({meta['tenants']} tenants × {meta['entries_per_tenant']:,} entries), "
        f"{meta['build']} build",
        "",
        f"{meta['date']} · commit `{meta['commit'][:12]}` · {meta['machine']['nproc']} CPUs ({meta['machine']['cpu']}), "
        f"{meta['machine']['memory_gb']} GB · wrk -t{min(2, meta['connections'])} -c{meta['connections']} "
        f"-d{meta['duration_s']}s, on the same machine"
        + (f" · settings: {' '.join(meta['settings'])}" if meta["settings"] else ""),
        "",
        "| scenario | req/s | % of ceiling | p50 ms | p99 ms | errors | read cache hits |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in sc.items():
        if "rps" not in r or r.get("error"):
            lines.append(f"| {name} | failed | | | | {r.get('error', '')[:80]} | |")
            continue
        pct = f"{r['rps'] / ceiling * 100:.0f}%" if ceiling else "–"
        method = " (GET)" if name == "graphql_list" else ""
        hits = f"{r['cache_hits'] / r['requests'] * 100:.0f}%" if r["requests"] else "–"
        lines.append(f"| {name}{method} | {r['rps']:,.0f} | {pct} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                     f"{r['non2xx'] + r['socket_errors']} | {hits} |")
    st = result.get("startup_ms", {})
    rss = result.get("rss_mb", {})
    lines += [
        "",
        f"- start-up (spawn to the first 200 of /readyz, 3 restarts on the seeded data): "
        f"median {fmt(st.get('median'), 0)} ms, best {fmt(st.get('best'), 0)} ms",
        f"- RSS of the API: {fmt(rss.get('api_idle'))} MB idle, {fmt(rss.get('api_after_load'))} MB after the load "
        f"(the sites: {fmt(rss.get('site_idle'))} MB, {fmt(rss.get('site_after_load'))} MB)",
        f"- seeding: {seeding.get('created', 0):,} entries in {fmt(seeding.get('seed_secs'))} s, "
        f"{fmt(seeding.get('entries_per_sec'), 0)} entries/s ({seeding.get('jobs')} writers)",
    ]
    checks = verdicts(result, meta)
    if checks:
        lines += ["", "| target (issue #7) | wanted | this run | |", "|---|---|---|---|"]
        lines += [f"| {w} | {t} | {v} | {'met' if ok else 'missed'} |" for w, t, v, ok in checks]
        if meta["build"] == "debug":
            lines += ["", "A debug build: the targets are meant for release builds."]
    if result["errors"]:
        lines += ["", "Errors:", ""] + [f"- {e}" for e in result["errors"]]
    return "\n".join(lines) + "\n"


# ---- main -----------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/run",
        description="Seed a fresh database, start cit serve and cit site, and load them with wrk. "
                    "See bench/README.md.")
    p.add_argument("--size", choices=SIZES, default="default",
                   help="tiny: 2 tenants × 200 entries; default: the 5 demo tenants × 10,000; large: 100 × 10,000 (1M)")
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--duration", type=int, default=10, metavar="SECS", help="seconds per scenario (10)")
    p.add_argument("--connections", type=int, default=32, metavar="N", help="wrk connections (32)")
    p.add_argument("--debug", action="store_true", help="use the debug build (the CI smoke run), not the release one")
    p.add_argument("--binary", metavar="PATH",
                   help="run this cit binary instead of building one (for builds side by side)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), metavar="A,B",
                   help=f"which scenarios, in this order (ceiling always runs first): {','.join(SCENARIOS)}")
    p.add_argument("--jobs", type=int, default=16, metavar="N", help="concurrent writers while seeding (16)")
    p.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", metavar="URL",
                   help=f"PostgreSQL server; the database {PG_DATABASE} on it is dropped and re-created")
    p.add_argument("--env", action="append", default=[], metavar="CIT_X=V",
                   help="a setting for cit seed-bulk, serve and site (repeatable); other CIT_* variables are ignored")
    p.add_argument("--keep", action="store_true", help="keep the data and logs (SQLite directory, cit_bench) afterwards")
    args = p.parse_args(argv)
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in names if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}: choose from {', '.join(SCENARIOS)}")
    args.scenarios = ["ceiling"] + [s for s in names if s != "ceiling"]
    if args.duration < 1 or args.connections < 1 or args.jobs < 1:
        p.error("--duration, --connections and --jobs are at least 1")
    if any("=" not in kv or not kv.startswith("CIT_") for kv in args.env):
        p.error("--env takes CIT_NAME=VALUE")
    return args


def main(argv):
    args = parse_args(argv)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    failed = False
    benches = []
    try:
        ensure_wrk()
        ensure_assets()
        binary = os.path.abspath(args.binary) if args.binary else build(args.debug)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        tenants, entries = SIZES[args.size]
        meta = {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": machine(),
            "commit": git_commit(),
            "size": args.size,
            "tenants": tenants,
            "entries_per_tenant": entries,
            "duration_s": args.duration,
            "connections": args.connections,
            "wrk_threads": min(2, args.connections),
            "build": "debug" if args.debug else "release",
            "wrk": wrk_version(),
            "settings": args.env,
        }
        os.makedirs(OUT, exist_ok=True)
        reports = []
        for db in dbs:
            bench = Bench(args, binary, db, stamp)
            benches.append(bench)
            log(f"==> {db}: {args.size} size, {tenants} tenant(s) × {entries:,} entries")
            try:
                bench.run()
            except OSError as e:  # an HTTP request of the harness itself failed
                bench.result["errors"].append(f"request failed: {e or type(e).__name__}")
                log(f"{db}: request failed: {e or type(e).__name__}")
                bench.check_servers()
            except Failed as e:
                bench.result["errors"].append(str(e))
                log(f"{db}: {e}")
                bench.check_servers()
            finally:
                PROCS.stop_all()
            result = dict(meta, **bench.result, scenario_notes={k: v[0] for k, v in SCENARIOS.items()},
                          targets=[{"what": w, "wanted": t, "this_run": v, "met": ok}
                                   for w, t, v, ok in verdicts(bench.result, meta)])
            md = markdown(bench.result, meta)
            base = os.path.join(OUT, f"{stamp}-{db}")
            with open(base + ".json", "w") as f:
                json.dump(result, f, indent=2, ensure_ascii=False)
                f.write("\n")
            with open(base + ".md", "w") as f:
                f.write(md)
            reports.append(md)
            failed |= bool(bench.result["errors"])
        print()
        print("\n".join(reports))
        print(f"written: bench/out/{stamp}-*.json and .md")
    except KeyboardInterrupt:
        log("interrupted: stopping everything this run started")
        failed = True
    except (Failed, subprocess.CalledProcessError) as e:
        log(f"failed: {e}")
        failed = True
    finally:
        PROCS.stop_all()
        for bench in benches:
            if args.keep:
                log(f"kept: {bench.dir}" + (f" and the database {PG_DATABASE}" if bench.db == "postgres" else ""))
                continue
            if bench.result["errors"]:
                log(f"{bench.db}: the logs are in {bench.logs}")
            else:
                shutil.rmtree(bench.dir, ignore_errors=True)
            if bench.db == "postgres":
                try:
                    psql(args.pg, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
                except (OSError, subprocess.CalledProcessError):
                    pass
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
