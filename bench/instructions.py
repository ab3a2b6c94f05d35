#!/usr/bin/env python3
"""Instructions per request, counted by valgrind's callgrind: a measure that does not move with
the load on a shared machine, for comparing two builds of cit side by side (bench/README.md).

    bench/instructions.py --binary old=/path/to/old/cit --binary new=target/release/cit

For each binary: a fresh SQLite data directory seeded by its own `cit seed-bulk` (2 tenants ×
200 entries), then for each case and each request count in (0, N): `cit serve` under callgrind,
every path of the case asked once (warm-up: caches filled, lazy statics built), then N requests
over one keep-alive connection, then SIGTERM. The instructions of the N requests are the total of
that run less the total of the run with none; divided by N they are the instructions of one
request. Background work (timers, the scheduler) adds a little that scales with wall time, so the
figure carries a few per cent of noise; the difference between builds is what to read.

Cases: `ceiling` (GET /healthz), `rest_list`, `rest_slug`, `graphql_list` (the bench/run
scenarios), each with the read cache on and off (CIT_CACHE__ENABLED=false).
Needs valgrind (Debian's package; installed when missing and running as root).
"""
import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

LIST_QUERY = "limit=20&filter%5Bauthor_name%5D%5Beq%5D=Redazione%20CIT&sort=-published_at"
GRAPHQL_QUERY = (
    "{ notiziaList(first: 20) { nodes { title slug publishedAt argomenti { title } "
    "relatedServices { title office { title } argomenti { title } } } } }"
)
TENANTS = ["lecce", "genova"]


def log(msg):
    print(f"instructions: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    if conn is None:
        c.close()
    return r.status, body


def slugs(port):
    import json
    out = []
    for t in TENANTS:
        status, body = get(port, f"/api/v1/t/{t}/entries/notizia?limit=10&fields=slug")
        if status != 200:
            raise SystemExit(f"instructions: listing {t} answered {status}")
        out += [(t, e["slug"]) for e in json.loads(body)["data"]]
    return out


def cases(port):
    gql = urllib.parse.quote(GRAPHQL_QUERY)
    return {
        "ceiling": ["/healthz"],
        "rest_list": [f"/api/v1/t/{t}/entries/notizia?{LIST_QUERY}" for t in TENANTS],
        "rest_slug": [f"/api/v1/t/{t}/entries/notizia/{s}" for t, s in slugs(port)],
        "graphql_list": [f"/api/v1/t/{t}/graphql?query={gql}" for t in TENANTS],
    }


def wait_ready(port, proc, secs=120):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"instructions: cit serve exited ({proc.returncode})")
        try:
            if get(port, "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("instructions: cit serve did not get ready")


def total_ir(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"(?:summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(1))
    raise SystemExit(f"instructions: no total in {path}")


def run(binary, env, paths, n, workdir, tag):
    port = free_port()
    out = os.path.join(workdir, f"callgrind.{tag}.{n}.out")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--vgdb=no", f"--callgrind-out-file={out}", binary, "serve"],
        env=dict(env, CIT_LISTEN=f"127.0.0.1:{port}"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for p in paths:
            status, _ = get(port, p, conn)
            if status != 200:
                raise SystemExit(f"instructions: {p} answered {status}")
        for i in range(n):
            get(port, paths[i % len(paths)], conn)
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=300)
    return total_ir(out)


def seed(binary, env):
    p = subprocess.run([binary, "seed-bulk", "--tenants", "2", "--entries", "200", "--jobs", "4"],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"instructions: seed-bulk failed:\n{p.stderr[-2000:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", action="append", required=True, metavar="LABEL=PATH")
    ap.add_argument("--requests", type=int, default=2000, metavar="N",
                    help="requests per case with the read cache on (2000)")
    ap.add_argument("--requests-uncached", type=int, default=200, metavar="N",
                    help="requests per case with the read cache off (200)")
    ap.add_argument("--cases", default="ceiling,rest_list,rest_slug,graphql_list")
    ap.add_argument("--keep", action="store_true", help="keep the data and the callgrind files (for callgrind_annotate)")
    ap.add_argument("--cache", choices=["on", "off", "both"], default="both", help="read cache on, off or both (both)")
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        if os.geteuid() != 0:
            raise SystemExit("instructions: valgrind is needed (apt-get install valgrind)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=True)
    binaries = [b.split("=", 1) for b in args.binary]
    wanted = args.cases.split(",")
    results = {}
    for label, binary in binaries:
        binary = os.path.abspath(binary)
        workdir = tempfile.mkdtemp(prefix=f"cit-instr-{label}-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIT_")}
        # Set, so that the server does not start itself again (main.rs) out of valgrind's sight.
        env.update({"CIT_DATA_DIR": os.path.join(workdir, "data"), "CIT_LOG": "warn", "MALLOC_ARENA_MAX": "2"})
        log(f"{label}: seeding {workdir}")
        seed(binary, env)
        # The paths are read once, from a plain run of this binary.
        port = free_port()
        plain = subprocess.Popen([binary, "serve"], env=dict(env, CIT_LISTEN=f"127.0.0.1:{port}"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(port, plain)
            all_cases = cases(port)
        finally:
            plain.send_signal(signal.SIGTERM)
            plain.wait(timeout=60)
        for cache in [c for c in ("on", "off") if args.cache in (c, "both")]:
            case_env = dict(env, CIT_CACHE__ENABLED="true" if cache == "on" else "false")
            for name in wanted:
                if name == "ceiling" and cache == "off":
                    continue
                tag = f"{name}.{cache}"
                n = args.requests if cache == "on" else args.requests_uncached
                base = run(binary, case_env, all_cases[name], 0, workdir, tag)
                loaded = run(binary, case_env, all_cases[name], n, workdir, tag)
                per = (loaded - base) / n
                results[(label, name, cache)] = per
                log(f"{label} {name} cache {cache}: {per:,.0f} instructions a request")
        if args.keep:
            log(f"{label}: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    labels = [label for label, _ in binaries]
    print("| case | read cache | " + " | ".join(labels) + (" | change |" if len(labels) == 2 else ""))
    print("|---|---|" + "---:|" * len(labels) + ("---:|" if len(labels) == 2 else ""))
    for cache in ("on", "off"):
        for name in wanted:
            if (labels[0], name, cache) not in results:
                continue
            row = [results[(label, name, cache)] for label in labels]
            cells = " | ".join(f"{v:,.0f}" for v in row)
            change = f" | {(row[1] - row[0]) / row[0] * 100:+.1f}% |" if len(row) == 2 else ""
            print(f"| {name} | {cache} | {cells}{change}")


if __name__ == "__main__":
    main()
