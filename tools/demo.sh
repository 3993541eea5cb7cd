#!/usr/bin/env bash
# ./run demo: the whole pipeline on synthetic audio, under 2 minutes on 2 cores (82 s measured).
#   1. render 1,500 training and 500 test clips of 10 s (TimGM6mb) with strong labels, and embed
#      them with logmel-stats (`tutti synth --embed`: dataset.npz with Y_instance)
#   2. train ATT, FC_T and RF_BR (one seed) and evaluate them on the test clips
#      (`tutti experiment`: results.json, demo/report.html with the localization section)
#   3. localize: how well ATT's attention / frame outputs find when each instrument plays
#   4. render one new piece (another seed), tag it with the ATT model, print its timeline next to
#      the true onsets/offsets
#   5. the shipped model (models/synth.tutti, `tutti tag` without --model) on a piece it was never
#      trained on in either way: a human-written song of the OpenMSX set (Debian openttd-openmsx;
#      neither generator of its training data) rendered with FluidR3 (no training font), next to
#      the truth
# Steps whose outputs exist are skipped (every output is written atomically), so a second run is
# quick. Sizes: TUTTI_DEMO_TRAIN, TUTTI_DEMO_TEST (clips), TUTTI_DEMO_ATT_EPOCHS.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TUTTI_BIN:-build/tutti}
OUT=demo
N_TRAIN=${TUTTI_DEMO_TRAIN:-1500}
N_TEST=${TUTTI_DEMO_TEST:-500}
ATT_EPOCHS=${TUTTI_DEMO_ATT_EPOCHS:-100}
FONT=/usr/share/sounds/sf2/TimGM6mb.sf2
mkdir -p "$OUT"
# Mandolin and ukulele have no General MIDI program: never rendered, labels unknown in every clip.
# Training refuses a class without any known label, so the models use the other 18 classes.
CLASSES=accordion,banjo,bass,cello,clarinet,cymbals,drums,flute,guitar,mallet_percussion,organ,piano,saxophone,synthesizer,trombone,trumpet,violin,voice
start=$(date +%s)
step() { printf '\n== [%s/6] %s (%ds so far)\n' "$1" "$2" "$(( $(date +%s) - start ))" >&2; }

# 16 kHz mono: what the embedder analyses anyway (rendering + embedding at 44.1 kHz stereo takes ~1.4x the CPU time).
synth_set() {  # name clips seed
  if [ -f "$OUT/$1/dataset.npz" ]; then
    echo "demo: $OUT/$1 exists, skipped" >&2
    return
  fi
  "$T" synth -n "$2" --seed "$3" --duration 10 --sample-rate 16000 --channels 1 \
    --soundfont "$FONT" --embed logmel-stats -o "$OUT/$1" --overwrite >/dev/null
  echo "demo: $OUT/$1: $2 clips + dataset.npz" >&2
}
known18() {  # set -> $OUT/set.npz (the 18 classes)
  [ -f "$OUT/$1.npz" ] || "$T" data filter "$OUT/$1/dataset.npz" --classes "$CLASSES" -o "$OUT/$1.npz" 2>/dev/null
}

print_truth() {  # strong.csv -> one line per instrument with its onset-offset segments
  echo "truth ($1):"
  awk -F, 'NR > 1 { seg[$2] = seg[$2] sprintf(" %.1f-%.1f", $3, $4) }
           END { for (k in seg) printf "  %-18s%s\n", k, seg[k] }' "$1" | sort
}

step 1 "render and embed $N_TRAIN training + $N_TEST test clips"
synth_set synth-train "$N_TRAIN" 1
synth_set synth-test "$N_TEST" 2
known18 synth-train
known18 synth-test

step 2 "train ATT and FC_T ($ATT_EPOCHS epochs at most, patience 20) and RF_BR; evaluate; report"
# ATT and FC_T stop early when the validation loss has not improved for 20 epochs.
"$T" experiment --train "$OUT/synth-train.npz" --test "$OUT/synth-test.npz" \
  --models att,fc_t,rf --seeds 1 --patience 20 --epochs "$ATT_EPOCHS" -o "$OUT/exp"
cp "$OUT/exp/report.html" "$OUT/report.html"
echo >&2
/usr/bin/env python3 - "$OUT/exp/results.json" <<'PY' 2>/dev/null || true
import json, sys
r = json.load(open(sys.argv[1]))
print("test clips: clip-level scores (one seed)")
print(f"{'model':6} {'mAP':>6} {'AUC':>6} {'F1':>6}")
for run in r["runs"]:
    m = run["metrics"]
    print(f"{run['model']:6} {m['mAP']:6.3f} {m['auc']:6.3f} {m['f1_pos']:6.3f}")
PY

step 3 "localization on the test clips (instance level, 0.96 s)"
"$T" localize "$OUT/exp/att-seed1.tutti" "$OUT/synth-test.npz" --strong "$OUT/synth-test/strong.csv"
"$T" localize "$OUT/exp/fc_t-seed1.tutti" "$OUT/synth-test.npz" --strong "$OUT/synth-test/strong.csv"

step 4 "a new piece: render, tag with ATT, compare with the truth"
rm -rf "$OUT/piece"
"$T" synth -n 1 --seed 777 --duration 10 --soundfont "$FONT" -o "$OUT/piece" >/dev/null
PIECE="$OUT/piece/audio/synth_000000.wav"
"$T" tag "$PIECE" --model "$OUT/exp/att-seed1.tutti"
print_truth "$OUT/piece/strong.csv"

step 5 "the shipped model on a piece it never heard: an OpenMSX song (unseen source) in FluidR3"
# FluidR3 is the test font: tutti synth renders it only with --test-font-ok. The song is the first
# 10 s of OpenTTD's title theme; the shipped model's score over all 31 OpenMSX songs is in
# docs/models/synth.md (macro AUC 0.81 over their clips, 0.80 per song).
FLUID=/usr/share/sounds/sf3/FluidR3Mono_GM.sf3
SONG=/usr/share/games/openttd/baseset/openmsx/tttheme2.mid
if [ -f "$FLUID" ] && [ -f models/synth.tutti ] && [ -f "$SONG" ]; then
  rm -rf "$OUT/unseen"
  "$T" synth --midi "$SONG" --generator openmsx --duration 10 --soundfont "$FLUID" \
    --test-font-ok --effects --seed 909 -o "$OUT/unseen" >/dev/null
  UNSEEN=$(ls "$OUT"/unseen/audio/*.wav | head -1)
  "$T" tag "$UNSEEN"
  print_truth "$OUT/unseen/strong.csv"
else
  echo "demo: skipped (needs $FLUID, $SONG and models/synth.tutti; ./run installs them)" >&2
fi

step 6 "done"
echo "report: $OUT/report.html   (total $(( $(date +%s) - start )) s)" >&2
