#!/usr/bin/python3
"""ATT in PyTorch eager mode: the side-by-side reference for tutti's training and inference speed.

Same model as src/tutti/models/att.cpp (and tools/fixtures/make_model_fixtures.py), written the
idiomatic vectorized way (boolean-mask gather of the real instances, scatter back), same loss
(BCE averaged over known labels), Adam(lr 5e-4, weight_decay 1e-5), batch 128, shuffled epochs;
data: N clips x 10 x 128 random uint8 (OpenMIC-sized by default), features / 255.

    /usr/bin/python3 bench/pytorch_att.py --clips 20000 --threads 2 --epochs 2
prints JSON: seconds per epoch (median of the timed epochs, after one warm-up epoch) and
inference clips/s (eval mode, no_grad, batches of 2048).
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def he_uniform_(w):
    bound = math.sqrt(6.0 / w.shape[1])
    nn.init.uniform_(w, -bound, bound)


class Att(nn.Module):
    def __init__(self, d, c, num_layers=3, dropout=0.6):
        super().__init__()
        self.dropout = dropout
        self.input_bn = nn.BatchNorm1d(d)
        self.linears = nn.ModuleList([nn.Linear(d, d, bias=False) for _ in range(num_layers)])
        self.bns = nn.ModuleList([nn.BatchNorm1d(d) for _ in range(num_layers)])
        self.attention = nn.Linear(d, c)
        self.classifier = nn.Linear(d, c)
        for lin in self.linears:
            he_uniform_(lin.weight)
        for lin in (self.attention, self.classifier):
            he_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, x, mask):
        # [B,K,D], [B,K] -> clip [B,C], instance/attention [B,K,C], embedding [B,D]
        b, k, _ = x.shape
        raw = x[mask]
        h = self.input_bn(raw)
        for lin, bn in zip(self.linears, self.bns):
            h = F.dropout(F.relu(bn(lin(h))), self.dropout, self.training)
        h = h + raw
        a = torch.sigmoid(self.attention(h)).clamp(1e-7, 1 - 1e-7)
        c = torch.sigmoid(self.classifier(h))
        a_full = torch.zeros(b, k, a.shape[1]).index_put((mask,), a)
        c_full = torch.zeros(b, k, c.shape[1]).index_put((mask,), c)
        w = a_full / a_full.sum(1, keepdim=True)
        n = mask.sum(1, keepdim=True).to(h.dtype)
        emb = torch.zeros(b, k, h.shape[1]).index_put((mask,), h).sum(1) / n
        return (w * c_full).sum(1), c_full, w, emb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=20000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2, help="timed epochs (after one warm-up)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    n, k, d, cc = args.clips, args.k, args.d, args.classes
    x_u8 = rng.integers(0, 256, (n, k, d), dtype=np.uint8)
    y = torch.from_numpy((rng.random((n, cc)) < 0.3).astype(np.float32))
    ym = torch.from_numpy((rng.random((n, cc)) < 0.2).astype(np.float32))
    x = torch.from_numpy(x_u8).float() / 255.0
    mask = torch.ones(n, k, dtype=torch.bool)

    model = Att(d, cc)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4, weight_decay=1e-5)

    def epoch():
        model.train()
        perm = torch.randperm(n)
        for s in range(0, n, args.batch_size):
            idx = perm[s:s + args.batch_size]
            if len(idx) < 2:
                continue
            xb, mb, yb, mk = x[idx], mask[idx], y[idx], ym[idx]
            p = model(xb, mb)[0]
            bce = F.binary_cross_entropy(p, yb, reduction="none")
            loss = (bce * mk).sum() / mk.sum().clamp_min(1.0)
            opt.zero_grad()
            loss.backward()
            opt.step()

    epoch()  # warm-up
    times = []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)

    model.eval()
    with torch.no_grad():
        model(x[:2048], mask[:2048])  # warm-up
        t0 = time.perf_counter()
        for s in range(0, n, 2048):
            model(x[s:s + 2048], mask[s:s + 2048])
        infer = time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch-eager", "torch": torch.__version__, "clips": n,
                      "threads": args.threads, "batch_size": args.batch_size,
                      "seconds_per_epoch": float(np.median(times)),
                      "epoch_times": times, "infer_clips_per_s": n / infer}))


if __name__ == "__main__":
    main()
