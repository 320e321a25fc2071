#!/usr/bin/env python3
"""Builds figures/data/deep_sweep.csv, figures/data/deep_correlation.csv and figures/data/pswa_curves.csv from
sweep directories (each DIR with sweep.csv, correlation.csv and runs/*/metrics.csv, runs/*/optim_log.csv).
usage: make_figure_data.py OUT_DIR NAME=SWEEP_DIR [NAME=SWEEP_DIR ...]
NAME=keep keeps that dataset's rows of the existing OUT_DIR files (e.g. a sweep whose run directories are gone)."""
import csv, os, sys, glob

out, pairs = sys.argv[1], [a.split('=', 1) for a in sys.argv[2:]]
os.makedirs(out, exist_ok=True)
kept = {}   # file name -> (header, rows of the kept datasets), read before anything is overwritten
for fn in ('deep_sweep.csv', 'deep_correlation.csv', 'pswa_curves.csv'):
    names = {n for n, d in pairs if d == 'keep'}
    path = os.path.join(out, fn)
    if names and os.path.exists(path):
        with open(path) as f:
            r = list(csv.reader(f))
        kept[fn] = (r[0], [row for row in r[1:] if row[0] in names])
pairs = [(n, d) for n, d in pairs if d != 'keep']

rows, header = [], None
if 'deep_sweep.csv' in kept:
    header = kept['deep_sweep.csv'][0]
    rows = [dict(zip(header, row)) for row in kept['deep_sweep.csv'][1]]
for name, d in pairs:
    with open(os.path.join(d, 'sweep.csv')) as f:
        r = list(csv.reader(f))
    h = ['dataset'] + r[0]
    header = header or h
    if h != header:
        # align on the union of columns
        header = header + [c for c in h if c not in header]
    for row in r[1:]:
        rows.append(dict(zip(h, [name] + row)))
with open(os.path.join(out, 'deep_sweep.csv'), 'w', newline='') as f:
    w = csv.writer(f); w.writerow(header)
    for row in rows: w.writerow([row.get(c, '') for c in header])

with open(os.path.join(out, 'deep_correlation.csv'), 'w', newline='') as f:
    w = csv.writer(f); w.writerow(['dataset', 'measure', 'method', 'value', 'lower95', 'upper95', 'n'])
    for row in kept.get('deep_correlation.csv', (None, []))[1]: w.writerow(row)
    for name, d in pairs:
        with open(os.path.join(d, 'correlation.csv')) as g:
            for row in list(csv.reader(g))[1:]: w.writerow([name] + row)

with open(os.path.join(out, 'pswa_curves.csv'), 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(['dataset', 'optimizer', 'seed', 'epoch', 'lr', 'train_loss', 'test_error', 'live_test_error', 'n_averaged', 'restarted'])
    for row in kept.get('pswa_curves.csv', (None, []))[1]: w.writerow(row)
    for name, d in pairs:
        for run in sorted(glob.glob(os.path.join(d, 'runs', '*'))):
            rid = os.path.basename(run)
            opt, seed = rid.split('_')[0], rid.rsplit('_s', 1)[1]
            if opt not in ('sgd', 'swa', 'pswa'): continue
            log = {}
            p = os.path.join(run, 'optim_log.csv')
            if os.path.exists(p):
                with open(p) as g:
                    for r in list(csv.DictReader(g)): log[(int(r['epoch']), r['key'])] = r['value']
            with open(os.path.join(run, 'metrics.csv')) as g:
                for r in csv.DictReader(g):
                    e = int(r['epoch'])
                    live = log.get((e, 'live_test_error'), r['test_error'] if opt == 'sgd' else '')
                    w.writerow([name, opt, seed, e, r['lr'], r['train_loss'], r['test_error'], live,
                                log.get((e, 'n_averaged'), ''), log.get((e, 'restarted'), '')])
print('wrote', out)
