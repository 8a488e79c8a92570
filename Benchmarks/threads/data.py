"""Writes the two data sets of Benchmarks/threads in axon-bench's CSV form (DIR/NAME_std_train.csv
and DIR/NAME_std_test.csv: a header, then numeric rows whose last column is the class).

- wide: 64 standardized features, 10 classes labelled by a random teacher network (as the
  peers' synthetic set), 20,000 train / 5,000 test rows, seed 0.
- digits: examples/digits.csv (scikit-learn's 8x8 digits), split 80/20 with seed 0 and
  standardized with the training split's statistics.
- x2: y = x^2 for x = 0..9 (8 train / 2 test rows), the peers' smallest set: a step there is
  almost all fixed cost, so it shows any per-step overhead.

    python3 Benchmarks/threads/data.py OUT_DIR
"""
import os
import sys

import numpy as np


def write(path, features, labels):
    header = ",".join([f"f{i}" for i in range(features.shape[1])] + ["label"])
    table = np.column_stack([features, labels.astype(np.float64)])
    np.savetxt(path, table, delimiter=",", header=header, comments="", fmt="%.7g")


def split_and_standardize(features, labels, test_fraction, rng):
    order = rng.permutation(len(labels))
    test_count = int(round(len(labels) * test_fraction))
    test, train = order[:test_count], order[test_count:]
    mean = features[train].mean(axis=0)
    std = features[train].std(axis=0)
    std[std == 0] = 1
    scale = lambda rows: (features[rows] - mean) / std
    return scale(train), labels[train], scale(test), labels[test]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    rng = np.random.default_rng(0)

    features = rng.standard_normal((25_000, 64))
    hidden = np.tanh(features @ rng.standard_normal((64, 32)) / 8)
    labels = np.argmax(hidden @ rng.standard_normal((32, 10)), axis=1)
    train_x, train_y, test_x, test_y = split_and_standardize(features, labels, 0.2, rng)
    write(os.path.join(out, "wide_std_train.csv"), train_x, train_y)
    write(os.path.join(out, "wide_std_test.csv"), test_x, test_y)

    digits = np.loadtxt(os.path.join(here, "../../examples/digits.csv"), delimiter=",", skiprows=1)
    train_x, train_y, test_x, test_y = split_and_standardize(digits[:, :-1], digits[:, -1], 0.2, rng)
    write(os.path.join(out, "digits_std_train.csv"), train_x, train_y)
    write(os.path.join(out, "digits_std_test.csv"), test_x, test_y)

    x = np.arange(10, dtype=np.float64).reshape(-1, 1)
    train_x, train_y, test_x, test_y = split_and_standardize(x, x[:, 0] ** 2, 0.2, rng)
    write(os.path.join(out, "x2_std_train.csv"), train_x, train_y)
    write(os.path.join(out, "x2_std_test.csv"), test_x, test_y)


if __name__ == "__main__":
    main()
