#!/usr/bin/env bash
# The generalization protocol of docs/results.md ("Generalization: unseen soundfonts and
# arrangement generators"): for each split, a learned embedder trained WITHOUT the held-out font or
# generator, ATT on its features and ATT on logmel-stats trained on the same clips, scored on the
# held-out clips (macro AUC, mAP, 1 s segment F1 of the timelines against strong.csv).
#   tools/generalization.sh DATA [OUT] [SPLITS...]
# DATA: the data folder of tools/build_synth_model.sh (OUT/data there: comp_train, mma_train,
# comp_test_pool, mma_test_pool, comp_test_fluid, mma_test_fluid, openmsx_test_fluid); OUT default
# generalization/. The default splits name the fonts of the pool the table in docs/results.md was
# made with (POOL_FONTS = TimGM6mb, sf_GMbank, MuseScore_General_Lite); for the default pool of
# build_synth_model.sh name them (loso-OPL-3_FM_128M in place of loso-MuseScore_General_Lite).
# Splits (default all, in this order):
#   all-fluid   all training fonts, both generators -> FluidR3, on both generators' test clips and
#               on the OpenMSX songs, a third source never in training (EMBEDDER=FILE: use that
#               embedder, e.g. the shipped one, trained on exactly these clips)
#   gen-comp    train on the composer's clips -> mma clips of the training fonts (generator out)
#               and mma clips rendered with FluidR3 (generator and font out)
#   gen-mma     the same the other way round
#   gen-comp+freedoom, gen-mma+freedoom   the same with a second training generator: the Freedoom
#               songs (freedoom_train), also scored on the OpenMSX songs
#   gen-comp-Nrounds, gen-mma-Nrounds   gen-comp / gen-mma with N rounds of that generator's
#               clips (comp_train comp_train2 .. comp_trainN): how the score scales with the clip
#               count. gen-comp-2rounds has as many clips as gen-comp+freedoom from one generator,
#               the control of the two above. Rounds past the second are made by hand (the
#               commands: docs/results.md, "More rounds of one generator")
#   loso-FONT   leave one soundfont out (TimGM6mb, sf_GMbank, MuseScore_General_Lite): train on the
#               other two fonts' clips, test on the held-out font's test clips. Without
#               MuseScore_General_Lite, whose instruments are mostly FluidR3Mono's samples, also on
#               the FluidR3 sets: the only split where FluidR3 is an unseen font in earnest.
#               TRAIN_SETS (default "comp_train mma_train") names its training folders in DATA,
#               e.g. every round of tools/build_synth_model.sh
# Sizes: GEN_EPOCHS (embedder epochs, default 10), ATT_EPOCHS (150), THREADS (2). SEED (default
# 1) seeds the embedders and ATT: another seed in another OUT gives a second run of each row.
# Finished steps are skipped on a rerun; the table is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TUTTI_BIN:-build/tutti}
PY=/usr/bin/python3
D=${1:?usage: tools/generalization.sh DATA [OUT] [SPLITS...]}
OUT=${2:-generalization}
shift $(( $# >= 2 ? 2 : 1 ))
SPLITS=("$@")
[ ${#SPLITS[@]} -gt 0 ] || SPLITS=(all-fluid gen-comp gen-mma loso-TimGM6mb loso-sf_GMbank
  loso-MuseScore_General_Lite)
EPOCHS=${GEN_EPOCHS:-10}
ATT_EPOCHS=${ATT_EPOCHS:-150}
THREADS=${THREADS:-2}
mkdir -p "$OUT/sets"
start=$(date +%s)
say() { echo "generalization: $* ($(( $(date +%s) - start )) s)" >&2; }
. tools/synth_eval_steps.sh

# A set name -> its folder: DATA/<name>, or a font subset made by tools/subset_synth.py
# (<set>@<font> = only that font's clips, <set>@-<font> = every other font's).
folder() {
  case "$1" in
    *@-*) local s=${1%@-*} f=${1#*@-}
          [ -d "$OUT/sets/$1" ] || $PY tools/subset_synth.py "$D/$s" "$OUT/sets/$1" --not-font "$f"
          echo "$OUT/sets/$1" ;;
    *@*) local s=${1%@*} f=${1#*@}
         [ -d "$OUT/sets/$1" ] || $PY tools/subset_synth.py "$D/$s" "$OUT/sets/$1" --font "$f"
         echo "$OUT/sets/$1" ;;
    *) echo "$D/$1" ;;
  esac
}

need_set() {  # split set: stop with one line when DATA has no such folder
  [ -d "$D/$2" ] || { echo "generalization: $1: $D/$2 not found" >&2; exit 2; }
}

lock=  # the embedder lock this run holds
trap '[ -z "$lock" ] || rmdir "$lock" 2>/dev/null' EXIT

known=  # the classes a split's training set knows, comma-separated, when it lacks some (run_split)
known_classes() {  # FILE.npz -> FILE.npz, or FILE-known.npz: a copy with the $known classes only
  if [ -z "$known" ]; then echo "$1"; return; fi
  local out=${1%.npz}-known.npz
  [ -f "$out" ] || "$T" data filter "$1" --classes "$known" -o "$out" >/dev/null
  echo "$out"
}

run_split() {  # name "train sets" "test sets"
  local name=$1 S=$OUT/$1
  local -a train=($2) test=($3) dirs=()
  mkdir -p "$S"
  for s in "${train[@]}"; do dirs+=("$(folder "$s")"); done
  local emb=$S/embedder.tutti-embedder
  if [ "$name" = all-fluid ] && [ -n "${EMBEDDER:-}" ]; then emb=$EMBEDDER; fi
  if [ ! -f "$emb" ]; then
    # Two runs of this script may share OUT (splits in parallel): one trains each embedder. A
    # run that stops while it holds the lock removes it (the EXIT trap), so a rerun is not kept out.
    mkdir "$emb.lock" 2>/dev/null || { say "$name: another run trains $emb, skipped"; return; }
    lock=$emb.lock
    run_quiet "$T" train-embedder "${dirs[@]}" -o "$emb" --epochs "$EPOCHS" --seed "${SEED:-1}" \
      --threads "$THREADS" ${EMBEDDER_FLAGS:-}
    rmdir "$lock"
    lock=
  fi
  say "$name: embedder ready"
  for e in cnn stats; do
    local en=$emb
    [ $e = stats ] && en=logmel-stats
    local -a parts=()
    for s in "${train[@]}" "${test[@]}"; do embed_set "$S/$e-$s.npz" "$(folder "$s")" "$en"; done
    for s in "${train[@]}"; do parts+=("$S/$e-$s.npz"); done
    merge_sets "$S/$e-train.npz" "${parts[@]}"
    # A class that no training clip knows cannot be learned (mandolin and ukulele when sf_GMbank,
    # the only font of the default pool with them, is held out): train and score the others.
    known=$("$T" data info "$S/$e-train.npz" --json | $PY -c 'import json, sys
j = json.load(sys.stdin)
k = [c for c in j["classes"] if j["per_class"][c]["known"] > 0]
print("" if len(k) == len(j["classes"]) else ",".join(k))')
    train_att "$S/att-$e.tutti" "$(known_classes "$S/$e-train.npz")"
    for s in "${test[@]}"; do
      local strong
      strong=$(folder "$s")/strong.csv
      if [ -n "$known" ]; then  # the timelines' truth of the classes trained
        $PY -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
keep = set(sys.argv[3].split(","))
csv.writer(open(sys.argv[2], "w", newline="")).writerows(
    [rows[0]] + [r for r in rows[1:] if r[1] in keep])' "$strong" "$S/strong-$s.csv" "$known"
        strong=$S/strong-$s.csv
      fi
      score_set "$S/att-$e.tutti" "$(known_classes "$S/$e-$s.npz")" "$strong" "$S/eval-$e-$s.json" \
        "$S/loc-$e-$s.json"
    done
  done
  say "$name: done"
}

for split in "${SPLITS[@]}"; do
  case "$split" in
    all-fluid) run_split all-fluid "comp_train mma_train" \
                 "mma_test_fluid comp_test_fluid openmsx_test_fluid" ;;
    gen-comp) run_split gen-comp "comp_train" "mma_test_pool mma_test_fluid" ;;
    gen-mma) run_split gen-mma "mma_train" "comp_test_pool comp_test_fluid" ;;
    gen-comp+freedoom) run_split "$split" "comp_train freedoom_train" \
                         "mma_test_pool mma_test_fluid openmsx_test_fluid" ;;
    gen-mma+freedoom) run_split "$split" "mma_train freedoom_train" \
                        "comp_test_pool comp_test_fluid openmsx_test_fluid" ;;
    gen-comp-*rounds|gen-mma-*rounds)
      [[ $split =~ ^gen-(comp|mma)-([1-9][0-9]*)rounds$ ]] ||
        { echo "generalization: $split: N must be a number" >&2; exit 2; }
      g=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]} sets=
      for ((i = 1; i <= n; i++)); do
        s=${g}_train; [ "$i" = 1 ] || s+=$i
        need_set "$split" "$s"
        sets+=" $s"
      done
      other=mma; [ "$g" = comp ] || other=comp
      run_split "$split" "$sets" "${other}_test_pool ${other}_test_fluid" ;;
    loso-*) f=${split#loso-} fluid=
            [ "$f" != MuseScore_General_Lite ] ||
              fluid="mma_test_fluid comp_test_fluid openmsx_test_fluid"
            train=
            for s in ${TRAIN_SETS:-comp_train mma_train}; do
              need_set "$split" "$s"
              train+=" $s@-$f"
            done
            run_split "$split" "$train" \
              "comp_test_pool@$f mma_test_pool@$f $fluid" ;;
    *) echo "generalization: unknown split $split" >&2; exit 2 ;;
  esac
done
$PY tools/generalization_table.py "$OUT"
