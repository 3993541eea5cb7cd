#!/usr/bin/env bash
# Fingerprints of training on the AudioSet OpenMIC-20 data: for a fixed seed and thread count, two
# builds that train the same models must print the same lines (weights, thresholds, validation
# history and scores, to the bit). Used to check that a refactor changes no result:
#   tools/check_identical.sh build/tutti > after.txt
#   diff before.txt after.txt
# Usage: tools/check_identical.sh TUTTI_BINARY [WORK_DIR]
# Needs ../shared/data (or $TUTTI_SHARED_DATA) and /usr/bin/python3.
set -euo pipefail
T=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${TUTTI_SHARED_DATA:-$ROOT/../shared/data}
WORK=${2:-$(mktemp -d)}
mkdir -p "$WORK"
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1
"$T" data convert audioset "$SHARED/audioset/bal_train" --taxonomy openmic20 \
  -o "$WORK/as20.npz" >/dev/null 2>&1
for m in att fc_t rnn rf mmgat; do
  "$T" train "$WORK/as20.npz" --model "$m" --epochs 2 --seed 1 --threads 2 --rf-trees 20 \
    -o "$WORK/$m.tutti" >/dev/null 2>&1
  "$T" predict "$WORK/$m.tutti" "$WORK/as20.npz" --threads 2 -o "$WORK/$m-pred.npz" \
    >/dev/null 2>&1
done
/usr/bin/python3 - "$WORK" <<'PY'
import hashlib, io, json, sys, zipfile
import numpy as np
work = sys.argv[1]
for m in ["att", "fc_t", "rnn", "rf", "mmgat"]:
    with zipfile.ZipFile(f"{work}/{m}.tutti") as z:
        for name in sorted(z.namelist()):
            data = z.read(name)
            if name == "meta.json":
                meta = json.loads(data)
                t = meta["training"]
                for h in t.get("history", []):
                    h.pop("seconds", None)
                t.pop("train_seconds", None)
                keep = {"thresholds": meta["thresholds"], "training": t, "model": meta["model"]}
                data = json.dumps(keep, sort_keys=True).encode()
            print(m, name, hashlib.sha256(data).hexdigest()[:16])
    with np.load(f"{work}/{m}-pred.npz") as p:
        for k in sorted(p.files):
            a = p[k]
            if a.dtype.kind in "fiub":
                print(m, "pred", k, a.shape, hashlib.sha256(a.tobytes()).hexdigest()[:16])
PY
