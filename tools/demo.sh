#!/usr/bin/env bash
# ./run demo: until the synthetic-audio demo exists, convert the shared AudioSet balanced-train
# embeddings to the OpenMIC-20 taxonomy and print the dataset summary.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${TUTTI_SHARED_DATA:-$PWD/../shared/data}
OUT=demo
mkdir -p "$OUT"
if [ ! -d "$SHARED/audioset/bal_train" ]; then
  echo "demo: $SHARED/audioset/bal_train not found (set TUTTI_SHARED_DATA)" >&2
  exit 1
fi
build/tutti data convert audioset "$SHARED/audioset/bal_train" --taxonomy openmic20 -o "$OUT/as20.npz"
build/tutti data info "$OUT/as20.npz"
