#!/usr/bin/env python3
"""scikit-learn side of the isolation-forest scoring benchmark (called by seismo-bench).

Usage: OMP_NUM_THREADS=1 python3 scripts/iforest_bench.py OUT_DIR [TRAIN_ROWS SCORE_ROWS FEATURES]

Generates a fixed-seed data set (Gaussian rows with 1% uniform outliers), writes it as raw
little-endian float64 row-major files OUT_DIR/train.f64 and OUT_DIR/score.f64, fits
IsolationForest(n_estimators=100, max_samples=256, random_state=0, n_jobs=1) on train, times
score_samples on score (CPU time, best of 5), and prints "sklearn_rows_per_second <rate>".
"""
import os
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest


def main():
    out = sys.argv[1]
    train_rows, score_rows, features = (int(a) for a in (sys.argv[2:5] if len(sys.argv) >= 5 else (10000, 100000, 8)))
    rng = np.random.default_rng(11)

    def data(n):
        x = rng.normal(0, 1, size=(n, features))
        k = n // 100
        x[:k] = rng.uniform(-6, 6, size=(k, features))
        return x

    train, score = data(train_rows), data(score_rows)
    os.makedirs(out, exist_ok=True)
    train.astype("<f8").tofile(os.path.join(out, "train.f64"))
    score.astype("<f8").tofile(os.path.join(out, "score.f64"))
    forest = IsolationForest(n_estimators=100, max_samples=256, random_state=0, n_jobs=1).fit(train)
    forest.score_samples(score[:1000])  # warm-up
    # CPU time of this (single-threaded) process: a per-core figure that other load on the machine
    # does not distort the way wall time does.
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        forest.score_samples(score)
        best = min(best, time.process_time() - start)
    print(f"sklearn_rows_per_second {score_rows / best:.1f}", flush=True)


if __name__ == "__main__":
    main()
