#!/usr/bin/python3
"""train_torch.py: the PyTorch peer of `journeyscope train` (tests/bench/train.sh).

    train_torch.py VIDEO.TXT [--epochs E] [--max-len N] [--batch B]
                   [--negatives K] [--dim D] [--layers L] [--heads H]
                   [--dropout P] [--eps E] [--threads T] [--seed S]
                   [--foreach 0|1] [--no-check] [--max-steps N]

Trains the journeyscope-seq v1 network of MODEL.md the way src/train.c
does, in eager PyTorch, float32, on T threads (torch.set_num_threads;
train.sh also sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS):

- data: a SASRec "user item" file, lines in time order within a user,
  read like `journeyscope import --preset sasrec` reads it (one event
  type, the line number as the time, so every gap inside a window is
  tokens_gap(1) = 2 and the first is 0; no amounts). The item vocabulary
  is that of train_store_vocab: items with at least 2 events, most
  frequent first (ties by external id), after <none> and <unk>; the type
  vocabulary is <pad>, <unk> and the one real type (index 2).
- windows (train.c's tdata_customer, train-data.c's tset_add_seq): each
  user's history minus its last 2 events (all of it when it has fewer
  than 3), of which the latest max_len + 1 events: input all but the
  last, targets shifted by one (next type; next item when the item is in
  the vocabulary). No churn task (no timestamps).
- an epoch (train.c's plan_epoch): the windows shuffled, sorted by length
  (longest first, ties by index) in buckets of 32 batches, cut into
  batches of B windows, the batches in shuffled order, each batch's
  windows in bit-reversed order of their ranks (train_deal_batch); each
  batch is padded to its longest window.
- the network: MODEL.md with d, L, H; dropout P after the embedding sum
  and on each block's attention and feed-forward branch before the
  residual add; GPT-2 style initialisation (normal 0.02, residual
  projections 0.02 / sqrt(2 L), biases 0, LayerNorm weights 1).
- the loss (train.c's tloss_batch): next-type cross entropy at every
  position with a target (mean) + next-item softmax over the true item
  and K negatives shared by the step, uniform over the known items
  (indices 2..n_items-1), or with K = 0 every known item (the full
  softmax, journeyscope's default), through the tied item embedding, a
  negative equal to the target left out (mean over positions with an item
  target).
- the optimiser: AdamW (beta 0.9 / 0.98, eps 3e-4 (--eps, train's
  --adam-eps), lr 1e-3 with linear
  warm-up over 1% of the steps then cosine to 10%), weight decay 0.01 on
  the linear layers' matrices only (qkv, proj, fc, mlp proj, type head),
  the gradient norm clipped at 1.

Before training it checks the network and the loss against the
references tests/reference/ref.py (forward) and train_ref.py (the loss
of tloss_batch) on a real batch with non-trivial weights, dropout off:
float32 against float64, within 1e-4 (exit 1 otherwise; --no-check skips).

Timing: the batches of an epoch are padded and packed into tensors
before the clock starts (data loading excluded); the clock runs over each
step (negatives, forward, loss, backward, clipping, AdamW). tokens/s =
real (non-padding) input tokens of all epochs / the summed step time,
as `journeyscope train` counts them. Prints "key value" lines:

    windows, tokens, pairs, item_targets, steps_per_epoch, batch, epochs,
    n_types, n_items, torch_threads, torch_version, optimizer_foreach,
    epoch_E_tokens_per_s, epoch_E_loss_type, epoch_E_loss_item,
    train_seconds, torch_tokens_per_s

(per epoch: tokens = sum of n over windows, pairs = sum of n (n + 1) / 2,
the causal attention pairs, item_targets = positions with an item target:
what train.sh's FLOP count needs). --max-steps N stops after N steps
(train.sh's quick trial of the OpenMP wait policy).
"""
import argparse
import math
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REFDIR = os.path.join(HERE, "..", "reference")
N_GAP, N_AMOUNT, TOK_UNK, ITEM_MIN, ITEM_MAX = 32, 16, 1, 2, 50000
BUCKET_BATCHES = 32


# ---- data ----

def read_sasrec(path):
    """Users' item sequences (external ids as strings), in file order."""
    seqs, order = {}, []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) < 2:
                continue
            u, it = p[0], p[1]
            s = seqs.get(u)
            if s is None:
                s = seqs[u] = []
                order.append(u)
            s.append(it)
    return [seqs[u] for u in order]


def item_vocab(seqs):
    """external id -> index: items with >= 2 events, most frequent first,
    ties by external id (store_item_ids: ORDER BY n_events DESC, ext_id)."""
    cnt = {}
    for s in seqs:
        for it in s:
            cnt[it] = cnt.get(it, 0) + 1
    keep = sorted((it for it, c in cnt.items() if c >= ITEM_MIN),
                  key=lambda it: (-cnt[it], it))[:ITEM_MAX]
    return {it: 2 + i for i, it in enumerate(keep)}, 2 + len(keep)


def windows(seqs, vocab, max_len):
    """(items (n+1) arrays: the window's events and the one after) of
    tset_add_seq over each history minus its last 2 events."""
    out = []
    for s in seqs:
        N = len(s)
        end = N if N < 3 else N - 2
        if end < 2:
            continue
        n = min(max_len, end - 1)
        first = end - 1 - n
        out.append(np.array([vocab.get(it, TOK_UNK)
                             for it in s[first:end]], dtype=np.int64))
    return out


def plan_epoch(lens, B, rng):
    """train.c's plan_epoch: lists of window indices, one per batch."""
    n = len(lens)
    tmp = rng.permutation(n)
    bucket = B * BUCKET_BATCHES
    for i in range(0, n, bucket):
        part = tmp[i:i + bucket]
        # longest first, ties by index
        tmp[i:i + bucket] = part[np.lexsort((part, -lens[part]))]
    nb = (n + B - 1) // B
    return [deal(tmp[b * B:(b + 1) * B]) for b in rng.permutation(nb)]


def deal(sorted_idx):
    """train.c's train_deal_batch: bit-reversed order of the ranks."""
    n = len(sorted_idx)
    bits = max(0, (n - 1).bit_length())
    rev = [int(format(r, "0%db" % bits)[::-1], 2) if bits else 0
           for r in range(1 << bits)]
    return sorted_idx[[i for i in rev if i < n]]


def pack(wins, idx):
    """A batch padded to its longest window: (tokens dict, lens, tt, ti)."""
    lens = np.array([len(wins[i]) - 1 for i in idx], dtype=np.int64)
    b, T = len(idx), int(lens.max())
    item = np.zeros((b, T), dtype=np.int64)
    ti = np.zeros((b, T), dtype=np.int64)
    for r, i in enumerate(idx):
        w = wins[i]
        n = len(w) - 1
        item[r, :n] = w[:n]
        ti[r, :n] = w[1:]
    real = np.arange(T)[None, :] < lens[:, None]
    typ = np.where(real, 2, 0)
    gap = np.where(real, 2, 0)
    gap[:, 0] = 0
    pos = np.where(real, np.arange(T)[None, :], 0)
    tok = {"type": torch.from_numpy(typ), "item": torch.from_numpy(item),
           "gap": torch.from_numpy(gap),
           "amount": torch.zeros((b, T), dtype=torch.long),
           "pos": torch.from_numpy(pos)}
    tt = torch.from_numpy(np.where(real, 2, 0))
    return tok, torch.from_numpy(lens), tt, torch.from_numpy(ti)


# ---- the network ----

class Block(nn.Module):
    def __init__(self, d, H, p):
        super().__init__()
        self.H, self.dh = H, d // H
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.fc = nn.Linear(d, 4 * d)
        self.mproj = nn.Linear(4 * d, d)
        self.drop = nn.Dropout(p)

    def forward(self, x, allowed):
        B, T, d = x.shape
        qkv = self.qkv(self.ln1(x)).view(B, T, 3, self.H, self.dh)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)            # (B, H, T, dh)
        s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.dh))
        att = torch.softmax(s.masked_fill(~allowed, float("-inf")), -1)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.drop(self.proj(y))
        h = F.gelu(self.fc(self.ln2(x)), approximate="tanh")
        return x + self.drop(self.mproj(h))


class Net(nn.Module):
    def __init__(self, n_types, n_items, d, L, H, max_len, p):
        super().__init__()
        self.emb_type = nn.Embedding(n_types, d)
        self.emb_item = nn.Embedding(n_items, d)
        self.emb_gap = nn.Embedding(N_GAP, d)
        self.emb_amount = nn.Embedding(N_AMOUNT, d)
        self.emb_pos = nn.Embedding(max_len, d)
        self.drop = nn.Dropout(p)
        self.blocks = nn.ModuleList(Block(d, H, p) for _ in range(L))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.head_type = nn.Linear(d, n_types)
        self.head_churn = nn.Linear(d, 1)       # in the model, no task here
        resid = 0.02 / math.sqrt(2 * L)
        for name, prm in self.named_parameters():
            if name.endswith(".bias"):
                nn.init.zeros_(prm)
            elif ".ln" in name or name.startswith("ln_f"):
                nn.init.ones_(prm)
            else:
                nn.init.normal_(prm, 0.0, resid if name.endswith(
                    ("proj.weight", "mproj.weight")) else 0.02)

    def forward(self, tok, lens):
        """z = LN_f output at every position (B, T, d)."""
        T = tok["item"].shape[1]
        pos = torch.arange(T)
        valid = pos[None, :] < lens[:, None]
        allowed = (pos[None, :] <= pos[:, None])[None, None] & \
            valid[:, None, None, :]
        x = (self.emb_type(tok["type"]) + self.emb_item(tok["item"]) +
             self.emb_gap(tok["gap"]) + self.emb_amount(tok["amount"]) +
             self.emb_pos(tok["pos"]))
        x = self.drop(x)
        for blk in self.blocks:
            x = blk(x, allowed)
        return self.ln_f(x)

    def losses(self, z, tt, ti, neg):
        """(type, item) as tloss_batch defines them (means per task)."""
        d = z.shape[-1]
        zf = z.reshape(-1, d)
        ttf, tif = tt.reshape(-1), ti.reshape(-1)
        rt = (ttf > 0).nonzero().squeeze(1)
        lt = F.cross_entropy(self.head_type(zf[rt]), ttf[rt])
        ri = (tif > TOK_UNK).nonzero().squeeze(1)
        zr, y = zf[ri], tif[ri]
        E = self.emb_item.weight
        pos = (zr * E[y]).sum(-1, keepdim=True)
        sn = (zr @ E[neg].T).masked_fill(neg[None, :] == y[:, None],
                                         float("-inf"))
        li = F.cross_entropy(torch.cat([pos, sn], 1),
                             torch.zeros(len(ri), dtype=torch.long))
        return lt, li

    def tensors(self):
        """MODEL.md's tensor names -> float32 numpy arrays."""
        m = {"emb.type": self.emb_type, "emb.item": self.emb_item,
             "emb.gap": self.emb_gap, "emb.amount": self.emb_amount,
             "emb.pos": self.emb_pos}
        out = {k: v.weight for k, v in m.items()}
        for l, b in enumerate(self.blocks):
            p = "blocks.%d." % l
            for k, mod in (("ln1", b.ln1), ("attn.qkv", b.qkv),
                           ("attn.proj", b.proj), ("ln2", b.ln2),
                           ("mlp.fc", b.fc), ("mlp.proj", b.mproj)):
                out[p + k + ".weight"] = mod.weight
                out[p + k + ".bias"] = mod.bias
        for k, mod in (("ln_f", self.ln_f), ("head.type", self.head_type),
                       ("head.churn", self.head_churn)):
            out[k + ".weight"] = mod.weight
            out[k + ".bias"] = mod.bias
        return out


def param_groups(net):
    """Weight decay on the linear layers' matrices only (nn_adamw_step)."""
    decay, rest = [], []
    for name, prm in net.named_parameters():
        lin = name.endswith(".weight") and not name.startswith("emb_") and \
            ".ln" not in name and not name.startswith("ln_f") and \
            not name.startswith("head_churn")
        (decay if lin else rest).append(prm)
    return decay, rest


def check(net, cfg, tok, lens, tt, ti, neg):
    """The network and loss against ref.py / train_ref.py; worst error."""
    sys.path.insert(0, REFDIR)
    import ref
    import train_ref
    from importlib import import_module
    fixtures = import_module("make-fixtures")

    tensors = fixtures.random_tensors(cfg, np.random.default_rng(7), 0.5)
    with torch.no_grad():
        for k, v in net.tensors().items():
            v.copy_(torch.from_numpy(np.asarray(tensors[k], np.float32)))
    net.eval()
    with torch.no_grad():
        z = net(tok, lens)
        lt, li = net.losses(z, tt, ti, neg)
    rm = ref.Model(cfg, {k: v.detach().numpy()
                         for k, v in net.tensors().items()})
    tk = torch.stack([tok[k] for k in ("type", "item", "gap", "amount",
                                       "pos")], -1)
    zr = rm.forward(tk, lens)["z"]
    real = torch.arange(tk.shape[1])[None, :] < lens[:, None]
    ez = float((z.double() - zr)[real].abs().max())
    rlt, rli, _, _ = train_ref.losses(rm, tk, lens, tt.numpy(), ti.numpy(),
                                      [-1] * len(lens), neg.tolist())
    return ez, abs(float(lt) - float(rlt)), abs(float(li) - float(rli))


def lr_at(lr, s, total, warmup):
    """train.c's lr_at: linear warm-up, cosine to 10%."""
    if s < warmup:
        return lr * (s + 1) / warmup
    f = min(1.0, (s - warmup) / (total - warmup)) if total > warmup else 1.0
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * f)))



def negatives(k, ni):
    """A step's negatives: k uniform over the known items, or (k = 0, or k
    at least their number) every known item, as train.c chooses."""
    if k == 0 or k >= ni - TOK_UNK - 1:
        return torch.arange(TOK_UNK + 1, ni)
    return torch.randint(TOK_UNK + 1, ni, (k,))

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--max-len", type=int, default=50)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--negatives", type=int, default=0,
                    help="K sampled per step; 0: every item (default)")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--eps", type=float, default=3e-4,
                    help="AdamW's epsilon (default 3e-4, train's)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--foreach", type=int, default=1,
                    help="AdamW's multi-tensor path (default 1: faster)")
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop after this many steps (a quick trial)")
    a = ap.parse_args(argv[1:])

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    seqs = read_sasrec(a.data)
    vocab, NI = item_vocab(seqs)
    NT = 3
    wins = windows(seqs, vocab, a.max_len)
    lens = np.array([len(w) - 1 for w in wins], dtype=np.int64)
    ntok = int(lens.sum())
    pairs = int((lens * (lens + 1) // 2).sum())
    items = int(sum(int((w[1:] > TOK_UNK).sum()) for w in wins))
    nb = (len(wins) + a.batch - 1) // a.batch
    print("windows %d" % len(wins))
    print("tokens %d" % ntok)
    print("pairs %d" % pairs)
    print("item_targets %d" % items)
    print("steps_per_epoch %d" % nb)
    print("batch %d" % a.batch)
    print("epochs %d" % a.epochs)
    print("n_types %d" % NT)
    print("n_items %d" % NI)
    print("torch_threads %d" % torch.get_num_threads())
    print("torch_version %s" % torch.__version__)
    print("optimizer_foreach %d" % a.foreach)
    sys.stdout.flush()

    cfg = {"d_model": a.dim, "n_layers": a.layers, "n_heads": a.heads,
           "max_len": a.max_len, "n_types": NT, "n_items": NI,
           "churn_horizon_days": 30}
    if not a.no_check:
        idx = plan_epoch(lens, a.batch, np.random.default_rng(99))[0][:16]
        tok, ln, tt, ti = pack(wins, idx)
        neg = negatives(a.negatives, NI)
        if 0 < a.negatives < NI - TOK_UNK - 1 and int(ti[0, 0]) > TOK_UNK:
            neg[0] = int(ti[0, 0])
        net = Net(NT, NI, a.dim, a.layers, a.heads, a.max_len, a.dropout)
        ez, et, ei = check(net, cfg, tok, ln, tt, ti, neg)
        ok = max(ez, et, ei) <= 1e-4
        print("check: z %.2g, type loss %.2g, item loss %.2g against "
              "ref.py/train_ref.py (float64): %s" %
              (ez, et, ei, "ok" if ok else "FAIL"), file=sys.stderr)
        if not ok:
            return 1

    torch.manual_seed(a.seed)
    net = Net(NT, NI, a.dim, a.layers, a.heads, a.max_len, a.dropout)
    net.train()
    decay, rest = param_groups(net)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": rest, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.98), eps=a.eps,
                            foreach=bool(a.foreach))
    params = [p for p in net.parameters()]
    total = nb * a.epochs
    warmup = max(1, total // 100)
    step = 0
    t_all, tok_all = 0.0, 0
    for ep in range(1, a.epochs + 1):
        if a.max_steps and step >= a.max_steps:
            break
        batches = [pack(wins, idx) for idx in plan_epoch(lens, a.batch, rng)]
        t_ep, tok_ep, st, si, nst = 0.0, 0, 0.0, 0.0, 0
        for tok, ln, tt, ti in batches:
            if a.max_steps and step >= a.max_steps:
                break
            t0 = time.perf_counter()
            for g in opt.param_groups:
                g["lr"] = lr_at(a.lr, step, total, warmup)
            neg = negatives(a.negatives, NI)
            z = net(tok, ln)
            lt, li = net.losses(z, tt, ti, neg)
            loss = lt + li
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            t_ep += time.perf_counter() - t0
            tok_ep += int(ln.sum())
            st += float(lt)
            si += float(li)
            nst += 1
            step += 1
        print("epoch_%d_tokens_per_s %.1f" % (ep, tok_ep / t_ep))
        print("epoch_%d_loss_type %.4f" % (ep, st / nst))
        print("epoch_%d_loss_item %.4f" % (ep, si / nst))
        sys.stdout.flush()
        t_all += t_ep
        tok_all += tok_ep
    print("train_seconds %.3f" % t_all)
    print("torch_tokens_per_s %.1f" % (tok_all / t_all))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
