#!/usr/bin/env python3
"""A NAB data file rebuilt from one of NAB's published results files.

NAB's runner writes, per data file and detector,
results/<detector>/<category>/<detector>_<file>.csv with one row per data row:
timestamp, value, anomaly_score, label, and the three profiles' S(t) columns.
Three labelled NAB files (realKnownCause/nyc_taxi.csv, rogue_agent_key_hold.csv,
rogue_agent_key_updown.csv) have no stored data file, only such results files;
the fifth held-out set (fifth-held-out.txt) was rebuilt from the null
detector's. This keeps the first two columns as written there (the runner
wrote values through pandas, so an integer value of the data file reads
`10844.0`: the same number), and checks the header, that every timestamp
parses and none goes back in time, and that the rows labelled 1 are exactly
the rows inside the file's windows (WINDOWS: a combined_windows.json).

    python3 bench/nab/from_results.py RESULTS.csv OUT.csv WINDOWS NAME

prints the number of rows, of labelled rows and of windows.
"""
import csv
import datetime
import json
import sys


def parse(ts, where='windows'):
    try:
        return datetime.datetime.fromisoformat(ts.split('.')[0])
    except ValueError:
        sys.exit(f'{where}: timestamp "{ts}" is not YYYY-MM-DD HH:MM:SS')


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    results, out, windows_path, name = sys.argv[1:]
    rows = list(csv.reader(open(results, newline='')))
    header, body = rows[0], rows[1:]
    if header[:4] != ['timestamp', 'value', 'anomaly_score', 'label']:
        sys.exit(f'{results}: header {header!r} is not a NAB results header')
    windows = [(parse(a), parse(b)) for a, b in json.load(open(windows_path))[name]]
    previous = None
    labelled = 0
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            sys.exit(f'{results}:{line}: {len(row)} columns, the header has {len(header)}')
        t = parse(row[0], f'{results}:{line}')
        try:
            float(row[1])
        except ValueError:
            sys.exit(f'{results}:{line}: value "{row[1]}" is not a number')
        if previous is not None and t < previous:
            sys.exit(f'{results}:{line}: timestamp "{row[0]}" goes back in time')
        previous = t
        inside = any(a <= t <= b for a, b in windows)
        if inside != (row[3] == '1'):
            sys.exit(f'{results}:{line}: label "{row[3]}" but the row is {"inside" if inside else "outside"} a window')
        labelled += row[3] == '1'
    with open(out, 'w', newline='') as f:
        f.write('timestamp,value\n')
        for row in body:
            f.write(f'{row[0]},{row[1]}\n')
    print(f'{out}: {len(body)} rows, {labelled} labelled, {len(windows)} windows')


if __name__ == '__main__':
    main()
