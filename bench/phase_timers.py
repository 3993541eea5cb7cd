#!/usr/bin/env python3
"""Wall-clock timers around the phases of an MMGAT training step (docs/benchmarks.md, MMGAT).

Instruments the source tree in place, for a measurement only, never to be committed:

    python3 bench/phase_timers.py            # edits src/ (refuses if already instrumented)
    cmake --build build --target tutti
    build/tutti train as20-train.npz -m mmgat -o m.tutti --epochs 10 --threads 2
    git checkout src && rm src/tutti/prof_tmp.h && cmake --build build --target tutti

At exit the program prints one `PROF <phase> <seconds>` line per phase, summed over the run:
forward (f.graph, f.input, f.layers, f.head and its laps h.qk, h.pool, h.ae, h.outs), extra
(the extra losses), backward (with b.gat, b.input, b.pool, b.center: the fused ops' backwards),
adam, validate, and the graph attention layer's laps (g.f.mm, g.f.clips, g.f.elu, g.f.ln;
g.b.clips, g.b.dzdh, g.b.dw, g.b.dproj, g.b.sum). Each edit is anchored on a line of the current
code; a missing anchor stops the script before anything is written.
"""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "tutti"

HEADER = r'''#pragma once
// Temporary phase timers (bench/phase_timers.py): not for committing.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
struct ProfAcc {
  std::map<std::string, double> t;
  ~ProfAcc() { for (auto& [k, v] : t) std::fprintf(stderr, "PROF %-12s %.3f\n", k.c_str(), v); }
};
inline ProfAcc& prof_acc() { static ProfAcc a; return a; }
struct ProfScope {
  const char* n;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  explicit ProfScope(const char* s) : n(s) {}
  ~ProfScope() {
    prof_acc().t[n] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};
struct ProfLap {
  std::string p;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  explicit ProfLap(const char* s) : p(s) {}
  void mark(const char* n) {
    const auto t = std::chrono::steady_clock::now();
    prof_acc().t[p + "." + n] += std::chrono::duration<double>(t - t0).count();
    t0 = t;
  }
};
'''

INCLUDE = '#include "tutti/prof_tmp.h"\n'

# (file, anchor, replacement); every anchor must occur exactly once.
EDITS = [
    ("train/trainer.cpp", "      auto out = model->forward(xb, mb);\n",
     "      ProfScope ps_step(\"step\");\n      models::BagOutput out;\n"
     "      { ProfScope ps(\"forward\"); out = model->forward(xb, mb); }\n"),
    ("train/trainer.cpp", "      auto extra = model->extra_loss(out, yb, ymb.to(torch::kBool));\n",
     "      torch::Tensor extra;\n      { ProfScope ps(\"extra\"); "
     "extra = model->extra_loss(out, yb, ymb.to(torch::kBool)); }\n"),
    ("train/trainer.cpp",
     "        fused_adam->zero_grad();\n        loss.backward();\n        fused_adam->step(adam);\n",
     "        fused_adam->zero_grad();\n        { ProfScope ps(\"backward\"); loss.backward(); }\n"
     "        { ProfScope ps(\"adam\"); fused_adam->step(adam); }\n"),
    ("train/trainer.cpp", "    const ValResult v = validate_model(",
     "    ProfScope ps_val(\"validate\");\n    const ValResult v = validate_model("),
    ("models/mmgat.cpp", "  InstanceGraph graph;\n  {\n",
     "  InstanceGraph graph;\n  {\n    ProfScope ps(\"f.graph\");\n"),
    ("models/mmgat.cpp", "  torch::Tensor h;  // [B,K,H]\n",
     "  torch::Tensor h;  // [B,K,H]\n  auto ps_in = std::make_unique<ProfScope>(\"f.input\");\n"),
    ("models/mmgat.cpp", "  for (auto& layer : layers_) h = layer(h, graph.adjacency, log_w);\n",
     "  ps_in.reset();\n  {\n    ProfScope ps(\"f.layers\");\n"
     "    for (auto& layer : layers_) h = layer(h, graph.adjacency, log_w);\n  }\n"
     "  ProfScope ps_head(\"f.head\");\n  ProfLap lap(\"h\");\n"),
    ("models/mmgat.cpp", "    auto pool = fused_class_pooling(",
     "    lap.mark(\"qk\");\n    auto pool = fused_class_pooling("),
    ("models/mmgat.cpp", "  if (options_.use_labels) logits = logits + autoencoder(",
     "  lap.mark(\"pool\");\n  if (options_.use_labels) logits = logits + autoencoder("),
    ("models/mmgat.cpp", "  const auto fmask = m3.to(h.scalar_type());\n",
     "  lap.mark(\"ae\");\n  const auto fmask = m3.to(h.scalar_type());\n"),
    ("models/mmgat.cpp", "  if (is_training()) {\n    last_alpha_ = alpha;",
     "  lap.mark(\"outs\");\n  if (is_training()) {\n    last_alpha_ = alpha;"),
    # The graph attention layer's forward and backward laps.
    ("models/gat_fused.cpp",
     "    each_block(bs * k, kRowBlock, [&](std::int64_t r, std::int64_t n) {\n"
     "      auto o = z2.narrow(0, r, n);\n",
     "    ProfLap lap(\"g.f\");\n"
     "    each_block(bs * k, kRowBlock, [&](std::int64_t r, std::int64_t n) {\n"
     "      auto o = z2.narrow(0, r, n);\n"),
    ("models/gat_fused.cpp", "    each_clips(bs, 2 * k * k * hd,",
     "    lap.mark(\"mm\");\n    each_clips(bs, 2 * k * k * hd,"),
    ("models/gat_fused.cpp", "    {\n      // ELU over the whole batch",
     "    lap.mark(\"clips\");\n    {\n      // ELU over the whole batch"),
    ("models/gat_fused.cpp", "    each_clips(bs, k * hd * 8,",
     "    lap.mark(\"elu\");\n    each_clips(bs, k * hd * 8,"),
    ("models/gat_fused.cpp", "    ctx->save_for_backward({h, adjacency, w, proj,",
     "    lap.mark(\"ln\");\n    ctx->save_for_backward({h, adjacency, w, proj,"),
    ("models/gat_fused.cpp", "    each_clips(bs, 3 * k * k * hd,",
     "    ProfLap lap(\"g.b\");\n    each_clips(bs, 3 * k * k * hd,"),
    ("models/gat_fused.cpp", "    // sc = z P^T: dz += dsc P",
     "    lap.mark(\"clips\");\n    // sc = z P^T: dz += dsc P"),
    ("models/gat_fused.cpp", "    const auto dw = weight_grad(dz2, h2);\n",
     "    lap.mark(\"dzdh\");\n    const auto dw = weight_grad(dz2, h2);\n    lap.mark(\"dw\");\n"),
    ("models/gat_fused.cpp", "    const auto dproj = weight_grad(dsc, z2);  // [2S+1,H]\n",
     "    const auto dproj = weight_grad(dsc, z2);  // [2S+1,H]\n    lap.mark(\"dproj\");\n"),
    ("models/gat_fused.cpp", "    const auto pgs = column_sums(pg);          // LayerNorm and fuse_b gradients\n",
     "    const auto pgs = column_sums(pg);          // LayerNorm and fuse_b gradients\n"
     "    lap.mark(\"sum\");\n"),
]

# The fused ops' backwards, in the order they appear in gat_fused.cpp.
BACKWARDS = ["b.gat", "b.input", "b.pool", "b.center"]
BACKWARD_SIG = ("static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,\n"
                "                                                 torch::autograd::variable_list grads) {\n")


def main() -> int:
    header = SRC / "prof_tmp.h"
    if header.exists():
        print(f"phase_timers: {header} exists: the tree is already instrumented", file=sys.stderr)
        return 1
    texts = {}
    for rel, anchor, new in EDITS:
        path = SRC / rel
        text = texts.setdefault(rel, path.read_text())
        if text.count(anchor) != 1:
            print(f"phase_timers: {path}: anchor found {text.count(anchor)} times: {anchor.strip()!r}",
                  file=sys.stderr)
            return 1
        texts[rel] = text.replace(anchor, new)
    parts = texts["models/gat_fused.cpp"].split(BACKWARD_SIG)
    if len(parts) != len(BACKWARDS) + 1:
        print(f"phase_timers: gat_fused.cpp has {len(parts) - 1} backwards, expected "
              f"{len(BACKWARDS)}", file=sys.stderr)
        return 1
    texts["models/gat_fused.cpp"] = parts[0] + "".join(
        BACKWARD_SIG + f"    ProfScope ps_backward(\"{name}\");\n" + part
        for name, part in zip(BACKWARDS, parts[1:]))
    for rel, text in texts.items():
        (SRC / rel).write_text(text.replace("#include", INCLUDE + "#include", 1))
    header.write_text(HEADER)
    print("phase_timers: instrumented " + ", ".join(sorted(texts)) + "; undo with "
          "`git checkout src && rm src/tutti/prof_tmp.h`", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
