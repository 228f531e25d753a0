#!/usr/bin/python3
"""engine_torch.py: the PyTorch peer of bench-engine (tests/bench/engine.sh).

    engine_torch.py MODEL WINDOWS [REPS] [BATCH]

The same two measurements as `bench-engine run`, on the same model file
and windows file, with the reference network of tests/reference/ref.py in
eager mode, float32, one thread (torch.set_num_threads(1)), under
torch.no_grad():

(1) window 0 (200 events): the forward pass with the heads at the last
    position (churn, next-type distribution, next-item scores) plus the
    attention arrays per_head, last_layer_mean and rollout (the row of
    the last query, multiplied through the layers as a row vector):
    the median of REPS (default 300) in ms;
(2) windows 1..N sorted by length (stable) and cut into batches of BATCH
    (default 64), each padded to its longest window and packed into
    tensors before the clock starts; the forward pass with the heads at
    the last position (no attention arrays) over all batches: the median
    of 7 passes, in customers per second.

PyTorch computes every position of every layer (the usual eager model);
the C engine's NN_LAST computes only the last query in the last layer.
Prints "single_ms X" and "batch_cps Y" lines for engine.sh.
"""
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "reference"))
import ref  # noqa: E402


def read_windows(path):
    """Lists of (type, item, gap, amount, pos) per window."""
    with open(path) as f:
        words = f.read().split()
    if words[:2] != ["journeyscope-windows", "1"]:
        raise ValueError("%s: not a windows file" % path)
    it = iter(words[2:])
    out = []
    for _ in range(int(next(it))):
        n = int(next(it))
        out.append([[int(next(it)) for _ in range(5)] for _ in range(n)])
    return out


def readouts(atts, n):
    """per_head (L, H, n), mean (n), rollout (n) of window 0."""
    per_head = torch.stack([a[0, :, n - 1, :n] for a in atts])
    mean = per_head[-1].mean(0)
    r = torch.zeros(n, dtype=atts[0].dtype)
    r[n - 1] = 1
    for a in reversed(atts):            # r <- r (0.5 A_l + 0.5 I)
        r = 0.5 * (r @ a[0, :, :n, :n].mean(0)) + 0.5 * r
    return per_head, mean, r


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    reps = int(argv[3]) if len(argv) > 3 else 300
    bs = int(argv[4]) if len(argv) > 4 else 64
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    model = ref.Model.load(argv[1], dtype=torch.float32)
    windows = read_windows(argv[2])

    with torch.no_grad():
        # (1) one window, every output
        tok, lens = ref.pad_windows(windows[:1])
        n = len(windows[0])
        times = []
        for i in range(-reps // 10 - 5, reps):
            t0 = time.perf_counter()
            out = model.forward(tok, lens, every_position=False)
            ph, mean, roll = readouts(out["att"], n)
            if i >= 0:
                times.append(1e3 * (time.perf_counter() - t0))
        ms = statistics.median(times)
        print("single window: %d events, median of %d: %.4f ms (churn "
              "%.6f, rollout[n-1] %.6f)" % (n, reps, ms,
                                             float(out["churn"][0]),
                                             float(roll[n - 1])))
        print("single_ms %.6f" % ms)

        # (2) batches sorted by length, packed before timing
        rest = windows[1:]
        order = sorted(range(len(rest)), key=lambda i: (len(rest[i]), i))
        batches = [ref.pad_windows([rest[i] for i in order[j:j + bs]])
                   for j in range(0, len(order), bs)]
        passes = []
        for p in range(-1, 7):
            t0 = time.perf_counter()
            sink = 0.0
            for tok, lens in batches:
                out = model.forward(tok, lens, every_position=False)
                sink += float(out["churn"].sum())
            if p >= 0:
                passes.append(time.perf_counter() - t0)
        secs = statistics.median(passes)
        print("batch scoring: %d windows, %d batches of %d, median of 7 "
              "passes: %.3f s, %.0f customers/s (mean churn %.6f)" % (
                  len(rest), len(batches), bs, secs, len(rest) / secs,
                  sink / len(rest)))
        print("batch_cps %.1f" % (len(rest) / secs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
