#!/usr/bin/env python3
"""The copied held-out sets: NAB files that are not in ../shared/data/nab,
copied into this folder, and a data folder that scores one of them beside the
first held-out set (held-out.txt).

- second (second-held-out.txt, second-held-out-data/): the ten labelled NAB
  files under 65,000 characters; fixed and scored once on 2026-12-07, then
  development data.
- third (third-held-out.txt, third-held-out-data/): the ten other
  realAWSCloudwatch files; fixed on 2026-12-07 before they were read and
  scored once, then development data.
- fourth (fourth-held-out.txt, fourth-held-out-data/): the nine remaining
  stored files (seven realTweets, two realKnownCause); fixed on 2026-12-07
  before they were read, scored once, then development data.
- fifth (fifth-held-out.txt, fifth-held-out-data/): the three labelled NAB
  files with no stored data file (nyc_taxi, rogue_agent_key_hold,
  rogue_agent_key_updown, all realKnownCause), fixed on 2026-12-07 before
  they were read. Their timestamp and value columns were rebuilt from NAB's
  published results of its null detector (results/null/realKnownCause/
  null_<file>.csv at bf2de21, c94f411 and 38b9ff1: one row per data row)
  by from_results.py, which checks that the rows labelled there are
  exactly the rows inside their windows (from 450b949, as below); their row
  counts equal NAB's
  Total_Count (10320, 1882, 5315). The results files were copied a page
  at a time like the others; one page of each, drawn at random, copied a
  second time, independently, came out identical (48,000 characters). A
  control rebuilt TravelTime_451.csv the same way from
  null_TravelTime_451.csv: every timestamp and value equal to the local
  file's (2162 rows; values written `248.0` for `248`).

The second, third and fourth were copied verbatim, a 16,000-character page
at a time, from the stored copy of the public github.com/numenta/NAB
repository (MIT licence, NAB_LICENSE.txt in each folder); their windows are
NAB's
labels/combined_windows.json at commit 450b949, the version whose windows
equal ../shared/data/nab/combined_windows.json on the 15 local files
compared. The versions are those NAB's published results count the rows of
(the stored default of occupancy_6005.csv is an older 2400-row version; the
copy is the 2380-row one at commit b72e306, the commit of the other
realTraffic files; the AWS files at the commits whose versions of the local
AWS files equal ours). Each copy was checked against the stored file's
length in characters (SIZES, with the file's own line endings: CRLF for the
realAdExchange files, no final newline for three realTraffic files), its
header, row syntax, timestamp order and row count (NAB's Total_Count). An
audit copied one page of each file a second time, independently (the page
drawn at random, plus two pages in question): all thirty-one came out
identical to the first copy, about 490,000 characters in all, and a control
page of a local file (TravelTime_451.csv) copied the same way came out byte
for byte. machine_temperature_system_failure.csv repeats the hour 02:00 -
02:55 of 2014-01-07 (its page read twice, identical both times): the stored
file has it, and the detector skips rows that go back in time.

    python3 bench/nab/copied_sets.py OUT second|third|fourth|fifth [DATA]   # DATA: ../shared/data/nab
    python3 bench/nab/copied_sets.py OUT untuned [DATA]   # the 29 round 17 was never tuned on
    python3 bench/nab/copied_sets.py OUT stored [DATA]   # the 55 stored as data files: the 26 and 29 copied
    python3 bench/nab/copied_sets.py OUT all [DATA]   # every labelled NAB file: the 26 and the 32 copied
    cd ../shared/bench/nab && ./run_detector.sh --jobs 2 --data OUT \\
        --set OUT/FILES.txt "PATH/TO/understudy detect --stdin"   # the first seven and the copied set(s)
    (--set OUT/COPIED.txt: the copied files alone; --set OUT/HELD-OUT.txt: the first seven)
"""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# stored length of each file in characters (read_file's total_chars)
SIZES = {
    'second': {
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
    },
    'third': {
        'realAWSCloudwatch/ec2_cpu_utilization_53ea38.csv': 116041,
        'realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv': 119229,
        'realAWSCloudwatch/ec2_cpu_utilization_77c1ca.csv': 106007,
        'realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv': 113675,
        'realAWSCloudwatch/ec2_cpu_utilization_ac20cd.csv': 116980,
        'realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv': 116626,
        'realAWSCloudwatch/ec2_disk_write_bytes_c0d644.csv': 101626,
        'realAWSCloudwatch/ec2_network_in_5abac7.csv': 120827,
        'realAWSCloudwatch/elb_request_count_8c0756.csv': 101052,
        'realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv': 113599,
    },
    'fourth': {
        'realKnownCause/cpu_utilization_asg_misconfiguration.csv': 539274,
        'realKnownCause/machine_temperature_system_failure.csv': 732223,
        'realTweets/Twitter_volume_AAPL.csv': 368111,
        'realTweets/Twitter_volume_AMZN.csv': 364666,
        'realTweets/Twitter_volume_CRM.csv': 350820,
        'realTweets/Twitter_volume_FB.csv': 359760,
        'realTweets/Twitter_volume_KO.csv': 355283,
        'realTweets/Twitter_volume_PFE.csv': 348926,
        'realTweets/Twitter_volume_UPS.csv': 350182,
    },
    # rebuilt by from_results.py from NAB's null detector's results files
    # (stored lengths 472269, 86292 and 227819): these are the rebuilt files'
    'fifth': {
        'realKnownCause/nyc_taxi.csv': 286412,
        'realKnownCause/rogue_agent_key_hold.csv': 52328,
        'realKnownCause/rogue_agent_key_updown.csv': 132061,
    },
}


def read_list(path):
    return [l.strip() for l in open(path) if l.strip() and not l.startswith('#')]


def place(out, src_dir, name, size=None):
    """Copies one data file into OUT (checking its length against the stored
    file's, for a copied one)."""
    src = os.path.join(src_dir, name)
    if size is not None and os.path.getsize(src) != size:
        sys.exit(f'{src}: {os.path.getsize(src)} bytes, the stored file has {size}')
    os.makedirs(os.path.join(out, os.path.dirname(name)), exist_ok=True)
    shutil.copyfile(src, os.path.join(out, name))


def copied_set(which):
    """The files of one copied set, their folder and windows."""
    files = read_list(os.path.join(HERE, f'{which}-held-out.txt'))
    if sorted(files) != sorted(SIZES[which]):
        sys.exit(f'{which}-held-out.txt and SIZES name different files')
    folder = os.path.join(HERE, f'{which}-held-out-data')
    return files, folder, json.load(open(os.path.join(folder, 'combined_windows.json')))


# the modes that gather several copied sets: the 29 files round 17's detector
# was never tuned on (beside the first seven), every NAB file stored as a
# data file (55, before the fifth set) and every labelled NAB file (58)
GROUPS = {'untuned': ['third', 'fourth', 'fifth'], 'stored': ['second', 'third', 'fourth'], 'all': list(SIZES)}
# the groups placed beside every local file rather than the first seven
WHOLE_CORPUS = ('stored', 'all')


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in [*SIZES, *GROUPS]:
        sys.exit(__doc__)
    out, which = sys.argv[1], sys.argv[2]
    data = sys.argv[3] if len(sys.argv) > 3 else os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'nab')
    local_windows = json.load(open(os.path.join(data, 'combined_windows.json')))
    # beside one copied set the first held-out seven; beside all of them every local file
    local = list(local_windows) if which in WHOLE_CORPUS else read_list(os.path.join(HERE, 'held-out.txt'))
    windows = {}
    for name in local:
        place(out, data, name)
        windows[name] = local_windows[name]
    copied = []
    for each in GROUPS.get(which, [which]):
        files, folder, copied_windows = copied_set(each)
        for name in files:
            place(out, folder, name, SIZES[each][name])
            windows[name] = copied_windows[name]
        copied += files
    json.dump(windows, open(os.path.join(out, 'combined_windows.json'), 'w'), indent=1)
    lists = {'FILES.txt': local + copied, 'COPIED.txt': copied}
    if which not in WHOLE_CORPUS:
        lists['HELD-OUT.txt'] = local
    for list_name, files in lists.items():
        open(os.path.join(out, list_name), 'w').write('\n'.join(files) + '\n')
    n = sum(len(w) for w in windows.values())
    print(f'{out}: {len(local)} + {len(copied)} files, {n} windows')


if __name__ == '__main__':
    main()
