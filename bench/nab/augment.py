#!/usr/bin/env python3
"""A synthetic yardstick built from the tuning files only (never the held-out
ones): each real file of bench/nab/tune.txt, x 6 anomaly kinds x 2 positions,
with one injected anomaly and a NAB-sized window (10 % of the file, centred
on it); the file's own labelled windows are kept unless they overlap.

Kinds, sized against the file's own distribution (p10, p90, min, max):
spike (one point 0.3 x (p90 - p10) above the maximum), shift (+1 x (p90 - p10)
for a window's length), burst (deviations from the recent median x3 for 2 %
of the file), flat (the value frozen for 8 %), ramp (up to +1.5 x (p90 - p10)
over 4 %, then held), drop (the minimum for 2 %).

    python3 bench/nab/augment.py OUT [DATA]     # DATA: ../shared/data/nab
    cd ../shared/bench/nab && ./run_detector.sh --jobs 2 --data OUT \\
        --set OUT/FILES.txt "PATH/TO/understudy detect --stdin"
"""
import csv
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1]
SRC = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'nab')
TUNE = [l.strip() for l in open(os.path.join(HERE, 'tune.txt'))
        if l.strip() and not l.startswith('#') and l.startswith('real')]
WINDOWS = json.load(open(os.path.join(SRC, 'combined_windows.json')))


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def inject(vs, kind, at, wl, dur, iqr):
    v = list(vs)
    n = len(v)
    if kind == 'spike':
        v[at] = max(vs) + 0.3 * iqr
    elif kind == 'shift':
        for i in range(at, min(n, at + wl)):
            v[i] += iqr
    elif kind == 'burst':
        m = statistics.median(vs[max(0, at - 50):at])
        for i in range(at, min(n, at + dur)):
            v[i] = m + 3 * (v[i] - m)
    elif kind == 'flat':
        for i in range(at, min(n, at + 4 * dur)):
            v[i] = vs[at]
    elif kind == 'ramp':
        for i in range(at, min(n, at + wl)):
            v[i] += 1.5 * iqr * min(1.0, (i - at) / dur / 2)
    elif kind == 'drop':
        for i in range(at, min(n, at + dur)):
            v[i] = min(vs)
    return v


windows, files = {}, []
for f in TUNE:
    rows = list(csv.reader(open(os.path.join(SRC, f))))[1:]
    ts = [r[0] for r in rows]
    vs = [float(r[1]) for r in rows]
    n = len(vs)
    iqr = max(pct(vs, .9) - pct(vs, .1), 1e-9)
    wl, dur = max(int(0.1 * n), 10), max(n // 50, 5)
    for kind in ['spike', 'shift', 'burst', 'flat', 'ramp', 'drop']:
        for pos in [0.55, 0.8]:
            at = int(pos * n)
            v = inject(vs, kind, at, wl, dur, iqr)
            s, e = max(0, at - wl // 2), min(n - 1, at + wl // 2)
            new = [ts[s] + '.000000', ts[e] + '.000000']
            name = f"{f[:-4]}_{kind}_{int(pos * 100)}.csv"
            os.makedirs(os.path.dirname(os.path.join(OUT, name)), exist_ok=True)
            with open(os.path.join(OUT, name), 'w') as out:
                out.write('timestamp,value\n')
                for t, x in zip(ts, v):
                    out.write(f'{t},{x}\n')
            keep = [w for w in WINDOWS[f] if not (w[0] <= new[1] and new[0] <= w[1])]
            windows[name] = keep + [new]
            files.append(name)
json.dump(windows, open(os.path.join(OUT, 'combined_windows.json'), 'w'), indent=1)
open(os.path.join(OUT, 'FILES.txt'), 'w').write('\n'.join(files) + '\n')
print(f'{len(files)} files in {OUT}')
