#!/usr/bin/env python3
"""Sign-in under attack: what an anonymous flood costs the server and its real users.

1. Anonymous `GET /login` flood (wrk, 64 connections): rows written to `sessions`, SQLite WAL size.
2. `POST /login` flood with a random email each time, from 254 client addresses
   (127.0.0.2 … 127.0.0.255, so that the per-address limit does not simply stop it), with
   `--connections` connections for `--seconds`: answers by status, the server's peak and final
   RSS, rows written, WAL size; meanwhile a real administrator signs in every few seconds from
   127.0.0.1 every 15 s (from a browser that signed in before, and from a new one), and a signed-in
   list page's p50/p99 is measured twice: by wrk as fast as the server answers (a saturated
   server's queue), and by four readers at a human pace (40 requests a second in all, on a
   fixed schedule: a late answer counts from when the request was due).

Uses bench.py's seeded database and release binary; talks to 127.0.0.0/8 only; stops what it
starts. Prints JSON.

  python3 bench/signin_flood.py --backend sqlite [--customers 100000] [--seconds 60] [--pin]

With --pin, the server, wrk and the readers run on CPU 0 and the flood client on CPU 1, as if
the flood came from another machine: what the flood then costs the readers is what the server
itself spends on it.
"""
import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import threading
import time
import urllib.parse

from bench import ADMIN, LIST, PORT, Browser, Database, Server, csrf, log, psql, wrk


def count_rows(db, table):
    if db.backend == "sqlite":
        out = subprocess.run(["sqlite3", db.url(), f"SELECT COUNT(*) FROM {table}"],
                             capture_output=True, text=True).stdout.strip()
    else:
        out = psql(f"SELECT COUNT(*) FROM {table}", db.run_name)
    return int(out or 0)


def wal_mib(db):
    path = db.url() + "-wal"
    return round(os.path.getsize(path) / 2**20, 1) if db.backend == "sqlite" and os.path.exists(path) else None


def timed_sign_in(browser=None):
    """Signs the administrator in (with `browser`'s cookies, e.g. its device cookie, or a new
    browser's); returns (seconds, final status). Retries after a 503 as its Retry-After says,
    as a person would."""
    browser = browser or Browser(sign_in=False)
    started = time.perf_counter()
    status = None
    for _ in range(20):
        status, page, _ = browser.request("/login")
        if status != 200:
            break
        status, _, headers = browser.post("/login", {"email": ADMIN[0], "password": ADMIN[1], "csrf_token": csrf(page)})
        if status != 503:
            break
        time.sleep(float(headers.get("retry-after", "1")))
    return time.perf_counter() - started, status


def sign_out(browser):
    browser.post("/logout", {"csrf_token": csrf(browser.get(LIST))})


async def flood_connection(n, token, cookie, deadline, statuses):
    source = f"127.0.0.{2 + n % 254}"
    reader = writer = None
    while time.time() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", PORT, local_addr=(source, 0))
            email = f"u{random.getrandbits(64):x}@flood.test"
            body = urllib.parse.urlencode({"email": email, "password": "wrong password", "csrf_token": token})
            writer.write((f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nCookie: {cookie}\r\n"
                          f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
                          f"{body}").encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=60)
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            await reader.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1
            if re.search(rb"(?i)connection: *close", head):
                writer.close()
                writer = None
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, AttributeError):
            statuses["error"] = statuses.get("error", 0) + 1
            writer = None
            await asyncio.sleep(0.05)
    if writer is not None:
        writer.close()


# With --pin: the server, wrk and the readers on this CPU; the flood client on the other, as if
# it were another machine (on one machine it otherwise takes about a core from the server).
SERVER_CPU, FLOOD_CPU = 0, 1
PIN = False


def _paced(cookie, seconds, interval, out):
    """One keep-alive connection asking for the list every `interval` seconds (on a fixed
    schedule, not after each answer, so that a slow answer does not lower the load)."""
    if PIN:
        os.sched_setaffinity(0, {SERVER_CPU})
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    latencies, errors = [], 0
    start = time.perf_counter()
    n = 0
    while True:
        due = start + n * interval
        if due - start >= seconds:
            break
        time.sleep(max(0.0, due - time.perf_counter()))
        sent = time.perf_counter()
        try:
            conn.request("GET", LIST, headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
            # From when it was due: a request held back by a slow one counts its wait too.
            latencies.append((time.perf_counter() - min(sent, due)) * 1000)
        except OSError:
            errors += 1
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        n += 1
    out.put((latencies, errors))


def paced_readers(cookie, seconds, connections=4, per_second=10):
    """People reading the list at a human pace (not as fast as the server answers): p50/p99 of
    `connections` × `per_second` requests a second, each connection in a process of its own so
    that the flood client's interpreter does not delay its clock."""
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_paced, args=(cookie, seconds, 1 / per_second, out))
             for _ in range(connections)]
    for p in procs:
        p.start()
    latencies, errors = [], 0
    for _ in procs:
        some, failed = out.get()
        latencies += some
        errors += failed
    for p in procs:
        p.join()
    latencies.sort()
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)
    return {"requests": len(latencies), "errors": errors, "rate_per_s": connections * per_second,
            "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": round(latencies[-1], 2)}


def flood(connections, seconds, token, cookie):
    statuses = {}

    async def run():
        deadline = time.time() + seconds
        await asyncio.gather(*(flood_connection(n, token, cookie, deadline, statuses) for n in range(connections)))

    asyncio.run(run())
    return statuses


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "pg"], default="sqlite")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--connections", type=int, default=256)
    ap.add_argument("--pin", action="store_true",
                    help="server, wrk and readers on CPU 0, the flood client on CPU 1")
    a = ap.parse_args()
    global PIN
    PIN = a.pin
    cpus = str(SERVER_CPU) if a.pin else None
    db = Database(a.backend, a.customers)
    db.ensure_seeded()
    db.fresh_copy()
    server = Server(db)
    if a.pin:
        # Every thread of the server (those it starts later inherit it), then this process
        # (the flood client, and the threads it starts).
        subprocess.run(["taskset", "-a", "-p", "-c", str(SERVER_CPU), str(server.proc.pid)],
                       check=True, capture_output=True)
        os.sched_setaffinity(0, {FLOOD_CPU})
    results = {"backend": a.backend, "customers": a.customers, "pinned": a.pin}
    try:
        results["rss_idle_mib"] = server.memory_mib()[0]
        # 1. Anonymous GET /login.
        sessions_before = count_rows(db, "sessions")
        wrk("/login", "", 30, cpus)
        results["anonymous_get_login"] = {"seconds": 30, "session_rows_written": count_rows(db, "sessions") - sessions_before,
                                          "wal_mib": wal_mib(db)}
        log(f"anonymous GET /login: {results['anonymous_get_login']}")

        # 2. The sign-in flood.
        known = Browser()  # signed in once: this browser has the administrator's device cookie
        sign_out(known)
        reader = Browser()  # a signed-in person reading the list
        results["signed_in_list_quiet"] = wrk(LIST, reader.cookie(), 10, cpus)
        results["signed_in_list_paced_quiet"] = paced_readers(reader.cookie(), 20)
        anon = Browser(sign_in=False)
        token = csrf(anon.get("/login"))
        before = {"sessions": count_rows(db, "sessions")}
        rss = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                rss.append(server.memory_mib()[0])
                time.sleep(0.5)

        sign_ins = {"known_browser_s": [], "new_browser_s": [], "statuses": []}

        def real_admin():
            time.sleep(5)
            while not stop.is_set():
                s, status = timed_sign_in(known)
                sign_ins["known_browser_s"].append(round(s, 3))
                sign_ins["statuses"].append(status)
                if status == 303:
                    sign_out(known)
                s, status = timed_sign_in()
                sign_ins["new_browser_s"].append(round(s, 3))
                sign_ins["statuses"].append(status)
                stop.wait(15)  # 8 attempts a minute: within one address's allowance

        list_during, paced_during = {}, {}
        measure = max(10, (a.seconds - 20) // 2)
        threads = [threading.Thread(target=sample), threading.Thread(target=real_admin),
                   threading.Thread(target=lambda: (time.sleep(10), list_during.update(
                       wrk(LIST, reader.cookie(), measure, cpus)), paced_during.update(
                       paced_readers(reader.cookie(), measure))))]
        for t in threads:
            t.start()
        statuses = flood(a.connections, a.seconds, token, anon.cookie())
        stop.set()
        for t in threads:
            t.join()
        time.sleep(5)
        results["flood"] = {
            "connections": a.connections, "seconds": a.seconds, "answers": statuses,
            "rss_peak_mib": max(rss), "rss_hwm_mib": server.memory_mib()[1], "rss_after_5s_mib": server.memory_mib()[0],
            "session_rows_written": count_rows(db, "sessions") - before["sessions"],
            "wal_mib": wal_mib(db),
            "admin_sign_in_known_browser_s": {"median": statistics.median(sign_ins["known_browser_s"]),
                                              "max": max(sign_ins["known_browser_s"])},
            "admin_sign_in_new_browser_s": {"median": statistics.median(sign_ins["new_browser_s"]),
                                            "max": max(sign_ins["new_browser_s"])},
            "admin_sign_in_statuses": sign_ins["statuses"],
            "signed_in_list_during": list_during,
            "signed_in_list_paced_during": paced_during,
        }
        log(f"flood: {results['flood']}")
    finally:
        server.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
