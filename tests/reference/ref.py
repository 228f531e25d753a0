#!/usr/bin/python3
"""ref.py: an independent PyTorch reference of the journeyscope-seq v1 model.

Written from /work/shared/MODEL.md (the model contract), not from the C
engine: the network, the heads, the attention read-outs and the
safetensors file, with its own reader and writer (struct + json, no
safetensors package). The C tests do not need it: it made the committed
fixtures in tests/data/ref/ (see make-fixtures.py) and checks models the C
code writes.

    ref.py info MODEL              read a model file, print its config
    ref.py compare MODEL TXT [TOL] recompute the outputs recorded in TXT (the
                                   fixture format of make-fixtures.py) in
                                   float64, print the max abs error of each
                                   quantity, exit 1 if one is above TOL
                                   (default 1e-4, MODEL.md's bar)
    ref.py selftest                check the reference against itself: the
                                   functional ops against MODEL.md's
                                   formulas, batched against one at a time,
                                   each attention array summing to 1

Needs /usr/bin/python3 with torch and numpy (Debian's python3-torch).
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

FORMAT = "journeyscope-seq"
VERSION = "1"
N_GAP = 32
N_AMOUNT = 16
LN_EPS = 1e-5
CONFIG_KEYS = ("d_model", "n_layers", "n_heads", "max_len", "n_types",
               "n_items", "churn_horizon_days")
TYPE_RESERVED = ("<pad>", "<unk>")
ITEM_RESERVED = ("<none>", "<unk>")
QUANTITIES = ("churn", "type_last", "items", "type_all", "per_head", "mean",
              "rollout")


# ---- the file (MODEL.md "File format") ----

def tensor_shapes(cfg):
    """Name -> shape of every tensor MODEL.md lists, in its order."""
    d, nt, ni = cfg["d_model"], cfg["n_types"], cfg["n_items"]
    out = {
        "emb.type": (nt, d),
        "emb.item": (ni, d),
        "emb.gap": (N_GAP, d),
        "emb.amount": (N_AMOUNT, d),
        "emb.pos": (cfg["max_len"], d),
    }
    for l in range(cfg["n_layers"]):
        p = "blocks.%d." % l
        out[p + "ln1.weight"] = (d,)
        out[p + "ln1.bias"] = (d,)
        out[p + "attn.qkv.weight"] = (3 * d, d)
        out[p + "attn.qkv.bias"] = (3 * d,)
        out[p + "attn.proj.weight"] = (d, d)
        out[p + "attn.proj.bias"] = (d,)
        out[p + "ln2.weight"] = (d,)
        out[p + "ln2.bias"] = (d,)
        out[p + "mlp.fc.weight"] = (4 * d, d)
        out[p + "mlp.fc.bias"] = (4 * d,)
        out[p + "mlp.proj.weight"] = (d, 4 * d)
        out[p + "mlp.proj.bias"] = (d,)
    out["ln_f.weight"] = (d,)
    out["ln_f.bias"] = (d,)
    out["head.type.weight"] = (nt, d)
    out["head.type.bias"] = (nt,)
    out["head.churn.weight"] = (1, d)
    out["head.churn.bias"] = (1,)
    return out


def read_safetensors(path):
    """(tensors: name -> float32 numpy array, metadata dict) of a file.

    Checks what a safetensors reader must: the header length against the
    file, JSON, F32 only, each tensor's bytes against its shape, offsets
    inside the data and tiling it without overlap or gap.
    """
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("%s: %d bytes: too short" % (path, len(buf)))
    (hlen,) = struct.unpack("<Q", buf[:8])
    if hlen > len(buf) - 8:
        raise ValueError("%s: header length %d past the end" % (path, hlen))
    header = json.loads(buf[8:8 + hlen].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("%s: header is not a JSON object" % path)
    data = buf[8 + hlen:]
    meta = header.pop("__metadata__", {}) or {}
    tensors, spans = {}, []
    for name, ent in header.items():
        if ent.get("dtype") != "F32":
            raise ValueError("%s: %s: dtype %r, want F32" %
                             (path, name, ent.get("dtype")))
        shape = tuple(int(s) for s in ent["shape"])
        b, e = (int(x) for x in ent["data_offsets"])
        if not 0 <= b <= e <= len(data):
            raise ValueError("%s: %s: data_offsets [%d, %d] outside the "
                             "%d bytes of data" % (path, name, b, e,
                                                   len(data)))
        if e - b != 4 * math.prod(shape):
            raise ValueError("%s: %s: %d bytes for shape %s" %
                             (path, name, e - b, shape))
        spans.append((b, e, name))
        tensors[name] = np.frombuffer(data, dtype="<f4", count=(e - b) // 4,
                                      offset=b).reshape(shape).copy()
    at = 0
    for b, e, name in sorted(spans):
        if b != at:
            raise ValueError("%s: %s: data_offsets overlap or leave a gap "
                             "(at %d, starts %d)" % (path, name, at, b))
        at = e
    if at != len(data):
        raise ValueError("%s: %d bytes after the last tensor" %
                         (path, len(data) - at))
    return tensors, meta


def write_safetensors(path, tensors, meta):
    """Write tensors (name -> array, written in name order) and meta."""
    header = {"__metadata__": meta}
    chunks, off = [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [off, off + a.nbytes]}
        chunks.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def model_metadata(cfg, types, items, extra=None):
    """MODEL.md's __metadata__: format, version, config (a JSON string)."""
    c = {k: cfg[k] for k in CONFIG_KEYS}
    if extra:
        c.update(extra)
    c["types"] = list(types)
    c["items"] = list(items)
    return {"format": FORMAT, "version": VERSION,
            "config": json.dumps(c, separators=(",", ":"))}


def parse_metadata(meta, path):
    """(cfg, types, items) from __metadata__, checked."""
    if meta.get("format") != FORMAT:
        raise ValueError("%s: format %r" % (path, meta.get("format")))
    if meta.get("version") != VERSION:
        raise ValueError("%s: version %r" % (path, meta.get("version")))
    cfg = json.loads(meta["config"])
    for k in CONFIG_KEYS:
        if not isinstance(cfg.get(k), int):
            raise ValueError("%s: config: no whole number %s" % (path, k))
    # the vocabularies: in the config, else metadata strings
    voc = {}
    for k in ("types", "items"):
        v = cfg.get(k)
        if v is None and k in meta:
            v = json.loads(meta[k])
        if not isinstance(v, list):
            raise ValueError("%s: no %s vocabulary" % (path, k))
        voc[k] = v
    if tuple(voc["types"][:2]) != TYPE_RESERVED or \
            tuple(voc["items"][:2]) != ITEM_RESERVED:
        raise ValueError("%s: vocabularies do not start with the reserved "
                         "entries" % path)
    if len(voc["types"]) != cfg["n_types"] or \
            len(voc["items"]) != cfg["n_items"]:
        raise ValueError("%s: vocabulary sizes disagree with the config" %
                         path)
    if cfg["d_model"] % cfg["n_heads"]:
        raise ValueError("%s: n_heads does not divide d_model" % path)
    return cfg, voc["types"], voc["items"]


# ---- the network (MODEL.md "Network", "Heads", "Attention") ----

class Model:
    """The parameters of one model file, as torch tensors of one dtype."""

    def __init__(self, cfg, tensors, types=None, items=None,
                 dtype=torch.float64):
        want = tensor_shapes(cfg)
        for name, shape in want.items():
            if name not in tensors:
                raise ValueError("missing tensor %s" % name)
            if tuple(tensors[name].shape) != shape:
                raise ValueError("tensor %s: shape %s, config wants %s" %
                                 (name, tuple(tensors[name].shape), shape))
            if not np.all(np.isfinite(tensors[name])):
                raise ValueError("tensor %s: non-finite value" % name)
        self.cfg = cfg
        self.types, self.items = types, items
        self.d = cfg["d_model"]
        self.L = cfg["n_layers"]
        self.H = cfg["n_heads"]
        self.dh = self.d // self.H
        self.dtype = dtype
        self.w = {k: torch.tensor(np.asarray(tensors[k], dtype=np.float32),
                                  dtype=dtype) for k in want}

    @classmethod
    def load(cls, path, dtype=torch.float64):
        tensors, meta = read_safetensors(path)
        cfg, types, items = parse_metadata(meta, path)
        return cls(cfg, tensors, types, items, dtype)

    def ln(self, x, name):
        """LayerNorm: biased variance, eps 1e-5."""
        return F.layer_norm(x, (self.d,), self.w[name + ".weight"],
                            self.w[name + ".bias"], LN_EPS)

    def embed(self, tok):
        """x_k, the sum of the five embedding rows; tok is (B, T, 5)."""
        w = self.w
        return (w["emb.type"][tok[..., 0]] + w["emb.item"][tok[..., 1]] +
                w["emb.gap"][tok[..., 2]] + w["emb.amount"][tok[..., 3]] +
                w["emb.pos"][tok[..., 4]])

    def forward(self, tok, lens, every_position=True):
        """Run b windows padded to T: tok (B, T, 5) long, lens (B) long.

        Returns a dict: att (a list of L tensors (B, H, T, T), rows of
        padded queries included), churn (B), type_last (B, NT), items
        (B, NI) and, with every_position, z (B, T, d) and type_all
        (B, T, NT).
        """
        B, T = tok.shape[0], tok.shape[1]
        d, H, dh, w = self.d, self.H, self.dh, self.w
        pos = torch.arange(T)
        valid = pos[None, :] < lens[:, None]                # (B, T) keys
        causal = pos[None, :] <= pos[:, None]               # (T, T) j <= k
        allowed = causal[None, None] & valid[:, None, None, :]
        x = self.embed(tok)
        atts = []
        for l in range(self.L):
            p = "blocks.%d." % l
            a = self.ln(x, p + "ln1")
            qkv = F.linear(a, w[p + "attn.qkv.weight"], w[p + "attn.qkv.bias"])
            q, k, v = (qkv[..., i * d:(i + 1) * d].reshape(B, T, H, dh)
                       .transpose(1, 2) for i in range(3))
            s = q @ k.transpose(-1, -2) / math.sqrt(dh)
            att = torch.softmax(s.masked_fill(~allowed, float("-inf")), -1)
            y = (att @ v).transpose(1, 2).reshape(B, T, d)
            x = x + F.linear(y, w[p + "attn.proj.weight"],
                             w[p + "attn.proj.bias"])
            a = self.ln(x, p + "ln2")
            h = F.gelu(F.linear(a, w[p + "mlp.fc.weight"],
                                w[p + "mlp.fc.bias"]), approximate="tanh")
            x = x + F.linear(h, w[p + "mlp.proj.weight"],
                             w[p + "mlp.proj.bias"])
            atts.append(att)
        last = lens - 1
        out = {"att": atts}
        if every_position:
            z = self.ln(x, "ln_f")
            zl = z[torch.arange(B), last]                    # (B, d)
            out["z"] = z
        else:
            zl = self.ln(x[torch.arange(B), last], "ln_f")   # the same rows
        out["churn"] = torch.sigmoid(zl @ w["head.churn.weight"][0] +
                                     w["head.churn.bias"][0])
        out["type_last"] = torch.softmax(
            F.linear(zl, w["head.type.weight"], w["head.type.bias"]), -1)
        out["items"] = zl @ w["emb.item"].T
        if every_position:
            out["type_all"] = torch.softmax(
                F.linear(z, w["head.type.weight"], w["head.type.bias"]), -1)
        return out


def attention_arrays(atts, i, n):
    """per_head (L, H, n), last_layer_mean (n), rollout (n) of window i.

    Query = the last event n-1. Rollout is row n-1 of
    R = Â_{L-1} ... Â_1 Â_0 with Â_l = 0.5 mean_h att_l + 0.5 I, the n x n
    matrices multiplied as written.
    """
    per_head = torch.stack([a[i, :, n - 1, :n] for a in atts])
    mean = per_head[-1].mean(0)
    eye = torch.eye(n, dtype=atts[0].dtype)
    R = eye
    for a in atts:                      # l = 0 .. L-1: R <- Â_l R
        R = (0.5 * a[i, :, :n, :n].mean(0) + 0.5 * eye) @ R
    return per_head, mean, R[n - 1]


def pad_windows(windows, T=None):
    """(tok (B, T, 5) long, lens (B) long) from lists of (n, 5) tokens."""
    lens = [len(w) for w in windows]
    T = T or max(lens)
    tok = torch.zeros(len(windows), T, 5, dtype=torch.long)
    for i, w in enumerate(windows):
        tok[i, :len(w)] = torch.tensor(w, dtype=torch.long)
    return tok, torch.tensor(lens, dtype=torch.long)


def expected(model, windows):
    """Every quantity of the fixture format for each window, float64."""
    tok, lens = pad_windows(windows)
    with torch.no_grad():
        out = model.forward(tok, lens)
    res = []
    for i, w in enumerate(windows):
        n = len(w)
        ph, mean, roll = attention_arrays(out["att"], i, n)
        res.append({
            "churn": out["churn"][i:i + 1],
            "type_last": out["type_last"][i],
            "items": out["items"][i],
            "type_all": out["type_all"][i, :n],
            "per_head": ph,
            "mean": mean,
            "rollout": roll,
        })
    return [{k: v.double().reshape(-1).numpy() for k, v in r.items()}
            for r in res]


# ---- the fixture text format (documented in make-fixtures.py) ----

def write_fixture(f, model_name, cfg, windows, results):
    """One fixture text: the windows and what the network gives for them."""
    c = cfg
    f.write("journeyscope-ref 1\n")
    f.write("model %s\n" % model_name)
    f.write("config %d %d %d %d %d %d\n" % (
        c["d_model"], c["n_layers"], c["n_heads"], c["max_len"],
        c["n_types"], c["n_items"]))
    f.write("windows %d\n" % len(windows))
    for i, (w, r) in enumerate(zip(windows, results)):
        f.write("window %d %d\n" % (i, len(w)))
        for t in w:
            f.write("%d %d %d %d %d\n" % tuple(t))
        for q in QUANTITIES:
            v = r[q]
            f.write("%s %d\n" % (q, len(v)))
            for k in range(0, len(v), 8):
                f.write(" ".join("%.10g" % x for x in v[k:k + 8]) + "\n")
    f.write("end\n")


def read_fixture(path):
    """(header dict, windows, results) of a fixture text."""
    with open(path) as f:
        words = f.read().split()
    it = iter(words)

    def take(word):
        got = next(it)
        if got != word:
            raise ValueError("%s: want %r, got %r" % (path, word, got))

    take("journeyscope-ref")
    take("1")
    take("model")
    hdr = {"model": next(it)}
    take("config")
    hdr["config"] = [int(next(it)) for _ in range(6)]
    take("windows")
    nw = int(next(it))
    windows, results = [], []
    for i in range(nw):
        take("window")
        take(str(i))
        n = int(next(it))
        windows.append([[int(next(it)) for _ in range(5)] for _ in range(n)])
        r = {}
        for q in QUANTITIES:
            take(q)
            m = int(next(it))
            r[q] = np.array([float(next(it)) for _ in range(m)])
        results.append(r)
    take("end")
    return hdr, windows, results


# ---- commands ----

def cmd_info(path):
    m = Model.load(path)
    c = dict(m.cfg)
    c.pop("types", None)
    c.pop("items", None)
    nt, ni = len(m.types), len(m.items)
    n = sum(v.numel() for v in m.w.values())
    print("%s: %s; vocabularies of %d types, %d items; %d parameters" %
          (path, json.dumps(c, sort_keys=True), nt, ni, n))
    return 0


def cmd_compare(model_path, txt, tol=1e-4):
    m = Model.load(model_path)
    hdr, windows, got = read_fixture(txt)
    c = m.cfg
    want_cfg = [c["d_model"], c["n_layers"], c["n_heads"], c["max_len"],
                c["n_types"], c["n_items"]]
    if hdr["config"] != want_cfg:
        print("config in %s %s, the model has %s" % (txt, hdr["config"],
                                                    want_cfg))
        return 1
    exp = expected(m, windows)
    bad = 0
    for q in QUANTITIES:
        err = max(float(np.max(np.abs(g[q] - e[q]))) if len(e[q]) else 0.0
                  for g, e in zip(got, exp))
        flag = "ok" if err <= tol else "FAIL"
        bad += err > tol
        print("%-10s max abs error %.3g  %s" % (q, err, flag))
    print("%d windows (lengths %d..%d): %s" % (
        len(windows), min(map(len, windows)), max(map(len, windows)),
        "agree within %g" % tol if not bad else "DISAGREE"))
    return 1 if bad else 0


def selftest():
    """The reference against MODEL.md's formulas and against itself."""
    rng = np.random.default_rng(1)
    cfg = {"d_model": 12, "n_layers": 3, "n_heads": 3, "max_len": 9,
           "n_types": 7, "n_items": 11, "churn_horizon_days": 30}
    tensors = {k: rng.normal(0, 0.4, s).astype(np.float32)
               for k, s in tensor_shapes(cfg).items()}
    m = Model(cfg, tensors)
    worst = 0.0
    # LayerNorm, GELU as MODEL.md writes them
    x = torch.tensor(rng.normal(0, 2, (5, 12)))
    w, b = m.w["ln_f.weight"], m.w["ln_f.bias"]
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    worst = max(worst, float((m.ln(x, "ln_f") -
                              ((x - mu) / torch.sqrt(var + 1e-5) * w + b))
                             .abs().max()))
    u = torch.linspace(-6, 6, 101, dtype=torch.float64)
    g = 0.5 * u * (1 + torch.tanh(math.sqrt(2 / math.pi) *
                                  (u + 0.044715 * u ** 3)))
    worst = max(worst, float((F.gelu(u, approximate="tanh") - g).abs().max()))
    # batched and padded against one at a time, written out per position
    windows = []
    for n in (1, 4, 9, 2, 7):
        windows.append([[int(rng.integers(0, 7)), int(rng.integers(0, 11)),
                         0 if k == 0 else int(rng.integers(1, 32)),
                         int(rng.integers(0, 16)), k] for k in range(n)])
    batch = expected(m, windows)
    tok, lens = pad_windows(windows)
    with torch.no_grad():
        a, b = m.forward(tok, lens), m.forward(tok, lens, False)
    for q in ("churn", "type_last", "items"):
        worst = max(worst, float((a[q] - b[q]).abs().max()))
    for wi, win in enumerate(windows):
        one = expected(m, [win])[0]
        for q in QUANTITIES:
            worst = max(worst, float(np.abs(one[q] - batch[wi][q]).max()))
        # the plain loop of MODEL.md for this window
        n = len(win)
        xs = m.embed(torch.tensor(win))
        per = []
        for l in range(m.L):
            p = "blocks.%d." % l
            a = m.ln(xs, p + "ln1")
            qkv = a @ m.w[p + "attn.qkv.weight"].T + m.w[p + "attn.qkv.bias"]
            y = torch.zeros(n, m.d, dtype=torch.float64)
            A = torch.zeros(m.H, n, n, dtype=torch.float64)
            for h in range(m.H):
                cols = slice(h * m.dh, (h + 1) * m.dh)
                qh = qkv[:, 0:m.d][:, cols]
                kh = qkv[:, m.d:2 * m.d][:, cols]
                vh = qkv[:, 2 * m.d:][:, cols]
                for k in range(n):
                    s = torch.stack([qh[k] @ kh[j] for j in range(k + 1)])
                    s = s / math.sqrt(m.dh)
                    e = torch.exp(s - s.max())
                    A[h, k, :k + 1] = e / e.sum()
                    y[k, cols] = sum(A[h, k, j] * vh[j] for j in range(k + 1))
            per.append(A)
            xs = xs + y @ m.w[p + "attn.proj.weight"].T + \
                m.w[p + "attn.proj.bias"]
            a = m.ln(xs, p + "ln2")
            hh = a @ m.w[p + "mlp.fc.weight"].T + m.w[p + "mlp.fc.bias"]
            hh = 0.5 * hh * (1 + torch.tanh(math.sqrt(2 / math.pi) *
                                            (hh + 0.044715 * hh ** 3)))
            xs = xs + hh @ m.w[p + "mlp.proj.weight"].T + \
                m.w[p + "mlp.proj.bias"]
        z = m.ln(xs, "ln_f")
        churn = 1 / (1 + torch.exp(-(z[n - 1] @ m.w["head.churn.weight"][0] +
                                     m.w["head.churn.bias"][0])))
        worst = max(worst, abs(float(churn) - one["churn"][0]))
        ph = np.concatenate([A[:, n - 1, :].reshape(-1).numpy()
                             for A in per])
        worst = max(worst, float(np.abs(ph - one["per_head"]).max()))
        # rollout by the row-vector recursion from the top layer down
        r = torch.zeros(n, dtype=torch.float64)
        r[n - 1] = 1
        for A in reversed(per):
            r = r @ (0.5 * A.mean(0) + 0.5 * torch.eye(n, dtype=torch.float64))
        worst = max(worst, float(np.abs(r.numpy() - one["rollout"]).max()))
        for q in ("type_last", "type_all", "mean", "rollout"):
            s = one[q].reshape(-1, n if q in ("mean", "rollout") else 7)
            worst = max(worst, float(np.abs(s.sum(-1) - 1).max()))
        worst = max(worst, float(np.abs(one["per_head"].reshape(-1, n)
                                        .sum(-1) - 1).max()))
    ok = worst < 1e-12
    print("selftest: worst disagreement %.3g: %s" % (worst,
                                                      "ok" if ok else "FAIL"))
    return 0 if ok else 1


def main(argv):
    if len(argv) == 3 and argv[1] == "info":
        return cmd_info(argv[2])
    if len(argv) in (4, 5) and argv[1] == "compare":
        return cmd_compare(argv[2], argv[3],
                           float(argv[4]) if len(argv) == 5 else 1e-4)
    if len(argv) == 2 and argv[1] == "selftest":
        return selftest()
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
