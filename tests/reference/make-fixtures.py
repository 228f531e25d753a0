#!/usr/bin/python3
"""make-fixtures.py: the reference fixtures of tests/t-nn-ref.c.

    make-fixtures.py [OUTDIR]      (default: tests/data/ref beside this file)

Makes a few small journeyscope-seq v1 models with non-trivial random
weights (random biases, LayerNorm weights and biases away from 1 and 0, a
churn bias; deterministic: numpy seeds), random token windows for each
(length 1, odd lengths, exactly max_len, all token ranges), and writes for
fixture NAME:

    NAME.safetensors   the model, MODEL.md's layout and __metadata__, the
                       tensors in name order (not the C writer's order)
    NAME.txt           the windows and what ref.py computes for them in
                       float64 (the C float32 result must agree to 1e-4)

NAME.txt is whitespace-separated words and numbers, read with fscanf:

    journeyscope-ref 1
    model NAME.safetensors          (beside the .txt)
    config C L H max_len n_types n_items
    windows W
    then W times:
      window I N                    (I = 0 .. W-1, N events)
      N lines: type item gap amount pos
      churn 1        P(churn)
      type_last NT   next-type distribution at the last position
      items NI       next-item scores z_{N-1} . E_item[j], j = 0 .. NI-1
      type_all N*NT  next-type distribution at every position (pos-major)
      per_head L*H*N attention of the last query: [l][h][j]
      mean N         last layer's mean over heads
      rollout N      row N-1 of the attention rollout
      (each keyword is followed by its count, then that many numbers)
    end

Numbers are written with 10 significant digits.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref  # noqa: E402

# name, d, L, H, max_len, event types, items, window lengths, extra config,
# vocabularies as metadata strings instead of inside the config, the
# embeddings' scale (small in m3, as after a GPT-2 style initialisation,
# so that LayerNorm's eps shows in the outputs)
FIXTURES = [
    ("m1", 32, 2, 4, 24, 9, 29, [1, 2, 3, 7, 12, 17, 23, 24, 24, 5], None,
     False, 0.5),
    ("m2", 24, 3, 3, 17, 5, 18, [17, 1, 5, 11, 16, 2, 9, 17],
     {"note": "reference fixture"}, False, 0.5),
    ("m3", 20, 2, 1, 9, 6, 13, [1, 9, 3, 8, 5, 2], None, False, 0.01),
    ("m4", 12, 1, 2, 6, 4, 9, [6, 1, 3, 5, 2, 6], None, True, 0.5),
]


def random_tensors(cfg, rng, emb_scale):
    """Every tensor of MODEL.md, scaled so that attention is neither
    uniform nor one-hot and the churn probability is not saturated."""
    d = cfg["d_model"]
    out = {}
    for name, shape in ref.tensor_shapes(cfg).items():
        if name.startswith("emb."):
            s, mu = emb_scale, 0.0
        elif name.endswith("ln1.weight") or name.endswith("ln2.weight") or \
                name == "ln_f.weight":
            s, mu = 0.25, 1.0
        elif name.endswith(".bias") and ("ln1" in name or "ln2" in name or
                                         "ln_f" in name):
            s, mu = 0.2, 0.0
        elif name.endswith("attn.qkv.weight"):
            s, mu = 1.2 / np.sqrt(d), 0.0
        elif name.endswith("attn.proj.weight"):
            s, mu = 0.6 / np.sqrt(d), 0.0
        elif name.endswith("mlp.fc.weight"):
            s, mu = 1.0 / np.sqrt(d), 0.0
        elif name.endswith("mlp.proj.weight"):
            s, mu = 0.6 / np.sqrt(4 * d), 0.0
        elif name == "head.type.weight":
            s, mu = 1.0 / np.sqrt(d), 0.0
        elif name == "head.churn.weight":
            s, mu = 0.6 / np.sqrt(d), 0.0
        elif name == "head.churn.bias":
            s, mu = 0.0, -0.7
        else:                           # the other biases
            s, mu = 0.2, 0.0
        out[name] = (mu + s * rng.standard_normal(shape)).astype(np.float32)
    return out


def random_window(n, cfg, rng):
    """n events: unknown types and items now and then, no-item events,
    gap 0 first then 1..31, every amount token, positions 0..n-1."""
    w = []
    for k in range(n):
        typ = int(rng.integers(1, cfg["n_types"]))
        item = int(rng.choice([0, 1, int(rng.integers(2, cfg["n_items"]))],
                              p=[0.25, 0.1, 0.65]))
        gap = 0 if k == 0 else int(rng.integers(1, ref.N_GAP))
        amount = int(rng.integers(0, ref.N_AMOUNT))
        w.append([typ, item, gap, amount, k])
    return w


def make(outdir, fx, seed):
    name, d, L, H, max_len, ntypes, nitems, lens, extra, meta_vocab, \
        emb_scale = fx
    rng = np.random.default_rng(seed)
    types = list(ref.TYPE_RESERVED) + ["type_%d" % i for i in range(ntypes)]
    items = list(ref.ITEM_RESERVED) + ["P%04d" % (100 + 7 * i)
                                       for i in range(nitems)]
    cfg = {"d_model": d, "n_layers": L, "n_heads": H, "max_len": max_len,
           "n_types": len(types), "n_items": len(items),
           "churn_horizon_days": 30}
    tensors = random_tensors(cfg, rng, emb_scale)
    meta = ref.model_metadata(cfg, types, items, extra)
    if meta_vocab:
        # the other place the C loader accepts: metadata strings
        c = json.loads(meta["config"])
        meta["types"] = json.dumps(c.pop("types"))
        meta["items"] = json.dumps(c.pop("items"))
        meta["config"] = json.dumps(c, separators=(",", ":"))
    path = os.path.join(outdir, name + ".safetensors")
    ref.write_safetensors(path, tensors, meta)
    model = ref.Model.load(path)        # what the file says, read back
    windows = [random_window(n, cfg, rng) for n in lens]
    results = ref.expected(model, windows)
    with open(os.path.join(outdir, name + ".txt"), "w") as f:
        ref.write_fixture(f, name + ".safetensors", cfg, windows, results)
    churn = [r["churn"][0] for r in results]
    amax = max(r["per_head"].max() for r in results if len(r["mean"]) > 1)
    print("%s: d=%d L=%d H=%d max_len=%d NT=%d NI=%d, %d windows; churn "
          "%.3f..%.3f, largest attention weight %.3f" % (
              name, d, L, H, max_len, cfg["n_types"], cfg["n_items"],
              len(windows), min(churn), max(churn), amax))


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = argv[1] if len(argv) > 1 else os.path.join(here, "..", "data",
                                                        "ref")
    os.makedirs(outdir, exist_ok=True)
    for i, fx in enumerate(FIXTURES):
        make(outdir, fx, 1000 + i)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
