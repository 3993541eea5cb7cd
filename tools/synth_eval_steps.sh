# Steps shared by tools/build_synth_model.sh and tools/generalization.sh (sourced, not run). Each
# step skips an output that exists; results are written atomically. Needs T (the tutti program),
# THREADS and ATT_EPOCHS; ATT's seed is SEED (default 1).

embed_set() {  # OUT.npz SYNTH_DIR EMBEDDER: features and labels of a `tutti synth` folder
  [ -f "$1" ] || "$T" embed "$2/audio" --embedder "$3" --labels "$2/labels.csv" \
    --instances "$2/instances.csv" --classes openmic --threads "$THREADS" -o "$1" 2>/dev/null
}

merge_sets() {  # OUT.npz IN.npz...: one training set (clip keys prefixed with their file's name)
  local out=$1
  shift
  [ -f "$out" ] || "$T" data merge "$@" --prefix-keys -o "$out" 2>/dev/null
}

train_att() {  # OUT.tutti TRAIN.npz [MORE TRAIN FLAGS...]
  local out=$1 data=$2
  shift 2
  [ -f "$out" ] || "$T" train "$data" --model att --epochs "$ATT_EPOCHS" --patience 20 \
    --lr-schedule cosine --seed "${SEED:-1}" --threads "$THREADS" "$@" -o "$out" >/dev/null 2>&1
}

score_set() {  # MODEL FEATURES.npz STRONG.csv EVAL.json LOC.json: clip scores, 1 s timelines
  [ -f "$4" ] || { "$T" eval "$1" "$2" --json >"$4.tmp" && mv "$4.tmp" "$4"; }
  [ -f "$5" ] || { "$T" localize "$1" "$2" --strong "$3" --json >"$5.tmp" 2>/dev/null &&
    mv "$5.tmp" "$5"; }
}
