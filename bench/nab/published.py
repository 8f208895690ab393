#!/usr/bin/env python3
"""Published detectors' NAB standard scores on understudy's tune and held-out
sets, from the per-file scores NAB publishes (github.com/numenta/NAB,
results/ARTime/ARTime_standard_scores.csv, results/numenta/
numenta_standard_scores.csv, results/contextOSE/
contextOSE_standard_scores.csv: the raw score of each file at the detector's
threshold for the whole 58-file corpus). A set's score is NAB's normalisation
over that set's windows, 100 * (raw - null) / (perfect - null), with
null = -windows and perfect = +windows (nab_score.py's definitions); the
threshold is the corpus-wide one, not re-optimised per set (ARTime on all 26
files: 75.1 here, 75.3 in ../shared/bench/nab/README.md with the threshold
chosen for the 26).

    python3 bench/nab/published.py [DATA]     # DATA: ../shared/data/nab

With DATA a folder made by copied_sets.py it scores that copied set alone
and beside the first held-out set instead, with `untuned` the 29 files round
17's detector was never tuned on, with `all` every labelled NAB file (58:
ARTime 74.9 and CAD OSE 69.9 there, NAB's published figures; Numenta HTM
65.3, from the older results table these per-file scores come from, NAB
publishes 70.1 from a newer one). A set is scored where DATA has the windows
of all its files.
"""
import json
import os
import sys

from copied_sets import GROUPS  # which copied sets a group of files gathers

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'nab')

# file -> (ARTime, Numenta HTM, CAD OSE) raw standard score
RAW = {
    'artificialNoAnomaly/art_daily_no_noise.csv': (-0.11, 0.0, 0.0),
    'artificialNoAnomaly/art_daily_perfect_square_wave.csv': (0.0, 0.0, -0.11),
    'artificialNoAnomaly/art_daily_small_noise.csv': (0.0, 0.0, -0.33),
    'artificialNoAnomaly/art_flatline.csv': (0.0, 0.0, 0.0),
    'artificialNoAnomaly/art_noisy.csv': (0.0, 0.0, 0.0),
    'artificialWithAnomaly/art_daily_flatmiddle.csv': (0.80397, 0.44113, 0.79547),
    'artificialWithAnomaly/art_daily_jumpsdown.csv': (0.99345, 0.74891, 0.65855),
    'artificialWithAnomaly/art_daily_jumpsup.csv': (0.85891, 0.74891, 0.86067),
    'artificialWithAnomaly/art_daily_nojump.csv': (-1.11, -1.0, -1.33),
    'artificialWithAnomaly/art_increase_spike_density.csv': (0.84604, 0.64067, 0.86242),
    'artificialWithAnomaly/art_load_balancer_spikes.csv': (0.04938, 0.73479, 0.49038),
    'realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv': (1.63168, 1.38603, 1.72310),
    'realAWSCloudwatch/ec2_cpu_utilization_c6585a.csv': (-0.11, -0.44, -0.22),
    'realAWSCloudwatch/ec2_cpu_utilization_fe7f93.csv': (-0.33381, -1.12277, 0.20386),
    'realAWSCloudwatch/ec2_network_in_257a54.csv': (0.76485, 0.85533, 0.85713),
    'realAWSCloudwatch/grok_asg_anomaly.csv': (2.23067, 2.08958, 0.62910),
    'realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv': (1.49001, -0.14198, 1.72310),
    'realAdExchange/exchange-2_cpm_results.csv': (-0.14465, 1.55321, -0.46374),
    'realAdExchange/exchange-3_cpm_results.csv': (0.64221, -1.0, 0.86210),
    'realKnownCause/ambient_temperature_system_failure.csv': (1.65773, 1.32263, -0.42860),
    'realKnownCause/ec2_request_latency_system_failure.csv': (1.39058, 1.98538, 1.99064),
    'realTraffic/TravelTime_451.csv': (0.85481, 0.56816, 0.86142),
    'realTraffic/speed_t4013.csv': (1.61446, 1.98114, 1.87627),
    'realTweets/Twitter_volume_CVS.csv': (1.83809, 2.30920, 2.71039),
    'realTweets/Twitter_volume_GOOG.csv': (1.40582, -0.04170, 0.04968),
    'realTweets/Twitter_volume_IBM.csv': (0.77802, -0.07280, 1.25037),
    # the second held-out set (second-held-out.txt), from the same three files
    'realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv': (-2.33, -2.11, -2.11),
    'realAdExchange/exchange-2_cpc_results.csv': (0.53198, -1.22, 0.89072),
    'realAdExchange/exchange-3_cpc_results.csv': (2.70076, 0.64092, 2.48873),
    'realAdExchange/exchange-4_cpc_results.csv': (2.04665, -1.31938, 0.51228),
    'realAdExchange/exchange-4_cpm_results.csv': (1.25747, 1.44270, 1.60471),
    'realTraffic/TravelTime_387.csv': (1.92847, -1.58772, 2.11089),
    'realTraffic/occupancy_6005.csv': (0.36028, 0.64134, 0.42141),
    'realTraffic/occupancy_t4013.csv': (1.61446, 1.39503, 1.73603),
    'realTraffic/speed_6005.csv': (0.83932, 0.72932, 0.85954),
    'realTraffic/speed_7578.csv': (3.10773, 1.23650, 3.14471),
    # the third held-out set (third-held-out.txt), from the same three files
    'realAWSCloudwatch/ec2_cpu_utilization_53ea38.csv': (0.39804, 1.30437, 1.12270),
    'realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv': (1.69767, 1.71603, 1.51401),
    'realAWSCloudwatch/ec2_cpu_utilization_77c1ca.csv': (0.25006, 0.80735, 0.46329),
    'realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv': (0.81955, 0.95572, 0.81109),
    'realAWSCloudwatch/ec2_cpu_utilization_ac20cd.csv': (0.62421, 0.87573, 0.86067),
    'realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv': (0.46730, 0.81212, 0.46065),
    'realAWSCloudwatch/ec2_disk_write_bytes_c0d644.csv': (0.28106, 0.50069, 0.33698),
    'realAWSCloudwatch/ec2_network_in_5abac7.csv': (1.03483, -0.31971, 1.54381),
    'realAWSCloudwatch/elb_request_count_8c0756.csv': (1.36359, 1.70512, 1.71596),
    'realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv': (1.40600, 1.71242, 1.50706),
    # the fourth held-out set (fourth-held-out.txt), from the same three files
    'realKnownCause/cpu_utilization_asg_misconfiguration.csv': (-0.25747, -0.57305, -0.19297),
    'realKnownCause/machine_temperature_system_failure.csv': (2.55633, 2.89322, 1.63828),
    'realTweets/Twitter_volume_AAPL.csv': (2.91610, 1.20961, 1.58811),
    'realTweets/Twitter_volume_AMZN.csv': (2.73663, 0.94280, -0.38862),
    'realTweets/Twitter_volume_CRM.csv': (2.10073, 0.71958, 2.58271),
    'realTweets/Twitter_volume_FB.csv': (1.21424, 1.38958, 1.72048),
    'realTweets/Twitter_volume_KO.csv': (2.22524, 2.35256, 0.72093),
    'realTweets/Twitter_volume_PFE.csv': (2.58683, 2.68833, 3.45696),
    'realTweets/Twitter_volume_UPS.csv': (3.21377, 0.05634, 2.13708),
    # the fifth held-out set (fifth-held-out.txt), from the same three files
    'realKnownCause/nyc_taxi.csv': (3.77521, 2.34189, -1.42977),
    'realKnownCause/rogue_agent_key_hold.csv': (-1.28089, -0.86740, -0.95926),
    'realKnownCause/rogue_agent_key_updown.csv': (-2.56765, -1.18576, -2.22),
}
NAMES = ('ARTime', 'Numenta HTM', 'CAD OSE')


def read_list(path):
    return [l.strip() for l in open(path) if l.strip() and not l.startswith('#')]


def main():
    windows = json.load(open(os.path.join(DATA, 'combined_windows.json')))
    sets = {
        'held-out (7 files)': read_list(os.path.join(HERE, 'held-out.txt')),
        'tune (19 files)': read_list(os.path.join(HERE, 'tune.txt')),
    }
    sets['all 26'] = sets['held-out (7 files)'] + sets['tune (19 files)']
    copied = {which: read_list(os.path.join(HERE, f'{which}-held-out.txt')) for which in GROUPS['all']}
    for which, files in copied.items():
        sets[f'{which} held-out ({len(files)} files)'] = files
        sets[f'first + {which} ({7 + len(files)} files)'] = sets['held-out (7 files)'] + files
    untuned = sets['held-out (7 files)'] + [f for which in GROUPS['untuned'] for f in copied[which]]
    sets[f'never tuned on ({len(untuned)} files)'] = untuned
    every_copied = [f for files in copied.values() for f in files]
    sets[f'all labelled ({26 + len(every_copied)} files)'] = sets['all 26'] + every_copied
    for name, files in sets.items():
        if any(f not in windows for f in files):
            continue
        n = sum(len(windows[f]) for f in files)
        scores = []
        for k in range(len(NAMES)):
            raw = sum(RAW[f][k] for f in files)
            scores.append('%s %.1f' % (NAMES[k], 100.0 * (raw + n) / (2.0 * n)))
        print('%-26s %2d windows: %s' % (name, n, ', '.join(scores)))


if __name__ == '__main__':
    main()
