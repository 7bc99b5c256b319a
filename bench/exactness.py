#!/usr/bin/env python3
"""At scale, over HTTP: the kept listings of a running server, brought up to date by 120 edits,
additions and single deletions interleaved with reads, show exactly what a freshly started
server (every listing built anew) shows: 5 searches x 4 sorts x 3 pages, ids and totals. Not a
benchmark; a check of the incremental updates on a real database (the tests do it small).

  python3 bench/exactness.py sqlite|pg     # on bench.py's 100,000-customer seed (seeded if missing)

Exits 1 if any page differs, or if no edit, addition or deletion went through.
"""
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
db = bench.Database(backend, 100000)
db.ensure_seeded()
db.fresh_copy()
random.seed(7)
SEARCHES = ["", "a", "lee", "acme", "jo"]
SORTS = ["name", "-name", "created", "-created"]

def ids_of(page):
    seen = []
    for m in re.finditer(r'href="/people/customers/(\d+)"', page):
        i = int(m.group(1))
        if i not in seen:
            seen.append(i)
    return seen

def total_of(page):
    m = re.search(r'of ([\d,]+)', page)
    return m.group(1) if m else None

def snapshot(b):
    out = {}
    for q in SEARCHES:
        for s in SORTS:
            for p in (1, 3, 40):
                page = b.get(f"/people/customers?q={q}&sort={s}&per_page=100&page={p}")
                out[(q, s, p)] = (total_of(page), ids_of(page))
    return out

server = bench.Server(db)
try:
    b = bench.Browser()
    snapshot(b)  # builds the kept listings
    lasts = ["Aaberg", "Lee", "Acme", "Zulu", "Joan", "Mmm", "Leeway", "Abba"]
    orgs = ["Acme", "Leeds Ltd", "Zeta", "Joinery", "Other"]
    edited = added = deleted = 0
    for n in range(120):
        r = random.random()
        if r < 0.6:
            cid = random.randint(1, 100000)
            page = b.get(f"/people/customers/{cid}/edit")
            if "csrf_token" not in page:
                continue
            status, _, _ = b.post(f"/people/customers/{cid}/edit", {
                "csrf_token": bench.csrf(page), "first_name": random.choice(["Jo", "Ann", "Bo"]),
                "last_name": random.choice(lasts) + str(n), "email": f"e2e{n}x{cid}@example.org",
                "organisation": random.choice(orgs)})
            edited += status == 303
        elif r < 0.8:
            page = b.get("/people/customers/new")
            status, _, _ = b.post("/people/customers/new", {
                "csrf_token": bench.csrf(page), "first_name": "New", "last_name": random.choice(lasts) + str(n),
                "email": f"new{n}@example.org", "organisation": random.choice(orgs)})
            added += status == 303
        else:
            cid = random.randint(1, 100000)
            page = b.get(f"/people/customers/{cid}/delete")
            if "Yes, permanently delete" not in page:
                continue
            fields = {k: bench.hidden(page, k) for k in ("csrf_token", "tickets", "tickets_in_trash", "chats", "notes")}
            status, _, _ = b.post(f"/people/customers/{cid}/delete", fields)
            deleted += status == 303
        # reads in between, of random listings
        for _ in range(2):
            b.get(f"/people/customers?q={random.choice(SEARCHES)}&sort={random.choice(SORTS)}&per_page=100&page={random.choice([1, 3, 40])}")
    kept = snapshot(b)
finally:
    server.stop()
server = bench.Server(db)
try:
    fresh = snapshot(bench.Browser())
finally:
    server.stop()
bad = [k for k in kept if kept[k] != fresh[k]]
print(f"edited {edited}, added {added}, deleted {deleted}; {len(kept)} pages compared; differing: {len(bad)}")
for k in bad[:5]:
    print(k, kept[k][0], fresh[k][0], kept[k][1][:10], fresh[k][1][:10])
sys.exit(1 if bad or edited == 0 or added == 0 or deleted == 0 else 0)
