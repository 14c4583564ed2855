#!/usr/bin/env python3
"""Isolation-forest parity data sets and scikit-learn's ROC-AUC on them.

Usage: python3 scripts/iforest_parity.py OUT_DIR

Writes OUT_DIR/<name>.csv for each data set (header f0..f{d-1},label; label 1 = anomaly),
fits sklearn IsolationForest(n_estimators=100, max_samples=256, random_state=0) on all rows,
and prints one line per data set: "<name> <sklearn ROC-AUC>".
The Swift test Tests/SeismoDetectTests/IsolationForest/ParityTests.swift reads both.
Needs: numpy, scikit-learn.
"""
import csv
import json
import os
import sys
from datetime import datetime

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

# The shared NAB development subset sits beside the repository (../shared).
NAB = os.environ.get(
    "SEISMO_NAB_DEV",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "nab-dev"),
)


def blob(rng):
    inliers = rng.normal(0, 1, size=(1000, 2))
    outliers = rng.uniform(-6, 6, size=(50, 2))
    return inliers, outliers


def moons(rng):
    t1 = rng.uniform(0, np.pi, 500)
    t2 = rng.uniform(0, np.pi, 500)
    upper = np.column_stack([np.cos(t1), np.sin(t1)])
    lower = np.column_stack([1 - np.cos(t2), 0.5 - np.sin(t2)])
    inliers = np.vstack([upper, lower]) + rng.normal(0, 0.1, size=(1000, 2))
    outliers = rng.uniform([-1.5, -1.0], [2.5, 1.5], size=(50, 2))
    return inliers, outliers


def highdim(rng):
    inliers = rng.normal(0, 1, size=(1500, 20))
    outliers = rng.normal(0, 1, size=(30, 20))
    outliers[:, :8] += 2.5
    return inliers, outliers


def line(rng):
    x = rng.uniform(-3, 3, 1000)
    inliers = np.column_stack([x, 2 * x + rng.normal(0, 0.2, 1000)])
    xo = rng.uniform(-3, 3, 40)
    outliers = np.column_stack([xo, 2 * xo + rng.choice([-1, 1], 40) * rng.uniform(1.5, 4, 40)])
    return inliers, outliers


def nab_windowed(series="ec2_request_latency_system_failure", width=12):
    """A realKnownCause series as features: value, first difference, rolling mean and std over `width`."""
    path = f"{NAB}/data/realKnownCause/{series}.csv"
    times, values = [], []
    with open(path) as f:
        for row in csv.DictReader(f):
            times.append(datetime.strptime(row["timestamp"], "%Y-%m-%d %H:%M:%S"))
            values.append(float(row["value"]))
    with open(f"{NAB}/windows.json") as f:
        windows = json.load(f)[f"realKnownCause/{series}.csv"]
    spans = [(datetime.strptime(a, "%Y-%m-%d %H:%M:%S.%f"), datetime.strptime(b, "%Y-%m-%d %H:%M:%S.%f"))
             for a, b in windows]
    v = np.array(values)
    rows, labels = [], []
    for i in range(width, len(v)):
        w = v[i - width:i + 1]
        rows.append([v[i], v[i] - v[i - 1], w.mean(), w.std()])
        labels.append(int(any(a <= times[i] <= b for a, b in spans)))
    return np.array(rows), np.array(labels)


def labelled(parts):
    inliers, outliers = parts
    x = np.vstack([inliers, outliers])
    y = np.concatenate([np.zeros(len(inliers), int), np.ones(len(outliers), int)])
    return x, y


def datasets():
    yield "blob", labelled(blob(np.random.default_rng(1)))
    yield "moons", labelled(moons(np.random.default_rng(2)))
    yield "highdim20", labelled(highdim(np.random.default_rng(3)))
    yield "line", labelled(line(np.random.default_rng(4)))
    yield "nab_ec2_latency", nab_windowed()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for name, (x, y) in datasets():
        header = ",".join([f"f{j}" for j in range(x.shape[1])] + ["label"])
        np.savetxt(os.path.join(out, f"{name}.csv"), np.column_stack([x, y]), delimiter=",",
                   header=header, comments="", fmt="%.17g")
        forest = IsolationForest(n_estimators=100, max_samples=256, random_state=0).fit(x)
        auc = roc_auc_score(y, -forest.score_samples(x))
        print(f"{name} {auc:.6f}", flush=True)


if __name__ == "__main__":
    main()
