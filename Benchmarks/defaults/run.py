#!/usr/bin/env python3
"""Axon's defaults against scikit-learn's, in one run.

For every dataset (bundled with scikit-learn or made by its documented generators, fixed
train/test split), trains
  - Axon through `POST /train?wait=true` with only `model`, `inputs` (raw) and `targets`,
  - scikit-learn's MLPClassifier / MLPRegressor with their defaults on StandardScaler-ed inputs
    (what a user would do; random_state fixed so runs repeat),
then scores both on the test rows (accuracy or R²) and times the training (Axon: the HTTP
request's wall time, parsing included; scikit-learn: scaler fit + transform + fit).

    python Benchmarks/defaults/run.py --axond .build/release/axond [--repeat 3] [--only iris,...]

Prints one JSON line per dataset and a Markdown table with the medians and ratios.
"""
import argparse, json, os, socket, statistics, subprocess, sys, tempfile, time, urllib.request, warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler


def load(name):
    """(X, y, task) for each dataset; generators use fixed seeds."""
    if name == "iris": X, y = datasets.load_iris(return_X_y=True); return X, y, "classification"
    if name == "wine": X, y = datasets.load_wine(return_X_y=True); return X, y, "classification"
    if name == "breast_cancer": X, y = datasets.load_breast_cancer(return_X_y=True); return X, y, "classification"
    if name == "digits": X, y = datasets.load_digits(return_X_y=True); return X, y, "classification"
    if name == "classification_20k":
        X, y = datasets.make_classification(n_samples=20000, n_features=20, n_informative=10, n_classes=3, random_state=0)
        return X, y, "classification"
    if name == "diabetes": X, y = datasets.load_diabetes(return_X_y=True); return X, y, "regression"
    if name == "friedman1": X, y = datasets.make_friedman1(n_samples=2000, noise=1.0, random_state=0); return X, y, "regression"
    if name == "friedman2": X, y = datasets.make_friedman2(n_samples=1000, noise=10.0, random_state=0); return X, y, "regression"
    if name == "regression_10k":
        X, y = datasets.make_regression(n_samples=10000, n_features=20, n_informative=10, noise=10.0, random_state=0)
        return X, y, "regression"
    raise SystemExit(f"unknown dataset {name}")


NAMES = ["iris", "wine", "breast_cancer", "digits", "classification_20k", "diabetes", "friedman1", "friedman2", "regression_10k"]


def split(X, y, task):
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y if task == "classification" else None)


def score(task, truth, predicted):
    return accuracy_score(truth, predicted) if task == "classification" else r2_score(truth, predicted)


def sklearn_run(task, Xtr, ytr, Xte, yte):
    start = time.perf_counter()
    scaler = StandardScaler().fit(Xtr)
    model = (MLPClassifier if task == "classification" else MLPRegressor)(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(scaler.transform(Xtr), ytr)
    seconds = time.perf_counter() - start
    return score(task, yte, model.predict(scaler.transform(Xte))), seconds


class Axon:
    def __init__(self, binary):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0)); self.port = s.getsockname()[1]
        self.state = tempfile.TemporaryDirectory()
        self.process = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--state-dir", self.state.name, "--no-access-log"],
            stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz"); return
            except Exception:
                time.sleep(0.05)
        raise SystemExit("axond did not become ready")

    def post(self, path, body):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            return json.loads(urllib.request.urlopen(request, timeout=600).read())
        except urllib.error.HTTPError as error:
            raise SystemExit(f"{path}: {error.code} {error.read()[:400]}")

    def run(self, name, task, Xtr, ytr, Xte, yte, extra=None):
        targets = [int(v) for v in ytr] if task == "classification" else [float(v) for v in ytr]
        body = {"model": name, "inputs": Xtr.tolist(), "targets": targets, **(extra or {})}
        start = time.perf_counter()
        job = self.post("/train?wait=true", body)
        seconds = time.perf_counter() - start
        outputs = self.post("/predict", {"model": name, "inputs": Xte.tolist()})
        if job.get("metrics", {}).get("classes") is not None or "labels" in outputs:
            predicted = [int(label) for label in outputs["labels"]]
        else:
            predicted = [row[0] for row in outputs["outputs"]]
        return score(task, yte, predicted), seconds, job

    def close(self):
        self.process.terminate(); self.process.wait(); self.state.cleanup()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--axond", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(NAMES))
    parser.add_argument("--axon-extra", default="{}", help="extra /train fields (JSON), to try other settings; the benchmark proper sends none")
    parser.add_argument("--skip-sklearn", action="store_true", help="only Axon (while trying settings)")
    args = parser.parse_args()
    axon = Axon(args.axond)
    rows = []
    try:
        for name in args.only.split(","):
            X, y, task = load(name)
            Xtr, Xte, ytr, yte = split(X, y, task)
            axon_scores, axon_times, sk_scores, sk_times, job = [], [], [], [], None
            for _ in range(args.repeat):
                s, t, job = axon.run(name, task, Xtr, ytr, Xte, yte, json.loads(args.axon_extra)); axon_scores.append(s); axon_times.append(t)
                s, t = (float("nan"), float("nan")) if args.skip_sklearn else sklearn_run(task, Xtr, ytr, Xte, yte)
                sk_scores.append(s); sk_times.append(t)
            row = {
                "dataset": name, "task": task, "train_rows": len(Xtr), "test_rows": len(Xte), "features": X.shape[1],
                "metric": "accuracy" if task == "classification" else "r2",
                "axon": statistics.median(axon_scores), "sklearn": statistics.median(sk_scores),
                "axon_seconds": statistics.median(axon_times), "sklearn_seconds": statistics.median(sk_times),
                "axon_settings": job.get("settings"), "axon_epochs": job.get("epoch"), "axon_stop": job.get("stop_reason"),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        axon.close()
    print()
    print("| dataset | task | train / test rows | metric | Axon | scikit-learn | Axon - sklearn | Axon s | sklearn s | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['dataset']} | {r['task']} | {r['train_rows']} / {r['test_rows']} | {r['metric']} | {r['axon']:.4f} | {r['sklearn']:.4f} | "
              f"{r['axon'] - r['sklearn']:+.4f} | {r['axon_seconds']:.3f} | {r['sklearn_seconds']:.3f} | {r['sklearn_seconds'] / r['axon_seconds']:.1f}x |")


if __name__ == "__main__":
    main()
