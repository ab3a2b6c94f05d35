#!/usr/bin/env python3
"""Moving a big tenant: `cit tenant export` and `cit tenant import`, timed and measured.

For each size, a fresh SQLite instance is seeded with `cit seed-bulk --tenants 1 --entries N`
(lecce gets N entries; the other demo partners keep their demo content), lecce is exported, and
the archive is imported into a fresh SQLite instance and, with --db both or postgres, into a
fresh PostgreSQL database. Each command runs under `/usr/bin/time -v`: its wall time and its
peak resident memory (the kernel's high-water mark for the process) are reported, with entries
per second. Memory that stays bounded shows as a peak that does not grow with N (compare the
sizes of one run).

    python3 bench/tenant_move.py --bin target/release/cit                  # 10,000 and 100,000
    python3 bench/tenant_move.py --bin target/release/cit --sizes 2000 --db sqlite   # a smoke run
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def run_timed(cmd, env, label):
    """Runs cmd under /usr/bin/time -v; returns (seconds, peak RSS in MB, stdout)."""
    started = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"{label} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-4000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    rss = int(m.group(1)) / 1024 if m else float("nan")
    return seconds, rss, proc.stdout


def psql(sql):
    subprocess.run(["psql", PG_ADMIN, "-q", "-c", sql], check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/cit")
    ap.add_argument("--sizes", default="10000,100000", help="entries of lecce, comma-separated")
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both", help="where the import goes")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    if not os.path.exists(binary):
        sys.exit(f"{binary} does not exist: cargo build --release -p cit")
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        work = tempfile.mkdtemp(prefix=f"cit-move-{size}-")
        try:
            base = {k: v for k, v in os.environ.items() if not k.startswith("CIT_")}
            src = dict(base, CIT_DATA_DIR=os.path.join(work, "from"), CIT_LOG="warn")
            print(f"[{size}] seeding lecce with {size} entries…", file=sys.stderr, flush=True)
            started = time.monotonic()
            subprocess.run([binary, "seed-bulk", "--tenants", "1", "--entries", str(size)], env=src, check=True,
                           capture_output=True)
            print(f"[{size}] seeded in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
            archive = os.path.join(work, "lecce.tar.gz")
            secs, rss, out = run_timed([binary, "tenant", "export", "lecce", "--out", archive], src, "export")
            m = re.search(r": (\d+) rows \((\d+) entries, (\d+) revisions", out)
            total_rows, entries, revisions = (int(m.group(i)) for i in (1, 2, 3))
            size_mb = os.path.getsize(archive) / 1e6
            rows.append(dict(size=size, op="export (SQLite)", secs=secs, rss=rss, entries=entries,
                             rows=total_rows, revisions=revisions, archive_mb=size_mb))
            targets = []
            if args.db in ("sqlite", "both"):
                targets.append(("SQLite", dict(base, CIT_DATA_DIR=os.path.join(work, "to-sqlite"), CIT_LOG="warn")))
            if args.db in ("postgres", "both"):
                name = f"cit_bench_move_{size}"
                psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                psql(f"CREATE DATABASE {name}")
                targets.append(("PostgreSQL", dict(base, CIT_DATA_DIR=os.path.join(work, "to-pg"), CIT_LOG="warn",
                                                   CIT_DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}")))
            for label, env in targets:
                print(f"[{size}] importing into {label}…", file=sys.stderr, flush=True)
                secs, rss, _ = run_timed([binary, "tenant", "import", archive], env, f"import into {label}")
                rows.append(dict(size=size, op=f"import ({label})", secs=secs, rss=rss, entries=entries,
                                 rows=total_rows, revisions=revisions, archive_mb=size_mb))
            if args.db in ("postgres", "both"):
                psql(f"DROP DATABASE IF EXISTS cit_bench_move_{size} WITH (FORCE)")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print("| lecce's entries | operation | rows (entries, revisions) | archive MB | wall s | entries/s | rows/s | peak RSS MB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['size']:,} | {r['op']} | {r['rows']:,} ({r['entries']:,}, {r['revisions']:,}) | {r['archive_mb']:.1f} | "
              f"{r['secs']:.1f} | {r['entries'] / r['secs']:,.0f} | {r['rows'] / r['secs']:,.0f} | {r['rss']:.1f} |")
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
