#!/usr/bin/env bash
# `tutti embed --embedder vggish` on one long file: one core (1 intra-op thread, no split), LibTorch
# intra-op threads (2 threads, no split) and the batch split over two single-threaded passes
# (EmbedderOptions::parallel = 2, what `tutti embed` picks for one file on 2 cores), alternating
# the three for ROUNDS rounds; prints the medians (x real time) and the ratios to one core.
# Weights: $TUTTI_VGGISH, else seeded random weights in the torchvggish layout made by
# tools/fixtures/make_vggish_fixtures.py and `tutti models import-vggish` (same cost as the real
# ones).
#   bench/embed_vggish_cores.sh [BUILD_DIR] [AUDIO_SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
AUDIO_S=${2:-120}
ROUNDS=${3:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "${TUTTI_VGGISH:-}" ]; then
  /usr/bin/python3 tools/fixtures/make_vggish_fixtures.py "$tmp" >/dev/null
  "$BUILD/tutti" models import-vggish --weights "$tmp/vggish.pth" --pca "$tmp/pca.pth" \
    -o "$tmp/v.tutti-embedder" 2>/dev/null
  export TUTTI_VGGISH="$tmp/v.tutti-embedder"
fi
"$BUILD/bench/bench_embed" --write-wav "$tmp/long.wav" "$AUDIO_S"
export TUTTI_BENCH_WAV="$tmp/long.wav" OPENBLAS_NUM_THREADS=1 GOMP_SPINCOUNT=30000000
declare -A runs=()
for _ in $(seq "$ROUNDS"); do
  for cfg in 1/1 2/1 1/2; do
    runs[$cfg]+="$("$BUILD/bench/bench_embed" --benchmark_filter="BM_EmbedVggishFile/$cfg/" \
                     --benchmark_format=json 2>/dev/null |
                   /usr/bin/python3 -c 'import json,sys; b=json.load(sys.stdin)["benchmarks"][0]; print(b["x_realtime"], b["x_realtime_per_cpu_s"], sep=":")') "
  done
done
/usr/bin/python3 - "$AUDIO_S" "${runs[1/1]}" "${runs[2/1]}" "${runs[1/2]}" <<'PY'
import statistics, sys
audio_s = sys.argv[1]
names = ["1 thread", "2 intra-op threads", "split over 2 threads"]
runs = [[tuple(float(x) for x in v.split(":")) for v in a.split()] for a in sys.argv[2:]]
wall = [statistics.median(r[0] for r in rs) for rs in runs]
cpu = [statistics.median(r[1] for r in rs) for rs in runs]
print(f"VGGish embed of {audio_s} s of 44.1 kHz stereo WAV (median of {len(runs[0])} rounds; load "
      f"average {open('/proc/loadavg').read().split()[0]}):")
for n, w, c, rs in zip(names, wall, cpu, runs):
    print(f"  {n:22s} {w:6.1f}x real time (ratio {w / wall[0]:.2f}), {c:6.1f}x per CPU second  "
          f"(rounds {[round(r[0], 1) for r in rs]})")
PY
