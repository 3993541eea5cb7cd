#!/usr/bin/env bash
# tutti.Model.predict from Python against infer::Predictor::predict in C++ on the same model and
# bags, alternating, ROUNDS times: the median of each side and the median of the per-round ratios
# (Python / C++).
#   bench/predict_side_by_side.sh [BUILD_DIR]
#     env: CLIPS=20000 ROUNDS=3 REPEATS=5 (timed calls per side and round, median)
#          THREADS=0 (0 = all cores) MODEL=att (trained for 1 epoch on the bags by the CLI)
#          BENCH_ENV="OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE" (both sides; what importing
#          tutti sets, so the C++ program runs under the same thread environment)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CLIPS=${CLIPS:-20000}
ROUNDS=${ROUNDS:-3}
REPEATS=${REPEATS:-5}
THREADS=${THREADS:-0}
MODEL=${MODEL:-att}
BENCH_ENV=${BENCH_ENV:-"OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE"}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

/usr/bin/python3 bench/att_random_data.py "$TMP/data.npz" "$CLIPS"
"$BUILD/tutti" train "$TMP/data.npz" --model "$MODEL" --epochs 1 --seed 1 -o "$TMP/m.tutti" \
  2>/dev/null
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r/$ROUNDS: C++" >&2
  # shellcheck disable=SC2086
  env $BENCH_ENV "$BUILD/bench/bench_predict" "$TMP/m.tutti" "$TMP/data.npz" "$REPEATS" "$THREADS" >"$TMP/cpp$r.json"
  echo "== round $r/$ROUNDS: Python" >&2
  # shellcheck disable=SC2086
  env $BENCH_ENV PYTHONPATH="$BUILD/python" /usr/bin/python3 bench/predict_python.py "$TMP/m.tutti" \
    "$TMP/data.npz" "$REPEATS" "$THREADS" >"$TMP/py$r.json"
done

/usr/bin/python3 - "$TMP" "$ROUNDS" "$MODEL" <<'PY'
import json, statistics as st, sys
tmp, rounds, model = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
for r in range(1, rounds + 1):
    c = json.load(open(f"{tmp}/cpp{r}.json"))
    p = json.load(open(f"{tmp}/py{r}.json"))
    rows.append((c["seconds"], p["seconds"]))
    print(f"round {r}: C++ {c['seconds']:.4f} s | Python {p['seconds']:.4f} s "
          f"({c['clips']} clips, {model})")
c, p = st.median(x for x, _ in rows), st.median(y for _, y in rows)
ratio = st.median(y / x for x, y in rows)
print(f"{model} predict on {json.load(open(f'{tmp}/cpp1.json'))['clips']} bags: C++ {c:.4f} s, "
      f"Python {p:.4f} s: Python / C++ = {ratio:.3f} (median of per-round ratios)")
PY
