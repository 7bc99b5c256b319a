#!/usr/bin/env python3
"""The mixed workload of issue 16 (bench/mixed.lua): 50 connections of list pages, profiles,
edit forms, edit saves and selection toggles for --duration seconds, --rounds times on a fresh
copy each; throughput, p50/p99, errors and the server's RSS, with beside it a 2-connection wrk on
a one-letter search (`q=a`, its p99 under the mix). With --delete, a bulk deletion of the Acme
customers (every 10th) is submitted as the mix starts. With --list-only, the mix's list pages
alone (no writes): the read-only list the mix's throughput is compared with. With --rate R, the
same connections are paced as people are: each waits a random think time (exponential, mean
connections ÷ R) before each request, so about R requests a second are offered instead of as
many as the server can answer, and the latencies are those of a server at that load rather than
of a queue of 50 kept full; the side load's two connections are paced the same way. Medians over
the rounds.

  python3 bench/mixed.py --backend sqlite --customers 100000 [--rounds 3] [--duration 60] [--delete]
                         [--list-only] [--sessions 50] [--rate 400] [--pg-seed deskbench_seed_100000]

Reuses bench.py (seeding, server, sign-in) with its files under /tmp/perfbench and PostgreSQL
databases perfbench_*; drop them when done (see bench/README.md).
"""
import argparse
import functools
import http.client
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

bench.WORK = "/tmp/perfbench"
bench.PORT = 8767
bench.BASE = f"http://127.0.0.1:{bench.PORT}"
HERE = os.path.dirname(os.path.abspath(__file__))


class Database(bench.Database):
    def __init__(self, backend, customers, pg_seed=None):
        super().__init__(backend, customers)
        # --pg-seed: another script's seeded database (bench.py's deskbench_seed_N), used only
        # as the template of each run's copy, never written.
        self.seed_name = pg_seed or f"perfbench_seed_{customers}"

    def url(self, which="run"):
        if self.backend == "sqlite":
            return self.seed_path if which == "seed" else self.run_path
        return bench.pg_url(self.seed_name if which == "seed" else "perfbench_run")

    def fresh_copy(self):
        if self.backend == "sqlite":
            return super().fresh_copy()
        bench.psql("DROP DATABASE IF EXISTS perfbench_run WITH (FORCE)")
        bench.psql(f"CREATE DATABASE perfbench_run TEMPLATE {self.seed_name}")
        bench.psql("CHECKPOINT")


class FromAddress(bench.Browser):
    """A browser signing in from another loopback address (the sign-in allowance is per address)."""

    def __init__(self, address):
        class Handler(urllib.request.HTTPHandler):
            def http_open(self, req):
                return self.do_open(functools.partial(http.client.HTTPConnection, source_address=(address, 0)), req)
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(Handler, urllib.request.HTTPCookieProcessor(self.jar), bench.NoRedirect)
        page = self.get("/login")
        self.post("/login", {"email": bench.ADMIN[0], "password": bench.ADMIN[1], "csrf_token": bench.csrf(page)})


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return round(float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": rps, "p50_ms": ms("50%"), "p99_ms": ms("99%"),
            "errors": (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket.groups())) if socket else 0)}


def one_round(db, a):
    db.fresh_copy()
    server = bench.Server(db)
    try:
        browser = bench.Browser()
        page = browser.get(bench.LIST)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        cookie = browser.cookie()
        # --sessions N: N agents signed in, each request in one of them at random (their POSTs
        # take turns per session, as one person's do).
        sessions = [(cookie, token)]
        for n in range(a.sessions - 1):
            other = FromAddress(f"127.0.0.{2 + n % 250}")
            page = other.get(bench.LIST)
            sessions.append((other.cookie(), re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)))
        # Warm: the first build of the big listings is not what the mix measures (--warm all:
        # every search of the mix in every order, as a server that has been up a while).
        paths = ["", "?sort=created", "?q=a", "?q=acme"]
        if a.warm == "all":
            paths = [f"?q={q}&sort={sort}" for q in ["", "a", "m", "an", "jo", "acme", "smith", "lee"]
                     for sort in ["name", "-name", "created", "-created"]]
        for path in paths:
            browser.get(bench.LIST + path)
        deletion = {}
        if a.delete:
            _, _, _, confirmation = bench.select_all_acme(browser)
            fields = {name: bench.hidden(confirmation, name) for name in bench.CONFIRMATION_FIELDS}
            fields["understood"] = "yes"
            started = time.perf_counter()
            status, _, headers = browser.post("/people/customers/selection/delete", fields)
            assert status == 303, status
            job = headers["location"].rsplit("/", 1)[1]

            def watch():
                while True:
                    _, body, _ = browser.request(f"/people/customers/deletions/{job}")
                    if "Deletion finished" in body:
                        deletion["seconds"] = round(time.perf_counter() - started, 1)
                        return
                    if time.perf_counter() - started > a.duration + 600:
                        return
                    time.sleep(0.5)
            threading.Thread(target=watch, daemon=True).start()
        rss = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                rss.append(server.memory_mib()[0])
                stop.wait(1)
        sampler = threading.Thread(target=sample)
        sampler.start()
        short = {}
        # --rate: every connection thinks between requests (mixed.lua's DESK_THINK_MS).
        env = dict(os.environ, DESK_THINK_MS=str(a.connections * 1000 / a.rate)) if a.rate else None

        def one_letter():
            if a.rate:
                command = ["-s", os.path.join(HERE, "mixed.lua"), bench.BASE, "--", f"{a.customers}:a", cookie, token]
            else:
                command = ["-H", f"Cookie: {cookie}", bench.BASE + bench.LIST + "?q=a"]
            out = subprocess.run(["wrk", "-t1", "-c2", f"-d{a.duration}s", "--latency"] + command,
                                 capture_output=True, text=True, env=env).stdout
            short.update(parse_wrk(out))
        side = threading.Thread(target=one_letter)
        side.start()
        out = subprocess.run(["wrk", "-t2", f"-c{a.connections}", f"-d{a.duration}s", "--timeout", "10s", "--latency",
                              "-s", os.path.join(HERE, "mixed.lua"), bench.BASE, "--",
                              f"{a.customers}{':list' if a.list_only else ''}"]
                             + [part for session in sessions for part in session],
                             check=True, capture_output=True, text=True, env=env).stdout
        side.join()
        stop.set()
        sampler.join()
        result = parse_wrk(out)
        result.update({"rss_peak_mib": max(rss), "rss_hwm_mib": server.memory_mib()[1],
                       "one_letter": short, "deletion": deletion})
        return result
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["sqlite", "pg"], required=True)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--duration", type=int, default=60)
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--delete", action="store_true")
    p.add_argument("--list-only", action="store_true",
                   help="the mix's list pages alone, no writes: the read-only list the mix is compared with")
    p.add_argument("--warm", choices=["some", "all"], default="some",
                   help="listings built before the mix: 4 (some) or the mix's 32 (all)")
    p.add_argument("--sessions", type=int, default=1, help="signed-in sessions the requests are spread over")
    p.add_argument("--rate", type=float, help="requests a second offered in all (paced connections); unset: as fast as answered")
    p.add_argument("--pg-seed", help="seeded PostgreSQL database to copy (read-only), e.g. deskbench_seed_100000")
    a = p.parse_args()
    db = Database(a.backend, a.customers, a.pg_seed)
    db.ensure_seeded()
    runs = [one_round(db, a) for _ in range(a.rounds)]
    med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    summary = {"backend": a.backend, "customers": a.customers, "delete": a.delete, "list_only": a.list_only,
               "rounds": a.rounds,
               "sessions": a.sessions, "rate": a.rate,
               "duration_s": a.duration, "rps": med("rps"), "p50_ms": med("p50_ms"), "p99_ms": med("p99_ms"),
               "errors": med("errors"), "rss_peak_mib": med("rss_peak_mib"),
               "one_letter_p99_ms": statistics.median(r["one_letter"]["p99_ms"] for r in runs), "runs": runs}
    name = (f"{bench.WORK}/mixed_{a.backend}_{a.customers}{'_delete' if a.delete else ''}"
            f"{'_list' if a.list_only else ''}"
            f"{f'_s{a.sessions}' if a.sessions > 1 else ''}{f'_r{a.rate:g}' if a.rate else ''}.json")
    with open(name, "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
