#!/usr/bin/env bash
# VGGish network throughput, LibTorch C++ (bench_vggish) vs PyTorch eager, same machine, same
# thread settings as the tutti CLI (OPENBLAS_NUM_THREADS=1, GOMP_SPINCOUNT=30000000), at 1 and 2
# intra-op threads, alternating the two sides for ROUNDS rounds; prints the medians and the ratio.
#   bench/vggish_side_by_side.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ROUNDS=${2:-3}
export OPENBLAS_NUM_THREADS=1 GOMP_SPINCOUNT=30000000
for t in 1 2; do
  cpp=() py=()
  for _ in $(seq "$ROUNDS"); do
    cpp+=("$("$BUILD/bench/bench_vggish" --benchmark_filter="BM_VggishForward/$t/32/" \
              --benchmark_format=json 2>/dev/null |
            /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["benchmarks"][0]["examples_per_s"])')")
    py+=("$(/usr/bin/python3 bench/vggish_side_by_side.py --threads "$t" --batch 32 --seconds 5 |
           sed 's/.*examples_per_s=//')")
  done
  /usr/bin/python3 - "$t" "${cpp[*]}" "${py[*]}" <<'PY'
import statistics, sys
t = sys.argv[1]
cpp = [float(v) for v in sys.argv[2].split()]
py = [float(v) for v in sys.argv[3].split()]
c, p = statistics.median(cpp), statistics.median(py)
print(f"threads={t}: tutti LibTorch C++ {c:.1f} examples/s, PyTorch eager {p:.1f} examples/s, "
      f"ratio {c / p:.2f} (rounds C++ {[round(v, 1) for v in cpp]}, PyTorch {[round(v, 1) for v in py]})")
PY
done
