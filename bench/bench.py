#!/usr/bin/env python3
"""Customer Desk benchmark: list throughput and latency, "All (N)" and its confirmation, and the
bulk deletion (time, rows/s, peak RSS, list p99 meanwhile), against plain SQL on a copy of the
same database. Standard library only; talks to 127.0.0.1 only; every server it starts is
stopped by PID.

  python3 bench/bench.py --backend sqlite --customers 100000 [--rounds 3] [--duration 15]
  python3 bench/bench.py --backend pg --customers 100000

Results: JSON to /tmp/deskbench/results_<backend>_<customers>.json and a summary on stdout.
See bench/README.md.
"""
import argparse
import datetime
import http.cookiejar
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# DESK_BIN: another build of the binary (to compare two builds in one session), for every script.
BIN = os.environ.get("DESK_BIN", os.path.join(ROOT, "target", "release", "customer-desk"))
WORK = "/tmp/deskbench"
PORT = 8766
BASE = f"http://127.0.0.1:{PORT}"
ADMIN = ("bench@desk.example", "benchmark password")
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
LIST = "/people/customers"
PAGES = [
    ("page 1", LIST),
    ("page 1500", LIST + "?page=1500"),
    ("search Acme p1", LIST + "?q=Acme"),
    ("search Acme p100", LIST + "?q=Acme&page=100"),
    ("sort created", LIST + "?sort=created"),
]
# What the server does at all, through the same middleware (issue 16): page 1 is compared with
# these in the same rounds.
CEILING = [
    ("static file", "/static/app.css"),
    ("healthz", "/healthz"),
]


def filter_pages(customers):
    """Lists filtered by last activity (issue 13). The bench seed creates one customer a minute
    from 2020-01-01 and dates their activity soon after, so these days split it in half and at
    0.5 %."""
    start = datetime.datetime(2020, 1, 1)
    half = (start + datetime.timedelta(minutes=customers // 2)).date()
    few = (start + datetime.timedelta(minutes=customers // 200)).date()
    return [
        ("inactive half, by name", f"{LIST}?active_before={half}"),
        ("inactive half, page 100", f"{LIST}?active_before={half}&page=100"),
        ("inactive half, newest first", f"{LIST}?active_before={half}&sort=created"),
        ("inactive 0.5 %, newest first", f"{LIST}?active_before={few}&sort=created"),
        ("inactive 0.5 %, by name", f"{LIST}?active_before={few}"),
    ]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def pg_url(db):
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + db


def psql(sql, db="postgres"):
    return subprocess.run(["psql", pg_url(db), "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


class Database:
    """A seeded database of one backend and size, and fresh copies of it for each run."""

    def __init__(self, backend, customers):
        self.backend, self.customers = backend, customers
        self.seed_name = f"deskbench_seed_{customers}"
        self.seed_path = f"{WORK}/seed_{customers}.sqlite3"
        self.run_path = f"{WORK}/run.sqlite3"
        # One run database per work folder, so that two scripts can run side by side.
        self.run_name = "deskbench_run" if WORK == "/tmp/deskbench" else os.path.basename(WORK) + "_run"

    def url(self, which="run"):
        if self.backend == "sqlite":
            return self.seed_path if which == "seed" else self.run_path
        return pg_url(self.seed_name if which == "seed" else self.run_name)

    def ensure_seeded(self):
        os.makedirs(WORK, exist_ok=True)
        exists = (os.path.exists(self.seed_path) if self.backend == "sqlite"
                  else psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.seed_name}'") == "1")
        if exists:
            return None
        if self.backend == "pg":
            psql(f"CREATE DATABASE {self.seed_name}")
        log(f"seeding {self.customers} customers ({self.backend})")
        started = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-v", BIN, "seed", "--customers", str(self.customers), "--shape", "bench"],
                       env={**os.environ, "DATABASE_URL": self.url("seed"), "LOG_LEVEL": "warn"},
                       check=True, capture_output=True)
        seconds = time.perf_counter() - started
        subprocess.run([BIN, "create-user", "--email", ADMIN[0], "--password", ADMIN[1], "--role", "admin",
                        "--name", "Bench Admin"],
                       env={**os.environ, "DATABASE_URL": self.url("seed"), "LOG_LEVEL": "warn"},
                       check=True, capture_output=True)
        if self.backend == "sqlite":
            # Fold the WAL into the file so that a copy of the file is the whole database.
            subprocess.run(["sqlite3", self.seed_path, "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;"], check=True)
        else:
            psql("VACUUM ANALYZE", self.seed_name)
        return seconds

    def fresh_copy(self):
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.run_path + suffix):
                    os.remove(self.run_path + suffix)
            shutil.copyfile(self.seed_path, self.run_path)
            # Write the copy out now, or the first fsync of the run (a checkpoint) pays for it.
            os.sync()
        else:
            psql(f"DROP DATABASE IF EXISTS {self.run_name} WITH (FORCE)")
            psql(f"CREATE DATABASE {self.run_name} TEMPLATE {self.seed_name}")
            # The copy went through the WAL: checkpoint now rather than during the run.
            psql("CHECKPOINT")

    def plain_sql_delete(self):
        """The same deletion as plain SQL on a fresh copy: the physical limit."""
        self.fresh_copy()
        sql = "DELETE FROM customers WHERE organisation = 'Acme'"
        started = time.perf_counter()
        if self.backend == "sqlite":
            subprocess.run(["sqlite3", self.run_path, f"PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; "
                            f"PRAGMA synchronous = NORMAL; {sql};"], check=True, capture_output=True)
        else:
            psql(sql, self.run_name)
        return time.perf_counter() - started


class Server:
    def __init__(self, db, extra_env=None):
        env = {**os.environ, "DATABASE_URL": db.url(), "LOG_LEVEL": "warn", "SESSION_KEY": "b" * 64,
               "WORKERS": "2", **(extra_env or {})}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{PORT}"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(f"{WORK}/server.log", "a"))
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(BASE + "/healthz", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.01)
        else:
            self.stop()
            raise RuntimeError("the server did not come up")
        self.start_seconds = time.perf_counter() - self.started

    def memory_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            text = f.read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024
        hwm = int(re.search(r"VmHWM:\s+(\d+)", text).group(1)) / 1024
        return round(rss, 1), round(hwm, 1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Signed in as the benchmark administrator, like a browser without JavaScript."""

    def __init__(self, sign_in=True):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        if sign_in:
            page = self.get("/login")
            self.post("/login", {"email": ADMIN[0], "password": ADMIN[1], "csrf_token": csrf(page)})

    def request(self, path, data=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(BASE + path, data=body), timeout=600) as r:
                return r.status, r.read().decode(), {k.lower(): v for k, v in r.headers.items()}
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), {k.lower(): v for k, v in e.headers.items()}

    def get(self, path):
        return self.request(path)[1]

    def post(self, path, data):
        return self.request(path, data)

    def cookie(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def csrf(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def hidden(page, name):
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def wrk(path, cookie, seconds, cpus=None):
    pin = ["taskset", "-c", cpus] if cpus else []
    out = subprocess.run([*pin, "wrk", "-t2", "-c20", f"-d{seconds}s", "--latency", "-H", f"Cookie: {cookie}", BASE + path],
                         check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return round(float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": ms("50%"), "p99_ms": ms("99%"), "non_2xx": int(errors.group(1)) if errors else 0}


def unloaded(browser, path, n=20):
    for _ in range(3):
        browser.get(path)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        status, _, _ = browser.request(path)
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200, status
    return round(statistics.median(times), 2)


def select_all_acme(browser):
    page = browser.get(LIST + "?q=Acme")
    ids = ",".join(re.findall(r'name="ids" value="(\d+)"', page))
    started = time.perf_counter()
    status, _, _ = browser.post("/people/customers/selection", {
        "csrf_token": csrf(page), "q": "Acme", "return_to": "?q=Acme", "page_ids": ids, "action": "all"})
    select_ms = (time.perf_counter() - started) * 1000
    assert status == 303, status
    started = time.perf_counter()
    status, confirmation, _ = browser.request("/people/customers/selection/delete")
    confirm_ms = (time.perf_counter() - started) * 1000
    assert status == 200, status
    return round(select_ms, 2), round(confirm_ms, 2), len(confirmation.encode()), confirmation


# The hidden fields of the bulk confirmation: what it showed, sent back.
CONFIRMATION_FIELDS = ("csrf_token", "token", "version", "count", "digest", "tickets", "tickets_in_trash",
                       "chats", "notes")


def delete_confirmed(browser, confirmation, server, db, seconds, under_load):
    """Submits the confirmation and waits for the job's end. With `under_load`, wrk loads the
    list meanwhile (for its p99); without, the deletion has the machine to itself."""
    fields = {name: hidden(confirmation, name) for name in CONFIRMATION_FIELDS}
    fields["understood"] = "yes"
    expected = int(fields["count"])
    loaded = {}
    if under_load:
        # The list as the administrator left it (its listing built): a cold first page waits
        # for the listing of every customer (0.75 s at 1 M on PostgreSQL), and wrk's latency
        # figures over such a start break Little's law (a mean above connections / rate).
        for _ in range(3):
            browser.get(LIST)
    load = threading.Thread(target=lambda: loaded.update(wrk(LIST, browser.cookie(), seconds)))
    started = time.perf_counter()
    status, _, headers = browser.post("/people/customers/selection/delete", fields)
    assert status == 303, status
    job = headers["location"].rsplit("/", 1)[1]
    if under_load:
        load.start()
    while True:
        page = browser.get(f"/people/customers/deletions/{job}")
        if "Deletion finished" in page:
            break
        time.sleep(0.02)
    wall = time.perf_counter() - started
    if under_load:
        load.join()
    _, hwm = server.memory_mib()
    rows = expected * 27  # the bench shape: 27 rows per customer
    return {"customers": expected, "seconds": round(wall, 3), "rows_per_s": round(rows / wall),
            "peak_rss_mib": hwm, "list_during": loaded}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "pg"], default="sqlite")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--skip", default="", help="comma list of: list,delete,sql")
    ap.add_argument("--filters", action="store_true", help="also lists filtered by last activity")
    ap.add_argument("--ceiling", action="store_true",
                    help="also a static file and /healthz through the same server: what it can do at all")
    a = ap.parse_args()
    pages = PAGES + (filter_pages(a.customers) if a.filters else []) + (CEILING if a.ceiling else [])
    skip = set(filter(None, a.skip.split(",")))
    os.makedirs(WORK, exist_ok=True)
    if not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    db = Database(a.backend, a.customers)
    results = {"backend": a.backend, "customers": a.customers, "seed_seconds": db.ensure_seeded()}

    db.fresh_copy()
    server = Server(db)
    results["cold_start_s"] = round(server.start_seconds, 3)
    time.sleep(1)
    results["idle_rss_mib"] = server.memory_mib()[0]
    try:
        browser = Browser()
        if "list" not in skip:
            results["unloaded_median_ms"] = {name: unloaded(browser, path) for name, path in pages}
            rounds = {name: [] for name, _ in pages}
            for r in range(a.rounds):
                for name, path in pages:
                    rounds[name].append(wrk(path, browser.cookie(), a.duration))
                    log(f"wrk round {r + 1}: {name}: {rounds[name][-1]}")
            results["wrk_rounds"] = rounds
            results["wrk_median"] = {
                name: {k: statistics.median(x[k] for x in rs) for k in ("rps", "p50_ms", "p99_ms")}
                for name, rs in rounds.items()}
    finally:
        server.stop()

    if "delete" not in skip:
        reps = []
        # The runs that time the deletion alone, then one with the list under load.
        for rep in range(a.rounds + 1):
            under_load = rep == a.rounds
            log(f"bulk deletion {rep + 1}{' with the list under load' if under_load else ''}")
            db.fresh_copy()
            server = Server(db)
            try:
                browser = Browser()
                select_ms, confirm_ms, size, confirmation = select_all_acme(browser)
                outcome = delete_confirmed(browser, confirmation, server, db, max(5, a.duration // 3), under_load)
                outcome.update({"select_all_ms": select_ms, "confirmation_ms": confirm_ms,
                                "confirmation_bytes": size})
                reps.append(outcome)
                log(f"  {outcome}")
            finally:
                server.stop()
        results["bulk_delete_reps"] = reps
        alone = reps[:-1]
        results["bulk_delete_median"] = {
            k: statistics.median(r[k] for r in alone)
            for k in ("seconds", "rows_per_s", "peak_rss_mib", "select_all_ms", "confirmation_ms", "confirmation_bytes")}
        results["bulk_delete_under_load"] = {
            "seconds": reps[-1]["seconds"], "peak_rss_mib": reps[-1]["peak_rss_mib"],
            "list_during": reps[-1]["list_during"]}
    if "sql" not in skip:
        times = []
        for rep in range(a.rounds):
            log(f"plain SQL deletion {rep + 1}")
            times.append(db.plain_sql_delete())
            log(f"  {times[-1]:.3f} s")
        results["plain_sql_delete_s"] = round(statistics.median(times), 3)

    out = f"{WORK}/results_{a.backend}_{a.customers}.json"
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    summary = {k: v for k, v in results.items() if k not in ("wrk_rounds", "bulk_delete_reps")}
    print(json.dumps(summary, indent=2))
    log(f"written {out}")


if __name__ == "__main__":
    main()
