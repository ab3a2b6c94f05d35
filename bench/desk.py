#!/usr/bin/env python3
"""Median time for the desk to render its busiest pages (issue #15): the dashboard, the entry
list of a content type and the editor of one entry, as a signed-in editor sees them.

    bench/desk.py [--bin target/release/cit] [--requests 200] [--type notizia] [--tenant lecce]

Starts `cit demo` on free ports with a fresh data directory, signs in to the desk as the demo's
admin (through the login form, as a browser does), then GETs each page one request at a time
(the desk's own render time plus the API calls it makes; no concurrency, so the numbers are
latencies, not throughput) and prints the median, p90 and the best. The API's own answer to the
list is timed the same way beside it, to show what the desk adds. Standard library only.
"""
import argparse
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_demo(binary):
    data = tempfile.mkdtemp(prefix="cit-desk-bench-")
    env = dict(os.environ)
    env.update(
        CIT_DATA_DIR=data,
        CIT_LISTEN="127.0.0.1:0",
        CIT_SITE_LISTEN="127.0.0.1:0",
        CIT_DESK_LISTEN="127.0.0.1:0",
        CIT_LOG="warn",
        NO_COLOR="1",
        CIT_PASSWORD_HASHING__MEMORY_KIB="256",
        CIT_PASSWORD_HASHING__ITERATIONS="1",
    )
    proc = subprocess.Popen([binary, "demo"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    api = desk = None
    deadline = time.time() + 300
    for line in proc.stdout:
        m = re.search(r"API:\s+(http://\S+)/api/v1/", line)
        if m:
            api = m.group(1)
        m = re.search(r"desk:\s+(http://\S+?)/\s", line)
        if m:
            desk = m.group(1)
        if api and desk:
            break
        if time.time() > deadline:
            break
    if not (api and desk):
        proc.kill()
        sys.exit("bench/desk.py: cit demo did not print the API and desk addresses")
    return proc, api, desk


def answers(opener, url):
    try:
        with opener.open(url) as resp:
            resp.read()
            return resp.status == 200
    except urllib.error.HTTPError:
        return False


def timed(opener, url, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        with opener.open(url) as resp:
            resp.read()
            if resp.status != 200:
                sys.exit(f"bench/desk.py: {url} answered {resp.status}")
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[int(len(times) * 0.9) - 1], 2),
        "best_ms": round(times[0], 2),
        "requests": n,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "cit"))
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--tenant", default="lecce")
    ap.add_argument("--type", default="notizia")
    args = ap.parse_args()
    proc, api, desk = start_demo(args.bin)
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(f"{desk}/login") as resp:
            form = resp.read().decode()
        login_token = re.search(r'name="login_token" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode(
            {"email": "admin@cit.example", "password": "demo-cit-2026", "login_token": login_token, "next": "/"}
        ).encode()
        opener.open(urllib.request.Request(f"{desk}/login", data=body, method="POST")).read()
        req = urllib.request.Request(
            f"{api}/api/v1/auth/login",
            data=json.dumps({"email": "admin@cit.example", "password": "demo-cit-2026"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        token = json.load(urllib.request.urlopen(req))["access_token"]
        list_api = f"{api}/api/v1/t/{args.tenant}/entries/{args.type}?status=any&limit=20&sort=-updated_at"
        api_opener = urllib.request.build_opener()
        api_opener.addheaders = [("Authorization", f"Bearer {token}")]
        with api_opener.open(list_api) as resp:
            first = json.load(resp)["data"][0]["id"]
        pages = {
            "desk_dashboard": f"{desk}/t/{args.tenant}/",
            "desk_entry_list": f"{desk}/t/{args.tenant}/contenuti/{args.type}",
            "desk_entry": f"{desk}/t/{args.tenant}/contenuti/{args.type}/{first}",
            "desk_editor": f"{desk}/t/{args.tenant}/contenuti/{args.type}/{first}/modifica",
            "desk_media_library": f"{desk}/t/{args.tenant}/media",
        }
        result = {"binary": os.path.relpath(args.bin, ROOT)}
        for name, url in pages.items():
            if not answers(opener, url):
                result[name] = "not built yet (the page does not answer 200)"
                continue
            for _ in range(10):  # warm-up
                answers(opener, url)
            result[name] = timed(opener, url, args.requests)
        result["api_list_same_query"] = timed(api_opener, list_api, args.requests)
        print(json.dumps(result, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
