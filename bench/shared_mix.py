#!/usr/bin/env python3
"""Issue 16's mix against Django admin: the part both have (list pages with searches, sorts and
deep pages; the customer's page and edit form; edit saves: bench/shared_mix.lua), 50 connections,
--duration seconds, Customer Desk and the Django admin peer alternated --rounds times in one
session, each on a fresh copy of its seeded database. Medians and the ratio.

  python3 bench/shared_mix.py --backend sqlite --customers 100000 [--rounds 3] \
      --django-seed /tmp/djbench/seed100k.sqlite3      # or, with --backend pg, djbench_seed

Customer Desk's side reuses bench/mixed.py (files under /tmp/perfbench); the Django side is
../shared/bench/django-admin (its README seeds it; gunicorn with 2 sync workers, as its own bench).
"""
import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import mixed  # noqa: E402


def django_module(directory):
    spec = importlib.util.spec_from_file_location("django_bench", os.path.join(directory, "bench.py"))
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, directory)
    spec.loader.exec_module(module)
    return module


def wrk(base, args, duration, connections, memory):
    """The shared mix for `duration` seconds; the peak of `memory()` (MiB) sampled each second."""
    peak, stop = [0.0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], memory())
            stop.wait(1)
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency",
                              "-s", os.path.join(HERE, "shared_mix.lua"), base, "--"] + args,
                             check=True, capture_output=True, text=True).stdout
    finally:
        stop.set()
        sampler.join()
    result = mixed.parse_wrk(out)
    result["rss_peak_mib"] = round(peak[0], 1)
    return result


def desk_round(db, a):
    db.fresh_copy()
    server = bench.Server(db)
    try:
        browser = bench.Browser()
        page = browser.get(bench.LIST)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        for path in ["", "?sort=created", "?q=a", "?q=acme"]:
            browser.get(bench.LIST + path)
        return wrk(bench.BASE, ["desk", str(a.customers), browser.cookie(), token], a.duration, a.connections,
                   lambda: server.memory_mib()[0])
    finally:
        server.stop()


def django_round(dj, a):
    backend = dj.Backend(a.backend, a.django_seed)
    backend.fresh_copy()
    server = dj.Server(backend)
    try:
        session = dj.login()
        cookie = f"sessionid={session.cookies['sessionid']}; csrftoken={session.cookies['csrftoken']}"
        for path in ["", "?o=4", "?q=a", "?q=acme"]:
            session.get(dj.BASE + "/admin/people/customer/" + path)
        return wrk(dj.BASE, ["django", str(a.customers), cookie, session.cookies["csrftoken"]], a.duration,
                   a.connections, lambda: sum(rss for rss, _ in server.mem().values()))
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["sqlite", "pg"], required=True)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=60)
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--pg-seed", help="seeded PostgreSQL database to copy (read-only), e.g. deskbench_seed_100000")
    p.add_argument("--django-dir", default=os.path.join(HERE, "..", "..", "shared", "bench", "django-admin"))
    p.add_argument("--django-seed", required=True, help="the Django peer's seeded SQLite file or PostgreSQL database")
    a = p.parse_args()
    dj = django_module(os.path.abspath(a.django_dir))
    db = mixed.Database(a.backend, a.customers, a.pg_seed)
    db.ensure_seeded()
    runs = []
    for _ in range(a.rounds):
        runs.append({"desk": desk_round(db, a), "django": django_round(dj, a)})
        print(json.dumps(runs[-1]), file=sys.stderr)

    def med(side, key):
        return statistics.median(run[side][key] for run in runs)
    summary = {"backend": a.backend, "customers": a.customers, "rounds": a.rounds, "duration_s": a.duration,
               "connections": a.connections,
               **{side: {key: med(side, key) for key in ("rps", "p50_ms", "p99_ms", "errors", "rss_peak_mib")}
                  for side in ("desk", "django")},
               "runs": runs}
    summary["throughput_ratio"] = round(summary["desk"]["rps"] / summary["django"]["rps"], 1)
    with open(f"{bench.WORK}/shared_mix_{a.backend}_{a.customers}.json", "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=1))


if __name__ == "__main__":
    main()
