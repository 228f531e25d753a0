#!/usr/bin/python3
"""train_ref.py: the training-loss fixture of tests/t-train.c.

    train_ref.py [OUTDIR]          (default: tests/data/ref beside this file)

Builds a small journeyscope-seq v1 model with non-trivial random weights
(make-fixtures.py's random_tensors), a padded batch of windows of
different lengths with next-type targets (some 0: none), next-item
targets (some 0 or 1: none), churn labels (some -1: none) and K shared
negative items (one equal to a target, one repeated), computes the
training loss of one step as src/train.c's tloss_batch defines it, in
float64 on ref.py's forward pass (MODEL.md):

    z = LN_f output at every position (b, t, d)
    type  = sum over positions r with tt[r] > 0 of
            CE(softmax(z_r Wtype^T + btype), tt[r])                 / n_type
    item  = sum over positions r with ti[r] > 1 of
            -log softmax([z_r . E[ti[r]], z_r . E[neg_0], ...,
                          z_r . E[neg_{K-1}]])[0]                   / n_item
            (a negative equal to ti[r] is left out; E = emb.item, tied)
    churn = sum over windows i with label[i] >= 0 of
            BCE(sigmoid(z_{i,len_i-1} . w_churn + b_churn), label) / n_churn
    total = type + item + churn

and the gradient of the total with respect to every parameter tensor by
autograd. Writes:

    train1.safetensors  the model (MODEL.md's layout and __metadata__)
    train1.txt          the batch, the expected losses and gradients

train1.txt is whitespace-separated words and numbers, read with fscanf:

    journeyscope-train-ref 1
    model train1.safetensors        (beside the .txt)
    config C L H max_len n_types n_items
    batch B T                       B windows padded to T positions
    len B                           then B lengths
    tokens B*T                      then B*T lines: type item gap amount pos
                                    (window-major; padding rows are zeros)
    tt B*T                          then B*T next-type targets (0: none)
    ti B*T                          then B*T next-item targets (0, 1: none)
    label B                         then B churn labels (-1: none)
    negatives K                     then K item indices
    counts n_type n_item n_churn
    loss type item churn total      the four float64 values
    grads G                         G = 11 + 12 L tensors, then G times:
      NAME N                        MODEL.md's tensor name, N values
      N values                      d total / d tensor, row-major
    end

Numbers are written with 12 significant digits. Deterministic (numpy
seed 2024). Needs /usr/bin/python3 with torch and numpy.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref  # noqa: E402
from importlib import import_module  # noqa: E402

fixtures = import_module("make-fixtures")

NAME = "train1"
D, L, H, MAX_LEN, N_TYPES, N_ITEMS = 16, 2, 2, 12, 7, 30
LENS = [12, 5, 1, 9, 3]
LABELS = [1, -1, 0, 1, -1]
K = 8


def make_batch(rng, cfg):
    """tok (B, T, 5), lens, tt (B, T), ti (B, T), labels, negatives."""
    B, T = len(LENS), max(LENS)
    windows = [fixtures.random_window(n, cfg, rng) for n in LENS]
    tok, lens = ref.pad_windows(windows, T)
    tt = np.zeros((B, T), dtype=np.int64)
    ti = np.zeros((B, T), dtype=np.int64)
    for i, n in enumerate(LENS):
        for k in range(n):
            # about 1 in 5 positions without a type target
            tt[i, k] = 0 if rng.random() < 0.2 else \
                int(rng.integers(1, N_TYPES))
            # none (0), unknown (1) or an item
            ti[i, k] = int(rng.choice([0, 1, int(rng.integers(2, N_ITEMS))],
                                      p=[0.2, 0.15, 0.65]))
    targets = sorted(set(int(x) for x in ti.reshape(-1) if x > 1))
    neg = [int(x) for x in rng.integers(2, N_ITEMS, K - 2)]
    # one negative equal to a target, one negative twice
    neg.append(targets[len(targets) // 2])
    neg.append(neg[0])
    neg = [int(x) for x in rng.permutation(neg)]
    return tok, lens, tt, ti, LABELS, neg


def losses(model, tok, lens, tt, ti, labels, neg):
    """(type, item, churn) as tloss_batch defines them, float64."""
    w = model.w
    z = model.forward(tok, lens)["z"]                   # (B, T, d)
    B, T, d = z.shape
    zf = z.reshape(B * T, d)
    ttf = torch.tensor(tt.reshape(-1))
    tif = torch.tensor(ti.reshape(-1))
    rows = (ttf > 0).nonzero().reshape(-1)
    logits = F.linear(zf[rows], w["head.type.weight"], w["head.type.bias"])
    lt = F.cross_entropy(logits, ttf[rows], reduction="sum") / len(rows)
    rows = (tif > 1).nonzero().reshape(-1)
    negt = torch.tensor(neg)
    E = w["emb.item"]
    zr = zf[rows]
    pos = (zr * E[tif[rows]]).sum(-1, keepdim=True)     # (n, 1)
    sn = zr @ E[negt].T                                 # (n, K)
    sn = sn.masked_fill(negt[None, :] == tif[rows][:, None], float("-inf"))
    lg = torch.cat([pos, sn], 1)
    li = -torch.log_softmax(lg, 1)[:, 0].sum() / len(rows)
    lab = torch.tensor(labels)
    keep = (lab >= 0).nonzero().reshape(-1)
    zl = z[keep, lens[keep] - 1]
    cl = zl @ w["head.churn.weight"][0] + w["head.churn.bias"][0]
    lc = F.binary_cross_entropy_with_logits(
        cl, lab[keep].to(z.dtype), reduction="sum") / len(keep)
    counts = (int((ttf > 0).sum()), int((tif > 1).sum()), len(keep))
    return lt, li, lc, counts


def fmt(v):
    return " ".join("%.12g" % x for x in v)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = argv[1] if len(argv) > 1 else os.path.join(here, "..", "data",
                                                        "ref")
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(2024)
    types = list(ref.TYPE_RESERVED) + ["type_%d" % i
                                       for i in range(N_TYPES - 2)]
    items = list(ref.ITEM_RESERVED) + ["I%03d" % (10 + 3 * i)
                                       for i in range(N_ITEMS - 2)]
    cfg = {"d_model": D, "n_layers": L, "n_heads": H, "max_len": MAX_LEN,
           "n_types": N_TYPES, "n_items": N_ITEMS, "churn_horizon_days": 30}
    tensors = fixtures.random_tensors(cfg, rng, 0.5)
    path = os.path.join(outdir, NAME + ".safetensors")
    ref.write_safetensors(path, tensors, ref.model_metadata(cfg, types,
                                                            items))
    model = ref.Model.load(path)        # what the file says, read back
    for v in model.w.values():
        v.requires_grad_(True)
    tok, lens, tt, ti, labels, neg = make_batch(rng, cfg)
    lt, li, lc, counts = losses(model, tok, lens, tt, ti, labels, neg)
    total = lt + li + lc
    total.backward()
    B, T = tok.shape[0], tok.shape[1]
    names = list(ref.tensor_shapes(cfg))
    with open(os.path.join(outdir, NAME + ".txt"), "w") as f:
        f.write("journeyscope-train-ref 1\n")
        f.write("model %s.safetensors\n" % NAME)
        f.write("config %d %d %d %d %d %d\n" % (D, L, H, MAX_LEN, N_TYPES,
                                                N_ITEMS))
        f.write("batch %d %d\n" % (B, T))
        f.write("len %d\n%s\n" % (B, " ".join(str(int(x)) for x in lens)))
        f.write("tokens %d\n" % (B * T))
        for r in tok.reshape(B * T, 5).tolist():
            f.write("%d %d %d %d %d\n" % tuple(r))
        for name, a in (("tt", tt), ("ti", ti)):
            f.write("%s %d\n" % (name, B * T))
            for i in range(B):
                f.write(" ".join(str(int(x)) for x in a[i]) + "\n")
        f.write("label %d\n%s\n" % (B, " ".join(str(x) for x in labels)))
        f.write("negatives %d\n%s\n" % (K, " ".join(str(x) for x in neg)))
        f.write("counts %d %d %d\n" % counts)
        f.write("loss %s\n" % fmt([float(lt), float(li), float(lc),
                                   float(total)]))
        f.write("grads %d\n" % len(names))
        for name in names:
            g = model.w[name].grad.reshape(-1).numpy()
            f.write("%s %d\n" % (name, len(g)))
            for k in range(0, len(g), 8):
                f.write(fmt(g[k:k + 8]) + "\n")
        f.write("end\n")
    gmax = max(float(model.w[n].grad.abs().max()) for n in names)
    print("%s: d=%d L=%d H=%d max_len=%d NT=%d NI=%d; %d windows (lengths "
          "%s), counts type %d item %d churn %d, negatives %s; loss type "
          "%.6f item %.6f churn %.6f total %.6f; largest gradient %.3g" % (
              NAME, D, L, H, MAX_LEN, N_TYPES, N_ITEMS, B, LENS, counts[0],
              counts[1], counts[2], neg, float(lt), float(li), float(lc),
              float(total), gmax))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
