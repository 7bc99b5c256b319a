#!/usr/bin/env python3
"""The exact bulk confirmation at size: how long the confirmation of "All (N)" takes to show
(counts, SHA-256 digest of the ordered ids, names) and how long its submit takes to freeze and
compare the set, against the same reads as plain SQL (ids in order, hashed by the client, and the
counts) in the same session. Uses bench.py's seeded databases and release binary; talks to
127.0.0.1 only.

  python3 bench/confirmation.py --backend sqlite --customers 1000000 [--rounds 5]

Prints JSON; figures go to docs/performance.md.
"""
import argparse
import hashlib
import json
import re
import statistics
import subprocess
import time

from bench import LIST, Browser, Database, Server, csrf, hidden, log, psql, CONFIRMATION_FIELDS

# What goes with each customer is kept on it (migration 2026-12-03-000001_kept_related_counts).
COUNTS_SQL = ("SELECT COUNT(*), SUM(ticket_count), SUM(trashed_ticket_count), SUM(chat_count), SUM(note_count) "
              "FROM customers c {where}")


def select_all(browser, q):
    path = LIST + (f"?q={q}" if q else "")
    page = browser.get(path)
    ids = ",".join(re.findall(r'name="ids" value="(\d+)"', page))
    status, _, _ = browser.post("/people/customers/selection", {
        "csrf_token": csrf(page), "q": q, "return_to": "?" + (f"q={q}" if q else ""), "page_ids": ids,
        "action": "all"})
    assert status == 303, status


def timed_confirmation(browser):
    started = time.perf_counter()
    status, page, _ = browser.request("/people/customers/selection/delete")
    assert status == 200, status
    return (time.perf_counter() - started) * 1000, page


def plain_sql_ms(db, where):
    """The confirmation's reads as plain SQL through the command-line client: the ids in order
    (hashed here, as the app does) and the counts."""
    started = time.perf_counter()
    if db.backend == "sqlite":
        ids = subprocess.run(["sqlite3", db.url(), f"SELECT id FROM customers c {where} ORDER BY id"],
                             check=True, capture_output=True, text=True).stdout.split()
        subprocess.run(["sqlite3", db.url(), COUNTS_SQL.format(where=where)], check=True, capture_output=True)
    else:
        ids = psql(f"SELECT id FROM customers c {where} ORDER BY id", db.run_name).split()
        psql(COUNTS_SQL.format(where=where), db.run_name)
    digest = hashlib.sha256()
    for id_ in ids:
        digest.update(int(id_).to_bytes(8, "big", signed=True))
    digest.hexdigest()
    return (time.perf_counter() - started) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "pg"], default="sqlite")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", choices=["all", "acme"], help="only the confirmation of everyone, or of the Acme search")
    a = ap.parse_args()
    db = Database(a.backend, a.customers)
    db.ensure_seeded()
    results = {"backend": a.backend, "customers": a.customers}
    for label, q, where in (("all", "", ""), ("acme", "Acme", "WHERE organisation = 'Acme'")):
        if a.only and a.only != label:
            continue
        db.fresh_copy()
        server = Server(db)
        try:
            browser = Browser()
            select_all(browser, q)
            shows = []
            for _ in range(a.rounds):
                ms, page = timed_confirmation(browser)
                shows.append(ms)
            count = int(hidden(page, "count"))
            log(f"{label}: confirmation of {count} customers {[round(x) for x in shows]} ms")
        finally:
            server.stop()
        sql = [plain_sql_ms(db, where) for _ in range(a.rounds)]
        log(f"{label}: plain SQL {[round(x) for x in sql]} ms")
        submits = []
        for _ in range(max(1, a.rounds // 2)):
            db.fresh_copy()
            server = Server(db)
            try:
                browser = Browser()
                select_all(browser, q)
                _, page = timed_confirmation(browser)
                fields = {name: hidden(page, name) for name in CONFIRMATION_FIELDS}
                fields["understood"] = "yes"
                started = time.perf_counter()
                status, _, _ = browser.post("/people/customers/selection/delete", fields)
                submits.append((time.perf_counter() - started) * 1000)
                assert status == 303, status
            finally:
                server.stop()
        log(f"{label}: submit (freeze and compare) {[round(x) for x in submits]} ms")
        results[label] = {
            "customers": count,
            "confirmation_ms": round(statistics.median(shows), 1),
            "plain_sql_ms": round(statistics.median(sql), 1),
            "ratio": round(statistics.median(shows) / statistics.median(sql), 2),
            "submit_ms": round(statistics.median(submits), 1),
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
