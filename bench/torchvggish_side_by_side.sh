#!/usr/bin/env bash
# VGGish embedding end to end, tutti vs torchvggish's pipeline (bench/torchvggish/pipeline.py:
# soundfile + resampy + numpy log-mel + PyTorch VGGish + PCA, from /usr/bin/python3 with Debian's
# python3-torch and python3-resampy), the same seeded random weights in the torchvggish layout
# (tools/fixtures/make_vggish_fixtures.py; `tutti models import-vggish` for tutti), the same
# 44.1 kHz stereo WAV files, both on THREADS threads, alternating the two for ROUNDS rounds.
# Each side is one process per file: start-up and weight loading included, as a user runs it.
# Prints per file the median wall time of each side, their ratio, x real time, and CPU seconds
# (user + sys of the process) per hour of audio.
#   bench/torchvggish_side_by_side.sh [BUILD_DIR] [ROUNDS] [THREADS] [SECONDS...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ROUNDS=${2:-3}
THREADS=${3:-2}
shift $(($# < 3 ? $# : 3))
LENGTHS=("$@")
[ ${#LENGTHS[@]} -gt 0 ] || LENGTHS=(1 300 1200)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 tools/fixtures/make_vggish_fixtures.py "$tmp/fx" >/dev/null
"$BUILD/tutti" models import-vggish --weights "$tmp/fx/vggish.pth" --pca "$tmp/fx/pca.pth" \
  -o "$tmp/v.tutti-embedder" >/dev/null 2>&1
for s in "${LENGTHS[@]}"; do "$BUILD/bench/bench_embed" --write-wav "$tmp/a$s.wav" "$s"; done
export OPENBLAS_NUM_THREADS=1
timed() {  # out-file command...: appends "wall cpu" to out-file
  local out=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; exit 1; }
  awk '{print $1, $2 + $3}' "$tmp/time" >>"$out"
}
for _ in $(seq "$ROUNDS"); do
  for s in "${LENGTHS[@]}"; do
    timed "$tmp/tutti_$s" "$BUILD/tutti" embed -e vggish --vggish "$tmp/v.tutti-embedder" \
      --threads "$THREADS" "$tmp/a$s.wav" -o "$tmp/t$s.npz"
    timed "$tmp/torch_$s" /usr/bin/python3 bench/torchvggish/pipeline.py "$tmp/fx/vggish.pth" \
      "$tmp/fx/pca.pth" "$THREADS" "$tmp/p$s.npy" "$tmp/a$s.wav"
  done
done
/usr/bin/python3 - "$tmp" "$ROUNDS" "$THREADS" "${LENGTHS[@]}" <<'PY'
import statistics, sys
import numpy as np
tmp, rounds, threads, lengths = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def runs(name):
    rows = [tuple(map(float, l.split())) for l in open(f"{tmp}/{name}")]
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows), rows
print(f"VGGish embedding, {threads} threads, median of {rounds} rounds (load average "
      f"{open('/proc/loadavg').read().split()[0]} at the end):")
print("| audio | tutti wall s | torchvggish wall s | ratio | tutti x RT | torchvggish x RT | "
      "tutti CPU s / audio h | torchvggish CPU s / audio h | uint8 max diff |")
print("|---|---|---|---|---|---|---|---|---|")
for s in lengths:
    sec = float(s)
    tw, tc, _ = runs(f"tutti_{s}")
    pw, pc, _ = runs(f"torch_{s}")
    a = np.load(f"{tmp}/t{s}.npz")["X"][0]
    b = np.load(f"{tmp}/p{s}.npy").reshape(-1, 128)
    n = min(len(b), int(np.load(f"{tmp}/t{s}.npz")["n_instances"][0]))
    diff = int(np.abs(a[:n].astype(int) - b[:n].astype(int)).max()) if n else 0
    print(f"| {sec:g} s | {tw:.2f} | {pw:.2f} | **{pw / tw:.2f}x** | {sec / tw:.1f} | "
          f"{sec / pw:.1f} | {tc * 3600 / sec:.0f} | {pc * 3600 / sec:.0f} | {diff} |")
PY
