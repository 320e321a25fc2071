"""Mean ± s.d. over seeds of the training error (whole training set, eval mode, %) and the test error (%) per variant
and epoch budget, from a CSV written by run.sh.   usage: python3 summarise.py FILE.csv"""
import collections, csv, statistics, sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["train_error_pct"] != "FAILED"]
groups = collections.defaultdict(list)
for r in rows:
    groups[(int(r["epochs"]), r["name"])].append(r)
print("| epochs | variant | runs | training error % (mean ± sd) | per seed | test error % (mean ± sd) |")
print("|---|---|---|---|---|---|")
for (e, name), rs in sorted(groups.items()):
    rs.sort(key=lambda r: int(r["seed"]))
    tr = [float(r["train_error_pct"]) for r in rs]
    te = [100 * float(r["test_error"]) for r in rs]
    sd = lambda x: statistics.stdev(x) if len(x) > 1 else float("nan")
    print(f"| {e} | {name} | {len(rs)} | {statistics.mean(tr):.2f} ± {sd(tr):.2f} | {' '.join(f'{t:g}' for t in tr)} | "
          f"{statistics.mean(te):.2f} ± {sd(te):.2f} |")
