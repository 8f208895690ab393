#!/usr/bin/env python3
"""The second held-out set (bench/nab/second-held-out.txt): ten more NAB files,
never tuned on, and a data folder that scores them beside the first held-out
set.

The ten files are not in ../shared/data/nab. They were copied verbatim, a
16,000-character page at a time, from the stored copy of the public
github.com/numenta/NAB repository (MIT licence, NAB_LICENSE.txt here) into
bench/nab/second-held-out-data/; their windows are NAB's
labels/combined_windows.json at commit 450b949, the version whose windows
equal ../shared/data/nab/combined_windows.json on the 15 local files compared.
The versions are those NAB's published results count the rows of (the
stored default of occupancy_6005.csv is an older 2400-row version; the copy is
the 2380-row one at commit b72e306, the commit of the other realTraffic files).
Each copy was checked against the stored file's length in characters (SIZES,
with the file's own line endings: CRLF for the realAdExchange files, no final
newline for three realTraffic files), its header, row syntax, timestamp order
and row count (NAB's Total_Count). An audit copied one page of each file a
second time, independently (the page drawn at random, seed 20261207): all ten
came out identical to the first copy, 156,000 characters in all, and a control
page of a local file (TravelTime_451.csv) copied the same way came out byte for
byte.

    python3 bench/nab/second_held_out.py OUT [DATA]     # DATA: ../shared/data/nab
    cd ../shared/bench/nab && ./run_detector.sh --jobs 2 --data OUT \\
        --set OUT/FILES.txt "PATH/TO/understudy detect --stdin"     # the 17 never tuned on
    (--set OUT/SECOND.txt: the ten alone; --set OUT/HELD-OUT.txt: the first seven)
"""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
COPIES = os.path.join(HERE, 'second-held-out-data')

# stored length of each file in characters (read_file's total_chars)
SIZES = {
    'realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv': 37339,
    'realAdExchange/exchange-2_cpc_results.csv': 58887,
    'realAdExchange/exchange-3_cpc_results.csv': 55474,
    'realAdExchange/exchange-4_cpc_results.csv': 60212,
    'realAdExchange/exchange-4_cpm_results.csv': 58931,
    'realTraffic/TravelTime_387.csv': 59846,
    'realTraffic/occupancy_6005.csv': 59122,
    'realTraffic/occupancy_t4013.csv': 62609,
    'realTraffic/speed_6005.csv': 57538,
    'realTraffic/speed_7578.csv': 25928,
}


def read_list(path):
    return [l.strip() for l in open(path) if l.strip() and not l.startswith('#')]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'nab')
    first = read_list(os.path.join(HERE, 'held-out.txt'))
    second = read_list(os.path.join(HERE, 'second-held-out.txt'))
    if sorted(second) != sorted(SIZES):
        sys.exit('second-held-out.txt and SIZES name different files')
    local_windows = json.load(open(os.path.join(data, 'combined_windows.json')))
    copied_windows = json.load(open(os.path.join(COPIES, 'combined_windows.json')))
    windows = {}
    for name in first:
        os.makedirs(os.path.join(out, os.path.dirname(name)), exist_ok=True)
        shutil.copyfile(os.path.join(data, name), os.path.join(out, name))
        windows[name] = local_windows[name]
    for name in second:
        src = os.path.join(COPIES, name)
        size = os.path.getsize(src)
        if size != SIZES[name]:
            sys.exit(f'{src}: {size} bytes, the stored file has {SIZES[name]}')
        os.makedirs(os.path.join(out, os.path.dirname(name)), exist_ok=True)
        shutil.copyfile(src, os.path.join(out, name))
        windows[name] = copied_windows[name]
    json.dump(windows, open(os.path.join(out, 'combined_windows.json'), 'w'), indent=1)
    for list_name, files in (('FILES.txt', first + second), ('SECOND.txt', second), ('HELD-OUT.txt', first)):
        open(os.path.join(out, list_name), 'w').write('\n'.join(files) + '\n')
    n = sum(len(windows[f]) for f in first + second)
    print(f'{out}: {len(first)} + {len(second)} files, {n} windows')


if __name__ == '__main__':
    main()
