#!/usr/bin/env python3
"""SQL statements per request, read off the server's own counter (`cit_db_statements_total` on
/metrics, every statement of every pool): the cost of the uncached path that does not move with
the load on a shared machine, kept here so that a regression is visible (bench/README.md).

    bench/statements.py [--binary target/release/cit] [--db sqlite|postgres|both] [--cache off|on]

For each database: a fresh one seeded by `cit seed-bulk` (2 tenants × 200 entries), a write token
of lecce, `cit serve` with the read cache off (the default here: a cached answer runs none), then
for each case every path once (warm-up), N requests one after another, and the counter before and
after. The node's own background work (the change feed, the scheduler, the outbox) runs
statements too: its rate is measured while the server is idle and taken off, so a figure can be
a tenth off. Exits 1 when a request did not answer as expected.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (GRAPHQL_QUERY, LIST_QUERY, PROCS, ROOT, Failed, ensure_postgres,  # noqa: E402
                     free_port, psql, wait_ready)
import http.client  # noqa: E402

PG_DATABASE = "cit_bench_statements"
TENANT = "lecce"

# name: (what it is, method)
CASES = {
    "ceiling": "GET /healthz (runs none: the check of the method)",
    "tenant": f"GET /api/v1/t/{TENANT}: the tenant's profile",
    "content_type": f"GET /api/v1/t/{TENANT}/content-types/notizia",
    "rest_list": "GET …/entries/notizia, 20 a page, filtered and sorted (bench/run's rest_list)",
    "rest_slug": "GET …/entries/notizia/{slug}, over 10 slugs",
    "drafts": "GET …/entries/notizia?status=draft, 20 a page, with the editor token",
    "graphql_list": "GET …/graphql?query=: 20 notizia with references (bench/run's graphql_list)",
    "graphql_post": "POST …/graphql: the same query in a JSON body",
    "create": "POST …/entries/notizia: a new draft, with the write token",
    "update": "PATCH …/entries/notizia/{id}: a new revision of a draft, with the write token",
}


def log(msg):
    print(f"statements: {msg}", file=sys.stderr, flush=True)


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        h = dict(headers or {})
        if data is not None:
            h["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        return r.status, r.read()

    def statements(self):
        status, body = self.call("GET", "/metrics")
        if status != 200:
            raise Failed(f"/metrics answered {status}")
        for line in body.decode().splitlines():
            if line.startswith("cit_db_statements_total "):
                return int(line.split()[1])
        raise Failed("/metrics has no cit_db_statements_total (a build older than this script?)")


def requests(client, token, case):
    """A function of the request number that makes one request of the case and checks it."""
    auth = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/t/{TENANT}"
    if case == "ceiling":
        return lambda i: ("GET", "/healthz", None, {}, 200)
    if case == "tenant":
        return lambda i: ("GET", base, None, {}, 200)
    if case == "content_type":
        return lambda i: ("GET", f"{base}/content-types/notizia", None, {}, 200)
    if case == "rest_list":
        return lambda i: ("GET", f"{base}/entries/notizia?{LIST_QUERY}", None, {}, 200)
    if case == "rest_slug":
        _, body = client.call("GET", f"{base}/entries/notizia?limit=10&fields=slug")
        slugs = [e["slug"] for e in json.loads(body)["data"]]
        return lambda i: ("GET", f"{base}/entries/notizia/{slugs[i % len(slugs)]}", None, {}, 200)
    if case == "drafts":
        return lambda i: ("GET", f"{base}/entries/notizia?status=draft&limit=20", None, auth, 200)
    if case == "graphql_list":
        return lambda i: ("GET", f"{base}/graphql?query={urllib.parse.quote(GRAPHQL_QUERY)}", None, {}, 200)
    if case == "graphql_post":
        return lambda i: ("POST", f"{base}/graphql", {"query": GRAPHQL_QUERY}, {}, 200)
    if case == "create":
        stamp = time.time_ns()
        return lambda i: ("POST", f"{base}/entries/notizia",
                          {"data": {"title": f"Bozza {stamp} {i}", "summary": "Una bozza del conteggio.",
                                    "body": f"Testo numero **{i}**."}}, auth, 201)
    if case == "update":
        status, body = client.call("POST", f"{base}/entries/notizia",
                                   {"data": {"title": f"Da cambiare {time.time_ns()}"}}, auth)
        if status != 201:
            raise Failed(f"creating the entry to update answered {status}: {body[:300]!r}")
        entry = json.loads(body)
        state = {"revision": entry["revision"]}

        def update(i):
            return ("PATCH", f"{base}/entries/notizia/{entry['id']}",
                    {"revision": state["revision"], "data": {"summary": f"Revisione {i}"}}, auth, 200)
        update.after = lambda answer: state.update(revision=json.loads(answer)["revision"])
        return update
    raise Failed(f"unknown case {case}")


def measure(client, token, case, n, idle_rate):
    make = requests(client, token, case)
    after = getattr(make, "after", None)

    def one(i):
        method, path, body, headers, want = make(i)
        status, answer = client.call(method, path, body, headers)
        if status != want:
            raise Failed(f"{case}: {method} {path} answered {status}, not {want}: {answer[:300]!r}")
        if after:
            after(answer)

    one(0)  # warm-up: lazy statics, prepared statements, the compiled schema
    before = client.statements()
    start = time.monotonic()
    for i in range(1, n + 1):
        one(i)
    secs = time.monotonic() - start
    # The /metrics call after the requests runs none itself.
    total = client.statements() - before
    return max(0.0, (total - idle_rate * secs) / n)


def idle_rate(client, secs=3.0):
    before = client.statements()
    time.sleep(secs)
    return (client.statements() - before) / secs


def run_db(args, db):
    work = tempfile.mkdtemp(prefix=f"cit-statements-{db}-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIT_")}
    env.update({"CIT_DATA_DIR": os.path.join(work, "data"), "CIT_LOG": "warn"})
    if db == "postgres":
        ensure_postgres()
        psql(args.pg, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)", f"CREATE DATABASE {PG_DATABASE}")
        env["CIT_DATABASE_URL"] = f"{args.pg}/{PG_DATABASE}"
    if args.cache == "off":
        env["CIT_CACHE__ENABLED"] = "false"
    try:
        log(f"{db}: seed-bulk --tenants 2 --entries 200")
        seeded = subprocess.run([args.binary, "seed-bulk", "--tenants", "2", "--entries", "200", "--jobs", "2"],
                                env=env, cwd=ROOT, capture_output=True, text=True)
        if seeded.returncode != 0:
            raise Failed(f"seed-bulk failed:\n{seeded.stderr[-2000:]}")
        made = subprocess.run([args.binary, "token", "create", "--tenant", TENANT, "--name", "statements",
                               "--scopes", "read,preview,write"], env=env, cwd=ROOT, capture_output=True, text=True)
        if made.returncode != 0:
            raise Failed(f"token create failed:\n{made.stderr[-2000:]}")
        token = made.stdout.strip()
        port = free_port()
        server = PROCS.start([args.binary, "serve"], dict(env, CIT_LISTEN=f"127.0.0.1:{port}"),
                             os.path.join(work, "serve.log"))
        wait_ready(server, port, "/readyz")
        client = Client(port)
        time.sleep(1.0)  # start-up work (indexing, the first scheduler tick) out of the way
        rate = idle_rate(client)
        log(f"{db}: {rate:.1f} statements/s of background work while idle")
        out = {}
        for case in args.cases:
            out[case] = measure(client, token, case, args.requests, rate)
            log(f"{db}: {case}: {out[case]:.1f}")
        PROCS.stop(server)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cit"))
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--pg", default=os.environ.get("CIT_BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    ap.add_argument("--cache", choices=["off", "on"], default="off")
    ap.add_argument("--requests", type=int, default=100, metavar="N", help="requests per case (100)")
    ap.add_argument("--cases", default=",".join(CASES), type=lambda s: s.split(","))
    args = ap.parse_args()
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        ap.error(f"unknown cases: {', '.join(unknown)} (known: {', '.join(CASES)})")
    if not os.path.exists(args.binary):
        ap.error(f"{args.binary} does not exist: cargo build --release -p cit")
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    try:
        results = {db: run_db(args, db) for db in dbs}
    except Failed as e:
        log(str(e))
        return 1
    finally:
        PROCS.stop_all()
    print(f"| case (read cache {args.cache}) | " + " | ".join(f"{db} statements/request" for db in dbs) + " |")
    print("|---|" + "---:|" * len(dbs))
    for case in args.cases:
        print(f"| {case}: {CASES[case]} | " + " | ".join(f"{results[db][case]:.1f}" for db in dbs) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
