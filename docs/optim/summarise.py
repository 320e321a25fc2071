#!/usr/bin/env python3
"""Markdown tables of a sweep for docs/optim.md: per optimiser (mean ± sd of the test error over seeds, means of the
rest) and the correlation table(s).  usage: summarise.py SWEEP_DIR [correlation file names ...]"""
import csv, os, statistics as st, sys

d = sys.argv[1]
extra = sys.argv[2:] or ['correlation.csv']
rows = list(csv.DictReader(open(os.path.join(d, 'sweep.csv'))))
sig = [c for c in rows[0] if c.startswith('le_delta_pct_sigma')]
opts = list(dict.fromkeys(r['optimizer'] for r in rows))
def f(x, p=3): return f'{x:.{p}g}'
print('| optimizer | runs | epochs | test error % (mean ± sd) | train error % | ' + ' | '.join('δE σ=' + c[len('le_delta_pct_sigma'):] for c in sig) + ' | λ_max | tr H | train s/run |')
print('|' + '---|' * (8 + len(sig)))
for o in opts:
    rs = [r for r in rows if r['optimizer'] == o]
    te = [100 * float(r['test_error']) for r in rs]
    m = lambda k, s=1: st.mean(s * float(r[k]) for r in rs if r[k] != '')
    sd = st.stdev(te) if len(te) > 1 else float('nan')
    print(f"| {o} | {len(rs)} | {rs[0]['epochs']} | {st.mean(te):.2f} ± {sd:.2f} | {m('train_error', 100):.2f} | " +
          ' | '.join(f'{m(c):.2f}' for c in sig) + f" | {f(m('hessian_top'))} | {f(m('hessian_trace'))} | {m('train_s'):.0f} |")
for name in extra:
    p = os.path.join(d, name)
    if not os.path.exists(p): continue
    cr = list(csv.DictReader(open(p)))
    print(f'\n{name} (n = {cr[0]["n"] if cr else 0} runs)\n')
    print('| measure | Spearman ρ [95 % CI] | Kendall τ-b [95 % CI] |\n|---|---|---|')
    for meas in dict.fromkeys(r['measure'] for r in cr):
        cell = {}
        for r in cr:
            if r['measure'] == meas:
                cell[r['method']] = f"{float(r['value']):+.2f} [{float(r['lower95']):+.2f}, {float(r['upper95']):+.2f}]"
        print(f"| {meas} | {cell.get('spearman', '')} | {cell.get('kendall', '')} |")
