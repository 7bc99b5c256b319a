"""The page after "Save" while a bulk deletion runs, with nothing else loading the server: one
administrator saves a customer and opens the page the save redirects to (which shows "Saved …"),
N times, while the deletion of the Acme customers (a tenth of them) runs. Idle otherwise, the
worker deletes at full speed, in batches of DELETION_BATCH_SIZE that hold SQLite's write lock.
Prints the save's and the next page's median, p90 and worst, in ms, and the same without a
deletion for comparison.

  DESK_BIN=… python3 bench/after_save.py --backend sqlite --customers 1000000 [--n 200]
"""
import argparse
import re
import statistics
import time

import bench

FIELD = re.compile(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"')


def times(browser, ids, n):
    save, after = [], []
    for i in range(n):
        cid = ids[i % len(ids)]
        status, form, _ = browser.request(f"/people/customers/{cid}/edit")
        if status != 200:
            continue
        fields = dict(FIELD.findall(form))
        fields["job_title"] = f"Benchmarked {i}"
        started = time.perf_counter()
        status, _, headers = browser.post(f"/people/customers/{cid}/edit", fields)
        save.append((time.perf_counter() - started) * 1000)
        assert status == 303, status
        started = time.perf_counter()
        status, page, _ = browser.request(headers["location"])
        after.append((time.perf_counter() - started) * 1000)
        assert status == 200 and "Saved" in page, status
    return save, after


def summary(label, values):
    values = sorted(values)
    p90 = values[int(len(values) * 0.9) - 1]
    print(f"{label:42} n={len(values):4} median {statistics.median(values):7.1f}  p90 {p90:7.1f}  worst {values[-1]:7.1f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["sqlite", "pg"], required=True)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--n", type=int, default=200)
    a = p.parse_args()
    db = bench.Database(a.backend, a.customers)
    db.ensure_seeded()
    db.fresh_copy()
    server = bench.Server(db)
    try:
        admin = bench.Browser()
        editor = bench.Browser()
        page = editor.get(bench.LIST + "?q=smith")
        ids = [int(i) for i in re.findall(r'name="ids" value="(\d+)"', page)]
        quiet = times(editor, ids, a.n)
        _, _, _, confirmation = bench.select_all_acme(admin)
        fields = {name: bench.hidden(confirmation, name) for name in bench.CONFIRMATION_FIELDS}
        fields["understood"] = "yes"
        status, _, _ = admin.post("/people/customers/selection/delete", fields)
        assert status == 303, status
        during = times(editor, ids, a.n)
        summary("save, no deletion", quiet[0])
        summary("the page after it, no deletion", quiet[1])
        summary("save, during the deletion", during[0])
        summary("the page after it, during the deletion", during[1])
    finally:
        server.stop()


if __name__ == "__main__":
    main()
