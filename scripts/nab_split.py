#!/usr/bin/env python3
"""Held-out figures for a NAB results directory: how well a detector's threshold transfers.

Usage: python3 scripts/nab_split.py DATA_DIR WINDOWS_JSON RESULTS_DIR DETECTOR [--scorer PATH]

NAB picks the threshold that maximises the score on the scored corpus itself. With only 18 dev
series that flatters a detector, so this script also prints, for the standard profile:
  * half/half: the series sorted by name, alternate ones in halves A and B; the threshold
    optimised on one half is applied to the other (both directions);
  * leave one category out: the threshold optimised on the other categories is applied to it
    (a category without windows, artificialNoAnomaly, is reported as its raw score).
"""
import argparse
import os
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("windows")
    ap.add_argument("results")
    ap.add_argument("detector")
    ap.add_argument("--scorer", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "eval"))
    args = ap.parse_args()
    sys.path.insert(0, args.scorer)
    import nab_score as nab

    windows = nab.load_windows(args.windows)
    names = sorted(windows)
    loaded = {}
    for rel in names:
        path = nab.find_result_file(args.results, args.detector, rel)
        if path is None:
            sys.exit("no result for %s" % rel)
        (ts_str,) = nab.read_csv_columns(os.path.join(args.data, rel), ["timestamp"])
        series = nab.Series(rel, [nab.parse_ts(t) for t in ts_str], windows[rel])
        loaded[rel] = (series, nab.load_scores(path, ts_str, False))
    cm = nab.DEFAULT_PROFILES["standard"]["CostMatrix"]

    def corpus(subset):
        return nab.Corpus([loaded[r][0] for r in subset], [loaded[r][1] for r in subset])

    def normalised(c, raw):
        null = nab.null_baseline(c, cm)
        perfect = cm["tpWeight"] * c.n_windows
        return 100 * (raw - null) / (perfect - null) if perfect > null else raw

    def transfer(train, test):
        threshold, _ = nab.optimise(corpus(train), cm)
        c = corpus(test)
        return normalised(c, c.score_at(cm, threshold)), threshold

    full = corpus(names)
    threshold, raw = nab.optimise(full, cm)
    print("%s standard profile, threshold optimised on all %d series: %.2f (thr %.4g)"
          % (args.detector, len(names), normalised(full, raw), threshold))
    a, b = names[0::2], names[1::2]
    ab, tab = transfer(a, b)
    ba, tba = transfer(b, a)
    print("half/half: threshold from A applied to B %.2f (thr %.4g); from B applied to A %.2f (thr %.4g)"
          % (ab, tab, ba, tba))
    categories = sorted({r.split("/")[0] for r in names})
    for cat in categories:
        test = [r for r in names if r.startswith(cat + "/")]
        train = [r for r in names if not r.startswith(cat + "/")]
        score, thr = transfer(train, test)
        kind = "normalised" if corpus(test).n_windows else "raw (no windows)"
        print("leave out %-22s %8.2f %s (thr %.4g)" % (cat, score, kind, thr))


if __name__ == "__main__":
    main()
