#!/usr/bin/python3
"""AudioSet -> ATT -> metrics -> one clip's attention timeline, from Python.

Converts AudioSet's released VGGish embeddings to a bag dataset over OpenMIC's 20 instruments,
splits it, trains the attention model (ATT), evaluates it on the held-out part and draws the
timeline of one test clip: per 0.96 s instance, the instance probability and the attention
weight of each instrument the clip is labeled with.

    PYTHONPATH=build/python /usr/bin/python3 examples/audioset_att.py \
        [--audioset ../shared/data/audioset] [--out /tmp/tutti-example] [--epochs 50]

Writes OUT/audioset.npz, OUT/att.tutti, OUT/metrics.json and OUT/timeline.png.
"""
import argparse
import json
import os

import tutti  # first: sets the thread environment before numpy loads OpenBLAS
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.environ.get("TUTTI_SHARED_DATA") or os.path.join(here, "..", "..", "shared",
                                                                  "data")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--audioset", default=os.path.join(shared, "audioset"),
                    help="folder with bal_train/ and the metadata (class_labels_indices.csv, "
                         "ontology.json)")
    ap.add_argument("--out", default="/tmp/tutti-example")
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    bags = tutti.convert_audioset(os.path.join(args.audioset, "bal_train"),
                                  out=os.path.join(args.out, "audioset.npz"),
                                  metadata_dir=args.audioset, threads=2)
    print(f"converted: {bags}")
    train, test = tutti.split(bags, test_fraction=0.2, seed=1)

    def progress(r):
        print(f"epoch {r['epoch']}/{r['epochs']}: train loss {r['train_loss']:.4f}, "
              f"val loss {r['val_loss']:.4f}, val mAP {r['val_map']:.3f}", flush=True)

    model = tutti.train(train, model="att", seed=1, epochs=args.epochs, threads=args.threads,
                        out=os.path.join(args.out, "att.tutti"), progress=progress)

    pred = model.predict(test, instances=True, threads=args.threads)
    report = tutti.metrics.evaluate(test.Y_true, test.Y_mask, pred.scores, model.thresholds,
                                    model.classes)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(f"test: {len(test)} clips, mAP {report['mAP']:.3f}, AUC {report['auc']:.3f}, "
          f"F1 {report['f1_pos']:.3f}")

    # The test clip with the most known positive labels and a full 10 s of instances.
    positive = (test.Y_mask & (test.Y_true >= 0.5)).sum(axis=1)
    i = int(np.argmax(positive * (test.n_instances == test.X.shape[1])))
    classes = [c for c in range(len(model.classes))
               if test.Y_mask[i, c] and test.Y_true[i, c] >= 0.5]
    n = int(test.n_instances[i])
    t = np.arange(n) * 0.96
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for c in classes:
        name = model.classes[c]
        p = pred.instance_prob[i, :n, c]
        axes[0].step(np.append(t, n * 0.96), np.append(p, p[-1]), where="post",
                     label=f"{name} (clip {pred.scores[i, c]:.2f})")
        axes[1].bar(t + 0.48 + 0.9 * (classes.index(c) / len(classes) - 0.5),
                    pred.attention[i, :n, c], width=0.9 / len(classes), label=name)
    axes[0].set_ylabel("instance probability")
    axes[0].set_ylim(0, 1)
    axes[0].legend(loc="upper right", fontsize=8)
    axes[1].set_ylabel("attention weight")
    axes[1].set_xlabel("time (s)")
    fig.suptitle(f"{test.sample_key[i]}: labeled {', '.join(model.classes[c] for c in classes)}")
    fig.tight_layout()
    png = os.path.join(args.out, "timeline.png")
    fig.savefig(png, dpi=100)
    print(f"timeline of {test.sample_key[i]} -> {png}")


if __name__ == "__main__":
    main()
