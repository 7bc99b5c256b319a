#!/usr/bin/env python3
"""What a selection of many picked customers costs each page: one administrator picks random
customers in lots of 100 (`POST /people/customers/selection`, as the mix's ticks do), and after
0, 100, 1,000, 5,000 and 10,000 picked, page 1 and a profile page (which shows no counter) are
timed unloaded (median of 20). The counter looks every picked id up on each page view.

  python3 bench/picked.py --backend sqlite --customers 1000000 [--pg-seed deskbench_seed_1000000]

Reuses mixed.py's databases (a fresh copy of the seed, under /tmp/perfbench or perfbench_*).
"""
import argparse
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import mixed  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["sqlite", "pg"], required=True)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--pg-seed")
    a = p.parse_args()
    db = mixed.Database(a.backend, a.customers, a.pg_seed)
    db.ensure_seeded()
    db.fresh_copy()
    server = bench.Server(db)
    results = {}
    try:
        browser = bench.Browser()
        page = browser.get(bench.LIST)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        random.seed(1)
        picked = 0
        for target in [0, 100, 1_000, 5_000, 10_000]:
            while picked < target:
                ids = [str(random.randrange(1, a.customers)) for _ in range(100)]
                status, _, _ = browser.post("/people/customers/selection", {
                    "csrf_token": token, "action": "save", "return_to": "?", "page_ids": ",".join(ids),
                    "ids": ids})
                assert status in (200, 303), status
                picked += 100
            counter = re.search(r'class="selection-count"[^>]*>(.*?)</', browser.get(bench.LIST), re.S)
            results[target] = {"page1_ms": bench.unloaded(browser, bench.LIST),
                               "profile_ms": bench.unloaded(browser, "/people/customers/5"),
                               "counter": re.sub(r"<[^>]+>", "", counter.group(1)).strip() if counter else None}
            print(target, results[target], flush=True)
    finally:
        server.stop()
    with open(f"{bench.WORK}/picked_{a.backend}_{a.customers}.json", "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
